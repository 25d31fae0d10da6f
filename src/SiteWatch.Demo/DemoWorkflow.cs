using System.Globalization;
using System.Text.Json;
using SiteWatch.Core.Activity;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Demo.Plant;
using SiteWatch.Core.Detection;
using SiteWatch.Core.Geo;
using SiteWatch.Core.Ingest;
using SiteWatch.Gdal;
using SiteWatch.Core.Workflows;
using SiteWatch.Core;

namespace SiteWatch.Demo;

public sealed record DemoOptions(string OutputDirectory, int Seed = 42);

/// <summary>What the demo produced, for the CLI to print.</summary>
public sealed record DemoResult(string OutputDirectory, string WorkspaceDirectory, string ScenesDirectory, string AoiPath, string GroundTruthPath,
    DemoPlan Plan, Site Site, IReadOnlyList<Scene> Scenes, DemoChangeReport Change, DemoActivityReport Activity, DemoProducts Products)
{
    /// <summary>A static STAC catalog of the delivered scenes (stac/catalog.json), for `sitewatch monitor`.</summary>
    public string StacCatalogPath => Path.Combine(OutputDirectory, "stac", "catalog.json");
}

/// <summary>The demo's objects and alerts: detections (when the default model ships), the activity timeline and the alerts raised.</summary>
/// <param name="DetectionNote">Why detection was skipped, or null when it ran.</param>
public sealed record DemoActivityReport(SiteDetectionResult? Detection, string? DetectionNote, ActivityTimeline Timeline, string PlotPath, string RulesPath,
    AlertCheckResult Alerts, IReadOnlyList<DemoDetectionCheck> DetectionChecks);

/// <summary>What the analyst hands on: the site report (HTML and PDF), the timelapse and a GeoPackage for GIS tools.</summary>
public sealed record DemoProducts(Core.Reports.SiteReportResult Report, Core.Reports.TimelapseResult Timelapse, Core.Exports.ExportResult GeoPackage);

/// <summary>One scene's detections scored against the ground truth objects present that day (IoU 0.3, bounding boxes).</summary>
public sealed record DemoDetectionCheck(DateOnly Date, bool Cloudy, IReadOnlyList<ClassAccuracy> Classes);

/// <summary>
/// The built-in demo: renders the synthetic plant time series as the files a provider would deliver (GeoTIFFs, one in
/// WGS84, one described by a STAC item), writes the ground truth beside them, and ingests everything into a fresh workspace.
/// </summary>
public static class DemoWorkflow
{
    public const string SiteName = "hamhung-plant";
    private const string Marker = ".sitewatch-demo";

    /// <summary>Index of the scene delivered in geographic coordinates (EPSG:4326), as some providers do.</summary>
    private const int GeographicScene = 2;

    public static DemoResult Run(DemoOptions options, IProgress<(string Stage, double Fraction)>? progress = null, CancellationToken cancel = default)
    {
        var output = Path.GetFullPath(options.OutputDirectory);
        var scenesDir = Path.Combine(output, "scenes");
        var truthDir = Path.Combine(output, "truth");
        var workspaceDir = Path.Combine(output, "workspace");
        PrepareOutput(output, workspaceDir);
        Directory.CreateDirectory(scenesDir);
        Directory.CreateDirectory(truthDir);

        var plan = PlantScenario.Build(options.Seed);
        using var utm = SpatialReference.FromEpsg(DemoPlan.Epsg);
        using var wgs84 = SpatialReference.Wgs84();
        using var toWgs84 = new CoordinateTransform(utm, wgs84);

        var aoiPath = Path.Combine(output, "aoi.geojson");
        var aoi = GeometryProjection.Transform(plan.AoiUtm, toWgs84, 4326);
        File.WriteAllText(aoiPath, JsonSerializer.Serialize(new
        {
            type = "Feature",
            properties = new { name = SiteName, description = "Fence line of the synthetic plant near Hamhung" },
            geometry = GeoJsonText.ToElement(aoi),
        }));
        var truthPath = Path.Combine(truthDir, "ground_truth.geojson");
        File.WriteAllText(truthPath, GroundTruthWriter.ToGeoJson(plan, (x, y) => toWgs84.Transform(x, y)));

        var files = new List<string>();
        for (var i = 0; i < plan.Acquisitions.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            progress?.Report(("Rendering scenes", i / (double)plan.Acquisitions.Count));
            files.Add(WriteScene(plan, i, scenesDir, truthDir));
        }
        progress?.Report(("Rendering scenes", 1));
        WriteStacCatalog(output, plan, files, toWgs84);

        using var workspace = Workspace.Init(workspaceDir);
        File.WriteAllText(Path.Combine(workspaceDir, Marker), "created by 'sitewatch demo'; the demo may delete and recreate this workspace\n");
        var site = SiteSetup.AddSite(workspace, SiteName, aoiPath, plan.Gsd, null, ["demo", "industrial", "construction"],
            "Synthetic plant modelled on reported expansion: new assembly building, worker housing, crane removed from a tunnel entrance.");
        var ingestor = new SceneIngestor(workspace);
        for (var i = 0; i < files.Count; i++)
        {
            var index = i;
            ingestor.Ingest(site.Name, files[i], new IngestOptions { Resampling = Resampling.Cubic },
                new SyncProgress<double>(p => progress?.Report(("Ingesting scenes", (index + p) / files.Count))), cancel);
        }
        progress?.Report(("Ingesting scenes", 1));
        site = workspace.Catalog.GetSite(site.Name);
        var change = DemoChangeAnalysis.Run(workspace, site, plan, truthDir, new SiteChangeOptions(),
            new SyncProgress<double>(p => progress?.Report(("Detecting change", p))), cancel);
        var activity = RunActivity(workspace, site, plan, output, truthPath, progress, cancel);
        var products = WriteProducts(workspace, site, plan, output, toWgs84, progress, cancel);
        return new DemoResult(output, workspaceDir, scenesDir, aoiPath, truthPath, plan, site, workspace.Catalog.ListScenes(site.Id), change, activity, products);
    }

