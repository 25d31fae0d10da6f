using static SiteWatch.Video.Klv.KlvTraits;

namespace SiteWatch.Video.Klv;

/// <summary>
/// Other MISB local sets that ST 0601 nests (tags 95, 97, 98, 99), including their ST 1303 arrays.
/// ST 1010 SDCC packs are kept raw with a note, and arrays of SDCC-coded elements keep their element bytes.
/// </summary>
public static class MisbSets
{
    /// <summary>ST 1206 SAR Motion Imagery local set.</summary>
    public static KlvSchema St1206 { get; } = new("MISB ST 1206 SAR Motion Imagery Local Set", null, KlvChecksumKind.None,
    [
        Imapb(1, "Grazing Angle", "deg", 0, 90, 2),
        Imapb(2, "Ground Plane Squint Angle", "deg", -90, 90, 2),
        Enum(3, "Look Direction", (0, "Left"), (1, "Right")),
        Enum(4, "Image Plane", (0, "Slant"), (1, "Ground")),
        Imapb(5, "Range Resolution", "m", 0, 1e6, 4),
        Imapb(6, "Cross-Range Resolution", "m", 0, 1e6, 4),
        Imapb(7, "Range Image Plane Pixel Size", "m", 0, 1e6, 4),
        Imapb(8, "Cross-Range Image Plane Pixel Size", "m", 0, 1e6, 4),
        UInt(9, "Image Rows", 2, "pixels", 4),
        UInt(10, "Image Columns", 2, "pixels", 4),
        Imapb(11, "Range Direction Angle", "deg", 0, 360, 2),
        Imapb(12, "True North", "deg", 0, 360, 2),
        Imapb(13, "Range Layover Angle", "deg", 0, 360, 2),
        Imapb(14, "Ground Aperture Angular Extent", "deg", 0, 90, 2),
        UInt(15, "Aperture Duration", 4, "us", 4),
        Imapb(16, "Ground Track Angle", "deg", 0, 360, 2),
        Imapb(17, "Minimum Detectable Velocity", "m/s", 0, 100, 2),
        Imapb(18, "True Pulse Repetition Frequency", "Hz", 0, 1e6, 4),
        Imapb(19, "Pulse Repetition Frequency Scale Factor", null, 0, 1, 2),
        Imapb(20, "Transmit RF Center Frequency", "Hz", 0, 1e12, 4),
        Imapb(21, "Transmit RF Bandwidth", "Hz", 0, 1e11, 4),
        Custom(22, "Radar Cross Section Scale Factor Polynomial", KlvPacks.MdArray(KlvPacks.MdNatural.Float)),
        Timestamp(23, "Reference Frame Precision Time Stamp"),
        Imapb(24, "Reference Frame Grazing Angle", "deg", 0, 90, 2),
        Imapb(25, "Reference Frame Ground Plane Squint Angle", "deg", -90, 90, 2),
        Imapb(26, "Reference Frame Range Direction Angle", "deg", 0, 360, 2),
        Imapb(27, "Reference Frame Range Layover Angle", "deg", 0, 360, 2),
        UInt(28, "Document Version", 1, maxLength: 2),
    ]);

    /// <summary>ST 1002 Range Motion Imagery local set.</summary>
    public static KlvSchema St1002 { get; } = new("MISB ST 1002 Range Image Local Set", null, KlvChecksumKind.None,
    [
        Timestamp(1, "Precision Time Stamp"),
        UInt(11, "Document Version", 1, maxLength: 2),
        Custom(12, "Range Image Enumerations", KlvPackFormats.RangeImageEnumerations),
        Float(13, "Range Measurement", "m"),
        Float(14, "Range Measurement Uncertainty", "m"),
        Float(15, "Range Measurement Row Coordinate", "pixels"),
        Float(16, "Range Measurement Column Coordinate", "pixels"),
        Oid(17, "Number of Sections in X"),
        Oid(18, "Number of Sections in Y"),
        Set(19, "Generalized Transformation Local Set", () => St1202!),
        Custom(20, "Section Data Pack", KlvPacks.SectionDataPack),
    ]);

