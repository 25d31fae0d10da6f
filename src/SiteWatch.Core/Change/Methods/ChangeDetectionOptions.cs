namespace SiteWatch.Core.Change.Methods;

/// <summary>How <see cref="ChangeDetector.Detect"/> works: the transform, the threshold and the clean-up.</summary>
public sealed record ChangeDetectionOptions
{
    public ChangeMethodKind Method { get; init; } = ChangeMethodKind.IrMad;

    /// <summary>The bi-temporal ONNX model of method "model" (see <see cref="Learned.ChangeModel"/>).</summary>
    public string? ModelPath { get; init; }

    public ThresholdRule Threshold { get; init; } = ThresholdRule.Auto;

    /// <summary>Significance level of the chi-square test (threshold chi2): a pixel is changed when P(no change) is below it.</summary>
    public double Significance { get; init; } = 0.01;

    /// <summary>Most IR-MAD iterations (each is one pass over the scene).</summary>
    public int MaxIterations { get; init; } = 50;

    /// <summary>IR-MAD stops once the largest change of a canonical correlation between iterations is below this.</summary>
    public double ConvergenceTolerance { get; init; } = 1e-3;

    /// <summary>
    /// IR-MAD: divide the weighted MAD variances by the shrinkage the no-change weights cause on chi-square distributed
    /// data, so that at convergence unchanged pixels follow chi2(N) and the chi-square test keeps its significance level.
    /// Off gives Nielsen's (2007) iteration as published, whose fixed point inflates Z of unchanged pixels 2-3 times.
    /// </summary>
    public bool ConsistencyCorrection { get; init; } = true;

    /// <summary>
    /// Ridge regularisation of the MAD covariance matrices, 0 &lt;= lambda &lt; 1: S ← (1 - lambda) S + lambda (trace S / N) I.
    /// Useful with many or nearly collinear bands.
    /// </summary>
    public double Regularisation { get; init; }

    /// <summary>Side of the square windows the scene is streamed in.</summary>
    public int BlockSize { get; init; } = 512;

    /// <summary>
    /// Clean-up of the change mask: area (default: area opening and
    /// closing, removes changed specks and fills unchanged pinholes smaller than <see cref="MinRegionPixels"/> while
    /// keeping thin linear changes), openclose (3 x 3 opening then closing), none.
    /// </summary>
    public MaskCleanup Morphology { get; init; } = MaskCleanup.Area;

    /// <summary>Smallest changed region (8-connected) and unchanged hole (4-connected) kept by the area clean-up, in pixels.</summary>
    public int MinRegionPixels { get; init; } = 5;

    /// <summary>Write the method's extra bands (MAD variates, no-change probability, CVA angle, PCA features) after band 1.</summary>
    public bool ExtraBands { get; init; } = true;

    /// <summary>PCA-KMeans: side h of the square neighbourhood (Celik uses 4).</summary>
    public int PcaBlock { get; init; } = 4;

    /// <summary>PCA-KMeans: principal components kept (Celik's S = 3).</summary>
    public int PcaComponents { get; init; } = 3;

    /// <summary>
    /// PCA-KMeans difference image: standardised (default: the L2 norm of the difference of the bands standardised per
    /// date, i.e. the CVA magnitude; removes a global gain and offset between the dates), raw (L2 norm of the raw band
    /// differences, Celik's |X2 - X1| for one band), bands (|X2 - X1| of every band, stacked).
    /// </summary>
    public PcaDifferenceImage PcaDifference { get; init; } = PcaDifferenceImage.Standardised;

    /// <summary>
    /// Object change: the side of its segments on the ground, in metres (8: a small building, a truck and its
    /// surroundings; the segment side in pixels is this over the pixel size, 4 to 64).
    /// </summary>
    public double SegmentMetres { get; init; } = 8;

    /// <summary>PCA-KMeans: most pixels (chosen by a fixed spatial hash) the k-means is fitted on; the rest are assigned.</summary>
    public int KMeansSampleSize { get; init; } = 250_000;
}

/// <summary>What one change detection run found, with the statistics behind it.</summary>
public sealed record ChangeDetectionResult
{
    public required string Method { get; init; }
    /// <summary>The thresholding actually applied (auto resolved).</summary>
    public required string ThresholdMethod { get; init; }
    /// <summary>Pixels whose band-1 value is above this are changed (before morphology).</summary>
    public required double Threshold { get; init; }
    /// <summary>Why this threshold: the rule and the numbers it weighed, in a sentence for the run's report.</summary>
    public string? ThresholdReason { get; init; }
    public required long ChangedPixels { get; init; }
    /// <summary>Changed pixels before morphological clean-up.</summary>
    public required long ChangedPixelsBeforeMorphology { get; init; }
    public required long ValidPixels { get; init; }
    public required long TotalPixels { get; init; }
    public double ChangedFraction => ValidPixels == 0 ? 0 : (double)ChangedPixels / ValidPixels;

    /// <summary>Names of the bands of the magnitude raster, in order (band 1 is what is thresholded).</summary>
    public required IReadOnlyList<string> MagnitudeBands { get; init; }

    /// <summary>MAD / IR-MAD: the canonical correlations of the final iteration, ascending (MAD1 first).</summary>
    public IReadOnlyList<double> CanonicalCorrelations { get; init; } = [];
    /// <summary>MAD / IR-MAD: canonical correlations of every iteration.</summary>
    public IReadOnlyList<IReadOnlyList<double>> CorrelationHistory { get; init; } = [];
    /// <summary>MAD / IR-MAD: iterations run (1 for MAD).</summary>
    public int Iterations { get; init; }
    public bool Converged { get; init; }

    /// <summary>Band-1 statistics over valid pixels.</summary>
    public double MagnitudeMin { get; init; }
    public double MagnitudeMax { get; init; }
    public double MagnitudeMean { get; init; }

    /// <summary>Anything a user may want to know (dropped constant bands, automatic regularisation, cluster centres...).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}
