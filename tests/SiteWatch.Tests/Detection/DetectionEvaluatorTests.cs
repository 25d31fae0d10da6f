using NetTopologySuite.Geometries;
using SiteWatch.Core;
using SiteWatch.Core.Detection;

namespace SiteWatch.Tests.Detection;

public sealed class DetectionEvaluatorTests
{
    private static readonly GeometryFactory Factory = new(new PrecisionModel(), 4326);

    // A box of w x h metres at (east, north) metres from 40N 128E, in WGS84.
    private static Polygon Box(double east, double north, double w, double h)
    {
        const double lat0 = 40, lon0 = 128;
        double kx = 111_320 * Math.Cos(lat0 * Math.PI / 180), ky = 110_574;
        Coordinate P(double x, double y) => new(lon0 + x / kx, lat0 + y / ky);
        return Factory.CreatePolygon([P(east, north), P(east + w, north), P(east + w, north + h), P(east, north + h), P(east, north)]);
    }

    [Fact]
    public void Counts_matches_per_class_at_the_iou_threshold_once_per_truth_object()
    {
        LabelledPolygon[] truth =
        [
            new("vehicle", 1, Box(0, 0, 5, 2)),
            new("vehicle", 1, Box(20, 0, 5, 2)),
            new("freight_car", 1, Box(100, 0, 14, 3)),
        ];
        LabelledPolygon[] predicted =
        [
            new("vehicle", 0.9, Box(0.5, 0, 5, 2)),   // IoU 4.5/5.5 = 0.82
            new("vehicle", 0.8, Box(0, 0, 5, 2)),     // duplicate of the same truth: a false positive
            new("vehicle", 0.7, Box(23, 0, 5, 2)),    // IoU 2/8 = 0.25 < 0.3: false positive, truth missed
            new("freight_car", 0.6, Box(100, 0, 14, 3)),
            new("crane", 0.5, Box(300, 0, 10, 10)),   // class absent from the truth
        ];

        var result = DetectionEvaluator.Evaluate(predicted, truth, 0.3).ToDictionary(c => c.ClassName);

        Assert.Equal((2, 3, 1, 2, 1), (result["vehicle"].TruthCount, result["vehicle"].PredictedCount, result["vehicle"].TruePositives, result["vehicle"].FalsePositives, result["vehicle"].FalseNegatives));
        Assert.Equal(1.0 / 3, result["vehicle"].Precision, 6);
        Assert.Equal(0.5, result["vehicle"].Recall, 6);
        Assert.Equal(1, result["freight_car"].TruePositives);
        Assert.Equal(1, result["crane"].FalsePositives);
        Assert.True(double.IsNaN(result["crane"].Recall));
        // A lower threshold accepts the shifted vehicle.
        Assert.Equal(2, DetectionEvaluator.Evaluate(predicted, truth, 0.2).Single(c => c.ClassName == "vehicle").TruePositives);
    }

    [Fact]
    public void Truth_is_filtered_by_date_and_mapped_by_construction_stage()
    {
        var dir = Directory.CreateTempSubdirectory("sw-deteval-");
        try
        {
            var path = Path.Combine(dir.FullName, "truth.geojson");
            File.WriteAllText(path, """
            {"type":"FeatureCollection","features":[
             {"type":"Feature","properties":{"class":"vehicle","appeared_on":"2024-05-01","removed_on":null},"geometry":{"type":"Polygon","coordinates":[[[128,40],[128.0001,40],[128.0001,40.0001],[128,40]]]}},
             {"type":"Feature","properties":{"class":"new_assembly_building","appeared_on":"2024-04-02","removed_on":null,
               "stages":[{"from":"2024-04-02","stage":"cleared"},{"from":"2024-07-26","stage":"roof"}]},"geometry":{"type":"Polygon","coordinates":[[[128,40],[128.001,40],[128.001,40.001],[128,40]]]}},
             {"type":"Feature","properties":{"class":"road"},"geometry":{"type":"Polygon","coordinates":[[[128,40],[128.01,40],[128.01,40.01],[128,40]]]}}
            ]}
            """);
            var april = DetectionEvaluator.ReadTruth(path, new DateOnly(2024, 4, 15));
            Assert.Equal(["construction"], april.Select(t => t.ClassName));
            var august = DetectionEvaluator.ReadTruth(path, new DateOnly(2024, 8, 1));
            Assert.Equal(["building", "vehicle"], august.Select(t => t.ClassName).Order());

            var bad = Path.Combine(dir.FullName, "bad.geojson");
            File.WriteAllText(bad, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]}}]}");
            var e = Assert.Throws<SiteWatchException>(() => DetectionEvaluator.ReadDetections(bad));
            Assert.Contains("feature 0 has no 'class'", e.Message);
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
