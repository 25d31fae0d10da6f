namespace SiteWatch.Video.Klv;

/// <summary>A decoded KLV packet: key, the local set (if the key is known), checksum verdict and problems.</summary>
public sealed class KlvPacket
{
    private List<KlvProblem>? _problems;
    private KlvLocalSet? _setStorage;
    private KlvDecodePool? _pool;

    public KlvKey Key { get; private set; }

    /// <summary>Schema matched by <see cref="Key"/>; null for keys the registry does not know.</summary>
    public KlvSchema? Schema { get; private set; }

    /// <summary>The packet's bytes, key through end of value (or of what was received).</summary>
    public ReadOnlyMemory<byte> Bytes { get; private set; }

    /// <summary>The decoded set; null when the key is unknown or the header is unreadable.</summary>
    public KlvLocalSet? Set { get; private set; }

    /// <summary>Offset of the value (after key and BER length).</summary>
    public int ValueOffset { get; private set; }

    /// <summary>Value length announced by the BER length; -1 if it could not be read.</summary>
    public int DeclaredLength { get; private set; }

    public KlvChecksumStatus ChecksumStatus { get; private set; }

    /// <summary>Checksum carried by the packet, when present.</summary>
    public ushort? ReceivedChecksum { get; private set; }

    /// <summary>Checksum computed over the received bytes, when the standard defines one.</summary>
    public ushort? ComputedChecksum { get; private set; }

    public bool ChecksumOk => ChecksumStatus == KlvChecksumStatus.Valid;

    public IReadOnlyList<KlvProblem> Problems => (IReadOnlyList<KlvProblem>?)_problems ?? [];

    public bool HasProblems => _problems is { Count: > 0 };

    public string Name => Schema?.Name ?? "Unknown key";

    /// <summary>
    /// True for the sets that describe the platform and sensor for each frame: ST 0601 (local or universal set) and
    /// its predecessor EG 0104, whose items carry the same tag numbers (see <see cref="St0104"/>).
    /// </summary>
    public bool IsPlatformTelemetry => Schema is { } s && (s == St0601.Schema || s == St0104.Schema || s == St0601.UniversalSchema);

    internal ref List<KlvProblem>? ProblemList => ref _problems;

    internal void Reset(ReadOnlyMemory<byte> bytes)
    {
        Bytes = bytes;
        Key = default;
        Schema = null;
        Set = null;
        ValueOffset = 0;
        DeclaredLength = -1;
        ChecksumStatus = KlvChecksumStatus.NotApplicable;
        ReceivedChecksum = null;
        ComputedChecksum = null;
        _problems?.Clear();
    }

    internal void SetHeader(KlvKey key, KlvSchema? schema, int valueOffset, int declaredLength)
    {
        Key = key;
        Schema = schema;
        ValueOffset = valueOffset;
        DeclaredLength = declaredLength;
    }

    internal KlvLocalSet RentSet(KlvSchema schema)
    {
        if (_setStorage is null)
        {
            _setStorage = new KlvLocalSet(schema, 64);
        }
        else
        {
            // Decoded into a second time: a stream is being read, so nested storage is worth keeping.
            _pool ??= new KlvDecodePool();
            _pool.Reset();
            _setStorage.Pool = _pool;
        }

        Set = _setStorage;
        return _setStorage;
    }

    internal void SetChecksum(KlvChecksumStatus status, ushort? received, ushort? computed)
    {
        ChecksumStatus = status;
        ReceivedChecksum = received;
        ComputedChecksum = computed;
    }

    public override string ToString() => $"{Name} ({Bytes.Length} bytes, {Set?.Count ?? 0} items, checksum {ChecksumStatus})";
}
