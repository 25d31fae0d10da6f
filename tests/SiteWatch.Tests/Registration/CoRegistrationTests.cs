using System.Diagnostics;
using SiteWatch.Core;
using SiteWatch.Core.Registration;
using SiteWatch.Gdal;
using Xunit.Abstractions;

namespace SiteWatch.Tests.Registration;

/// <summary>Estimate and Resample on synthetic scenes whose true target -> reference mapping is known exactly.</summary>
public sealed class CoRegistrationTests(ITestOutputHelper output)
{
    private const int Size = 768;
    private static readonly SyntheticGround _ground = new(7, Size + 40);
    private static readonly Lazy<float[]> _referenceImage = new(() => _ground.Render(Size, Size, SyntheticGround.Shift(0, 0), 1, 10));
    private static readonly CoRegistrationOptions _defaults = new();

    /// <summary>A target showing the ground under <paramref name="map"/>, with other gain, offset and noise than the reference.</summary>
    private static RasterDataset Target(double[] map, string? path = null, Func<int, int, bool>? noData = null, int noiseSeed = 2) =>
        RegistrationRasters.Write(_ground.Render(Size, Size, map, noiseSeed, 10, 0.8, 300), Size, Size, path, noData: noData);

    private static RasterDataset Reference(string? path = null, Func<int, int, bool>? noData = null) =>
        RegistrationRasters.Write(_referenceImage.Value, Size, Size, path, noData: noData);

    private static Func<double, double, (double X, double Y)> Truth(double[] map) =>
        (x, y) => (map[0] + map[1] * x + map[2] * y, map[3] + map[4] * x + map[5] * y);

    [Fact]
    public void Recovers_pure_shifts_integer_and_sub_pixel_within_a_tenth_of_a_pixel()
    {
        using var reference = Reference();
        (double X, double Y)[] shifts = [(2.3, -1.7), (0, 0), (3, -2), (-0.5, 0.25), (0.37, -0.81), (-4.6, 3.15), (12.6, 9.2)];
        double sumSq = 0;
        foreach (var (sx, sy) in shifts)
        {
            using var target = Target(SyntheticGround.Shift(sx, sy));
            var clock = Stopwatch.StartNew();
            var result = CoRegistration.Estimate(reference, target, _defaults);
            var error = Math.Sqrt(Math.Pow(result.ShiftX - sx, 2) + Math.Pow(result.ShiftY - sy, 2));
            sumSq += error * error;
            output.WriteLine($"true ({sx,6:0.000}, {sy,6:0.000})  estimated ({result.ShiftX,8:0.0000}, {result.ShiftY,8:0.0000})  error {error:0.0000} px  [{clock.ElapsedMilliseconds} ms]  {result}");
            Assert.True(result.Reliable, result.Warning);
            Assert.True(error < 0.1, $"shift ({sx}, {sy}) recovered as ({result.ShiftX:0.000}, {result.ShiftY:0.000})");
            Assert.True(Math.Abs(result.RotationDegrees) < 0.01, $"spurious rotation {result.RotationDegrees}");
            Assert.InRange(result.ScaleX, 0.9999, 1.0001);
            Assert.InRange(result.ScaleY, 0.9999, 1.0001);
            Assert.Equal(result.TiePoints, result.Points.Count);
            Assert.True(result.Inliers >= _defaults.MinInliers);
        }
        var rmse = Math.Sqrt(sumSq / shifts.Length);
        output.WriteLine($"RMSE of the recovered shifts over {shifts.Length} pairs: {rmse:0.0000} px");
        Assert.True(rmse < 0.1, $"shift RMSE {rmse:0.000} px");
    }

