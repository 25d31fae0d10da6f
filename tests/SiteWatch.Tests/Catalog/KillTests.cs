using System.Diagnostics;
using SiteWatch.Core.Catalog;
using SiteWatch.Tests.Activity;
using SiteWatch.Tests.Change;

namespace SiteWatch.Tests.Catalog;

/// <summary>
/// `sitewatch` killed with SIGKILL at points spread over a command's whole run: after each kill the next command
/// that opens the workspace finds it sound (every row's files present with their hashes, no orphan in the store,
/// SQLite intact), and the command run again completes.
/// </summary>
public class KillTests
{
    private const int KillPoints = 6;

    private static Process Start(string workspace, string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sitewatch.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["SITEWATCH_WORKSPACE"] = workspace;
        psi.Environment["NO_COLOR"] = "1";
        var p = Process.Start(psi)!;
        p.StandardOutput.ReadToEndAsync();
        p.StandardError.ReadToEndAsync();
        return p;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }

    private static void AssertSound(string workspace, string what)
    {
        using var ws = Workspace.Open(workspace);
        var report = WorkspaceCheck.Run(ws);
        Assert.True(report.Healthy, $"{what}: {string.Join("; ", report.Problems)}");
        Assert.Empty(Directory.EnumerateFiles(ws.StagingDirectory, "*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("scene add")]
    [InlineData("change")]
    [InlineData("detect")]
    public void Killed_at_any_point_leaves_a_sound_workspace(string command)
    {
        using var dir = new TempDir();
        var (workspace, site) = SiteChangeTests.Ingested(dir);
        workspace.Dispose();
        var model = SiteDetectionTests.WriteTileCentreModel(dir.File("model.onnx"));
        var extra = Rasters.WriteUtmScene(dir.File("extra.tif"), width: 900, height: 900, originX: 370_800, originY: 4_421_200, dateTag: "2024:06:01 02:00:00");
        string[] args = command switch
        {
            "scene add" => ["scene", "add", extra, "--site", site.Name],
            "change" => ["change", "--site", site.Name, "--before", "2024-03-14", "--after", "2024-10-15", "--method", "cva"],
            _ => ["detect", "--site", site.Name, "--model", model],
        };

        // How long the whole command takes here, start-up included: the kill points spread over it.
        var timed = dir.File("timed");
        CopyDirectory(dir.File("ws"), timed);
        var clock = Stopwatch.StartNew();
        using (var p = Start(timed, args))
        {
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
        }
        var full = clock.Elapsed;
        AssertSound(timed, $"{command} run to the end");

        for (var k = 1; k <= KillPoints; k++)
        {
            var copy = dir.File($"kill-{k}");
            CopyDirectory(dir.File("ws"), copy);
            using (var p = Start(copy, args))
            {
                var exited = p.WaitForExit(full * k / (KillPoints + 1));
                if (!exited)
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit();
                }
            }
            AssertSound(copy, $"{command} killed after {k}/{KillPoints + 1} of its run");
            using (var again = Start(copy, args))
            {
                again.WaitForExit();
                Assert.Equal(0, again.ExitCode);
            }
            AssertSound(copy, $"{command} run again after the kill");
        }
    }
}
