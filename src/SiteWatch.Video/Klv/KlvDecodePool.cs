namespace SiteWatch.Video.Klv;

/// <summary>
/// Storage a reused <see cref="KlvPacket"/> hands to the decoder so that a steady stream allocates nothing per
/// packet: nested sets and series are rented from lists that survive from packet to packet, and a structured
/// (pack) value whose bytes equal those at the same place in the previous packet reuses its decoded object.
/// Metadata such as MIIS identifiers, security sets and platform designations repeats in every packet, so
/// the comparison of a few bytes saves a struct of boxed fields each time. A nested set or series directly in the
/// packet's set is cached the same way with everything inside it (see <see cref="FindNested"/>): when its bytes repeat
/// it is moved to its place in the new packet instead of decoded again.
/// </summary>
internal sealed class KlvDecodePool
{
    private readonly List<KlvLocalSet> _sets = [];
    private readonly List<KlvSeries> _series = [];
    private readonly List<PackEntry> _packs = [];
    private readonly List<NestedEntry> _nested = [];
    private int _nestedNext;
    private int _setsUsed;
    private int _seriesUsed;
    private int _packsUsed; // where the search for the next pack's entry starts
    private int _stamp = 1; // the packet being decoded: an entry already used by it is not handed out again
    private (ushort Received, ushort Computed, string? Message) _checksumProblem;

    /// <summary>Starts a packet: everything rented for the previous one may be handed out again.</summary>
    public void Reset()
    {
        _setsUsed = 0;
        _seriesUsed = 0;
        _packsUsed = 0;
        _stamp++;
    }

    public KlvLocalSet RentSet(KlvSchema schema)
    {
        if (_setsUsed == _sets.Count)
        {
            _sets.Add(new KlvLocalSet(schema, 8) { Pool = this });
        }

        return _sets[_setsUsed++];
    }

    public KlvSeries RentSeries()
    {
        if (_seriesUsed == _series.Count)
        {
            _series.Add(new KlvSeries());
        }

        var series = _series[_seriesUsed++];
        series.Clear();
        return series;
    }

    /// <summary>
    /// The decoded pack for <paramref name="value"/>: a previous packet's object when a pack of the same tag and
    /// bytes was decoded there, else a fresh decode. Entries are matched in packet order by tag, skipping the
    /// entries of tags this packet lacks, so an optional pack that comes and goes does not shift the others.
    /// Null with <paramref name="error"/> when the pack is malformed.
    /// </summary>
    public object? DecodePack(KlvTagTraits traits, ReadOnlySpan<byte> value, out string? error)
    {
        PackEntry? entry = null;
        var count = _packs.Count;
        for (var i = 0; i < count; i++)
        {
            var index = _packsUsed + i;
            if (index >= count)
            {
                index -= count;
            }

            var candidate = _packs[index];
            if (ReferenceEquals(candidate.Traits, traits) && candidate.Stamp != _stamp)
            {
                entry = candidate;
                _packsUsed = index + 1 == count ? 0 : index + 1;
                break;
            }
        }

        if (entry is null)
        {
            entry = new PackEntry();
            _packs.Add(entry);
            _packsUsed = 0;
        }

        entry.Stamp = _stamp;
        if (ReferenceEquals(entry.Traits, traits) && value.SequenceEqual(entry.Bytes.AsSpan(0, entry.Length)))
        {
            error = entry.Error;
            return entry.Value;
        }

        entry.Traits = null; // not valid until the decode below completes
        entry.Value = Decode(traits, value, out error);
        entry.Error = error;
        if (entry.Bytes.Length < value.Length)
        {
            entry.Bytes = new byte[Math.Max(value.Length, 2 * entry.Bytes.Length)];
        }

        value.CopyTo(entry.Bytes);
        entry.Length = value.Length;
        entry.Traits = traits;
        return entry.Value;
    }

