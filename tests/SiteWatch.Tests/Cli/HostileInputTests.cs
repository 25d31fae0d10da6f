using System.Text.Json;
using SiteWatch.Gdal;

namespace SiteWatch.Tests.Cli;

/// <summary>
/// Issue 15: input a user (or an attacker) can hand the CLI that used to give a wrong answer, a stack trace or an
/// out-of-memory abort. Each is run as the user meets it: the `sitewatch` process, its exit code and stderr.
/// </summary>
public class HostileInputTests
{
    /// <summary>A failure as the CLI must report it: exit 1, one `error:` line per problem, no stack trace.</summary>
    private static string AssertCleanFailure((int Code, string Out, string Err) result, int expectedCode = 1)
    {
        Assert.True(result.Code == expectedCode, $"exit {result.Code}, stderr: {result.Err}");
        Assert.StartsWith("error:", result.Err);
        Assert.DoesNotContain("   at ", result.Err);
        Assert.DoesNotContain("Unhandled", result.Err);
        return result.Err;
    }

    private static string Aoi(params (double Lon, double Lat)[] ring) =>
        "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[["
        + string.Join(",", ring.Append(ring[0]).Select(p => FormattableString.Invariant($"[{p.Lon},{p.Lat}]"))) + "]]}}";

    private static string NewWorkspace(TempDir dir)
    {
        var ws = dir.File("ws");
        Assert.Equal(0, CliTests.Run(null, "init", ws).Code);
        return ws;
    }

    [Fact]
    public void Change_detect_and_eval_change_refuse_rasters_in_different_crs_on_the_same_geotransform()
    {
        using var dir = new TempDir();
        var before = Rasters.WriteUtmScene(dir.File("before_32652.tif"), 120, 100);
        var after = Rasters.WriteUtmScene(dir.File("after_32651.tif"), 120, 100);
        using (var raster = RasterDataset.Open(after, update: true))
        using (var zone51 = SpatialReference.FromEpsg(32651))
        {
            raster.SetCrs(zone51);
        }

        var err = AssertCleanFailure(CliTests.Run(null, "change", "detect", before, after, "--out", dir.File("out")));
        Assert.Contains("after_32651.tif: its CRS EPSG:32651 differs from", err);
        Assert.Contains("before_32652.tif's EPSG:32652", err);
        Assert.False(Directory.Exists(dir.File("out")) && Directory.EnumerateFiles(dir.File("out")).Any(), "no result may be written");

        // The same CRS written another way (a PROJ string without an EPSG code) is the same CRS: GDAL's IsSame, not text.
        var proj = Rasters.WriteUtmScene(dir.File("after_proj.tif"), 120, 100);
        using (var raster = RasterDataset.Open(proj, update: true))
        using (var zone52 = SpatialReference.FromUserInput("+proj=utm +zone=52 +datum=WGS84 +units=m +no_defs"))
        {
            raster.SetCrs(zone52);
            var changed = new ushort[20 * 20];
            changed.AsSpan().Fill(9000);
            for (var b = 1; b <= 4; b++)
            {
                raster.Write<ushort>(b, new RasterWindow(10, 10, 20, 20), changed);
            }
        }
        var same = CliTests.Run(null, "change", "detect", before, proj, "--out", dir.File("out-same"), "--method", "cva");
        Assert.True(same.Code == 0, same.Err);

        // eval change: a predicted mask and a reference on the same pixels but in another CRS.
        var predicted = WriteMask(dir.File("predicted.tif"), "EPSG:32652");
        var reference = WriteMask(dir.File("reference.tif"), "EPSG:32651");
        var evalErr = AssertCleanFailure(CliTests.Run(null, "eval", "change", "--predicted", predicted, "--reference", reference));
        Assert.Contains("reference.tif: its CRS EPSG:32651 differs from", evalErr);
        Assert.Equal(0, CliTests.Run(null, "eval", "change", "--predicted", predicted, "--reference", predicted).Code);
    }

    private static string WriteMask(string path, string crs)
    {
        var profile = new RasterProfile(40, 30, 1, RasterDataType.Byte) { GeoTransform = GeoTransform.NorthUp(543_000, 4_420_000, 1), Crs = crs };
        using var raster = RasterDataset.Create(path, profile);
        var data = new byte[40 * 30];
        data.AsSpan(0, 300).Fill(1);
        raster.Write<byte>(1, new RasterWindow(0, 0, 40, 30), data);
        return path;
    }