    /// <summary>Counts objects with the shipped detector (when this build has one), plots the activity and checks the demo's alert rules.</summary>
    /// <summary>
    /// The analyst's products: a note outlining the existing hall (the reference the new building is measured
    /// against, as an analyst would draw it), the site report, the timelapse and a GeoPackage of every layer.
    /// </summary>
    private static DemoProducts WriteProducts(Workspace workspace, Site site, DemoPlan plan, string output, CoordinateTransform toWgs84,
        IProgress<(string Stage, double Fraction)>? progress, CancellationToken cancel)
    {
        var hall = plan.Objects.Single(o => o.Class == TruthClasses.AssemblyHall);
        // The report names the reference by the note's text: keep it the hall's name.
        workspace.Catalog.AddNote(site.Id, DateOnly.FromDateTime(plan.Acquisitions[0].AcquiredUtc), "analyst: outline drawn on the first scene", null,
            "existing assembly hall", GeometryProjection.Transform(hall.FootprintUtm, toWgs84, 4326));
        progress?.Report(("Writing the report", 0));
        var report = Core.Reports.SiteReportWorkflow.Write(workspace, site.Name, new Core.Reports.ReportOptions(), Path.Combine(output, "report"), DateTime.UtcNow);
        progress?.Report(("Writing the timelapse", 0));
        var timelapse = Core.Reports.TimelapseWorkflow.Write(workspace, site.Name, Path.Combine(output, "timelapse.mp4"), new Core.Reports.TimelapseOptions(),
            new SyncProgress<double>(p => progress?.Report(("Writing the timelapse", p))), cancel);
        progress?.Report(("Exporting a GeoPackage", 0));
        var geoPackage = Core.Exports.SiteExportWorkflow.Run(workspace, site.Name, new Core.Exports.ExportOptions
        {
            Format = Core.Exports.ExportFormat.GeoPackage,
            OutputPath = Path.Combine(output, $"{site.Name}.gpkg"),
            Overwrite = true,
        }, cancel);
        return new DemoProducts(report, timelapse, geoPackage);
    }

    private static DemoActivityReport RunActivity(Workspace workspace, Site site, DemoPlan plan, string output, string truthPath,
        IProgress<(string Stage, double Fraction)>? progress, CancellationToken cancel)
    {
        SiteDetectionResult? detection = null;
        string? note = null;
        if (DetectorModel.DefaultModelPath is null)
        {
            note = $"object detection skipped: this build has no default detector ({DetectorModel.DefaultModelFileName}); counts and count alerts need one (or 'sitewatch detect --model PATH')";
        }
        else
        {
            detection = SiteDetectionWorkflow.Run(workspace, site.Name, new SiteDetectionOptions(),
                new SyncProgress<(int Scene, int Scenes, double Fraction)>(p => progress?.Report(("Detecting objects", (p.Scene + p.Fraction) / p.Scenes))), cancel);
        }
        var timeline = ActivityTimeline.Build(workspace.Catalog, site, new ActivityOptions());
        var plot = Path.Combine(output, "activity.png");
        ActivityPlot.Write(plot, timeline);
        var rules = Path.Combine(output, "alert-rules.json");
        File.WriteAllText(rules, DemoRules(plan));
        AlertWorkflow.StoreRules(workspace, site.Name, rules);
        var alerts = AlertWorkflow.Check(workspace, site.Name, DateTime.UtcNow, null,
            new SyncProgress<double>(p => progress?.Report(("Checking alert rules", p))), cancel);
        var checks = detection is null ? [] : CheckDetections(workspace, detection, truthPath);
        return new DemoActivityReport(detection, note, timeline, plot, rules, alerts, checks);
    }

