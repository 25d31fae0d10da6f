using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NetTopologySuite.Features;
using NetTopologySuite.Geometries;
using NetTopologySuite.Operation.Union;
using SiteWatch.Core.Activity;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Core.Geo;
using SiteWatch.Core.Ingest;

namespace SiteWatch.Core.Alerts;

/// <summary>What one <c>alerts check</c> did.</summary>
public sealed record AlertCheckResult(IReadOnlyList<AlertRecord> Raised, int AlreadyStored, ActivityTimeline Timeline, DeliveryRoundResult Delivery);

/// <summary>
/// Alert rules over a site's dates: evaluated on the activity timeline (detection counts, change runs), each finding
/// stored once (rule + observation) with its evidence, chip and outbox deliveries, then delivered.
/// </summary>
public static class AlertWorkflow
{
    /// <summary>Validates a rules file and stores it for the site, as written.</summary>
    public static AlertRuleSet StoreRules(Workspace workspace, string siteName, string rulesFile)
    {
        var full = Path.GetFullPath(rulesFile);
        AlertRuleSet.ReadFile(full);
        return StoreRulesText(workspace, siteName, IO.BoundedFile.ReadText(full, "alert rules file"), full);
    }

    /// <summary>Validates rules given as text (e.g. a request body) and stores them as written; <paramref name="source"/> says where they came from.</summary>
    public static AlertRuleSet StoreRulesText(Workspace workspace, string siteName, string json, string source)
    {
        var rules = AlertRuleSet.Parse(json, source);
        var site = workspace.Catalog.GetSite(siteName);
        workspace.EnsureWritable();
        workspace.Catalog.SaveAlertRules(site.Id, json, source);
        return rules;
    }

    /// <summary>The site's stored rules; a clear error when none were stored.</summary>
    public static AlertRuleSet LoadRules(Workspace workspace, Site site)
    {
        var stored = workspace.Catalog.TryGetAlertRules(site.Id)
            ?? throw new SiteWatchException($"site {site.Name} has no alert rules; store a rules file first") { Next = new NextStep(NextStepKind.StoreAlertRules, site.Name) };
        return AlertRuleSet.Parse(stored.Json, $"alert rules of site {site.Name} (from {stored.SourcePath})");
    }

    public static AlertCheckResult Check(Workspace workspace, string siteName, DateTime nowUtc, WebhookDeliveryOptions? delivery = null,
        IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        var site = workspace.Catalog.GetSite(siteName);
        var rules = LoadRules(workspace, site);
        workspace.EnsureWritable();
        var timeline = ActivityTimeline.Build(workspace.Catalog, site, new ActivityOptions());
        var targets = rules.Webhooks.Select(w => new DeliveryTarget(w.Url, w.MaxAttempts)).ToList();
        var raised = new List<AlertRecord>();
        var existing = 0;
        var context = new Context(workspace, site, timeline);
        for (var i = 0; i < timeline.Dates.Count; i++)
        {
            foreach (var rule in rules.Rules)
            {
                cancel.ThrowIfCancellationRequested();
                if (Evaluate(context, rule, i) is not { } finding)
                {
                    continue;
                }
                var key = $"{rule.Name.ToLowerInvariant()}|{SiteCatalog.Iso(timeline.Dates[i].Scene.AcquiredUtc)}";
                if (workspace.Catalog.AlertExists(site.Id, key))
                {
                    existing++;
                    continue;
                }
                if (Store(context, rule, i, finding, key, targets, nowUtc) is { } stored)
                {
                    raised.Add(stored);
                }
                else
                {
                    existing++; // another process stored it meanwhile: the key decided, nothing doubled
                }
            }
            progress?.Report((i + 1) / (double)timeline.Dates.Count * 0.9);
        }
        var report = WebhookDelivery.DeliverDue(workspace.Catalog, site, rules.Webhooks, nowUtc, delivery, cancel);
        progress?.Report(1);
        return new AlertCheckResult(raised, existing, timeline, report);
    }

    /// <summary>Sends the site's due deliveries with its stored webhooks.</summary>
    public static DeliveryRoundResult Deliver(Workspace workspace, string siteName, DateTime nowUtc, WebhookDeliveryOptions? options = null, CancellationToken cancel = default)
    {
        var site = workspace.Catalog.GetSite(siteName);
        var rules = LoadRules(workspace, site);
        workspace.EnsureWritable();
        return WebhookDelivery.DeliverDue(workspace.Catalog, site, rules.Webhooks, nowUtc, options, cancel);
    }

