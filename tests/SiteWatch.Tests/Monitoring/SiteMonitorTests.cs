using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using SiteWatch.Core;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Core.Monitoring;
using SiteWatch.Core.Workflows;
using SiteWatch.Gdal;
using SiteWatch.Tests.Catalog;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Tests.Monitoring;

/// <summary>
/// Monitoring against a STAC API served on loopback by a real HTTP listener (POST /search with paging, assets over
/// GET) and against a static catalog on disk: new scenes go through ingest and change once, repeats ingest nothing.
/// </summary>
public sealed class SiteMonitorTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly Workspace _workspace;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public SiteMonitorTests()
    {
        _workspace = Workspace.Init(_dir.File("ws"));
        File.WriteAllText(_dir.File("aoi.geojson"), IngestTests.SceneAoi);
        SiteSetup.AddSite(_workspace, "plant", _dir.File("aoi.geojson"), 1.0, null, [], null);
    }

    public void Dispose()
    {
        _http.Dispose();
        _workspace.Dispose();
        _dir.Dispose();
    }

    /// <summary>A 4-band UTM 52N scene around the AOI; later dates carry a brightened block (a change) and their own noise.</summary>
    private string Scene(string name, int day, bool changed)
    {
        var path = _dir.File(name);
        var (width, height) = (600, 500);
        var profile = new RasterProfile(width, height, 4, RasterDataType.UInt16)
        {
            GeoTransform = GeoTransform.NorthUp(543_000, 4_420_000, 1.0),
            Crs = "EPSG:32652",
            NoData = 0,
            BandDescriptions = ["blue", "green", "red", "nir"],
        };
        using var raster = RasterDataset.Create(path, profile);
        var rng = new Random(day);
        var data = new ushort[width * height];
        for (var b = 1; b <= 4; b++)
        {
            for (var r = 0; r < height; r++)
            {
                for (var c = 0; c < width; c++)
                {
                    var block = changed && c is >= 150 and < 200 && r is >= 120 and < 160;
                    data[r * width + c] = (ushort)(block ? 7000 + 300 * b : 600 + 150 * b + (c * 7 + r * 3) % 400 + rng.Next(20));
                }
            }
            raster.Write<ushort>(b, new RasterWindow(0, 0, width, height), data);
        }
        return path;
    }

    private static JsonObject Item(string id, string date, double cloud, string href) => new()
    {
        ["type"] = "Feature",
        ["stac_version"] = "1.0.0",
        ["id"] = id,
        ["collection"] = "demo",
        ["bbox"] = new JsonArray(129.50, 39.92, 129.51, 39.935),
        ["geometry"] = JsonNode.Parse("""{"type":"Polygon","coordinates":[[[129.50,39.92],[129.51,39.92],[129.51,39.935],[129.50,39.935],[129.50,39.92]]]}"""),
        ["properties"] = new JsonObject { ["datetime"] = $"{date}T02:30:00Z", ["eo:cloud_cover"] = cloud, ["platform"] = "testsat" },
        ["assets"] = new JsonObject
        {
            ["image"] = new JsonObject { ["href"] = href, ["type"] = "image/tiff; application=geotiff; profile=cloud-optimized", ["roles"] = new JsonArray("data") },
            ["thumbnail"] = new JsonObject { ["href"] = "thumb.png", ["type"] = "image/png", ["roles"] = new JsonArray("thumbnail") },
        },
        ["links"] = new JsonArray(),
    };

    /// <summary>A STAC API on 127.0.0.1: landing page, POST /search one item per page (next links with a POST body), GET /assets/NAME.</summary>
    private sealed class StacApi : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;
        public readonly List<JsonObject> Items = [];
        public readonly Dictionary<string, string> Assets = [];
        public int AssetRequests;
        public int SearchRequests;
        public Func<string, (int Status, string Body)?>? Fault;

        public StacApi()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = $"http://127.0.0.1:{port}/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _loop = Task.Run(Serve);
        }

        public string Url { get; }

        private async Task Serve()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                try
                {
                    Handle(context);
                }
                finally
                {
                    context.Response.Close();
                }
            }
        }

        private void Handle(HttpListenerContext context)
        {
            var path = context.Request.Url!.AbsolutePath;
            if (Fault?.Invoke(path) is { } fault)
            {
                Reply(context, fault.Status, fault.Body);
                return;
            }
            if (path == "/")
            {
                Reply(context, 200, """{"type":"Catalog","id":"test","stac_version":"1.0.0","description":"t","conformsTo":["https://api.stacspec.org/v1.0.0/item-search"],"links":[{"rel":"search","href":"/search","method":"POST"}]}""");
            }
            else if (path == "/search" && context.Request.HttpMethod == "POST")
            {
                SearchRequests++;
                var body = JsonNode.Parse(new StreamReader(context.Request.InputStream).ReadToEnd())!.AsObject();
                if (body["intersects"] is null || body["collections"]?[0]?.ToString() != "demo")
                {
                    Reply(context, 400, """{"code":"BadRequest","description":"intersects and collections expected"}""");
                    return;
                }
                var page = body["page"]?.GetValue<int>() ?? 0;
                var features = new JsonArray();
                if (page < Items.Count)
                {
                    features.Add(Items[page].DeepClone());
                }
                var links = new JsonArray();
                if (page + 1 < Items.Count)
                {
                    links.Add(new JsonObject { ["rel"] = "next", ["href"] = "/search", ["method"] = "POST", ["merge"] = true, ["body"] = new JsonObject { ["page"] = page + 1 } });
                }
                Reply(context, 200, new JsonObject { ["type"] = "FeatureCollection", ["features"] = features, ["links"] = links }.ToJsonString());
            }
            else if (path.StartsWith("/assets/", StringComparison.Ordinal) && Assets.TryGetValue(path["/assets/".Length..], out var file))
            {
                AssetRequests++;
                var bytes = File.ReadAllBytes(file);
                context.Response.ContentType = "image/tiff";
                context.Response.ContentLength64 = bytes.Length;
                context.Response.OutputStream.Write(bytes);
            }
            else
            {
                Reply(context, 404, """{"code":"NotFound"}""");
            }
        }

        private static void Reply(HttpListenerContext context, int status, string body)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = bytes.Length;
            context.Response.OutputStream.Write(bytes);
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }

    private static MonitorOptions Options(string source) => new()
    {
        Source = source,
        Collections = ["demo"],
        MaxCloudCover = 50,
        Detect = false,
        Alerts = false,
        ChangeOptions = new SiteChangeOptions { Detection = new ChangeDetectionOptions { Method = ChangeMethodKind.Cva }, CoRegister = false },
    };

    [Fact]
    public async Task New_scenes_from_a_paged_api_are_ingested_and_compared_once_and_a_second_round_fetches_nothing()
    {
        using var api = new StacApi();
        api.Assets["a.tif"] = Scene("a.tif", 1, changed: false);
        api.Assets["b.tif"] = Scene("b.tif", 2, changed: true);
        api.Assets["c.tif"] = Scene("c.tif", 3, changed: true);
        api.Items.Add(Item("scene-b", "2024-06-14", 5, "/assets/b.tif"));
        api.Items.Add(Item("scene-a", "2024-05-01", 10, "/assets/a.tif"));
        api.Items.Add(Item("scene-c", "2024-07-16", 80, "/assets/c.tif")); // too cloudy
        api.Items.Add(Item("scene-a", "2024-05-01", 10, "/assets/a.tif")); // listed twice
        var lines = new List<string>();

        var first = await SiteMonitor.RunOnceAsync(_workspace, "plant", Options(api.Url), _http, lines.Add);
        Assert.Equal(4, api.SearchRequests); // one page per item, followed by next links
        Assert.Equal(2, first.NewScenes);
        Assert.Equal(0, first.Failed);
        Assert.Equal(2, api.AssetRequests);
        Assert.Contains(first.Skipped, s => s.Contains("scene-c") && s.Contains("cloud cover 80"));
        Assert.Contains(first.Skipped, s => s.Contains("scene-a") && s.Contains("listed twice"));
        var site = _workspace.Catalog.GetSite("plant");
        var scenes = _workspace.Catalog.ListScenes(site.Id);
        Assert.Equal(["stac:demo/scene-a", "stac:demo/scene-b"], scenes.Select(s => s.SourcePath));
        Assert.Equal([new DateTime(2024, 5, 1, 2, 30, 0, DateTimeKind.Utc), new DateTime(2024, 6, 14, 2, 30, 0, DateTimeKind.Utc)], scenes.Select(s => s.AcquiredUtc));
        Assert.Equal(["testsat", "testsat"], scenes.Select(s => s.Sensor));
        Assert.Equal([5.0, 10.0], scenes.Select(s => s.CloudCoverPercent!.Value).Order());
        // Items arrive newest first; the change run pairs them in date order.
        var run = Assert.Single(first.Scenes, s => s.ChangeRunId is not null);
        Assert.Equal("scene-b", run.ItemId);
        Assert.Single(_workspace.Catalog.ListChangeRuns(site.Id));
        Assert.DoesNotContain(Directory.EnumerateFiles(_workspace.StagingDirectory, "*", SearchOption.AllDirectories), f => !f.EndsWith(".lock", StringComparison.Ordinal));

        var second = await SiteMonitor.RunOnceAsync(_workspace, "plant", Options(api.Url), _http);
        Assert.Equal(0, second.NewScenes);
        Assert.Equal(2, api.AssetRequests); // nothing downloaded again
        Assert.Equal(2, _workspace.Catalog.ListScenes(site.Id).Count);

        // The cloudy scene clears the filter: it alone is new, and is compared with the scene before it.
        var third = await SiteMonitor.RunOnceAsync(_workspace, "plant", Options(api.Url) with { MaxCloudCover = 90 }, _http);
        Assert.Equal("scene-c", Assert.Single(third.Scenes, s => s.New).ItemId);
        Assert.Equal(2, _workspace.Catalog.ListChangeRuns(site.Id).Count);
    }

    [Fact]
    public async Task An_api_that_fails_or_answers_garbage_is_an_error_naming_it_and_nothing_is_stored()
    {
        using var api = new StacApi();
        api.Assets["a.tif"] = Scene("a.tif", 1, changed: false);
        api.Items.Add(Item("scene-a", "2024-05-01", 10, "/assets/a.tif"));
        api.Fault = path => path == "/search" ? (503, "busy") : null;
        var e = await Assert.ThrowsAsync<SiteWatchException>(() => SiteMonitor.RunOnceAsync(_workspace, "plant", Options(api.Url), _http));
        Assert.Contains("HTTP 503", e.Message);
        Assert.Contains("after 4 attempts", e.Message);

        api.Fault = path => path == "/search" ? (200, "{\"type\": \"FeatureCollection\", \"features\": [") : null;
        e = await Assert.ThrowsAsync<SiteWatchException>(() => SiteMonitor.RunOnceAsync(_workspace, "plant", Options(api.Url), _http));
        Assert.Contains("invalid JSON", e.Message);
        Assert.Contains("/search", e.Message);
        Assert.Empty(_workspace.Catalog.ListScenes(_workspace.Catalog.GetSite("plant").Id));

        // A broken asset fails that item only, and it is tried again next round.
        api.Fault = path => path == "/assets/a.tif" ? (500, "disk on fire") : null;
        var report = await SiteMonitor.RunOnceAsync(_workspace, "plant", Options(api.Url), _http);
        Assert.Equal(1, report.Failed);
        Assert.Contains("HTTP 500", report.Scenes[0].Problem);
        api.Fault = null;
        Assert.Equal(1, (await SiteMonitor.RunOnceAsync(_workspace, "plant", Options(api.Url), _http)).NewScenes);
    }

    [Fact]
    public async Task A_static_catalog_on_disk_is_walked_and_filtered_here()
    {
        var folder = Directory.CreateDirectory(_dir.File("catalog")).FullName;
        Scene(Path.Combine("catalog", "a.tif"), 1, changed: false);
        Scene(Path.Combine("catalog", "b.tif"), 2, changed: true);
        var items = new[] { Item("scene-a", "2024-05-01", 10, "a.tif"), Item("scene-b", "2024-06-14", 5, "b.tif"), Item("old", "2019-01-01", 0, "a.tif") };
        var far = Item("elsewhere", "2024-06-20", 0, "b.tif");
        far["geometry"] = JsonNode.Parse("""{"type":"Polygon","coordinates":[[[10,10],[11,10],[11,11],[10,11],[10,10]]]}""");
        var links = new JsonArray();
        foreach (var item in items.Append(far))
        {
            File.WriteAllText(Path.Combine(folder, $"{item["id"]}.json"), item.ToJsonString());
            links.Add(new JsonObject { ["rel"] = "item", ["href"] = $"./{item["id"]}.json" });
        }
        File.WriteAllText(Path.Combine(folder, "collection.json"), new JsonObject { ["type"] = "Collection", ["id"] = "demo", ["links"] = links }.ToJsonString());
        File.WriteAllText(Path.Combine(folder, "catalog.json"), """{"type":"Catalog","id":"root","links":[{"rel":"child","href":"./collection.json"}]}""");

        // The command line, as a separate process, on a second site over the same catalog.
        SiteSetup.AddSite(_workspace, "plant-cli", _dir.File("aoi.geojson"), 1.0, null, [], null);
        var (code, output, error) = Cli.CliTests.Run(_workspace.Root, "monitor", "--site", "plant-cli", "--stac", Path.Combine(folder, "catalog.json"),
            "--collections", "demo", "--from", "2020-01-01", "--no-detect", "--no-alerts", "--json");
        Assert.True(code == 0, error);
        var cli = JsonNode.Parse(output)!;
        Assert.Equal(2, cli["new_scenes"]!.GetValue<int>());
        Assert.NotNull(cli["scenes"]![1]!["change_run_id"]);
        var usage = Cli.CliTests.Run(_workspace.Root, "monitor", "--site", "plant-cli", "--stac", folder, "--cloud", "120");
        Assert.NotEqual(0, usage.Code);
        Assert.Contains("--cloud must lie between 0 and 100", usage.Out + usage.Err);

        var report = await SiteMonitor.RunOnceAsync(_workspace, "plant", Options(Path.Combine(folder, "catalog.json")) with { FromUtc = new DateTime(2020, 1, 1) }, _http);
        Assert.Equal(["scene-a", "scene-b"], report.Scenes.Select(s => s.ItemId));
        Assert.Equal(2, report.NewScenes);
        Assert.Equal(0, (await SiteMonitor.RunOnceAsync(_workspace, "plant", Options(folder + "/catalog.json"), _http)).NewScenes);
    }
}
