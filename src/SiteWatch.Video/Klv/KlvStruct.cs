using System.Collections;

namespace SiteWatch.Video.Klv;

/// <summary>A named value inside a <see cref="KlvStruct"/>.</summary>
public readonly record struct KlvStructField(string Name, object? Value, string? Units = null);

/// <summary>An integer with the name the standard gives it.</summary>
public readonly record struct KlvEnumValue(long Value, string? Label)
{
    public override string ToString() => Label is null ? Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{Value} ({Label})";
}

/// <summary>A numeric value that is not a finite number: an ST 1201 special or an error sentinel.</summary>
public readonly record struct KlvSpecialValue(ImapbSpecial Kind)
{
    public override string ToString() => Imapb.Describe(Kind);
}

/// <summary>Bytes that are data (UUIDs, images) rather than text; written as hex.</summary>
public sealed class KlvBytes(byte[] value)
{
    public byte[] Value { get; } = value;

    public override string ToString() => Convert.ToHexString(Value);
}

/// <summary>
/// Ordered name/value pairs for packs and other structured tags (location packs, control commands ...).
/// Values are null, bool, long, ulong, double, string, <see cref="KlvBytes"/>, <see cref="KlvEnumValue"/>,
/// <see cref="KlvSpecialValue"/>, <see cref="KlvStruct"/> or <see cref="IReadOnlyList{T}"/> of those.
/// </summary>
public sealed class KlvStruct : IReadOnlyList<KlvStructField>
{
    private readonly List<KlvStructField> _fields = new(4);

    public int Count => _fields.Count;

    public KlvStructField this[int index] => _fields[index];

    /// <summary>Value of the first field called <paramref name="name"/>, or null.</summary>
    public object? this[string name]
    {
        get
        {
            foreach (var f in _fields)
            {
                if (f.Name == name)
                {
                    return f.Value;
                }
            }

            return null;
        }
    }

    public KlvStruct Add(string name, object? value, string? units = null)
    {
        _fields.Add(new KlvStructField(name, value, units));
        return this;
    }

    public IEnumerator<KlvStructField> GetEnumerator() => _fields.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>One element of a <see cref="KlvFormat.Series"/> or <see cref="KlvFormat.IdSeries"/> value.</summary>
public readonly record struct KlvSeriesEntry(ulong? Id, KlvLocalSet Set);

/// <summary>Decoded series value (VTarget series, algorithm series, chip series ...).</summary>
public sealed class KlvSeries : IReadOnlyList<KlvSeriesEntry>
{
    private readonly List<KlvSeriesEntry> _entries;

    public KlvSeries(IReadOnlyList<KlvSeriesEntry> entries) => _entries = [.. entries];

    internal KlvSeries() => _entries = [];

    public int Count => _entries.Count;

    public KlvSeriesEntry this[int index] => _entries[index];

    internal void Add(KlvSeriesEntry entry) => _entries.Add(entry);

    /// <summary>Empties a series rented again by <see cref="KlvDecodePool"/>, keeping its capacity.</summary>
    internal void Clear() => _entries.Clear();

    public IEnumerator<KlvSeriesEntry> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
