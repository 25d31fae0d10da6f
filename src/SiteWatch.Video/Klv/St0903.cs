using static SiteWatch.Video.Klv.KlvTraits;

namespace SiteWatch.Video.Klv;

/// <summary>
/// MISB ST 0903 Video Moving Target Indicator local set and its nested packs (VTarget, VMask, VObject,
/// VFeature, VTracker, VChip, algorithm and ontology series), all as tag tables.
/// </summary>
// Nested schemas are referenced through lambdas (resolved on first use), so the static properties
// below may be declared after the rows that point at them; "!" tells the compiler they are set by then.
public static class St0903
{
    public static readonly KlvKey Key = KlvKey.Parse("060E2B34020B01010E01030306000000");

    public const string Name = "MISB ST 0903 VMTI Local Set";

    public const int VTargetSeries = 101;
    public const int AlgorithmSeries = 102;
    public const int OntologySeries = 103;

    public static IReadOnlyList<KlvTagTraits> Tags { get; } =
    [
        UInt(1, "Checksum", 2, maxLength: 2),
        Timestamp(2, "Precision Time Stamp"),
        Text(3, "VMTI System Name", 32),
        UInt(4, "VMTI LS Version", 2, maxLength: 2),
        UInt(5, "Total Number of Targets Detected", 3, maxLength: 3),
        UInt(6, "Number of Targets Reported", 3, maxLength: 3),
        UInt(7, "Frame Number", 3, maxLength: 4),
        UInt(8, "Frame Width", 3, "pixels", 3),
        UInt(9, "Frame Height", 3, "pixels", 3),
        Text(10, "VMTI Source Sensor", 127),
        Imapb(11, "VMTI Horizontal Field of View", "deg", 0, 180, 2),
        Imapb(12, "VMTI Vertical Field of View", "deg", 0, 180, 2),
        Custom(13, "MIIS ID", KlvPackFormats.MiisCoreIdentifier),
        IdSeries(VTargetSeries, "VTarget Series", () => VTarget!),
        Series(AlgorithmSeries, "Algorithm Series", () => Algorithm!),
        Series(OntologySeries, "Ontology Series", () => Ontology!),
    ];

    /// <summary>VMTI packet schema; same 16-bit running-sum checksum as ST 0601.</summary>
    public static KlvSchema Schema { get; } = new(Name, Key, KlvChecksumKind.Sum16, Tags);

    /// <summary>VTarget pack: one detected target (the id is carried by the series element).</summary>
    public static KlvSchema VTarget { get; } = new("VTarget Pack", null, KlvChecksumKind.None,
    [
        UInt(1, "Target Centroid", 6, "pixel number", 6),
        UInt(2, "Boundary Top Left", 6, "pixel number", 6),
        UInt(3, "Boundary Bottom Right", 6, "pixel number", 6),
        UInt(4, "Target Priority", 1, maxLength: 1),
        UInt(5, "Target Confidence Level", 1, "%", 1),
        UInt(6, "Target History", 2, "frames", 2),
        UInt(7, "Percentage of Target Pixels", 1, "%", 1),
        UInt(8, "Target Color", 3, "RGB", 3),
        UInt(9, "Target Intensity", 3, maxLength: 3),
        Imapb(10, "Target Location Offset Latitude", "deg", -19.2, 19.2, 3),
        Imapb(11, "Target Location Offset Longitude", "deg", -19.2, 19.2, 3),
        Imapb(12, "Target Height Above Ellipsoid", "m", -900, 19000, 2),
        Imapb(13, "Boundary Top Left Latitude Offset", "deg", -19.2, 19.2, 3),
        Imapb(14, "Boundary Top Left Longitude Offset", "deg", -19.2, 19.2, 3),
        Imapb(15, "Boundary Bottom Right Latitude Offset", "deg", -19.2, 19.2, 3),
        Imapb(16, "Boundary Bottom Right Longitude Offset", "deg", -19.2, 19.2, 3),
        Custom(17, "Target Location", KlvPackFormats.Location0903),
        Custom(18, "Target Boundary Series", KlvPackFormats.LocationSeries),
        UInt(19, "Centroid Pixel Row", 4, "pixels", 4),
        UInt(20, "Centroid Pixel Column", 4, "pixels", 4),
        Custom(21, "FPA Index Pack", KlvPackFormats.FpaIndex),
        Oid(22, "Algorithm ID"),
        Set(101, "VMask", () => VMask!),
        Set(102, "VObject", () => VObject!),
        Set(103, "VFeature", () => VFeature!),
        Set(104, "VTracker", () => VTracker!),
        Set(105, "VChip", () => VChip!),
        Series(106, "VChip Series", () => VChip!),
        Series(107, "VObject Series", () => VObject!),
    ]);

    public static KlvSchema VMask { get; } = new("VMask Local Set", null, KlvChecksumKind.None,
    [
        Custom(1, "Polygon", KlvPackFormats.PixelList),
        Custom(2, "Bitmask Series", KlvPackFormats.PixelRunSeries),
    ]);

    public static KlvSchema VObject { get; } = new("VObject Local Set", null, KlvChecksumKind.None,
    [
        Text(1, "Ontology"),
        Text(2, "Ontology Class"),
        Oid(3, "Ontology ID"),
        Imapb(4, "Confidence", "%", 0, 100, 3),
    ]);

    public static KlvSchema VFeature { get; } = new("VFeature Local Set", null, KlvChecksumKind.None,
    [
        Text(1, "Schema"),
        Text(2, "Schema Feature"),
    ]);

    public static KlvSchema VTracker { get; } = new("VTracker Local Set", null, KlvChecksumKind.None,
    [
        Uuid(1, "Track ID"),
        Enum(2, "Detection Status", (0, "Inactive"), (1, "Active"), (2, "Dropped")),
        Timestamp(3, "Start Time"),
        Timestamp(4, "End Time"),
        Custom(5, "Boundary Series", KlvPackFormats.LocationSeries),
        Text(6, "Algorithm"),
        UInt(7, "Confidence Level", 1, "%", 1),
        UInt(8, "Number of Track Points", 2, maxLength: 2),
        Custom(9, "Track History Series", KlvPackFormats.LocationSeries),
        Custom(10, "Velocity", KlvPackFormats.Velocity, "m/s"),
        Custom(11, "Acceleration", KlvPackFormats.Velocity, "m/s^2"),
        Oid(12, "Algorithm ID"),
    ]);

    public static KlvSchema VChip { get; } = new("VChip Local Set", null, KlvChecksumKind.None,
    [
        Text(1, "Image Type"),
        Text(2, "Image URI"),
        Bytes(3, "Embedded Image"),
    ]);

    public static KlvSchema Algorithm { get; } = new("Algorithm Local Set", null, KlvChecksumKind.None,
    [
        Oid(1, "ID"),
        Text(2, "Name"),
        Text(3, "Version"),
        Text(4, "Class"),
        Oid(5, "Number of Frames"),
    ]);

    public static KlvSchema Ontology { get; } = new("Ontology Local Set", null, KlvChecksumKind.None,
    [
        Oid(1, "ID"),
        Oid(2, "Parent ID"),
        Text(3, "Ontology URI"),
        Text(4, "Ontology Class"),
    ]);
}
