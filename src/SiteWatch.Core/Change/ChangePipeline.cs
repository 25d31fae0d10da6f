using System.Text.Json;
using SiteWatch.Gdal;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Core.Change;

/// <summary>Everything that shapes one change run besides its two inputs.</summary>
public sealed record ChangeRunOptions
{
    public ChangeDetectionOptions Detection { get; init; } = new();
    /// <summary>Change objects smaller than this are dropped; null: 4 pixels.</summary>
    public double? MinAreaSquareMetres { get; init; }
    public string BeforeLabel { get; init; } = "before";
    public string AfterLabel { get; init; } = "after";
    public string Title { get; init; } = "Change";
}

/// <summary>The outputs of one change run.</summary>
public sealed record ChangeRunOutcome(ChangeDetectionResult Detection, IReadOnlyList<ChangeObject> Objects, ChangeRunFiles Files, JsonElement Summary);

public sealed record ChangeRunFiles(string Directory)
{
    public string Magnitude => Path.Combine(Directory, "change_magnitude.tif");
    public string Mask => Path.Combine(Directory, "change_mask.tif");
    public string Objects => Path.Combine(Directory, "changes.geojson");
    public string Quicklook => Path.Combine(Directory, "quicklook.png");
    public string Summary => Path.Combine(Directory, "summary.json");
}

/// <summary>
/// One change run on a co-gridded pair: change magnitude and mask (streamed in blocks), change objects with their
/// measurements and kinds, GeoJSON, a before | after | change picture, and a JSON summary, all in one folder.
/// </summary>
public static class ChangePipeline
{
    public static ChangeRunOutcome Run(RasterPair pair, SpectralBands bands, ChangeRunOptions options, string directory,
        IReadOnlyDictionary<string, object?>? extraSummary = null, IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        Directory.CreateDirectory(directory);
        var files = new ChangeRunFiles(directory);
        var detection = ChangeDetector.Detect(pair, options.Detection, files.Magnitude, files.Mask,
            new ScaledProgress(progress, 0, 0.85), cancel);
        AddOverviews(files.Magnitude, "AVERAGE", cancel);
        AddOverviews(files.Mask, "NEAREST", cancel);
        var objects = ChangeObjectExtractor.Extract(pair, files.Mask, files.Magnitude, detection.Threshold, bands,
            new ChangeObjectOptions { MinAreaSquareMetres = options.MinAreaSquareMetres }, cancel);
        progress?.Report(0.92);

        var gt = pair.Before.GeoTransform!.Value;
        var pixelArea = Math.Abs(gt.PixelWidth * gt.PixelHeight);
        var summary = new Dictionary<string, object?>
        {
            ["before"] = options.BeforeLabel,
            ["after"] = options.AfterLabel,
            ["method"] = detection.Method,
            ["threshold_method"] = detection.ThresholdMethod,
            ["threshold_reason"] = detection.ThresholdReason,
            ["threshold"] = detection.Threshold,
            ["valid_pixels"] = detection.ValidPixels,
            ["changed_pixels"] = detection.ChangedPixels,
            ["changed_fraction"] = Math.Round(detection.ChangedFraction, 6),
            ["changed_area_m2"] = Math.Round(detection.ChangedPixels * pixelArea, 1),
            ["canonical_correlations"] = detection.CanonicalCorrelations.Count > 0 ? detection.CanonicalCorrelations : null,
            ["iterations"] = detection.Iterations > 0 ? detection.Iterations : null,
            ["converged"] = detection.Iterations > 0 ? detection.Converged : null,
            ["magnitude_bands"] = detection.MagnitudeBands,
            ["notes"] = detection.Notes.Count > 0 ? detection.Notes : null,
            ["objects"] = objects.Count,
            ["appeared"] = Tally(objects, ChangeKind.Appeared),
            ["removed"] = Tally(objects, ChangeKind.Removed),
            ["altered"] = Tally(objects, ChangeKind.Altered),
            ["vegetation"] = Tally(objects, ChangeKind.Vegetation),
            ["largest"] = objects.Take(10).Select(o => new { id = o.Id, kind = o.Kind, shadow = o.Shadow, area_m2 = Math.Round(o.AreaSquareMetres, 1), lat = Math.Round(o.CentroidLat, 6), lon = Math.Round(o.CentroidLon, 6), confidence = Math.Round(o.Confidence, 3) }).ToArray(),
        };
        foreach (var (key, value) in extraSummary ?? new Dictionary<string, object?>())
        {
            summary[key] = value;
        }
        ChangeGeoJson.Write(files.Objects, objects, new Dictionary<string, object?> { ["before"] = options.BeforeLabel, ["after"] = options.AfterLabel, ["method"] = detection.Method });
        Quicklook.Write(files.Quicklook, pair, bands, objects, options.BeforeLabel, options.AfterLabel, options.Title);
        // NaN or infinite statistics (e.g. an RMSE with no inliers) are written as strings rather than failing the run.
        var element = JsonSerializer.SerializeToElement(summary, new JsonSerializerOptions
        {
            DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        });
        File.WriteAllText(files.Summary, JsonSerializer.Serialize(element, new JsonSerializerOptions { WriteIndented = true }));
        progress?.Report(1);
        return new ChangeRunOutcome(detection, objects, files, element);
    }

    /// <summary>
    /// Internal overviews (halving until a side is under 256 px) so that map tiles of a zoomed-out view read a small
    /// level instead of the whole raster. The mask's levels are sampled, not averaged: its values are classes.
    /// </summary>
    private static void AddOverviews(string path, string resampling, CancellationToken cancel)
    {
        using var raster = RasterDataset.Open(path, update: true);
        var factors = new List<int>();
        for (var f = 2; Math.Min(raster.Width, raster.Height) / (f / 2) > 256; f *= 2)
        {
            factors.Add(f);
        }
        if (factors.Count > 0)
        {
            raster.BuildOverviews(factors, resampling, cancel: cancel);
        }
    }

    private static object Tally(IReadOnlyList<ChangeObject> objects, string kind)
    {
        var selected = objects.Where(o => o.Kind == kind).ToList();
        return new
        {
            count = selected.Count,
            area_m2 = Math.Round(selected.Sum(o => o.AreaSquareMetres), 1),
            without_shadows_m2 = Math.Round(selected.Where(o => !o.Shadow).Sum(o => o.AreaSquareMetres), 1),
        };
    }

    /// <summary>Maps a sub-task's 0..1 onto a slice of the whole.</summary>
    private sealed class ScaledProgress(IProgress<double>? inner, double from, double to) : IProgress<double>
    {
        public void Report(double value) => inner?.Report(from + (to - from) * value);
    }
}
