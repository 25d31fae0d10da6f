using System.Globalization;
using System.Text.Json;
using NetTopologySuite.Features;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Activity;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Geo;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Exports;

/// <summary>One feature of an export layer: a WGS84 geometry, its attributes by field name, and a KML style.</summary>
public sealed record ExportFeature(Geometry Wgs84, IReadOnlyDictionary<string, object?> Values, string? Style = null);

/// <summary>
/// One kind of result as a layer: its attribute fields (date-times as such), and where KML is to find its time:
/// <see cref="TimeStampField"/> for an instant, <see cref="BeginField"/> / <see cref="EndField"/> for an interval.
/// </summary>
public sealed record ExportLayer(string Kind, string Title, IReadOnlyList<VectorField> Fields, IReadOnlyList<ExportFeature> Features)
{
    public string? TimeStampField { get; init; }
    public string? BeginField { get; init; }
    public string? EndField { get; init; }
}

/// <summary>
/// What a site export holds, read from the catalog and the stored files (nothing is computed): change objects of every
/// change run, the detections of the model the activity timeline uses, alerts, and the watch zones of the alert rules.
/// </summary>
public static class SiteLayers
{
    /// <summary>Field names shared by every format; KML reads its time from them (LIBKML_*_FIELD options).</summary>
    public const string ObservedField = "observed_utc";
    public const string BeforeField = "before_utc";
    public const string AfterField = "after_utc";

    /// <summary>
    /// The layers of the requested kinds that hold features, and a note for each kind that holds none. Tracks and
    /// drone footprints are not kept in a workspace (a watch writes them to its --out folder), so asking for them by
    /// name is an error rather than an empty layer.
    /// </summary>
    public static (IReadOnlyList<ExportLayer> Layers, IReadOnlyList<string> Notes) Collect(Workspace workspace, Site site, IReadOnlyList<string> kinds, bool kindsChosen, ExportPeriod period)
    {
        var layers = new List<ExportLayer>();
        var notes = new List<string>();
        foreach (var kind in kinds)
        {
            if (kind is ExportKind.Tracks or ExportKind.Footprints)
            {
                var what = kind == ExportKind.Tracks ? "tracks" : "drone frame footprints";
                if (kindsChosen)
                {
                    throw SiteWatchException.About("what", $"{what} are not stored in a workspace: a watch writes them to its own output folder (flight.geojson, flight.kml); export aoi, scenes, changes, detections, alerts or zones");
                }
                notes.Add($"{what}: not stored in a workspace (a watch writes them to its own output folder)");
                continue;
            }
            var layer = kind switch
            {
                ExportKind.Aoi => Aoi(site),
                ExportKind.Scenes => Scenes(workspace, site, period),
                ExportKind.Changes => Changes(workspace, site, period),
                ExportKind.Detections => Detections(workspace, site, period),
                ExportKind.Alerts => Alerts(workspace, site, period),
                _ => Zones(workspace, site),
            };
            if (layer.Features.Count == 0)
            {
                notes.Add(period == ExportPeriod.Always || kind == ExportKind.Zones
                    ? $"{kind}: none stored for site {site.Name}"
                    : $"{kind}: none stored for site {site.Name} in {period}");
                continue;
            }
            layers.Add(layer);
        }
        return (layers, notes);
    }

    private static readonly VectorField[] AoiFields =
    [
        new("name", VectorFieldType.String),
        new("site_id", VectorFieldType.Integer64),
        new("crs_epsg", VectorFieldType.Integer),
        new("gsd_m", VectorFieldType.Real),
    ];

    /// <summary>The site's area of interest: the frame every other layer lies in.</summary>
    public static ExportLayer Aoi(Site site) => new(ExportKind.Aoi, "Area of interest", AoiFields,
    [
        new ExportFeature(site.Aoi, new Dictionary<string, object?>
        {
            ["name"] = site.Name,
            ["site_id"] = site.Id,
            ["crs_epsg"] = site.CrsEpsg,
            ["gsd_m"] = site.Gsd,
        }, "PEN(c:#FFFFFF,w:3px);BRUSH(fc:#FFFFFF00)"),
    ]);