    /// <summary>
    /// Scores every scene's stored detections against the truth objects present on its date. Detections sit where
    /// the scene's (slightly wrong) georeference puts them, as a user would see them, so the figures include it.
    /// </summary>
    private static List<DemoDetectionCheck> CheckDetections(Workspace workspace, SiteDetectionResult detection, string truthPath)
    {
        var checks = new List<DemoDetectionCheck>();
        foreach (var scene in detection.Scenes.OrderBy(s => s.Scene.AcquiredUtc))
        {
            var date = DateOnly.FromDateTime(scene.Scene.AcquiredUtc);
            var predicted = DetectionEvaluator.ReadDetections(workspace.Resolve(scene.Record.DetectionsFile));
            var truth = DetectionEvaluator.ReadTruth(truthPath, date);
            checks.Add(new DemoDetectionCheck(date, scene.Scene.CloudMaskFile is not null,
                DetectionEvaluator.Evaluate(predicted, truth, 0.3, axisAligned: true)));
        }
        return checks;
    }

    /// <summary>
    /// The rules an analyst watching the plant would write: growing freight-car and vehicle counts, a new building,
    /// the crane in front of the tunnel (by class where detections exist, and by its place, drawn from the truth as an
    /// analyst would draw it on the map).
    /// </summary>
    private static string DemoRules(DemoPlan plan)
    {
        var crane = plan.Objects.Single(o => o.Class == TruthClasses.BridgeCrane);
        var zone = GeometryProjection.Transform(crane.FootprintUtm.Buffer(2), DemoPlan.Epsg, 4326);
        return $$"""
            // Alert rules of the demo site (written by 'sitewatch demo'); see 'sitewatch alerts rules --help'.
            {
              "rules": [
                {"name": "freight cars piling up", "kind": "count_above_baseline", "class": "freight_car", "k": 2, "baseline": 3, "min_count": 5},
                {"name": "more vehicles", "kind": "count_above_baseline", "class": "vehicle", "k": 2, "baseline": 3, "min_count": 5},
                {"name": "new structure", "kind": "new_structure", "min_area_m2": 2000, "severity": "critical"},
                // The crane in front of the tunnel entrance: a removed object on it, or no crane detected any more.
                {"name": "crane removed", "kind": "object_removed", "class": "crane", "min_area_m2": 100, "severity": "critical",
                 "zone": {{GeoJsonText.Write(zone)}}}
              ]
            }
            """;
    }

    /// <summary>The demo owns its workspace folder; it never deletes a folder it did not create.</summary>
    private static void PrepareOutput(string output, string workspaceDir)
    {
        Directory.CreateDirectory(output);
        if (!Directory.Exists(workspaceDir))
        {
            return;
        }
        if (!File.Exists(Path.Combine(workspaceDir, Marker)))
        {
            throw new SiteWatchException($"{workspaceDir}: exists and was not created by the demo; choose another --out");
        }
        Directory.Delete(workspaceDir, recursive: true);
    }

