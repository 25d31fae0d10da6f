using static SiteWatch.Video.Klv.KlvTraits;

namespace SiteWatch.Video.Klv;

/// <summary>
/// MISB EG 0104 Predator UAV Basic Universal Metadata Set, the universal-set predecessor of ST 0601 that older
/// archives carry: every item is a 16-byte SMPTE key, a BER length and a value (IEEE floats for positions and angles,
/// text, a microsecond time stamp). The table follows KWIVER's klv_0104 traits (keys, formats), which follow the
/// EG 0104 columns of ST 0601.12. Items are numbered by their ST 0601 equivalent where one exists with the same
/// meaning and units (sensor latitude is 13, corner latitude 1 is 82 ...), so code that reads an ST 0601 set by tag
/// reads an EG 0104 set the same way; items without an ST 0601 equivalent are numbered from 1001.
/// </summary>
public static class St0104
{
    public static readonly KlvKey Key = KlvKey.Parse("060E2B34020101010E01010201010000");

    public const string Name = "MISB EG 0104 Predator UAV Basic Universal Set";

    public const int StartDateTime = 1001;
    public const int EventStartDateTime = 1002;

    /// <summary>Sensor roll angle, degrees (about the line of sight; no ST 0601 equivalent with the same meaning).</summary>
    public const int SensorRollAngle = 1003;

    /// <summary>Sensor pointing azimuth from true north, clockwise, degrees (absolute; ST 0601 tag 18 is relative to the platform).</summary>
    public const int AngleToNorth = 1004;

    /// <summary>"Inverse of the sensor elevation": 180 looks forward along the horizon, 270 straight down.</summary>
    public const int ObliquityAngle = 1005;

    private static (KlvKey, KlvTagTraits) Row(string key, KlvTagTraits traits) => (KlvKey.Parse(key), traits);

    /// <summary>Item keys and the traits each decodes to (the version byte of a key is ignored when matching).</summary>
    public static IReadOnlyList<(KlvKey ItemKey, KlvTagTraits Traits)> Items { get; } =
    [
        Row("060E2B34010101010702010101050000", Timestamp(St0601.PrecisionTimeStamp, "User Defined Timestamp")),
        Row("060E2B34010101010105050000000000", Text(3, "Episode Number")),
        Row("060E2B34010101070701100106000000", Float(St0601.PlatformHeading, "Platform Heading Angle", "deg")),
        Row("060E2B34010101070701100105000000", Float(St0601.PlatformPitch, "Platform Pitch Angle", "deg")),
        Row("060E2B34010101070701100104000000", Float(St0601.PlatformRoll, "Platform Roll Angle", "deg")),
        Row("060E2B34010101010101200100000000", Text(10, "Device Designation")),
        Row("060E2B34010101010420010201010000", Text(11, "Image Source Device")),
        Row("060E2B34010101010701010100000000", Text(12, "Image Coordinate System")),
        Row("060E2B34010101030701020102040200", Float(St0601.SensorLatitude, "Device Latitude", "deg", 8)),
        Row("060E2B34010101030701020102060200", Float(St0601.SensorLongitude, "Device Longitude", "deg", 8)),
        Row("060E2B34010101010701020102020000", Float(St0601.SensorTrueAltitude, "Device Altitude", "m")),
        Row("060E2B34010101020420020101080000", Float(St0601.HorizontalFov, "Horizontal Field of View", "deg")),
        Row("060E2B340101010704200201010A0100", Float(St0601.VerticalFov, "Vertical Field of View", "deg")),
        Row("060E2B34010101010701080101000000", Float(St0601.SlantRange, "Slant Range", "m")),
        Row("060E2B34010101010701090201000000", Float(22, "Target Width", "m")),
        Row("060E2B34010101010701020103020000", Float(St0601.FrameCenterLatitude, "Frame Center Latitude", "deg", 8)),
        Row("060E2B34010101010701020103040000", Float(St0601.FrameCenterLongitude, "Frame Center Longitude", "deg", 8)),
        Row("060E2B340101010A0701020103160000", Float(St0601.FrameCenterElevation, "Frame Center Elevation", "m")),
        Row("060E2B34010101030701020103070100", Float(82, "Corner Latitude Point 1", "deg", 8)),
        Row("060E2B34010101030701020103080100", Float(84, "Corner Latitude Point 2", "deg", 8)),
        Row("060E2B34010101030701020103090100", Float(86, "Corner Latitude Point 3", "deg", 8)),
        Row("060E2B340101010307010201030A0100", Float(88, "Corner Latitude Point 4", "deg", 8)),
        Row("060E2B340101010307010201030B0100", Float(83, "Corner Longitude Point 1", "deg", 8)),
        Row("060E2B340101010307010201030C0100", Float(85, "Corner Longitude Point 2", "deg", 8)),
        Row("060E2B340101010307010201030D0100", Float(87, "Corner Longitude Point 3", "deg", 8)),
        Row("060E2B340101010307010201030E0100", Float(89, "Corner Longitude Point 4", "deg", 8)),
        Row("060E2B34020301010E01030302000000", Set(St0601.SecurityLocalSet, "Security Local Set", () => St0102.Schema)),
        Row("060E2B34010101010702010201010000", Text(StartDateTime, "Start Datetime")),
        Row("060E2B34010101010702010207010000", Text(EventStartDateTime, "Event Start Datetime")),
        Row("060E2B34010101010701100101000000", Float(SensorRollAngle, "Sensor Roll Angle", "deg")),
        Row("060E2B34010101010701100102000000", Float(AngleToNorth, "Angle to North", "deg")),
        Row("060E2B34010101010701100103000000", Float(ObliquityAngle, "Obliquity Angle", "deg")),
    ];

    public static KlvSchema Schema { get; } = KlvSchema.Universal(Name, Key, Items);
}
