namespace SiteWatch.Video.Ts;

/// <summary>What an elementary stream carries, as far as this demuxer cares.</summary>
public enum TsStreamKind : byte
{
    Unknown,
    Video,
    Audio,
    /// <summary>Asynchronous KLV: stream_type 0x06 with registration 'KLVA' (MISB ST 1402).</summary>
    KlvAsync,
    /// <summary>Synchronous KLV: stream_type 0x15 metadata PES with metadata AU cells.</summary>
    KlvSync,
    /// <summary>Other PES private data.</summary>
    PrivateData,
    Other,
}

public enum KlvTransport : byte
{
    Async,
    Sync,
}

/// <summary>An elementary stream announced by a PMT, with running counters.</summary>
public sealed class TsElementaryStream
{
    internal TsElementaryStream(int pid, int programNumber, byte streamType)
    {
        Pid = pid;
        ProgramNumber = programNumber;
        StreamType = streamType;
    }

    public int Pid { get; }

    public int ProgramNumber { get; internal set; }

    /// <summary>ISO/IEC 13818-1 stream_type.</summary>
    public byte StreamType { get; internal set; }

    public TsStreamKind Kind { get; internal set; }

    /// <summary>Readable codec / content name (H.264, H.265, MPEG-2 Video, KLV ...).</summary>
    public string Codec { get; internal set; } = "";

    /// <summary>format_identifier of a registration descriptor (0x05), e.g. 'KLVA', 'HEVC'.</summary>
    public string? Registration { get; internal set; }

    /// <summary>metadata_format_identifier of a metadata descriptor (0x26), e.g. 'KLVA'.</summary>
    public string? MetadataFormat { get; internal set; }

    /// <summary>metadata_service_id of a metadata descriptor, for sync KLV.</summary>
    public int? MetadataServiceId { get; internal set; }

    public long Packets { get; internal set; }

    public long ContinuityErrors { get; internal set; }

    public long PesPackets { get; internal set; }

    /// <summary>Last PES presentation time stamp (90 kHz).</summary>
    public long? LastPts { get; internal set; }

    public override string ToString() => $"PID 0x{Pid:X4} type 0x{StreamType:X2} {Codec}";
}

/// <summary>One KLV payload taken out of the transport stream, with its timing.</summary>
public sealed class KlvAccessUnit
{
    internal KlvAccessUnit(int pid, KlvTransport transport, ReadOnlyMemory<byte> payload, long position)
    {
        Pid = pid;
        Transport = transport;
        Payload = payload;
        Position = position;
    }

    public int Pid { get; }

    public KlvTransport Transport { get; }

    /// <summary>KLV bytes: zero or more whole packets, possibly a cut one (see <see cref="Klv.KlvPacketSplitter"/>).</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>Stream offset of the TS packet that started the PES carrying this payload.</summary>
    public long Position { get; }

    /// <summary>
    /// PES presentation time stamp, 90 kHz, on the demuxer's extended timeline (the 33-bit wrap-around removed, so it
    /// keeps increasing past 2^33); null when the PES has none.
    /// </summary>
    public long? Pts { get; internal init; }

    public long? Dts { get; internal init; }

    /// <summary>Last PCR base (90 kHz) of the program seen before this PES began: arrival time when there is no PTS.</summary>
    public long? Pcr { get; internal init; }

    /// <summary>True when packets of this PES were lost or it ended early; its KLV may be cut.</summary>
    public bool Damaged { get; internal init; }

    /// <summary>PES data_alignment_indicator: the payload starts with a new KLV packet.</summary>
    public bool DataAligned { get; internal init; }

    /// <summary>Metadata AU cell service id and sequence number (sync KLV only).</summary>
    public int? ServiceId { get; internal init; }

    public int? SequenceNumber { get; internal init; }

    /// <summary>PTS in seconds.</summary>
    public double? Seconds => Pts is { } pts ? MpegClock.Seconds(pts) : null;
}

/// <summary>The start of a video PES: its time stamps and the stream offset of the packet that began it.</summary>
public readonly record struct TsVideoPes(int Pid, long? Pts, long? Dts, long Position);

