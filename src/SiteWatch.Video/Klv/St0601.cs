using static SiteWatch.Video.Klv.KlvTraits;

namespace SiteWatch.Video.Klv;

/// <summary>
/// MISB ST 0601.19 UAS Datalink Local Set: the whole tag table (1..143) as data. The generic
/// <see cref="KlvDecoder"/> and <see cref="KlvEncoder"/> do all the work from these rows.
/// </summary>
public static class St0601
{
    public static readonly KlvKey Key = KlvKey.Parse("060E2B34020B01010E01030101000000");

    public const string Name = "MISB ST 0601 UAS Datalink Local Set";

    /// <summary>The ST 0601 version this table follows (tag 65 value).</summary>
    public const int Version = 19;

    // Frequently used tag numbers, for readers of decoded sets.
    public const int Checksum = 1;
    public const int PrecisionTimeStamp = 2;
    public const int PlatformHeading = 5;
    public const int PlatformPitch = 6;
    public const int PlatformRoll = 7;
    public const int SensorLatitude = 13;
    public const int SensorLongitude = 14;
    public const int SensorTrueAltitude = 15;
    public const int HorizontalFov = 16;
    public const int VerticalFov = 17;
    public const int SensorRelativeAzimuth = 18;
    public const int SensorRelativeElevation = 19;
    public const int SensorRelativeRoll = 20;
    public const int SlantRange = 21;
    public const int FrameCenterLatitude = 23;
    public const int FrameCenterLongitude = 24;
    public const int FrameCenterElevation = 25;
    public const int SecurityLocalSet = 48;
    public const int UasLsVersion = 65;
    public const int VmtiLocalSet = 74;

    private static readonly (long, string)[] s_fovNames =
    [
        (0, "Ultranarrow"), (1, "Narrow"), (2, "Medium"), (3, "Wide"), (4, "Ultrawide"), (5, "Narrow Medium"),
        (6, "2x Ultranarrow"), (7, "4x Ultranarrow"), (8, "Continuous Zoom"),
    ];

    private static readonly (long, string)[] s_platformStatus =
    [
        (0, "Active"), (1, "Pre-flight"), (2, "Pre-flight-Taxiing"), (3, "Run-up"), (4, "Take-off"), (5, "Ingress"),
        (6, "Manual Operation"), (7, "Automated-orbit"), (8, "Transitioning"), (9, "Egress"), (10, "Landing"),
        (11, "Landed-Taxiing"), (12, "Landed-Parked"),
    ];

    private static readonly (long, string)[] s_sensorControlMode =
    [
        (0, "Off"), (1, "Home Position"), (2, "Uncontrolled"), (3, "Manual Control"), (4, "Calibrating"),
        (5, "Auto - Holding Position"), (6, "Auto - Tracking"),
    ];

