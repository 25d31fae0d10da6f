using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace SiteWatch.Video.Klv;

/// <summary>Packet checksum algorithms used by MISB local sets.</summary>
public enum KlvChecksumKind : byte
{
    None,
    /// <summary>ST 0601 / ST 0903: 16-bit running sum of big-endian words.</summary>
    Sum16,
    /// <summary>ST 0806: CRC-16-CCITT (poly 0x1021, init 0xFFFF).</summary>
    Crc16Ccitt,
}

/// <summary>How a decoded packet's checksum compared with the bytes.</summary>
public enum KlvChecksumStatus : byte
{
    /// <summary>The standard defines no checksum (or the key is unknown).</summary>
    NotApplicable,
    Valid,
    Invalid,
    /// <summary>The standard requires one but the packet does not end with it.</summary>
    Missing,
}

public static class KlvChecksum
{
    /// <summary>
    /// ST 0601 checksum: sum of big-endian 16-bit words over <paramref name="data"/>; an odd final
    /// byte counts as the high byte of a word.
    /// </summary>
    public static ushort Sum16(ReadOnlySpan<byte> data)
    {
        ulong sum = 0;
        var i = 0;
        if (Vector256.IsHardwareAccelerated && data.Length >= 64)
        {
            // Sixteen words per step, summed modulo 2^16 in 16-bit lanes (the checksum is that sum); each lane
            // holds a word as read little-endian, so its bytes are swapped back before adding.
            var acc = Vector256<ushort>.Zero;
            ref var start = ref MemoryMarshal.GetReference(data);
            for (; i + 32 <= data.Length; i += 32)
            {
                var w = Vector256.LoadUnsafe(ref start, (nuint)i).AsUInt16();
                acc += (w << 8) | (w >>> 8);
            }

            ushort lanes = 0;
            for (var lane = 0; lane < Vector256<ushort>.Count; lane++)
            {
                lanes += acc[lane];
            }

            sum = lanes;
        }

        // Four words per step: the partial sums cannot overflow 64 bits for any realistic packet.
        for (; i + 8 <= data.Length; i += 8)
        {
            var w = BinaryPrimitives.ReadUInt64BigEndian(data[i..]);
            sum += (w >> 48) + ((w >> 32) & 0xFFFF) + ((w >> 16) & 0xFFFF) + (w & 0xFFFF);
        }

        for (; i + 2 <= data.Length; i += 2)
        {
            sum += (uint)((data[i] << 8) | data[i + 1]);
        }

        if (i < data.Length)
        {
            sum += (uint)data[i] << 8;
        }

        return (ushort)sum;
    }

    public static ushort Crc16Ccitt(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFF;
        foreach (var b in data)
        {
            crc ^= b << 8;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }
        }

        return (ushort)crc;
    }

    public static ushort Compute(KlvChecksumKind kind, ReadOnlySpan<byte> data) => kind switch
    {
        KlvChecksumKind.Sum16 => Sum16(data),
        KlvChecksumKind.Crc16Ccitt => Crc16Ccitt(data),
        _ => 0,
    };
}
