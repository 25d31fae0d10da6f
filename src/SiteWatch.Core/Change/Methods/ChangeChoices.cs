namespace SiteWatch.Core.Change.Methods;

/// <summary>The change transforms SiteWatch runs.</summary>
public enum ChangeMethodKind
{
    /// <summary>Iteratively reweighted MAD (Nielsen 2007), the default.</summary>
    IrMad,
    /// <summary>Multivariate alteration detection (Nielsen, Conradsen and Simpson 1998).</summary>
    Mad,
    /// <summary>Change vector analysis on bands standardised per date.</summary>
    Cva,
    /// <summary>PCA of block differences, then k-means (Celik 2009).</summary>
    PcaKMeans,
    /// <summary>Change vectors of ResNet18 features.</summary>
    DeepCva,
    /// <summary>Object-based change of true-colour segments, for very-high-resolution RGB pairs.</summary>
    Objects,
    /// <summary>A learned bi-temporal ONNX model (<see cref="ChangeDetectionOptions.ModelPath"/>, else the shipped default).</summary>
    Model,
}

/// <summary>How the magnitude is cut into changed and unchanged.</summary>
public enum ThresholdRule
{
    /// <summary>The method's own default (<see cref="IChangeMethod.DefaultThreshold"/>).</summary>
    Auto,
    Otsu,
    KMeans,
    /// <summary>The chi-square test at the significance level (MAD, IR-MAD, objects).</summary>
    ChiSquare,
    /// <summary>Otsu's cut, never below the chi-square critical value (MAD, IR-MAD, objects).</summary>
    OtsuChiSquare,
    /// <summary>A learned model's own threshold.</summary>
    Model,
}

/// <summary>The clean-up of the change mask.</summary>
public enum MaskCleanup
{
    /// <summary>Area opening and closing: removes changed specks and fills unchanged pinholes, keeps thin lines.</summary>
    Area,
    /// <summary>3 x 3 opening then closing.</summary>
    OpenClose,
    None,
}

/// <summary>The difference image PCA-KMeans works on.</summary>
public enum PcaDifferenceImage
{
    /// <summary>The L2 norm of the difference of bands standardised per date (the CVA magnitude).</summary>
    Standardised,
    /// <summary>The L2 norm of the raw band differences.</summary>
    Raw,
    /// <summary>|X2 - X1| of every band, stacked.</summary>
    Bands,
}

/// <summary>
/// The names users give these choices (command-line options, API fields, run parameters and summaries). Hosts parse
/// what users type once, at their edge, and pass the typed values in; the engine only ever writes the canonical names.
/// </summary>
public static class ChangeChoices
{
    private static readonly (ChangeMethodKind Kind, string Name, string[] Aliases)[] Methods =
    [
        (ChangeMethodKind.IrMad, "irmad", ["ir-mad"]),
        (ChangeMethodKind.Mad, "mad", []),
        (ChangeMethodKind.Cva, "cva", []),
        (ChangeMethodKind.PcaKMeans, "pcakmeans", ["pca-kmeans"]),
        (ChangeMethodKind.DeepCva, "deepcva", ["deep-cva"]),
        (ChangeMethodKind.Objects, "objects", ["obcd", "segments"]),
        (ChangeMethodKind.Model, "model", []),
    ];

    /// <summary>What each method suits, in the words a host shows beside its name (the web UI's method picker).</summary>
    private static readonly Dictionary<ChangeMethodKind, string> Descriptions = new()
    {
        [ChangeMethodKind.IrMad] = "IR-MAD, the default: multispectral pairs; a change of light or haze between the dates is not change",
        [ChangeMethodKind.Mad] = "MAD: IR-MAD's variates without the reweighting, one fitting pass",
        [ChangeMethodKind.Cva] = "Change vector analysis of the bands standardised per date",
        [ChangeMethodKind.PcaKMeans] = "PCA-KMeans: differences of small neighbourhoods split in two clusters",
        [ChangeMethodKind.DeepCva] = "Deep CVA: change of ResNet18 features of the true-colour bands",
        [ChangeMethodKind.Objects] = "Objects: segments of both dates, for very-high-resolution RGB pairs; shade that moved is not change",
        [ChangeMethodKind.Model] = "Learned model: the bi-temporal ONNX change model (the shipped default)",
    };

    private static readonly (ThresholdRule Rule, string Name, string[] Aliases)[] Thresholds =
    [
        (ThresholdRule.Auto, "auto", []),
        (ThresholdRule.Otsu, "otsu", []),
        (ThresholdRule.KMeans, "kmeans", ["k-means"]),
        (ThresholdRule.ChiSquare, "chi2", ["chisquare", "chi-square"]),
        (ThresholdRule.OtsuChiSquare, "otsu-chi2", ["otsuchi2", "otsu+chi2"]),
        (ThresholdRule.Model, "model", []),
    ];

