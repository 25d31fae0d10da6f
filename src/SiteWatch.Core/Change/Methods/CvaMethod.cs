namespace SiteWatch.Core.Change.Methods;

/// <summary>
/// Change vector analysis: each date's bands standardised to zero mean and unit variance (over the valid pixels of
/// that date), differenced; band 1 is the L2 magnitude of the difference vector, band 2 its direction as the angle in
/// radians (0..pi) to the diagonal (1, ..., 1) / sqrt(N), the compressed-CVA direction of Bovolo and Bruzzone:
/// near 0 everything got brighter, near pi everything darker, near pi/2 a change of spectral shape.
/// Standardising removes a global gain and offset per band, but not a change that differs between bands.
/// </summary>
public sealed class CvaMethod : IChangeMethod
{
    private readonly List<string> _notes = [];
    private int[] _used = [];
    private double[] _meanX = [];
    private double[] _meanY = [];
    private double[] _invStdX = [];
    private double[] _invStdY = [];

    public string Name => "cva";
    public ThresholdRule DefaultThreshold => ThresholdRule.Otsu;
    public bool MagnitudeIsSquared => false;
    public int Halo => 0;
    public IReadOnlyList<string> OutputBands { get; } = ["magnitude", "angle"];

    public void Fit(RasterPair pair, ChangeDetectionOptions options, IProgress<double>? progress, CancellationToken cancel)
    {
        var p = pair.BandCount;
        var moments = new WeightedMoments(2 * p);
        foreach (var block in PairBlocks.Read(pair, options.BlockSize, 0, progress is null ? null : progress.Report, cancel))
        {
            moments.AddPlanes(block.Planes, block.PixelCount, block.Valid);
        }
        ChangeDetector.RequireValidPixels(moments.Count, Math.Max(50, 10 * p), pair);
        var cov = moments.Covariance();
        var used = new List<int>();
        _notes.Clear();
        for (var b = 0; b < p; b++)
        {
            if (cov[b, b] > 0 && cov[p + b, p + b] > 0)
            {
                used.Add(b);
            }
            else
            {
                _notes.Add($"band {b + 1} is constant in one of the dates and is left out of CVA");
            }
        }
        if (used.Count == 0)
        {
            throw new SiteWatchException("the scenes show no variation in any band (every band is constant); there is nothing to compare");
        }
        _used = [.. used];
        _meanX = [.. used.Select(b => moments.Mean[b])];
        _meanY = [.. used.Select(b => moments.Mean[p + b])];
        _invStdX = [.. used.Select(b => 1 / Math.Sqrt(cov[b, b]))];
        _invStdY = [.. used.Select(b => 1 / Math.Sqrt(cov[p + b, p + b]))];
    }

    public void Transform(PairBlock block, Span<float> output)
    {
        var core = block.Core;
        var n = (int)core.PixelCount;
        var np = block.PixelCount;
        var planes = block.Planes;
        var p = block.Bands;
        var valid = block.Valid;
        var sqrtN = Math.Sqrt(_used.Length);
        for (var r = 0; r < core.Height; r++)
        {
            for (var c = 0; c < core.Width; c++)
            {
                var o = r * core.Width + c;
                var i = block.IndexOfCore(r, c);
                if (valid[i] == 0)
                {
                    output[o] = float.NaN;
                    output[n + o] = float.NaN;
                    continue;
                }
                double sum2 = 0, sum = 0;
                for (var k = 0; k < _used.Length; k++)
                {
                    var b = _used[k];
                    var d = (planes[(p + b) * np + i] - _meanY[k]) * _invStdY[k] - (planes[b * np + i] - _meanX[k]) * _invStdX[k];
                    sum2 += d * d;
                    sum += d;
                }
                var magnitude = Math.Sqrt(sum2);
                output[o] = (float)magnitude;
                output[n + o] = magnitude > 0 ? (float)Math.Acos(Math.Clamp(sum / (sqrtN * magnitude), -1, 1)) : 0f;
            }
        }
    }

    public double? NativeThreshold(ThresholdRule rule, ChangeDetectionOptions options) => null;

    public ChangeDetectionResult Describe(ChangeDetectionResult result) => result with { Notes = [.. result.Notes, .. _notes] };
}
