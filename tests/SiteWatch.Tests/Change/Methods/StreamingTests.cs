using SiteWatch.Core.Change;
using SiteWatch.Gdal;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Tests.Change.Methods;

public class StreamingTests
{
    [Theory]
    [InlineData("irmad", "auto", "area")]
    [InlineData("mad", "chi2", "openclose")]
    [InlineData("mad", "chi2", "area")]
    [InlineData("cva", "otsu", "area")]
    [InlineData("cva", "kmeans", "none")]
    [InlineData("pcakmeans", "auto", "area")]
    public void Block_size_64_gives_the_result_of_block_size_512(string method, string threshold, string morphology)
    {
        using var dir = new TempDir();
        var scene = new SyntheticPair { Seed = 9 }; // 300 x 260: block 64 leaves partial windows on both edges
        var (t1, t2) = scene.Write(dir.Path);
        using var pair = RasterPair.Open(t1, t2);
        var options = new ChangeDetectionOptions { Method = ChangeChoices.ParseMethod(method), Threshold = ChangeChoices.ParseThreshold(threshold), Morphology = ChangeChoices.ParseCleanup(morphology) };
        var large = ChangeDetector.Detect(pair, options with { BlockSize = 512 }, dir.File("mag512.tif"), dir.File("mask512.tif"));
        var small = ChangeDetector.Detect(pair, options with { BlockSize = 64 }, dir.File("mag64.tif"), dir.File("mask64.tif"));

        Assert.Equal(large.Threshold, small.Threshold, 4);
        Assert.Equal(large.Iterations, small.Iterations);
        for (var i = 0; i < large.CanonicalCorrelations.Count; i++)
        {
            Assert.Equal(large.CanonicalCorrelations[i], small.CanonicalCorrelations[i], 7);
        }
        var a = SyntheticPair.ReadBand(dir.File("mag512.tif"));
        var b = SyntheticPair.ReadBand(dir.File("mag64.tif"));
        for (var i = 0; i < a.Length; i++)
        {
            Assert.True(Math.Abs(a[i] - b[i]) <= 1e-4 * (1 + Math.Abs(a[i])), $"pixel {i}: {a[i]} vs {b[i]}");
        }
        // Only pixels sitting exactly on the threshold could flip; there are none here.
        Assert.Equal(SyntheticPair.ReadMask(dir.File("mask512.tif")), SyntheticPair.ReadMask(dir.File("mask64.tif")));
        Assert.Equal(large.ChangedPixels, small.ChangedPixels);
    }

    [Fact]
    public void A_mask_made_in_the_transform_pass_is_the_same_when_its_halo_spans_several_rows_of_windows()
    {
        // The chi-square threshold is known before the transform, so the mask is cleaned up from a strip of rows kept in
        // memory; with 20-pixel regions the area clean-up's halo (41 px) reaches three rows of 16-pixel windows.
        using var dir = new TempDir();
        var scene = new SyntheticPair { Seed = 9 };
        var (t1, t2) = scene.Write(dir.Path);
        using var pair = RasterPair.Open(t1, t2);
        var options = new ChangeDetectionOptions { Method = ChangeMethodKind.Mad, Threshold = ThresholdRule.ChiSquare, Morphology = MaskCleanup.Area, MinRegionPixels = 20 };
        var whole = ChangeDetector.Detect(pair, options with { BlockSize = 512 }, dir.File("mag512.tif"), dir.File("mask512.tif"));
        var strip = ChangeDetector.Detect(pair, options with { BlockSize = 16 }, dir.File("mag16.tif"), dir.File("mask16.tif"));

        Assert.True(whole.ChangedPixelsBeforeMorphology > whole.ChangedPixels, "the clean-up removed something");
        // Reference made independently: band 1 as written, thresholded and cleaned up as one window (no halo at all).
        var values = SyntheticPair.ReadBand(dir.File("mag16.tif"));
        var valid = values.Select(v => float.IsFinite(v) ? (byte)1 : (byte)0).ToArray();
        var binary = values.Select((v, i) => valid[i] == 1 && v > strip.Threshold ? (byte)1 : (byte)0).ToArray();
        BinaryMorphology.AreaOpenClose(binary, valid, scene.Width, scene.Height, 20, new int[values.Length], new byte[values.Length]);
        var expected = binary.Select((b, i) => valid[i] == 0 ? ChangeDetector.MaskNoData : b).ToArray();
        Assert.Equal(expected, SyntheticPair.ReadMask(dir.File("mask16.tif")));
        Assert.Equal(SyntheticPair.ReadMask(dir.File("mask512.tif")), SyntheticPair.ReadMask(dir.File("mask16.tif")));
        Assert.Equal(whole.ChangedPixelsBeforeMorphology, strip.ChangedPixelsBeforeMorphology);
        Assert.Equal(whole.ChangedPixels, strip.ChangedPixels);
    }

