using System.Collections;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SiteWatch.Video.Klv;

/// <summary>
/// A decoded local set: its items in packet order. Instances can be reused with
/// <see cref="KlvDecoder.Decode(ReadOnlyMemory{byte}, KlvPacket, KlvRegistry?)"/> so a steady stream decodes without allocating.
/// </summary>
public sealed class KlvLocalSet : IReadOnlyList<KlvItem>
{
    private KlvItem[] _items;
    private int _count;
    private object?[] _objects = [];
    private int _objectCount;
    private int _staleObjects; // slots of an earlier decode not yet cleared (Reset, TrimObjects)

    internal KlvLocalSet(KlvSchema schema, int capacity = 16)
    {
        Schema = schema;
        _items = new KlvItem[capacity];
    }

    public KlvSchema Schema { get; private set; }

    /// <summary>Where nested sets, series and packs of a reused packet come from; null for one-off decodes.</summary>
    internal KlvDecodePool? Pool { get; set; }

    /// <summary>The set's value bytes (for a packet: everything after the key and length).</summary>
    public ReadOnlyMemory<byte> Bytes { get; private set; }

    /// <summary>Where <see cref="Bytes"/> starts, counted from the first byte of the enclosing packet.</summary>
    public int Offset { get; private set; }

    /// <summary>Problems found while decoding this set on its own (<see cref="KlvDecoder.DecodeSet"/>); a packet's problems are on <see cref="KlvPacket.Problems"/>.</summary>
    public IReadOnlyList<KlvProblem> Problems { get; internal set; } = NoProblems;

    public int Count => _count;

    public KlvItem this[int index] => (uint)index < (uint)_count ? _items[index] : throw new ArgumentOutOfRangeException(nameof(index));

    internal void Reset(KlvSchema schema, ReadOnlyMemory<byte> bytes, int offset)
    {
        // A pooled set is reset for the same schema packet after packet: a reference is stored only when it changes
        // (each reference store into a long-lived object is a GC write barrier).
        if (!ReferenceEquals(Schema, schema))
        {
            Schema = schema;
        }

        Bytes = bytes;
        Offset = offset;
        _count = 0;
        // Items refer only to this set; the nested sets, packs and texts they point at live in _objects. The slots are
        // kept while the set is decoded again, so a slot that gets the same object (a pooled nested set, the
        // unbuilt-pack marker) is not stored again; TrimObjects clears what the new decode did not reuse, which lets
        // the previous packet's objects go.
        _staleObjects = Math.Max(_staleObjects, _objectCount);
        _objectCount = 0;
        if (!ReferenceEquals(Problems, NoProblems))
        {
            Problems = NoProblems;
        }
    }

    private static readonly KlvProblem[] NoProblems = [];

    /// <summary>Clears the object slots of the previous decode beyond this one's (see <see cref="Reset"/>).</summary>
    internal void TrimObjects()
    {
        for (var i = _objectCount; i < _staleObjects; i++)
        {
            _objects[i] = null;
        }

        _staleObjects = 0;
    }

    /// <summary>
    /// Moves this set and everything nested in it by <paramref name="delta"/> bytes within a new packet whose bytes
    /// there are the same: <paramref name="rootBytes"/> are the new bytes of the outermost moved set, which starts at
    /// <paramref name="rootOffset"/>. Items count their offsets from their set, so they move with it.
    /// </summary>
    internal void Rebase(ReadOnlyMemory<byte> rootBytes, int rootOffset, int delta)
    {
        Offset += delta;
        Bytes = rootBytes.Slice(Offset - rootOffset, Bytes.Length);
        for (var k = 0; k < _objectCount; k++)
        {
            var o = _objects[k];
            if (o is KlvLocalSet set)
            {
                set.Rebase(rootBytes, rootOffset, delta);
            }
            else if (o is KlvSeries series)
            {
                for (var i = 0; i < series.Count; i++) // indexed: the interface enumerator would allocate
                {
                    series[i].Set.Rebase(rootBytes, rootOffset, delta);
                }
            }
        }
    }

    /// <summary>Keeps a nested set, series, struct or problem text for an item; returns its index.</summary>
    internal int AddObject(object? value)
    {
        // An array and a count rather than a List: no version bump, and the store needs no covariance check.
        if (_objectCount == _objects.Length)
        {
            Array.Resize(ref _objects, Math.Max(4, 2 * _objects.Length));
        }

        ref var slot = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_objects), _objectCount);
        if (!ReferenceEquals(slot, value))
        {
            slot = value; // the same object as the previous decode's at this slot is left as it is (no write barrier)
        }

        return _objectCount++;
    }

    internal object? GetObject(int index) => (uint)index < (uint)_objectCount ? _objects[index] : null;

    /// <summary>Stands in the object list for a validated pack whose struct has not been built yet.</summary>
    internal static readonly object PackNotBuilt = new();

    /// <summary>Builds a validated pack on first access and keeps it for the next (see <see cref="KlvPackValidators"/>).</summary>
    internal object? BuildPack(int index, KlvTagTraits? traits, ReadOnlySpan<byte> value)
    {
        // Readers of a decoded packet may be on several threads: building (and the pool's pack cache) is serialised.
        lock ((object?)Pool ?? this)
        {
            if ((uint)index < (uint)_objectCount && !ReferenceEquals(_objects[index], PackNotBuilt))
            {
                return _objects[index]; // built by another reader meanwhile
            }

            // A reused packet's pool hands back the object built for the same bytes in an earlier packet.
            var built = traits?.Custom is null ? null : Pool is { } pool ? pool.DecodePack(traits, value, out _) : KlvDecodePool.Decode(traits, value, out _);
            if ((uint)index < (uint)_objectCount)
            {
                _objects[index] = built;
            }

            return built;
        }
    }

    internal void Add(in KlvItem item) => AddSlot() = item;

    /// <summary>The item storage, for the decoder's loop, which keeps the count itself and writes it back with <see cref="SetCount"/>.</summary>
    internal KlvItem[] ItemArray => _items;

    internal void SetCount(int count) => _count = count;

    /// <summary>Doubles the item storage (its first <see cref="Count"/> items kept) and returns it.</summary>
    internal KlvItem[] Grow()
    {
        Array.Resize(ref _items, _items.Length * 2);
        return _items;
    }

    /// <summary>Reserves the next item and returns it by reference, so decoders write items in place.</summary>
    internal ref KlvItem AddSlot()
    {
        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        return ref _items[_count++];
    }

    /// <summary>First item with <paramref name="tag"/>.</summary>
    public bool TryGetItem(int tag, out KlvItem item)
    {
        for (var i = 0; i < _count; i++)
        {
            if (_items[i].Tag == tag)
            {
                item = _items[i];
                return true;
            }
        }

        item = default;
        return false;
    }

    /// <summary>Numeric value of the first item with <paramref name="tag"/>, or NaN if absent or not a number.</summary>
    public double GetDouble(int tag) => TryGetItem(tag, out var item) ? item.AsDouble() : double.NaN;

    /// <summary>Text of the first item with <paramref name="tag"/>, or null.</summary>
    public string? GetString(int tag) => TryGetItem(tag, out var item) ? item.AsString() : null;

    public ReadOnlySpan<KlvItem> AsSpan() => _items.AsSpan(0, _count);

    public IEnumerator<KlvItem> GetEnumerator()
    {
        for (var i = 0; i < _count; i++)
        {
            yield return _items[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"{Schema.Name} ({_count} items)";
}
