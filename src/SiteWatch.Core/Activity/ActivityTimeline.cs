using System.Globalization;
using System.Text.Json;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Core.Activity;

public sealed record ActivityOptions
{
    /// <summary>How many previous dates make the baseline of each date.</summary>
    public int Baseline { get; init; } = 3;
    /// <summary>Use the detections of this model (SHA-256 of the file); null: the model of the site's latest detection run.</summary>
    public string? ModelSha256 { get; init; }
    /// <summary>Floor of a count series' baseline spread, in objects.</summary>
    public double CountStdFloor { get; init; } = 1;
    /// <summary>Floor of an area series' baseline spread, in square metres.</summary>
    public double AreaStdFloorSquareMetres { get; init; } = 100;
}

/// <summary>What was measured at a site on one date.</summary>
public sealed record ActivityDate
{
    public required Scene Scene { get; init; }
    public DateOnly Date => DateOnly.FromDateTime(Scene.AcquiredUtc);
    /// <summary>Objects per class on this date; null when the scene has no detections with the chosen model.</summary>
    public IReadOnlyDictionary<string, int>? Counts { get; init; }
    public DetectionRunRecord? Detections { get; init; }
    /// <summary>The change run from the previous date to this one (null on the first date or when none was run).</summary>
    public ChangeRunRecord? Change { get; init; }
    /// <summary>Changed area since the previous date, m².</summary>
    public double? ChangeAreaSquareMetres { get; init; }
    /// <summary>Area of change objects that appeared since the previous date (new footprints, shadows left out), m².</summary>
    public double? AppearedAreaSquareMetres { get; init; }
    /// <summary>Mean z-score of this date's series against their trailing baselines.</summary>
    public double? Index { get; init; }
    /// <summary>Each series' z-score on this date, where it has one.</summary>
    public required IReadOnlyDictionary<string, double> ZScores { get; init; }
}

/// <summary>A site's activity over time: object counts per class, change areas and the activity index per date.</summary>
public sealed record ActivityTimeline(Site Site, IReadOnlyList<string> Classes, IReadOnlyList<ActivityDate> Dates, int Baseline,
    string? ModelName, string? ModelSha256, IReadOnlyList<ActivitySeries> Series, IReadOnlyList<string> Notes)
{
    public const string ChangeSeries = "change_area_m2";
    public const string AppearedSeries = "appeared_area_m2";

    /// <summary>
    /// Builds the timeline from what the catalog holds: detection runs of the chosen model and the change runs of
    /// consecutive scene pairs (the latest run of each pair). Nothing is computed here; missing runs are named in the notes.
    /// </summary>
    public static ActivityTimeline Build(SiteCatalog catalog, Site site, ActivityOptions options)
    {
        if (options.Baseline < 1)
        {
            throw new SiteWatchException($"the baseline must be at least one date (got {options.Baseline})");
        }
        var scenes = catalog.ListScenes(site.Id);
        var notes = new List<string>();
        var runs = catalog.ListDetectionRuns(site.Id);
        var chosen = options.ModelSha256 is { } sha ? runs.Where(r => r.ModelSha256 == sha).ToList() : runs.ToList();
        if (options.ModelSha256 is not null && chosen.Count == 0)
        {
            throw new SiteWatchException($"site {site.Name} has no detections with that model; run detection with it first") { Next = new NextStep(NextStepKind.DetectObjects, site.Name) };
        }
        // One model and parameter set: the one used most recently.
        var key = chosen.LastOrDefault()?.ParametersSha256;
        var detections = chosen.Where(r => r.ParametersSha256 == key).ToDictionary(r => r.SceneId);
        if (key is null)
        {
            notes.Add($"no object detections yet: run object detection on site {site.Name}");
        }
        else if (scenes.Count(s => !detections.ContainsKey(s.Id)) is var missing and > 0)
        {
            notes.Add($"{missing} scene(s) have no detections with model {detections.Values.First().ModelName}: run object detection on site {site.Name} again");
        }
        var classes = detections.Values.SelectMany(r => r.Counts.Keys).Distinct().Order(StringComparer.Ordinal).ToList();

        var changeRuns = catalog.ListChangeRuns(site.Id);
        var missingPairs = 0;
        var dates = new List<ActivityDate>();
        for (var i = 0; i < scenes.Count; i++)
        {
            var scene = scenes[i];
            ChangeRunRecord? change = null;
            if (i > 0)
            {
                change = changeRuns.LastOrDefault(r => r.BeforeSceneId == scenes[i - 1].Id && r.AfterSceneId == scene.Id);
                missingPairs += change is null ? 1 : 0;
            }
            var (changed, appeared) = change is null ? (null, null) : ChangeAreas(change);
            detections.TryGetValue(scene.Id, out var det);
            dates.Add(new ActivityDate
            {
                Scene = scene,
                Detections = det,
                Counts = det is null ? null : classes.ToDictionary(c => c, c => det.Counts.GetValueOrDefault(c)),
                Change = change,
                ChangeAreaSquareMetres = changed,
                AppearedAreaSquareMetres = appeared,
                ZScores = new Dictionary<string, double>(),
            });
        }
        if (missingPairs > 0)
        {
            notes.Add($"{missingPairs} consecutive scene pair(s) have no change run: run change detection on the series of site {site.Name}");
        }

        var series = classes.Select(c => new ActivitySeries(c, dates.Select(d => d.Counts is { } counts ? (double?)counts[c] : null).ToArray(), options.CountStdFloor))
            .Append(new ActivitySeries(ChangeSeries, dates.Select(d => d.ChangeAreaSquareMetres).ToArray(), options.AreaStdFloorSquareMetres))
            .Append(new ActivitySeries(AppearedSeries, dates.Select(d => d.AppearedAreaSquareMetres).ToArray(), options.AreaStdFloorSquareMetres))
            .ToList();
        var z = ActivityIndex.ZScores(series, options.Baseline);
        var index = ActivityIndex.Compute(series, options.Baseline);
        for (var i = 0; i < dates.Count; i++)
        {
            var scores = new Dictionary<string, double>();
            for (var s = 0; s < series.Count; s++)
            {
                if (z[s][i] is { } value)
                {
                    scores[series[s].Name] = value;
                }
            }
            dates[i] = dates[i] with { Index = index[i], ZScores = scores };
        }
        var model = detections.Values.FirstOrDefault();
        return new ActivityTimeline(site, classes, dates, options.Baseline, model?.ModelName, model?.ModelSha256, series, notes);
    }

    /// <summary>Changed area without vegetation (growth and seasons are not activity) and appeared (non-shadow) area from a change run's summary.</summary>
    internal static (double? Changed, double? Appeared) ChangeAreas(ChangeRunRecord run)
    {
        using var summary = JsonDocument.Parse(run.Summary);
        var root = summary.RootElement;
        double? changed = root.TryGetProperty("changed_area_m2", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetDouble() : null;
        if (changed is { } all && root.TryGetProperty("vegetation", out var v) && v.ValueKind == JsonValueKind.Object)
        {
            changed = Math.Max(0, all - v.GetProperty("area_m2").GetDouble());
        }
        double? appeared = null;
        if (root.TryGetProperty("appeared", out var a) && a.ValueKind == JsonValueKind.Object)
        {
            appeared = a.TryGetProperty("without_shadows_m2", out var w) ? w.GetDouble() : a.GetProperty("area_m2").GetDouble();
        }
        return (changed, appeared);
    }

    public static string Label(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
