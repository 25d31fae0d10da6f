using System.Runtime.InteropServices;
using SiteWatch.Gdal;

namespace SiteWatch.Tests.Gdal;

public class BlockMemoryTests
{
    /// <summary>
    /// Once GDAL is set up, a block of a few tens of megabytes comes from the C heap, where the next dataset reuses its
    /// pages once it is freed, not from a mapping of its own that glibc's malloc unmaps on free (its default for 128 KB
    /// and more until it adapts), counted by mallinfo2's bytes in mapped regions. An earlier form of this test counted
    /// page faults on reused blocks; that depends on how full the thread's arena is (glibc unmaps a wholly free heap of
    /// a non-main arena whatever the settings), and a CI machine faulted on 3 of 8 blocks every round.
    /// </summary>
    [Fact]
    public void Blocks_of_tens_of_megabytes_come_from_the_heap_not_from_mappings_of_their_own()
    {
        GdalEnvironment.EnsureInitialized();
        const int BlockBytes = 24 << 20; // under the 32 MB limit GDAL's setup sets, above what glibc maps by default
        // Other tests map and unmap memory at the same time; the smallest growth of three tries is this block's own.
        var growth = long.MaxValue;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var before = MappedBytes();
            var block = Marshal.AllocHGlobal(BlockBytes); // malloc
            var after = MappedBytes();
            Marshal.FreeHGlobal(block);
            growth = Math.Min(growth, after - before);
        }
        Assert.True(growth < BlockBytes, $"a {BlockBytes >> 20} MB block grew malloc's mapped regions by {growth >> 20} MB");
    }

    private static long MappedBytes()
    {
        // struct mallinfo2: ten size_t counters; hblkhd, the bytes in mapped regions, is the fifth.
        var info = Mallinfo2();
        return (long)info.MappedBytes;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, OrdinaryBlocks, SmallBlocks, MappedRegions, MappedBytes, MaxAllocated, SmallFree, Allocated, Free, KeepCost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 Mallinfo2();
}
