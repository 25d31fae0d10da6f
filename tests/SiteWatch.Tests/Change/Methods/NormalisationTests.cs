using SiteWatch.Core;
using SiteWatch.Core.Change;
using SiteWatch.Gdal;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Tests.Change.Methods;

public class NormalisationTests
{
    [Fact]
    public void Recovers_a_known_gain_and_offset_despite_changed_pixels()
    {
        using var dir = new TempDir();
        // Target = gain * reference + offset (+ noise) on unchanged pixels; the change region must not bias the fit.
        var scene = new SyntheticPair { Noise = 0.5, Gains = [0.7, 1.3, 0.9, 1.2], Offsets = [12, -25, 6, 30] };
        var (t1, t2) = scene.Write(dir.Path);
        using var pair = RasterPair.Open(t1, t2);
        var fit = RadiometricNormalisation.Fit(pair, new NormalisationOptions { BlockSize = 100 });
        Assert.Equal(4, fit.Bands.Count);
        for (var b = 0; b < 4; b++)
        {
            var band = fit.Bands[b];
            // normalised = Gain * target + Offset inverts target = g * reference + o.
            Assert.Equal(1 / scene.Gains[b], band.Gain, 2);
            Assert.True(Math.Abs(-scene.Offsets[b] / scene.Gains[b] - band.Offset) < 0.5, $"band {b + 1}: offset {band.Offset:0.00}");
            Assert.True(band.Correlation > 0.99, $"band {b + 1}: correlation {band.Correlation:0.0000}");
            Assert.True(Math.Abs(band.HoldOutMeanDifference) < 0.1, $"band {b + 1}: hold-out bias {band.HoldOutMeanDifference:0.000}");
            Assert.True(band.HoldOutRmse < 1.5, $"band {b + 1}: hold-out RMSE {band.HoldOutRmse:0.000}");
            Assert.True(band.HoldOutCount > band.Count / 3, "about a third is held out");
        }
        // P(no change) > 0.95 keeps the most invariant 5 % of the unchanged pixels when Z follows chi2(N), as it does here.
        Assert.InRange(fit.NoChangePixels / (double)fit.ValidPixels, 0.03, 0.08);

        string[] names = ["blue", "green", "red", "nir"];
        using (var named = RasterDataset.Open(t2, update: true))
        {
            for (var b = 0; b < 4; b++)
            {
                named.SetBandDescription(b + 1, names[b]);
            }
        }
        using var target = RasterDataset.Open(t2);
        RadiometricNormalisation.Apply(target, fit, dir.File("norm/t2_normalised.tif"), blockSize: 64);
        using var normalised = RasterDataset.Open(dir.File("norm/t2_normalised.tif"));
        Assert.Equal((RasterDataType.Float32, 4), (normalised.DataType, normalised.BandCount));
        Assert.Equal(target.GeoTransform, normalised.GeoTransform);
        // The band names come along: a change model after normalisation finds its red, green and blue by name.
        Assert.Equal(names, Enumerable.Range(1, 4).Select(normalised.BandDescription));
        // On unchanged pixels the normalised target now matches the reference up to the noise.
        var (before, _) = scene.Generate();
        var n = scene.Width * scene.Height;
        for (var b = 0; b < 4; b++)
        {
            var values = normalised.Read<float>(b + 1, new RasterWindow(0, 0, scene.Width, scene.Height));
            double sum2 = 0;
            long count = 0;
            for (var i = 0; i < n; i++)
            {
                if (!SyntheticPair.NearChange(i / scene.Width, i % scene.Width))
                {
                    var d = values[i] - before[b * n + i];
                    sum2 += d * d;
                    count++;
                }
            }
            Assert.True(Math.Sqrt(sum2 / count) < 1.5, $"band {b + 1}: RMSE {Math.Sqrt(sum2 / count):0.000}");
        }
    }

    [Fact]
    public void Apply_checks_the_band_count_and_keeps_nodata()
    {
        using var dir = new TempDir();
        var scene = new SyntheticPair { Width = 80, Height = 60, NoDataValue = -9999, NoDataWhere = (r, _) => r == 0 };
        var (t1, t2) = scene.Write(dir.Path);
        using var pair = RasterPair.Open(t1, t2);
        var fit = RadiometricNormalisation.Fit(pair);
        using var reference = RasterDataset.Open(t1); // row 0 is nodata here
        RadiometricNormalisation.Apply(reference, fit, dir.File("n.tif"));
        var first = SyntheticPair.ReadBand(dir.File("n.tif"));
        Assert.All(first.Take(scene.Width), v => Assert.True(float.IsNaN(v)));
        Assert.All(first.Skip(scene.Width), v => Assert.True(float.IsFinite(v)));
        var e = Assert.Throws<SiteWatchException>(() => RadiometricNormalisation.Apply(reference, fit, dir.File("m.tif"), [1, 2]));
        Assert.Contains("fitted on 4 bands", e.Message);
        Assert.False(File.Exists(dir.File("m.tif")));
    }
}
