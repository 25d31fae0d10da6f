namespace SiteWatch.Video.Klv;

/// <summary>Decodes a <see cref="KlvFormat.Custom"/> value into a <see cref="KlvStruct"/>, a list or a scalar.</summary>
/// <remarks>Implementations read only through <see cref="KlvCursor"/>, so malformed bytes surface as <see cref="KlvFormatException"/>.</remarks>
public delegate object? KlvCustomDecoder(ReadOnlySpan<byte> value);

/// <summary>
/// One row of a standard's tag table: everything the generic codec needs to decode and encode a tag.
/// Built through <see cref="KlvTraits"/> factory methods so each standard reads as a table.
/// </summary>
public sealed class KlvTagTraits
{
    private readonly Func<KlvSchema>? _nestedFactory;
    private KlvSchema? _nested;
    private readonly Imapb[]? _imapbByLength;

    internal KlvTagTraits(
        int tag,
        string name,
        KlvFormat format,
        string? units = null,
        int length = 0,
        int maxLength = 0,
        double min = 0,
        double max = 0,
        IReadOnlyDictionary<long, string>? labels = null,
        Func<KlvSchema>? nested = null,
        KlvCustomDecoder? custom = null,
        string? note = null,
        KlvCustomEncoder? customEncoder = null,
        KlvPackValidator? validator = null)
    {
        Tag = tag;
        Name = name;
        Format = format;
        Units = units;
        Length = length;
        MaxLength = maxLength > 0 ? maxLength : length;
        Min = min;
        Max = max;
        Labels = labels;
        _nestedFactory = nested;
        Custom = custom;
        Validator = validator;
        CustomEncoder = customEncoder;
        Note = note;

        IntegerKind = format switch
        {
            KlvFormat.Enum => KlvValueKind.Enum,
            KlvFormat.Flags => KlvValueKind.Flags,
            KlvFormat.Timestamp => KlvValueKind.Timestamp,
            _ => KlvValueKind.UInt64,
        };

        switch (format)
        {
            case KlvFormat.UIntMapped:
                Scale = (max - min) / (Math.Pow(2, 8 * length) - 1);
                Offset = min;
                break;
            case KlvFormat.IntMapped:
                Scale = max / (Math.Pow(2, 8 * length - 1) - 1);
                break;
            case KlvFormat.Imapb:
                // One precomputed mapping per possible length: senders may shorten IMAPB values.
                _imapbByLength = new Imapb[9];
                for (var n = 1; n <= 8; n++)
                {
                    _imapbByLength[n] = Imapb.Create(min, max, n);
                }

                break;
        }
    }

    public int Tag { get; }

    public string Name { get; }

    public KlvFormat Format { get; }

    /// <summary>Units as the standard gives them (deg, m, m/s, us ...), or null.</summary>
    public string? Units { get; }

    /// <summary>Nominal length in bytes (the encoder's default); 0 when variable.</summary>
    public int Length { get; }

    /// <summary>Largest allowed length; 0 when unbounded (text, sets).</summary>
    public int MaxLength { get; }

    /// <summary>Lower bound of the mapped range (mapped and IMAPB formats).</summary>
    public double Min { get; }

    /// <summary>Upper bound of the mapped range (mapped and IMAPB formats).</summary>
    public double Max { get; }

    /// <summary>Value names for <see cref="KlvFormat.Enum"/>, bit names (keyed by bit index) for <see cref="KlvFormat.Flags"/>.</summary>
    public IReadOnlyDictionary<long, string>? Labels { get; }

    public KlvCustomDecoder? Custom { get; }

    /// <summary>Allocation-free check that <see cref="Custom"/> accepts a value; such packs are built on first access.</summary>
    internal KlvPackValidator? Validator { get; }

    /// <summary>Inverse of <see cref="Custom"/>; null when the tag can only be encoded from raw bytes.</summary>
    public KlvCustomEncoder? CustomEncoder { get; }

    /// <summary>Why a tag is kept raw, or another remark about how it is handled.</summary>
    public string? Note { get; }

    /// <summary>Schema of the nested set or series element, resolved on first use (sets may nest their own standard).</summary>
    public KlvSchema? NestedSchema => _nested ??= _nestedFactory?.Invoke();

    /// <summary>raw -> value multiplier at the nominal length (mapped formats).</summary>
    internal double Scale { get; }

    /// <summary>Value added after scaling at the nominal length (unsigned mapped).</summary>
    internal double Offset { get; }

