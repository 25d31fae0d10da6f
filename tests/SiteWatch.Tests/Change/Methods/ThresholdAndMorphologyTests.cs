using SiteWatch.Core.Change;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Tests.Change.Methods;

public class ThresholdAndMorphologyTests
{
    private static MagnitudeHistogram Bimodal(double lowMean, double lowSd, int lowCount, double highMean, double highSd, int highCount)
    {
        var rng = new Random(2);
        var values = new List<double>();
        for (var i = 0; i < lowCount; i++)
        {
            values.Add(lowMean + lowSd * Gauss(rng));
        }
        for (var i = 0; i < highCount; i++)
        {
            values.Add(highMean + highSd * Gauss(rng));
        }
        var histogram = new MagnitudeHistogram(values.Min(), values.Max());
        values.ForEach(histogram.Add);
        return histogram;
    }

    private static double Gauss(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    [Fact]
    public void Otsu_and_kmeans_cut_between_two_equal_spread_modes()
    {
        var histogram = Bimodal(2, 1, 80_000, 10, 1, 20_000);
        var otsu = ChangeThresholds.Otsu(histogram);
        var kmeans = ChangeThresholds.KMeans(histogram);
        // Equal spreads: both sit near the midpoint 6 (Otsu shifts slightly towards the smaller class).
        Assert.InRange(otsu, 5.3, 6.5);
        Assert.InRange(kmeans, 5.5, 6.5);
    }

    [Fact]
    public void Histogram_keeps_exact_class_means_for_a_long_tail()
    {
        // The last bin collects everything above the range with its true sum: a tail far out still pulls the mean.
        var h = new MagnitudeHistogram(0, 10, 10);
        h.Add(1);
        h.Add(3);
        h.Add(1000);
        Assert.Equal(1000, h.SumOf(9));
        Assert.Equal(1, h.CountOf(9));
        Assert.Equal(3, h.SumOf(3));
        Assert.Equal(3, h.Count);
        Assert.Equal(2, h.Quantile(0.3));
    }

    [Fact]
    public void Threshold_names_are_checked()
    {
        Assert.Equal(ThresholdRule.KMeans, ChangeChoices.ParseThreshold("K-Means"));
        Assert.Equal(ThresholdRule.OtsuChiSquare, ChangeChoices.ParseThreshold("otsu+chi2"));
        var e = Assert.Throws<SiteWatch.Core.SiteWatchException>(() => ChangeChoices.ParseThreshold("triangle"));
        Assert.Contains("auto, otsu, kmeans, chi2, otsu-chi2", e.Message);
        Assert.Equal("threshold", e.Parameter);
        Assert.Throws<SiteWatch.Core.SiteWatchException>(() => ChangeChoices.ParseMethod("deepcva-typo"));
        // Every name the engine writes reads back as the same choice.
        Assert.All(Enum.GetValues<ChangeMethodKind>(), k => Assert.Equal(k, ChangeChoices.ParseMethod(ChangeChoices.Name(k))));
        Assert.All(Enum.GetValues<ThresholdRule>(), r => Assert.Equal(r, ChangeChoices.ParseThreshold(ChangeChoices.Name(r))));
        Assert.All(Enum.GetValues<MaskCleanup>(), c => Assert.Equal(c, ChangeChoices.ParseCleanup(ChangeChoices.Name(c))));
    }

    private static (byte[] Mask, byte[] Valid) Canvas(int width, int height, params (int Row, int Column)[] on)
    {
        var mask = new byte[width * height];
        foreach (var (r, c) in on)
        {
            mask[r * width + c] = 1;
        }
        return (mask, Enumerable.Repeat((byte)1, width * height).ToArray());
    }

    [Fact]
    public void Area_filter_removes_specks_fills_pinholes_and_keeps_thin_lines()
    {
        const int w = 40, h = 30;
        var pixels = new List<(int, int)>();
        pixels.AddRange(Enumerable.Range(5, 25).Select(c => (3, c)));             // a 1-pixel road, 25 long
        pixels.AddRange([(10, 10), (10, 11), (11, 10)]);                             // a 3-pixel speck
        for (var r = 15; r < 25; r++)
        {
            for (var c = 15; c < 25; c++)
            {
                if (!(r is 19 or 20 && c == 19))
                {
                    pixels.Add((r, c));                                              // a 10 x 10 block with a 2-pixel hole
                }
            }
        }
        var (mask, valid) = Canvas(w, h, [.. pixels]);
        var queue = new int[w * h];
        var visited = new byte[w * h];
        BinaryMorphology.AreaOpenClose(mask, valid, w, h, 5, queue, visited);
        Assert.All(Enumerable.Range(5, 25), c => Assert.Equal(1, mask[3 * w + c]));
        Assert.Equal(0, mask[10 * w + 10] + mask[10 * w + 11] + mask[11 * w + 10]);
        Assert.Equal(1, mask[19 * w + 19]);
        Assert.Equal(1, mask[20 * w + 19]);
        Assert.Equal(25 + 100, mask.Count(v => v == 1));
    }

    [Fact]
    public void Open_close_removes_thin_lines_and_ignores_invalid_pixels()
    {
        const int w = 20, h = 20;
        var pixels = new List<(int, int)>();
        pixels.AddRange(Enumerable.Range(2, 15).Select(c => (2, c)));
        for (var r = 8; r < 14; r++)
        {
            for (var c = 8; c < 14; c++)
            {
                pixels.Add((r, c));
            }
        }
        var (mask, valid) = Canvas(w, h, [.. pixels]);
        // A nodata strip touching the block: the structuring element skips it, so the block's edge survives erosion.
        for (var r = 8; r < 14; r++)
        {
            valid[r * w + 14] = 0;
        }
        BinaryMorphology.OpenClose(mask, valid, w, h, new byte[w * h]);
        Assert.All(Enumerable.Range(2, 15), c => Assert.Equal(0, mask[2 * w + c]));
        Assert.Equal(36, mask.Count(v => v == 1));
    }
}