    [Fact]
    public void Outputs_are_on_the_pairs_grid_with_the_documented_types_and_nodata()
    {
        using var dir = new TempDir();
        var scene = new SyntheticPair { Width = 90, Height = 70, NoDataValue = -9999, NoDataWhere = (r, c) => r < 5 };
        var (t1, t2) = scene.Write(dir.Path);
        using var pair = RasterPair.Open(t1, t2);
        var result = ChangeDetector.Detect(pair, new ChangeDetectionOptions(), dir.File("out/mag.tif"), dir.File("out/mask.tif"));
        using var magnitude = RasterDataset.Open(dir.File("out/mag.tif"));
        using var mask = RasterDataset.Open(dir.File("out/mask.tif"));
        Assert.Equal((RasterDataType.Float32, 2 + scene.Bands), (magnitude.DataType, magnitude.BandCount));
        Assert.True(double.IsNaN(magnitude.NoData!.Value));
        Assert.Equal((RasterDataType.Byte, 1, 255.0), (mask.DataType, mask.BandCount, mask.NoData!.Value));
        Assert.Equal(pair.Before.GeoTransform, magnitude.GeoTransform);
        Assert.Equal(32633, mask.OpenCrs()!.Epsg);
        Assert.Equal("chi2", magnitude.BandDescription(1));
        Assert.Equal("irmad", mask.GetMetadataItem("CHANGE_METHOD"));
        var m = SyntheticPair.ReadMask(dir.File("out/mask.tif"));
        var z = SyntheticPair.ReadBand(dir.File("out/mag.tif"));
        Assert.All(m.Take(5 * scene.Width), v => Assert.Equal(ChangeDetector.MaskNoData, v));
        Assert.All(z.Take(5 * scene.Width), v => Assert.True(float.IsNaN(v)));
        Assert.All(m.Skip(5 * scene.Width), v => Assert.True(v is 0 or 1));
        Assert.Equal(scene.Width * (scene.Height - 5), result.ValidPixels);
        Assert.Equal(m.LongCount(v => v == 1), result.ChangedPixels);
        // The probability band is 1 - F_chi2(Z; N).
        var probability = SyntheticPair.ReadBand(dir.File("out/mag.tif"), 2);
        var i = 20 * scene.Width + 30;
        Assert.Equal(ChiSquare.Survival(z[i], scene.Bands), probability[i], 5);
        Assert.Empty(Directory.GetFiles(dir.File("out"), ".*"));
    }

    [Fact]
    public void Without_extra_bands_only_the_magnitude_is_written()
    {
        using var dir = new TempDir();
        var (t1, t2) = new SyntheticPair { Width = 80, Height = 60 }.Write(dir.Path);
        using var pair = RasterPair.Open(t1, t2);
        var result = ChangeDetector.Detect(pair, new ChangeDetectionOptions { Method = ChangeMethodKind.Cva, ExtraBands = false }, dir.File("mag.tif"), dir.File("mask.tif"));
        using var magnitude = RasterDataset.Open(dir.File("mag.tif"));
        Assert.Equal(1, magnitude.BandCount);
        Assert.Equal(["magnitude"], result.MagnitudeBands);
    }

    [Fact]
    public void Progress_reaches_one_and_cancellation_leaves_nothing_behind()
    {
        using var dir = new TempDir();
        var (t1, t2) = new SyntheticPair { Width = 200, Height = 150 }.Write(dir.Path);
        using var pair = RasterPair.Open(t1, t2);
        var reports = new List<double>();
        ChangeDetector.Detect(pair, new ChangeDetectionOptions { BlockSize = 64 }, dir.File("mag.tif"), dir.File("mask.tif"), new SyncProgress(reports.Add));
        Assert.Equal(1, reports[^1]);
        Assert.True(reports.Zip(reports.Skip(1), (a, b) => b >= a - 1e-12).All(x => x), "progress went backwards");

        using var cancel = new CancellationTokenSource();
        // Cancel while the magnitude raster is being written, so a partial file exists and must be removed.
        var progress = new SyncProgress(value =>
        {
            if (value > 0.7)
            {
                cancel.Cancel();
            }
        });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            ChangeDetector.Detect(pair, new ChangeDetectionOptions { BlockSize = 64 }, dir.File("c-mag.tif"), dir.File("c-mask.tif"), progress, cancel.Token));
        Assert.False(File.Exists(dir.File("c-mag.tif")));
        Assert.Empty(Directory.GetFiles(dir.Path, ".*"));
    }

    internal sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
