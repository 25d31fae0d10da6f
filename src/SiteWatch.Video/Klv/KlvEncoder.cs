using System.Buffers.Binary;
using System.Text;

namespace SiteWatch.Video.Klv;

internal enum KlvFieldKind : byte
{
    Number,
    Integer,
    Text,
    Bytes,
    Set,
    Series,
    IdSeries,
    Empty,
    OutOfRange,
    Structured,
}

/// <summary>
/// A value to encode: the tag plus a number, integer, text, raw bytes or nested items. How it is
/// laid out on the wire comes from the schema's traits, not from the field.
/// </summary>
public readonly struct KlvField
{
    private KlvField(int tag, KlvFieldKind kind, double number = 0, long integer = 0, object? reference = null, int length = 0)
    {
        Tag = tag;
        Kind = kind;
        NumberValue = number;
        IntegerValue = integer;
        Reference = reference;
        Length = length;
    }

    public int Tag { get; }

    /// <summary>Requested value length in bytes; 0 = the standard's nominal length.</summary>
    public int Length { get; }

    internal KlvFieldKind Kind { get; }

    internal double NumberValue { get; }

    internal long IntegerValue { get; }

    internal object? Reference { get; }

    /// <summary>A real-valued field (mapped, IMAPB, float); integers are accepted and rounded for integer formats.</summary>
    public static KlvField Number(int tag, double value, int length = 0) => new(tag, KlvFieldKind.Number, number: value, length: length);

    /// <summary>An integer field (uint, int, enum, flags, BER-OID, timestamp); unsigned 64-bit values pass through unchecked casts.</summary>
    public static KlvField Integer(int tag, long value, int length = 0) => new(tag, KlvFieldKind.Integer, integer: value, length: length);

    public static KlvField Text(int tag, string value) => new(tag, KlvFieldKind.Text, reference: value ?? throw new ArgumentNullException(nameof(value)));

    /// <summary>Value bytes sent as given: for UUIDs, opaque data and structured/raw-only tags.</summary>
    public static KlvField Bytes(int tag, ReadOnlyMemory<byte> value) => new(tag, KlvFieldKind.Bytes, reference: value.ToArray());

    public static KlvField Set(int tag, IReadOnlyList<KlvField> items) => new(tag, KlvFieldKind.Set, reference: items);

    /// <summary>Series of local sets, each BER-length prefixed (ST 0903 algorithm/ontology series, chip series).</summary>
    public static KlvField Series(int tag, IReadOnlyList<IReadOnlyList<KlvField>> elements) => new(tag, KlvFieldKind.Series, reference: elements);

    /// <summary>Series of (id, local set) packs, each BER-length prefixed (ST 0903 VTarget series).</summary>
    public static KlvField IdSeries(int tag, IReadOnlyList<(ulong Id, IReadOnlyList<KlvField> Items)> elements) => new(tag, KlvFieldKind.IdSeries, reference: elements);

    /// <summary>
    /// A structured value (pack, list) for a <see cref="KlvFormat.Custom"/> tag, in the shape its decoder
    /// produces (<see cref="KlvStruct"/>, lists, <see cref="KlvEnumValue"/> or integers, <see cref="KlvBytes"/>).
    /// </summary>
    public static KlvField Structured(int tag, object? value) => new(tag, KlvFieldKind.Structured, reference: value);

    /// <summary>Zero-length value (omitted value / deletion in an ST 1607 amend set).</summary>
    public static KlvField Empty(int tag) => new(tag, KlvFieldKind.Empty);

    /// <summary>The error sentinel of a signed mapped field (e.g. 0x8000).</summary>
    public static KlvField OutOfRange(int tag, int length = 0) => new(tag, KlvFieldKind.OutOfRange, length: length);

    public override string ToString() => $"{Tag}: {Kind}";
}