    [Fact]
    public void Malformed_stac_items_are_refused_naming_the_member()
    {
        using var dir = new TempDir();
        var ws = NewWorkspace(dir);
        File.WriteAllText(dir.File("aoi.geojson"), Catalog.IngestTests.SceneAoi);
        Assert.Equal(0, CliTests.Run(ws, "site", "add", "plant", "--aoi", dir.File("aoi.geojson"), "--gsd", "1").Code);
        var scene = Rasters.WriteUtmScene(dir.File("base.tif"), 600, 500, dateTag: null);
        File.WriteAllBytes(dir.File("mask.tif"), File.ReadAllBytes(scene));

        // JSON written with ' for ", to keep the cases readable.
        static string Item(string properties, string? assets = null) =>
            ("{'type':'Feature','stac_version':'1.0.0','id':'x','geometry':null,'properties':" + properties + (assets is null ? "" : ",'assets':" + assets) + "}").Replace('\'', '"');
        const string Date = "{'datetime':'2024-07-01T02:00:00Z'}";
        var cases = new (string Name, string Json, string Expected)[]
        {
            ("href_number", Item(Date, "{'udm':{'href':5,'roles':['cloud']}}"), "STAC item: assets.udm.href must be a string, not the number 5"),
            ("roles_string", Item(Date, "{'udm':{'href':'./mask.tif','roles':'cloud'}}"), "STAC item: assets.udm.roles must be an array of strings, not a string"),
            ("roles_numbers", Item(Date, "{'udm':{'href':'./mask.tif','roles':[1,2]}}"), "STAC item: assets.udm.roles[0] must be a string, not the number 1"),
            ("assets_array", Item(Date, "[{'href':'./mask.tif','roles':['cloud']}]"), "STAC item: assets must be an object, not an array"),
            ("cloud_negative", Item("{'datetime':'2024-07-01T02:00:00Z','eo:cloud_cover':-50}"), "STAC item: properties.eo:cloud_cover must be a percentage from 0 to 100, not -50"),
            ("cloud_huge", Item("{'datetime':'2024-07-01T02:00:00Z','eo:cloud_cover':1e308}"), "STAC item: properties.eo:cloud_cover must be a percentage from 0 to 100, not 1e308"),
            ("properties_array", Item("[1]"), "STAC item: properties must be an object, not an array"),
            ("bands_string", Item("{'datetime':'2024-07-01T02:00:00Z','eo:bands':'rgb'}"), "STAC item: properties.eo:bands must be an array, not a string"),
        };
        var files = new List<string>();
        foreach (var (name, json, _) in cases)
        {
            var file = dir.File($"{name}.tif");
            File.CreateSymbolicLink(file, scene);
            File.WriteAllText(dir.File($"{name}.json"), json);
            files.Add(file);
        }
        // A STAC item that never ends: the size limit stops it.
        var endless = dir.File("endless.tif");
        File.CreateSymbolicLink(endless, scene);
        File.CreateSymbolicLink(dir.File("endless.json"), "/dev/zero");

        var result = CliTests.Run(ws, ["scene", "add", .. files, endless, "--site", "plant", "--json"]);
        var err = AssertCleanFailure(result);
        var lines = err.Trim().Split('\n');
        Assert.Equal(cases.Length + 1, lines.Length);
        foreach (var ((name, _, expected), line) in cases.Zip(lines))
        {
            Assert.Contains($"{name}.json: {expected}", line);
        }
        Assert.Contains("endless.json: larger than 64 MiB", lines[^1]);
        using var report = JsonDocument.Parse(result.Out);
        Assert.All(report.RootElement.EnumerateArray(), r => Assert.Equal("failed", r.GetProperty("status").GetString()));

        // A well-formed item with a cloud cover in range and its mask still ingests.
        var good = dir.File("good.tif");
        File.CreateSymbolicLink(good, scene);
        File.WriteAllText(dir.File("good.json"), Item("{'datetime':'2024-07-01T02:00:00Z','eo:cloud_cover':12.5}", "{'udm':{'href':'./mask.tif','roles':['cloud']}}"));
        var ok = CliTests.Run(ws, "scene", "add", good, "--site", "plant");
        Assert.True(ok.Code == 0, ok.Err);
    }

