using SiteWatch.Core.Change;
using SiteWatch.Gdal;
using Xunit.Abstractions;
using SiteWatch.Core.Change.Methods;
using SiteWatch.Core.Change.Deep;

namespace SiteWatch.Tests.Change.Deep;

/// <summary>
/// Deep CVA + Otsu on the Taizhou Landsat pair (2000 and 2003, 400 x 400, bands 1, 2, 3, 4, 5, 7) against its
/// changed / unchanged reference masks (only pixels in exactly one of them are scored).
/// Measured with the defaults (conv1, layer1, layer2; 10 % of feature maps; per-date 1-99 % stretch of bands 3, 2, 1):
/// raw Otsu decision kappa 0.754, F1 0.800; after the detector's area clean-up (regions under 5 pixels) kappa 0.779,
/// F1 0.820; after a 3 x 3 opening and closing kappa 0.764, F1 0.802. For comparison, in the same session
/// ChangeDetector's CVA + Otsu on all six bands gave kappa 0.89 and IR-MAD 0.93: a 30 m scene whose changes are
/// mostly spectral (and need bands 4, 5, 7) is not where three-band ImageNet features shine.
/// </summary>
public class DeepCvaTaizhouTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Deep_cva_with_otsu_agrees_with_the_taizhou_references()
    {
        var dir = TestPaths.RequireSharedData("change", "taizhou");
        using var pair = RasterPair.Open(Path.Combine(dir, "2000TM"), Path.Combine(dir, "2003TM"));
        var method = new DeepCvaMethod();
        var magnitude = DeepCvaMethodTests.Magnitude(method, pair, 512)[0];
        int w = pair.Width, h = pair.Height;
        Assert.Equal((2, 1, 0), method.InputBands); // bands 3, 2, 1 from the ENVI wavelengths

        var histogram = new MagnitudeHistogram(magnitude.Min(), magnitude.Max());
        histogram.AddValid(magnitude);
        var threshold = ChangeThresholds.Otsu(histogram);
        var mask = new byte[w * h];
        var valid = new byte[w * h];
        for (var i = 0; i < mask.Length; i++)
        {
            valid[i] = float.IsFinite(magnitude[i]) ? (byte)1 : (byte)0;
            mask[i] = valid[i] == 1 && magnitude[i] > threshold ? (byte)1 : (byte)0;
        }
        var raw = Score(dir, mask, w, h);
        // The detector's clean-ups: area opening / closing of regions under 5 pixels (its default) and 3 x 3 opening / closing.
        var area = (byte[])mask.Clone();
        BinaryMorphology.AreaOpenClose(area, valid, w, h, new ChangeDetectionOptions().MinRegionPixels, new int[w * h], new byte[w * h]);
        var areaCleaned = Score(dir, area, w, h);
        BinaryMorphology.OpenClose(mask, valid, w, h, new byte[w * h]);
        var openClosed = Score(dir, mask, w, h);
        output.WriteLine($"threshold {threshold:F4}");
        output.WriteLine($"raw:        {raw}");
        output.WriteLine($"area:       {areaCleaned}");
        output.WriteLine($"open-close: {openClosed}");
        foreach (var note in method.Describe(DeepCvaMethodTests.Result()).Notes)
        {
            output.WriteLine(note);
        }
        Assert.True(raw.Kappa > 0.70, $"kappa {raw.Kappa:F3}");
        Assert.True(raw.F1 > 0.75, $"F1 {raw.F1:F3}");
        Assert.True(areaCleaned.Kappa > 0.70, $"kappa after the area clean-up {areaCleaned.Kappa:F3}");
        Assert.True(openClosed.Kappa > 0.70, $"kappa after the 3 x 3 clean-up {openClosed.Kappa:F3}");
    }

    /// <summary>The whole pipeline (Otsu, 3 x 3 clean-up, GeoTIFF outputs) once deep CVA is registered as "deepcva".</summary>
    [SkippableFact]
    public void Change_detector_runs_deep_cva_end_to_end_on_taizhou()
    {
        var dir = TestPaths.RequireSharedData("change", "taizhou");
        using var temp = new TempDir();
        using var pair = RasterPair.Open(Path.Combine(dir, "2000TM"), Path.Combine(dir, "2003TM"));
        var result = ChangeDetector.Detect(pair, new ChangeDetectionOptions { Method = ChangeMethodKind.DeepCva }, temp.File("magnitude.tif"), temp.File("mask.tif"));
        var accuracy = ChangeEvaluator.Evaluate(temp.File("mask.tif"), Path.Combine(dir, "change.bmp"), Path.Combine(dir, "unchanged.bmp"));
        output.WriteLine($"{result.ThresholdMethod} threshold {result.Threshold:F4}: {accuracy}");
        Assert.Equal("otsu", result.ThresholdMethod);
        Assert.Equal(["magnitude", "conv1", "layer1", "layer2"], result.MagnitudeBands);
        Assert.True(accuracy.Kappa > 0.70, $"kappa {accuracy.Kappa:F3}");
    }

    private static ChangeAccuracy Score(string dir, byte[] mask, int w, int h)
    {
        using var changed = RasterDataset.Open(Path.Combine(dir, "change.bmp"));
        using var unchanged = RasterDataset.Open(Path.Combine(dir, "unchanged.bmp"));
        var c = changed.Read<byte>(1, new RasterWindow(0, 0, w, h));
        var u = unchanged.Read<byte>(1, new RasterWindow(0, 0, w, h));
        long tp = 0, fp = 0, tn = 0, fn = 0;
        for (var i = 0; i < mask.Length; i++)
        {
            var isChanged = c[i] != 0;
            if (isChanged == (u[i] != 0))
            {
                continue;
            }
            var says = mask[i] == 1;
            if (isChanged)
            {
                tp += says ? 1 : 0;
                fn += says ? 0 : 1;
            }
            else
            {
                fp += says ? 1 : 0;
                tn += says ? 0 : 1;
            }
        }
        return new ChangeAccuracy { TruePositives = tp, FalsePositives = fp, TrueNegatives = tn, FalseNegatives = fn };
    }
}