    [Fact]
    public void Recovers_a_small_rotation_and_shift_with_the_affine_model()
    {
        using var reference = Reference();
        var map = SyntheticGround.RotationAndShift(0.3, Size / 2.0, Size / 2.0, 2.3, -1.7);
        using var target = Target(map);
        var result = CoRegistration.Estimate(reference, target, _defaults);
        var fieldRmse = RegistrationRasters.FieldRmse(result, Truth(map), Size, Size);
        output.WriteLine($"{result}; mapping RMSE over the scene {fieldRmse:0.0000} px");
        Assert.True(result.Reliable, result.Warning);
        Assert.Equal(RegistrationModel.Affine, result.Model);
        Assert.InRange(result.RotationDegrees, 0.29, 0.31);
        Assert.InRange(result.ScaleX, 0.9999, 1.0001);
        Assert.InRange(result.ScaleY, 0.9999, 1.0001);
        Assert.True(fieldRmse < 0.1, $"mapping RMSE {fieldRmse:0.000} px");
        // The shift is reported at the scene centre, which the rotation is about.
        Assert.InRange(result.ShiftX, 2.2, 2.4);
        Assert.InRange(result.ShiftY, -1.8, -1.6);
        // The inverse mapping undoes the forward one.
        var (rx, ry) = result.TargetToReference(100.25, 600.5);
        var (tx, ty) = result.ReferenceToTarget(rx, ry);
        Assert.Equal(100.25, tx, 6);
        Assert.Equal(600.5, ty, 6);
    }

    [Fact]
    public void Global_estimate_finds_the_shift_alone_and_at_reduced_resolution()
    {
        using var reference = Reference();
        using var target = Target(SyntheticGround.Shift(-5.4, 2.2));
        var full = CoRegistration.Estimate(reference, target, _defaults);
        Assert.InRange(full.GlobalShiftX, -5.65, -5.15);
        Assert.InRange(full.GlobalShiftY, 1.95, 2.45);
        Assert.True(full.GlobalResponse > 0.5, $"global response {full.GlobalResponse}");

        // Box-averaged by 3 for the global step: the windows still refine to full accuracy.
        var reduced = CoRegistration.Estimate(reference, target, _defaults with { GlobalMaxSize = 256 });
        output.WriteLine($"global at 1/3: ({reduced.GlobalShiftX:0.000}, {reduced.GlobalShiftY:0.000}) response {reduced.GlobalResponse:0.000}; final {reduced}");
        Assert.InRange(reduced.GlobalShiftX, -6.4, -4.4);
        Assert.InRange(reduced.GlobalShiftY, 1.2, 3.2);
        Assert.InRange(reduced.ShiftX, -5.5, -5.3);
        Assert.InRange(reduced.ShiftY, 2.1, 2.3);
    }

    [Fact]
    public void Global_estimate_uses_overviews_when_the_scene_has_them()
    {
        using var dir = new TempDir();
        Reference(dir.File("ref.tif")).Dispose();
        Target(SyntheticGround.Shift(3.7, -2.6), dir.File("target.tif")).Dispose();
        foreach (var name in new[] { "ref.tif", "target.tif" })
        {
            using var raster = RasterDataset.Open(dir.File(name), update: true);
            raster.BuildOverviews([2, 4]);
        }
        using var r = RasterDataset.Open(dir.File("ref.tif"));
        using var t = RasterDataset.Open(dir.File("target.tif"));
        Assert.True(r.OverviewCount > 0);
        var result = CoRegistration.Estimate(r, t, _defaults with { GlobalMaxSize = 256 });
        output.WriteLine($"global from overviews ({result.GlobalShiftX:0.000}, {result.GlobalShiftY:0.000}); final {result}");
        Assert.InRange(result.GlobalShiftX, 2.7, 4.7);
        Assert.InRange(result.GlobalShiftY, -3.6, -1.6);
        Assert.InRange(result.ShiftX, 3.6, 3.8);
        Assert.InRange(result.ShiftY, -2.7, -2.5);
    }

    [Fact]
    public void Skips_nodata_and_still_registers()
    {
        const int boundary = 340;
        using var reference = Reference();
        using var target = Target(SyntheticGround.Shift(1.6, -0.9), noData: (c, _) => c < boundary);
        var result = CoRegistration.Estimate(reference, target, _defaults);
        output.WriteLine(result.ToString());
        Assert.True(result.Reliable, result.Warning);
        Assert.InRange(result.ShiftX, 1.5, 1.7);
        Assert.InRange(result.ShiftY, -1.0, -0.8);
        // Every tie point's target window holds at least MinValidFraction valid pixels.
        var half = _defaults.WindowSize / 2.0;
        foreach (var p in result.Points)
        {
            var valid = Math.Clamp((p.TargetX + half - (boundary + 1)) / _defaults.WindowSize, 0, 1);
            Assert.True(valid >= _defaults.MinValidFraction - 0.02, $"tie point at ({p.TargetX}, {p.TargetY}) has only {valid:P0} valid pixels");
        }
        Assert.True(result.WindowsTried > result.TiePoints, "the nodata windows should have been skipped");
    }