    /// <summary>The table. Ranges and lengths are ST 0601.19's; IMAPB lengths are the encoder's defaults.</summary>
    public static IReadOnlyList<KlvTagTraits> Tags { get; } =
    [
        UInt(1, "Checksum", 2),
        Timestamp(2, "Precision Time Stamp"),
        Text(3, "Mission ID", 127),
        Text(4, "Platform Tail Number", 127),
        Mapped(5, "Platform Heading Angle", "deg", 2, 0, 360),
        SignedMapped(6, "Platform Pitch Angle", "deg", 2, 20),
        SignedMapped(7, "Platform Roll Angle", "deg", 2, 50),
        UInt(8, "Platform True Airspeed", 1, "m/s", 1),
        UInt(9, "Platform Indicated Airspeed", 1, "m/s", 1),
        Text(10, "Platform Designation", 127),
        Text(11, "Image Source Sensor", 127),
        Text(12, "Image Coordinate System", 127),
        SignedMapped(13, "Sensor Latitude", "deg", 4, 90),
        SignedMapped(14, "Sensor Longitude", "deg", 4, 180),
        Mapped(15, "Sensor True Altitude", "m", 2, -900, 19000),
        Mapped(16, "Sensor Horizontal Field of View", "deg", 2, 0, 180),
        Mapped(17, "Sensor Vertical Field of View", "deg", 2, 0, 180),
        Mapped(18, "Sensor Relative Azimuth Angle", "deg", 4, 0, 360),
        SignedMapped(19, "Sensor Relative Elevation Angle", "deg", 4, 180),
        Mapped(20, "Sensor Relative Roll Angle", "deg", 4, 0, 360),
        Mapped(21, "Slant Range", "m", 4, 0, 5_000_000),
        Mapped(22, "Target Width", "m", 2, 0, 10_000).WithLegacyLengths("ST 0601 version 1 packets send 4 bytes (same 0..10,000 m range)", 4),
        SignedMapped(23, "Frame Center Latitude", "deg", 4, 90),
        SignedMapped(24, "Frame Center Longitude", "deg", 4, 180),
        Mapped(25, "Frame Center Elevation", "m", 2, -900, 19000),
        SignedMapped(26, "Offset Corner Latitude Point 1", "deg", 2, 0.075),
        SignedMapped(27, "Offset Corner Longitude Point 1", "deg", 2, 0.075),
        SignedMapped(28, "Offset Corner Latitude Point 2", "deg", 2, 0.075),
        SignedMapped(29, "Offset Corner Longitude Point 2", "deg", 2, 0.075),
        SignedMapped(30, "Offset Corner Latitude Point 3", "deg", 2, 0.075),
        SignedMapped(31, "Offset Corner Longitude Point 3", "deg", 2, 0.075),
        SignedMapped(32, "Offset Corner Latitude Point 4", "deg", 2, 0.075),
        SignedMapped(33, "Offset Corner Longitude Point 4", "deg", 2, 0.075),
        Enum(34, "Icing Detected", (0, "Detector Off"), (1, "No Icing Detected"), (2, "Icing Detected")),
        Mapped(35, "Wind Direction", "deg", 2, 0, 360),
        Mapped(36, "Wind Speed", "m/s", 1, 0, 100),
        Mapped(37, "Static Pressure", "mbar", 2, 0, 5000),
        Mapped(38, "Density Altitude", "m", 2, -900, 19000),
        Int(39, "Outside Air Temperature", 1, "C", 1),
        SignedMapped(40, "Target Location Latitude", "deg", 4, 90),
        SignedMapped(41, "Target Location Longitude", "deg", 4, 180),
        Mapped(42, "Target Location Elevation", "m", 2, -900, 19000),
        Mapped(43, "Target Track Gate Width", "pixels", 1, 0, 510),
        Mapped(44, "Target Track Gate Height", "pixels", 1, 0, 510),
        Mapped(45, "Target Error Estimate - CE90", "m", 2, 0, 4095),
        Mapped(46, "Target Error Estimate - LE90", "m", 2, 0, 4095),
        Flags(47, "Generic Flag Data", 1, "Laser Range", "Auto-Track", "IR Polarity", "Icing Status", "Slant Range", "Image Invalid"),
        Set(48, "Security Local Set", () => St0102.Schema),
        Mapped(49, "Differential Pressure", "mbar", 2, 0, 5000),
        SignedMapped(50, "Platform Angle of Attack", "deg", 2, 20),
        SignedMapped(51, "Platform Vertical Speed", "m/s", 2, 180),
        SignedMapped(52, "Platform Sideslip Angle", "deg", 2, 20),
        Mapped(53, "Airfield Barometric Pressure", "mbar", 2, 0, 5000),
        Mapped(54, "Airfield Elevation", "m", 2, -900, 19000),
        Mapped(55, "Relative Humidity", "%", 1, 0, 100),
        UInt(56, "Platform Ground Speed", 1, "m/s", 1),
        Mapped(57, "Ground Range", "m", 4, 0, 5_000_000),
        Mapped(58, "Platform Fuel Remaining", "kg", 2, 0, 10_000),
        Text(59, "Platform Call Sign", 127),
        UInt(60, "Weapon Load", 2, maxLength: 2),
        UInt(61, "Weapon Fired", 1, maxLength: 1),
        UInt(62, "Laser PRF Code", 2, maxLength: 2),
        Enum(63, "Sensor Field of View Name", s_fovNames),
        Mapped(64, "Platform Magnetic Heading", "deg", 2, 0, 360),
        UInt(65, "UAS Datalink LS Version Number", 1, maxLength: 1),
        Raw(66, "Target Location Covariance Matrix (deprecated)", "Deprecated in ST 0601; kept as received"),
        SignedMapped(67, "Alternate Platform Latitude", "deg", 4, 90),
        SignedMapped(68, "Alternate Platform Longitude", "deg", 4, 180),
        Mapped(69, "Alternate Platform Altitude", "m", 2, -900, 19000),
        Text(70, "Alternate Platform Name", 127),
        Mapped(71, "Alternate Platform Heading", "deg", 2, 0, 360),
        Timestamp(72, "Event Start Time - UTC"),
        Set(73, "RVT Local Set", () => St0806.Schema),
        Set(74, "VMTI Local Set", () => St0903.Schema),
        Mapped(75, "Sensor Ellipsoid Height", "m", 2, -900, 19000),
        Mapped(76, "Alternate Platform Ellipsoid Height", "m", 2, -900, 19000),
        Enum(77, "Operational Mode", (0, "Other"), (1, "Operational"), (2, "Training"), (3, "Exercise"), (4, "Maintenance"), (5, "Test")),
        Mapped(78, "Frame Center Height Above Ellipsoid", "m", 2, -900, 19000),
        SignedMapped(79, "Sensor North Velocity", "m/s", 2, 327),
        SignedMapped(80, "Sensor East Velocity", "m/s", 2, 327),
        Custom(81, "Image Horizon Pixel Pack", KlvPackFormats.ImageHorizon),
        SignedMapped(82, "Corner Latitude Point 1 (Full)", "deg", 4, 90),
        SignedMapped(83, "Corner Longitude Point 1 (Full)", "deg", 4, 180),
        SignedMapped(84, "Corner Latitude Point 2 (Full)", "deg", 4, 90),
        SignedMapped(85, "Corner Longitude Point 2 (Full)", "deg", 4, 180),
        SignedMapped(86, "Corner Latitude Point 3 (Full)", "deg", 4, 90),
        SignedMapped(87, "Corner Longitude Point 3 (Full)", "deg", 4, 180),
        SignedMapped(88, "Corner Latitude Point 4 (Full)", "deg", 4, 90),
        SignedMapped(89, "Corner Longitude Point 4 (Full)", "deg", 4, 180),
        SignedMapped(90, "Platform Pitch Angle (Full)", "deg", 4, 90),
        SignedMapped(91, "Platform Roll Angle (Full)", "deg", 4, 90),
        SignedMapped(92, "Platform Angle of Attack (Full)", "deg", 4, 90),
        SignedMapped(93, "Platform Sideslip Angle (Full)", "deg", 4, 180),
        Custom(94, "MIIS Core Identifier", KlvPackFormats.MiisCoreIdentifier),
        Set(95, "SAR Motion Imagery Local Set", () => MisbSets.St1206),
        Imapb(96, "Target Width Extended", "m", 0, 1_500_000, 3),
        Set(97, "Range Image Local Set", () => MisbSets.St1002),
        Set(98, "Geo-Registration Local Set", () => MisbSets.St1601),
        Set(99, "Composite Imaging Local Set", () => MisbSets.St1602),
        Set(100, "Segment Local Set", () => Nested!),
        Set(101, "Amend Local Set", () => Nested!),
        Raw(102, "SDCC-FLP", "ST 1010 standard deviation / correlation pack; its members are the tags before it, not decoded"),
        Imapb(103, "Density Altitude Extended", "m", -900, 40_000, 3),
        Imapb(104, "Sensor Ellipsoid Height Extended", "m", -900, 40_000, 3),
        Imapb(105, "Alternate Platform Ellipsoid Height Extended", "m", -900, 40_000, 3),
        Text(106, "Stream Designator", 127),
        Text(107, "Operational Base", 127),
        Text(108, "Broadcast Source", 127),
        Imapb(109, "Range To Recovery Location", "km", 0, 21_000, 3),
        UInt(110, "Time Airborne", 4, "s", 4),
        UInt(111, "Propulsion Unit Speed", 4, "RPM", 4),
        Imapb(112, "Platform Course Angle", "deg", 0, 360, 2),
        Imapb(113, "Altitude Above Ground Level", "m", -900, 40_000, 3),
        Imapb(114, "Radar Altimeter", "m", -900, 40_000, 3),
        Custom(115, "Control Command", KlvPackFormats.ControlCommand),
        Custom(116, "Control Command Verification List", KlvPackFormats.OidList),
        Imapb(117, "Sensor Azimuth Rate", "deg/s", -1000, 1000, 2),
        Imapb(118, "Sensor Elevation Rate", "deg/s", -1000, 1000, 2),
        Imapb(119, "Sensor Roll Rate", "deg/s", -1000, 1000, 2),
        Imapb(120, "On-board MI Storage Percent Full", "%", 0, 100, 2),
        Custom(121, "Active Wavelength List", KlvPackFormats.OidList),
        Custom(122, "Country Codes", KlvPackFormats.CountryCodes),
        UInt(123, "Number of NAVSATs in View", 1, "count", 1),
        Flags(124, "Positioning Method Source", 1, "On-board INS", "GPS", "Galileo", "QZSS", "NAVIC", "GLONASS", "BeiDou-1", "BeiDou-2"),
        Enum(125, "Platform Status", s_platformStatus),
        Enum(126, "Sensor Control Mode", s_sensorControlMode),
        Custom(127, "Sensor Frame Rate Pack", KlvPackFormats.FrameRate, "frames/s"),
        Custom(128, "Wavelengths List", KlvPackFormats.WavelengthsList),
        Text(129, "Target ID", 32),
        Custom(130, "Airbase Locations", KlvPackFormats.AirbaseLocations),
        Timestamp(131, "Take-off Time"),
        Imapb(132, "Transmission Frequency", "MHz", 1, 99_999, 3),
        UInt(133, "On-board MI Storage Capacity", 4, "GB", 4),
        Imapb(134, "Zoom Percentage", "%", 0, 100, 2),
        Text(135, "Communications Method", 127),
        Int(136, "Leap Seconds", 4, "s", 4),
        Int(137, "Correction Offset", 8, "us", 8),
        Custom(138, "Payload List", KlvPackFormats.PayloadList),
        Custom(139, "Active Payloads", KlvPackFormats.ActivePayloads),
        Custom(140, "Weapons Stores", KlvPackFormats.WeaponsStores),
        Custom(141, "Waypoint List", KlvPackFormats.WaypointList),
        Custom(142, "View Domain", KlvPackFormats.ViewDomain),
        Custom(143, "Metadata Substream ID Pack", KlvPackFormats.MetadataSubstreamId),
    ];

