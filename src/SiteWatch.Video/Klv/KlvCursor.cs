using System.Buffers.Binary;
using System.Text;

namespace SiteWatch.Video.Klv;

/// <summary>
/// Bounds-checked forward reader over a value's bytes. Every read that would run past the end throws
/// <see cref="KlvFormatException"/> (never IndexOutOfRange), which is what lets structured decoders be
/// written plainly and still survive any input.
/// </summary>
public ref struct KlvCursor
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public KlvCursor(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _data.Length - _position;

    public readonly bool IsEnd => _position >= _data.Length;

    public byte ReadByte()
    {
        Need(1);
        return _data[_position++];
    }

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0)
        {
            throw new KlvFormatException("Negative length", _position);
        }

        Need(count);
        var s = _data.Slice(_position, count);
        _position += count;
        return s;
    }

    public ReadOnlySpan<byte> ReadRest() => ReadBytes(Remaining);

    public ulong ReadUInt(int count)
    {
        if (count is < 0 or > 8)
        {
            throw new KlvFormatException($"Integer of {count} bytes", _position);
        }

        return KlvPrimitives.ReadUInt(ReadBytes(count));
    }

    public long ReadInt(int count)
    {
        if (count is < 0 or > 8)
        {
            throw new KlvFormatException($"Integer of {count} bytes", _position);
        }

        return KlvPrimitives.ReadInt(ReadBytes(count));
    }

    public ulong ReadOid()
    {
        var n = Ber.TryReadOid(_data[_position..], out var v);
        if (n <= 0)
        {
            throw new KlvFormatException(n == 0 ? "Truncated BER-OID" : "Invalid BER-OID", _position);
        }

        _position += n;
        return v;
    }

    public int ReadLength()
    {
        var n = Ber.TryReadLength(_data[_position..], out var v);
        if (n <= 0)
        {
            throw new KlvFormatException(n == 0 ? "Truncated BER length" : "Invalid BER length", _position);
        }

        _position += n;
        return v;
    }

    /// <summary>Reads a BER length followed by that many bytes.</summary>
    public ReadOnlySpan<byte> ReadPrefixed() => ReadBytes(ReadLength());

    public string ReadUtf8(int count) => Encoding.UTF8.GetString(ReadBytes(count));

    public double ReadImapb(double min, double max, int length, out ImapbSpecial special) =>
        Imapb.Create(min, max, length).Decode(ReadUInt(length), out special);

    public float ReadFloat32() => BinaryPrimitives.ReadSingleBigEndian(ReadBytes(4));

    private readonly void Need(int count)
    {
        if (count > _data.Length - _position)
        {
            throw new KlvFormatException($"Value ends after {Remaining} bytes, {count} needed", _position);
        }
    }
}

internal static class KlvPrimitives
{
    /// <summary>Big-endian unsigned integer of 0..8 bytes.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static ulong ReadUInt(ReadOnlySpan<byte> s)
    {
        switch (s.Length)
        {
            case 1: return s[0];
            case 2: return BinaryPrimitives.ReadUInt16BigEndian(s);
            case 4: return BinaryPrimitives.ReadUInt32BigEndian(s);
            case 8: return BinaryPrimitives.ReadUInt64BigEndian(s);
            default:
                ulong v = 0;
                foreach (var b in s)
                {
                    v = (v << 8) | b;
                }

                return v;
        }
    }

    /// <summary>Big-endian two's-complement integer of 1..8 bytes.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static long ReadInt(ReadOnlySpan<byte> s)
    {
        switch (s.Length)
        {
            case 0: return 0;
            case 1: return (sbyte)s[0];
            case 2: return BinaryPrimitives.ReadInt16BigEndian(s);
            case 4: return BinaryPrimitives.ReadInt32BigEndian(s);
            case 8: return BinaryPrimitives.ReadInt64BigEndian(s);
            default:
                var shift = 64 - 8 * s.Length;
                return (long)(ReadUInt(s) << shift) >> shift;
        }
    }

    public static void WriteUInt(Span<byte> d, ulong v)
    {
        for (var i = d.Length - 1; i >= 0; i--)
        {
            d[i] = (byte)v;
            v >>= 8;
        }
    }

    /// <summary>Smallest byte count holding <paramref name="v"/> unsigned (at least 1).</summary>
    public static int UIntSize(ulong v) => Math.Max(1, (64 - System.Numerics.BitOperations.LeadingZeroCount(v) + 7) >> 3);

    /// <summary>Smallest byte count holding <paramref name="v"/> as two's complement (at least 1).</summary>
    public static int IntSize(long v)
    {
        var n = 1;
        while (n < 8 && (v < -(1L << (8 * n - 1)) || v > (1L << (8 * n - 1)) - 1))
        {
            n++;
        }

        return n;
    }
}