    private static readonly VectorField[] SceneFields =
    [
        new("name", VectorFieldType.String),
        new("scene_id", VectorFieldType.Integer64),
        new(ObservedField, VectorFieldType.DateTime),
        new("sensor", VectorFieldType.String),
        new("gsd_m", VectorFieldType.Real),
        new("cloud_cover_pct", VectorFieldType.Real),
        new("valid_fraction", VectorFieldType.Real),
        new("bands", VectorFieldType.Integer),
        new("file", VectorFieldType.String),
        new("file_sha256", VectorFieldType.String),
    ];

    /// <summary>Each scene's footprint on the site grid (the stored COG's extent), with its date, sensor, GSD and cloud cover.</summary>
    public static ExportLayer Scenes(Workspace workspace, Site site, ExportPeriod period)
    {
        var features = new List<ExportFeature>();
        foreach (var scene in workspace.Catalog.ListScenes(site.Id).Where(s => period.Contains(s.AcquiredUtc)))
        {
            var file = workspace.Resolve(scene.File);
            if (!workspace.StoredFileExists(scene.File))
            {
                throw new SiteWatchException($"{file}: scene {scene.Id}'s stored file is missing; nothing was written") { Next = new NextStep(NextStepKind.CheckWorkspace) };
            }
            var (footprint, _, _, gt) = StacCatalogWriter.RasterFootprint(file, site);
            features.Add(new ExportFeature(footprint, new Dictionary<string, object?>
            {
                ["name"] = string.Create(CultureInfo.InvariantCulture, $"{scene.AcquiredUtc:yyyy-MM-dd} {scene.Sensor}"),
                ["scene_id"] = scene.Id,
                [ObservedField] = scene.AcquiredUtc,
                ["sensor"] = scene.Sensor,
                ["gsd_m"] = site.Gsd ?? Math.Abs(gt.PixelWidth),
                ["cloud_cover_pct"] = scene.CloudCoverPercent,
                ["valid_fraction"] = scene.ValidFraction,
                ["bands"] = scene.Bands.Count,
                ["file"] = scene.File,
                ["file_sha256"] = scene.FileSha256,
            }, "PEN(c:#A0A0A0,w:1px);BRUSH(fc:#A0A0A000)"));
        }
        return new ExportLayer(ExportKind.Scenes, "Scene footprints", SceneFields, features) { TimeStampField = ObservedField };
    }

    private static readonly VectorField[] ChangeFields =
    [
        new("name", VectorFieldType.String),
        new("change_run_id", VectorFieldType.Integer64),
        new("object_id", VectorFieldType.Integer64),
        new("method", VectorFieldType.String),
        new("kind", VectorFieldType.String),
        new("shadow", VectorFieldType.Integer),
        new("area_m2", VectorFieldType.Real),
        new("perimeter_m", VectorFieldType.Real),
        new("confidence", VectorFieldType.Real),
        new("mean_magnitude", VectorFieldType.Real),
        new("before_scene_id", VectorFieldType.Integer64),
        new("after_scene_id", VectorFieldType.Integer64),
        new(BeforeField, VectorFieldType.DateTime),
        new(AfterField, VectorFieldType.DateTime),
        new("run_folder", VectorFieldType.String),
    ];

