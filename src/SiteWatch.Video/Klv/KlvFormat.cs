namespace SiteWatch.Video.Klv;

/// <summary>How a tag's value bytes are laid out; the generic decoder and encoder switch on this.</summary>
public enum KlvFormat : byte
{
    /// <summary>Bytes this codec does not interpret (deprecated tags, complex types not decoded); see <see cref="KlvTagTraits.Note"/>.</summary>
    Raw,
    /// <summary>Opaque data by definition (images, user data, UMIDs): bytes are the value.</summary>
    Bytes,
    /// <summary>Big-endian unsigned integer, 1..8 bytes.</summary>
    UInt,
    /// <summary>Big-endian two's-complement integer, 1..8 bytes.</summary>
    Int,
    /// <summary>Unsigned integer linearly mapped: raw * (max - min) / (2^n - 1) + min.</summary>
    UIntMapped,
    /// <summary>Signed integer mapped symmetrically: raw * max / (2^(n-1) - 1); -2^(n-1) = out of range.</summary>
    IntMapped,
    /// <summary>MISB ST 1201 IMAPB (min, max, length).</summary>
    Imapb,
    /// <summary>IEEE 754 float, 4 or 8 bytes.</summary>
    Float,
    /// <summary>UTF-8 text (ISO 646 is a subset).</summary>
    Utf8,
    /// <summary>UTF-16 big-endian text.</summary>
    Utf16BE,
    /// <summary>BER-OID unsigned integer.</summary>
    BerOid,
    /// <summary>Unsigned integer with named values.</summary>
    Enum,
    /// <summary>Unsigned integer whose bits have names.</summary>
    Flags,
    /// <summary>Unsigned microseconds since 1970-01-01 UTC (MISP precision time stamp).</summary>
    Timestamp,
    /// <summary>16-byte identifier (UUID, ST 1204 ids).</summary>
    Uuid,
    /// <summary>Nested local set, decoded with <see cref="KlvTagTraits.NestedSchema"/>.</summary>
    Set,
    /// <summary>Series of BER-length-prefixed local sets of <see cref="KlvTagTraits.NestedSchema"/>.</summary>
    Series,
    /// <summary>Series of BER-length-prefixed (BER-OID id, local set) packs, e.g. ST 0903 VTarget series.</summary>
    IdSeries,
    /// <summary>Structured value decoded by <see cref="KlvTagTraits.Custom"/> into a <see cref="KlvStruct"/> or list.</summary>
    Custom,
}

/// <summary>What a decoded <see cref="KlvItem"/> holds.</summary>
public enum KlvValueKind : byte
{
    /// <summary>Zero-length value (omitted, or deleted in an amend set).</summary>
    Empty,
    Double,
    Int64,
    UInt64,
    String,
    Enum,
    Flags,
    Timestamp,
    Bytes,
    /// <summary>The standard's error sentinel (e.g. 0x8000 for int16 mapped fields).</summary>
    OutOfRange,
    /// <summary>An ST 1201 special value (NaN, infinity, above/below range).</summary>
    Special,
    Set,
    Series,
    Struct,
    /// <summary>Known tag whose bytes did not fit its traits; raw bytes kept, a problem recorded.</summary>
    Invalid,
    /// <summary>Tag missing from the table; raw bytes kept.</summary>
    Unknown,
    /// <summary>Known tag the codec keeps as raw bytes by design (see <see cref="KlvTagTraits.Note"/>).</summary>
    Raw,
}
