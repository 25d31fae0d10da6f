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

    /// <summary>Sets a GDAL configuration option for the files under one path prefix only (e.g. one bucket's /vsis3/ prefix).</summary>
    public static void SetPathOption(string pathPrefix, string key, string? value)
    {
        EnsureInitialized();
        GdalNative.VSISetPathSpecificOption(pathPrefix, key, value);
    }

    /// <summary>Sets a GDAL configuration option (e.g. GDAL_CACHEMAX) for the process.</summary>
    public static void SetConfigOption(string key, string? value)
    {
        EnsureInitialized();
        GdalNative.CPLSetConfigOption(key, value);
    }
}
