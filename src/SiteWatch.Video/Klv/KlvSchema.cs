namespace SiteWatch.Video.Klv;

/// <summary>A standard's local set: its key (if it travels as a packet), tag table and checksum rule.</summary>
public sealed class KlvSchema
{
    private readonly KlvTagTraits?[] _byTag;
    private readonly KlvTagTraits[] _tags;

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
    }

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
