using SiteWatch.Core;
using SiteWatch.Core.Change;
using SiteWatch.Gdal;
using Xunit.Abstractions;
using SiteWatch.Core.Change.Methods;
using SiteWatch.Core.Change.Deep;

namespace SiteWatch.Tests.Change.Deep;

public class DeepCvaMethodTests(ITestOutputHelper log)
{
    private const int Width = 256, Height = 224;
    // The new building: rows 90..129, columns 100..155.
    private const int BuildingTop = 90, BuildingBottom = 130, BuildingLeft = 100, BuildingRight = 156;

    /// <summary>
    /// Textured ground (fields, a road grid, per-pixel noise) in blue, green, red, nir; the AFTER date has fresh
    /// noise, a slightly different illumination and, optionally, a new bright building with a shadow.
    /// </summary>
    private static RasterDataset Scene(bool after, bool building, int seed, double? noData = null)
    {
        var raster = RasterDataset.CreateInMemory(new RasterProfile(Width, Height, 4, RasterDataType.Float32)
        {
            BandDescriptions = ["blue", "green", "red", "nir"],
            NoData = noData,
        });
        var rng = new Random(seed);
        var data = new float[Width * Height];
        for (var b = 0; b < 4; b++)
        {
            for (var r = 0; r < Height; r++)
            {
                for (var c = 0; c < Width; c++)
                {
                    var field = ((r / 37) * 7 + (c / 43) * 3) % 5; // patchwork of fields
                    var v = 60 + 12 * field + 10 * b
                        + 8 * Math.Sin(r * 0.45 + field) * Math.Cos(c * 0.37) // furrows
                        + (r % 64 < 3 || c % 80 < 3 ? 45 : 0) // roads
                        + 6 * (rng.NextDouble() - 0.5);
                    if (after)
                    {
                        v = 1.05 * v + 3;
                    }
                    if (after && building)
                    {
                        if (r >= BuildingTop && r < BuildingBottom && c >= BuildingLeft && c < BuildingRight)
                        {
                            v = 210 + 5 * b + ((r - BuildingTop) % 10 == 0 ? -20 : 0) + 4 * (rng.NextDouble() - 0.5);
                        }
                        else if (r >= BuildingBottom && r < BuildingBottom + 8 && c >= BuildingLeft + 4 && c < BuildingRight + 4)
                        {
                            v = 25 + 3 * b; // shadow
                        }
                    }
                    data[r * Width + c] = (float)v;
                }
            }
            raster.Write<float>(b + 1, new RasterWindow(0, 0, Width, Height), data);
        }
        return raster;
    }

    internal static float[][] Magnitude(DeepCvaMethod method, RasterPair pair, int blockSize)
    {
        method.Fit(pair, new ChangeDetectionOptions { BlockSize = blockSize }, null, default);
        var bands = method.OutputBands.Count;
        var result = Enumerable.Range(0, bands).Select(_ => new float[pair.Width * pair.Height]).ToArray();
        var output = new float[bands * blockSize * blockSize];
        foreach (var block in PairBlocks.Read(pair, blockSize, method.Halo))
        {
            var core = block.Core;
            var n = (int)core.PixelCount;
            method.Transform(block, output);
            for (var b = 0; b < bands; b++)
            {
                for (var r = 0; r < core.Height; r++)
                {
                    output.AsSpan(b * n + r * core.Width, core.Width).CopyTo(result[b].AsSpan((core.Row + r) * pair.Width + core.Column, core.Width));
                }
            }
        }
        return result;
    }

    private static bool InBuilding(int r, int c, int margin) =>
        r >= BuildingTop - margin && r < BuildingBottom + margin && c >= BuildingLeft - margin && c < BuildingRight + margin;

