namespace SiteWatch.Video.Klv;

/// <summary>A standard's local set: its key (if it travels as a packet), tag table and checksum rule.</summary>
public sealed class KlvSchema
{
    private readonly KlvTagTraits?[] _byTag;
    private readonly KlvFastTrait[] _fast;
    private readonly KlvRunRow[] _run;
    private readonly KlvTagTraits[] _tags;

    private readonly Dictionary<(ulong, ulong), KlvTagTraits>? _byItemKey;
    private readonly Dictionary<int, KlvKey>? _itemKeyByTag;

    public KlvSchema(string name, KlvKey? key, KlvChecksumKind checksum, IEnumerable<KlvTagTraits> tags, int checksumTag = 1)
    {
        Name = name;
        Key = key;
        Checksum = checksum;
        ChecksumTag = checksumTag;
        _tags = tags.OrderBy(t => t.Tag).ToArray();
        var max = _tags.Length == 0 ? 0 : _tags[^1].Tag;
        _byTag = new KlvTagTraits?[max + 1];
        foreach (var t in _tags)
        {
            if (t.Tag <= 0)
            {
                throw new ArgumentException($"{name}: tag numbers start at 1");
            }

            if (_byTag[t.Tag] is not null)
            {
                throw new ArgumentException($"{name}: tag {t.Tag} defined twice");
            }

            _byTag[t.Tag] = t;
        }

        _fast = new KlvFastTrait[_byTag.Length];
        Array.Fill(_fast, KlvFastTrait.None);
        // 128 rows: the decoder's run loop indexes it by any one-byte tag without a bounds check.
        _run = new KlvRunRow[128];
        Array.Fill(_run, KlvRunRow.None);
        foreach (var t in _tags)
        {
            _fast[t.Tag] = t.ToFast();
            if (t.Tag < _run.Length)
            {
                _run[t.Tag] = t.ToRun();
            }
        }
    }

    /// <summary>The rows of the one-byte tags (0-127) as the decoder's run loop reads them.</summary>
    internal KlvRunRow[] RunTable => _run;

    /// <summary>The table flattened for the decoder's item loop, indexed by tag; rows of undefined tags have no traits.</summary>
    internal KlvFastTrait[] FastTable => _fast;

    /// <summary>
    /// A universal set (SMPTE 336 "US"): every item is a 16-byte key, a BER length and a value. Each row of
    /// <paramref name="items"/> pairs an item key with the traits (tag number, format) it decodes to; keys match
    /// ignoring the version byte. Universal sets carry no checksum.
    /// </summary>
    public static KlvSchema Universal(string name, KlvKey key, IEnumerable<(KlvKey ItemKey, KlvTagTraits Traits)> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var rows = items.ToList();
        return new KlvSchema(name, key, rows);
    }

    private KlvSchema(string name, KlvKey key, List<(KlvKey ItemKey, KlvTagTraits Traits)> rows)
        : this(name, key, KlvChecksumKind.None, rows.Select(r => r.Traits), 0)
    {
        _byItemKey = [];
        _itemKeyByTag = [];
        foreach (var (itemKey, traits) in rows)
        {
            if (!_byItemKey.TryAdd(Masked(itemKey), traits))
            {
                throw new ArgumentException($"{name}: item key {itemKey} defined twice");
            }

            _itemKeyByTag[traits.Tag] = itemKey;
        }
    }

    private static (ulong, ulong) Masked(KlvKey key) => (key.High & 0xFFFF_FFFF_FFFF_FF00, key.Low);

    /// <summary>True for universal sets (16-byte item keys instead of tags).</summary>
    public bool IsUniversal => _byItemKey is not null;

    /// <summary>Traits for a universal set's item key (version byte ignored), or null when the table does not define it.</summary>
    public KlvTagTraits? FindItem(KlvKey itemKey) =>
        _byItemKey is not null && _byItemKey.TryGetValue(Masked(itemKey), out var t) ? t : null;

    /// <summary>The 16-byte item key a universal set writes for <paramref name="tag"/>.</summary>
    public KlvKey? ItemKeyOf(int tag) => _itemKeyByTag is not null && _itemKeyByTag.TryGetValue(tag, out var k) ? k : null;

    public string Name { get; }

    /// <summary>Universal key when the set is sent as a packet of its own; null for sets only ever nested.</summary>
    public KlvKey? Key { get; }

    public KlvChecksumKind Checksum { get; }

    public int ChecksumTag { get; }

    public IReadOnlyList<KlvTagTraits> Tags => _tags;

    /// <summary>Traits for <paramref name="tag"/>, or null if the table does not define it.</summary>
    public KlvTagTraits? this[ulong tag] => tag < (ulong)_byTag.Length ? _byTag[tag] : null;

    public override string ToString() => Name;
}
