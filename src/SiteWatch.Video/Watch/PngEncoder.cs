using System.Buffers.Binary;
using System.IO.Compression;

namespace SiteWatch.Video.Watch;

/// <summary>Minimal PNG writer for 8-bit RGB snapshots (filter 0 rows, zlib via the BCL).</summary>
public static class PngEncoder
{
    /// <summary>Encodes a crop of a BGR24 frame (clipped to the frame); throws when the crop is empty.</summary>
    public static byte[] EncodeBgr24Crop(ReadOnlySpan<byte> bgr24, int width, int height, int left, int top, int cropWidth, int cropHeight)
    {
        var x0 = Math.Clamp(left, 0, width);
        var y0 = Math.Clamp(top, 0, height);
        var x1 = Math.Clamp(left + cropWidth, 0, width);
        var y1 = Math.Clamp(top + cropHeight, 0, height);
        if (x1 <= x0 || y1 <= y0)
        {
            throw new ArgumentException("the crop lies outside the frame");
        }

        if (bgr24.Length < width * height * 3)
        {
            throw new ArgumentException($"a {width} x {height} BGR24 frame needs {width * height * 3} bytes, got {bgr24.Length}");
        }

        int w = x1 - x0, h = y1 - y0;
        var raw = new byte[h * (1 + 3 * w)];
        for (var y = 0; y < h; y++)
        {
            var row = raw.AsSpan(y * (1 + 3 * w), 1 + 3 * w);
            row[0] = 0;
            var source = bgr24.Slice(((y0 + y) * width + x0) * 3, 3 * w);
            for (var x = 0; x < w; x++)
            {
                row[1 + 3 * x] = source[3 * x + 2];
                row[2 + 3 * x] = source[3 * x + 1];
                row[3 + 3 * x] = source[3 * x];
            }
        }

        using var output = new MemoryStream();
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, w);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), h);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type RGB
        WriteChunk(output, "IHDR", header);
        using (var compressed = new MemoryStream())
        {
            using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                zlib.Write(raw);
            }

            WriteChunk(output, "IDAT", compressed.ToArray());
        }

        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(data);
        var crc = Crc(Crc(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        output.Write(word);
    }

    // CRC-32 as PNG (and zip) define it: reflected polynomial 0xEDB88320.
    private static readonly uint[] s_crcTable = Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++)
        {
            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }

        return c;
    }).ToArray();

    private static uint Crc(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
        {
            crc = s_crcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }
}