    [Fact]
    public void Exclusion_mask_keeps_a_cloud_out_of_the_match()
    {
        using var dir = new TempDir();
        using var reference = Reference();
        // A bright, featureless "cloud" with a soft rim over a third of the target; its mask covers the opaque part.
        var image = _ground.Render(Size, Size, SyntheticGround.Shift(-2.2, 1.4), 2, 10, 0.8, 300);
        var mask = new byte[Size * Size];
        for (var r = 0; r < Size; r++)
        {
            for (var c = 0; c < Size; c++)
            {
                var d = Math.Sqrt(Math.Pow(c - 250, 2) + Math.Pow(r - 300, 2));
                var opacity = Math.Clamp((260 - d) / 20, 0, 1);
                image[r * Size + c] = (float)((1 - opacity) * image[r * Size + c] + opacity * 9000);
                mask[r * Size + c] = opacity > 0.05 ? (byte)1 : (byte)0;
            }
        }
        using var target = RegistrationRasters.Write(image, Size, Size);
        var maskPath = dir.File("cloud.tif");
        using (var m = RasterDataset.Create(maskPath, new RasterProfile(Size, Size, 1, RasterDataType.Byte) { GeoTransform = RegistrationRasters.Profile(Size, Size).GeoTransform, Crs = "EPSG:32652" }))
        {
            m.Write<byte>(1, new RasterWindow(0, 0, Size, Size), mask);
        }
        var result = CoRegistration.Estimate(reference, target, _defaults with { ExclusionMaskPath = maskPath });
        output.WriteLine(result.ToString());
        Assert.True(result.Reliable, result.Warning);
        Assert.InRange(result.ShiftX, -2.3, -2.1);
        Assert.InRange(result.ShiftY, 1.3, 1.5);
        var half = _defaults.WindowSize / 2;
        foreach (var p in result.Points)
        {
            int c0 = (int)(p.TargetX - half), r0 = (int)(p.TargetY - half), masked = 0;
            for (var r = Math.Max(0, r0); r < Math.Min(Size, r0 + _defaults.WindowSize); r++)
            {
                for (var c = Math.Max(0, c0); c < Math.Min(Size, c0 + _defaults.WindowSize); c++)
                {
                    masked += mask[r * Size + c];
                }
            }
            Assert.True(masked <= (1 - _defaults.MinValidFraction) * _defaults.WindowSize * _defaults.WindowSize + 1, $"tie point at ({p.TargetX}, {p.TargetY}) lies in the cloud");
        }
    }

    [Fact]
    public void Refuses_all_nodata_textureless_and_non_overlapping_input()
    {
        using var reference = Reference();
        using var empty = RegistrationRasters.Write(new float[Size * Size], Size, Size, noData: (_, _) => true);
        var e = Assert.Throws<SiteWatchException>(() => CoRegistration.Estimate(reference, empty, _defaults));
        Assert.Contains("no valid pixels", e.Message);
        output.WriteLine(e.Message);

        using var flat = RegistrationRasters.Write(Enumerable.Repeat(1000f, Size * Size).ToArray(), Size, Size);
        e = Assert.Throws<SiteWatchException>(() => CoRegistration.Estimate(reference, flat, _defaults));
        Assert.Contains("no texture", e.Message);
        output.WriteLine(e.Message);

        using var left = Reference(noData: (c, _) => c >= 300);
        using var right = Target(SyntheticGround.Shift(1, 1), noData: (c, _) => c < 420);
        e = Assert.Throws<SiteWatchException>(() => CoRegistration.Estimate(left, right, _defaults));
        Assert.Contains("does not overlap", e.Message);
        output.WriteLine(e.Message);
    }

