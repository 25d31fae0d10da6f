using System.Text.Json;

namespace SiteWatch.Tests.Cli;

/// <summary>`sitewatch feed`: a site's standing drone feeds stored, refused when they could never run, listed and removed.</summary>
public sealed class FeedCliTests
{
    [Fact]
    public void A_feed_is_stored_for_a_site_with_zones_listed_and_removed_and_one_that_could_never_run_is_refused()
    {
        using var dir = new TempDir();
        var ws = dir.File("ws");
        Assert.Equal(0, CliTests.Run(null, "init", ws).Code);
        File.WriteAllText(dir.File("aoi.geojson"), """{"type":"Polygon","coordinates":[[[-64.6,-22.55],[-64.4,-22.55],[-64.4,-22.45],[-64.6,-22.45],[-64.6,-22.55]]]}""");
        Assert.Equal(0, CliTests.Run(ws, "site", "add", "border", "--aoi", dir.File("aoi.geojson")).Code);

        // A file is not a feed; a bad CoT endpoint and a missing model are named; a site without zones is refused.
        var file = CliTests.Run(ws, "feed", "add", "ridge", dir.File("aoi.geojson"), "--site", "border");
        Assert.Equal(2, file.Code);
        Assert.Contains("a feed is a live stream", file.Err + file.Out);
        var cot = CliTests.Run(ws, "feed", "add", "ridge", "udp://127.0.0.1:5600", "--site", "border", "--cot", "http://x");
        Assert.Equal(2, cot.Code);
        Assert.Contains("udp://HOST:PORT or tcp://HOST:PORT", cot.Err + cot.Out);
        var noZones = CliTests.Run(ws, "feed", "add", "ridge", "udp://127.0.0.1:5600", "--site", "border", "--detector", "vmti");
        Assert.NotEqual(0, noZones.Code);
        Assert.Contains("site border has no watch zones", noZones.Err);

        File.WriteAllText(dir.File("bad.geojson"), """{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":null}]}""");
        var bad = CliTests.Run(ws, "feed", "add", "ridge", "udp://127.0.0.1:5600", "--site", "border", "--zones", dir.File("bad.geojson"));
        Assert.NotEqual(0, bad.Code);
        Assert.Contains("bad.geojson", bad.Err);
        File.WriteAllText(dir.File("zones.geojson"),
            """{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"z","rules":["enter"]},"geometry":{"type":"Polygon","coordinates":[[[-64.55,-22.53],[-64.5,-22.53],[-64.5,-22.5],[-64.55,-22.53]]]}}]}""");
        var model = CliTests.Run(ws, "feed", "add", "ridge", "udp://127.0.0.1:5600", "--site", "border", "--zones", dir.File("zones.geojson"), "--model", dir.File("none.onnx"));
        Assert.NotEqual(0, model.Code);
        Assert.Contains("none.onnx: file not found", model.Err);

        using (var workspace = Core.Catalog.Workspace.Open(ws))
        {
            Assert.Null(workspace.Catalog.TryGetWatchZones(workspace.Catalog.GetSite("border").Id));
        }
        var add = CliTests.Run(ws, "feed", "add", "ridge", "udp://127.0.0.1:5600", "--site", "border", "--zones", dir.File("zones.geojson"), "--detector", "vmti", "--cot", "udp://127.0.0.1:6969", "--json");
        Assert.True(add.Code == 0, add.Err);
        Assert.Contains("this workspace's catalog is SQLite", add.Err);
        Assert.Equal("vmti", JsonDocument.Parse(add.Out).RootElement.GetProperty("detector").GetString());
        var list = JsonDocument.Parse(CliTests.Run(ws, "feed", "list", "--json").Out).RootElement;
        var feed = Assert.Single(list.EnumerateArray());
        Assert.Equal(("border", "ridge", "udp://127.0.0.1:5600", "udp://127.0.0.1:6969"),
            (feed.GetProperty("site").GetString(), feed.GetProperty("name").GetString(), feed.GetProperty("source").GetString(), feed.GetProperty("cot").GetString()));

        Assert.Equal(0, CliTests.Run(ws, "feed", "remove", "ridge", "--site", "border").Code);
        var again = CliTests.Run(ws, "feed", "remove", "ridge", "--site", "border");
        Assert.NotEqual(0, again.Code);
        Assert.Contains("has no feed named 'ridge'", again.Err);
        Assert.Empty(JsonDocument.Parse(CliTests.Run(ws, "feed", "list", "--json").Out).RootElement.EnumerateArray());
    }

    [Fact]
    public void Serve_refuses_to_join_a_cluster_from_a_sqlite_workspace()
    {
        using var dir = new TempDir();
        var ws = dir.File("ws");
        Assert.Equal(0, CliTests.Run(null, "init", ws).Code);
        var serve = CliTests.Run(ws, "serve", "--urls", $"http://127.0.0.1:{TestPorts.Free()}", "--cluster", "sitewatch");
        Assert.NotEqual(0, serve.Code);
        Assert.Contains("cannot join cluster sitewatch: the workspace's catalog is SQLite", serve.Err);
    }
}
