namespace SiteWatch.Video.Ts;

/// <summary>CRC-32/MPEG-2 (poly 0x04C11DB7, init 0xFFFFFFFF, no reflection) used by PSI sections.</summary>
internal static class Crc32Mpeg
{
    private static readonly uint[] s_table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i << 24;
            for (var b = 0; b < 8; b++)
            {
                c = (c & 0x80000000) != 0 ? (c << 1) ^ 0x04C11DB7 : c << 1;
            }

            table[i] = c;
        }

        return table;
    }

    /// <summary>CRC over the data; a section including its CRC_32 field gives 0 when intact.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = (crc << 8) ^ s_table[(crc >> 24) ^ b];
        }

        return crc;
    }
}