    /// <summary>The precision time stamp (tag 2) of a decoded set as UTC, or null when the set has none or it is out of range.</summary>
    public static DateTimeOffset? PrecisionTime(KlvLocalSet? set) =>
        set?.TryGetItem(PrecisionTimeStamp, out var stamp) == true && stamp.AsDateTime() is { } utc
            ? new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc))
            : null;

    /// <summary>Top-level packet schema: keyed, with the 16-bit running-sum checksum in tag 1.</summary>
    public static KlvSchema Schema { get; } = new(Name, Key, KlvChecksumKind.Sum16, Tags);

    /// <summary>The same table without key or checksum, for ST 1607 amend and segment sets nested in a packet.</summary>
    public static KlvSchema Nested { get; } = new(Name, null, KlvChecksumKind.None, Tags);

    /// <summary>
    /// Key of ST 0601 sent as a universal set: the local set's key with the set-kind byte (byte 6) saying
    /// "universal set" (0x01) instead of "BER-OID local set" (0x0B).
    /// </summary>
    public static readonly KlvKey UniversalKey = KlvKey.Parse("060E2B34020101010E01030101000000");

    /// <summary>
    /// The "US key" column of ST 0601's table: the universal key that stands for a tag when the set is sent as a
    /// universal set. Tags the column leaves empty cannot travel in one. Where ST 0601 gives one key to two tags
    /// (offset and full corners 26-33 / 82-89, pitch and roll 6-7 / 90-91, target width 22 / 96) the key maps to
    /// the first of them that carries the full value (82-89, 6-7, 22).
    /// </summary>
    private static readonly (string Key, int Tag)[] s_universalKeys =
    [
        ("060E2B34010101030702010101050000", 2),
        ("060E2B34010101010105050000000000", 3),
        ("060E2B34010101070701100106000000", 5),
        ("060E2B34010101070701100105000000", 6),
        ("060E2B34010101070701100104000000", 7),
        ("060E2B34010101010101200100000000", 10),
        ("060E2B34010101010420010201010000", 11),
        ("060E2B34010101010701010100000000", 12),
        ("060E2B34010101030701020102040200", 13),
        ("060E2B34010101030701020102060200", 14),
        ("060E2B34010101010701020102020000", 15),
        ("060E2B34010101020420020101080000", 16),
        ("060E2B34010101010701080101000000", 21),
        ("060E2B34010101010701090201000000", 22),
        ("060E2B34010101010701020103020000", 23),
        ("060E2B34010101010701020103040000", 24),
        ("060E2B34020301010E01030302000000", 48),
        ("060E2B34010101010702010207010000", 72),
        ("060E2B34020B01010E01030306000000", 74),
        ("060E2B34010101030701020103070100", 82),
        ("060E2B340101010307010201030B0100", 83),
        ("060E2B34010101030701020103080100", 84),
        ("060E2B340101010307010201030C0100", 85),
        ("060E2B34010101030701020103090100", 86),
        ("060E2B340101010307010201030D0100", 87),
        ("060E2B340101010307010201030A0100", 88),
        ("060E2B340101010307010201030E0100", 89),
        ("060E2B34010101010E01040503000000", 94),
        ("060E2B34020B01010E0103030D000000", 95),
        ("060E2B34010101010E01010110000000", 103),
        ("060E2B34010101010E01020182470000", 104),
        ("060E2B34010101010E01020182480000", 105),
    ];

    /// <summary>
    /// ST 0601 as a universal set: 16-byte keys per item (<see cref="s_universalKeys"/>) mapped to the local-set tags,
    /// values encoded as in the local set. No checksum (tag 1 has no universal key).
    /// </summary>
    public static KlvSchema UniversalSchema { get; } = KlvSchema.Universal(Name + " (universal set)", UniversalKey,
        s_universalKeys.Select(u => (KlvKey.Parse(u.Key), Schema[(ulong)u.Tag]!)));
}