    /// <summary>The change objects of every change run whose before and after scenes both lie in the period.</summary>
    public static ExportLayer Changes(Workspace workspace, Site site, ExportPeriod period)
    {
        var scenes = workspace.Catalog.ListScenes(site.Id).ToDictionary(s => s.Id);
        var features = new List<ExportFeature>();
        foreach (var run in workspace.Catalog.ListChangeRuns(site.Id))
        {
            if (!period.Contains(scenes[run.BeforeSceneId].AcquiredUtc) || !period.Contains(scenes[run.AfterSceneId].AcquiredUtc))
            {
                continue;
            }
            var file = Path.Combine(workspace.Resolve(run.Directory), "changes.geojson");
            var before = scenes[run.BeforeSceneId];
            var after = scenes[run.AfterSceneId];
            foreach (var f in GeoJsonText.ReadFeatures(file, "a change run's changes.geojson is missing (check the workspace)"))
            {
                var kind = Text(f, "kind") ?? "altered";
                var area = Number(f, "area_m2");
                features.Add(new ExportFeature(f.Geometry, new Dictionary<string, object?>
                {
                    ["name"] = string.Create(CultureInfo.InvariantCulture, $"{kind} {area:N0} m²"),
                    ["change_run_id"] = run.Id,
                    ["object_id"] = (long?)Number(f, "id"),
                    ["method"] = run.Method,
                    ["kind"] = kind,
                    ["shadow"] = f.Attributes?.Exists("shadow") == true && f.Attributes["shadow"] is true ? 1 : 0,
                    ["area_m2"] = area,
                    ["perimeter_m"] = Number(f, "perimeter_m"),
                    ["confidence"] = Number(f, "confidence"),
                    ["mean_magnitude"] = Number(f, "mean_magnitude"),
                    ["before_scene_id"] = before.Id,
                    ["after_scene_id"] = after.Id,
                    [BeforeField] = before.AcquiredUtc,
                    [AfterField] = after.AcquiredUtc,
                    ["run_folder"] = run.Directory,
                }, Style(kind)));
            }
        }
        return new ExportLayer(ExportKind.Changes, "Change objects", ChangeFields, features) { BeginField = BeforeField, EndField = AfterField };
    }

    private static readonly VectorField[] DetectionFields =
    [
        new("name", VectorFieldType.String),
        new("detection_run_id", VectorFieldType.Integer64),
        new("scene_id", VectorFieldType.Integer64),
        new("model", VectorFieldType.String),
        new("class", VectorFieldType.String),
        new("score", VectorFieldType.Real),
        new("area_m2", VectorFieldType.Real),
        new("orientation_deg", VectorFieldType.Real),
        new(ObservedField, VectorFieldType.DateTime),
    ];

    /// <summary>Detections of the model and parameters the activity timeline counts (the latest used), so exported objects match the counts.</summary>
    public static ExportLayer Detections(Workspace workspace, Site site, ExportPeriod period)
    {
        var timeline = ActivityTimeline.Build(workspace.Catalog, site, new ActivityOptions());
        var features = new List<ExportFeature>();
        foreach (var date in timeline.Dates)
        {
            if (date.Detections is not { } run || !period.Contains(date.Scene.AcquiredUtc))
            {
                continue;
            }
            foreach (var f in GeoJsonText.ReadFeatures(workspace.Resolve(run.DetectionsFile), "a detection run's file is missing (check the workspace)"))
            {
                var cls = Text(f, "class") ?? Text(f, "class_name") ?? "object";
                var score = Number(f, "score");
                features.Add(new ExportFeature(f.Geometry, new Dictionary<string, object?>
                {
                    ["name"] = score is { } s ? string.Create(CultureInfo.InvariantCulture, $"{cls} {s:0.00}") : cls,
                    ["detection_run_id"] = run.Id,
                    ["scene_id"] = date.Scene.Id,
                    ["model"] = run.ModelName,
                    ["class"] = cls,
                    ["score"] = score,
                    ["area_m2"] = Number(f, "area_m2"),
                    ["orientation_deg"] = Number(f, "orientation_deg"),
                    [ObservedField] = date.Scene.AcquiredUtc,
                }, "PEN(c:#FFE030,w:2px);BRUSH(fc:#FFE03040)"));
            }
        }
        return new ExportLayer(ExportKind.Detections, "Detected objects", DetectionFields, features) { TimeStampField = ObservedField };
    }

    private static readonly VectorField[] AlertFields =
    [
        new("name", VectorFieldType.String),
        new("alert_id", VectorFieldType.Integer64),
        new("source", VectorFieldType.String),
        new("rule", VectorFieldType.String),
        new("kind", VectorFieldType.String),
        new("severity", VectorFieldType.String),
        new("message", VectorFieldType.String),
        new(ObservedField, VectorFieldType.DateTime),
        new("raised_utc", VectorFieldType.DateTime),
        new("acknowledged", VectorFieldType.Integer),
        new("place", VectorFieldType.String),
        new("chip", VectorFieldType.String),
        new("evidence", VectorFieldType.String),
    ];

