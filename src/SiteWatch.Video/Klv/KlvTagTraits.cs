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
}