    /// <summary>ST 1202 Generalized Transformation local set.</summary>
    public static KlvSchema St1202 { get; } = new("MISB ST 1202 Generalized Transformation Local Set", null, KlvChecksumKind.None,
    [
        Float(1, "X Equation Numerator - X Factor"),
        Float(2, "X Equation Numerator - Y Factor"),
        Float(3, "X Equation Numerator - Constant"),
        Float(4, "Y Equation Numerator - X Factor"),
        Float(5, "Y Equation Numerator - Y Factor"),
        Float(6, "Y Equation Numerator - Constant"),
        Float(7, "Denominator - X Factor"),
        Float(8, "Denominator - Y Factor"),
        Raw(9, "SDCC-FLP", "ST 1010 pack; not decoded"),
        UInt(10, "Document Version", 1, maxLength: 2),
        Enum(11, "Transformation Type", (0, "Other"), (1, "Chipping"), (2, "Child-Parent"), (3, "Pixel to Image"), (4, "Optical")),
    ]);

    /// <summary>ST 1601 Geo-Registration local set.</summary>
    public static KlvSchema St1601 { get; } = new("MISB ST 1601 Geo-Registration Local Set", null, KlvChecksumKind.None,
    [
        UInt(1, "Document Version", 1, maxLength: 2),
        Text(2, "Algorithm Name"),
        Text(3, "Algorithm Version"),
        Custom(4, "Correspondence Points - Row/Column", KlvPacks.MdArray(KlvPacks.MdNatural.UInt)),
        Custom(5, "Correspondence Points - Latitude/Longitude", KlvPacks.MdArray(KlvPacks.MdNatural.Float)),
        Text(6, "Second Image Name"),
        Uuid(7, "Algorithm Configuration Identifier"),
        Custom(8, "Correspondence Points - Elevation", KlvPacks.MdArray(KlvPacks.MdNatural.Float)),
        Custom(9, "Correspondence Points SDCC - Row/Column", KlvPacks.MdArray(KlvPacks.MdNatural.Opaque)),
        Custom(10, "Correspondence Points SDCC - Latitude/Longitude/Elevation", KlvPacks.MdArray(KlvPacks.MdNatural.Opaque)),
    ]);

    /// <summary>ST 1602 Composite Imaging local set.</summary>
    public static KlvSchema St1602 { get; } = new("MISB ST 1602 Composite Imaging Local Set", null, KlvChecksumKind.None,
    [
        Timestamp(1, "Precision Time Stamp"),
        UInt(2, "Document Version", 1, maxLength: 2),
        UInt(3, "Source Image Rows", 2, "pixels", 4),
        UInt(4, "Source Image Columns", 2, "pixels", 4),
        UInt(5, "Source Image AOI Rows", 2, "pixels", 4),
        UInt(6, "Source Image AOI Columns", 2, "pixels", 4),
        UInt(7, "Source Image AOI Position X", 2, "pixels", 4),
        UInt(8, "Source Image AOI Position Y", 2, "pixels", 4),
        UInt(9, "Sub-Image Rows", 2, "pixels", 4),
        UInt(10, "Sub-Image Columns", 2, "pixels", 4),
        UInt(11, "Sub-Image Position X", 2, "pixels", 4),
        UInt(12, "Sub-Image Position Y", 2, "pixels", 4),
        UInt(13, "Active Sub-Image Rows", 2, "pixels", 4),
        UInt(14, "Active Sub-Image Columns", 2, "pixels", 4),
        Int(15, "Active Sub-Image Offset X", 2, "pixels", 4),
        Int(16, "Active Sub-Image Offset Y", 2, "pixels", 4),
        UInt(17, "Transparency", 1, "%", 1),
        UInt(18, "Z-Order", 1, maxLength: 1),
    ]);
}