public enum TsErrorKind : byte
{
    /// <summary>Expected 0x47 at a packet boundary; the demuxer resynchronises.</summary>
    SyncLoss,
    /// <summary>Bytes skipped while looking for sync.</summary>
    Skipped,
    /// <summary>transport_error_indicator set.</summary>
    TransportError,
    ContinuityError,
    AdaptationFieldError,
    PsiCrcError,
    PsiError,
    PesError,
    /// <summary>A PES ended before its announced length, or exceeded the size limit.</summary>
    TruncatedPes,
    /// <summary>The stream ended inside a 188-byte packet.</summary>
    TruncatedPacket,
    Scrambled,
}

/// <summary>A transport-level problem and the stream offset where it was seen.</summary>
public readonly record struct TsError(TsErrorKind Kind, long Position, int Pid, string Message)
{
    public override string ToString() => Pid >= 0 ? $"{Kind} at byte {Position} (PID 0x{Pid:X4}): {Message}" : $"{Kind} at byte {Position}: {Message}";
}

/// <summary>Counters kept by the demuxer; errors are listed with positions up to <see cref="MaxRecordedErrors"/>.</summary>
public sealed class TsDiagnostics
{
    private readonly List<TsError> _errors = [];
    private readonly Dictionary<int, long> _ccByPid = [];

    public int MaxRecordedErrors { get; set; } = 1000;

    public long Packets { get; internal set; }

    public long NullPackets { get; internal set; }

    public long DuplicatePackets { get; internal set; }

    public long SyncLosses { get; internal set; }

    public long BytesSkipped { get; internal set; }

    public long TransportErrors { get; internal set; }

    public long ContinuityErrors { get; internal set; }

    public long AdaptationFieldErrors { get; internal set; }

    public long PsiCrcErrors { get; internal set; }

    public long PsiErrors { get; internal set; }

    public long PesErrors { get; internal set; }

    public long TruncatedPes { get; internal set; }

    public long ScrambledPackets { get; internal set; }

    /// <summary>Bytes of an incomplete final TS packet.</summary>
    public long TruncatedBytes { get; internal set; }

    public IReadOnlyDictionary<int, long> ContinuityErrorsByPid => _ccByPid;

    public IReadOnlyList<TsError> Errors => _errors;

    public long TotalErrors => SyncLosses + TransportErrors + ContinuityErrors + AdaptationFieldErrors + PsiCrcErrors + PsiErrors
        + PesErrors + TruncatedPes + (TruncatedBytes > 0 ? 1 : 0);

    internal void Record(TsErrorKind kind, long position, int pid, string message)
    {
        switch (kind)
        {
            case TsErrorKind.SyncLoss: SyncLosses++; break;
            case TsErrorKind.TransportError: TransportErrors++; break;
            case TsErrorKind.ContinuityError:
                ContinuityErrors++;
                _ccByPid[pid] = _ccByPid.GetValueOrDefault(pid) + 1;
                break;
            case TsErrorKind.AdaptationFieldError: AdaptationFieldErrors++; break;
            case TsErrorKind.PsiCrcError: PsiCrcErrors++; break;
            case TsErrorKind.PsiError: PsiErrors++; break;
            case TsErrorKind.PesError: PesErrors++; break;
            case TsErrorKind.TruncatedPes: TruncatedPes++; break;
            case TsErrorKind.Scrambled: ScrambledPackets++; break;
        }

        if (_errors.Count < MaxRecordedErrors)
        {
            _errors.Add(new TsError(kind, position, pid, message));
        }
    }

    public override string ToString() =>
        $"{Packets} packets, {SyncLosses} sync losses ({BytesSkipped} bytes skipped), {ContinuityErrors} CC errors, " +
        $"{TransportErrors} TEI, {PsiCrcErrors} PSI CRC, {PesErrors + TruncatedPes} PES, {TruncatedBytes} truncated bytes";
}

/// <summary>The MPEG-2 system clock as time stamps count it: PTS, DTS and the PCR base tick at 90 kHz.</summary>
public static class MpegClock
{
    public const int Hz = 90_000;

    public static double Seconds(long ticks) => ticks / (double)Hz;
}
