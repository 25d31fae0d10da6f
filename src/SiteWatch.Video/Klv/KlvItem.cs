using System.Runtime.CompilerServices;
using System.Text;

namespace SiteWatch.Video.Klv;

/// <summary>
/// One decoded tag-length-value item. Numbers are decoded straight into the struct (no allocation);
/// text is produced only when <see cref="AsString"/> is called; nested sets, series and structs are objects.
/// </summary>
public readonly struct KlvItem
{
    // One reference only (the owning set): the value bytes, the traits and any nested object are reached
    // through it. Storing items into the set's array then costs a single GC write barrier.
    private readonly KlvLocalSet? _owner;
    private readonly long _bits; // integer value, IEEE bits of a double, ST 1201 special kind, or object index
    private readonly int _tag;
    private readonly int _offset; // from the owner's Offset, so a reused nested set can move within the packet
    private readonly int _length;
    private readonly KlvValueKind _kind;
    private readonly byte _headerLength; // at most 26 (a 16-byte key and a 9-byte BER length): the value starts at _offset + _headerLength

    internal KlvItem(KlvLocalSet owner, int tag, KlvValueKind kind, int offset, int headerLength, int length, long bits)
    {
        _owner = owner;
        _tag = tag;
        _kind = kind;
        _offset = offset - owner.Offset;
        _headerLength = (byte)Math.Min(headerLength, 255);
        _length = length;
        _bits = bits;
    }

    /// <summary>
    /// Writes an item into a set's slot in place. A reused set's slot already names its owner, so the reference is
    /// stored (with the GC's write barrier) only when it differs: the numbers of a steady stream are plain stores.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Write(ref KlvItem slot, KlvLocalSet owner, int tag, KlvValueKind kind, int offset, int headerLength, int length, long bits)
    {
        if (!ReferenceEquals(slot._owner, owner))
        {
            Unsafe.AsRef(in slot._owner) = owner;
        }

        Unsafe.AsRef(in slot._bits) = bits;
        Unsafe.AsRef(in slot._tag) = tag;
        Unsafe.AsRef(in slot._offset) = offset - owner.Offset;
        Unsafe.AsRef(in slot._length) = length;
        Unsafe.AsRef(in slot._kind) = kind;
        Unsafe.AsRef(in slot._headerLength) = (byte)Math.Min(headerLength, 255);
    }

    /// <summary>
    /// As <see cref="Write"/>, with <paramref name="relativeOffset"/> already counted from the owner's offset, but the
    /// owner left as it is: false when the slot names another owner, which the caller then stores with
    /// <see cref="SetOwner"/> after its loop (the store's GC write barrier is a call, and a call in the run loop makes
    /// it keep its state on the stack).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool WriteRelative(ref KlvItem slot, KlvLocalSet owner, int tag, KlvValueKind kind, int relativeOffset, int headerLength, int length, long bits)
    {
        Unsafe.AsRef(in slot._bits) = bits;
        Unsafe.AsRef(in slot._tag) = tag;
        Unsafe.AsRef(in slot._offset) = relativeOffset;
        Unsafe.AsRef(in slot._length) = length;
        Unsafe.AsRef(in slot._kind) = kind;
        Unsafe.AsRef(in slot._headerLength) = (byte)Math.Min(headerLength, 255);
        return ReferenceEquals(slot._owner, owner);
    }

    /// <summary>Stores <paramref name="owner"/> in a slot <see cref="WriteRelative"/> wrote, when it names another.</summary>
    internal static void SetOwner(ref KlvItem slot, KlvLocalSet owner)
    {
        if (!ReferenceEquals(slot._owner, owner))
        {
            Unsafe.AsRef(in slot._owner) = owner;
        }
    }

    /// <summary>Sets the value bits (an object index) of an item the run loop wrote.</summary>
    internal static void SetBits(ref KlvItem slot, long bits) => Unsafe.AsRef(in slot._bits) = bits;

    /// <summary>Where the value starts in the owner's bytes.</summary>
    internal int ValueStart => _offset + _headerLength;

    /// <summary>The offset from the owner's.</summary>
    internal int RelativeOffset => _offset;

    internal static KlvItem Number(KlvLocalSet owner, int tag, KlvValueKind kind, int offset, int headerLength, int length, double value) =>
        new(owner, tag, kind, offset, headerLength, length, BitConverter.DoubleToInt64Bits(value));

    internal static KlvItem WithObject(KlvLocalSet owner, int tag, KlvValueKind kind, int offset, int headerLength, int length, object? value) =>
        new(owner, tag, kind, offset, headerLength, length, owner.AddObject(value));

    public int Tag => _tag;

    /// <summary>Table row for the tag, or null if the tag is not in the table.</summary>
    public KlvTagTraits? Traits => _kind == KlvValueKind.Unknown ? null : _owner?.Schema[(ulong)_tag];

    public KlvValueKind Kind => _kind;

    /// <summary>The item's 16-byte key when it belongs to a universal set (known or not); null for local-set items.</summary>
    public KlvKey? UniversalKey => _owner is { Schema.IsUniversal: true } owner && _headerLength > 16 && _offset >= 0
        ? KlvKey.Read(owner.Bytes.Span[_offset..])
        : null;

    /// <summary>Offset of the item's tag byte from the first byte of the packet.</summary>
    public int Offset => (_owner?.Offset ?? 0) + _offset;

    /// <summary>Offset of the item's value from the first byte of the packet.</summary>
    public int ValueOffset => Offset + _headerLength;

    /// <summary>The value bytes as they were received.</summary>
    public ReadOnlyMemory<byte> Value => _owner is null ? default : _owner.Bytes.Slice(_offset + _headerLength, _length);

    public int Length => _length;

    public string Name => Traits?.Name ?? "Unknown";

    public string? Units => Traits?.Units;

    /// <summary>True when the value is a number (<see cref="AsDouble"/> is meaningful).</summary>
    public bool IsNumber => _kind is KlvValueKind.Double or KlvValueKind.Int64 or KlvValueKind.UInt64 or KlvValueKind.Enum
        or KlvValueKind.Flags or KlvValueKind.Timestamp;

    /// <summary>Numeric value as a double: mapped/IMAPB/float values, integers converted; NaN for anything else.</summary>
    public double AsDouble()
    {
        switch (_kind)
        {
            case KlvValueKind.Double:
                return BitConverter.Int64BitsToDouble(_bits);
            case KlvValueKind.Int64:
                return _bits;
            case KlvValueKind.UInt64:
            case KlvValueKind.Enum:
            case KlvValueKind.Flags:
            case KlvValueKind.Timestamp:
                return (ulong)_bits;
            case KlvValueKind.Special:
                return (ImapbSpecial)_bits switch
                {
                    ImapbSpecial.PositiveInfinity => double.PositiveInfinity,
                    ImapbSpecial.NegativeInfinity => double.NegativeInfinity,
                    _ => double.NaN,
                };
            default:
                return double.NaN;
        }
    }

    /// <summary>Integer value (unsigned values reinterpreted); doubles truncated; 0 for non-numbers.</summary>
    public long AsInt64() => _kind switch
    {
        KlvValueKind.Double => (long)BitConverter.Int64BitsToDouble(_bits),
        KlvValueKind.Int64 or KlvValueKind.UInt64 or KlvValueKind.Enum or KlvValueKind.Flags or KlvValueKind.Timestamp => _bits,
        _ => 0,
    };

    public ulong AsUInt64() => (ulong)AsInt64();

    /// <summary>Label of an enum value, or null.</summary>
    public string? Label => _kind == KlvValueKind.Enum ? Traits?.GetLabel(_bits) : null;

    /// <summary>Names of set bits for a flags value (allocates).</summary>
    public IReadOnlyList<string> FlagNames()
    {
        if (_kind != KlvValueKind.Flags)
        {
            return [];
        }

        var names = new List<string>();
        var bits = (ulong)_bits;
        for (var i = 0; i < 64 && bits >> i != 0; i++)
        {
            if (((bits >> i) & 1) != 0)
            {
                names.Add(Traits?.GetLabel(i) ?? $"Bit {i}");
            }
        }

        return names;
    }

    /// <summary>Timestamp as UTC; null if not a timestamp or beyond DateTime's range.</summary>
    public DateTime? AsDateTime()
    {
        if (_kind != KlvValueKind.Timestamp)
        {
            return null;
        }

        var us = (ulong)_bits;
        var maxMicros = (ulong)((DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / 10);
        return us <= maxMicros ? DateTime.UnixEpoch.AddTicks((long)us * 10) : null;
    }

    /// <summary>Which ST 1201 special value this is, for <see cref="KlvValueKind.Special"/>.</summary>
    public ImapbSpecial Special => _kind == KlvValueKind.Special ? (ImapbSpecial)_bits : ImapbSpecial.None;

    /// <summary>Decodes text values (allocates); null for non-text kinds.</summary>
    public string? AsString()
    {
        if (_kind != KlvValueKind.String)
        {
            return null;
        }

        var bytes = Value.Span;
        return Traits?.Format == KlvFormat.Utf16BE ? Encoding.BigEndianUnicode.GetString(bytes) : Encoding.UTF8.GetString(bytes);
    }

    private object? Object
    {
        get
        {
            if (_kind is not (KlvValueKind.Set or KlvValueKind.Series or KlvValueKind.Struct or KlvValueKind.Invalid))
            {
                return null;
            }

            var o = _owner!.GetObject((int)_bits);
            return ReferenceEquals(o, KlvLocalSet.PackNotBuilt) ? _owner.BuildPack((int)_bits, Traits, Value.Span) : o;
        }
    }

    public KlvLocalSet? AsSet() => Object as KlvLocalSet;

    public KlvSeries? AsSeries() => Object as KlvSeries;

    /// <summary>
    /// Structured value of a custom-format tag: a <see cref="KlvStruct"/>, a list or a scalar. A well-formed pack is
    /// built on the first call (which allocates, as <see cref="AsString"/> does) and kept for the next.
    /// </summary>
    public object? AsStructured() => _kind == KlvValueKind.Struct ? Object : null;

    /// <summary>Problem message for <see cref="KlvValueKind.Invalid"/> items.</summary>
    public string? InvalidReason => _kind == KlvValueKind.Invalid ? Object as string : null;

    /// <summary>Quantisation step of this value at its received length.</summary>
    public double Resolution => Traits?.Resolution(Length) ?? 0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public override string ToString() => _kind switch
    {
        KlvValueKind.String => $"{Tag} {Name} = \"{AsString()}\"",
        KlvValueKind.Double or KlvValueKind.Int64 or KlvValueKind.UInt64 or KlvValueKind.Timestamp or KlvValueKind.Enum or KlvValueKind.Flags
            => $"{Tag} {Name} = {AsDouble().ToString(System.Globalization.CultureInfo.InvariantCulture)} {Units}".TrimEnd(),
        _ => $"{Tag} {Name} [{_kind}, {Length} bytes]",
    };
}
