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

using static SiteWatch.Tests.Monitoring.StacFixtures;

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

    private string Scene(string name, int day, bool changed) => StacFixtures.Scene(_dir.File(name), day, changed);

    private static JsonObject Item(string id, string date, double cloud, string href) => StacFixtures.Item(id, date, cloud, href);

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
