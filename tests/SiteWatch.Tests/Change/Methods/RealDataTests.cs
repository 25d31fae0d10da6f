using SiteWatch.Core.Change;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Tests.Change.Methods;

/// <summary>
/// Accuracy on the Taizhou Landsat pair (Wu, Du and Zhang, IEEE TGRS 52(5), 2014) against its changed / unchanged
/// references, and plausibility on the pairs without a reference (changedet; Celik, IEEE GRSL 6(4), 2009).
/// </summary>
public class RealDataTests
{
    private static ChangeAccuracy RunTaizhou(TempDir dir, ChangeDetectionOptions options, out ChangeDetectionResult result)
    {
        var before = TestPaths.RequireSharedData("change", "taizhou", "2000TM");
        var after = TestPaths.RequireSharedData("change", "taizhou", "2003TM");
        var changed = TestPaths.RequireSharedData("change", "taizhou", "change.bmp");
        var unchanged = TestPaths.RequireSharedData("change", "taizhou", "unchanged.bmp");
        using var pair = RasterPair.Open(before, after);
        result = ChangeDetector.Detect(pair, options, dir.File("mag.tif"), dir.File("mask.tif"));
        return ChangeEvaluator.Evaluate(dir.File("mask.tif"), changed, unchanged);
    }

    [SkippableFact]
    public void Taizhou_default_method_is_accurate()
    {
        using var dir = new TempDir();
        var accuracy = RunTaizhou(dir, new ChangeDetectionOptions(), out var result);
        // Measured: IR-MAD, Otsu on sqrt(Z) floored at the chi-square 1 % value, area clean-up: kappa 0.926, F1 0.939.
        Assert.Equal("irmad", result.Method);
        Assert.True(accuracy.Kappa >= 0.90, accuracy.ToString());
        Assert.True(accuracy.F1 >= 0.91, accuracy.ToString());
        Assert.Equal(21_390, accuracy.Total);
        Assert.True(result.Converged);
        Assert.Equal(6, result.CanonicalCorrelations.Count);
    }

    [SkippableFact]
    public void Taizhou_mad_with_the_chi_square_test_matches_the_published_figure()
    {
        using var dir = new TempDir();
        // The reference Python implementation (ChangeDetectionRepository) gives kappa 0.704, F1 0.749 for MAD + chi2 p < 0.01.
        var accuracy = RunTaizhou(dir, new ChangeDetectionOptions { Method = ChangeMethodKind.Mad, Threshold = ThresholdRule.ChiSquare, Morphology = MaskCleanup.None }, out var result);
        Assert.InRange(accuracy.Kappa, 0.68, 0.73);
        Assert.InRange(accuracy.F1, 0.72, 0.78);
        Assert.Equal(16.812, result.Threshold, 3);
    }

    [SkippableTheory]
    [InlineData("irmad", "chi2", 0.93)]   // measured 0.942: the consistency correction makes the textbook test usable
    [InlineData("cva", "auto", 0.87)]     // measured 0.890
    [InlineData("pcakmeans", "auto", 0.89)] // measured 0.909
    [InlineData("mad", "otsu", 0.86)]     // measured 0.885
    public void Taizhou_other_methods_stay_at_their_measured_level(string method, string threshold, double floor)
    {
        using var dir = new TempDir();
        var accuracy = RunTaizhou(dir, new ChangeDetectionOptions { Method = ChangeChoices.ParseMethod(method), Threshold = ChangeChoices.ParseThreshold(threshold) }, out _);
        Assert.True(accuracy.Kappa >= floor, $"{method}/{threshold}: {accuracy}");
    }

    [SkippableFact]
    public void Taizhou_radiometric_normalisation_is_well_determined()
    {
        var before = TestPaths.RequireSharedData("change", "taizhou", "2000TM");
        var after = TestPaths.RequireSharedData("change", "taizhou", "2003TM");
        using var pair = RasterPair.Open(before, after);
        var fit = RadiometricNormalisation.Fit(pair);
        Assert.All(fit.Bands, band =>
        {
            Assert.True(band.Correlation > 0.8, $"band {band.Band}: correlation {band.Correlation:0.000}");
            Assert.True(band.Gain is > 0.3 and < 3, $"band {band.Band}: gain {band.Gain:0.000}");
            Assert.True(Math.Abs(band.HoldOutMeanDifference) < 1, $"band {band.Band}: hold-out bias {band.HoldOutMeanDifference:0.000}");
        });
        Assert.True(fit.NoChangePixels > 5_000, $"{fit.NoChangePixels} invariant pixels");
    }

    [SkippableTheory]
    [InlineData("changedet", "t1.tif", "t2.tif", 0.05, 0.30)]      // a dark area that mostly disappears: much change
    [InlineData("celik", "burn_1986.png", "burn_1992.png", 0.08, 0.30)] // a burn scar and brighter clearings
    [InlineData("celik", "forest_1986.png", "forest_1992.png", 0.01, 0.06)] // two lakes whose shores receded
    public void Unreferenced_pairs_give_a_plausible_changed_fraction(string folder, string first, string second, double low, double high)
    {
        using var dir = new TempDir();
        var before = TestPaths.RequireSharedData("change", folder, first);
        var after = TestPaths.RequireSharedData("change", folder, second);
        using var pair = RasterPair.Open(before, after);
        var result = ChangeDetector.Detect(pair, new ChangeDetectionOptions(), dir.File("mag.tif"), dir.File("mask.tif"));
        Assert.InRange(result.ChangedFraction, low, high);
    }
}
