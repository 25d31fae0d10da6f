namespace SiteWatch.Core.Detection;

/// <summary>How detections are filtered and where the model runs.</summary>
public sealed record DetectorOptions
{
    /// <summary>Detections scoring below this are dropped before NMS.</summary>
    public float ScoreThreshold { get; init; } = 0.25f;

    /// <summary>Overlap (IoU, rotated for OBB models) above which the weaker of two same-class detections is suppressed.</summary>
    public double IouThreshold { get; init; } = 0.45;

    /// <summary>Most detections returned per image, best first (as Ultralytics' max_det).</summary>
    public int MaxDetections { get; init; } = 300;

    /// <summary>"cpu" or "cuda" (the CUDA execution provider, GPU 0).</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>
    /// Model class -> reported class, over the model's own side-car map (e.g. small-vehicle and large-vehicle ->
    /// vehicle); an empty target drops the class. Null or empty: the model's classes (and side-car map) as they are.
    /// </summary>
    public IReadOnlyDictionary<string, string>? ClassMap { get; init; }

    public void Validate()
    {
        if (!(ScoreThreshold is >= 0 and <= 1))
        {
            throw new SiteWatchException($"score threshold {ScoreThreshold} must lie between 0 and 1");
        }
        if (!(IouThreshold is >= 0 and <= 1))
        {
            throw new SiteWatchException($"IoU threshold {IouThreshold} must lie between 0 and 1");
        }
        if (MaxDetections < 1)
        {
            throw new SiteWatchException("at least one detection per image must be allowed");
        }
        if (Device is not ("cpu" or "cuda"))
        {
            throw new SiteWatchException($"unknown device '{Device}'; use cpu or cuda");
        }
    }
}

/// <summary>The model's output layout: Ultralytics axis-aligned boxes or oriented boxes (angle last).</summary>
public enum DetectorTask
{
    Detect,
    Obb,
}

/// <summary>
/// How scene values become the model's 0..1 inputs. <see cref="Kind"/> "percentile": each band's Low..High
/// percentiles (of the scene, from a decimated read) map to 0..1; "range": Low..High in the scene's own units map to
/// 0..1; "auto": uint8 scenes divided by 255, others the 2..98 percentile stretch.
/// </summary>
public sealed record InputScaling(string Kind, double Low, double High)
{
    public static InputScaling Auto { get; } = new("auto", 2, 98);
}
