using SiteWatch.Gdal;

namespace SiteWatch.Core.Registration;

/// <summary>
/// OpenCvSharp's native library carries its own copies of zstd and lz4 and exports their symbols, yet also declares the
/// system libzstd and liblz4 as dependencies. When OpenCV is the first to load those system libraries, their internal
/// calls bind to OpenCV's copies (another version), and from then on every ZSTD-compressed GeoTIFF that GDAL writes in
/// the process has zeroed or unreadable tiles: a test host that ran phase correlation before any GDAL call wrote corrupt
/// Float32 products and died of heap corruption. Loaded first, as GDAL's dependencies, the system libraries bind to
/// themselves and OpenCV keeps its copies to itself. Every class that calls OpenCV calls <see cref="Ensure"/> first.
/// </summary>
internal static class OpenCvLoadOrder
{
    public static void Ensure() => GdalEnvironment.EnsureInitialized();
}