    /// <summary>True for formats whose value is a number (what the round-trip guarantee covers).</summary>
    public bool IsNumeric => Format is KlvFormat.UInt or KlvFormat.Int or KlvFormat.UIntMapped or KlvFormat.IntMapped
        or KlvFormat.Imapb or KlvFormat.Float or KlvFormat.BerOid or KlvFormat.Enum or KlvFormat.Flags or KlvFormat.Timestamp;

    internal ref readonly Imapb GetImapb(int length) => ref _imapbByLength![length];

    /// <summary>Item kind produced by the unsigned integer formats (uint, enum, flags, timestamp).</summary>
    internal KlvValueKind IntegerKind { get; }

    /// <summary>Smallest representable step at <paramref name="length"/> bytes (0 for exact formats such as float).</summary>
    public double Resolution(int length = 0)
    {
        if (length <= 0)
        {
            length = Length > 0 ? Length : 4;
        }

        return Format switch
        {
            KlvFormat.UIntMapped => (Max - Min) / (Math.Pow(2, 8 * length) - 1),
            KlvFormat.IntMapped => Max / (Math.Pow(2, 8 * length - 1) - 1),
            KlvFormat.Imapb => Imapb.Create(Min, Max, Math.Clamp(length, 1, 8)).ScaleReverse,
            KlvFormat.Float => 0,
            _ => 1,
        };
    }

    /// <summary>Label of an enum value or bit, or null.</summary>
    public string? GetLabel(long value) => Labels is not null && Labels.TryGetValue(value, out var s) ? s : null;

    /// <summary>
    /// Value lengths earlier versions of the standard used for this tag. A value of such a length decodes over the
    /// same range (mapped formats scale by its own byte count) without a length problem; <see cref="LegacyNote"/> says
    /// which versions used it.
    /// </summary>
    public IReadOnlyList<int> LegacyLengths { get; private set; } = [];

    public string? LegacyNote { get; private set; }

    /// <summary>Records lengths earlier versions of the standard used (see <see cref="LegacyLengths"/>); returns this row.</summary>
    internal KlvTagTraits WithLegacyLengths(string note, params int[] lengths)
    {
        LegacyLengths = lengths;
        LegacyNote = note;
        return this;
    }

    public override string ToString() => $"{Tag} {Name} ({Format})";

    /// <summary>This row as the decoder's run loop reads it (see <see cref="KlvRunRow"/>).</summary>
    internal KlvRunRow ToRun()
    {
        var fast = ToFast();
        var run = KlvRunRow.None;
        if (fast.Validator is not null)
        {
            // A pack with an allocation-free check: checked right after the run (CheckPacks), built on first access.
            (run.Op, run.Kind, run.MinLength, run.LengthRange) = (KlvFastOp.Pack, KlvValueKind.Struct, 1, 126);
            return run;
        }

        if (fast.Op == KlvFastOp.None || fast.MinLength > 127)
        {
            return run;
        }

        var max = (int)Math.Min(fast.MinLength + (long)fast.LengthRange, 127);
        (run.Op, run.Kind, run.MinLength, run.LengthRange, run.Scale, run.Offset) =
            (fast.Op, fast.Kind, (byte)fast.MinLength, (byte)(max - fast.MinLength), Scale, Offset);
        if (Format == KlvFormat.Imapb)
        {
            if (Length is not (> 0 and <= 8))
            {
                return KlvRunRow.None;
            }

            // The mapping at the standard's length only (IMAPB values seldom come shorter; those take the general path).
            ref readonly var imapb = ref _imapbByLength![Length];
            (run.MinLength, run.LengthRange, run.Scale, run.ZOffset, run.Offset) = ((byte)Length, 0, imapb.ScaleReverse, imapb.ZOffset, imapb.Min);
        }

        return run;
    }

