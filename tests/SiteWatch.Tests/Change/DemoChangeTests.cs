using SiteWatch.Core.Workflows;
using SiteWatch.Demo;

namespace SiteWatch.Tests.Change;

/// <summary>The whole demo, end to end: render, ingest, co-register, detect change, measure, score against the truth.</summary>
public class DemoChangeTests
{
    /// <summary>Stated tolerance of the new building's measured footprint ratio against the truth (percentage points).</summary>
    private const double RatioTolerance = 0.03;

    [Fact]
    public async Task Demo_finds_the_new_building_at_its_true_size_and_the_crane_removal()
    {
        using var dir = new TempDir();
        var result = DemoWorkflow.Run(new DemoOptions(dir.File("demo")));

        Assert.Equal(result.Plan.Acquisitions.Count, result.Scenes.Count);
        var change = result.Change;
        Assert.Equal(result.Scenes.Count - 1, change.Series.Count);
        Assert.NotNull(change.NewBuildingRatio);
        Assert.InRange(change.NewBuildingRatio!.Value, 0.60, 0.70);
        Assert.InRange(change.NewBuildingRatio!.Value, change.TruthRatio - RatioTolerance, change.TruthRatio + RatioTolerance);
        Assert.True(change.NewBuildingIoU > 0.8, $"new building footprint IoU {change.NewBuildingIoU}");

        Assert.NotNull(change.CraneRemoval);
        Assert.Equal(Core.Change.ChangeKind.Removed, change.CraneRemoval!.Kind);

        // From the first scene to the last, what is flagged is nearly all real change.
        Assert.True(change.Overall.Accuracy.Precision > 0.9, change.Overall.Accuracy.ToString());
        Assert.All(change.Series.Append(change.Overall), r => Assert.True(r.Run.Summary.GetProperty("registration").GetProperty("reliable").GetBoolean()));

        // The clouded scene arrives with its provider cloud mask (a STAC asset): stored on the grid, and its clouds are
        // left out of the comparisons that involve it instead of being reported as change.
        var clouded = Assert.Single(result.Scenes, s => s.CloudMaskFile is not null);
        Assert.True(File.Exists(Path.Combine(result.WorkspaceDirectory, clouded.CloudMaskFile!)));
        var cloudyPairs = change.Series.Where(r => r.Run.After.Id == clouded.Id || r.Run.Before.Id == clouded.Id).ToList();
        Assert.Equal(2, cloudyPairs.Count);
        Assert.All(cloudyPairs, r => Assert.True(r.Run.Summary.GetProperty("excluded_cloud_pixels").GetInt64() > 10_000));
        // Scenes delivered without a mask were searched for clouds and none was found on the clear ones.
        Assert.All(result.Scenes.Where(s => s.Id != clouded.Id), s => Assert.Null(s.CloudMaskFile));

        // The analyst's products: the report states the new building against the outlined hall, with its evidence,
        // and the crane removal; the timelapse holds every scene.
        var report = result.Products.Report;
        Assert.True(report.Pages > 5);
        var largest = report.Report.Findings[0];
        Assert.Contains("% of existing assembly hall", largest.Statement);
        Assert.InRange(largest.AreaSquareMetres / change.HallAreaSquareMetres, change.TruthRatio - RatioTolerance, change.TruthRatio + RatioTolerance);
        using (var pdf = UglyToad.PdfPig.PdfDocument.Open(report.PdfPath))
        {
            var text = string.Join("\n", pdf.GetPages().Select(p => p.Text));
            Assert.Contains("crane removed between 2024-06-14 and 2024-07-16", text);
            Assert.Contains("freight_car count rose", text);
        }
        Assert.Equal(result.Scenes.Count, result.Products.Timelapse.Frames);
        var layers = result.Products.GeoPackage.Layers.ToDictionary(l => l.Kind, l => l.Features);
        Assert.Equal(result.Scenes.Count, layers["scenes"]);
        Assert.True(layers["changes"] > 0 && layers["detections"] > 0);
        Assert.Equal(result.Activity.Alerts.Raised.Count, layers["alerts"]);
        Assert.True(new FileInfo(result.Products.Timelapse.Path).Length > 10_000);

        var intoCloud = cloudyPairs.Single(r => r.Run.After.Id == clouded.Id);
        Assert.True(intoCloud.Accuracy.Precision > 0.4, $"pair into the clouded scene: {intoCloud.Accuracy}");

        // Object counts with the shipped detector follow the truth on the cloud-free dates (within a quarter in
        // total per counted class), and the demo's rules raise the alerts the story is about.
        var activity = result.Activity;
        Assert.Equal(result.Scenes.Count, activity.DetectionChecks.Count);
        var clear = activity.DetectionChecks.Where(c => !c.Cloudy).SelectMany(c => c.Classes).ToList();
        foreach (var cls in new[] { "vehicle", "freight_car", "material_pile" })
        {
            int truth = clear.Where(c => c.ClassName == cls).Sum(c => c.TruthCount);
            int found = clear.Where(c => c.ClassName == cls).Sum(c => c.PredictedCount);
            Assert.True(truth > 0 && Math.Abs(found - truth) <= 0.25 * truth, $"{cls}: {found} detected for {truth} true");
        }
        var raised = activity.Alerts.Raised;
        Assert.Contains(raised, a => a.RuleName == "freight cars piling up");
        Assert.Contains(raised, a => a.RuleName == "more vehicles");
        Assert.Contains(raised, a => a.RuleName == "new structure");
        var crane = Assert.Single(raised, a => a.RuleName == "crane removed");
        Assert.Equal(new DateTime(2024, 7, 16), crane.ObservedUtc.Date);

        // The demo's static STAC catalog feeds `monitor`: a new workspace gets every delivered scene once, at the
        // catalog's times, the clouded one with its cloud mask; a second round finds nothing new.
        using var monitored = Core.Catalog.Workspace.Init(dir.File("monitored"));
        SiteSetup.AddSite(monitored, "watched", result.AoiPath, null, null, [], null);
        using var http = new HttpClient();
        var options = new Core.Monitoring.MonitorOptions { Source = result.StacCatalogPath, Change = false, Detect = false, Alerts = false };
        var round = await Core.Monitoring.SiteMonitor.RunOnceAsync(monitored, "watched", options, http);
        Assert.Equal(result.Scenes.Count, round.NewScenes);
        var scenes = monitored.Catalog.ListScenes(monitored.Catalog.GetSite("watched").Id);
        Assert.Equal(result.Scenes.Select(s => s.AcquiredUtc), scenes.Select(s => s.AcquiredUtc));
        Assert.Single(scenes, s => s.CloudMaskFile is not null);
        Assert.Equal(0, (await Core.Monitoring.SiteMonitor.RunOnceAsync(monitored, "watched", options, http)).NewScenes);
    }
}
