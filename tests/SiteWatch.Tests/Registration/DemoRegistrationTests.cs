using System.Diagnostics;
using System.Globalization;
using SiteWatch.Demo.Plant;
using SiteWatch.Core.Registration;
using SiteWatch.Gdal;
using SiteWatch.Tests.Demo;
using Xunit.Abstractions;

namespace SiteWatch.Tests.Registration;

/// <summary>
/// Co-registration of the demo series, whose scenes differ by season, sun (shadows), haze, sensor calibration,
/// construction and one cloud field, and are misregistered by known shifts: the true target -> reference shift of
/// scene B against scene A is ShiftB - ShiftA (pixel (col,row) of a scene shows the ground at col + 0.5 + Shift).
/// </summary>
public sealed class DemoRegistrationTests(ITestOutputHelper output)
{
    private const double Tolerance = 0.2;
    private static readonly CoRegistrationOptions _defaults = new();

    private static RasterDataset Raster(int index)
    {
        var plan = DemoScenes.Plan;
        var scene = DemoScenes.Scene(index);
        var raster = RasterDataset.CreateInMemory(new RasterProfile(scene.Width, scene.Height, 4, RasterDataType.UInt16)
        {
            GeoTransform = GeoTransform.FromArray(plan.GeoTransform),
            Crs = $"EPSG:{DemoPlan.Epsg}",
            NoData = 0,
        });
        for (var b = 0; b < 4; b++)
        {
            raster.Write<ushort>(b + 1, new RasterWindow(0, 0, scene.Width, scene.Height), scene.Bands[b]);
        }
        return raster;
    }

    private static (double X, double Y) TrueShift(int reference, int target)
    {
        var a = DemoScenes.Plan.Acquisitions[reference];
        var b = DemoScenes.Plan.Acquisitions[target];
        return (b.ShiftXPixels - a.ShiftXPixels, b.ShiftYPixels - a.ShiftYPixels);
    }

    private static string WriteCloudMask(TempDir dir, int index)
    {
        var plan = DemoScenes.Plan;
        var mask = DemoScenes.Scene(index).CloudMask ?? throw new InvalidOperationException($"scene {index} has no clouds");
        var path = dir.File($"cloud_{index}.tif");
        using var raster = RasterDataset.Create(path, new RasterProfile(plan.Width, plan.Height, 1, RasterDataType.Byte)
        {
            GeoTransform = GeoTransform.FromArray(plan.GeoTransform),
            Crs = $"EPSG:{DemoPlan.Epsg}",
        });
        raster.Write<byte>(1, new RasterWindow(0, 0, plan.Width, plan.Height), mask);
        return path;
    }

