using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using SiteWatch.Core;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Core.Change.Methods;
using SiteWatch.Core.Monitoring;
using SiteWatch.Core.Workflows;
using SiteWatch.Server.Stac;
using SiteWatch.Tests.Catalog;
using static SiteWatch.Tests.Monitoring.StacFixtures;

namespace SiteWatch.Tests.Monitoring;

/// <summary>`sitewatch stac serve`: a static catalog on disk searched as a STAC API by the monitor, over real HTTP on loopback.</summary>
public sealed class StacApiServerTests
{
    private static string StaticCatalog(TempDir dir)
    {
        var folder = dir.File("stac");
        Directory.CreateDirectory(folder);
        var links = new JsonArray();
        for (var i = 0; i < 3; i++)
        {
            Scene(Path.Combine(folder, $"s{i}.tif"), i + 1, changed: i > 0);
            var item = Item($"scene-{i}", $"2024-0{5 + i}-01", i == 2 ? 90 : 5, $"./s{i}.tif");
            File.WriteAllText(Path.Combine(folder, $"scene-{i}.json"), item.ToJsonString());
            links.Add(new JsonObject { ["rel"] = "item", ["href"] = $"./scene-{i}.json" });
        }
        File.WriteAllText(Path.Combine(folder, "collection.json"), new JsonObject
        {
            ["type"] = "Collection", ["stac_version"] = "1.0.0", ["id"] = "demo", ["description"] = "test", ["license"] = "CC0-1.0", ["links"] = links,
        }.ToJsonString());
        File.WriteAllText(Path.Combine(folder, "catalog.json"), new JsonObject
        {
            ["type"] = "Catalog", ["stac_version"] = "1.0.0", ["id"] = "test", ["description"] = "test",
            ["links"] = new JsonArray(new JsonObject { ["rel"] = "child", ["href"] = "./collection.json" }),
        }.ToJsonString());
        return folder;
    }


    [Fact]
    public async Task A_static_catalog_served_as_an_api_feeds_the_monitor_once()
    {
        using var dir = new TempDir();
        var url = $"http://127.0.0.1:{TestPorts.Free()}";
        await using var app = StacApiServer.Build(StaticCatalog(dir), url);
        await app.StartAsync();
        using var http = new HttpClient();

        using var ws = Workspace.Init(dir.File("ws"));
        File.WriteAllText(dir.File("aoi.geojson"), IngestTests.SceneAoi);
        SiteSetup.AddSite(ws, "plant", dir.File("aoi.geojson"), 1.0, null, [], null);
        var options = new MonitorOptions
        {
            Source = url + "/", Collections = ["demo"], MaxCloudCover = 50, Detect = false, Alerts = false,
            ChangeOptions = new SiteChangeOptions { Detection = new ChangeDetectionOptions { Method = ChangeMethodKind.Cva }, CoRegister = false },
        };
        var first = await SiteMonitor.RunOnceAsync(ws, "plant", options, http);
        Assert.Equal(2, first.NewScenes); // the 90 % cloudy scene is filtered by the server's query extension
        Assert.Equal(0, first.Failed);
        var second = await SiteMonitor.RunOnceAsync(ws, "plant", options, http);
        Assert.Equal(0, second.NewScenes);
        Assert.Single(ws.Catalog.ListChangeRuns(ws.Catalog.GetSite("plant").Id));

        // Paging: one item per page, next links carry the page.
        var page = JsonNode.Parse(await (await http.PostAsync($"{url}/search", new StringContent("""{"collections":["demo"],"limit":1}""", Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync())!;
        Assert.Equal(3, page["numberMatched"]!.GetValue<int>());
        Assert.Equal(1, page["links"]![0]!["body"]!["page"]!.GetValue<int>());
        // Assets with ranges, served only as the catalog names them.
        var asset = page["features"]![0]!["assets"]!["image"]!["href"]!.ToString();
        using var range = new HttpRequestMessage(HttpMethod.Get, asset) { Headers = { Range = new RangeHeaderValue(0, 15) } };
        var partial = await http.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(16, (await partial.Content.ReadAsByteArrayAsync()).Length);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"{url}/assets/0/..%2F..%2Fetc%2Fpasswd")).StatusCode);
        // Bad searches are 400s naming the problem.
        var bad = await http.GetAsync($"{url}/search?datetime=yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("datetime 'yesterday'", await bad.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync($"{url}/search", new StringContent("{not json", Encoding.UTF8, "application/json"))).StatusCode);
    }

    [Fact]
    public void It_listens_on_loopback_only_and_needs_a_catalog()
    {
        using var dir = new TempDir();
        var folder = StaticCatalog(dir);
        Assert.Contains("loopback only", Assert.Throws<SiteWatchException>(() => StacApiServer.Build(folder, "http://0.0.0.0:8090")).Message);
        Assert.Contains("no STAC catalog", Assert.Throws<SiteWatchException>(() => StacApiServer.Build(dir.File("nothing"), "http://127.0.0.1:8090")).Message);
    }
}
