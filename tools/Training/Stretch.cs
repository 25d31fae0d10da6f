namespace SiteWatch.Training;

/// <summary>
/// The per-band 2-98 % percentile stretch to 0..1 that the product applies to a scene before a model sees it
/// (SceneBands, scale "percentile"), over the whole image as the product computes it.
/// </summary>
internal static class Stretch
{
    public static void Plane(ReadOnlySpan<ushort> values, Span<float> destination, double low = 0.02, double high = 0.98)
    {
        var (lo, hi) = Percentiles(values, low, high);
        float scale = hi > lo ? 1f / (hi - lo) : 0f;
        for (int i = 0; i < values.Length; i++)
        {
            destination[i] = Math.Clamp((values[i] - lo) * scale, 0f, 1f);
        }
    }

    public static (float Low, float High) Percentiles(ReadOnlySpan<ushort> values, double low, double high)
    {
        var histogram = new long[65536];
        foreach (var v in values)
        {
            histogram[v]++;
        }
        long total = values.Length, lowRank = (long)(low * total), highRank = (long)(high * total);
        long seen = 0;
        int lo = 0, hi = 65535;
        bool loFound = false;
        for (int v = 0; v < histogram.Length; v++)
        {
            seen += histogram[v];
            if (!loFound && seen > lowRank)
            {
                lo = v;
                loFound = true;
            }
            if (seen > highRank)
            {
                hi = v;
                break;
            }
        }
        return (lo, hi);
    }
}