    /// <summary>This row as the decoder's item loop reads it (see <see cref="KlvFastTrait"/>).</summary>
    internal KlvFastTrait ToFast()
    {
        var fast = new KlvFastTrait { Traits = this, Scale = Scale, Offset = Offset, ImapbByLength = _imapbByLength, Validator = Format == KlvFormat.Custom ? Validator : null };
        (fast.Op, var min, var max) = Format switch
        {
            KlvFormat.UIntMapped when Length is > 0 and <= 8 => (KlvFastOp.UIntMapped, Length, Length),
            KlvFormat.IntMapped when Length is > 0 and <= 8 => (KlvFastOp.IntMapped, Length, Length),
            KlvFormat.UInt or KlvFormat.Enum or KlvFormat.Flags or KlvFormat.Timestamp => (KlvFastOp.UInt, 1, Math.Min(MaxLength, 8)),
            KlvFormat.Int => (KlvFastOp.Int, 1, Math.Min(MaxLength, 8)),
            KlvFormat.Imapb => (KlvFastOp.Imapb, 1, 8),
            KlvFormat.Float => (KlvFastOp.Float, 4, 8),
            KlvFormat.Utf8 => (KlvFastOp.Text, 1, MaxLength == 0 ? int.MaxValue : MaxLength),
            KlvFormat.Bytes => (KlvFastOp.Text, 1, int.MaxValue),
            KlvFormat.Uuid => (KlvFastOp.Text, 16, 16),
            KlvFormat.BerOid => (KlvFastOp.ShortOid, 1, 1),
            _ => (KlvFastOp.None, int.MaxValue, 0),
        };
        fast.Kind = Format switch
        {
            KlvFormat.UInt or KlvFormat.Enum or KlvFormat.Flags or KlvFormat.Timestamp => IntegerKind,
            KlvFormat.Int => KlvValueKind.Int64,
            KlvFormat.Utf8 => KlvValueKind.String,
            KlvFormat.Bytes or KlvFormat.Uuid => KlvValueKind.Bytes,
            KlvFormat.BerOid => KlvValueKind.UInt64,
            _ => KlvValueKind.Double,
        };
        (fast.MinLength, fast.LengthRange) = max >= min ? (min, (uint)(max - min)) : (int.MaxValue, 0u);
        return fast;
    }
}

/// <summary>How the item loop decodes a value (see <see cref="KlvFastTrait"/>); <see cref="None"/> sends it to the general decode.</summary>
internal enum KlvFastOp : byte
{
    None,
    UIntMapped,
    IntMapped,
    /// <summary>Unsigned integer, enum, flags, timestamp (the row's kind says which).</summary>
    UInt,
    Int,
    /// <summary>IMAPB at any length of 1-8 bytes, special values included.</summary>
    Imapb,
    Float,
    /// <summary>Text, bytes or a UUID: the value is its bytes (the row's kind says which).</summary>
    Text,
    /// <summary>A one-byte BER-OID value (below 0x80).</summary>
    ShortOid,

    /// <summary>A pack its row's validator accepts (run rows only; see <see cref="KlvTagTraits.ToRun"/>).</summary>
    Pack,
}

/// <summary>
/// One tag's row flattened for the decoder's item loop (<see cref="KlvSchema"/> builds one per tag of its table), so an
/// item costs one indexed load of a small struct instead of a chase through the traits object, and one unsigned
/// compare checks the length for every format: a value of <see cref="MinLength"/> .. MinLength +
/// <see cref="LengthRange"/> bytes is decoded in the loop by <see cref="Op"/>; any other length (empty included), and
/// the formats without an op, take the general decode, which reports problems.
/// </summary>
internal struct KlvFastTrait
{
    /// <summary>The row of a tag the table lacks: every item of it takes the general path.</summary>
    public static readonly KlvFastTrait None = new() { MinLength = int.MaxValue };

    public KlvTagTraits? Traits;
    public double Scale;
    public double Offset;
    public Imapb[]? ImapbByLength;

    /// <summary>A structured (pack) tag's allocation-free check, so a well-formed pack is accepted from the row.</summary>
    public KlvPackValidator? Validator;
    public int MinLength;
    public uint LengthRange;
    public KlvFastOp Op;
    public KlvValueKind Kind;
}

/// <summary>
/// One tag's row as the decoder's run loop reads it: 32 bytes, so the rows of the tags a packet uses stay in the
/// first-level cache beside the items being written. A value of <see cref="MinLength"/> .. MinLength +
/// <see cref="LengthRange"/> bytes (at most 127) is decoded by <see cref="Op"/>; everything else leaves the run for the
/// general path. <see cref="Scale"/> and <see cref="Offset"/> are a mapped format's multiplier and value added, or
/// IMAPB's ScaleReverse and Min at the standard's length, with its <see cref="ZOffset"/>.
/// </summary>
internal struct KlvRunRow
{
    /// <summary>The row of a tag without a run decode: every item of it leaves the run.</summary>
    public static readonly KlvRunRow None = new() { MinLength = 255 };

    public double Scale;
    public double Offset;
    public double ZOffset;
    public byte MinLength;
    public byte LengthRange;
    public KlvFastOp Op;
    public KlvValueKind Kind;
}
