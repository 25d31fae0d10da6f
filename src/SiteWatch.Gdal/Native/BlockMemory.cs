using System.Runtime.InteropServices;

namespace SiteWatch.Gdal.Native;

/// <summary>
/// Keeps the memory of freed raster blocks in the process for the next dataset. glibc's malloc maps allocations of
/// 128 KB and more (every block GDAL caches from a 512-pixel tile) straight from the kernel, or, once it adapts, trims
/// them off the top of its heap when they are freed: each dataset then gets its blocks as fresh pages, and the first
/// write to every page is a fault (bench/detect-throughput.sh, alternated: overhead ratio 1.35-1.44 with glibc's
/// defaults and 1.33-1.36 with this on a quiet machine, 1.43-1.50 and 1.31-1.39 on a loaded one). Allocations up to
/// 32 MB therefore come from the heap, and the heap is given back to the system only above 256 MB free, GDAL's cache
/// size. Settings a user makes with glibc's MALLOC_ variables are left alone.
/// </summary>
internal static class BlockMemory
{
    private const int TrimThreshold = -1; // M_TRIM_THRESHOLD in glibc's malloc.h
    private const int MmapThreshold = -3; // M_MMAP_THRESHOLD

    public static void KeepFreedBlocks()
    {
        if (!OperatingSystem.IsLinux()
            || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null
            || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null
            || !NativeLibrary.TryLoad("libc.so.6", out var libc))
        {
            return;
        }
        // glibc only: another C library has no mallopt, or other parameters behind the same numbers.
        if (NativeLibrary.TryGetExport(libc, "gnu_get_libc_version", out _) && NativeLibrary.TryGetExport(libc, "mallopt", out var mallopt))
        {
            unsafe
            {
                var set = (delegate* unmanaged<int, int, int>)mallopt;
                set(MmapThreshold, 32 << 20);
                set(TrimThreshold, 256 << 20);
            }
        }
    }
}
