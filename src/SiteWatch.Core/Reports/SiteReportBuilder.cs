using System.Globalization;
using System.Reflection;
using System.Text.Json;
using NetTopologySuite.Features;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Activity;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Core.Geo;
using SiteWatch.Gdal;
using SkiaSharp;

namespace SiteWatch.Core.Reports;

/// <summary>
/// Gathers a site report from what the catalog holds: the period's scenes, the change runs between them (their change
/// objects as findings), the detection counts and activity index, the alerts, the analyst's notes and the provenance of
/// every number. Nothing is re-analysed here; what is missing is named in the caveats.
/// </summary>
public static class SiteReportBuilder
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private const int ChipSize = 300, OverviewSize = 900;

    private static readonly SKColor[] Palette =
    [
        new(31, 119, 180), new(255, 127, 14), new(44, 160, 44), new(214, 39, 40), new(148, 103, 189), new(140, 86, 75), new(227, 119, 194), new(127, 127, 127),
    ];

    private sealed record ChangeCandidate(ReportRun Run, IFeature Feature, string Kind, double Area, double Lat, double Lon, double Confidence, int Id);

    public static SiteReport Build(Workspace workspace, string siteName, ReportOptions options, ReportFonts fonts, DateTime nowUtc)
    {
        var catalog = workspace.Catalog;
        var site = catalog.GetSite(siteName);
        var all = catalog.ListScenes(site.Id);
        if (all.Count == 0)
        {
            throw new SiteWatchException($"site {site.Name} has no scenes, so there is nothing to report; add imagery first") { Next = new NextStep(NextStepKind.AddScenes, site.Name) };
        }
        if (options.From is { } f0 && options.To is { } t0 && f0 > t0)
        {
            throw SiteWatchException.About("from", $"{MeasuredStatements.Day(f0)} is after the period's end ({MeasuredStatements.Day(t0)}); the period is empty");
        }
        if (options.MaxFindings < 0)
        {
            throw new SiteWatchException($"the number of findings must not be negative (got {options.MaxFindings})");
        }
        var from = options.From ?? Day(all[0]);
        var to = options.To ?? Day(all[^1]);
        var scenes = all.Where(s => Day(s) >= from && Day(s) <= to).ToList();
        if (scenes.Count == 0)
        {
            throw new SiteWatchException($"site {site.Name} has no scenes between {MeasuredStatements.Day(from)} and {MeasuredStatements.Day(to)}; its scenes: "
                + string.Join(", ", all.Select(s => MeasuredStatements.Day(Day(s)))));
        }
        var caveats = new List<string>();
        var byId = scenes.ToDictionary(s => s.Id);
        var gsd = site.Gsd ?? StoredGsd(workspace, scenes[^1]);

        // The latest run of each pair of the period's scenes; consecutive pairs when there are any (a span run would count the same change twice).
        var pairRuns = catalog.ListChangeRuns(site.Id)
            .Where(r => byId.ContainsKey(r.BeforeSceneId) && byId.ContainsKey(r.AfterSceneId))
            .GroupBy(r => (r.BeforeSceneId, r.AfterSceneId)).Select(g => g.Last())
            .OrderBy(r => byId[r.AfterSceneId].AcquiredUtc).ThenBy(r => byId[r.BeforeSceneId].AcquiredUtc).ToList();
        var consecutive = pairRuns.Where(r => IsConsecutive(scenes, r)).ToList();
        var used = (consecutive.Count > 0 ? consecutive : pairRuns).Select(r => new ReportRun(r, byId[r.BeforeSceneId], byId[r.AfterSceneId])).ToList();
        if (pairRuns.Count == 0 && scenes.Count > 1)
        {
            caveats.Add($"no change run compares the period's scenes: run change detection on the series of site {site.Name} for the findings");
        }
        else if (consecutive.Count > 0 && consecutive.Count < scenes.Count - 1)
        {
            caveats.Add($"{scenes.Count - 1 - consecutive.Count} of {scenes.Count - 1} consecutive scene pairs have no change run; their changes are not in the findings");
        }
        if (scenes.Count == 1)
        {
            caveats.Add("the period holds one scene: nothing to compare it with");
        }

        var reportScenes = scenes.Select(s => SceneRow(s, consecutive.LastOrDefault(r => r.AfterSceneId == s.Id), gsd)).Select((row, i) =>
            row.RmseMetres is null && row.RegistrationNote is null ? row with { RegistrationNote = i == 0 ? "first scene (reference)" : "no change run from the previous scene" } : row).ToList();

        // Findings: the largest structural change objects (vegetation and cast shadows are not structures).
        var candidates = new List<ChangeCandidate>();
        foreach (var run in used)
        {
            var path = Path.Combine(workspace.Resolve(run.Run.Directory), "changes.geojson");
            foreach (var feature in GeoJsonText.ReadFeatures(path, $"missing from the workspace although change run {run.Run.Id} records it; run change detection on that pair of site {site.Name} again, forced"))
            {
                var kind = Text(feature, "kind") ?? ChangeKind.Altered;
                candidates.Add(new ChangeCandidate(run, feature, kind, Number(feature, "area_m2"), Number(feature, "centroid_lat"), Number(feature, "centroid_lon"),
                    Number(feature, "confidence"), (int)Number(feature, "id")));
            }
        }
        // Only what touches the AOI: the stored grid is the AOI's bounding box, and its corners are not the site.
        var significant = candidates.Where(c => c.Kind != ChangeKind.Vegetation && !Flag(c.Feature, "shadow") && c.Area >= options.MinFindingSquareMetres
                && c.Feature.Geometry.Intersects(site.Aoi))
            .OrderByDescending(c => c.Area).ThenBy(c => c.Run.Run.Id).ThenBy(c => c.Id).ToList();
        if (significant.Count > options.MaxFindings)
        {
            caveats.Add(string.Create(Inv, $"{significant.Count} structural change objects of at least {options.MinFindingSquareMetres:N0} m² touch the AOI; the {options.MaxFindings} largest are shown"));
        }
        var references = catalog.ListNotes(site.Id).Where(n => n.Outline is not null)
            .Select(n => (Note: n, Map: GeometryProjection.Transform(n.Outline!, 4326, site.CrsEpsg))).ToList();
        var findings = new List<ReportFinding>();
        var placesMap = new List<(int Number, Geometry Map)>();
        foreach (var c in significant.Take(options.MaxFindings))
        {
            var number = findings.Count + 1;
            var map = GeometryProjection.Transform(c.Feature.Geometry, 4326, site.CrsEpsg);
            placesMap.Add((number, map));
            findings.Add(Finding(workspace, site, c, number, map, references, gsd, fonts));
        }

        // Activity: the whole series (so the index keeps its baseline), shown for the period.
        var timeline = ActivityTimeline.Build(catalog, site, new ActivityOptions());
        var activity = timeline.Dates.Where(d => byId.ContainsKey(d.Scene.Id)).ToList();
        caveats.AddRange(timeline.Notes);
        var countStatements = new List<string>();
        var counted = activity.Where(d => d.Counts is not null).ToList();
        if (counted.Count >= 2)
        {
            foreach (var c in timeline.Classes)
            {
                countStatements.Add(MeasuredStatements.CountChange(c, counted[0].Counts![c], counted[0].Date, counted[^1].Counts![c], counted[^1].Date));
            }
        }
        var charts = Charts(timeline, activity, fonts);

        var alerts = catalog.ListAlerts(site.Id)
            .Where(a => DateOnly.FromDateTime(a.ObservedUtc) >= from && DateOnly.FromDateTime(a.ObservedUtc) <= to)
            .OrderBy(a => a.ObservedUtc).ThenBy(a => a.Id)
            .Select(a => new ReportAlert(a, Evidence(a.Evidence), AlertChipImage(workspace, a, caveats))).ToList();

        var notes = catalog.ListNotes(site.Id).Where(n => n.Date >= from && n.Date <= to).ToList();
        var entries = new List<(TimelineEntry Entry, int Order)>();
        entries.AddRange(scenes.Select(s => (new TimelineEntry(Day(s), "imagery",
            $"{s.Sensor} scene {s.Id} acquired {s.AcquiredUtc:yyyy-MM-dd HH:mm} UTC" + (s.CloudCoverPercent is { } cc ? string.Create(Inv, $", {cc:0.#} % cloud") : ""),
            $"scene {s.Id}", null), 0)));
        entries.AddRange(findings.Select(x => (new TimelineEntry(x.After, "change", $"#{x.Number}: {x.Statement}", x.Evidence.Split(';')[0], null), 1)));
        entries.AddRange(alerts.Select(a => (new TimelineEntry(DateOnly.FromDateTime(a.Alert.ObservedUtc), "alert",
            $"[{a.Alert.Severity}] {a.Alert.RuleName}: {a.Alert.Message}", $"alert {a.Alert.Id}", null), 2)));
        entries.AddRange(notes.Select(n => (new TimelineEntry(n.Date, "note", n.Text, n.Source, n.Url), 3)));

        var models = catalog.ListDetectionRuns(site.Id).Where(r => byId.ContainsKey(r.SceneId))
            .GroupBy(r => (r.ModelSha256, r.Parameters))
            .Select(g => new ReportModel(g.Last().ModelName, g.Key.ModelSha256, g.Key.Parameters, g.Select(r => r.SceneId).Distinct().Count())).ToList();

        var latest = scenes[^1];
        var aoiMap = GeometryProjection.Transform(site.Aoi, 4326, site.CrsEpsg);
        var window = new Envelope(aoiMap.EnvelopeInternal);
        window.ExpandBy(Math.Max(10 * gsd, 0.05 * Math.Max(window.Width, window.Height)));
        var overlays = new List<MapOverlay> { new(aoiMap, ReportImages.Aoi, Dashed: true, Width: 2) };
        overlays.AddRange(Enumerable.Reverse(placesMap).Select(p => new MapOverlay(p.Map, ReportImages.Subject, $"{p.Number}", Width: 2, LabelSize: 20)));
        var overview = ReportImages.Panels(
            [new MapPanel(workspace.Resolve(latest.File), latest, $"{site.Name}: {MeasuredStatements.Day(Day(latest))}, AOI dashed, findings numbered", overlays)],
            window, site.CrsEpsg, OverviewSize, fonts)[0];

        var (version, commit) = Version();
        return new SiteReport
        {
            Site = site,
            From = from,
            To = to,
            GeneratedUtc = nowUtc,
            SoftwareVersion = version,
            Commit = commit,
            GdalVersion = GdalEnvironment.Version,
            Options = options,
            Overview = overview,
            AoiSquareMetres = Measurements.AreaSquareMetres(site.Aoi),
            Scenes = reportScenes,
            Findings = findings,
            ChangeObjects = candidates.Count,
            CountStatements = countStatements,
            Activity = activity,
            ActivityTimeline = timeline,
            Charts = charts,
            Alerts = alerts,
            Timeline = entries.OrderBy(e => e.Entry.Date).ThenBy(e => e.Order).Select(e => e.Entry).ToList(),
            Runs = used,
            Models = models,
            Rules = catalog.TryGetAlertRules(site.Id),
            Caveats = caveats,
        };
    }

    /// <summary>The software's version and the git commit it was built from (SourceLink appends it to the informational version).</summary>
    public static (string Version, string? Commit) Version()
    {
        var informational = typeof(SiteReport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? (informational, null) : (informational[..plus], informational[(plus + 1)..]);
    }

    private static ReportFinding Finding(Workspace workspace, Site site, ChangeCandidate c, int number, Geometry map,
        IReadOnlyList<(SiteNote Note, Geometry Map)> references, double gsd, ReportFonts fonts)
    {
        var before = Day(c.Run.Before);
        var after = Day(c.Run.After);
        string statement, title;
        switch (c.Kind)
        {
            case ChangeKind.Appeared:
                // Measured against the analyst's nearest outlined structure (a note with an outline), when there is one.
                var reference = references.Where(r => r.Map.Area > 0).OrderBy(r => r.Map.Distance(map)).FirstOrDefault();
                statement = reference.Note is null
                    ? MeasuredStatements.NewStructure(c.Area, c.Lat, c.Lon, before, after)
                    : MeasuredStatements.NewStructure(c.Area, c.Lat, c.Lon, before, after, Measurements.AreaSquareMetres(reference.Note.Outline!), Short(reference.Note.Text));
                title = "New structure";
                break;
            case ChangeKind.Removed:
                statement = MeasuredStatements.Removed("structure", before, after, c.Area, c.Lat, c.Lon);
                title = "Structure removed";
                break;
            default:
                statement = string.Create(Inv, $"surface altered between {MeasuredStatements.Day(before)} and {MeasuredStatements.Day(after)}: {c.Area:N0} m² at {MeasuredStatements.LatLon(c.Lat, c.Lon)}");
                title = "Surface altered";
                break;
        }
        var window = ReportImages.WindowAround(map.EnvelopeInternal, 30 * gsd);
        var label = $"#{number}";
        var chips = ReportImages.Panels(
        [
            new MapPanel(workspace.Resolve(c.Run.Before.File), c.Run.Before, $"Before: {MeasuredStatements.Day(before)}", [new MapOverlay(map, ReportImages.Subject, label, Dashed: true)]),
            new MapPanel(workspace.Resolve(c.Run.After.File), c.Run.After, $"After: {MeasuredStatements.Day(after)}", [new MapOverlay(map, ReportImages.Subject, label)]),
        ], window, site.CrsEpsg, ChipSize, fonts);
        return new ReportFinding
        {
            Number = number,
            Kind = c.Kind,
            Title = string.Create(Inv, $"#{number} {title}, {c.Area:N0} m²"),
            Statement = statement,
            Before = before,
            After = after,
            AreaSquareMetres = c.Area,
            Confidence = c.Confidence,
            Lat = c.Lat,
            Lon = c.Lon,
            Evidence = string.Create(Inv, $"change run {c.Run.Run.Id} ({c.Run.Run.Method}), object {c.Id}, confidence {c.Confidence:0.00}; {c.Run.Run.Directory}/changes.geojson"),
            Legend = "red outline: the change object (dashed on the earlier date)",
            Chips = chips,
        };
    }

    private static ReportScene SceneRow(Scene scene, ChangeRunRecord? run, double gsd)
    {
        if (run is null)
        {
            return new ReportScene(scene, gsd, null, null, null, null);
        }
        using var summary = JsonDocument.Parse(run.Summary);
        if (!summary.RootElement.TryGetProperty("registration", out var reg) || reg.ValueKind != JsonValueKind.Object)
        {
            return new ReportScene(scene, gsd, null, null, null, "not co-registered");
        }
        static double? Num(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        bool? reliable = reg.TryGetProperty("reliable", out var r) && r.ValueKind is JsonValueKind.True or JsonValueKind.False ? r.GetBoolean() : null;
        var warning = reg.TryGetProperty("warning", out var w) && w.ValueKind == JsonValueKind.String ? w.GetString() : null;
        return new ReportScene(scene, gsd, Num(reg, "rmse_m"), Num(reg, "rmse_px"), reliable, warning ?? (reliable == false ? "not applied: unreliable" : null));
    }

    private static IReadOnlyList<ReportChart> Charts(ActivityTimeline timeline, IReadOnlyList<ActivityDate> activity, ReportFonts fonts)
    {
        var charts = new List<ReportChart>();
        var dates = activity.Select(d => d.Date).ToList();
        if (dates.Count == 0)
        {
            return charts;
        }
        if (timeline.Classes.Count > 0)
        {
            charts.Add(new ReportChart($"Objects per class ({timeline.ModelName})", "objects", dates,
                timeline.Classes.Select((c, i) => new ChartSeries(c, activity.Select(d => d.Counts is { } k ? (double?)k[c] : null).ToList(), Palette[i % Palette.Length])).ToList(), false));
        }
        charts.Add(new ReportChart("Change since the previous date", "m²", dates,
        [
            new ChartSeries("changed (without vegetation)", activity.Select(d => d.ChangeAreaSquareMetres).ToList(), new SKColor(230, 160, 20)),
            new ChartSeries("appeared (without shadows)", activity.Select(d => d.AppearedAreaSquareMetres).ToList(), new SKColor(220, 50, 40)),
        ], false));
        charts.Add(new ReportChart($"Activity index (mean z-score against the previous {timeline.Baseline} dates)", "z", dates,
            [new ChartSeries("activity index", activity.Select(d => d.Index).ToList(), new SKColor(20, 20, 20))], true));
        return charts.Select(c => c with { Png = ReportCharts.Png(c, fonts) }).ToList();
    }

    /// <summary>The alert's evidence JSON as name/value lines (nested objects in one line each, long lists cut).</summary>
    internal static IReadOnlyList<(string Name, string Value)> Evidence(string json)
    {
        var lines = new List<(string, string)>();
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return [("evidence", json)];
            }
            foreach (var p in document.RootElement.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.Array)
                {
                    var items = p.Value.EnumerateArray().ToList();
                    var shown = items.Take(5).Select(Flat).ToList();
                    if (items.Count > 5)
                    {
                        shown.Add(string.Create(Inv, $"... {items.Count - 5} more"));
                    }
                    lines.Add((p.Name, string.Join("; ", shown)));
                }
                else
                {
                    lines.Add((p.Name, Flat(p.Value)));
                }
            }
        }
        catch (JsonException)
        {
            lines.Add(("evidence", json));
        }
        return lines;
    }

    private static string Flat(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => string.Join(", ", e.EnumerateObject().Select(p => $"{p.Name} {Flat(p.Value)}")),
        JsonValueKind.Array => "[" + string.Join(", ", e.EnumerateArray().Select(Flat)) + "]",
        JsonValueKind.String => e.GetString() ?? "",
        _ => e.GetRawText(),
    };

    private static ReportImage? AlertChipImage(Workspace workspace, AlertRecord alert, List<string> caveats)
    {
        string? chip;
        try
        {
            using var document = JsonDocument.Parse(alert.Evidence);
            chip = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("chip", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
        if (chip is null)
        {
            return null;
        }
        var path = workspace.Resolve(chip);
        if (!File.Exists(path))
        {
            caveats.Add($"alert {alert.Id}: its chip {chip} is missing from the workspace");
            return null;
        }
        var bytes = File.ReadAllBytes(path);
        using var codec = SKCodec.Create(new SKMemoryStream(bytes));
        if (codec is null)
        {
            caveats.Add($"alert {alert.Id}: its chip {chip} is not a readable image");
            return null;
        }
        return new ReportImage(bytes, codec.Info.Width, codec.Info.Height, $"alert {alert.Id} evidence: before | after");
    }

    private static bool IsConsecutive(IReadOnlyList<Scene> scenes, ChangeRunRecord run)
    {
        for (var i = 1; i < scenes.Count; i++)
        {
            if (scenes[i - 1].Id == run.BeforeSceneId && scenes[i].Id == run.AfterSceneId)
            {
                return true;
            }
        }
        return false;
    }

    private static double StoredGsd(Workspace workspace, Scene scene)
    {
        using var raster = RasterDataset.Open(workspace.Resolve(scene.File));
        return Math.Abs(raster.GeoTransform?.PixelWidth ?? 1);
    }

    private static string Short(string text)
    {
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length <= 60 ? line : line[..59] + "…";
    }

    private static DateOnly Day(Scene s) => DateOnly.FromDateTime(s.AcquiredUtc);

    private static string? Text(IFeature f, string name) => f.Attributes?.Exists(name) == true ? f.Attributes[name]?.ToString() : null;

    private static bool Flag(IFeature f, string name) => f.Attributes?.Exists(name) == true && f.Attributes[name] is true;

    private static double Number(IFeature f, string name) =>
        f.Attributes?.Exists(name) == true && f.Attributes[name] is { } v ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : 0;
}
