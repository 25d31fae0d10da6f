using static SiteWatch.Video.Klv.KlvTraits;

namespace SiteWatch.Video.Klv;

/// <summary>MISB ST 0806 Remote Video Terminal local set (ST 0601 tag 73) with its user-defined, POI and AOI sets.</summary>
public static class St0806
{
    public static readonly KlvKey Key = KlvKey.Parse("060E2B34020B01010E01030102000000");

    public const string Name = "MISB ST 0806 RVT Local Set";

    public static KlvSchema Schema { get; } = new(Name, Key, KlvChecksumKind.Crc16Ccitt,
    [
        UInt(1, "Checksum", 2, maxLength: 2),
        Timestamp(2, "Precision Time Stamp"),
        UInt(3, "Platform True Airspeed", 2, "m/s", 2),
        UInt(4, "Platform Indicated Airspeed", 2, "m/s", 2),
        Bytes(5, "Telemetry Accuracy Indicator"),
        UInt(6, "Frag Circle Radius", 2, "m", 2),
        UInt(7, "Frame Code", 4, maxLength: 4),
        UInt(8, "UAS LS Version Number", 1, maxLength: 1),
        UInt(9, "Video Data Rate", 4, "bit/s", 4),
        Text(10, "Digital Video File Format"),
        Set(11, "User Defined Local Set", () => UserDefined!),
        Set(12, "Point of Interest Local Set", () => PointOfInterest!),
        Set(13, "Area of Interest Local Set", () => AreaOfInterest!),
        UInt(14, "MGRS Zone", 1, maxLength: 1),
        Text(15, "MGRS Latitude Band and Grid Square", 3),
        UInt(16, "MGRS Easting", 3, "m", 3),
        UInt(17, "MGRS Northing", 3, "m", 3),
        UInt(18, "Frame Center MGRS Zone", 1, maxLength: 1),
        Text(19, "Frame Center MGRS Latitude Band and Grid Square", 3),
        UInt(20, "Frame Center MGRS Easting", 3, "m", 3),
        UInt(21, "Frame Center MGRS Northing", 3, "m", 3),
    ]);

    public static KlvSchema UserDefined { get; } = new("RVT User Defined Local Set", null, KlvChecksumKind.None,
    [
        Custom(1, "Numeric ID and Data Type", KlvPackFormats.UserDefinedId),
        Bytes(2, "User Data"),
    ]);

    public static KlvSchema PointOfInterest { get; } = new("RVT Point of Interest Local Set", null, KlvChecksumKind.None,
    [
        UInt(1, "POI Number", 2, maxLength: 2),
        SignedMapped(2, "POI Latitude", "deg", 4, 90),
        SignedMapped(3, "POI Longitude", "deg", 4, 180),
        Mapped(4, "POI Altitude", "m", 2, -900, 19000),
        Enum(5, "POI Type", (1, "Friendly"), (2, "Hostile"), (3, "Target"), (4, "Unknown")),
        Text(6, "POI Text"),
        Text(7, "POI Source Icon"),
        Text(8, "POI Source ID"),
        Text(9, "POI Label"),
        Text(10, "Operation ID"),
    ]);

    public static KlvSchema AreaOfInterest { get; } = new("RVT Area of Interest Local Set", null, KlvChecksumKind.None,
    [
        UInt(1, "AOI Number", 2, maxLength: 2),
        SignedMapped(2, "AOI Corner 1 Latitude", "deg", 4, 90),
        SignedMapped(3, "AOI Corner 1 Longitude", "deg", 4, 180),
        SignedMapped(4, "AOI Corner 3 Latitude", "deg", 4, 90),
        SignedMapped(5, "AOI Corner 3 Longitude", "deg", 4, 180),
        Enum(6, "AOI Type", (1, "Friendly"), (2, "Hostile"), (3, "Restricted"), (4, "Unknown")),
        Text(7, "AOI Text"),
        Text(8, "AOI Source ID"),
        Text(9, "AOI Label"),
        Text(10, "Operation ID"),
    ]);
}
