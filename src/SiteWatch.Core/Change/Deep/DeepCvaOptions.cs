using System.Globalization;

namespace SiteWatch.Core.Change.Deep;

/// <summary>Settings of <see cref="DeepCvaMethod"/> beyond the shared <see cref="ChangeDetectionOptions"/>.</summary>
public sealed record DeepCvaOptions
{
    /// <summary>
    /// ResNet18 stages whose features are compared (see <see cref="ResNetLayer.All"/>). Deeper stages see more
    /// context but are coarser, slower and need a wider halo (layer2: 64 pixels, layer3: 136).
    /// </summary>
    public IReadOnlyList<string> Layers { get; init; } = ["conv1", "layer1", "layer2"];

    /// <summary>Share of each layer's feature maps kept: those whose bi-temporal difference varies most over the fitting sample.</summary>
    public double FeatureFraction { get; init; } = 0.1;

    /// <summary>At least this many feature maps are kept per layer (when the layer has that many that vary).</summary>
    public int MinFeatures { get; init; } = 4;

    /// <summary>Lower and upper percentiles (0..1) of each input band mapped to 0 and 255 before the network.</summary>
    public double StretchLow { get; init; } = 0.01;
    public double StretchHigh { get; init; } = 0.99;

    /// <summary>
    /// False (default): each date is stretched by its own percentiles, so a global gain or offset between the dates
    /// (sun, haze, sensor) does not reach the network. True: one stretch from both dates pooled, which keeps real
    /// overall brightness changes.
    /// </summary>
    public bool JointStretch { get; init; }

    /// <summary>Pixels (of tiles spread over the scene) the band percentiles and feature statistics are estimated on.</summary>
    public long FitSamplePixels { get; init; } = 2_000_000;

    /// <summary>Largest side of the window the network runs on at once (plus halo); bounds memory whatever the block size.</summary>
    public int MaxTile { get; init; } = 1024;

    /// <summary>ONNX Runtime intra-op threads; 0 = one per physical core. Default: $SITEWATCH_ORT_THREADS, else 0.</summary>
    public int IntraOpThreads { get; init; } = ThreadsFromEnvironment();

    /// <summary>The ResNet18 ONNX file; null = <see cref="ResNetFeatureExtractor.DefaultModelPath"/>.</summary>
    public string? ModelPath { get; init; }

    private static int ThreadsFromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable("SITEWATCH_ORT_THREADS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : 0;
}
