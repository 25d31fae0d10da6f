using SiteWatch.Cli;
using SiteWatch.Core;
using SiteWatch.Tests.Change;

namespace SiteWatch.Tests.Cli;

/// <summary>The engine names no option or command; the command line words its problems as options and commands.</summary>
public sealed class WordingTests
{
    [Fact]
    public void The_command_line_names_the_input_as_its_option_and_the_remedy_as_a_command()
    {
        using var dir = new TempDir();
        var (workspace, _) = SiteChangeTests.Ingested(dir);
        var root = workspace.Root;
        workspace.Dispose();

        var same = CliTests.Run(root, "change", "--site", "plant", "--before", "2024-03-14", "--after", "2024-03-14");
        Assert.Equal(1, same.Code);
        Assert.Contains("--after names the same scene (2024-03-14) of site plant as before", same.Err);

        var missing = CliTests.Run(root, "change", "--site", "plant", "--before", "2023-01-01", "--after", "2024-10-15");
        Assert.Equal(1, missing.Code);
        Assert.Contains("--before 2023-01-01: site plant has no scene acquired on 2023-01-01", missing.Err);

        var rules = CliTests.Run(root, "alerts", "check", "--site", "plant");
        Assert.Equal(1, rules.Code);
        Assert.Contains("site plant has no alert rules; store a rules file first (run 'sitewatch alerts rules --site plant --file rules.json')", rules.Err);
    }

    [Fact]
    public void Engine_messages_carry_the_input_and_remedy_apart_from_the_text()
    {
        var e = SiteWatchException.About("crs", "EPSG:4326: a site grid needs a projected CRS in metres");
        Assert.DoesNotContain("--", e.Message);
        Assert.Equal("--crs EPSG:4326: a site grid needs a projected CRS in metres", CliWording.Text(e));
        var next = new SiteWatchException("site x has no scenes; add some first") { Next = new NextStep(NextStepKind.AddScenes, "x") };
        Assert.Equal("site x has no scenes; add some first (run 'sitewatch scene add FILE --site x')", CliWording.Text(next));
        Assert.Equal("plain", CliWording.Text(new SiteWatchException("plain")));
    }
}