    [Fact]
    public void Refuses_scenes_of_different_grids()
    {
        using var reference = Reference();
        using var elsewhere = Target(SyntheticGround.Shift(0, 0));
        elsewhere.GeoTransform = GeoTransform.NorthUp(600_000, 4_400_000, 2.0);
        var e = Assert.Throws<SiteWatchException>(() => CoRegistration.Estimate(reference, elsewhere, _defaults));
        Assert.Contains("does not overlap", e.Message);

        using var offGrid = Target(SyntheticGround.Shift(0, 0));
        offGrid.GeoTransform = GeoTransform.NorthUp(500_001, 4_400_000, 2.0);
        e = Assert.Throws<SiteWatchException>(() => CoRegistration.Estimate(reference, offGrid, _defaults));
        Assert.Contains("not on the grid", e.Message);

        using var small = RegistrationRasters.Write(_ground.Render(500, 400, SyntheticGround.Shift(0, 0), 3, 10), 500, 400);
        e = Assert.Throws<SiteWatchException>(() => CoRegistration.Estimate(reference, small, _defaults));
        Assert.Contains("500 x 400", e.Message);
        output.WriteLine(e.Message);
    }

    [Fact]
    public void Unrelated_scenes_are_refused_or_flagged()
    {
        using var reference = Reference();
        var other = new SyntheticGround(99, Size + 40);
        using var target = RegistrationRasters.Write(other.Render(Size, Size, SyntheticGround.Shift(0, 0), 5, 10), Size, Size);
        try
        {
            var result = CoRegistration.Estimate(reference, target, _defaults);
            output.WriteLine(result.ToString());
            Assert.False(result.Reliable, "two scenes of different ground were registered as reliable");
            Assert.False(string.IsNullOrEmpty(result.Warning));
            Assert.Throws<SiteWatchException>(() => CoRegistration.Estimate(reference, target, _defaults with { ThrowIfUnreliable = true }));
        }
        catch (SiteWatchException e)
        {
            output.WriteLine(e.Message);
            Assert.Contains("cannot be matched", e.Message);
        }
    }

    [Fact]
    public void Flags_an_implausible_scale_and_throws_when_asked()
    {
        using var reference = Reference();
        const double scale = 1.025;
        var c = Size / 2.0;
        using var target = Target([c - scale * c + 0.5, scale, 0, c - scale * c - 0.5, 0, scale]);
        var result = CoRegistration.Estimate(reference, target, _defaults);
        output.WriteLine(result.ToString());
        Assert.False(result.Reliable);
        Assert.Contains("implausible scale", result.Warning);
        Assert.InRange(result.ScaleX, scale - 0.002, scale + 0.002);
        var e = Assert.Throws<SiteWatchException>(() => CoRegistration.Estimate(reference, target, _defaults with { ThrowIfUnreliable = true }));
        Assert.Contains("unreliable", e.Message);
        Assert.Contains("implausible scale", e.Message);
    }

    [Fact]
    public void Flags_too_few_inliers()
    {
        using var reference = Reference();
        // Only a 300 x 300 corner of the target holds data: a few windows at most.
        using var target = Target(SyntheticGround.Shift(0.8, 0.4), noData: (col, row) => col >= 300 || row >= 300);
        var result = CoRegistration.Estimate(reference, target, _defaults);
        output.WriteLine(result.ToString());
        Assert.False(result.Reliable);
        Assert.Contains("inlier tie point", result.Warning);
        Assert.True(result.Inliers < _defaults.MinInliers);
    }

    [Fact]
    public void Flags_RMSE_and_rotation_beyond_their_limits()
    {
        using var reference = Reference();
        using var target = Target(SyntheticGround.RotationAndShift(0.3, Size / 2.0, Size / 2.0, 1.1, 0.7));
        var strict = CoRegistration.Estimate(reference, target, _defaults with { MaxRmsePixels = 0.001, MaxRotationDegrees = 0.1 });
        output.WriteLine(strict.ToString());
        Assert.False(strict.Reliable);
        Assert.Contains("residual RMSE", strict.Warning);
        Assert.Contains("implausible rotation", strict.Warning);
        Assert.True(CoRegistration.Estimate(reference, target, _defaults).Reliable);
    }

