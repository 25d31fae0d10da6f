using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace SiteWatch.Training;

/// <summary>
/// TorchSharp 0.107's libLibTorchSharp.so asks for GLIBCXX_3.4.32 (GCC 13) for one symbol,
/// std::ios_base_library_init, which GCC 13's &lt;iostream&gt; only references to force linking and never calls.
/// Debian 12's libstdc++ stops at 3.4.30, so the loader refuses the library. Marking that one version requirement
/// weak (VER_FLG_WEAK in its Elf64_Vernaux) turns the refusal into a warning; libtorch itself needs nothing newer.
/// The patch is applied to the copy in this tool's output folder only.
/// </summary>
internal static class LibTorchSharpLoader
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    public static void PrepareNativeLibraries()
    {
        foreach (var path in Directory.EnumerateFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories))
        {
            int patched = WeakenVersionRequirement(path, "GLIBCXX_3.4.32");
            if (patched > 0)
            {
                Console.Error.WriteLine($"note: {Path.GetRelativePath(AppContext.BaseDirectory, path)}: GLIBCXX_3.4.32 requirement marked weak");
            }
        }
        // Load the patched copy next to the assembly first, so TorchSharp's own probing finds it already loaded.
        var main = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        if (File.Exists(main))
        {
            NativeLibrary.Load(main);
        }
    }

    /// <summary>Returns how many requirements were changed (0 when already weak or absent).</summary>
    internal static int WeakenVersionRequirement(string path, string version)
    {
        var data = File.ReadAllBytes(path);
        if (data.Length < 64 || data[0] != 0x7f || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F' || data[4] != 2)
        {
            throw new InvalidDataException($"{path}: not an ELF64 file");
        }
        var span = data.AsSpan();
        long shoff = BinaryPrimitives.ReadInt64LittleEndian(span[0x28..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3A..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3C..]);
        int changed = 0;
        for (int i = 0; i < shnum; i++)
        {
            var sh = span[(int)(shoff + i * shentsize)..];
            if (BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]) != ShtGnuVerneed)
            {
                continue;
            }
            long offset = BinaryPrimitives.ReadInt64LittleEndian(sh[0x18..]);
            int link = (int)BinaryPrimitives.ReadUInt32LittleEndian(sh[0x28..]);
            long strtab = BinaryPrimitives.ReadInt64LittleEndian(span[(int)(shoff + link * shentsize + 0x18)..]);
            long need = offset;
            while (true)
            {
                int count = BinaryPrimitives.ReadUInt16LittleEndian(span[(int)(need + 2)..]);
                long aux = need + BinaryPrimitives.ReadUInt32LittleEndian(span[(int)(need + 8)..]);
                for (int a = 0; a < count; a++)
                {
                    var entry = span[(int)aux..];
                    int nameOffset = (int)(strtab + BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]));
                    int end = span[nameOffset..].IndexOf((byte)0);
                    string name = System.Text.Encoding.ASCII.GetString(span.Slice(nameOffset, end));
                    ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(entry[4..]);
                    if (name == version && (flags & VerFlagWeak) == 0)
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(entry[4..], (ushort)(flags | VerFlagWeak));
                        changed++;
                    }
                    aux += BinaryPrimitives.ReadUInt32LittleEndian(entry[12..]);
                }
                uint next = BinaryPrimitives.ReadUInt32LittleEndian(span[(int)(need + 12)..]);
                if (next == 0)
                {
                    break;
                }
                need += next;
            }
        }
        if (changed > 0)
        {
            File.WriteAllBytes(path, data);
        }
        return changed;
    }
}
