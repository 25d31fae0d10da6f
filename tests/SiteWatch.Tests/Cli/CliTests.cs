using System.Diagnostics;
using System.Text.Json;

namespace SiteWatch.Tests.Cli;

/// <summary>The `sitewatch` command run as a user runs it: a separate process, real exit codes, stdout and stderr.</summary>
public class CliTests
{
    internal static (int Code, string Out, string Err) Run(string? workspace, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sitewatch.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["SITEWATCH_WORKSPACE"] = workspace ?? "";
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["COLUMNS"] = "200";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("init", "--help")]
    [InlineData("site", "--help")]
    [InlineData("site", "add", "--help")]
    [InlineData("site", "list", "--help")]
    [InlineData("site", "show", "--help")]
    [InlineData("scene", "--help")]
    [InlineData("scene", "add", "--help")]
    [InlineData("scene", "list", "--help")]
    [InlineData("scene", "show", "--help")]
    [InlineData("info", "--help")]
    [InlineData("demo", "--help")]
    public void Every_command_has_help(params string[] args)
    {
        var (code, output, _) = Run(null, args);
        Assert.Equal(0, code);
        Assert.Contains("USAGE", output);
    }

    [Theory]
    [InlineData("no-such-command")]
    [InlineData("site", "add")]
    [InlineData("site", "add", "x")]
    [InlineData("scene", "add", "f.tif")]
    [InlineData("scene", "add", "f.tif", "--site", "x", "--date", "yesterday")]
    [InlineData("init", "d", "--bogus-option")]
    public void Usage_errors_exit_with_2(params string[] args)
    {
        var (code, _, err) = Run(null, args);
        Assert.Equal(2, code);
        Assert.StartsWith("error:", err);
    }

    [Fact]
    public void Workflow_with_json_output_and_failure_exit_codes()
    {
        using var dir = new TempDir();
        var ws = dir.File("ws");
        Assert.Equal(0, Run(null, "init", ws).Code);

        // Not a workspace: a clear error and exit 1.
        var (missingCode, _, missingErr) = Run(dir.File("nowhere"), "site", "list");
        Assert.Equal(1, missingCode);
        Assert.Contains("not a SiteWatch workspace", missingErr);

        File.WriteAllText(dir.File("aoi.geojson"), Catalog.IngestTests.SceneAoi);
        var (addCode, addOut, addErr) = Run(null, "site", "add", "plant", "--aoi", dir.File("aoi.geojson"), "--gsd", "1", "--tag", "t1", "--json", "-w", ws);
        Assert.True(addCode == 0, addErr);
        using (var site = JsonDocument.Parse(addOut))
        {
            Assert.Equal("plant", site.RootElement.GetProperty("name").GetString());
            Assert.Equal(32652, site.RootElement.GetProperty("crs_epsg").GetInt32());
        }

        var scene = Rasters.WriteUtmScene(dir.File("s1.tif"), 600, 500);
        var junk = dir.File("junk.tif");
        File.WriteAllText(junk, "junk");
        var (sceneCode, sceneOut, sceneErr) = Run(ws, "scene", "add", scene, junk, "--site", "plant", "--json");
        Assert.Equal(1, sceneCode); // one of two files failed
        Assert.Contains(junk, sceneErr);
        using (var results = JsonDocument.Parse(sceneOut))
        {
            Assert.Equal("added", results.RootElement[0].GetProperty("status").GetString());
            Assert.Equal("failed", results.RootElement[1].GetProperty("status").GetString());
        }

        var (again, againOut, _) = Run(ws, "scene", "add", scene, "--site", "plant", "--json");
        Assert.Equal(0, again);
        Assert.Contains("already-present", againOut);

        var (listCode, listOut, _) = Run(ws, "scene", "list", "--site", "plant", "--json");
        Assert.Equal(0, listCode);
        using (var list = JsonDocument.Parse(listOut))
        {
            var only = Assert.Single(list.RootElement.EnumerateArray());
            Assert.Equal("2024-05-01T02:30:00Z", only.GetProperty("acquired_utc").GetString());
            Assert.Equal(4, only.GetProperty("bands").GetArrayLength());
        }

        var (showCode, showOut, _) = Run(ws, "site", "show", "plant");
        Assert.Equal(0, showCode);
        Assert.Contains("2024-05-01", showOut);

        var (unknownSite, _, unknownErr) = Run(ws, "scene", "list", "--site", "nope");
        Assert.Equal(1, unknownSite);
        Assert.Contains("no site named 'nope' (known: plant)", unknownErr);

        var (infoCode, infoOut, _) = Run(null, "info", scene, "--json");
        Assert.Equal(0, infoCode);
        using (var info = JsonDocument.Parse(infoOut))
        {
            Assert.Equal(32652, info.RootElement.GetProperty("epsg").GetInt32());
            Assert.Equal("UInt16", info.RootElement.GetProperty("bands")[0].GetProperty("data_type").GetString());
        }
    }
}
