using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using SiteWatch.Core.Catalog;
using SiteWatch.Tests.Cli;
using SiteWatch.Video.Watch;

namespace SiteWatch.Tests.Catalog;

/// <summary>`watch --site` keeps the flight in the workspace: HLS by ffmpeg, the frames log and a catalog row.</summary>
public class RecordingTests
{
    private const string Aoi = """{"type":"Polygon","coordinates":[[[-64.6,-22.55],[-64.4,-22.55],[-64.4,-22.45],[-64.6,-22.45],[-64.6,-22.55]]]}""";

    private static string NewWorkspace(TempDir dir)
    {
        var ws = dir.File("ws");
        Assert.Equal(0, CliTests.Run(null, "init", ws).Code);
        File.WriteAllText(dir.File("aoi.geojson"), Aoi);
        var add = CliTests.Run(ws, "site", "add", "border", "--aoi", dir.File("aoi.geojson"));
        Assert.True(add.Code == 0, add.Err);
        return ws;
    }

    [Fact]
    public void Watch_with_a_site_records_the_flight_as_hls_frames_and_a_row()
    {
        using var dir = new TempDir();
        var ws = NewWorkspace(dir);
        var sim = CliTests.Run(null, "simulate", "flight", "--out", dir.File("flight"), "--seconds", "5", "--fps", "10", "--size", "320x180", "--vmti");
        Assert.True(sim.Code == 0, sim.Err);
        var watch = CliTests.Run(ws, "watch", dir.File("flight/flight.ts"), "--zones", dir.File("flight/zones.geojson"), "--detector", "vmti",
            "--site", "border", "--out", dir.File("out"), "--wait-for-detections");
        Assert.True(watch.Code == 0, watch.Err + watch.Out);
        Assert.Contains("recording 1: recordings/1", watch.Out);

        using var workspace = Workspace.Open(ws);
        var site = workspace.Catalog.TryGetSite("border")!;
        var row = Assert.Single(workspace.Catalog.ListRecordings(site.Id));
        Assert.Equal(RecordingStates.Ended, row.State);
        Assert.Null(row.EndNote);
        Assert.Equal("file", row.Kind);
        Assert.Equal(50, row.Frames);
        Assert.Equal("recordings/1", row.Directory);
        Assert.StartsWith("sha256:", row.Identity);
        Assert.NotNull(row.MediaStartUtc);
        Assert.InRange(row.Footprints, 4, 6);

        var folder = Path.Combine(ws, row.Directory);
        var lines = File.ReadAllLines(Path.Combine(folder, FlightRecorder.FramesFile));
        Assert.Equal(50, lines.Length);
        var frames = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(row.Footprints, frames.Count(f => f.TryGetProperty("footprint", out _)));
        Assert.All(frames, f => Assert.Equal(3, f.GetProperty("sensor").GetArrayLength()));
        Assert.Contains(frames, f => f.GetProperty("tracks").EnumerateArray().Any(t => t.TryGetProperty("at", out _)));
        // Alerts in the frames log are the alerts stored for the site.
        Assert.Equal(workspace.Catalog.ListAlerts(site.Id).Count, frames.Sum(f => f.TryGetProperty("alerts", out var a) ? a.GetArrayLength() : 0));

        var playlist = File.ReadAllLines(Path.Combine(folder, "hls", FlightRecorder.Playlist));
        Assert.Contains("#EXT-X-ENDLIST", playlist);
        Assert.Contains("#EXT-X-MAP:URI=\"init.mp4\"", playlist);
        // Program date times are the KLV clock: the first segment starts at the row's media start.
        var first = playlist.First(l => l.StartsWith("#EXT-X-PROGRAM-DATE-TIME:", StringComparison.Ordinal))["#EXT-X-PROGRAM-DATE-TIME:".Length..];
        Assert.Equal(row.MediaStartUtc!.Value, DateTime.Parse(first, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal));
        var segments = playlist.Where(l => l.EndsWith(".m4s", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(segments);
        Assert.All(segments, s => Assert.True(new FileInfo(Path.Combine(folder, "hls", s)).Length > 0, s));
        var total = playlist.Where(l => l.StartsWith("#EXTINF:", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[8..].TrimEnd(','), CultureInfo.InvariantCulture));
        Assert.InRange(total, 4.5, 5.5);

        // Without --zones the site's stored zones are used; it has none, so nothing starts and no row is added.
        var noZones = CliTests.Run(ws, "watch", dir.File("flight/flight.ts"), "--detector", "vmti", "--site", "border", "--out", dir.File("out2"));
        Assert.NotEqual(0, noZones.Code);
        Assert.Contains("site border has no watch zones", noZones.Err);
        Assert.Single(workspace.Catalog.ListRecordings(site.Id));

        // The recording's folder belongs to its row: the workspace check finds no orphan.
        var check = CliTests.Run(ws, "check");
        Assert.True(check.Code == 0, check.Out + check.Err);
    }

    [Fact]
    public void A_killed_watch_leaves_a_live_row_that_is_later_ended_as_interrupted()
    {
        using var dir = new TempDir();
        var ws = NewWorkspace(dir);
        var port = TestPorts.FreeUdp();
        File.WriteAllText(dir.File("zones.geojson"), """{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"z"},"geometry":{"type":"Polygon","coordinates":[[[-64.6,-22.55],[-64.5,-22.55],[-64.5,-22.45],[-64.6,-22.55]]]}}]}""");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "sitewatch.dll"), "watch", $"udp://127.0.0.1:{port}", "--zones", dir.File("zones.geojson"),
                     "--detector", "vmti", "--site", "border", "-w", ws, "--out", dir.File("out") })
        {
            psi.ArgumentList.Add(a);
        }
        using var process = Process.Start(psi)!;
        RecordingRecord? row = null;
        for (var i = 0; i < 300 && row is null; i++)
        {
            Thread.Sleep(100);
            using var look = Workspace.Open(ws);
            row = look.Catalog.ListLiveRecordings().SingleOrDefault();
        }
        Assert.NotNull(row);
        process.Kill(entireProcessTree: true);
        process.WaitForExit();

        using var workspace = Workspace.Open(ws);
        Assert.Equal(RecordingStates.Live, workspace.Catalog.TryGetRecording(row.Id)!.State);
        Assert.Equal("live", row.Kind);
        Assert.True(Directory.Exists(Path.Combine(ws, row.Directory)), "the row's folder exists: no dangling row");
        // Still within the grace period: a watch may be running.
        Assert.Equal(0, FlightRecorder.EndAbandoned(workspace));
        File.SetLastWriteTimeUtc(Path.Combine(ws, row.Directory, FlightRecorder.FramesFile), DateTime.UtcNow - RecordingLiveness.StaleAfter - TimeSpan.FromSeconds(5));
        Assert.True(RecordingLiveness.IsAbandoned(ws, workspace.Catalog.TryGetRecording(row.Id)!, DateTime.UtcNow));
        Assert.Equal(1, FlightRecorder.EndAbandoned(workspace));
        var ended = workspace.Catalog.TryGetRecording(row.Id)!;
        Assert.Equal(RecordingStates.Ended, ended.State);
        Assert.StartsWith("interrupted", ended.EndNote);
    }
}
