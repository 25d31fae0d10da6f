namespace SiteWatch.Core.Change.Methods;

/// <summary>
/// A fixed-size histogram of a magnitude built in a streaming pass. Each bin keeps its count and the sum of its
/// values, so class means are exact whatever the bin width and only the position of a cut is quantised; values above
/// the range fall into the last bin (with their true values in its sum), so a long tail does not coarsen the bins.
/// </summary>
public sealed class MagnitudeHistogram
{
    private readonly long[] _counts;
    private readonly double[] _sums;
    private readonly double _scale;

    public MagnitudeHistogram(double min, double max, int bins = 1 << 16)
    {
        if (bins < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(bins));
        }
        Min = min;
        Max = max > min ? max : min + 1;
        _counts = new long[bins];
        _sums = new double[bins];
        _scale = bins / (Max - Min);
    }

    public double Min { get; }
    public double Max { get; }
    public int Bins => _counts.Length;
    public long Count { get; private set; }
    public double BinWidth => (Max - Min) / Bins;
    public double UpperEdge(int bin) => Min + (bin + 1) * BinWidth;

    public void Add(double value)
    {
        if (!double.IsFinite(value))
        {
            return;
        }
        var bin = (int)Math.Clamp(Math.Floor((value - Min) * _scale), 0, Bins - 1);
        _counts[bin]++;
        _sums[bin] += value;
        Count++;
    }

    public void AddValid(ReadOnlySpan<float> values)
    {
        foreach (var v in values)
        {
            if (float.IsFinite(v))
            {
                Add(v);
            }
        }
    }

    public long CountOf(int bin) => _counts[bin];
    public double SumOf(int bin) => _sums[bin];

    /// <summary>The upper edge of the bin where the cumulative fraction first reaches q.</summary>
    public double Quantile(double q)
    {
        var target = q * Count;
        long cumulative = 0;
        for (var i = 0; i < Bins; i++)
        {
            cumulative += _counts[i];
            if (cumulative >= target && cumulative > 0)
            {
                return Math.Min(UpperEdge(i), Max);
            }
        }
        return Max;
    }
}

/// <summary>Thresholds that turn a change magnitude into a binary decision: changed where magnitude &gt; threshold.</summary>
public static class ChangeThresholds
{
    /// <summary>Otsu (1979): the cut maximising the between-class variance w0 w1 (mu0 - mu1)^2.</summary>
    public static double Otsu(MagnitudeHistogram histogram)
    {
        var (cut, _, _) = OtsuCut(histogram);
        return histogram.UpperEdge(cut);
    }

    private static (int Cut, double Mean0, double Mean1) OtsuCut(MagnitudeHistogram h)
    {
        double totalCount = h.Count;
        double totalSum = 0;
        for (var i = 0; i < h.Bins; i++)
        {
            totalSum += h.SumOf(i);
        }
        if (totalCount < 2)
        {
            throw new SiteWatchException("too few valid pixels to place a threshold");
        }
        double w0 = 0, s0 = 0, best = -1;
        int bestCut = 0;
        double m0 = 0, m1 = 0;
        for (var i = 0; i < h.Bins - 1; i++)
        {
            w0 += h.CountOf(i);
            s0 += h.SumOf(i);
            var w1 = totalCount - w0;
            if (w0 == 0 || w1 == 0)
            {
                continue;
            }
            var mu0 = s0 / w0;
            var mu1 = (totalSum - s0) / w1;
            var between = w0 * w1 * (mu0 - mu1) * (mu0 - mu1);
            if (between > best)
            {
                best = between;
                bestCut = i;
                m0 = mu0;
                m1 = mu1;
            }
        }
        if (best < 0)
        {
            throw new SiteWatchException("the change magnitude is the same everywhere; no threshold separates change from no change");
        }
        return (bestCut, m0, m1);
    }

    /// <summary>
    /// 1-D k-means with k = 2 (Lloyd's iterations over the histogram, started from Otsu's class means): the cut is the
    /// midpoint of the two centres. Otsu's cut minimises the within-class sum of squares, which is the k-means objective
    /// in one dimension, so a k-means that finds its global optimum (e.g. scikit-learn's best of several starts) lands on
    /// (nearly) the same cut; this one starts there and only moves by the bin quantisation.
    /// </summary>
    public static double KMeans(MagnitudeHistogram h)
    {
        var (_, c0, c1) = OtsuCut(h);
        for (var iteration = 0; iteration < 1000; iteration++)
        {
            var t = (c0 + c1) / 2;
            double n0 = 0, s0 = 0, n1 = 0, s1 = 0;
            for (var i = 0; i < h.Bins; i++)
            {
                var count = h.CountOf(i);
                if (count == 0)
                {
                    continue;
                }
                if (h.SumOf(i) / count <= t)
                {
                    n0 += count;
                    s0 += h.SumOf(i);
                }
                else
                {
                    n1 += count;
                    s1 += h.SumOf(i);
                }
            }
            if (n0 == 0 || n1 == 0)
            {
                break;
            }
            var (next0, next1) = (s0 / n0, s1 / n1);
            if (next0 == c0 && next1 == c1)
            {
                break;
            }
            (c0, c1) = (next0, next1);
        }
        return (c0 + c1) / 2;
    }
}
