using System.Runtime.InteropServices;
using SiteWatch.Gdal.Native;

namespace SiteWatch.Gdal;

/// <summary>Process-wide GDAL set-up: drivers registered once, errors captured instead of printed.</summary>
public static class GdalEnvironment
{
    private static readonly Lock s_gate = new();
    private static bool s_ready;

    /// <summary>Registers drivers and routes GDAL's messages to its per-thread last-error slot (read by <see cref="GdalException"/>).</summary>
    public static void EnsureInitialized()
    {
        if (Volatile.Read(ref s_ready))
        {
            return;
        }
        lock (s_gate)
        {
            if (s_ready)
            {
                return;
            }
            // CPLQuietErrorHandler still records the last error per thread; it only stops GDAL writing to stderr.
            var quiet = NativeLibrary.GetExport(GdalNative.LibraryHandle, "CPLQuietErrorHandler");
            GdalNative.CPLSetErrorHandler(quiet);
            // Side-car .aux.xml files would appear next to users' source files when statistics are computed; we never want them.
            GdalNative.CPLSetConfigOption("GDAL_PAM_ENABLED", "NO");
            GdalNative.CPLSetConfigOption("GTIFF_REPORT_COMPD_CS", "YES");
            // GDAL's block cache defaults to 5 % of RAM; block-by-block work needs far less, and memory should stay
            // bounded whatever the machine. GDAL_CACHEMAX in the environment still wins.
            if (Environment.GetEnvironmentVariable("GDAL_CACHEMAX") is null)
            {
                GdalNative.CPLSetConfigOption("GDAL_CACHEMAX", "256");
            }
            BlockMemory.KeepFreedBlocks();
            GdalNative.GDALAllRegister();
            Volatile.Write(ref s_ready, true);
        }
    }

    /// <summary>GDAL's release name, e.g. "3.6.2".</summary>
    public static string Version
    {
        get
        {
            EnsureInitialized();
            return GdalNative.Utf8(GdalNative.GDALVersionInfo("RELEASE_NAME")) ?? "unknown";
        }
    }

    /// <summary>The options set through this class, as last set: a value set again unchanged is not written again.</summary>
    private static readonly Dictionary<string, string?> s_options = [];

    /// <summary>
    /// Sets a GDAL configuration option (e.g. GDAL_CACHEMAX) for the process. GDAL hands out pointers to option values
    /// that a later write of the same option frees, so writing an option other threads may be reading is unsafe: a
    /// value set again unchanged (every S3 workspace opened sets GDAL's S3 options) is not written again, and writes
    /// are serialised. Per-open settings belong in thread-local options instead.
    /// </summary>
    public static void SetConfigOption(string key, string? value)
    {
        EnsureInitialized();
        lock (s_gate)
        {
            if (s_options.TryGetValue(key, out var current) && current == value)
            {
                return;
            }
            GdalNative.CPLSetConfigOption(key, value);
            s_options[key] = value;
        }
    }
}
