using System.Buffers.Binary;
using System.Text;

namespace SiteWatch.Video.Klv;

/// <summary>
/// Forward-only, allocation-free reader over a local set in a <see cref="ReadOnlySpan{T}"/>: each
/// <see cref="Read"/> moves to the next item, numbers decode straight to double/long through the tag
/// table, text is only built when <see cref="GetString"/> is called. Unlike <see cref="KlvDecoder"/> it is
/// strict: malformed structure throws <see cref="KlvFormatException"/> (and nothing else).
/// </summary>
public ref struct KlvLocalSetReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly KlvSchema _schema;
    private int _next;

    public KlvLocalSetReader(ReadOnlySpan<byte> setValue, KlvSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        _data = setValue;
        _schema = schema;
        _next = 0;
        Tag = 0;
        Traits = null;
        Value = default;
        ValueOffset = 0;
    }

    /// <summary>Reader over the value of a whole packet (key and BER length are checked and skipped).</summary>
    /// <exception cref="KlvFormatException">Short packet, bad length, or a key the registry does not know.</exception>
    public static KlvLocalSetReader ForPacket(ReadOnlySpan<byte> packet, KlvRegistry? registry = null)
    {
        if (packet.Length < 17)
        {
            throw new KlvFormatException("Packet shorter than key and length", packet.Length);
        }

        var key = KlvKey.Read(packet);
        var schema = (registry ?? KlvRegistry.Default).Find(key) ?? throw new KlvFormatException($"Unknown key {key}", 0);
        var n = Ber.TryReadLength(packet[16..], out var length);
        if (n <= 0 || length > packet.Length - 16 - n)
        {
            throw new KlvFormatException("Packet length does not match its bytes", 16);
        }

        return new KlvLocalSetReader(packet.Slice(16 + n, length), schema);
    }

    public int Tag { get; private set; }

    /// <summary>Table row of the current item, or null for a tag the table lacks.</summary>
    public KlvTagTraits? Traits { get; private set; }

    public ReadOnlySpan<byte> Value { get; private set; }

    /// <summary>Offset of the current value within the set.</summary>
    public int ValueOffset { get; private set; }

    /// <summary>Moves to the next item; false at the end of the set.</summary>
    public bool Read()
    {
        if (_next >= _data.Length)
        {
            return false;
        }

        var pos = _next;
        var tn = Ber.TryReadOid(_data[pos..], out var tag);
        if (tn <= 0 || tag > int.MaxValue)
        {
            throw new KlvFormatException("Unreadable tag", pos);
        }

        pos += tn;
        var ln = Ber.TryReadLength(_data[pos..], out var length);
        if (ln <= 0)
        {
            throw new KlvFormatException("Unreadable item length", pos);
        }

        pos += ln;
        if (length > _data.Length - pos)
        {
            throw new KlvFormatException($"Item {tag} runs past the end of the set", pos);
        }

        Tag = (int)tag;
        Traits = _schema[tag];
        Value = _data.Slice(pos, length);
        ValueOffset = pos;
        _next = pos + length;
        return true;
    }

    /// <summary>
    /// The current value as a number per its traits. False for non-numeric formats, empty values,
    /// error sentinels, ST 1201 special values and lengths a format cannot have.
    /// </summary>
    public readonly bool TryGetDouble(out double value)
    {
        value = double.NaN;
        var t = Traits;
        var v = Value;
        var len = v.Length;
        if (t is null || len == 0 || len > 8)
        {
            return false;
        }

        switch (t.Format)
        {
            case KlvFormat.UIntMapped:
                value = len == t.Length
                    ? KlvPrimitives.ReadUInt(v) * t.Scale + t.Offset
                    : KlvPrimitives.ReadUInt(v) * ((t.Max - t.Min) / (Math.Pow(2, 8 * len) - 1)) + t.Min;
                return true;
            case KlvFormat.IntMapped:
                var raw = KlvPrimitives.ReadInt(v);
                if (raw == long.MinValue >> (64 - 8 * len))
                {
                    return false;
                }

                value = len == t.Length ? raw * t.Scale : raw * (t.Max / (Math.Pow(2, 8 * len - 1) - 1));
                return true;
            case KlvFormat.Imapb:
                value = t.GetImapb(len).Decode(KlvPrimitives.ReadUInt(v), out var special);
                return special == ImapbSpecial.None;
            case KlvFormat.UInt or KlvFormat.Enum or KlvFormat.Flags or KlvFormat.Timestamp:
                value = KlvPrimitives.ReadUInt(v);
                return true;
            case KlvFormat.Int:
                value = KlvPrimitives.ReadInt(v);
                return true;
            case KlvFormat.Float when len is 4 or 8:
                value = len == 4 ? BinaryPrimitives.ReadSingleBigEndian(v) : BinaryPrimitives.ReadDoubleBigEndian(v);
                return true;
            case KlvFormat.BerOid:
                var n = Ber.TryReadOid(v, out var id);
                value = id;
                return n == len;
            default:
                return false;
        }
    }

    /// <summary>The current value as a number, or NaN (see <see cref="TryGetDouble"/>).</summary>
    public readonly double GetDouble() => TryGetDouble(out var v) ? v : double.NaN;

    /// <summary>The current value as an integer (unsigned values reinterpreted) for integer formats.</summary>
    /// <exception cref="KlvFormatException">Not an integer format, or more than 8 bytes.</exception>
    public readonly long GetInt64()
    {
        var len = Value.Length;
        switch (Traits?.Format)
        {
            case KlvFormat.UInt or KlvFormat.Enum or KlvFormat.Flags or KlvFormat.Timestamp when len <= 8:
                return (long)KlvPrimitives.ReadUInt(Value);
            case KlvFormat.Int when len <= 8:
                return KlvPrimitives.ReadInt(Value);
            case KlvFormat.BerOid:
                var n = Ber.TryReadOid(Value, out var id);
                return n == len ? (long)id : throw new KlvFormatException("Not a single BER-OID", ValueOffset);
            default:
                throw new KlvFormatException($"Tag {Tag} is not an integer of at most 8 bytes", ValueOffset);
        }
    }

    /// <summary>The current value as text (UTF-16 BE for tags defined so, else UTF-8). Allocates.</summary>
    public readonly string GetString() =>
        Traits?.Format == KlvFormat.Utf16BE ? Encoding.BigEndianUnicode.GetString(Value) : Encoding.UTF8.GetString(Value);

    /// <summary>Reader over the current value as a nested local set of <paramref name="schema"/> (default: the tag's own).</summary>
    /// <exception cref="KlvFormatException">The tag has no nested schema.</exception>
    public readonly KlvLocalSetReader ReadNested(KlvSchema? schema = null) =>
        new(Value, schema ?? Traits?.NestedSchema ?? throw new KlvFormatException($"Tag {Tag} is not a nested set", ValueOffset));
}