    private static string WriteScene(DemoPlan plan, int index, string scenesDir, string truthDir)
    {
        var acquisition = plan.Acquisitions[index];
        var rendered = DemoRenderer.Render(plan, index);
        var date = acquisition.AcquiredUtc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var profile = new RasterProfile(rendered.Width, rendered.Height, 4, RasterDataType.UInt16)
        {
            GeoTransform = GeoTransform.FromArray(plan.GeoTransform),
            Crs = $"EPSG:{DemoPlan.Epsg}",
            NoData = 0,
            BandDescriptions = plan.BandNames,
        };
        var path = Path.Combine(scenesDir, $"plant_{date}.tif");
        using (var raster = index == GeographicScene ? RasterDataset.CreateInMemory(profile) : RasterDataset.Create(path, profile))
        {
            var all = new RasterWindow(0, 0, rendered.Width, rendered.Height);
            for (var b = 0; b < 4; b++)
            {
                raster.Write<ushort>(b + 1, all, rendered.Bands[b]);
                raster.SetMetadataItem("CENTRAL_WAVELENGTH_UM", plan.BandWavelengthsMicrometres[b].ToString("R", CultureInfo.InvariantCulture), "IMAGERY", b + 1);
            }
            if (acquisition.CloudCoverPercent is null)
            {
                raster.SetMetadataItem("TIFFTAG_DATETIME", acquisition.AcquiredUtc.ToString("yyyy:MM:dd HH:mm:ss", CultureInfo.InvariantCulture));
                raster.SetMetadataItem("SENSOR", acquisition.Sensor);
            }
            else
            {
                WriteStacItem(path, acquisition, plan, rendered.CloudMask is null ? null : Path.GetFileName(CloudMaskPath(path)));
            }
            if (index == GeographicScene)
            {
                using var geographic = Warper.Warp(raster, path, new WarpTarget { Crs = "EPSG:4326", Resampling = Resampling.Cubic, NoData = 0 },
                    creationOptions: RasterDataset.DefaultGeoTiffOptions(profile));
                geographic.SetMetadataItem("TIFFTAG_DATETIME", acquisition.AcquiredUtc.ToString("yyyy:MM:dd HH:mm:ss", CultureInfo.InvariantCulture));
                geographic.SetMetadataItem("SENSOR", acquisition.Sensor);
            }
        }
        if (rendered.CloudMask is { } mask)
        {
            // The truth, and the provider's cloud mask delivered with the scene (as Planet's UDM is): the same here.
            foreach (var maskPath in new[] { Path.Combine(truthDir, $"cloud_mask_{date}.tif"), CloudMaskPath(path) })
            {
                using var cloud = RasterDataset.Create(maskPath,
                    new RasterProfile(rendered.Width, rendered.Height, 1, RasterDataType.Byte) { GeoTransform = profile.GeoTransform, Crs = profile.Crs });
                cloud.Write<byte>(1, new RasterWindow(0, 0, rendered.Width, rendered.Height), mask);
            }
        }
        return path;
    }

    private static string CloudMaskPath(string scenePath) => Path.ChangeExtension(scenePath, null) + "_cloudmask.tif";

