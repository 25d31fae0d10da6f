using System.Buffers.Binary;

namespace SiteWatch.Video.Klv;

/// <summary>A 16-byte SMPTE universal label, compared as two 64-bit words.</summary>
public readonly struct KlvKey : IEquatable<KlvKey>
{
    /// <summary>Every SMPTE UL starts with these four bytes; used to find packet starts in a byte stream.</summary>
    public const uint UniversalLabelPrefix = 0x060E2B34;

    // Byte 7 of a UL is the registry version; MISB says it must be ignored when matching keys.
    private const ulong VersionMask = 0xFFFF_FFFF_FFFF_FF00;

    private readonly ulong _high;
    private readonly ulong _low;

    public KlvKey(ulong high, ulong low)
    {
        _high = high;
        _low = low;
    }

    public ulong High => _high;

    public ulong Low => _low;

    public bool IsUniversalLabel => (uint)(_high >> 32) == UniversalLabelPrefix;

    /// <summary>Byte 5 of the UL: 0x03 = 1-byte tags, 0x0B = BER-OID tags, 0x13 = 2-byte tags (local sets).</summary>
    public byte RegistryDesignator => (byte)(_high >> 16);

    public static KlvKey Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < 16)
        {
            throw new KlvFormatException("A KLV key needs 16 bytes", 0);
        }

        return new KlvKey(BinaryPrimitives.ReadUInt64BigEndian(source), BinaryPrimitives.ReadUInt64BigEndian(source[8..]));
    }

    /// <summary>Parses 32 hex digits; spaces, dots and dashes are ignored.</summary>
    public static KlvKey Parse(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        Span<byte> bytes = stackalloc byte[16];
        var n = 0;
        for (var i = 0; i < hex.Length; i++)
        {
            var c = hex[i];
            if (c is ' ' or '.' or '-')
            {
                continue;
            }

            if (n >= 32 || !Uri.IsHexDigit(c))
            {
                throw new FormatException($"Not a 16-byte hex key: '{hex}'");
            }

            var nibble = (byte)int.Parse(c.ToString(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            bytes[n >> 1] = (byte)((bytes[n >> 1] << 4) | nibble);
            n++;
        }

        if (n != 32)
        {
            throw new FormatException($"Not a 16-byte hex key: '{hex}'");
        }

        return Read(bytes);
    }

    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _low);
    }

    /// <summary>True when the keys are equal apart from the version byte (byte 7).</summary>
    public bool MatchesIgnoringVersion(KlvKey other) =>
        (_high & VersionMask) == (other._high & VersionMask) && _low == other._low;

    public bool Equals(KlvKey other) => _high == other._high && _low == other._low;

    public override bool Equals(object? obj) => obj is KlvKey other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_high, _low);

    public static bool operator ==(KlvKey left, KlvKey right) => left.Equals(right);

    public static bool operator !=(KlvKey left, KlvKey right) => !left.Equals(right);

    /// <summary>32 upper-case hex digits, e.g. 060E2B34020B01010E01030101000000.</summary>
    public override string ToString() => _high.ToString("X16", CultureInfo.InvariantCulture) + _low.ToString("X16", CultureInfo.InvariantCulture);
}
