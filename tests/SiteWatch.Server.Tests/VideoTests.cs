using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR.Client;
using SiteWatch.Core.Catalog;
using SiteWatch.Server.Auth;
using SiteWatch.Server.Live;
using SiteWatch.Video.Frames;
using SiteWatch.Demo.Flight;
using SiteWatch.Video.Watch;

namespace SiteWatch.Server.Tests;

/// <summary>A simulated flight, rendered once (H.264 TS with KLV and VMTI, by ffmpeg), that the tests watch with --site.</summary>
public sealed class VideoFixture : ServerFixture, IAsyncLifetime
{
    public string FlightTs => Path.Combine(Root, "flight", "flight.ts");
    public string ZonesFile => Path.Combine(Root, "flight", "zones.geojson");

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var dir = Path.Combine(Root, "flight");
        Directory.CreateDirectory(dir);
        using var simulator = FlightSimulator.Create(new FlightSimulationOptions { Seconds = 5, Fps = 10, Width = 320, Height = 180, Seed = 1, Vmti = true }, dir);
        await using (var file = File.Create(FlightTs))
        {
            await simulator.WriteTsAsync(file);
        }
        simulator.WriteZones(ZonesFile);
    }

    /// <summary>
    /// Watches the flight for the site as `sitewatch watch --site plant` does, from another catalog connection (another
    /// process in real use): the recorder copies the stream to ffmpeg's HLS writer and logs every frame.
    /// </summary>
    public async Task<RecordingRecord> RecordAsync(Func<FlightRecorder, Task>? started = null, Action<FrameReport>? written = null)
    {
        using var workspace = Workspace.Open(WorkspaceDirectory);
        var site = workspace.Catalog.TryGetSiteById(SiteId)!;
        await using var recorder = FlightRecorder.Start(workspace, site, FlightTs, live: false, RecordingIdentity.OfFile(FlightTs));
        if (started is not null)
        {
            await started(recorder);
        }
        var sink = new CatalogAlertSink(workspace, "plant");
        await using (var pipeline = new WatchPipeline(WatchZoneFile.Load(ZonesFile), new VmtiFrameDetector(),
                         new WatchOptions { OutputDirectory = Path.Combine(Root, "watch-" + Guid.NewGuid().ToString("N")), DetectEvery = 1, WaitForDetections = true, Source = FlightTs },
                         [sink]) { OnFrame = f => { recorder.Frame(f); written?.Invoke(f); } })
        {
            await using var source = VideoSource.Open(FlightTs, new VideoSourceOptions { Copy = recorder.CopyAsync });
            await pipeline.RunAsync(source.ReadFramesAsync());
        }
        Assert.Null(await recorder.FinishAsync(null));
        return workspace.Catalog.TryGetRecording(recorder.Recording.Id)!;
    }
}

