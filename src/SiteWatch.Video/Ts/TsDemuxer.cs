using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace SiteWatch.Video.Ts;

/// <summary>
/// Incremental MPEG-2 transport stream demuxer for MISB KLV. Feed it bytes in any chunking with
/// <see cref="Write"/> (file reads, UDP datagrams), call <see cref="Complete"/> at the end, and drain KLV
/// payloads with <see cref="TryRead"/>. It never throws on bad input: sync loss, continuity errors, CRC
/// failures and truncation are counted in <see cref="Diagnostics"/> with their byte positions.
/// This file holds the framing (sync, packet headers, adaptation fields, PCR); TsDemuxer.Psi.cs the PAT/PMT
/// sections and stream classification; TsDemuxer.Pes.cs the PES reassembly and the KLV access units.
/// </summary>
public sealed partial class TsDemuxer
{
    public const int PacketSize = 188;
    private const byte SyncByte = 0x47;
    private const int NullPid = 0x1FFF;
    private const uint Klva = 0x4B4C5641; // 'KLVA'

    private readonly PidState?[] _pids = new PidState?[8192];
    private readonly PtsUnwrapper _clock = new();
    private readonly Queue<KlvAccessUnit> _output = new();
    private readonly Queue<TsVideoPes> _videoPes = new();
    private readonly List<TsElementaryStream> _streams = [];
    private readonly byte[] _pending;
    private int _pendingCount;
    private long _position;
    private bool _synced;
    private bool _completed;

    public TsDemuxer()
    {
        _pending = new byte[PacketSize * (SyncConfirmPackets + 2)];
        GetState(0).Kind = PidKind.Pat;
    }

    /// <summary>Consecutive 0x47 bytes at 188-byte spacing required before (re)locking on.</summary>
    public int SyncConfirmPackets { get; } = 3;

    /// <summary>Largest KLV PES reassembled; bigger ones are dropped as errors.</summary>
    public int MaxPesSize { get; init; } = 8 * 1024 * 1024;

    /// <summary>
    /// Treat stream_type 0x06 streams with no registration as KLV when their first PES payload starts
    /// with a SMPTE UL (some encoders omit the 'KLVA' descriptor).
    /// </summary>
    public bool DetectUnregisteredKlv { get; init; } = true;

    /// <summary>Queue the timing of every video PES start for <see cref="TryReadVideoPes"/> (frame pairing needs it).</summary>
    public bool ReportVideoPes { get; init; }

    public TsDiagnostics Diagnostics { get; } = new();

    /// <summary>Elementary streams announced so far (all programs).</summary>
    public IReadOnlyList<TsElementaryStream> Streams => _streams;

    /// <summary>Total bytes consumed so far.</summary>
    public long Position => _position + _pendingCount;

    /// <summary>Pushes bytes. Output becomes available through <see cref="TryRead"/>.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        if (_completed)
        {
            throw new InvalidOperationException("Write after Complete");
        }

        // Finish a packet (or a resync window) begun in an earlier call, then work directly on the caller's span.
        while (_pendingCount > 0 && !data.IsEmpty)
        {
            var want = _synced ? PacketSize : PacketSize * SyncConfirmPackets;
            var take = Math.Min(Math.Max(want - _pendingCount, 1), Math.Min(data.Length, _pending.Length - _pendingCount));
            data[..take].CopyTo(_pending.AsSpan(_pendingCount));
            _pendingCount += take;
            data = data[take..];
            var consumed = Process(_pending.AsSpan(0, _pendingCount), final: false);
            if (consumed > 0)
            {
                _pending.AsSpan(consumed, _pendingCount - consumed).CopyTo(_pending);
                _pendingCount -= consumed;
            }
        }