    private sealed class Context(Workspace workspace, Site site, ActivityTimeline timeline)
    {
        private readonly Dictionary<long, IReadOnlyList<IFeature>> _changes = [];
        private readonly Dictionary<long, IReadOnlyList<IFeature>> _detections = [];

        public Workspace Workspace => workspace;
        public Site Site => site;
        public ActivityTimeline Timeline => timeline;

        public IReadOnlyList<IFeature> ChangeObjects(ChangeRunRecord run) => Cached(_changes, run.Id, Path.Combine(workspace.Resolve(run.Directory), "changes.geojson"));

        public IReadOnlyList<IFeature> Detections(DetectionRunRecord run) => Cached(_detections, run.Id, workspace.Resolve(run.DetectionsFile));

        /// <summary>WGS84 to the site's map CRS (metres), where areas are measured.</summary>
        public Geometry ToMap(Geometry wgs84) => GeometryProjection.Transform(wgs84, 4326, site.CrsEpsg);

        public Geometry ToWgs84(Geometry map) => GeometryProjection.Transform(map, site.CrsEpsg, 4326);

        private static IReadOnlyList<IFeature> Cached(Dictionary<long, IReadOnlyList<IFeature>> cache, long id, string path)
        {
            if (!cache.TryGetValue(id, out var features))
            {
                cache[id] = features = ReadFeatures(path);
            }
            return features;
        }
    }

    /// <summary>A rule's finding on one date: what to say, the numbers behind it, and where (map CRS), if anywhere.</summary>
    private sealed record Finding(string Message, Dictionary<string, object?> Evidence, Geometry? PlaceMap);

    private static Finding? Evaluate(Context context, AlertRule rule, int i) => rule.Kind switch
    {
        RuleKind.CountAboveBaseline => CountAboveBaseline(context, rule, i),
        RuleKind.NewStructure => NewStructure(context, rule, i),
        RuleKind.ObjectRemoved => ObjectRemoved(context, rule, i),
        RuleKind.ChangeAreaInZone => ChangeAreaInZone(context, rule, i),
        _ => null,
    };

    private static Finding? CountAboveBaseline(Context context, AlertRule rule, int i)
    {
        var timeline = context.Timeline;
        var values = timeline.Dates.Select(d => d.Counts is { } c && c.TryGetValue(rule.Class!, out var n) ? (double?)n : null).ToArray();
        if (values[i] is not { } count || count < rule.MinCount
            || ActivityIndex.Baseline(values, i, rule.Baseline, new ActivityOptions().CountStdFloor) is not { } stats)
        {
            return null;
        }
        var threshold = stats.Mean + rule.K * stats.FlooredStd;
        if (count <= threshold)
        {
            return null;
        }
        var date = timeline.Dates[i];
        var previous = timeline.Dates.Take(i).Skip(Math.Max(0, i - rule.Baseline)).Where(d => d.Counts is not null).ToList();
        return new Finding(
            string.Create(CultureInfo.InvariantCulture, $"{rule.Class} count {count:0} on {date.Date:yyyy-MM-dd} is above its baseline {stats.Mean:0.#} ± {stats.FlooredStd:0.#} (threshold {threshold:0.#}, previous {stats.Count} dates)"),
            new Dictionary<string, object?>
            {
                ["scene_id"] = date.Scene.Id,
                ["class"] = rule.Class,
                ["count"] = count,
                ["baseline_mean"] = Math.Round(stats.Mean, 3),
                ["baseline_std"] = Math.Round(stats.Std, 3),
                ["baseline_std_floored"] = Math.Round(stats.FlooredStd, 3),
                ["threshold"] = Math.Round(threshold, 3),
                ["k"] = rule.K,
                ["baseline_dates"] = previous.Select(d => new { date = ActivityTimeline.Label(d.Date), scene_id = d.Scene.Id, count = d.Counts![rule.Class!] }).ToArray(),
                ["model"] = date.Detections?.ModelName,
                ["detections_file"] = date.Detections?.DetectionsFile,
            },
            null);
    }

