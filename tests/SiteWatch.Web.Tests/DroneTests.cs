using Microsoft.Playwright;
using SiteWatch.Core.Catalog;
using SiteWatch.Video.Frames;
using SiteWatch.Demo.Flight;
using SiteWatch.Video.Watch;

namespace SiteWatch.Web.Tests;

/// <summary>The live drone view in Chromium: a flight recorded by a watch plays from HLS beside its footprints and tracks.</summary>
public sealed class DroneTests(WebFixture server) : IClassFixture<WebFixture>
{
    /// <summary>A simulated flight watched for the site as `sitewatch watch --site plant` does (another catalog connection).</summary>
    private async Task<long> RecordFlightAsync(Func<long, Task>? started = null)
    {
        var dir = Path.Combine(server.Root, "drone-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var ts = Path.Combine(dir, "flight.ts");
        var zonesFile = Path.Combine(dir, "zones.geojson");
        using (var simulator = FlightSimulator.Create(new FlightSimulationOptions { Seconds = 6, Fps = 10, Width = 320, Height = 180, Seed = 1, Vmti = true }, dir))
        {
            await using var file = File.Create(ts);
            await simulator.WriteTsAsync(file);
            simulator.WriteZones(zonesFile);
        }
        using var workspace = Workspace.Open(server.WorkspaceDirectory);
        await using var recorder = FlightRecorder.Start(workspace, workspace.Catalog.TryGetSiteById(server.SiteId)!, ts, live: false, RecordingIdentity.OfFile(ts));
        if (started is not null)
        {
            await started(recorder.Recording.Id);
        }
        await using (var pipeline = new WatchPipeline(WatchZoneFile.Load(zonesFile), new VmtiFrameDetector(),
                         new WatchOptions { OutputDirectory = Path.Combine(dir, "watch"), DetectEvery = 1, WaitForDetections = true }) { OnFrame = recorder.Frame })
        {
            await using var source = VideoSource.Open(ts, new VideoSourceOptions { Copy = recorder.CopyAsync });
            await pipeline.RunAsync(source.ReadFramesAsync());
        }
        Assert.Null(await recorder.FinishAsync(null));
        return recorder.Recording.Id;
    }

    [Fact]
    public async Task A_recorded_flight_plays_from_hls_beside_its_footprints_and_tracks()
    {
        var id = await RecordFlightAsync();
        var page = await server.SignIn("vic");
        await page.GotoAsync($"/#/drone/{server.SiteId}?recording={id}");
        await page.WaitForSelectorAsync(".content[data-ready='1']", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), await page.GetAttributeAsync(".content", "data-recording"));
        Assert.True(int.Parse(await page.GetAttributeAsync(".content", "data-footprints") ?? "0", System.Globalization.CultureInfo.InvariantCulture) >= 5);
        Assert.True(int.Parse(await page.GetAttributeAsync(".content", "data-tracks") ?? "0", System.Globalization.CultureInfo.InvariantCulture) >= 2);
        // hls.js read the playlist the watch wrote and the video element has the flight's frames.
        await page.WaitForSelectorAsync(".content[data-hls]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        Assert.Equal("parsed", await page.GetAttributeAsync(".content", "data-hls"));
        // (Polled from here: the page's CSP allows no eval, which a wait-for-function string needs.)
        for (var i = 0; i < 300 && await page.EvaluateAsync<int>("document.querySelector('.drone video').readyState") < 2; i++)
        {
            await Task.Delay(100);
        }
        Assert.True(await page.EvaluateAsync<int>("document.querySelector('.drone video').readyState") >= 2, "the video has frames to show");
        Assert.Equal(320, await page.EvaluateAsync<int>("document.querySelector('.drone video').videoWidth"));
        await WebFixture.Screenshot(page, "20-drone-recorded");
    }

    [Fact]
    public async Task A_flight_being_watched_moves_its_footprint_and_tracks_and_its_zone_events_appear()
    {
        var page = await server.SignIn("vic");
        var id = await RecordFlightAsync(async recording =>
        {
            // The watch has started (row and folder, no frame yet): the analyst opens the drone view on it.
            await page.GotoAsync($"/#/drone/{server.SiteId}?recording={recording}");
            await page.WaitForSelectorAsync(".content[data-ready='1']", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
            Assert.Equal("0", await page.GetAttributeAsync(".content", "data-footprints"));
        });
        // Every frame reaches the page (the server tails the frames log), with the zone events of the flight.
        await page.WaitForSelectorAsync(".content[data-live-frames='60']", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        Assert.True(await page.EvaluateAsync<int>("document.querySelectorAll('.drone-alerts li').length") > 0);
        await WebFixture.Screenshot(page, "21-drone-live");
    }
}