        if (!data.IsEmpty)
        {
            var consumed = Process(data, final: false);
            data[consumed..].CopyTo(_pending);
            _pendingCount = data.Length - consumed;
        }
    }

    /// <summary>End of stream: processes what is buffered, reports a truncated last packet, and flushes open PES packets.</summary>
    public void Complete()
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        if (_pendingCount > 0)
        {
            var consumed = Process(_pending.AsSpan(0, _pendingCount), final: true);
            var left = _pendingCount - consumed;
            if (left > 0)
            {
                Diagnostics.TruncatedBytes += left;
                Diagnostics.Record(TsErrorKind.TruncatedPacket, _position, -1, $"Stream ends {left} bytes into a {PacketSize}-byte packet");
                _position += left;
            }

            _pendingCount = 0;
        }

        foreach (var state in _pids)
        {
            if (state?.Pes is { Active: true })
            {
                FinishPes(state, endOfStream: true);
            }
        }
    }

    public bool TryRead([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out KlvAccessUnit? unit) => _output.TryDequeue(out unit);

    /// <summary>Next video PES start seen, in stream (decode) order; only with <see cref="ReportVideoPes"/>.</summary>
    public bool TryReadVideoPes(out TsVideoPes pes) => _videoPes.TryDequeue(out pes);

    /// <summary>
    /// Demuxes a whole stream lazily, reading it in chunks (never all at once): the loop of <see cref="ReadKlvAsync"/>,
    /// whose reads complete at once on files and memory.
    /// </summary>
    public static IEnumerable<KlvAccessUnit> ReadKlv(Stream stream, TsDemuxer? demuxer = null) =>
        ReadKlvAsync(stream, demuxer).ToBlockingEnumerable();

    /// <summary>Demuxes a whole stream as it arrives (sockets, pipes, files), reading it in chunks.</summary>
    public static async IAsyncEnumerable<KlvAccessUnit> ReadKlvAsync(Stream stream, TsDemuxer? demuxer = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        demuxer ??= new TsDemuxer();
        var buffer = ArrayPool<byte>.Shared.Rent(PacketSize * 348);
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false)) > 0)
            {
                demuxer.Write(buffer.AsSpan(0, n));
                while (demuxer.TryRead(out var unit))
                {
                    yield return unit;
                }
            }

            demuxer.Complete();
            while (demuxer.TryRead(out var unit))
            {
                yield return unit;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Consumes whole packets from <paramref name="data"/> (whose first byte is at <see cref="_position"/>),
    /// resynchronising as needed. Returns bytes consumed; the rest must be presented again with more data.
    /// </summary>
    private int Process(ReadOnlySpan<byte> data, bool final)
    {
        var pos = 0;
        while (true)
        {
            if (!_synced)
            {
                var found = FindSync(data, pos, final, out var resumeAt);
                if (found < 0)
                {
                    // Nothing confirmed: drop everything before the one candidate that needs more data to decide
                    // (at most 2 packets from the end), so the carried-over tail stays small.
                    Skip(pos, resumeAt);
                    pos = resumeAt;
                    break;
                }

                Skip(pos, found);
                pos = found;
                _synced = true;
            }

            if (data.Length - pos < PacketSize)
            {
                break;
            }

            if (data[pos] != SyncByte)
            {
                _synced = false;
                Diagnostics.Record(TsErrorKind.SyncLoss, _position + pos, -1, $"Byte 0x{data[pos]:X2} where a sync byte was expected");
                continue;
            }

            ProcessPacket(data.Slice(pos, PacketSize), _position + pos);
            pos += PacketSize;
        }

        _position += pos;
        return pos;
    }

    private void Skip(int from, int to)
    {
        if (to > from)
        {
            Diagnostics.BytesSkipped += to - from;
            Diagnostics.Record(TsErrorKind.Skipped, _position + from, -1, $"{to - from} bytes skipped looking for sync");
        }
    }

    /// <summary>
    /// Finds a 0x47 followed by <see cref="SyncConfirmPackets"/>-1 more at 188-byte spacing. At the end of
    /// the stream the confirmations that fit are enough (a short file or a truncated tail). When none is
    /// found, <paramref name="resumeAt"/> is the first candidate too close to the end to check (or the end).
    /// </summary>
    private int FindSync(ReadOnlySpan<byte> data, int from, bool final, out int resumeAt)
    {
        resumeAt = data.Length;
        for (var i = from; i < data.Length; i++)
        {
            var idx = data[i..].IndexOf(SyncByte);
            if (idx < 0)
            {
                return -1;
            }

            i += idx;
            var ok = true;
            for (var k = 1; k < SyncConfirmPackets; k++)
            {
                var j = i + k * PacketSize;
                if (j >= data.Length)
                {
                    if (!final)
                    {
                        resumeAt = i;
                        return -1;
                    }

                    break;
                }

                if (data[j] != SyncByte)
                {
                    ok = false;
                    break;
                }
            }

            if (ok)
            {
                return i;
            }
        }

        return -1;
    }

    private PidState GetState(int pid) => _pids[pid] ??= new PidState(pid);

    private void ProcessPacket(ReadOnlySpan<byte> p, long position)
    {
        Diagnostics.Packets++;
        var pid = ((p[1] & 0x1F) << 8) | p[2];
        if (pid == NullPid)
        {
            Diagnostics.NullPackets++;
            return;
        }

        var state = GetState(pid);
        if (state.Stream is { } info)
        {
            info.Packets++;
        }

        if ((p[1] & 0x80) != 0)
        {
            Diagnostics.Record(TsErrorKind.TransportError, position, pid, "transport_error_indicator set; packet dropped");
            state.MarkDamaged();
            return;
        }

        var pusi = (p[1] & 0x40) != 0;
        var scrambling = p[3] >> 6;
        var afc = (p[3] >> 4) & 3;
        var cc = p[3] & 0x0F;
        if (afc == 0)
        {
            Diagnostics.Record(TsErrorKind.AdaptationFieldError, position, pid, "adaptation_field_control 00 (reserved)");
            return;
        }

        var offset = 4;
        var discontinuity = false;
        if ((afc & 2) != 0)
        {
            int afl = p[4];
            if (afl > (afc == 3 ? 182 : 183))
            {
                Diagnostics.Record(TsErrorKind.AdaptationFieldError, position, pid, $"adaptation_field_length {afl} too long");
                state.MarkDamaged();
                return;
            }

            if (afl > 0)
            {
                var flags = p[5];
                discontinuity = (flags & 0x80) != 0;
                if ((flags & 0x10) != 0 && afl >= 7)
                {
                    // PCR base: 33 bits at 90 kHz (the 27 MHz extension is not needed for KLV timing).
                    state.LastPcr = _clock.Unwrap(((long)BinaryPrimitives.ReadUInt32BigEndian(p[6..]) << 1) | (long)(p[10] >> 7));
                }
            }

            offset = 5 + afl;
        }

        var hasPayload = (afc & 1) != 0;
        if (hasPayload)
        {
            if (state.LastCc >= 0 && !discontinuity)
            {
                if (cc == state.LastCc)
                {
                    // ISO 13818-1 allows one duplicate packet; its payload is a repeat.
                    Diagnostics.DuplicatePackets++;
                    return;
                }

                if (cc != ((state.LastCc + 1) & 0x0F))
                {
                    var lost = (cc - state.LastCc - 1) & 0x0F;
                    Diagnostics.Record(TsErrorKind.ContinuityError, position, pid, $"continuity counter {cc} after {state.LastCc}: {lost} packet(s) lost");
                    if (state.Stream is { } s)
                    {
                        s.ContinuityErrors++;
                    }

                    state.MarkDamaged();
                }
            }

            state.LastCc = cc;
        }

        if (!hasPayload || offset >= PacketSize)
        {
            return;
        }

        if (scrambling != 0)
        {
            Diagnostics.Record(TsErrorKind.Scrambled, position, pid, "scrambled payload ignored");
            return;
        }

        var payload = p[offset..];
        switch (state.Kind)
        {
            case PidKind.Pat:
            case PidKind.Pmt:
                PushSection(state, payload, pusi, position);
                break;
            case PidKind.KlvPes:
            case PidKind.ProbePes:
                PushPes(state, payload, pusi, position);
                break;
            case PidKind.TimedPes:
                if (pusi)
                {
                    ReadTimingOnly(state, payload, position);
                }

                break;
        }
    }

    private enum PidKind : byte
    {
        None,
        Pat,
        Pmt,
        /// <summary>KLV: reassemble whole PES packets.</summary>
        KlvPes,
        /// <summary>Private data: reassemble the first PES to see whether it is KLV.</summary>
        ProbePes,
        /// <summary>Audio/video: read PES headers for timing only.</summary>
        TimedPes,
        Ignored,
    }

    private sealed class PidState(int pid)
    {
        public int Pid { get; } = pid;

        public PidKind Kind { get; set; }

        /// <summary>Non-empty PES packets of a probed private stream that did not start with a UL.</summary>
        public int ProbedPes { get; set; }

        public int LastCc { get; set; } = -1;

        public int ProgramNumber { get; set; }

        public int PcrPid { get; set; } = -1;

        public long? LastPcr { get; set; }

        public TsElementaryStream? Stream { get; set; }

        public SectionBuffer? Section { get; set; }

        public uint LastSectionCrc { get; set; }

        public bool HasSection { get; set; }

        public PesBuffer? Pes { get; set; }

        public ArrayBufferWriter<byte>? Fragment { get; set; }

        public void MarkDamaged()
        {
            if (Pes is { Active: true })
            {
                Pes.Damaged = true;
            }

            Section?.Reset();
        }
    }
}