    private static Finding? NewStructure(Context context, AlertRule rule, int i)
    {
        var date = context.Timeline.Dates[i];
        if (date.Change is not { } run)
        {
            return null;
        }
        var found = context.ChangeObjects(run)
            .Where(f => Text(f, "kind") == ChangeKind.Appeared && !Flag(f, "shadow") && Number(f, "area_m2") >= rule.MinAreaSquareMetres)
            .OrderByDescending(f => Number(f, "area_m2")).ToList();
        if (found.Count == 0)
        {
            return null;
        }
        var largest = found[0];
        var evidence = ChangeEvidence(context, run, found);
        var more = found.Count > 1
            ? string.Create(CultureInfo.InvariantCulture, $" ({found.Count} new structures ≥ {rule.MinAreaSquareMetres:N0} m², {found.Sum(f => Number(f, "area_m2")):N0} m² in all)")
            : "";
        return new Finding(
            Reports.MeasuredStatements.NewStructure(Number(largest, "area_m2"), Number(largest, "centroid_lat"), Number(largest, "centroid_lon"), Before(context, i), date.Date) + more,
            evidence, Union(found.Select(f => context.ToMap(f.Geometry))));
    }

    private static Finding? ObjectRemoved(Context context, AlertRule rule, int i)
    {
        var timeline = context.Timeline;
        var date = timeline.Dates[i];
        if (i == 0)
        {
            return null;
        }
        var prior = timeline.Dates[i - 1];
        Geometry? zoneMap = rule.Zone is null ? null : context.ToMap(rule.Zone);
        var classShapes = rule.Class is not null && prior.Detections is { } det
            ? context.Detections(det).Where(f => DetectionClass(f) == rule.Class).Select(f => context.ToMap(f.Geometry)).ToList()
            : [];
        var removed = date.Change is { } run
            ? context.ChangeObjects(run)
                .Where(f => Text(f, "kind") == ChangeKind.Removed)
                .Select(f => (Feature: f, Map: context.ToMap(f.Geometry)))
                // With a zone, what counts is the removed area inside it: a removal next to the zone is not the object.
                .Where(o => (zoneMap is not null && o.Map.Intersection(zoneMap).Area >= rule.MinAreaSquareMetres && o.Map.Intersects(zoneMap))
                    || (Number(o.Feature, "area_m2") >= rule.MinAreaSquareMetres && classShapes.Any(s => s.Intersects(o.Map))))
                .OrderByDescending(o => Number(o.Feature, "area_m2")).ToList()
            : [];
        int? before = rule.Class is not null && prior.Counts is { } pc && pc.TryGetValue(rule.Class, out var b) ? b : null;
        int? after = rule.Class is not null && date.Counts is { } dc && dc.TryGetValue(rule.Class, out var a) ? a : null;
        var countGone = before > 0 && after == 0;
        if (removed.Count == 0 && !countGone)
        {
            return null;
        }
        var what = rule.Class ?? "object";
        var evidence = date.Change is { } r ? ChangeEvidence(context, r, removed.Select(o => o.Feature).ToList()) : new Dictionary<string, object?> { ["scene_id"] = date.Scene.Id, ["before_scene_id"] = prior.Scene.Id };
        evidence["class"] = rule.Class;
        evidence["count_before"] = before;
        evidence["count_after"] = after;
        string message;
        Geometry? place;
        if (removed.Count > 0)
        {
            var largest = removed[0].Feature;
            message = Reports.MeasuredStatements.Removed(what, prior.Date, date.Date, Number(largest, "area_m2"), Number(largest, "centroid_lat"), Number(largest, "centroid_lon"));
            place = Union(removed.Select(o => o.Map));
        }
        else
        {
            message = string.Create(CultureInfo.InvariantCulture, $"{what} count fell from {before} on {prior.Date:yyyy-MM-dd} to 0 on {date.Date:yyyy-MM-dd}");
            place = classShapes.Count > 0 ? Union(classShapes) : null;
        }
        if (countGone && removed.Count > 0)
        {
            message += string.Create(CultureInfo.InvariantCulture, $"; {what} count {before} -> 0");
        }
        return new Finding(message, evidence, place);
    }

    private static Finding? ChangeAreaInZone(Context context, AlertRule rule, int i)
    {
        var date = context.Timeline.Dates[i];
        if (date.Change is not { } run)
        {
            return null;
        }
        var zone = context.ToMap(rule.Zone!);
        // Growing or greening vegetation is not activity in a yard.
        var inside = context.ChangeObjects(run)
            .Where(f => Text(f, "kind") != ChangeKind.Vegetation)
            .Select(f => (Feature: f, Part: context.ToMap(f.Geometry).Intersection(zone)))
            .Where(o => !o.Part.IsEmpty && o.Part.Area > 0).ToList();
        var area = inside.Sum(o => o.Part.Area);
        if (inside.Count == 0 || area < rule.MinAreaSquareMetres)
        {
            return null;
        }
        var evidence = ChangeEvidence(context, run, inside.Select(o => o.Feature).ToList());
        evidence["area_in_zone_m2"] = Math.Round(area, 1);
        evidence["zone_area_m2"] = Math.Round(zone.Area, 1);
        return new Finding(
            string.Create(CultureInfo.InvariantCulture, $"{area:N0} m² changed in the zone ({area / zone.Area:P1} of it) between {Before(context, i):yyyy-MM-dd} and {date.Date:yyyy-MM-dd}, {inside.Count} change objects"),
            evidence, Union(inside.Select(o => o.Part)));
    }