    [Fact]
    public void Series_each_scene_against_the_first_recovers_the_true_shift()
    {
        using var dir = new TempDir();
        var plan = DemoScenes.Plan;
        using var reference = Raster(0);
        var errors = new List<double>();
        var times = new List<double>();
        output.WriteLine("scene  date        true shift (px)     estimated (px)        error px  inl/ties  RMSE px  global resp  ms");
        for (var i = 1; i < plan.Acquisitions.Count; i++)
        {
            using var target = Raster(i);
            var clouded = DemoScenes.Scene(i).CloudMask is not null;
            var options = clouded ? _defaults with { ExclusionMaskPath = WriteCloudMask(dir, i) } : _defaults;
            var clock = Stopwatch.StartNew();
            var result = CoRegistration.Estimate(reference, target, options);
            var elapsed = clock.Elapsed.TotalMilliseconds;
            var (tx, ty) = TrueShift(0, i);
            var error = Math.Sqrt(Math.Pow(result.ShiftX - tx, 2) + Math.Pow(result.ShiftY - ty, 2));
            errors.Add(error);
            times.Add(elapsed);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{i,5}  {plan.AcquisitionDate(i):yyyy-MM-dd}  ({tx,7:0.000}, {ty,7:0.000})  ({result.ShiftX,8:0.0000}, {result.ShiftY,8:0.0000})  {error,8:0.0000}  {result.Inliers,3}/{result.TiePoints,-3}  {result.RmsePixels,7:0.000}  {result.GlobalResponse,11:0.000}  {elapsed,5:0}{(clouded ? "  (cloud mask)" : "")}"));
            Assert.True(result.Reliable, $"scene {i}: {result.Warning}");
            Assert.True(error < Tolerance, $"scene {i}: true ({tx:0.000}, {ty:0.000}), estimated ({result.ShiftX:0.000}, {result.ShiftY:0.000})");
            Assert.True(Math.Abs(result.RotationDegrees) < 0.01, $"scene {i}: spurious rotation {result.RotationDegrees}");
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"mean error {errors.Average():0.0000} px, max {errors.Max():0.0000} px ({errors.Average() * plan.Gsd:0.000} / {errors.Max() * plan.Gsd:0.000} m); mean {times.Average():0} ms per pair"));
    }

    [Fact]
    public void Clouded_scene_with_its_cloud_mask_registers_without_tie_points_in_the_cloud()
    {
        using var dir = new TempDir();
        var plan = DemoScenes.Plan;
        var cloudy = PlantScenario.CloudyAcquisitionIndex;
        var mask = DemoScenes.Scene(cloudy).CloudMask!;
        using var reference = Raster(0);
        using var target = Raster(cloudy);
        var (tx, ty) = TrueShift(0, cloudy);
        var masked = CoRegistration.Estimate(reference, target, _defaults with { ExclusionMaskPath = WriteCloudMask(dir, cloudy) });
        var error = Math.Sqrt(Math.Pow(masked.ShiftX - tx, 2) + Math.Pow(masked.ShiftY - ty, 2));
        output.WriteLine($"with the cloud mask: error {error:0.0000} px; {masked}");
        Assert.True(masked.Reliable, masked.Warning);
        Assert.True(error < Tolerance);
        var n = _defaults.WindowSize;
        var cloudyWindows = 0;
        foreach (var p in masked.Points)
        {
            int c0 = (int)Math.Round(p.TargetX - n / 2.0), r0 = (int)Math.Round(p.TargetY - n / 2.0), count = 0;
            for (var r = Math.Max(0, r0); r < Math.Min(plan.Height, r0 + n); r++)
            {
                for (var c = Math.Max(0, c0); c < Math.Min(plan.Width, c0 + n); c++)
                {
                    count += mask[r * plan.Width + c];
                }
            }
            Assert.True(count <= (1 - _defaults.MinValidFraction) * n * n + 1, $"tie point ({p.TargetX:0}, {p.TargetY:0}) has {count} cloud pixels in its window");
            cloudyWindows += count > 0 ? 1 : 0;
        }
        Assert.Contains(mask, m => m != 0);
        output.WriteLine($"{cloudyWindows} tie-point windows touch the cloud mask at their edge");

        // Without the mask the cloud windows fail the match or are rejected as outliers: still within tolerance.
        var unmasked = CoRegistration.Estimate(reference, target, _defaults);
        var unmaskedError = Math.Sqrt(Math.Pow(unmasked.ShiftX - tx, 2) + Math.Pow(unmasked.ShiftY - ty, 2));
        output.WriteLine($"without the mask: error {unmaskedError:0.0000} px; {unmasked}");
        Assert.True(unmaskedError < Tolerance);
    }

    [Fact]
    public void Resampled_scene_has_no_residual_shift_against_the_reference()
    {
        using var dir = new TempDir();
        var plan = DemoScenes.Plan;
        var index = DemoScenes.MostShiftedClearScene();
        using var reference = Raster(0);
        using var target = Raster(index);
        var model = CoRegistration.Estimate(reference, target, _defaults);
        var path = dir.File("registered.tif");
        CoRegistration.Resample(reference, target, model, path);
        using var registered = RasterDataset.Open(path);
        Assert.Equal(reference.GeoTransform, registered.GeoTransform);
        Assert.Equal(4, registered.BandCount);
        Assert.Equal(RasterDataType.UInt16, registered.DataType);
        Assert.Equal(0, registered.NoData);
        var residual = CoRegistration.Estimate(reference, registered, _defaults);
        var before = TrueShift(0, index);
        output.WriteLine($"scene {index}: true shift ({before.X:0.000}, {before.Y:0.000}); model {model}");
        output.WriteLine($"after resampling: {residual}");
        Assert.True(Math.Sqrt(residual.ShiftX * residual.ShiftX + residual.ShiftY * residual.ShiftY) < 0.1,
            $"residual shift ({residual.ShiftX:0.000}, {residual.ShiftY:0.000}) px");
        Assert.True(plan.Width == registered.Width && plan.Height == registered.Height);
    }
}
