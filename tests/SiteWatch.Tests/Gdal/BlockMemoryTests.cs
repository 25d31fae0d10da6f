using System.Runtime.InteropServices;
using SiteWatch.Gdal;

namespace SiteWatch.Tests.Gdal;

public class BlockMemoryTests
{
    /// <summary>
    /// Once GDAL is set up, blocks of a few megabytes freed by a closed dataset stay in the C heap, and the next
    /// dataset's blocks reuse their pages instead of faulting in fresh ones (glibc's malloc would trim the freed top of
    /// its heap or unmap each block), counted as this thread's minor page faults while writing the new blocks.
    /// </summary>
    [Fact]
    public void Blocks_freed_by_one_dataset_are_reused_by_the_next_without_page_faults()
    {
        GdalEnvironment.EnsureInitialized();
        const int Blocks = 8, BlockBytes = 4 << 20;
        var ones = new byte[BlockBytes];
        Array.Fill(ones, (byte)1);
        var blocks = new nint[Blocks];
        void AllocateAndWrite()
        {
            for (var i = 0; i < Blocks; i++)
            {
                blocks[i] = Marshal.AllocHGlobal(BlockBytes); // malloc
                Marshal.Copy(ones, 0, blocks[i], BlockBytes);
            }
        }
        void Free()
        {
            for (var i = Blocks - 1; i >= 0; i--)
            {
                Marshal.FreeHGlobal(blocks[i]);
            }
        }
        // A thread's arena other than the main one is a chain of heaps of at most 64 MB, and glibc unmaps a heap that
        // became wholly free whatever the trim threshold: blocks that spilled into a new heap (other tests share the
        // arenas) fault again. A few rounds let the blocks settle in one heap; with glibc's defaults every round faults.
        var pages = (long)Blocks * BlockBytes / Environment.SystemPageSize;
        var rounds = new List<long>();
        for (var round = 0; round < 4; round++)
        {
            AllocateAndWrite();
            Free();
            var before = MinorFaultsOfThisThread();
            AllocateAndWrite();
            rounds.Add(MinorFaultsOfThisThread() - before);
            Free();
        }
        Assert.True(rounds.Min() < pages / 4, $"{string.Join(", ", rounds)} page faults writing {pages} pages of blocks into memory freed just before");
    }

    private static long MinorFaultsOfThisThread()
    {
        // struct rusage on 64-bit Linux: two timevals, then 14 longs of which ru_minflt is the fifth.
        var usage = new long[18];
        Assert.Equal(0, getrusage(1 /* RUSAGE_THREAD */, usage));
        return usage[4 + 4];
    }

    [DllImport("libc")]
    private static extern int getrusage(int who, [Out] long[] usage);
}