/// <summary>The generic table-driven encoder, inverse of <see cref="KlvDecoder"/>.</summary>
public static class KlvEncoder
{
    /// <summary>
    /// Encodes a packet: key, BER length, the fields in the order given, and (for standards that have
    /// one) the checksum item computed last. Fields carrying the checksum tag are ignored.
    /// </summary>
    /// <exception cref="ArgumentException">A tag is not in the table, a value does not fit its traits, or the schema has no key.</exception>
    public static byte[] EncodePacket(KlvSchema schema, IEnumerable<KlvField> fields)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (schema.Key is not { } key)
        {
            throw new ArgumentException($"{schema.Name} has no key; use EncodeSet for nested sets", nameof(schema));
        }

        var body = new ByteBuffer(256);
        WriteItems(body, schema, fields, skipChecksum: schema.Checksum != KlvChecksumKind.None);
        var checksumSize = schema.Checksum == KlvChecksumKind.None ? 0 : Ber.GetOidSize((ulong)schema.ChecksumTag) + 3;
        var valueLength = body.Length + checksumSize;
        var packet = new byte[16 + Ber.GetLengthSize(valueLength) + valueLength];
        key.CopyTo(packet);
        var pos = 16 + Ber.WriteLength(packet.AsSpan(16), valueLength);
        body.WrittenSpan.CopyTo(packet.AsSpan(pos));
        pos += body.Length;
        if (checksumSize > 0)
        {
            pos += Ber.WriteOid(packet.AsSpan(pos), (ulong)schema.ChecksumTag);
            packet[pos++] = 2;
            var sum = KlvChecksum.Compute(schema.Checksum, packet.AsSpan(0, pos));
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(pos), sum);
        }

        return packet;
    }

    /// <summary>Encodes the items of a bare local set (no key, no length, no checksum).</summary>
    public static byte[] EncodeSet(KlvSchema schema, IEnumerable<KlvField> fields)
    {
        var buffer = new ByteBuffer(128);
        WriteItems(buffer, schema, fields, skipChecksum: false);
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteItems(ByteBuffer buffer, KlvSchema schema, IEnumerable<KlvField> fields, bool skipChecksum)
    {
        Span<byte> scratch = stackalloc byte[16];
        foreach (var f in fields)
        {
            if (skipChecksum && f.Tag == schema.ChecksumTag)
            {
                continue;
            }

            var t = schema[(ulong)f.Tag] ?? throw new ArgumentException($"{schema.Name} has no tag {f.Tag}");
            if (schema.IsUniversal)
            {
                // Universal sets name each item by its 16-byte key instead of a tag.
                schema.ItemKeyOf(f.Tag)!.Value.CopyTo(scratch);
                buffer.Write(scratch);
            }
            else
            {
                buffer.WriteOid((ulong)f.Tag);
            }

            if (t.Format is KlvFormat.Set or KlvFormat.Series or KlvFormat.IdSeries && f.Kind is KlvFieldKind.Set or KlvFieldKind.Series or KlvFieldKind.IdSeries)
            {
                var nested = new ByteBuffer(64);
                WriteNested(nested, t, f);
                buffer.WriteLength(nested.Length);
                buffer.Write(nested.WrittenSpan);
                continue;
            }

            var value = EncodeScalar(t, f, scratch);
            buffer.WriteLength(value.Length);
            buffer.Write(value);
        }
    }

    private static void WriteNested(ByteBuffer buffer, KlvTagTraits t, in KlvField f)
    {
        var schema = t.NestedSchema!;
        switch (f.Kind)
        {
            case KlvFieldKind.Set when t.Format == KlvFormat.Set:
                WriteItems(buffer, schema, (IReadOnlyList<KlvField>)f.Reference!, false);
                break;
            case KlvFieldKind.Series when t.Format == KlvFormat.Series:
                foreach (var element in (IReadOnlyList<IReadOnlyList<KlvField>>)f.Reference!)
                {
                    var e = new ByteBuffer(64);
                    WriteItems(e, schema, element, false);
                    buffer.WriteLength(e.Length);
                    buffer.Write(e.WrittenSpan);
                }

                break;
            case KlvFieldKind.IdSeries when t.Format == KlvFormat.IdSeries:
                foreach (var (id, items) in (IReadOnlyList<(ulong, IReadOnlyList<KlvField>)>)f.Reference!)
                {
                    var e = new ByteBuffer(64);
                    e.WriteOid(id);
                    WriteItems(e, schema, items, false);
                    buffer.WriteLength(e.Length);
                    buffer.Write(e.WrittenSpan);
                }

                break;
            default:
                throw new ArgumentException($"Tag {t.Tag} ({t.Name}) is a {t.Format}; a {f.Kind} field does not fit");
        }
    }

    /// <summary>Encodes a non-nested value; returns a span over <paramref name="scratch"/> or over the field's own bytes.</summary>
    private static ReadOnlySpan<byte> EncodeScalar(KlvTagTraits t, in KlvField f, Span<byte> scratch)
    {
        switch (f.Kind)
        {
            case KlvFieldKind.Empty:
                return [];
            case KlvFieldKind.Bytes:
                return (byte[])f.Reference!;
            case KlvFieldKind.Structured:
                if (t.CustomEncoder is not { } encoder)
                {
                    throw new ArgumentException($"Tag {t.Tag} ({t.Name}) has no structured encoder; pass its bytes with KlvField.Bytes");
                }

                try
                {
                    return encoder(f.Reference);
                }
                catch (Exception e) when (e is ArgumentException or InvalidCastException or OverflowException)
                {
                    throw new ArgumentException($"Tag {t.Tag} ({t.Name}): {e.Message}", e);
                }
            case KlvFieldKind.Text:
                var text = (string)f.Reference!;
                return t.Format switch
                {
                    KlvFormat.Utf8 => Encoding.UTF8.GetBytes(text),
                    KlvFormat.Utf16BE => Encoding.BigEndianUnicode.GetBytes(text),
                    _ => throw Mismatch(t, f),
                };
        }

        switch (t.Format)
        {
            case KlvFormat.UIntMapped:
            {
                var n = LengthFor(t, f);
                var step = (t.Max - t.Min) / (Math.Pow(2, 8 * n) - 1);
                var v = Real(t, f);
                CheckRange(t, v, t.Min, t.Max, step);
                var raw = Math.Round((v - t.Min) / step);
                var dest = scratch[..n];
                KlvPrimitives.WriteUInt(dest, (ulong)Math.Clamp(raw, 0, Math.Pow(2, 8 * n) - 1));
                return dest;
            }

            case KlvFormat.IntMapped:
            {
                var n = LengthFor(t, f);
                var dest = scratch[..n];
                var top = (long)((1UL << (8 * n - 1)) - 1);
                if (f.Kind == KlvFieldKind.OutOfRange || (f.Kind == KlvFieldKind.Number && double.IsNaN(f.NumberValue)))
                {
                    KlvPrimitives.WriteUInt(dest, 1UL << (8 * n - 1));
                    return dest;
                }

                var step = t.Max / top;
                var v = Real(t, f);
                CheckRange(t, v, -t.Max, t.Max, step);
                var raw = (long)Math.Clamp(Math.Round(v / step), -top, top);
                KlvPrimitives.WriteUInt(dest, (ulong)raw);
                return dest;
            }

            case KlvFormat.Imapb:
            {
                var n = LengthFor(t, f);
                var dest = scratch[..n];
                try
                {
                    KlvPrimitives.WriteUInt(dest, t.GetImapb(n).Encode(Real(t, f)));
                }
                catch (ArgumentOutOfRangeException e)
                {
                    throw new ArgumentException($"Tag {t.Tag} ({t.Name}): {e.Message}", e);
                }

                return dest;
            }

            case KlvFormat.Float:
            {
                var n = f.Length > 0 ? f.Length : t.Length;
                var v = Real(t, f);
                if (n == 4)
                {
                    BinaryPrimitives.WriteSingleBigEndian(scratch, (float)v);
                }
                else if (n == 8)
                {
                    BinaryPrimitives.WriteDoubleBigEndian(scratch, v);
                }
                else
                {
                    throw new ArgumentException($"Tag {t.Tag} ({t.Name}): floats are 4 or 8 bytes");
                }

                return scratch[..n];
            }

            case KlvFormat.UInt:
            case KlvFormat.Enum:
            case KlvFormat.Flags:
            case KlvFormat.Timestamp:
            {
                var v = (ulong)Whole(t, f);
                var n = f.Length > 0 ? f.Length : Math.Max(t.Length, KlvPrimitives.UIntSize(v));
                if (n > 8 || (n < 8 && v >> (8 * n) != 0) || (t.MaxLength > 0 && n > t.MaxLength))
                {
                    throw new ArgumentException($"Tag {t.Tag} ({t.Name}): {v} does not fit {n} bytes");
                }

                var dest = scratch[..n];
                KlvPrimitives.WriteUInt(dest, v);
                return dest;
            }

            case KlvFormat.Int:
            {
                var v = Whole(t, f);
                var n = f.Length > 0 ? f.Length : Math.Max(t.Length, KlvPrimitives.IntSize(v));
                if (n > 8 || KlvPrimitives.IntSize(v) > n || (t.MaxLength > 0 && n > t.MaxLength))
                {
                    throw new ArgumentException($"Tag {t.Tag} ({t.Name}): {v} does not fit {n} bytes");
                }

                var dest = scratch[..n];
                KlvPrimitives.WriteUInt(dest, (ulong)v);
                return dest;
            }

            case KlvFormat.BerOid:
            {
                var n = Ber.WriteOid(scratch, (ulong)Whole(t, f));
                return scratch[..n];
            }

            default:
                throw Mismatch(t, f);
        }
    }

    private static int LengthFor(KlvTagTraits t, in KlvField f)
    {
        var n = f.Length > 0 ? f.Length : t.Length;
        if (n is < 1 or > 8)
        {
            throw new ArgumentException($"Tag {t.Tag} ({t.Name}): length {n} not allowed");
        }

        return n;
    }

    private static double Real(KlvTagTraits t, in KlvField f) => f.Kind switch
    {
        KlvFieldKind.Number => f.NumberValue,
        KlvFieldKind.Integer => f.IntegerValue,
        _ => throw Mismatch(t, f),
    };

    private static long Whole(KlvTagTraits t, in KlvField f) => f.Kind switch
    {
        KlvFieldKind.Integer => f.IntegerValue,
        KlvFieldKind.Number when double.IsFinite(f.NumberValue) && f.NumberValue >= 0 && f.NumberValue < 1.8446744073709552E+19 =>
            f.NumberValue >= long.MaxValue ? (long)(ulong)Math.Round(f.NumberValue) : (long)Math.Round(f.NumberValue),
        KlvFieldKind.Number when double.IsFinite(f.NumberValue) && f.NumberValue < 0 && t.Format == KlvFormat.Int => (long)Math.Round(f.NumberValue),
        _ => throw Mismatch(t, f),
    };

    private static void CheckRange(KlvTagTraits t, double v, double min, double max, double step)
    {
        if (!(v >= min - step / 2 && v <= max + step / 2))
        {
            throw new ArgumentException($"Tag {t.Tag} ({t.Name}): {v} is outside [{min}, {max}]");
        }
    }

    private static ArgumentException Mismatch(KlvTagTraits t, in KlvField f) =>
        new($"Tag {t.Tag} ({t.Name}) is a {t.Format}; a {f.Kind} field does not fit (pass raw bytes with KlvField.Bytes)");

    /// <summary>Minimal growable byte buffer (encoding is off the hot path).</summary>
    private sealed class ByteBuffer(int capacity)
    {
        private byte[] _data = new byte[capacity];

        public int Length { get; private set; }

        public ReadOnlySpan<byte> WrittenSpan => _data.AsSpan(0, Length);

        public void Write(ReadOnlySpan<byte> bytes)
        {
            Ensure(bytes.Length);
            bytes.CopyTo(_data.AsSpan(Length));
            Length += bytes.Length;
        }

        public void WriteOid(ulong value)
        {
            Ensure(10);
            Length += Ber.WriteOid(_data.AsSpan(Length), value);
        }

        public void WriteLength(int value)
        {
            Ensure(9);
            Length += Ber.WriteLength(_data.AsSpan(Length), value);
        }

        private void Ensure(int extra)
        {
            if (Length + extra > _data.Length)
            {
                Array.Resize(ref _data, Math.Max(_data.Length * 2, Length + extra));
            }
        }
    }
}