    private static readonly (MaskCleanup Cleanup, string Name, string[] Aliases)[] Cleanups =
    [
        (MaskCleanup.Area, "area", []),
        (MaskCleanup.OpenClose, "openclose", ["open-close"]),
        (MaskCleanup.None, "none", []),
    ];

    private static readonly (PcaDifferenceImage Image, string Name, string[] Aliases)[] Differences =
    [
        (PcaDifferenceImage.Standardised, "standardised", ["standardized"]),
        (PcaDifferenceImage.Raw, "raw", []),
        (PcaDifferenceImage.Bands, "bands", []),
    ];

    public static IReadOnlyList<string> MethodNames { get; } = Methods.Select(m => m.Name).ToArray();
    public static IReadOnlyList<string> ThresholdNames { get; } = Thresholds.Select(t => t.Name).ToArray();
    public static IReadOnlyList<string> CleanupNames { get; } = Cleanups.Select(c => c.Name).ToArray();
    public static IReadOnlyList<string> DifferenceNames { get; } = Differences.Select(d => d.Name).ToArray();

    public static string Name(ChangeMethodKind kind) => Methods.First(m => m.Kind == kind).Name;
    public static string Name(ThresholdRule rule) => Thresholds.First(t => t.Rule == rule).Name;
    public static string Name(MaskCleanup cleanup) => Cleanups.First(c => c.Cleanup == cleanup).Name;
    public static string Name(PcaDifferenceImage image) => Differences.First(d => d.Image == image).Name;

    public static string Describe(ChangeMethodKind kind) => Descriptions[kind];
    public static IReadOnlyList<ChangeMethodKind> MethodKinds { get; } = Methods.Select(m => m.Kind).ToArray();

    /// <summary>Whether band 1 of the method is a chi-square statistic (what the chi2 and otsu-chi2 thresholds test).</summary>
    public static bool GivesChiSquare(ChangeMethodKind kind) => kind is ChangeMethodKind.IrMad or ChangeMethodKind.Mad or ChangeMethodKind.Objects;

    /// <summary>The threshold rules a method takes, auto (its own default) first.</summary>
    public static IReadOnlyList<ThresholdRule> ThresholdsFor(ChangeMethodKind kind) =>
        Thresholds.Select(t => t.Rule).Where(rule => Why(kind, rule) is null).ToArray();

    /// <summary>Refuses a threshold rule the method cannot use, naming the methods that can.</summary>
    public static void RequireThreshold(ChangeMethodKind kind, ThresholdRule rule)
    {
        if (Why(kind, rule) is { } why)
        {
            throw SiteWatchException.About("threshold", why);
        }
    }

    private static string? Why(ChangeMethodKind kind, ThresholdRule rule) => rule switch
    {
        ThresholdRule.Model when kind != ChangeMethodKind.Model => $"model is a learned model's own; use it with a change model, not {Name(kind)}",
        ThresholdRule.ChiSquare or ThresholdRule.OtsuChiSquare when !GivesChiSquare(kind) =>
            $"{Name(rule)} needs a chi-square statistic; use it with the mad, irmad or objects method, not {Name(kind)}",
        _ => null,
    };

    /// <summary>Whether the method reads <see cref="ChangeDetectionOptions.SegmentMetres"/> (only then is it part of a run's parameters).</summary>
    public static bool TakesSegmentSize(ChangeMethodKind kind) => kind == ChangeMethodKind.Objects;

    public static ChangeMethodKind ParseMethod(string text, string parameter = "method") =>
        Parse(Methods, text, parameter, "change method").Kind;

    public static ThresholdRule ParseThreshold(string text, string parameter = "threshold") =>
        Parse(Thresholds, text, parameter, "threshold").Rule;

    public static MaskCleanup ParseCleanup(string text, string parameter = "morphology") =>
        Parse(Cleanups, text, parameter, "mask clean-up").Cleanup;

    public static PcaDifferenceImage ParseDifference(string text, string parameter = "pca-difference") =>
        Parse(Differences, text, parameter, "PCA-KMeans difference image").Image;

    private static T Parse<T>(IEnumerable<T> table, string text, string parameter, string what) where T : struct, System.Runtime.CompilerServices.ITuple
    {
        var key = (text ?? "").Trim().ToLowerInvariant();
        foreach (var row in table)
        {
            if ((string)row[1]! == key || ((string[])row[2]!).Contains(key))
            {
                return row;
            }
        }
        throw SiteWatchException.About(parameter,
            $"'{text}' is not a {what}; use one of {string.Join(", ", table.Select(r => (string)r[1]!))}");
    }
}
