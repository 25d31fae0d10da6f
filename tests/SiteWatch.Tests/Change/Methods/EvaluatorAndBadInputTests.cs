using SiteWatch.Core;
using SiteWatch.Core.Change;
using SiteWatch.Gdal;
using SiteWatch.Core.Change.Learned;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Tests.Change.Methods;

public class EvaluatorAndBadInputTests
{
    private static string WriteByte(string path, int width, int height, byte[] data, double? nodata = null)
    {
        using var raster = RasterDataset.Create(path, new RasterProfile(width, height, 1, RasterDataType.Byte) { NoData = nodata });
        raster.Write<byte>(1, new RasterWindow(0, 0, width, height), data);
        return path;
    }

    [Fact]
    public void Metrics_of_a_hand_made_confusion()
    {
        using var dir = new TempDir();
        // 5 x 4 = 20 pixels. Reference changed = first 8 pixels; prediction: 6 of them changed, and 3 of the other 12.
        var reference = new byte[20];
        var predicted = new byte[20];
        for (var i = 0; i < 8; i++)
        {
            reference[i] = 255;
            predicted[i] = (byte)(i < 6 ? 1 : 0);
        }
        predicted[10] = predicted[11] = predicted[12] = 1;
        var a = ChangeEvaluator.Evaluate(WriteByte(dir.File("p.tif"), 5, 4, predicted, 255), WriteByte(dir.File("c.tif"), 5, 4, reference));
        Assert.Equal((6L, 3L, 9L, 2L), (a.TruePositives, a.FalsePositives, a.TrueNegatives, a.FalseNegatives));
        Assert.Equal(15.0 / 20, a.OverallAccuracy, 12);
        Assert.Equal(6.0 / 9, a.Precision, 12);
        Assert.Equal(6.0 / 8, a.Recall, 12);
        Assert.Equal(12.0 / 17, a.F1, 12);
        Assert.Equal(6.0 / 11, a.IoU, 12);
        // Chance agreement: (9 * 8 + 11 * 12) / 400 = 0.51; kappa = (0.75 - 0.51) / 0.49.
        Assert.Equal((0.75 - 0.51) / 0.49, a.Kappa, 12);
    }

    [Fact]
    public void With_an_unchanged_reference_only_labelled_pixels_count()
    {
        using var dir = new TempDir();
        byte[] changed = [1, 1, 0, 0, 0, 0, 1, 0];
        byte[] unchanged = [0, 0, 1, 1, 0, 0, 1, 0];      // pixel 6 is in both: ambiguous, left out; 4, 5, 7 unlabelled
        byte[] predicted = [1, 0, 0, 1, 1, 1, 1, 255];
        var a = ChangeEvaluator.Evaluate(WriteByte(dir.File("p.tif"), 4, 2, predicted, 255), WriteByte(dir.File("c.tif"), 4, 2, changed), WriteByte(dir.File("u.tif"), 4, 2, unchanged));
        Assert.Equal((1L, 1L, 1L, 1L), (a.TruePositives, a.FalsePositives, a.TrueNegatives, a.FalseNegatives));
        Assert.Equal(4, a.Unlabelled);
        Assert.Equal(0, a.PredictionNoData);
        // Without it, every pixel not marked changed counts as unchanged; the prediction's nodata pixel is skipped.
        var b = ChangeEvaluator.Evaluate(dir.File("p.tif"), dir.File("c.tif"));
        Assert.Equal((2L, 3L, 1L, 1L), (b.TruePositives, b.FalsePositives, b.TrueNegatives, b.FalseNegatives));
        Assert.Equal(1, b.PredictionNoData);
    }

    [Fact]
    public void A_reference_of_another_size_is_refused_naming_both_sizes()
    {
        using var dir = new TempDir();
        var p = WriteByte(dir.File("p.tif"), 4, 3, new byte[12]);
        var c = WriteByte(dir.File("c.tif"), 5, 3, new byte[15]);
        var e = Assert.Throws<SiteWatchException>(() => ChangeEvaluator.Evaluate(p, c));
        Assert.Contains("5 x 3", e.Message);
        Assert.Contains("4 x 3", e.Message);
        var missing = Assert.Throws<SiteWatchException>(() => ChangeEvaluator.Evaluate(p, dir.File("none.bmp")));
        Assert.Contains("not found", missing.Message);
    }