/// <summary>Recordings, their GeoJSON and HLS files, watch zones and the live flight over SignalR, on the real server.</summary>
public class VideoTests(VideoFixture server, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<VideoFixture>
{
    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task A_recorded_flight_is_listed_with_its_geojson_and_its_hls_files()
    {
        var row = await server.RecordAsync();
        using var vic = await server.SignedIn("vic");
        var list = await Json(await vic.GetAsync($"/api/sites/{server.SiteId}/recordings?page_size=1"));
        var listed = list.GetProperty("items")[0];
        Assert.Equal(row.Id, listed.GetProperty("id").GetInt64());
        Assert.Equal("complete", listed.GetProperty("status").GetString());
        Assert.Equal(50, listed.GetProperty("frames").GetInt64());
        Assert.Equal(row.Id, (await Json(await vic.GetAsync($"/api/recordings/{row.Id}"))).GetProperty("id").GetInt64());
        Assert.Equal(HttpStatusCode.NotFound, (await vic.GetAsync("/api/recordings/987654")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await vic.GetAsync("/api/sites/987654/recordings")).StatusCode);

        var footprints = await vic.GetAsync($"/api/recordings/{row.Id}/footprints");
        Assert.Equal("application/geo+json", footprints.Content.Headers.ContentType!.MediaType);
        var fc = await Json(footprints);
        Assert.Equal(row.Footprints, fc.GetProperty("features").GetArrayLength());
        Assert.All(fc.GetProperty("features").EnumerateArray(), f => Assert.Equal("Polygon", f.GetProperty("geometry").GetProperty("type").GetString()));
        var path = (await Json(await vic.GetAsync($"/api/recordings/{row.Id}/path"))).GetProperty("features");
        Assert.Equal(50, path[0].GetProperty("geometry").GetProperty("coordinates").GetArrayLength());
        var tracks = (await Json(await vic.GetAsync($"/api/recordings/{row.Id}/tracks"))).GetProperty("features");
        Assert.True(tracks.GetArrayLength() >= 2, tracks.ToString());
        Assert.Contains(tracks.EnumerateArray(), t => t.GetProperty("geometry").GetProperty("type").GetString() == "LineString");

        var playlist = await vic.GetAsync($"/api/recordings/{row.Id}/hls/index.m3u8");
        Assert.Equal(HttpStatusCode.OK, playlist.StatusCode);
        Assert.Equal("application/vnd.apple.mpegurl", playlist.Content.Headers.ContentType!.MediaType);
        var text = await playlist.Content.ReadAsStringAsync();
        Assert.Contains($"#EXT-X-PROGRAM-DATE-TIME:{row.MediaStartUtc!.Value:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}", text);
        var init = await vic.GetAsync($"/api/recordings/{row.Id}/hls/init.mp4");
        Assert.Equal("video/mp4", init.Content.Headers.ContentType!.MediaType);
        Assert.Equal("ftyp", Encoding.ASCII.GetString((await init.Content.ReadAsByteArrayAsync())[4..8]));
        var segmentName = text.Split('\n').First(l => l.EndsWith(".m4s", StringComparison.Ordinal));
        var segment = await vic.GetAsync($"/api/recordings/{row.Id}/hls/{segmentName}");
        Assert.Equal("video/iso.segment", segment.Content.Headers.ContentType!.MediaType);
        var bytes = await segment.Content.ReadAsByteArrayAsync();
        Assert.Contains(Encoding.ASCII.GetString(bytes[4..8]), new[] { "styp", "moof" });

        // No session, no video.
        using var anonymous = server.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/recordings/{row.Id}/hls/index.m3u8")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/sites/{server.SiteId}/recordings")).StatusCode);
    }

    [Theory]
    [InlineData("..%2f..%2f..%2fsitewatch.db")]
    [InlineData("..%252f..%252fsitewatch.db")]
    [InlineData("%2e%2e%2fframes.jsonl")]
    [InlineData("..%5cframes.jsonl")]
    [InlineData("%2e%2e%2f%2e%2e%2fsitewatch.db")]
    [InlineData("frames.jsonl")]
    [InlineData(".index.m3u8.tmp")]
    [InlineData("index.m3u8%00.mp4")]
    [InlineData("%2fetc%2fpasswd")]
    [InlineData("seg99999.m4s")]
    public async Task Hls_files_are_only_names_listed_in_the_recordings_folder(string name)
    {
        var id = await AnyRecording();
        using var vic = await server.SignedIn("vic");
        var response = await vic.GetAsync($"/api/recordings/{id}/hls/{name}");
        Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"{name}: {(int)response.StatusCode}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("SQLite format", body);
        Assert.DoesNotContain("\"frame\":", body);
        Assert.DoesNotContain("root:", body);
    }

    private static long? _recording;
    private static readonly SemaphoreSlim Once = new(1, 1);

    private async Task<long> AnyRecording()
    {
        await Once.WaitAsync();
        try
        {
            return _recording ??= (await server.RecordAsync()).Id;
        }
        finally
        {
            Once.Release();
        }
    }

    private const string Zone = """{"type":"Feature","properties":{"name":"gate","rules":["enter"]},"geometry":{"type":"Polygon","coordinates":[[[127.4907,39.9278],[127.4923,39.9278],[127.4923,39.9290],[127.4907,39.9278]]]}}""";

    [Theory]
    [InlineData("{\"type\":\"Feature\"", "invalid JSON")]
    [InlineData("[1,2]", "must be a JSON object")]
    [InlineData("{\"type\":\"Polygon\",\"coordinates\":[]}", "field 'type': expected a GeoJSON Feature or FeatureCollection, got 'Polygon'")]
    [InlineData("{\"type\":\"FeatureCollection\",\"features\":[]}", "field 'features'")]
    [InlineData("{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]}}", "properties.name is required")]
    [InlineData("{\"type\":\"Feature\",\"properties\":{\"name\":\"open\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[127.49,39.92],[127.50,39.92],[127.50,39.93]]]}}", "must be closed")]
    [InlineData("{\"type\":\"Feature\",\"properties\":{\"name\":\"far\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[227.49,39.92],[127.50,39.92],[127.50,39.93],[227.49,39.92]]]}}", "feature 0")]
    public async Task Bad_watch_zones_are_a_400_naming_the_problem_and_nothing_is_stored(string body, string expected)
    {
        using var ana = await server.SignedIn("ana");
        var before = await (await ana.GetAsync($"/api/sites/{server.SiteId}/zones")).Content.ReadAsStringAsync();
        var response = await ana.PostAsync($"/api/sites/{server.SiteId}/zones", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync());
        Assert.Equal(before, await (await ana.GetAsync($"/api/sites/{server.SiteId}/zones")).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Watch_zones_are_listed_created_and_deleted_by_analysts_only()
    {
        using var ana = await server.SignedIn("ana");
        using var vic = await server.SignedIn("vic");
        var url = $"/api/sites/{server.SiteId}/zones";
        Assert.Equal(HttpStatusCode.Forbidden, (await vic.PostAsync(url, new StringContent(Zone, Encoding.UTF8, "application/json"))).StatusCode);
        var created = await ana.PostAsync(url, new StringContent(Zone, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var listed = await Json(await vic.GetAsync(url));
        var zone = Assert.Single(listed.GetProperty("features").EnumerateArray());
        Assert.Equal("gate", zone.GetProperty("properties").GetProperty("name").GetString());
        // What the site stores is what `watch --zones` reads.
        Assert.Equal("gate", Assert.Single(WatchZoneFile.Parse(listed.GetRawText(), "stored")).Name);
        Assert.Equal(HttpStatusCode.Conflict, (await ana.PostAsync(url, new StringContent(Zone, Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await vic.DeleteAsync($"{url}/gate")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await ana.DeleteAsync($"{url}/gate")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await ana.DeleteAsync($"{url}/gate")).StatusCode);
        Assert.Empty((await Json(await vic.GetAsync(url))).GetProperty("features").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await vic.GetAsync("/api/sites/987654/zones")).StatusCode);
    }

    [Fact]
    public async Task A_flight_being_watched_reaches_a_follower_frame_by_frame_with_its_zone_events()
    {
        string key;
        using (var workspace = Workspace.Open(server.WorkspaceDirectory))
        {
            key = UserAccounts.NewApiKey(workspace.Catalog, workspace.Catalog.TryGetUser("vic")!);
        }
        var frames = Channel.CreateUnbounded<JsonElement>();
        var recordings = Channel.CreateUnbounded<JsonElement>();
        await using var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(server.BaseAddress, EventsHub.Path), o => o.Headers["X-Api-Key"] = key)
            .Build();
        // Delay from a frame's line written by the watch to its arrival here (reported, not asserted).
        var writtenAt = new System.Collections.Concurrent.ConcurrentDictionary<long, long>();
        var delaysMs = new System.Collections.Concurrent.ConcurrentBag<double>();
        connection.On<JsonElement>("frame", f =>
        {
            if (writtenAt.TryGetValue(f.GetProperty("frame").GetProperty("frame").GetInt64(), out var at))
            {
                delaysMs.Add(System.Diagnostics.Stopwatch.GetElapsedTime(at).TotalMilliseconds);
            }
            frames.Writer.TryWrite(f);
        });
        connection.On<JsonElement>("recording", r => recordings.Writer.TryWrite(r));
        await connection.StartAsync();
        await connection.InvokeAsync("FollowSite", server.SiteId);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var row = await server.RecordAsync(async recorder =>
        {
            // The server has seen the recording start before the first frame is written.
            while (true)
            {
                var r = await recordings.Reader.ReadAsync(timeout.Token);
                if (r.GetProperty("id").GetInt64() == recorder.Recording.Id)
                {
                    Assert.Equal("recording", r.GetProperty("status").GetString());
                    return;
                }
            }
        }, f => writtenAt[f.Frame.Index] = System.Diagnostics.Stopwatch.GetTimestamp());

        var received = new List<JsonElement>();
        while (received.Count < 50)
        {
            var f = await frames.Reader.ReadAsync(timeout.Token);
            if (f.GetProperty("recording_id").GetInt64() == row.Id)
            {
                received.Add(f.GetProperty("frame"));
            }
        }
        Assert.Equal(Enumerable.Range(0, 50), received.Select(f => f.GetProperty("frame").GetInt32()));
        var sorted = delaysMs.Order().ToList();
        output.WriteLine($"frame written -> received over SignalR: {sorted.Count} frames, p50 {sorted[sorted.Count / 2]:0} ms, p95 {sorted[(int)(sorted.Count * 0.95)]:0} ms, max {sorted[^1]:0} ms");
        Assert.Equal(row.Footprints, received.Count(f => f.TryGetProperty("footprint", out _)));
        Assert.Contains(received, f => f.GetProperty("tracks").GetArrayLength() > 0);
        var zoneEvents = received.Sum(f => f.TryGetProperty("alerts", out var a) ? a.GetArrayLength() : 0);
        Assert.True(zoneEvents > 0, "the simulated flight crosses the border zone");
        while (true)
        {
            var r = await recordings.Reader.ReadAsync(timeout.Token);
            if (r.GetProperty("id").GetInt64() == row.Id)
            {
                Assert.Equal("complete", r.GetProperty("status").GetString());
                break;
            }
        }
    }
}