    [Fact]
    public void Recovers_a_shift_made_by_GDAL_cubic_resampling()
    {
        using var dir = new TempDir();
        using var reference = Reference(dir.File("ref.tif"));
        (double X, double Y) shift = (2.3, -1.7);
        // The reference's pixels placed `shift` pixels up-left and warped back onto the grid: target pixel t shows
        // the ground of reference pixel t + shift.
        var gt = reference.GeoTransform!.Value;
        using var moved = RasterDataset.CreateInMemory(RegistrationRasters.Profile(Size, Size) with
        {
            GeoTransform = gt with { OriginX = gt.OriginX - shift.X * gt.PixelWidth, OriginY = gt.OriginY - shift.Y * gt.PixelHeight },
        });
        var window = new RasterWindow(0, 0, Size, Size);
        for (var b = 1; b <= reference.BandCount; b++)
        {
            moved.Write<ushort>(b, window, reference.Read<ushort>(b, window));
        }
        using var target = Warper.Warp(moved, "", new WarpTarget { Extent = reference.Bounds, Size = (Size, Size), Resampling = Resampling.Cubic }, "MEM");
        var result = CoRegistration.Estimate(reference, target, _defaults);
        var error = Math.Sqrt(Math.Pow(result.ShiftX - shift.X, 2) + Math.Pow(result.ShiftY - shift.Y, 2));
        output.WriteLine($"GDAL cubic shift ({shift.X}, {shift.Y}): error {error:0.0000} px; {result}");
        Assert.True(result.Reliable, result.Warning);
        Assert.True(error < 0.1, $"recovered ({result.ShiftX:0.000}, {result.ShiftY:0.000})");
    }

    [Fact]
    public void Fits_a_second_order_polynomial_when_asked_and_the_distortion_needs_it()
    {
        using var dir = new TempDir();
        using var reference = Reference(dir.File("ref.tif"));
        const double k = 5e-6;
        var c = Size / 2.0;
        Func<double, double, (double X, double Y)> truth = (x, y) =>
            (x + 2.3 + k * (x - c) * (x - c) - 0.5 * k * (y - c) * (y - c), y - 1.7 + 1.5 * k * (x - c) * (y - c));
        using var target = RegistrationRasters.Write(_ground.Render(Size, Size, truth, 2, 10), Size, Size, dir.File("target.tif"));

        var affine = CoRegistration.Estimate(reference, target, _defaults);
        var polynomial = CoRegistration.Estimate(reference, target, _defaults with { Model = RegistrationModel.Polynomial2 });
        var affineRmse = RegistrationRasters.FieldRmse(affine, truth, Size, Size);
        var polynomialRmse = RegistrationRasters.FieldRmse(polynomial, truth, Size, Size);
        output.WriteLine($"affine: {affine}; mapping RMSE {affineRmse:0.000} px");
        output.WriteLine($"polynomial: {polynomial}; mapping RMSE {polynomialRmse:0.000} px");
        Assert.Equal(RegistrationModel.Polynomial2, polynomial.Model);
        Assert.NotNull(polynomial.Polynomial);
        Assert.True(polynomialRmse < 0.05, $"polynomial mapping RMSE {polynomialRmse:0.000} px");
        Assert.True(affineRmse > 3 * polynomialRmse, "the distortion should be beyond an affine");

        // Through GDAL's GCP polynomial (approximated by the warper within 0.125 px).
        var registered = dir.File("registered.tif");
        CoRegistration.Resample(reference, target, polynomial, registered);
        using var result = RasterDataset.Open(registered);
        var residual = CoRegistration.Estimate(reference, result, _defaults);
        output.WriteLine($"after resampling: {residual}");
        Assert.True(Math.Sqrt(residual.ShiftX * residual.ShiftX + residual.ShiftY * residual.ShiftY) < 0.1);
    }

    [Fact]
    public void Resample_puts_the_target_on_the_reference_grid_with_no_residual_shift()
    {
        using var dir = new TempDir();
        using var reference = Reference(dir.File("ref.tif"));
        var map = SyntheticGround.RotationAndShift(0.3, Size / 2.0, Size / 2.0, 2.3, -1.7);
        using var target = Target(map, dir.File("target.tif"));
        var model = CoRegistration.Estimate(reference, target, _defaults);
        Assert.True(model.Reliable, model.Warning);

        var registered = dir.File("out/registered.tif");
        var reports = new List<double>();
        CoRegistration.Resample(reference, target, model, registered, progress: new Progress<double>(reports.Add));
        using var result = RasterDataset.Open(registered);
        AssertSameGrid(reference, target, result);

        var residual = CoRegistration.Estimate(reference, result, _defaults);
        var fieldRmse = RegistrationRasters.FieldRmse(residual, (x, y) => (x, y), Size, Size);
        output.WriteLine($"model {model}");
        output.WriteLine($"after resampling: {residual}; residual mapping RMSE {fieldRmse:0.0000} px");
        Assert.True(Math.Sqrt(residual.ShiftX * residual.ShiftX + residual.ShiftY * residual.ShiftY) < 0.1, $"residual shift ({residual.ShiftX:0.000}, {residual.ShiftY:0.000})");
        Assert.True(Math.Abs(residual.RotationDegrees) < 0.01);
        Assert.True(fieldRmse < 0.1, $"residual mapping RMSE {fieldRmse:0.000}");
        Assert.Equal("Affine", result.GetMetadataItem("SITEWATCH_COREG_MODEL"));
        // Nothing but the output is left beside it.
        Assert.Equal("registered.tif", Assert.Single(Directory.GetFiles(dir.File("out")).Select(Path.GetFileName)));
    }

