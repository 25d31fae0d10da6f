using SiteWatch.Cli;
using SiteWatch.Core;
using SiteWatch.Gdal;
using SiteWatch.Video;
using SiteWatch.Video.Klv;

namespace SiteWatch.Tests.Cli;

/// <summary>The CLI's one error boundary: every exception becomes one line and an exit code; a bug also leaves a crash log.</summary>
public class ErrorBoundaryTests
{
    private static (int Code, string Err) Guard(Func<int> run, string crashDirectory, params string[] args)
    {
        using var error = new StringWriter();
        var code = SiteWatchApp.Guard(run, args, error, crashDirectory);
        return (code, error.ToString());
    }

    public static TheoryData<string, Exception, string> ExpectedFailures() => new()
    {
        { "SiteWatchException", new SiteWatchException("aoi.geojson: invalid GeoJSON"), "error: aoi.geojson: invalid GeoJSON" },
        { "GdalException", new GdalException("scene.tif: not a raster format GDAL can read"), "error: scene.tif: not a raster format GDAL can read" },
        { "VideoException", new VideoException("flight.ts: ffmpeg decoded no frame"), "error: flight.ts: ffmpeg decoded no frame" },
        { "KlvFormatException", new KlvFormatException("BER length runs past the packet", 17), "error: BER length runs past the packet (at byte 17)" },
        { "IOException", new IOException("No space left on device : '/ws/x.tif'"), "error: No space left on device : '/ws/x.tif'" },
        { "UnauthorizedAccessException", new UnauthorizedAccessException("Access to the path '/ws' is denied."), "error: Access to the path '/ws' is denied." },
        { "wrapped by a task", new AggregateException(new SiteWatchException("rules.json: not valid JSON")), "error: rules.json: not valid JSON" },
        { "wrapped by reflection", new System.Reflection.TargetInvocationException(new GdalException("dem.tif: file not found")), "error: dem.tif: file not found" },
        { "multi-line message", new SiteWatchException("zones.geojson: bad\nsecond line"), "error: zones.geojson: bad second line" },
    };

    [Theory]
    [MemberData(nameof(ExpectedFailures))]
    public void Expected_failures_are_one_line_and_exit_1(string kind, Exception thrown, string expected)
    {
        using var dir = new TempDir();
        var (code, err) = Guard(() => throw thrown, dir.Path);
        Assert.True(code == SiteWatchApp.Failure, kind);
        Assert.Equal(expected, err.TrimEnd('\n'));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void A_bug_is_one_line_with_the_crash_log_path_and_exit_70()
    {
        using var dir = new TempDir();
        var crashes = dir.File("state/sitewatch");
        var (code, err) = Guard(() => new List<int>().First(), crashes, "change", "--site", "my plant");

        Assert.Equal(SiteWatchApp.InternalError, code);
        Assert.Equal(70, code);
        var line = Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("error: internal error (InvalidOperationException: Sequence contains no elements); this is a bug in SiteWatch", line);
        Assert.DoesNotContain("   at ", err);
        var log = Assert.Single(Directory.GetFiles(crashes, "crash-*.log"));
        Assert.EndsWith($"details in {log}", line);
        var text = File.ReadAllText(log);
        Assert.Contains("command: sitewatch change --site 'my plant'", text);
        Assert.Contains("System.InvalidOperationException: Sequence contains no elements", text);
        Assert.Contains("   at ", text);
        Assert.Contains(nameof(A_bug_is_one_line_with_the_crash_log_path_and_exit_70), text);
    }

    [Fact]
    public void A_bug_is_still_one_line_when_no_crash_log_can_be_written()
    {
        using var dir = new TempDir();
        var notADirectory = dir.File("file");
        File.WriteAllText(notADirectory, "");
        var (code, err) = Guard(() => throw new NullReferenceException(), notADirectory);
        Assert.Equal(SiteWatchApp.InternalError, code);
        var line = Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Contains("internal error (NullReferenceException", line);
        Assert.EndsWith("no crash log could be written", line);
    }

    [Fact]
    public void Success_and_failure_codes_of_the_command_pass_through()
    {
        using var dir = new TempDir();
        Assert.Equal((0, ""), Guard(() => 0, dir.Path));
        Assert.Equal((1, ""), Guard(() => 1, dir.Path));
    }

    [Fact]
    public void Parse_errors_exit_2_with_usage_advice()
    {
        var (code, _, err) = CliTests.Run(null, "change", "detect", "a.tif");
        Assert.Equal(2, code);
        Assert.StartsWith("error:", err);
        Assert.Contains("sitewatch --help", err);
        Assert.DoesNotContain("   at ", err);
    }
}