    /// <summary>
    /// The cache entry for a nested set or series directly in the packet's set (security, VMTI, RVT ... sets), matched
    /// like packs: in packet order by tag. <paramref name="reusable"/> says its decoded value has the same bytes and
    /// decoded without a problem, so it can be moved into this packet instead of decoded again; else the caller
    /// decodes into <see cref="NestedEntry.Pool"/> (reset here) and calls <see cref="NestedEntry.Store"/>.
    /// </summary>
    public NestedEntry FindNested(KlvTagTraits traits, ReadOnlySpan<byte> value, out bool reusable)
    {
        NestedEntry? entry = null;
        var count = _nested.Count;
        for (var i = 0; i < count; i++)
        {
            var index = _nestedNext + i;
            if (index >= count)
            {
                index -= count;
            }

            var candidate = _nested[index];
            if (ReferenceEquals(candidate.Traits, traits) && candidate.Stamp != _stamp)
            {
                entry = candidate;
                _nestedNext = index + 1 == count ? 0 : index + 1;
                break;
            }
        }

        if (entry is null)
        {
            entry = new NestedEntry();
            _nested.Add(entry);
            _nestedNext = 0;
        }

        entry.Stamp = _stamp;
        reusable = entry.Clean && ReferenceEquals(entry.Traits, traits) && value.SequenceEqual(entry.Bytes.AsSpan(0, entry.Length));
        if (!reusable)
        {
            entry.Traits = null; // not valid until Store
            entry.Pool.Reset();
        }

        return entry;
    }

    /// <summary>The checksum problem's text, built again only when the checksums differ from the last mismatch's.</summary>
    public string ChecksumMessage(ushort received, ushort computed)
    {
        if (_checksumProblem.Message is null || _checksumProblem.Received != received || _checksumProblem.Computed != computed)
        {
            _checksumProblem = (received, computed, KlvDecoder.ChecksumMessage(received, computed));
        }

        return _checksumProblem.Message;
    }

    /// <summary>Runs the tag's pack decoder; its <see cref="KlvFormatException"/> becomes <paramref name="error"/>.</summary>
    public static object? Decode(KlvTagTraits traits, ReadOnlySpan<byte> value, out string? error)
    {
        try
        {
            error = null;
            return traits.Custom!(value);
        }
        catch (KlvFormatException e)
        {
            error = e.Message;
            return null;
        }
    }

    /// <summary>A nested set or series of an earlier packet, with its own pool for the sets, series and packs inside it.</summary>
    internal sealed class NestedEntry
    {
        public KlvTagTraits? Traits;
        public byte[] Bytes = [];
        public int Length;
        public bool Clean;
        public int Stamp;

        /// <summary>The decoded set or series.</summary>
        public object? Value;

        /// <summary>Where the value's bytes started in the packet it was last placed in.</summary>
        public int ValueOffset;

        public KlvDecodePool Pool { get; } = new();

        public void Store(KlvTagTraits traits, ReadOnlySpan<byte> value, object? decoded, int valueOffset, bool clean)
        {
            if (Bytes.Length < value.Length)
            {
                Bytes = new byte[Math.Max(value.Length, 2 * Bytes.Length)];
            }

            value.CopyTo(Bytes);
            Length = value.Length;
            Value = decoded;
            ValueOffset = valueOffset;
            Clean = clean && decoded is not null;
            Traits = traits;
        }

        /// <summary>Moves the cached value to <paramref name="valueOffset"/> in a packet whose bytes there are <paramref name="value"/>.</summary>
        public object Place(ReadOnlyMemory<byte> value, int valueOffset)
        {
            var delta = valueOffset - ValueOffset;
            if (Value is KlvLocalSet set)
            {
                set.Rebase(value, valueOffset, delta);
            }
            else if (Value is KlvSeries series)
            {
                for (var i = 0; i < series.Count; i++) // indexed: the interface enumerator would allocate
                {
                    series[i].Set.Rebase(value, valueOffset, delta);
                }
            }

            ValueOffset = valueOffset;
            return Value!;
        }
    }

    private sealed class PackEntry
    {
        public KlvTagTraits? Traits;
        public byte[] Bytes = [];
        public int Length;
        public object? Value;
        public string? Error;
        public int Stamp;
    }
}