    [Fact]
    public void Polar_aoi_asks_for_a_polar_crs_and_works_with_one()
    {
        using var dir = new TempDir();
        var ws = NewWorkspace(dir);
        File.WriteAllText(dir.File("north.geojson"), Aoi((10, 89.94), (10.5, 89.94), (10.5, 89.96), (10, 89.96)));
        File.WriteAllText(dir.File("n85.geojson"), Aoi((20, 84.99), (20.01, 84.99), (20.01, 85.01), (20, 85.01)));
        File.WriteAllText(dir.File("south.geojson"), Aoi((60, -85.01), (60.01, -85.01), (60.01, -84.99), (60, -84.99)));

        var north = AssertCleanFailure(CliTests.Run(ws, "site", "add", "pole", "--aoi", dir.File("north.geojson")));
        Assert.Contains("north.geojson: the AOI's centre (89.95N", north);
        Assert.Contains("EPSG:3413 (polar stereographic north)", north);
        Assert.Contains("pass --crs", north);
        Assert.Contains("EPSG:32661", north);
        Assert.Contains("EPSG:3413", AssertCleanFailure(CliTests.Run(ws, "site", "add", "n85", "--aoi", dir.File("n85.geojson"), "--gsd", "1")));
        var south = AssertCleanFailure(CliTests.Run(ws, "site", "add", "south", "--aoi", dir.File("south.geojson")));
        Assert.Contains("south.geojson: the AOI's centre (85S", south);
        Assert.Contains("EPSG:3031", south);

        var ok = CliTests.Run(ws, "site", "add", "pole", "--aoi", dir.File("north.geojson"), "--crs", "EPSG:3413", "--gsd", "1", "--json");
        Assert.True(ok.Code == 0, ok.Err);
        using var site = JsonDocument.Parse(ok.Out);
        Assert.Equal(3413, site.RootElement.GetProperty("crs_epsg").GetInt32());
        Assert.Equal(0, CliTests.Run(ws, "site", "add", "south", "--aoi", dir.File("south.geojson"), "--crs", "EPSG:32761", "--gsd", "1").Code);
    }

    [Fact]
    public void Aoi_across_the_antimeridian_is_refused_with_advice()
    {
        using var dir = new TempDir();
        var ws = NewWorkspace(dir);
        File.WriteAllText(dir.File("dateline.geojson"), Aoi((179.9, 10), (-179.9, 10), (-179.9, 10.1), (179.9, 10.1)));
        var err = AssertCleanFailure(CliTests.Run(ws, "site", "add", "fiji", "--aoi", dir.File("dateline.geojson")));
        Assert.Contains("dateline.geojson: the AOI spans 359.8 degrees of longitude (-179.9 to 179.9)", err);
        Assert.Contains("antimeridian", err);
        Assert.Contains("one site on each side", err);
        var (_, list, _) = CliTests.Run(ws, "site", "list", "--json");
        Assert.Equal("[]", list.Trim());
    }

    [Fact]
    public void Endless_json_inputs_hit_the_size_limit()
    {
        using var dir = new TempDir();
        var ws = NewWorkspace(dir);
        File.WriteAllText(dir.File("aoi.geojson"), Catalog.IngestTests.SceneAoi);
        Assert.Equal(0, CliTests.Run(ws, "site", "add", "plant", "--aoi", dir.File("aoi.geojson")).Code);
        File.WriteAllBytes(dir.File("flight.ts"), new byte[188]);
        File.WriteAllText(dir.File("empty.geojson"), """{"type":"FeatureCollection","features":[]}""");

        const string Limit = "/dev/zero: larger than 64 MiB";
        Assert.Contains(Limit, AssertCleanFailure(CliTests.Run(ws, "site", "add", "z", "--aoi", "/dev/zero")));
        Assert.Contains(Limit, AssertCleanFailure(CliTests.Run(ws, "alerts", "rules", "--site", "plant", "--file", "/dev/zero")));
        Assert.Contains(Limit, AssertCleanFailure(CliTests.Run(null, "eval", "detect", "--predicted", "/dev/zero", "--truth", dir.File("empty.geojson"))));
        Assert.Contains(Limit, AssertCleanFailure(CliTests.Run(null, "eval", "detect", "--predicted", dir.File("empty.geojson"), "--truth", "/dev/zero")));
        var watch = CliTests.Run(null, "watch", dir.File("flight.ts"), "--zones", "/dev/zero", "--detector", "vmti", "--out", dir.File("out"));
        Assert.NotEqual(0, watch.Code);
        Assert.Contains(Limit, watch.Err);
        Assert.DoesNotContain("   at ", watch.Err);
        var scene = Rasters.WriteUtmScene(dir.File("scene.tif"), 64, 64);
        Assert.Contains(Limit, AssertCleanFailure(CliTests.Run(null, "detect", "file", scene, "--aoi", "/dev/zero")));
    }

