using SiteWatch.Core.Change.Deep;

namespace SiteWatch.Core.Change.Methods;

/// <summary>
/// An unsupervised change transform. <see cref="Fit"/> streams over the pair as often as its statistics need;
/// <see cref="Transform"/> then turns one window into output bands, of which band 1 is a change magnitude
/// (larger = more likely changed) that <see cref="ChangeThresholds"/> cuts into a mask.
/// </summary>
public interface IChangeMethod
{
    string Name { get; }

    /// <summary>The thresholding <see cref="ThresholdRule.Auto"/> resolves to for this method.</summary>
    ThresholdRule DefaultThreshold { get; }

    /// <summary>
    /// True when band 1 is a squared distance (a chi-square statistic): Otsu and k-means then work on its square root,
    /// the Mahalanobis distance, where the no-change and change classes have nearly the same spread (the square root
    /// stabilises the variance of a non-central chi-square), as those thresholds assume.
    /// </summary>
    bool MagnitudeIsSquared { get; }

    /// <summary>Context pixels needed on each side of a window by <see cref="Transform"/>.</summary>
    int Halo { get; }

    /// <summary>Names of the output bands (known after <see cref="Fit"/>); band 1 is the magnitude.</summary>
    IReadOnlyList<string> OutputBands { get; }

    /// <summary>Estimates the transform. Throws <see cref="SiteWatchException"/> when the data cannot support it.</summary>
    void Fit(RasterPair pair, ChangeDetectionOptions options, IProgress<double>? progress, CancellationToken cancel);

    /// <summary>
    /// Writes OutputBands.Count planes of block.Core.PixelCount values (plane k at [k n, (k + 1) n)); NaN where the
    /// pixel is invalid.
    /// </summary>
    void Transform(PairBlock block, Span<float> output);

    /// <summary>A threshold on band 1 the method itself defines for a thresholding rule (e.g. chi2 for MAD), or null.</summary>
    double? NativeThreshold(ThresholdRule rule, ChangeDetectionOptions options);

    /// <summary>Adds the method's statistics to a result.</summary>
    ChangeDetectionResult Describe(ChangeDetectionResult result);
}

/// <summary>The change methods, by the name the command line uses.</summary>
public static class ChangeMethods
{
    /// <summary>The method of that kind; <see cref="ChangeMethodKind.Model"/> runs <see cref="ChangeDetectionOptions.ModelPath"/>, else the shipped default.</summary>
    public static IChangeMethod Create(ChangeMethodKind kind, ChangeDetectionOptions? options = null) => kind switch
    {
        ChangeMethodKind.Model => new Learned.ChangeModelMethod(Learned.ChangeModel.Resolve(options?.ModelPath)),
        ChangeMethodKind.IrMad => new MadMethod(iterative: true),
        ChangeMethodKind.Mad => new MadMethod(iterative: false),
        ChangeMethodKind.Cva => new CvaMethod(),
        ChangeMethodKind.PcaKMeans => new PcaKMeansMethod(),
        ChangeMethodKind.DeepCva => new DeepCvaMethod(),
        ChangeMethodKind.Objects => new ObjectChangeMethod(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
