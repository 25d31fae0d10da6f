using System.Text.Json;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Geo;
using SiteWatch.Tests.Cli;

namespace SiteWatch.Tests.Detection;

public class DetectCliTests
{
    [Fact]
    public void Detect_file_writes_geojson_and_a_json_summary_within_the_aoi()
    {
        using var dir = new TempDir();
        var scene = Rasters.WriteUtmScene(dir.File("scene.tif"), 300, 200, gsd: 1, originX: 543_000, originY: 4_420_000);
        var model = TestModels.Write(dir.File("centre.onnx"),
            TestModels.Constant([[64, 64, 20, 10, 0.9f, 0.05f]], inputSize: 128, metadata: TestModels.Metadata("{0: 'vehicle', 1: 'freight-car'}", "detect", 128)));
        var utm = new GeometryFactory(new PrecisionModel(), 32652).CreatePolygon(
            [new(543_000, 4_420_000), new(543_120, 4_420_000), new(543_120, 4_419_800), new(543_000, 4_419_800), new(543_000, 4_420_000)]);
        File.WriteAllText(dir.File("aoi.geojson"), GeoJsonText.Write(GeometryProjection.Transform(utm, 32652, 4326)));

        var (code, stdout, stderr) = CliTests.Run(null, "detect", "file", scene, "--model", model, "--aoi", dir.File("aoi.geojson"),
            "--out", dir.File("out/detections.geojson"), "--json");
        Assert.True(code == 0, stderr);
        var summary = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(2, summary.GetProperty("detections").GetInt32());
        Assert.Equal(2, summary.GetProperty("counts").GetProperty("vehicle").GetInt32());
        Assert.Equal(4, summary.GetProperty("tiles_run").GetInt32());
        Assert.Equal("detect", summary.GetProperty("task").GetString());
        var features = JsonDocument.Parse(File.ReadAllText(dir.File("out/detections.geojson"))).RootElement.GetProperty("features");
        Assert.Equal(2, features.GetArrayLength());
        Assert.Equal(200, features[0].GetProperty("properties").GetProperty("area_m2").GetDouble(), 6);

        var (tableCode, table, _) = CliTests.Run(null, "detect", "file", scene, "--model", model);
        Assert.Equal(0, tableCode);
        Assert.Contains("vehicle", table);
        Assert.Contains("6 objects", table);
    }

    [Fact]
    public void Bad_input_exits_1_with_one_line_and_usage_errors_exit_2()
    {
        using var dir = new TempDir();
        var scene = Rasters.WriteUtmScene(dir.File("scene.tif"), 64, 64);
        File.WriteAllText(dir.File("junk.onnx"), "not a model");
        var (code, _, err) = CliTests.Run(null, "detect", "file", scene, "--model", dir.File("junk.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("junk.onnx: not a model ONNX Runtime can load", err);
        Assert.Single(err.Trim().Split('\n'));

        Assert.Equal(2, CliTests.Run(null, "detect", "file", scene, "--model", dir.File("junk.onnx"), "--score", "2").Code);
        Assert.Equal(2, CliTests.Run(null, "detect", "file", scene, "--device", "tpu").Code);
        var (help, helpOut, _) = CliTests.Run(null, "detect", "file", "--help");
        Assert.Equal(0, help);
        Assert.Contains("--tile-overlap", helpOut);
    }
}