    [Fact]
    public void Resample_writes_a_COG_and_stages_an_in_memory_target()
    {
        using var dir = new TempDir();
        using var reference = Reference(dir.File("ref.tif"));
        using var target = Target(SyntheticGround.Shift(-3.3, 0.6));
        var model = CoRegistration.Estimate(reference, target, _defaults);
        var cog = dir.File("out/registered.tif");
        CoRegistration.Resample(reference, target, model, cog, new ResampleOptions { Cog = true });
        using var result = RasterDataset.Open(cog);
        Assert.Equal("COG", result.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE"));
        AssertSameGrid(reference, target, result);
        var residual = CoRegistration.Estimate(reference, result, _defaults);
        output.WriteLine($"model {model}; after resampling: {residual}");
        Assert.True(Math.Sqrt(residual.ShiftX * residual.ShiftX + residual.ShiftY * residual.ShiftY) < 0.1);
        Assert.Equal("registered.tif", Assert.Single(Directory.GetFiles(dir.File("out")).Select(Path.GetFileName)));
    }

    [Fact]
    public void Resample_refuses_an_unreliable_model_unless_allowed()
    {
        using var dir = new TempDir();
        using var reference = Reference(dir.File("ref.tif"));
        using var target = Target(SyntheticGround.Shift(0.8, 0.4), dir.File("target.tif"), noData: (col, row) => col >= 300 || row >= 300);
        var model = CoRegistration.Estimate(reference, target, _defaults);
        Assert.False(model.Reliable);
        var path = dir.File("registered.tif");
        var e = Assert.Throws<SiteWatchException>(() => CoRegistration.Resample(reference, target, model, path));
        Assert.Contains("unreliable", e.Message);
        Assert.False(File.Exists(path));
        CoRegistration.Resample(reference, target, model, path, new ResampleOptions { AllowUnreliable = true });
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void Estimate_honours_cancellation_and_validates_options()
    {
        using var reference = Reference();
        using var target = Target(SyntheticGround.Shift(1, 1));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => CoRegistration.Estimate(reference, target, _defaults, cancelled.Token));
        var e = Assert.Throws<SiteWatchException>(() => CoRegistration.Estimate(reference, target, _defaults with { WindowSize = 8 }));
        Assert.Contains("WindowSize", e.Message);
        e = Assert.Throws<SiteWatchException>(() => CoRegistration.Estimate(reference, target, _defaults with { Bands = [5] }));
        Assert.Contains("no band 5", e.Message);
        e = Assert.Throws<SiteWatchException>(() => CoRegistration.Estimate(reference, target, _defaults with { ExclusionMaskPath = "/nonexistent/mask.tif" }));
        Assert.Contains("mask", e.Message);
    }

    private static void AssertSameGrid(RasterDataset reference, RasterDataset target, RasterDataset result)
    {
        Assert.Equal(reference.Width, result.Width);
        Assert.Equal(reference.Height, result.Height);
        Assert.Equal(target.BandCount, result.BandCount);
        Assert.Equal(target.DataType, result.DataType);
        Assert.Equal(reference.NoData, result.NoData);
        var expected = reference.GeoTransform!.Value.ToArray();
        var actual = result.GeoTransform!.Value.ToArray();
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(expected[i], actual[i], 6);
        }
        using var rc = reference.OpenCrs();
        using var oc = result.OpenCrs();
        Assert.True(rc!.IsSame(oc!));
        Assert.Equal(target.BandDescription(1), result.BandDescription(1));
    }
}
