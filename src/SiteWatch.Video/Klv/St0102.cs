using static SiteWatch.Video.Klv.KlvTraits;

namespace SiteWatch.Video.Klv;

/// <summary>MISB ST 0102 Security Metadata local set (standalone packet, or nested as ST 0601 tag 48).</summary>
public static class St0102
{
    public static readonly KlvKey Key = KlvKey.Parse("060E2B34020301010E01030302000000");

    public const string Name = "MISB ST 0102 Security Local Set";

    public static IReadOnlyList<KlvTagTraits> Tags { get; } =
    [
        Enum(1, "Security Classification", (1, "UNCLASSIFIED"), (2, "RESTRICTED"), (3, "CONFIDENTIAL"), (4, "SECRET"), (5, "TOP SECRET")),
        Enum(2, "Country Coding Method for Classifying Country and Releasing Instructions", KlvPacks.CountryCodingLabels()),
        Text(3, "Classifying Country", 6),
        Text(4, "SCI/SHI Information"),
        Text(5, "Caveats", 32),
        Text(6, "Releasing Instructions"),
        Text(7, "Classified By", 40),
        Text(8, "Derived From", 40),
        Text(9, "Classification Reason", 48),
        Text(10, "Declassification Date", 8),
        Text(11, "Classification and Marking System", 40),
        Enum(12, "Object Country Coding Method", KlvPacks.CountryCodingLabels()),
        // ST 0102.10 onwards sends object country codes as UTF-16 big-endian.
        Utf16(13, "Object Country Codes"),
        Text(14, "Classification Comments", 480),
        Bytes(15, "UMID (deprecated)", 32),
        UInt(16, "Stream ID", 1, maxLength: 1),
        UInt(17, "Transport Stream ID", 2, maxLength: 2),
        Bytes(21, "Item Designator ID", 16),
        UInt(22, "Version", 2, maxLength: 2),
        Text(23, "Classifying Country and Releasing Instructions Country Coding Method Version Date", 10),
        Text(24, "Object Country Coding Method Version Date", 10),
    ];

    public static KlvSchema Schema { get; } = new(Name, Key, KlvChecksumKind.None, Tags);
}
