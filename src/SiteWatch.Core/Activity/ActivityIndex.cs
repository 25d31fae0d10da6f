namespace SiteWatch.Core.Activity;

/// <summary>One measured quantity over a site's dates (null where it was not measured), with the floor of its baseline spread.</summary>
public sealed record ActivitySeries(string Name, IReadOnlyList<double?> Values, double MinStd);

/// <summary>Mean and spread of a series over the dates before one date.</summary>
public sealed record BaselineStats(double Mean, double Std, double FlooredStd, int Count)
{
    public double ZScore(double value) => (value - Mean) / FlooredStd;
}

/// <summary>
/// How unusual each date is against its own recent past: per series, the z-score of the date's value against the
/// previous N dates' mean and standard deviation; the activity index is the mean of those z-scores.
/// </summary>
public static class ActivityIndex
{
    /// <summary>Spread is never taken below this share of the baseline mean: a quiet series would otherwise turn noise into alarms.</summary>
    public const double RelativeStdFloor = 0.1;

    /// <summary>
    /// Baseline of <paramref name="values"/> at <paramref name="index"/>: the measured values among the previous
    /// <paramref name="baseline"/> dates (at least two of them, or one when the baseline is one date), sample standard
    /// deviation floored at max(<paramref name="minStd"/>, 10 % of |mean|). Null when too few dates precede it.
    /// </summary>
    public static BaselineStats? Baseline(IReadOnlyList<double?> values, int index, int baseline, double minStd)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(baseline, 1);
        var window = new List<double>();
        for (var i = Math.Max(0, index - baseline); i < index; i++)
        {
            if (values[i] is { } v)
            {
                window.Add(v);
            }
        }
        if (window.Count < Math.Min(2, baseline))
        {
            return null;
        }
        var mean = window.Average();
        var std = window.Count > 1 ? Math.Sqrt(window.Sum(v => (v - mean) * (v - mean)) / (window.Count - 1)) : 0;
        var floored = Math.Max(std, Math.Max(minStd, RelativeStdFloor * Math.Abs(mean)));
        return new BaselineStats(mean, std, floored, window.Count);
    }

    /// <summary>Per series and date the z-score against the trailing baseline (null where a value or baseline is missing).</summary>
    public static double?[][] ZScores(IReadOnlyList<ActivitySeries> series, int baseline)
    {
        var z = new double?[series.Count][];
        for (var s = 0; s < series.Count; s++)
        {
            var values = series[s].Values;
            z[s] = new double?[values.Count];
            for (var i = 0; i < values.Count; i++)
            {
                if (values[i] is { } v && Baseline(values, i, baseline, series[s].MinStd) is { } stats)
                {
                    z[s][i] = stats.ZScore(v);
                }
            }
        }
        return z;
    }

    /// <summary>The activity index per date: the mean of the series' z-scores on that date; null where none has one.</summary>
    public static double?[] Compute(IReadOnlyList<ActivitySeries> series, int baseline)
    {
        var z = ZScores(series, baseline);
        var dates = series.Count == 0 ? 0 : series.Max(s => s.Values.Count);
        var index = new double?[dates];
        for (var i = 0; i < dates; i++)
        {
            var present = z.Where(s => i < s.Length && s[i] is not null).Select(s => s[i]!.Value).ToList();
            index[i] = present.Count > 0 ? present.Average() : null;
        }
        return index;
    }
}
