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

    /// <summary>The ST 0102 Security Metadata Universal Set key.</summary>
    public static readonly KlvKey UniversalKey = KlvKey.Parse("060E2B34020101010208020000000000");

    /// <summary>
    /// The universal set: each item's 16-byte key (ST 0102's "US key" column) mapped to the local-set tag. The
    /// universal set writes the classification and the coding methods as text where the local set has enumerations.
    /// </summary>
    public static IReadOnlyList<(KlvKey ItemKey, KlvTagTraits Traits)> UniversalItems { get; } =
    [
        (KlvKey.Parse("060E2B34010101030208020100000000"), Text(1, "Security Classification")),
        (KlvKey.Parse("060E2B34010101030701200102070000"), Text(2, "Country Coding Method for Classifying Country and Releasing Instructions")),
        (KlvKey.Parse("060E2B34010101030701200102080000"), Text(3, "Classifying Country")),
        (KlvKey.Parse("060E2B34010101010E01020302000000"), Text(4, "SCI/SHI Information")),
        (KlvKey.Parse("060E2B34010101030208020200000000"), Text(5, "Caveats")),
        (KlvKey.Parse("060E2B34010101030701200102090000"), Text(6, "Releasing Instructions")),
        (KlvKey.Parse("060E2B34010101030208020300000000"), Text(7, "Classified By")),
        (KlvKey.Parse("060E2B34010101030208020600000000"), Text(8, "Derived From")),
        (KlvKey.Parse("060E2B34010101030208020400000000"), Text(9, "Classification Reason")),
        (KlvKey.Parse("060E2B34010101030208020500000000"), Text(10, "Declassification Date")),
        (KlvKey.Parse("060E2B34010101030208020800000000"), Text(11, "Classification and Marking System")),
        (KlvKey.Parse("060E2B34010101030701200102060000"), Text(12, "Object Country Coding Method")),
        (KlvKey.Parse("060E2B34010101030701200102010100"), Utf16(13, "Object Country Codes")),
        (KlvKey.Parse("060E2B34010101030208020700000000"), Text(14, "Classification Comments")),
        (KlvKey.Parse("060E2B34010101030103040200000000"), UInt(16, "Stream ID", 1, maxLength: 1)),
        (KlvKey.Parse("060E2B34010101030103040300000000"), UInt(17, "Transport Stream ID", 2, maxLength: 2)),
        (KlvKey.Parse("060E2B34010101030103060100000000"), Bytes(21, "Item Designator ID", 16)),
        (KlvKey.Parse("060E2B34010101010E01020504000000"), UInt(22, "Version", 2, maxLength: 2)),
        (KlvKey.Parse("060E2B34010101010E01040303000000"), Text(23, "Classifying Country and Releasing Instructions Country Coding Method Version Date", 10)),
        (KlvKey.Parse("060E2B34010101010E01040304000000"), Text(24, "Object Country Coding Method Version Date", 10)),
    ];

    public static KlvSchema UniversalSchema { get; } = KlvSchema.Universal(Name + " (universal set)", UniversalKey, UniversalItems);
}
