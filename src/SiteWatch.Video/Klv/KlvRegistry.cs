namespace SiteWatch.Video.Klv;

/// <summary>Maps universal keys to schemas (ignoring the UL version byte).</summary>
public sealed class KlvRegistry
{
    private readonly List<KlvSchema> _schemas = [];

    /// <summary>
    /// The standards this library implements as top-level packets: ST 0601, 0102, 0903, 0806 local sets, EG 0104,
    /// and ST 0601 and 0102 sent as universal sets.
    /// </summary>
    public static KlvRegistry Default { get; } = CreateDefault();

    private static KlvRegistry CreateDefault()
    {
        var r = new KlvRegistry();
        r.Add(St0601.Schema);
        r.Add(St0102.Schema);
        r.Add(St0903.Schema);
        r.Add(St0806.Schema);
        r.Add(St0104.Schema);
        r.Add(St0601.UniversalSchema);
        r.Add(St0102.UniversalSchema);
        return r;
    }

    public void Add(KlvSchema schema)
    {
        if (schema.Key is null)
        {
            throw new ArgumentException($"{schema.Name} has no key and cannot be a top-level packet");
        }

        _schemas.Add(schema);
    }

    public KlvSchema? Find(KlvKey key)
    {
        // A handful of schemas: a linear scan beats hashing a masked key.
        foreach (var s in _schemas)
        {
            if (s.Key!.Value.MatchesIgnoringVersion(key))
            {
                return s;
            }
        }

        return null;
    }
}