    /// <summary>Every alert of the site; one without a place of its own (a count over the whole site) is placed on the site's AOI and says so.</summary>
    public static ExportLayer Alerts(Workspace workspace, Site site, ExportPeriod period)
    {
        var features = new List<ExportFeature>();
        foreach (var a in workspace.Catalog.ListAlerts(site.Id).Where(a => period.Contains(a.ObservedUtc)))
        {
            var own = a.GeometryGeoJson is { } json ? AoiParse(json) : null;
            string? chip = null;
            try
            {
                using var evidence = JsonDocument.Parse(a.Evidence);
                if (evidence.RootElement.ValueKind == JsonValueKind.Object &&
                    (evidence.RootElement.TryGetProperty("chip", out var c) || evidence.RootElement.TryGetProperty("snapshot", out c)) && c.ValueKind == JsonValueKind.String)
                {
                    chip = c.GetString();
                }
            }
            catch (JsonException)
            {
            }
            features.Add(new ExportFeature(own ?? site.Aoi, new Dictionary<string, object?>
            {
                ["name"] = a.RuleName,
                ["alert_id"] = a.Id,
                ["source"] = a.Source,
                ["rule"] = a.RuleName,
                ["kind"] = a.Kind,
                ["severity"] = a.Severity,
                ["message"] = a.Message,
                [ObservedField] = a.ObservedUtc,
                ["raised_utc"] = a.RaisedUtc,
                ["acknowledged"] = a.Acknowledged ? 1 : 0,
                ["place"] = own is null ? "site AOI" : "evidence",
                ["chip"] = chip,
                ["evidence"] = a.Evidence,
            }, a.Severity == "critical" ? "PEN(c:#FF2020,w:3px);BRUSH(fc:#FF202050)" : "PEN(c:#FF9020,w:3px);BRUSH(fc:#FF902040)"));
        }
        return new ExportLayer(ExportKind.Alerts, "Alerts", AlertFields, features) { TimeStampField = ObservedField };
    }

    private static readonly VectorField[] ZoneFields =
    [
        new("name", VectorFieldType.String),
        new("rule", VectorFieldType.String),
        new("kind", VectorFieldType.String),
        new("class", VectorFieldType.String),
        new("min_area_m2", VectorFieldType.Real),
        new("severity", VectorFieldType.String),
    ];

    /// <summary>The zones of the site's stored alert rules (rules without a zone have no place to export).</summary>
    public static ExportLayer Zones(Workspace workspace, Site site)
    {
        var features = new List<ExportFeature>();
        if (workspace.Catalog.TryGetAlertRules(site.Id) is { } stored)
        {
            foreach (var rule in AlertRuleSet.Parse(stored.Json, $"{stored.SourcePath} (stored rules of site {site.Name})").Rules)
            {
                if (rule.Zone is { } zone)
                {
                    features.Add(new ExportFeature(zone, new Dictionary<string, object?>
                    {
                        ["name"] = rule.Name,
                        ["rule"] = rule.Name,
                        ["kind"] = rule.Kind,
                        ["class"] = rule.Class,
                        ["min_area_m2"] = rule.MinAreaSquareMetres,
                        ["severity"] = rule.Severity,
                    }, "PEN(c:#FFFFFF,w:2px);BRUSH(fc:#FFFFFF20)"));
                }
            }
        }
        return new ExportLayer(ExportKind.Zones, "Watch zones", ZoneFields, features);
    }

    /// <summary>An alert's place: any GeoJSON geometry (video alerts are points); unreadable is treated as none.</summary>
    private static Geometry? AoiParse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<Geometry>(json, AoiReader.GeoJsonOptions) is { IsEmpty: false } g ? g : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Style(string kind) => kind switch
    {
        "appeared" => "PEN(c:#FF4030,w:2px);BRUSH(fc:#FF403060)",
        "removed" => "PEN(c:#28C8FF,w:2px);BRUSH(fc:#28C8FF60)",
        _ => "PEN(c:#FFD228,w:2px);BRUSH(fc:#FFD22860)",
    };

    private static string? Text(IFeature f, string name) =>
        f.Attributes?.Exists(name) == true ? Convert.ToString(f.Attributes[name], CultureInfo.InvariantCulture) : null;

    private static double? Number(IFeature f, string name) =>
        f.Attributes?.Exists(name) == true && f.Attributes[name] is { } v and not string and not bool ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : null;
}