    private static DateOnly Before(Context context, int i) => context.Timeline.Dates[Math.Max(0, i - 1)].Date;

    private static Dictionary<string, object?> ChangeEvidence(Context context, ChangeRunRecord run, IReadOnlyList<IFeature> objects) => new()
    {
        ["before_scene_id"] = run.BeforeSceneId,
        ["scene_id"] = run.AfterSceneId,
        ["change_run_id"] = run.Id,
        ["change_run"] = run.Directory,
        ["objects"] = objects.Take(20).Select(f => new
        {
            id = (int)Number(f, "id"),
            kind = Text(f, "kind"),
            area_m2 = Number(f, "area_m2"),
            lat = Number(f, "centroid_lat"),
            lon = Number(f, "centroid_lon"),
            confidence = Number(f, "confidence"),
        }).ToArray(),
        ["object_count"] = objects.Count,
    };

    private static AlertRecord? Store(Context context, AlertRule rule, int i, Finding finding, string key, IReadOnlyList<DeliveryTarget> targets, DateTime nowUtc)
    {
        var workspace = context.Workspace;
        var site = context.Site;
        var date = context.Timeline.Dates[i];
        (string Staged, string Final)? chip = null;
        Geometry? wgs84 = finding.PlaceMap is null ? null : context.ToWgs84(finding.PlaceMap);
        if (finding.PlaceMap is { } place && i > 0)
        {
            var before = context.Timeline.Dates[i - 1].Scene;
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..8];
            var relative = Path.Combine(Workspace.SiteFolder("alerts", site), $"{date.Date:yyyyMMdd}_{SceneIngestor.Slug(rule.Name)}_{hash}.png");
            var staged = workspace.NewStagingPath(".png");
            var bands = SpectralBands.Identify(date.Scene.Bands.Select(b => (string?)b.Name).ToArray(), date.Scene.Bands.Select(b => b.WavelengthMicrometres).ToArray());
            AlertChip.Write(staged, workspace.Resolve(before.File), workspace.Resolve(date.Scene.File),
                ActivityTimeline.Label(DateOnly.FromDateTime(before.AcquiredUtc)), ActivityTimeline.Label(date.Date), place, bands);
            chip = (staged, workspace.Resolve(relative));
            finding.Evidence["chip"] = relative;
        }
        var draft = new AlertRecord
        {
            Id = 0,
            SiteId = site.Id,
            Source = AlertSource.Scene,
            RuleName = rule.Name,
            Kind = rule.Kind,
            RaisedUtc = nowUtc,
            ObservedUtc = date.Scene.AcquiredUtc,
            Severity = rule.Severity,
            Message = finding.Message,
            Evidence = JsonSerializer.Serialize(finding.Evidence),
            GeometryGeoJson = wgs84 is null ? null : GeoJsonText.Write(wgs84),
            Key = key,
        };
        try
        {
            return workspace.Catalog.CommitAlert(draft, targets, chip);
        }
        finally
        {
            if (chip is { } c && File.Exists(c.Staged))
            {
                File.Delete(c.Staged);
            }
        }
    }

    private static Geometry Union(IEnumerable<Geometry> parts) => UnaryUnionOp.Union(parts.ToList());

    /// <summary>Features of a GeoJSON file the workspace wrote (change objects, detections).</summary>
    private static IReadOnlyList<IFeature> ReadFeatures(string path) =>
        GeoJsonText.ReadFeatures(path, "missing from the workspace although the catalog records it; run the step that made it again, forced");

    private static string? DetectionClass(IFeature f) => Text(f, "class_name") ?? Text(f, "class");

    private static string? Text(IFeature f, string name) => f.Attributes?.Exists(name) == true ? f.Attributes[name]?.ToString() : null;

    private static bool Flag(IFeature f, string name) => f.Attributes?.Exists(name) == true && f.Attributes[name] is true;

    private static double Number(IFeature f, string name) =>
        f.Attributes?.Exists(name) == true && f.Attributes[name] is { } v ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : 0;
}