    [Fact]
    public void Aoi_from_a_fifo_is_read()
    {
        using var dir = new TempDir();
        var ws = NewWorkspace(dir);
        var fifo = dir.File("aoi.fifo");
        Assert.Equal(0, Rasters.RunTool("mkfifo", fifo).ExitCode);
        // Opening a FIFO for writing waits for its reader: the CLI.
        var writer = new Thread(() => File.WriteAllText(fifo, Catalog.IngestTests.SceneAoi));
        writer.Start();
        var result = CliTests.Run(ws, "site", "add", "piped", "--aoi", fifo, "--json");
        writer.Join();
        Assert.True(result.Code == 0, result.Err);
        Assert.Contains("\"crs_epsg\": 32652", result.Out);
    }

    [Fact]
    public void Raster_with_a_non_finite_or_zero_size_geotransform_is_an_invalid_georeference()
    {
        using var dir = new TempDir();
        var ws = NewWorkspace(dir);
        File.WriteAllText(dir.File("aoi.geojson"), Catalog.IngestTests.SceneAoi);
        Assert.Equal(0, CliTests.Run(ws, "site", "add", "plant", "--aoi", dir.File("aoi.geojson"), "--gsd", "1").Code);
        var scene = Rasters.WriteUtmScene(dir.File("scene.tif"), 64, 64);
        var nan = WriteVrt(dir.File("nan.vrt"), scene, "nan, 1, 0, 4420000, 0, -1");
        var zero = WriteVrt(dir.File("zero.vrt"), scene, "543000, 0, 0, 4420000, 0, -1");

        var ingest = AssertCleanFailure(CliTests.Run(ws, "scene", "add", nan, zero, "--site", "plant", "--date", "2024-05-01"));
        var lines = ingest.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Contains("nan.vrt: invalid georeference: its geotransform (NaN, 1, 0, 4420000, 0, -1) is not finite", lines[0]);
        Assert.Contains("zero.vrt: invalid georeference: its geotransform (543000, 0, 0, 4420000, 0, -1) has a zero pixel size", lines[1]);
        Assert.Contains("nan.vrt: invalid georeference", AssertCleanFailure(CliTests.Run(null, "info", nan)));
        Assert.Contains("nan.vrt: invalid georeference", AssertCleanFailure(CliTests.Run(null, "change", "detect", nan, scene, "--out", dir.File("out"))));
    }

    private static string WriteVrt(string path, string source, string geoTransform)
    {
        File.WriteAllText(path, $"""
            <VRTDataset rasterXSize="64" rasterYSize="64">
              <SRS>EPSG:32652</SRS>
              <GeoTransform>{geoTransform}</GeoTransform>
              <VRTRasterBand dataType="UInt16" band="1">
                <SimpleSource><SourceFilename relativeToVRT="0">{source}</SourceFilename><SourceBand>1</SourceBand></SimpleSource>
              </VRTRasterBand>
            </VRTDataset>
            """);
        return path;
    }

    [Fact]
    public void Zero_byte_video_is_an_error_for_video_info_and_watch()
    {
        using var dir = new TempDir();
        var empty = dir.File("empty.ts");
        File.WriteAllBytes(empty, []);
        File.WriteAllText(dir.File("zones.geojson"), """
            {"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"yard","rules":["enter"]},
             "geometry":{"type":"Polygon","coordinates":[[[127,39],[127.1,39],[127.1,39.1],[127,39]]]}}]}
            """);

        Assert.Contains("empty.ts: no MPEG-TS packets", AssertCleanFailure(CliTests.Run(null, "video", "info", empty)));
        Assert.Contains("empty.ts: no MPEG-TS packets", AssertCleanFailure(CliTests.Run(null, "video", "info", empty, "--json")));
        var watch = AssertCleanFailure(CliTests.Run(null, "watch", empty, "--zones", dir.File("zones.geojson"), "--detector", "vmti", "--out", dir.File("out")));
        Assert.Contains("empty.ts: no MPEG-TS packets", watch);
        Assert.False(Directory.Exists(dir.File("out")), "nothing is written for a file with no video");
    }
}
