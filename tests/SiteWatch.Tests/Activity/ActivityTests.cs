using System.Text.Json;
using Microsoft.Data.Sqlite;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Activity;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Geo;
using SiteWatch.Core.Workflows;
using SiteWatch.Tests.Change;

namespace SiteWatch.Tests.Activity;

public class ActivityTests
{
    [Fact]
    public void Baseline_is_the_previous_dates_mean_and_sample_std_with_a_floor()
    {
        double?[] values = [10, 12, 14, null, 30];
        var stats = ActivityIndex.Baseline(values, 3, baseline: 3, minStd: 1)!;
        Assert.Equal(12, stats.Mean, 9);
        Assert.Equal(2, stats.Std, 9);
        Assert.Equal(2, stats.FlooredStd, 9);
        // The missing date is skipped: 30 against 12 and 14 (mean 13, sd sqrt(2), floored at 10 % of 13 = 1.3 -> sqrt 2 wins);
        // with a two-date baseline only one value is left, too little.
        Assert.Null(ActivityIndex.Baseline(values, 4, baseline: 2, minStd: 1));
        var z = ActivityIndex.Baseline(values, 4, baseline: 3, minStd: 1)!;
        Assert.Equal(13, z.Mean, 9);
        Assert.Equal(Math.Sqrt(2), z.Std, 9);
        Assert.Equal((30 - 13) / Math.Sqrt(2), z.ZScore(30), 9);
        // A flat series: the floor keeps the z-score finite (max of the absolute floor and 10 % of the mean).
        var flat = ActivityIndex.Baseline([5, 5, 5, 8], 3, 3, minStd: 1)!;
        Assert.Equal(0, flat.Std);
        Assert.Equal(1, flat.FlooredStd);
        Assert.Equal(3, flat.ZScore(8), 9);
        var big = ActivityIndex.Baseline([1000, 1000, 1000], 2, 2, minStd: 1)!;
        Assert.Equal(100, big.FlooredStd, 9);
        // Too little history: no baseline.
        Assert.Null(ActivityIndex.Baseline(values, 1, 3, 1));
        Assert.Null(ActivityIndex.Baseline(values, 0, 1, 1));
    }

    [Fact]
    public void Activity_index_is_the_mean_of_the_series_z_scores()
    {
        var counts = new ActivitySeries("vehicle", [2, 4, 3, 9], 1);
        var area = new ActivitySeries("change", [null, 100, 300, 1300], 100);
        var index = ActivityIndex.Compute([counts, area], baseline: 3);
        Assert.Null(index[0]);
        Assert.Null(index[1]);
        // Date 2: counts 3 vs (2, 4): mean 3, z 0; area has only one previous value: no z.
        Assert.Equal(0, index[2]!.Value, 9);
        // Date 3: counts 9 vs (2, 4, 3): mean 3, sd 1 -> z 6; area 1300 vs (100, 300): mean 200, sd 141.42 -> z 7.778.
        var areaZ = (1300 - 200) / Math.Sqrt(20000);
        Assert.Equal((6 + areaZ) / 2, index[3]!.Value, 6);
    }

