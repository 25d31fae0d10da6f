using System.Runtime.InteropServices;
using SiteWatch.Gdal;

namespace SiteWatch.Tests.Gdal;

public class BlockMemoryTests
{
    /// <summary>
    /// Once GDAL is set up, blocks of a few megabytes freed by a closed dataset stay in the C heap for the next one
    /// (glibc's malloc would map each from the kernel and unmap it on free, or trim it off the heap): the next dataset
    /// reuses those pages instead of faulting in fresh ones.
    /// </summary>
    [Fact]
    public void Freed_blocks_stay_in_the_heap_for_the_next_dataset()
    {
        GdalEnvironment.EnsureInitialized();
        const int Blocks = 12;
        const int BlockBytes = 6 << 20;
        var blocks = new nint[Blocks];
        var ones = new byte[BlockBytes];
        Array.Fill(ones, (byte)1);
        for (var i = 0; i < Blocks; i++)
        {
            blocks[i] = Marshal.AllocHGlobal(BlockBytes); // malloc
            Marshal.Copy(ones, 0, blocks[i], BlockBytes);
        }
        var mapped = mallinfo2().Hblkhd;
        for (var i = Blocks - 1; i >= 0; i--)
        {
            Marshal.FreeHGlobal(blocks[i]);
        }
        var info = mallinfo2();
        Assert.True(mapped < (nuint)BlockBytes, $"{mapped} bytes of the blocks were mapped from the kernel, not taken from the heap");
        Assert.True(info.Fordblks >= (nuint)(Blocks * BlockBytes * 3 / 4), $"only {info.Fordblks} bytes left free in the heap after freeing {Blocks * BlockBytes}");
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly struct MallocInfo
    {
        public readonly nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [DllImport("libc")]
    private static extern MallocInfo mallinfo2();
}