    [Fact]
    public void A_new_building_stands_out_from_textured_ground()
    {
        using var before = Scene(after: false, building: false, seed: 1);
        using var after = Scene(after: true, building: true, seed: 2);
        using var pair = new RasterPair(before, after);
        var method = new DeepCvaMethod();
        var magnitude = Magnitude(method, pair, 512)[0];

        Assert.Equal((2, 1, 0), method.InputBands); // red, green, blue found from the band descriptions
        Assert.Equal(["magnitude", "conv1", "layer1", "layer2"], method.OutputBands);
        double inside = 0, outside = 0;
        int nIn = 0, nOut = 0;
        for (var r = 0; r < Height; r++)
        {
            for (var c = 0; c < Width; c++)
            {
                var v = magnitude[r * Width + c];
                Assert.True(float.IsFinite(v) && v >= 0);
                if (InBuilding(r, c, 0))
                {
                    inside += v;
                    nIn++;
                }
                else if (!InBuilding(r, c, 24))
                {
                    // Beyond the shadow and a few strides of the deepest layer, whose features blur the building's edge.
                    outside += v;
                    nOut++;
                }
            }
        }
        inside /= nIn;
        outside /= nOut;
        log.WriteLine($"mean magnitude inside the building {inside:F3}, on the far ground {outside:F3} (ratio {inside / outside:F1})");
        Assert.True(inside > 3 * outside, $"mean magnitude inside {inside:F3}, outside {outside:F3}");

        // Otsu on the magnitude finds the building: most of it above the threshold, little of the far ground.
        var histogram = new MagnitudeHistogram(magnitude.Min(), magnitude.Max());
        histogram.AddValid(magnitude);
        var threshold = ChangeThresholds.Otsu(histogram);
        double hitIn = 0, hitOut = 0;
        for (var r = 0; r < Height; r++)
        {
            for (var c = 0; c < Width; c++)
            {
                var changed = magnitude[r * Width + c] > threshold;
                if (InBuilding(r, c, 0))
                {
                    hitIn += changed ? 1 : 0;
                }
                else if (!InBuilding(r, c, 24))
                {
                    hitOut += changed ? 1 : 0;
                }
            }
        }
        log.WriteLine($"Otsu threshold {threshold:F3}: {hitIn / nIn:P1} of the building and {hitOut / nOut:P2} of the far ground above it");
        Assert.True(hitIn / nIn > 0.8, $"only {hitIn / nIn:P0} of the building is above the Otsu threshold");
        Assert.True(hitOut / nOut < 0.05, $"{hitOut / nOut:P1} of the far ground is above the Otsu threshold");
    }

    [Fact]
    public void Identical_dates_give_zero_magnitude()
    {
        using var before = Scene(after: false, building: false, seed: 1);
        using var same = Scene(after: false, building: false, seed: 1);
        using var pair = new RasterPair(before, same);
        var bands = Magnitude(new DeepCvaMethod(), pair, 512);
        foreach (var band in bands)
        {
            Assert.All(band, v => Assert.True(float.IsFinite(v) && Math.Abs(v) < 1e-5, $"magnitude {v}"));
        }
    }

    [Fact]
    public void Tiling_does_not_change_the_result()
    {
        using var before = Scene(after: false, building: false, seed: 1);
        using var after = Scene(after: true, building: true, seed: 2);
        using var pair = new RasterPair(before, after);
        // Whole scene in one window, odd-sized windows that do not align with any stride, and one window split by the
        // method itself into 64-pixel network tiles.
        var whole = Magnitude(new DeepCvaMethod(), pair, 512);
        var small = Magnitude(new DeepCvaMethod(), pair, 75);
        var split = Magnitude(new DeepCvaMethod(new DeepCvaOptions { MaxTile = 64 }), pair, 300);
        var scale = whole[0].Max();
        foreach (var other in new[] { small, split })
        {
            for (var b = 0; b < whole.Length; b++)
            {
                var worst = 0.0;
                for (var i = 0; i < whole[b].Length; i++)
                {
                    worst = Math.Max(worst, Math.Abs(whole[b][i] - other[b][i]));
                }
                log.WriteLine($"band {b + 1}: largest difference between tilings {worst:G3} (magnitude max {scale:F3})");
                Assert.True(worst < 1e-3 * scale, $"band {b + 1}: tiles differ by up to {worst} (magnitude max {scale})");
            }
        }
    }

    [Fact]
    public void Nodata_pixels_come_out_nan_and_do_not_disturb_the_rest()
    {
        const float noData = -9999;
        using var before = Scene(after: false, building: true, seed: 1, noData);
        using var after = Scene(after: true, building: true, seed: 2, noData);
        var hole = new float[30 * 40];
        Array.Fill(hole, noData);
        after.Write<float>(1, new RasterWindow(10, 20, 40, 30), hole);
        using var pair = new RasterPair(before, after);
        var magnitude = Magnitude(new DeepCvaMethod(), pair, 128)[0];
        for (var r = 0; r < Height; r++)
        {
            for (var c = 0; c < Width; c++)
            {
                var inHole = r is >= 20 and < 50 && c is >= 10 and < 50;
                Assert.Equal(inHole, float.IsNaN(magnitude[r * Width + c]));
            }
        }
    }

