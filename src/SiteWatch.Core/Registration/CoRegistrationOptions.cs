using SiteWatch.Gdal;

namespace SiteWatch.Core.Registration;

/// <summary>The geometric model mapping target pixels to reference pixels.</summary>
public enum RegistrationModel
{
    /// <summary>A pure shift.</summary>
    Translation,
    /// <summary>Shift, rotation, scale and shear (6 parameters).</summary>
    Affine,
    /// <summary>Second-order polynomial in x and y (12 parameters), for residual distortion an affine cannot take up.</summary>
    Polynomial2,
}

/// <summary>How <see cref="CoRegistration.Estimate"/> matches a target scene to a reference scene on the same grid.</summary>
public sealed record CoRegistrationOptions
{
    /// <summary>Side of the square matching windows, full-resolution pixels (phase correlation measures shifts up to about a quarter of it).</summary>
    public int WindowSize { get; init; } = 192;

    /// <summary>Distance between window centres in pixels; null = <see cref="WindowSize"/>, widened so that at most <see cref="MaxWindows"/> windows are used.</summary>
    public int? GridSpacing { get; init; }

    /// <summary>Upper bound on the number of matching windows (bounds the run time on large scenes).</summary>
    public int MaxWindows { get; init; } = 400;

    /// <summary>1-based bands averaged into the matching image, the same numbers in both scenes; null = every band both scenes have.</summary>
    public IReadOnlyList<int>? Bands { get; init; }

    /// <summary>Windows whose phase-correlation peak is below this (fraction of a perfect match) give no tie point.</summary>
    public double MinResponse { get; init; } = 0.08;

    /// <summary>Below this peak response the whole-scene estimate is not trusted to place the windows (they start at zero shift).</summary>
    public double MinGlobalResponse { get; init; } = 0.02;

    /// <summary>Windows with less than this fraction of valid pixels in either scene are skipped.</summary>
    public double MinValidFraction { get; init; } = 0.6;

    /// <summary>A fit with fewer inlier tie points is flagged unreliable.</summary>
    public int MinInliers { get; init; } = 6;

    /// <summary>A fit whose inlier residual RMSE exceeds this is flagged unreliable.</summary>
    public double MaxRmsePixels { get; init; } = 0.5;

    /// <summary>Tie points farther than this from the model are outliers (RANSAC threshold).</summary>
    public double RansacThresholdPixels { get; init; } = 1.0;

    /// <summary>Rotations beyond this are implausible between scenes of one site grid.</summary>
    public double MaxRotationDegrees { get; init; } = 2.0;

    /// <summary>Scale or shear differing from 1 (resp. 0) by more than this is implausible.</summary>
    public double MaxScaleDeviation { get; init; } = 0.01;

    /// <summary>Shifts longer than this (pixels) are implausible for scenes already put on one site grid.</summary>
    public double MaxShiftPixels { get; init; } = 100;

    /// <summary>The most flexible model to fit; simpler ones are used when the tie points cannot support it.</summary>
    public RegistrationModel Model { get; init; } = RegistrationModel.Affine;

    /// <summary>The whole-scene estimate works on a box-averaged copy at most this many pixels on its longer side.</summary>
    public int GlobalMaxSize { get; init; } = 1024;

    /// <summary>Optional mask of the target on the same grid (e.g. its cloud mask): non-zero pixels are not matched.</summary>
    public string? ExclusionMaskPath { get; init; }

    /// <summary>Optional mask of the reference on the same grid: non-zero pixels are not matched.</summary>
    public string? ReferenceExclusionMaskPath { get; init; }

    /// <summary>Throw a <see cref="SiteWatchException"/> instead of returning a result flagged unreliable.</summary>
    public bool ThrowIfUnreliable { get; init; }

    internal void Validate()
    {
        static void Check(bool ok, string message)
        {
            if (!ok)
            {
                throw new SiteWatchException("co-registration options: " + message);
            }
        }
        Check(WindowSize is >= 32 and <= 4096, $"WindowSize must be 32 to 4096 pixels, not {WindowSize}");
        Check(GridSpacing is null or >= 16, $"GridSpacing must be at least 16 pixels, not {GridSpacing}");
        Check(MaxWindows >= 3, $"MaxWindows must be at least 3, not {MaxWindows}");
        Check(MinResponse is >= 0 and < 1, $"MinResponse must lie in [0, 1), not {MinResponse}");
        Check(MinGlobalResponse is >= 0 and < 1, $"MinGlobalResponse must lie in [0, 1), not {MinGlobalResponse}");
        Check(MinValidFraction is > 0 and <= 1, $"MinValidFraction must lie in (0, 1], not {MinValidFraction}");
        Check(MinInliers >= 3, $"MinInliers must be at least 3, not {MinInliers}");
        Check(MaxRmsePixels > 0, $"MaxRmsePixels must be positive, not {MaxRmsePixels}");
        Check(RansacThresholdPixels > 0, $"RansacThresholdPixels must be positive, not {RansacThresholdPixels}");
        Check(MaxRotationDegrees > 0 && MaxScaleDeviation > 0 && MaxShiftPixels > 0, "the plausibility limits must be positive");
        Check(GlobalMaxSize >= 64, $"GlobalMaxSize must be at least 64, not {GlobalMaxSize}");
        Check(Bands is null || Bands.Count > 0, "Bands must name at least one band");
    }
}

/// <summary>How <see cref="CoRegistration.Resample"/> writes the registered target.</summary>
public sealed record ResampleOptions
{
    public Resampling Resampling { get; init; } = Resampling.Cubic;

    /// <summary>Write a Cloud Optimized GeoTIFF instead of a tiled GeoTIFF.</summary>
    public bool Cog { get; init; }

    /// <summary>COG settings when <see cref="Cog"/> is set.</summary>
    public CogOptions? CogOptions { get; init; }

    /// <summary>Resample even with a model flagged unreliable (otherwise refused).</summary>
    public bool AllowUnreliable { get; init; }

    /// <summary>Warp memory in MB: bounds the working set whatever the scene size.</summary>
    public int WorkingMemoryMegabytes { get; init; } = 256;
}