    [Fact]
    public void Fully_masked_scenes_give_a_clear_error_and_write_nothing()
    {
        using var dir = new TempDir();
        var scene = new SyntheticPair { Width = 64, Height = 48, NoDataValue = 0, NoDataWhere = (_, _) => true };
        var (t1, t2) = scene.Write(dir.Path);
        using var pair = RasterPair.Open(t1, t2);
        // "model" needs a model file first; its own tests cover it.
        foreach (var method in Enum.GetValues<ChangeMethodKind>().Where(m => m != ChangeMethodKind.Model))
        {
            var e = Assert.Throws<SiteWatchException>(() => ChangeDetector.Detect(pair, new ChangeDetectionOptions { Method = method }, dir.File("out/mag.tif"), dir.File("out/mask.tif")));
            Assert.Contains("no pixel holds valid data", e.Message);
        }
        Assert.False(Directory.Exists(dir.File("out")) && Directory.EnumerateFileSystemEntries(dir.File("out")).Any());
    }

    [Fact]
    public void Too_few_valid_pixels_for_the_statistics_is_a_clear_error()
    {
        using var dir = new TempDir();
        // Only a 5 x 6 corner holds data on date 1.
        var scene = new SyntheticPair { Width = 64, Height = 48, NoDataValue = -1, NoDataWhere = (r, c) => r >= 5 || c >= 6 };
        var (t1, t2) = scene.Write(dir.Path);
        using var pair = RasterPair.Open(t1, t2);
        var e = Assert.Throws<SiteWatchException>(() => ChangeDetector.Detect(pair, new ChangeDetectionOptions(), dir.File("mag.tif"), dir.File("mask.tif")));
        Assert.Contains("only 30 pixels hold valid data", e.Message);
        Assert.False(File.Exists(dir.File("mag.tif")));
        Assert.Empty(Directory.GetFiles(dir.Path, ".*"));
    }

    [Fact]
    public void Mismatched_bands_and_bad_options_are_refused()
    {
        using var dir = new TempDir();
        var (t1, _) = new SyntheticPair { Width = 40, Height = 30 }.Write(dir.Path, "four");
        var (_, t2) = new SyntheticPair { Width = 40, Height = 30, Bands = 3 }.Write(dir.Path, "three");
        var bands = Assert.Throws<SiteWatchException>(() => RasterPair.Open(t1, t2));
        Assert.Contains("has 3 bands", bands.Message);

        var (a, b) = new SyntheticPair { Width = 40, Height = 30 }.Write(dir.Path);
        using var pair = RasterPair.Open(a, b);
        var chi2 = Assert.Throws<SiteWatchException>(() => ChangeDetector.Detect(pair, new ChangeDetectionOptions { Method = ChangeMethodKind.Cva, Threshold = ThresholdRule.ChiSquare }, dir.File("m.tif"), dir.File("k.tif")));
        Assert.Contains("needs a chi-square statistic", chi2.Message);
        Assert.Throws<SiteWatchException>(() => ChangeDetector.Detect(pair, new ChangeDetectionOptions { Significance = 1.5 }, dir.File("m.tif"), dir.File("k.tif")));
        Assert.Equal("morphology", Assert.Throws<SiteWatchException>(() => ChangeChoices.ParseCleanup("dilate")).Parameter);
        Assert.Throws<SiteWatchException>(() => ChangeDetector.Detect(pair, new ChangeDetectionOptions { Regularisation = 1 }, dir.File("m.tif"), dir.File("k.tif")));
        Assert.Throws<SiteWatchException>(() => ChangeDetector.Detect(pair, new ChangeDetectionOptions(), dir.File("same.tif"), dir.File("same.tif")));
        Assert.False(File.Exists(dir.File("m.tif")));
    }

    /// <summary>
    /// Hosts offer and refuse thresholds from the table in ChangeChoices without building the method (a learned model
    /// loads its network): the table must agree with what each method's band 1 is.
    /// </summary>
    [Fact]
    public void The_threshold_table_agrees_with_each_methods_own_statistic()
    {
        foreach (var kind in ChangeChoices.MethodKinds)
        {
            if (kind == ChangeMethodKind.Model && ChangeModel.DefaultModelPath is null)
            {
                continue;
            }
            var method = ChangeMethods.Create(kind, new ChangeDetectionOptions());
            try
            {
                Assert.Equal(method.MagnitudeIsSquared, ChangeChoices.GivesChiSquare(kind));
                var offered = ChangeChoices.ThresholdsFor(kind);
                Assert.Equal(ThresholdRule.Auto, offered[0]);
                Assert.Contains(method.DefaultThreshold, offered);
                Assert.Equal(method.MagnitudeIsSquared, offered.Contains(ThresholdRule.ChiSquare));
                Assert.Equal(kind == ChangeMethodKind.Model, offered.Contains(ThresholdRule.Model));
                Assert.False(string.IsNullOrWhiteSpace(ChangeChoices.Describe(kind)));
            }
            finally
            {
                (method as IDisposable)?.Dispose();
            }
        }
        Assert.Equal("threshold", Assert.Throws<SiteWatchException>(() => ChangeChoices.RequireThreshold(ChangeMethodKind.DeepCva, ThresholdRule.Model)).Parameter);
    }
}