    /// <summary>A STAC item beside the scene: how the clouded scene arrives, with its cloud cover.</summary>
    private static void WriteStacItem(string path, DemoAcquisition acquisition, DemoPlan plan, string? cloudMaskFile)
    {
        var item = new Dictionary<string, object?>
        {
            ["type"] = "Feature",
            ["stac_version"] = "1.0.0",
            ["stac_extensions"] = new[] { "https://stac-extensions.github.io/eo/v1.1.0/schema.json" },
            ["id"] = Path.GetFileNameWithoutExtension(path),
            ["properties"] = new Dictionary<string, object?>
            {
                ["datetime"] = acquisition.AcquiredUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                ["platform"] = acquisition.Sensor,
                ["eo:cloud_cover"] = Math.Round(acquisition.CloudCoverPercent ?? 0, 1),
                ["view:sun_elevation"] = Math.Round(acquisition.SunElevationDeg, 2),
                ["view:sun_azimuth"] = Math.Round(acquisition.SunAzimuthDeg, 2),
            },
            ["geometry"] = null,
            ["assets"] = new Dictionary<string, object?>
            {
                ["image"] = new Dictionary<string, object?>
                {
                    ["href"] = "./" + Path.GetFileName(path),
                    ["type"] = "image/tiff; application=geotiff",
                    ["eo:bands"] = plan.BandNames.Select((name, i) => new { name, common_name = name, center_wavelength = plan.BandWavelengthsMicrometres[i] }).ToArray(),
                },
            },
        };
        if (cloudMaskFile is not null)
        {
            ((Dictionary<string, object?>)item["assets"]!)["cloud_mask"] = new Dictionary<string, object?>
            {
                ["href"] = "./" + cloudMaskFile,
                ["type"] = "image/tiff; application=geotiff",
                ["roles"] = new[] { "cloud", "cloud-shadow" },
                ["description"] = "1 = cloud or cloud shadow",
            };
        }
        File.WriteAllText(Path.ChangeExtension(path, ".json"), JsonSerializer.Serialize(item, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// A static STAC catalog over the delivered scenes (stac/catalog.json, a collection, one item per scene with its
    /// footprint, time, platform, cloud cover and assets linked relatively), so monitoring can be tried on the demo:
    /// `sitewatch monitor --site NAME --stac demo-output/stac/catalog.json`.
    /// </summary>
    private static void WriteStacCatalog(string output, DemoPlan plan, IReadOnlyList<string> files, CoordinateTransform toWgs84)
    {
        var folder = Path.Combine(output, "stac");
        Directory.CreateDirectory(folder);
        var gt = GeoTransform.FromArray(plan.GeoTransform);
        var (w, h) = (plan.Width, plan.Height);
        var corners = new[] { (0.0, 0.0), (w, 0.0), (w, h), (0.0, h), (0.0, 0.0) }
            .Select(p => gt.PixelToMap(p.Item1, p.Item2))
            .Select(p => toWgs84.Transform(p.X, p.Y))
            .Select(p => new[] { Math.Round(p.X, 7), Math.Round(p.Y, 7) })
            .ToArray();
        var bbox = new[] { corners.Min(c => c[0]), corners.Min(c => c[1]), corners.Max(c => c[0]), corners.Max(c => c[1]) };
        const string collection = "hamhung-demo";
        var options = new JsonSerializerOptions { WriteIndented = true };
        var itemLinks = new List<object>();
        for (var i = 0; i < files.Count; i++)
        {
            var acquisition = plan.Acquisitions[i];
            var id = Path.GetFileNameWithoutExtension(files[i]);
            var assets = new Dictionary<string, object?>
            {
                ["image"] = new Dictionary<string, object?>
                {
                    ["href"] = $"../scenes/{Path.GetFileName(files[i])}",
                    ["type"] = "image/tiff; application=geotiff",
                    ["roles"] = new[] { "data" },
                    ["eo:bands"] = plan.BandNames.Select((name, b) => new { name, common_name = name, center_wavelength = plan.BandWavelengthsMicrometres[b] }).ToArray(),
                },
            };
            var mask = CloudMaskPath(files[i]);
            if (File.Exists(mask))
            {
                assets["cloud_mask"] = new Dictionary<string, object?>
                {
                    ["href"] = $"../scenes/{Path.GetFileName(mask)}",
                    ["type"] = "image/tiff; application=geotiff",
                    ["roles"] = new[] { "cloud", "cloud-shadow" },
                };
            }
            var item = new Dictionary<string, object?>
            {
                ["type"] = "Feature",
                ["stac_version"] = "1.0.0",
                ["stac_extensions"] = new[] { "https://stac-extensions.github.io/eo/v1.1.0/schema.json" },
                ["id"] = id,
                ["collection"] = collection,
                ["bbox"] = bbox,
                ["geometry"] = new { type = "Polygon", coordinates = new[] { corners } },
                ["properties"] = new Dictionary<string, object?>
                {
                    ["datetime"] = acquisition.AcquiredUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                    ["platform"] = acquisition.Sensor,
                    ["eo:cloud_cover"] = Math.Round(acquisition.CloudCoverPercent ?? 0, 1),
                    ["gsd"] = plan.Gsd,
                },
                ["assets"] = assets,
                ["links"] = new object[]
                {
                    new { rel = "collection", href = "./collection.json", type = "application/json" },
                    new { rel = "root", href = "./catalog.json", type = "application/json" },
                },
            };
            File.WriteAllText(Path.Combine(folder, $"{id}.json"), JsonSerializer.Serialize(item, options));
            itemLinks.Add(new { rel = "item", href = $"./{id}.json", type = "application/geo+json" });
        }
        var first = plan.Acquisitions[0].AcquiredUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var last = plan.Acquisitions[^1].AcquiredUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        File.WriteAllText(Path.Combine(folder, "collection.json"), JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["type"] = "Collection",
            ["stac_version"] = "1.0.0",
            ["id"] = collection,
            ["description"] = "Synthetic scenes of the SiteWatch demo plant near Hamhung (4 bands, 0.9 m)",
            ["license"] = "CC0-1.0",
            ["extent"] = new { spatial = new { bbox = new[] { bbox } }, temporal = new { interval = new[] { new[] { first, last } } } },
            ["links"] = itemLinks.Append(new { rel = "root", href = "./catalog.json", type = "application/json" }).ToArray(),
        }, options));
        File.WriteAllText(Path.Combine(folder, "catalog.json"), JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["type"] = "Catalog",
            ["stac_version"] = "1.0.0",
            ["id"] = "sitewatch-demo",
            ["description"] = "The SiteWatch demo's delivered scenes",
            ["links"] = new object[] { new { rel = "child", href = "./collection.json", type = "application/json" }, new { rel = "root", href = "./catalog.json", type = "application/json" } },
        }, options));
    }
}
