using System.Diagnostics;
using SiteWatch.Core.Registration;
using SiteWatch.Gdal;

namespace SiteWatch.Tests.Registration;

/// <summary>
/// Which native library loads first is decided once per process, so this runs in a fresh one: `sitewatch` started with
/// this assembly as a .NET startup hook (<see cref="global::StartupHook"/>), which makes OpenCV's first call before any
/// GDAL call and then writes and reads back a ZSTD-compressed Float32 GeoTIFF. With OpenCV's native library loaded
/// first, the system zstd bound to OpenCV's own copy and the second tile row came back as zeros.
/// </summary>
public class NativeLoadOrderTests
{
    [Fact]
    public async Task GeoTiffs_written_after_opencv_loaded_first_read_back_exactly()
    {
        using var dir = new TempDir();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sitewatch.dll"));
        psi.ArgumentList.Add("--help");
        psi.Environment["DOTNET_STARTUP_HOOKS"] = typeof(NativeLoadOrderTests).Assembly.Location;
        psi.Environment[global::StartupHook.ProbeVariable] = dir.Path;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {stderr}{await stdout}");
        Assert.Contains("read back exactly", await stdout);
    }

    /// <summary>The probe the startup hook runs: OpenCV first, then a GeoTIFF round trip. Null when it reads back exactly.</summary>
    internal static string? Probe(string folder)
    {
        using (new PhaseCorrelator(16, 16))
        {
        }
        var path = Path.Combine(folder, "probe.tif");
        // Two tile rows and columns of 512 (GDAL's default block), Float32: ZSTD with the floating-point predictor.
        const int width = 700, height = 530;
        var profile = new RasterProfile(width, height, 2, RasterDataType.Float32) { GeoTransform = GeoTransform.NorthUp(500_000, 4_400_000, 2), Crs = "EPSG:32652" };
        static float Value(int band, int column, int row) => band * 1000 + column * 0.25f + row * 0.5f;
        using (var raster = RasterDataset.Create(path, profile))
        {
            for (var b = 1; b <= 2; b++)
            {
                var data = new float[width * height];
                for (var i = 0; i < data.Length; i++)
                {
                    data[i] = Value(b, i % width, i / width);
                }
                raster.Write<float>(b, new RasterWindow(0, 0, width, height), data);
            }
        }
        using var back = RasterDataset.Open(path);
        for (var b = 1; b <= 2; b++)
        {
            var read = back.Read<float>(b, new RasterWindow(0, 0, width, height));
            for (var i = 0; i < read.Length; i++)
            {
                if (read[i] != Value(b, i % width, i / width))
                {
                    return $"band {b} pixel ({i % width}, {i / width}) read back {read[i]}, written {Value(b, i % width, i / width)}";
                }
            }
        }
        return null;
    }
}
