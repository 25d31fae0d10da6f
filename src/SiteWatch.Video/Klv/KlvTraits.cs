namespace SiteWatch.Video.Klv;

/// <summary>Factory methods that make each standard's tag table read like the standard's own table.</summary>
public static class KlvTraits
{
    public static KlvTagTraits UInt(int tag, string name, int length, string? units = null, int maxLength = 0) =>
        new(tag, name, KlvFormat.UInt, units, length, maxLength > 0 ? maxLength : Math.Max(length, 8));

    public static KlvTagTraits Int(int tag, string name, int length, string? units = null, int maxLength = 0) =>
        new(tag, name, KlvFormat.Int, units, length, maxLength > 0 ? maxLength : Math.Max(length, 8));

    /// <summary>Unsigned integer of <paramref name="length"/> bytes mapped onto [min, max].</summary>
    public static KlvTagTraits Mapped(int tag, string name, string? units, int length, double min, double max) =>
        new(tag, name, KlvFormat.UIntMapped, units, length, length, min, max);

    /// <summary>Signed integer of <paramref name="length"/> bytes mapped onto [-range, +range]; the most negative value is the error sentinel.</summary>
    public static KlvTagTraits SignedMapped(int tag, string name, string? units, int length, double range) =>
        new(tag, name, KlvFormat.IntMapped, units, length, length, -range, range);

    /// <summary>ST 1201 IMAPB over [min, max]; <paramref name="length"/> is the encoder's default.</summary>
    public static KlvTagTraits Imapb(int tag, string name, string? units, double min, double max, int length) =>
        new(tag, name, KlvFormat.Imapb, units, length, 8, min, max);

    public static KlvTagTraits Float(int tag, string name, string? units = null, int length = 4) =>
        new(tag, name, KlvFormat.Float, units, length, 8);

    public static KlvTagTraits Text(int tag, string name, int maxLength = 0) =>
        new(tag, name, KlvFormat.Utf8, maxLength: maxLength);

    public static KlvTagTraits Utf16(int tag, string name) => new(tag, name, KlvFormat.Utf16BE);

    public static KlvTagTraits Timestamp(int tag, string name) =>
        new(tag, name, KlvFormat.Timestamp, "us", 8, 8);

    public static KlvTagTraits Oid(int tag, string name, string? units = null) => new(tag, name, KlvFormat.BerOid, units);

    /// <summary>Unsigned integer (default 1 byte) with named values.</summary>
    public static KlvTagTraits Enum(int tag, string name, params (long Value, string Label)[] labels) =>
        new(tag, name, KlvFormat.Enum, length: 1, maxLength: 8, labels: labels.ToDictionary(l => l.Value, l => l.Label));

    /// <summary>Unsigned integer whose bit i (0 = least significant) is named <paramref name="bits"/>[i].</summary>
    public static KlvTagTraits Flags(int tag, string name, int length, params string[] bits)
    {
        var labels = new Dictionary<long, string>();
        for (var i = 0; i < bits.Length; i++)
        {
            labels[i] = bits[i];
        }

        return new(tag, name, KlvFormat.Flags, length: length, maxLength: 8, labels: labels);
    }

    public static KlvTagTraits Bytes(int tag, string name, int length = 0) => new(tag, name, KlvFormat.Bytes, length: length);

    public static KlvTagTraits Uuid(int tag, string name) => new(tag, name, KlvFormat.Uuid, length: 16, maxLength: 16);

    /// <summary>A tag whose complex structure this codec keeps as raw bytes; <paramref name="note"/> says why.</summary>
    public static KlvTagTraits Raw(int tag, string name, string note) => new(tag, name, KlvFormat.Raw, note: note);

    public static KlvTagTraits Set(int tag, string name, Func<KlvSchema> schema) => new(tag, name, KlvFormat.Set, nested: schema);

    public static KlvTagTraits Series(int tag, string name, Func<KlvSchema> element) => new(tag, name, KlvFormat.Series, nested: element);

    public static KlvTagTraits IdSeries(int tag, string name, Func<KlvSchema> element) => new(tag, name, KlvFormat.IdSeries, nested: element);

    public static KlvTagTraits Custom(int tag, string name, KlvCustomDecoder decoder, string? units = null) =>
        new(tag, name, KlvFormat.Custom, units, custom: decoder);

    /// <summary>A structured tag in one of the <see cref="KlvPackFormats"/>: read, written and checked as the format says.</summary>
    internal static KlvTagTraits Custom(int tag, string name, KlvPack pack, string? units = null) =>
        new(tag, name, KlvFormat.Custom, units, custom: pack.Read, customEncoder: pack.Write, validator: pack.Check);
}