    [Fact]
    public void Catalog_migrates_from_v3_to_the_current_schema_keeping_rows()
    {
        using var dir = new TempDir();
        var (workspace, site) = SiteChangeTests.Ingested(dir);
        var scenes = workspace.Catalog.ListScenes(site.Id);
        var path = workspace.CatalogPath;
        workspace.Dispose();
        // Turn the catalog back into a v3 one: the v4 tables gone, the version set back.
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DROP TABLE outbox; DROP TABLE alerts; DROP TABLE alert_rules; DROP TABLE detection_runs; PRAGMA user_version = 3;";
            command.ExecuteNonQuery();
        }
        using var reopened = Workspace.Open(dir.File("ws"));
        Assert.Equal(scenes.Select(s => s.Id), reopened.Catalog.ListScenes(site.Id).Select(s => s.Id));
        Assert.Equal("plant", reopened.Catalog.GetSite(site.Id).Name);
        Assert.Empty(reopened.Catalog.ListDetectionRuns(site.Id));
        Assert.Empty(reopened.Catalog.ListAlerts(site.Id));
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False;Mode=ReadOnly"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version";
            // The current schema (9: user revocation, or later).
            Assert.InRange((long)command.ExecuteScalar()!, 9L, 100L);
        }
    }

    [Fact]
    public void Timeline_reads_detection_counts_and_change_runs_and_plots_them()
    {
        using var dir = new TempDir();
        var (workspace, site) = SiteChangeTests.Ingested(dir);
        using var _ = workspace;
        var empty = ActivityTimeline.Build(workspace.Catalog, site, new ActivityOptions());
        Assert.Equal(2, empty.Dates.Count);
        Assert.Contains(empty.Notes, n => n.Contains("no object detections"));
        Assert.Contains(empty.Notes, n => n.Contains("run change detection on the series of site plant"));

        SiteChangeWorkflow.RunSeries(workspace, "plant", new SiteChangeOptions());
        var scenes = workspace.Catalog.ListScenes(site.Id);
        StoreDetections(workspace, site, scenes[0], new() { ["vehicle"] = 2, ["crane"] = 1 }, []);
        StoreDetections(workspace, site, scenes[1], new() { ["vehicle"] = 9 }, []);

        var timeline = ActivityTimeline.Build(workspace.Catalog, site, new ActivityOptions { Baseline = 1 });
        Assert.Equal(["crane", "vehicle"], timeline.Classes);
        Assert.Equal(0, timeline.Dates[1].Counts!["crane"]);
        Assert.Equal(9, timeline.Dates[1].Counts!["vehicle"]);
        Assert.Null(timeline.Dates[0].ChangeAreaSquareMetres);
        Assert.InRange(timeline.Dates[1].AppearedAreaSquareMetres!.Value, 500, 700);
        Assert.True(timeline.Dates[1].ChangeAreaSquareMetres >= timeline.Dates[1].AppearedAreaSquareMetres);
        // vehicle 9 vs 2 (sd floored at 1): z 7; crane 0 vs 1: z -1; the change series have no earlier value.
        Assert.Equal(7, timeline.Dates[1].ZScores["vehicle"], 9);
        Assert.Equal(3, timeline.Dates[1].Index!.Value, 9);
        Assert.Empty(timeline.Notes);

        var png = dir.File("plots/activity.png");
        ActivityPlot.Write(png, timeline);
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        Assert.True(bitmap.Width >= 900 && bitmap.Height > 4 * 130, $"{bitmap.Width}x{bitmap.Height}");
    }

    /// <summary>Stores a detection run as 'sitewatch detect' does: GeoJSON staged, then committed with its row.</summary>
    internal static DetectionRunRecord StoreDetections(Workspace workspace, Site site, Scene scene, Dictionary<string, int> counts,
        IReadOnlyList<(string Class, Geometry Wgs84)> detections, string model = "test-model")
    {
        var staged = workspace.NewStagingPath(".geojson");
        File.WriteAllText(staged, JsonSerializer.Serialize(new
        {
            type = "FeatureCollection",
            features = detections.Select(d => new { type = "Feature", geometry = GeoJsonText.ToElement(d.Wgs84), properties = new { class_name = d.Class, score = 0.9 } }).ToArray(),
        }));
        var file = Path.Combine("detections", "plant", $"{scene.Id}_{model}.geojson");
        return workspace.Catalog.CommitDetectionRun(new DetectionRunRecord
        {
            Id = 0,
            SiteId = site.Id,
            SceneId = scene.Id,
            ModelSha256 = model.PadRight(64, '0'),
            ModelName = model,
            Parameters = "{}",
            ParametersSha256 = (model + "{}").PadRight(64, '0'),
            Counts = counts,
            DetectionsFile = file,
            CreatedUtc = DateTime.UtcNow,
        }, staged, Path.Combine(workspace.Root, file));
    }
}
