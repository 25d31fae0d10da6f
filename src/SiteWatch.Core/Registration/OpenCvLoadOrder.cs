using System.Runtime.InteropServices;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Registration;

/// <summary>
/// OpenCvSharp's native library carries its own copies of zstd and lz4 and exports their symbols, yet also declares the
/// system libzstd and liblz4 as dependencies. When OpenCV is the first to load those system libraries, their internal
/// calls bind to OpenCV's copies (another version), and from then on every ZSTD-compressed GeoTIFF that GDAL writes in
/// the process has zeroed or unreadable tiles: a test host that ran phase correlation before any GDAL call wrote corrupt
/// Float32 products and died of heap corruption. Loaded first (as GDAL's dependencies, and by name should GDAL ever stop
/// needing them), the system libraries bind to themselves and OpenCV keeps its copies to itself. Every class that calls
/// OpenCV calls <see cref="Ensure"/> first.
/// </summary>
internal static class OpenCvLoadOrder
{
    private static readonly bool s_loaded = Load();

    public static void Ensure() => _ = s_loaded;

    private static bool Load()
    {
        GdalEnvironment.EnsureInitialized();
        if (OperatingSystem.IsLinux())
        {
            foreach (var library in (string[])["libzstd.so.1", "liblz4.so.1"])
            {
                // Already loaded by GDAL in practice; a library absent here is one OpenCV cannot load either.
                NativeLibrary.TryLoad(library, out _);
            }
        }
        return true;
    }
}