    [Fact]
    public void The_fitting_sample_skips_tiles_without_data()
    {
        // Three 512-pixel sample tiles side by side; only the last holds data, and the sample budget is smaller than a tile.
        const int w = 1536, h = 160;
        var rasters = new[] { 1, 2 }.Select(seed =>
        {
            var raster = RasterDataset.CreateInMemory(new RasterProfile(w, h, 3, RasterDataType.Float32) { NoData = -1 });
            var rng = new Random(seed);
            var data = new float[w * h];
            for (var b = 1; b <= 3; b++)
            {
                for (var i = 0; i < data.Length; i++)
                {
                    data[i] = i % w < 1024 ? -1 : (float)(80 + 40 * Math.Sin(i % w * 0.2) * Math.Cos(i / w * 0.15) + 10 * rng.NextDouble());
                }
                raster.Write<float>(b, new RasterWindow(0, 0, w, h), data);
            }
            return raster;
        }).ToArray();
        using var before = rasters[0];
        using var after = rasters[1];
        using var pair = new RasterPair(before, after);
        var method = new DeepCvaMethod(new DeepCvaOptions { FitSamplePixels = 50_000 });
        var magnitude = Magnitude(method, pair, 512)[0];
        Assert.Contains(method.Describe(Result()).Notes, n => n.Contains($"fitted on 1 tile(s), {512 * h} valid pixels", StringComparison.Ordinal));
        for (var i = 0; i < magnitude.Length; i++)
        {
            Assert.Equal(i % w < 1024, float.IsNaN(magnitude[i]));
        }
    }

    [Fact]
    public void Without_band_metadata_the_first_three_bands_are_red_green_blue()
    {
        using var before = RasterDataset.CreateInMemory(new RasterProfile(64, 64, 5, RasterDataType.Byte));
        using var after = RasterDataset.CreateInMemory(new RasterProfile(64, 64, 5, RasterDataType.Byte));
        var rng = new Random(5);
        var data = new byte[64 * 64];
        foreach (var raster in new[] { before, after })
        {
            for (var b = 1; b <= 5; b++)
            {
                rng.NextBytes(data);
                raster.Write<byte>(b, new RasterWindow(0, 0, 64, 64), data);
            }
        }
        using var pair = new RasterPair(before, after, [5, 4, 3, 2, 1]);
        var method = new DeepCvaMethod();
        method.Fit(pair, new ChangeDetectionOptions(), null, default);
        Assert.Equal((0, 1, 2), method.InputBands);
        Assert.Contains(method.Describe(Result()).Notes, n => n.Contains("bands 5, 4, 3 fed as red, green, blue", StringComparison.Ordinal));
    }

    [Fact]
    public void Unknown_layers_and_bad_settings_are_reported()
    {
        Assert.Throws<SiteWatchException>(() => new DeepCvaMethod(new DeepCvaOptions { Layers = ["layer9"] }));
        using var before = Scene(after: false, building: false, seed: 1);
        using var pair = new RasterPair(before, before);
        var method = new DeepCvaMethod(new DeepCvaOptions { FeatureFraction = 0 });
        Assert.Throws<SiteWatchException>(() => method.Fit(pair, new ChangeDetectionOptions(), null, default));
        Assert.Equal(64, new DeepCvaMethod().Halo); // layer2: receptive radius 49 + stride 8 + alignment slack 7
        Assert.Equal(136, new DeepCvaMethod(new DeepCvaOptions { Layers = ["conv1", "layer3"] }).Halo);
    }

    internal static ChangeDetectionResult Result() => new()
    {
        Method = "deepcva",
        ThresholdMethod = "otsu",
        Threshold = 0,
        ChangedPixels = 0,
        ChangedPixelsBeforeMorphology = 0,
        ValidPixels = 0,
        TotalPixels = 0,
        MagnitudeBands = [],
    };
}
