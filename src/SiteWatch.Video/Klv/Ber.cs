using System.Runtime.CompilerServices;

namespace SiteWatch.Video.Klv;

/// <summary>BER length (short/long form) and BER-OID (base-128) primitives used by every KLV layer.</summary>
public static class Ber
{
    /// <summary>
    /// Reads a BER length. Returns the number of bytes consumed, 0 if <paramref name="source"/> is too short
    /// to tell, or -1 if the encoding is invalid (indefinite form, more than 8 length bytes, or a value
    /// above <see cref="int.MaxValue"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TryReadLength(ReadOnlySpan<byte> source, out int length)
    {
        length = 0;
        if (source.IsEmpty)
        {
            return 0;
        }

        var first = source[0];
        if (first < 0x80)
        {
            length = first;
            return 1;
        }

        return TryReadLongLength(source, out length);
    }

    private static int TryReadLongLength(ReadOnlySpan<byte> source, out int length)
    {
        length = 0;
        var count = source[0] & 0x7F;
        // 0x80 is the indefinite form, which KLV forbids; more than 8 bytes cannot be a real length.
        if (count == 0 || count > 8)
        {
            return -1;
        }

        if (source.Length < 1 + count)
        {
            return 0;
        }

        ulong value = 0;
        for (var i = 1; i <= count; i++)
        {
            value = (value << 8) | source[i];
        }

        if (value > int.MaxValue)
        {
            return -1;
        }

        length = (int)value;
        return 1 + count;
    }

    /// <summary>Reads a BER length or throws <see cref="KlvFormatException"/>.</summary>
    public static int ReadLength(ReadOnlySpan<byte> source, out int length)
    {
        var n = TryReadLength(source, out length);
        if (n <= 0)
        {
            throw new KlvFormatException(n == 0 ? "Truncated BER length" : "Invalid BER length", 0);
        }

        return n;
    }

    /// <summary>
    /// Reads a BER-OID (7 bits per byte, high bit = more). Returns bytes consumed, 0 if truncated,
    /// -1 if longer than 10 bytes or overflowing 64 bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TryReadOid(ReadOnlySpan<byte> source, out ulong value)
    {
        if (!source.IsEmpty && source[0] < 0x80)
        {
            value = source[0];
            return 1;
        }

        return TryReadLongOid(source, out value);
    }

    private static int TryReadLongOid(ReadOnlySpan<byte> source, out ulong value)
    {
        value = 0;
        for (var i = 0; i < source.Length; i++)
        {
            if (i >= 10 || (value >> 57) != 0)
            {
                return -1;
            }

            var b = source[i];
            value = (value << 7) | (uint)(b & 0x7F);
            if (b < 0x80)
            {
                return i + 1;
            }
        }

        return 0;
    }

    /// <summary>Reads a BER-OID or throws <see cref="KlvFormatException"/>.</summary>
    public static int ReadOid(ReadOnlySpan<byte> source, out ulong value)
    {
        var n = TryReadOid(source, out value);
        if (n <= 0)
        {
            throw new KlvFormatException(n == 0 ? "Truncated BER-OID" : "Invalid BER-OID", 0);
        }

        return n;
    }

    /// <summary>Bytes needed for <paramref name="length"/> in the shortest BER form.</summary>
    public static int GetLengthSize(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length < 0x80)
        {
            return 1;
        }

        return 1 + ((32 - System.Numerics.BitOperations.LeadingZeroCount((uint)length) + 7) >> 3);
    }

    /// <summary>Writes <paramref name="length"/> in the shortest BER form; returns bytes written.</summary>
    public static int WriteLength(Span<byte> destination, int length)
    {
        var size = GetLengthSize(length);
        if (size == 1)
        {
            destination[0] = (byte)length;
            return 1;
        }

        var count = size - 1;
        destination[0] = (byte)(0x80 | count);
        for (var i = 0; i < count; i++)
        {
            destination[count - i] = (byte)(length >> (8 * i));
        }

        return size;
    }

    /// <summary>Bytes needed for <paramref name="value"/> as a BER-OID.</summary>
    public static int GetOidSize(ulong value)
    {
        var bits = 64 - System.Numerics.BitOperations.LeadingZeroCount(value | 1);
        return (bits + 6) / 7;
    }

    /// <summary>Writes <paramref name="value"/> as a BER-OID; returns bytes written.</summary>
    public static int WriteOid(Span<byte> destination, ulong value)
    {
        var size = GetOidSize(value);
        for (var i = size - 1; i >= 0; i--)
        {
            var group = (byte)(value & 0x7F);
            destination[i] = i == size - 1 ? group : (byte)(group | 0x80);
            value >>= 7;
        }

        return size;
    }
}
