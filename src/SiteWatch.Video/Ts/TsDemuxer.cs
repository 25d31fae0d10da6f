using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace SiteWatch.Video.Ts;

/// <summary>
/// Incremental MPEG-2 transport stream demuxer for MISB KLV. Feed it bytes in any chunking with
/// <see cref="Write"/> (file reads, UDP datagrams), call <see cref="Complete"/> at the end, and drain KLV
/// payloads with <see cref="TryRead"/>. It never throws on bad input: sync loss, continuity errors, CRC
/// failures and truncation are counted in <see cref="Diagnostics"/> with their byte positions.
/// </summary>
public sealed class TsDemuxer
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

    /// <summary>Demuxes a whole stream lazily, reading it in chunks (never all at once).</summary>
    public static IEnumerable<KlvAccessUnit> ReadKlv(Stream stream, TsDemuxer? demuxer = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        demuxer ??= new TsDemuxer();
        var buffer = ArrayPool<byte>.Shared.Rent(PacketSize * 348);
        try
        {
            int n;
            while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
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

    /// <summary>Asynchronous variant of <see cref="ReadKlv"/> for sockets and pipes.</summary>
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

    // ------------------------------------------------------------------ PSI

    private void PushSection(PidState state, ReadOnlySpan<byte> payload, bool pusi, long position)
    {
        var psi = state.Section ??= new SectionBuffer();
        if (pusi)
        {
            int pointer = payload[0];
            if (1 + pointer > payload.Length)
            {
                Diagnostics.Record(TsErrorKind.PsiError, position, state.Pid, $"pointer_field {pointer} beyond the packet");
                psi.Reset();
                return;
            }

            if (psi.Active)
            {
                AppendSection(state, psi, payload.Slice(1, pointer), position);
            }

            psi.Reset();
            payload = payload[(1 + pointer)..];
        }
        else if (!psi.Active)
        {
            return;
        }

        AppendSection(state, psi, payload, position);
    }

    private void AppendSection(PidState state, SectionBuffer psi, ReadOnlySpan<byte> data, long position)
    {
        while (!data.IsEmpty)
        {
            if (!psi.Active)
            {
                if (data[0] == 0xFF)
                {
                    return; // stuffing after the last section
                }

                psi.Active = true;
                psi.Length = 0;
            }

            var need = psi.Length < 3 ? 3 - psi.Length : psi.Total - psi.Length;
            var take = Math.Min(need, data.Length);
            data[..take].CopyTo(psi.Data.AsSpan(psi.Length));
            psi.Length += take;
            data = data[take..];
            if (psi.Length == 3)
            {
                var sectionLength = ((psi.Data[1] & 0x0F) << 8) | psi.Data[2];
                if (sectionLength > 1021)
                {
                    Diagnostics.Record(TsErrorKind.PsiError, position, state.Pid, $"section_length {sectionLength} over 1021");
                    psi.Reset();
                    return;
                }

                psi.Total = 3 + sectionLength;
            }

            if (psi.Length >= 3 && psi.Length == psi.Total)
            {
                OnSection(state, psi.Data.AsSpan(0, psi.Total), position);
                psi.Active = false;
            }
        }
    }

    private void OnSection(PidState state, ReadOnlySpan<byte> section, long position)
    {
        if ((section[1] & 0x80) == 0 || section.Length < 12)
        {
            return; // not a long-form section: nothing this demuxer reads
        }

        if (Crc32Mpeg.Compute(section) != 0)
        {
            Diagnostics.Record(TsErrorKind.PsiCrcError, position, state.Pid, $"CRC mismatch in table 0x{section[0]:X2}");
            return;
        }

        var crc = BinaryPrimitives.ReadUInt32BigEndian(section[^4..]);
        if ((section[5] & 1) == 0 || (state.LastSectionCrc == crc && state.HasSection))
        {
            return; // not yet applicable, or a repeat of what we already parsed
        }

        state.LastSectionCrc = crc;
        state.HasSection = true;
        var body = section[8..^4];
        if (state.Kind == PidKind.Pat && section[0] == 0x00)
        {
            for (var i = 0; i + 4 <= body.Length; i += 4)
            {
                var program = BinaryPrimitives.ReadUInt16BigEndian(body[i..]);
                var pmtPid = ((body[i + 2] & 0x1F) << 8) | body[i + 3];
                if (program == 0)
                {
                    continue; // network PID
                }

                var pmt = GetState(pmtPid);
                if (pmt.Kind == PidKind.None)
                {
                    pmt.Kind = PidKind.Pmt;
                    pmt.ProgramNumber = program;
                }
            }
        }
        else if (state.Kind == PidKind.Pmt && section[0] == 0x02)
        {
            ParsePmt(state, BinaryPrimitives.ReadUInt16BigEndian(section[3..]), body, position);
        }
    }

    private void ParsePmt(PidState pmtState, int program, ReadOnlySpan<byte> body, long position)
    {
        if (body.Length < 4)
        {
            Diagnostics.Record(TsErrorKind.PsiError, position, pmtState.Pid, "PMT too short");
            return;
        }

        var pcrPid = ((body[0] & 0x1F) << 8) | body[1];
        var programInfoLength = ((body[2] & 0x0F) << 8) | body[3];
        var pos = 4 + programInfoLength;
        while (pos + 5 <= body.Length)
        {
            var streamType = body[pos];
            var pid = ((body[pos + 1] & 0x1F) << 8) | body[pos + 2];
            var infoLength = ((body[pos + 3] & 0x0F) << 8) | body[pos + 4];
            pos += 5;
            if (pos + infoLength > body.Length)
            {
                Diagnostics.Record(TsErrorKind.PsiError, position, pmtState.Pid, $"ES_info_length {infoLength} runs past the PMT");
                return;
            }

            var descriptors = body.Slice(pos, infoLength);
            pos += infoLength;
            var state = GetState(pid);
            var info = state.Stream;
            if (info is null)
            {
                info = new TsElementaryStream(pid, program, streamType);
                state.Stream = info;
                _streams.Add(info);
            }

            info.ProgramNumber = program;
            info.StreamType = streamType;
            state.PcrPid = pcrPid;
            ReadDescriptors(info, descriptors);
            Classify(state, info);
        }
    }

    private static void ReadDescriptors(TsElementaryStream info, ReadOnlySpan<byte> d)
    {
        var pos = 0;
        while (pos + 2 <= d.Length)
        {
            var tag = d[pos];
            var len = d[pos + 1];
            if (pos + 2 + len > d.Length)
            {
                return;
            }

            var body = d.Slice(pos + 2, len);
            pos += 2 + len;
            if (tag == 0x05 && len >= 4)
            {
                info.Registration = FourCc(body);
            }
            else if (tag == 0x26 && len >= 5)
            {
                // metadata_descriptor: application format (2, + 4 if 0xFFFF), format (1, + 4 if 0xFF), service id.
                var i = 2;
                if (BinaryPrimitives.ReadUInt16BigEndian(body) == 0xFFFF)
                {
                    i += 4;
                }

                if (i < body.Length)
                {
                    var format = body[i++];
                    if (format == 0xFF && i + 4 <= body.Length)
                    {
                        info.MetadataFormat = FourCc(body[i..]);
                        i += 4;
                    }
                    else if (format != 0xFF)
                    {
                        info.MetadataFormat = $"0x{format:X2}";
                    }

                    if (i < body.Length)
                    {
                        info.MetadataServiceId = body[i];
                    }
                }
            }
        }
    }

    private static string FourCc(ReadOnlySpan<byte> b)
    {
        Span<char> c = stackalloc char[4];
        for (var i = 0; i < 4; i++)
        {
            c[i] = b[i] is >= 0x20 and < 0x7F ? (char)b[i] : '?';
        }

        return new string(c);
    }

    private void Classify(PidState state, TsElementaryStream info)
    {
        var type = info.StreamType;
        var klv = info.Registration == "KLVA" || info.MetadataFormat == "KLVA";
        (info.Kind, info.Codec) = type switch
        {
            0x15 => (TsStreamKind.KlvSync, "KLV (synchronous metadata)"),
            0x06 when klv => (TsStreamKind.KlvAsync, "KLV (asynchronous)"),
            0x06 when info.Registration == "HEVC" => (TsStreamKind.Video, "H.265"),
            0x06 => (TsStreamKind.PrivateData, "PES private data"),
            0x01 => (TsStreamKind.Video, "MPEG-1 Video"),
            0x02 => (TsStreamKind.Video, "MPEG-2 Video"),
            0x10 => (TsStreamKind.Video, "MPEG-4 Visual"),
            0x1B => (TsStreamKind.Video, "H.264"),
            0x20 => (TsStreamKind.Video, "H.264 MVC"),
            0x24 => (TsStreamKind.Video, "H.265"),
            0x33 => (TsStreamKind.Video, "H.266"),
            0x42 => (TsStreamKind.Video, "AVS"),
            0xD1 => (TsStreamKind.Video, "Dirac"),
            0xEA => (TsStreamKind.Video, "VC-1"),
            0x03 or 0x04 => (TsStreamKind.Audio, "MPEG Audio"),
            0x0F => (TsStreamKind.Audio, "AAC"),
            0x11 => (TsStreamKind.Audio, "AAC LATM"),
            0x81 => (TsStreamKind.Audio, "AC-3"),
            0x87 => (TsStreamKind.Audio, "E-AC-3"),
            _ => (TsStreamKind.Other, $"stream_type 0x{type:X2}"),
        };

        if (info.Kind == TsStreamKind.KlvSync && info.MetadataFormat is not null && info.MetadataFormat != "KLVA")
        {
            (info.Kind, info.Codec) = (TsStreamKind.Other, $"Metadata ({info.MetadataFormat})");
        }

        state.Kind = info.Kind switch
        {
            TsStreamKind.KlvAsync or TsStreamKind.KlvSync => PidKind.KlvPes,
            TsStreamKind.PrivateData when DetectUnregisteredKlv => PidKind.ProbePes,
            // User-private stream types (0x80 and up) that are not a known codec: older encoders put KLV there.
            TsStreamKind.Other when DetectUnregisteredKlv && type >= 0x80 => PidKind.ProbePes,
            TsStreamKind.Video or TsStreamKind.Audio => PidKind.TimedPes,
            _ => PidKind.Ignored,
        };
    }

    // ------------------------------------------------------------------ PES

    private void ReadTimingOnly(PidState state, ReadOnlySpan<byte> payload, long position)
    {
        if (state.Stream is { } info)
        {
            info.PesPackets++;
            if (TryParsePesHeader(payload, out var header, out _))
            {
                header = Unwrapped(header);
                if (header.Pts is { } pts)
                {
                    info.LastPts = pts;
                }

                if (ReportVideoPes && info.Kind == TsStreamKind.Video)
                {
                    _videoPes.Enqueue(new TsVideoPes(state.Pid, header.Pts, header.Dts, position));
                }
            }
        }
    }

    private void PushPes(PidState state, ReadOnlySpan<byte> payload, bool pusi, long position)
    {
        var pes = state.Pes ??= new PesBuffer();
        if (pusi)
        {
            if (pes.Active)
            {
                FinishPes(state, endOfStream: false);
            }

            pes.Start(position, state.PcrPid >= 0 ? _pids[state.PcrPid]?.LastPcr : null);
        }
        else if (!pes.Active)
        {
            return; // joined mid-PES: wait for the next start
        }

        if (pes.Length + payload.Length > MaxPesSize)
        {
            Diagnostics.Record(TsErrorKind.TruncatedPes, pes.StartPosition, state.Pid, $"PES larger than {MaxPesSize} bytes dropped");
            pes.Active = false;
            return;
        }

        pes.Append(payload);
        if (pes.Length >= 6 && pes.Data[0] == 0 && pes.Data[1] == 0 && pes.Data[2] == 1)
        {
            var declared = BinaryPrimitives.ReadUInt16BigEndian(pes.Data.AsSpan(4));
            if (declared != 0 && pes.Length >= 6 + declared)
            {
                // Length known and reached: emit now rather than waiting for the next PES (matters for live latency).
                FinishPes(state, endOfStream: false);
            }
        }
    }

    private void FinishPes(PidState state, bool endOfStream)
    {
        var pes = state.Pes!;
        pes.Active = false;
        var data = pes.Data.AsSpan(0, pes.Length);
        if (!TryParsePesHeader(data, out var header, out var error))
        {
            Diagnostics.Record(TsErrorKind.PesError, pes.StartPosition, state.Pid, error);
            return;
        }

        header = Unwrapped(header);

        var end = data.Length;
        var damaged = pes.Damaged;
        if (header.PacketLength != 0)
        {
            var declaredEnd = 6 + header.PacketLength;
            if (declaredEnd > data.Length)
            {
                Diagnostics.Record(TsErrorKind.TruncatedPes, pes.StartPosition, state.Pid,
                    $"PES announced {header.PacketLength} bytes, got {data.Length - 6}{(endOfStream ? " before end of stream" : "")}");
                damaged = true;
            }
            else
            {
                end = declaredEnd;
            }
        }

        if (header.PayloadOffset > end)
        {
            Diagnostics.Record(TsErrorKind.PesError, pes.StartPosition, state.Pid, "PES header longer than the PES");
            return;
        }

        if (state.Stream is { } info)
        {
            info.PesPackets++;
            if (header.Pts is { } pts)
            {
                info.LastPts = pts;
            }
        }

        var payload = data[header.PayloadOffset..end];
        if (state.Kind == PidKind.ProbePes)
        {
            // The first PES packets of an unregistered private stream decide whether it is KLV: one that starts
            // with a SMPTE UL says yes; several that do not (empty ones do not count) say no.
            var isKlv = StartsWithUniversalLabel(payload);
            if (isKlv)
            {
                state.Kind = PidKind.KlvPes;
                if (state.Stream is { } s)
                {
                    (s.Kind, s.Codec) = (TsStreamKind.KlvAsync, "KLV (asynchronous, unregistered)");
                }
            }
            else
            {
                if (!payload.IsEmpty && ++state.ProbedPes >= ProbePesLimit)
                {
                    state.Kind = PidKind.Ignored;
                }

                return;
            }
        }

        // A synchronous metadata stream whose PES carries bare KLV (older encoders): a cell header's third byte has
        // its four reserved bits set, a UL's (0x2B) does not, so a payload starting with a UL is not cells.
        if ((state.Stream?.Kind == TsStreamKind.KlvSync || header.StreamId == 0xFC) && !StartsWithUniversalLabel(payload))
        {
            EmitAuCells(state, payload, header, pes, damaged);
            return;
        }

        _output.Enqueue(new KlvAccessUnit(state.Pid, KlvTransport.Async, payload.ToArray(), pes.StartPosition)
        {
            Pts = header.Pts,
            Dts = header.Dts,
            Pcr = pes.PcrAtStart,
            Damaged = damaged,
            DataAligned = header.DataAligned,
        });
    }

    /// <summary>PES packets of an unregistered private stream looked at before it is judged not to be KLV.</summary>
    private const int ProbePesLimit = 4;

    private static bool StartsWithUniversalLabel(ReadOnlySpan<byte> payload) =>
        payload.Length >= 4 && BinaryPrimitives.ReadUInt32BigEndian(payload) == Klv.KlvKey.UniversalLabelPrefix;

    /// <summary>Metadata AU cells (ISO 13818-1 2.12.4): service id, sequence, flags, 16-bit length, data.</summary>
    private void EmitAuCells(PidState state, ReadOnlySpan<byte> payload, PesHeader header, PesBuffer pes, bool damaged)
    {
        var pos = 0;
        while (pos < payload.Length)
        {
            if (payload.Length - pos < 5)
            {
                Diagnostics.Record(TsErrorKind.PesError, pes.StartPosition, state.Pid, $"{payload.Length - pos} bytes left, too few for an AU cell header");
                return;
            }

            int service = payload[pos];
            int sequence = payload[pos + 1];
            var fragment = payload[pos + 2] >> 6;
            var length = BinaryPrimitives.ReadUInt16BigEndian(payload[(pos + 3)..]);
            pos += 5;
            var cellDamaged = damaged;
            if (length > payload.Length - pos)
            {
                Diagnostics.Record(TsErrorKind.PesError, pes.StartPosition, state.Pid, $"AU cell of {length} bytes runs past the PES");
                length = (ushort)(payload.Length - pos);
                cellDamaged = true;
            }

            var cell = payload.Slice(pos, length);
            pos += length;
            // Fragment indication: 11 whole cell, 10 first, 00 middle, 01 last.
            var frag = state.Fragment ??= new ArrayBufferWriter<byte>();
            if (fragment == 3)
            {
                Emit(cell.ToArray());
            }
            else if (fragment == 2)
            {
                frag.Clear();
                frag.Write(cell);
            }
            else
            {
                frag.Write(cell);
                if (fragment == 1)
                {
                    Emit(frag.WrittenSpan.ToArray());
                    frag.Clear();
                }
            }

            void Emit(byte[] bytes) => _output.Enqueue(new KlvAccessUnit(state.Pid, KlvTransport.Sync, bytes, pes.StartPosition)
            {
                Pts = header.Pts,
                Dts = header.Dts,
                Pcr = pes.PcrAtStart,
                Damaged = cellDamaged,
                DataAligned = true,
                ServiceId = service,
                SequenceNumber = sequence,
            });
        }
    }

    /// <summary>PTS and DTS on the extended 64-bit timeline (33-bit wrap-around removed).</summary>
    private PesHeader Unwrapped(PesHeader header) =>
        header.Pts is null && header.Dts is null ? header : header with { Pts = _clock.Unwrap(header.Pts), Dts = _clock.Unwrap(header.Dts) };

    private readonly record struct PesHeader(int StreamId, int PacketLength, int PayloadOffset, long? Pts, long? Dts, bool DataAligned);

    private static bool TryParsePesHeader(ReadOnlySpan<byte> d, out PesHeader header, out string error)
    {
        header = default;
        if (d.Length < 6 || d[0] != 0 || d[1] != 0 || d[2] != 1)
        {
            error = "PES does not start with 00 00 01";
            return false;
        }

        int streamId = d[3];
        var packetLength = BinaryPrimitives.ReadUInt16BigEndian(d[4..]);
        // Stream ids without the optional header: program stream map, padding, private stream 2, ECM/EMM, directory, DSMCC, H.222.1 type E.
        if (streamId is 0xBC or 0xBE or 0xBF or 0xF0 or 0xF1 or 0xFF or 0xF2 or 0xF8)
        {
            header = new PesHeader(streamId, packetLength, 6, null, null, false);
            error = "";
            return true;
        }

        if (d.Length < 9 || (d[6] & 0xC0) != 0x80)
        {
            error = "PES optional header missing or malformed";
            return false;
        }

        var flags = d[7];
        var headerLength = d[8];
        if (9 + headerLength > d.Length)
        {
            error = $"PES header length {headerLength} runs past the data";
            return false;
        }

        long? pts = null, dts = null;
        if ((flags & 0x80) != 0 && headerLength >= 5)
        {
            pts = ReadTimestamp(d[9..]);
        }

        if ((flags & 0xC0) == 0xC0 && headerLength >= 10)
        {
            dts = ReadTimestamp(d[14..]);
        }

        header = new PesHeader(streamId, packetLength, 9 + headerLength, pts, dts, (d[6] & 0x04) != 0);
        error = "";
        return true;
    }

    /// <summary>33-bit PTS/DTS spread over 5 bytes with marker bits.</summary>
    private static long ReadTimestamp(ReadOnlySpan<byte> b) =>
        ((long)((b[0] >> 1) & 0x07) << 30) | ((long)b[1] << 22) | ((long)(b[2] >> 1) << 15) | ((long)b[3] << 7) | (long)(b[4] >> 1);

    // ------------------------------------------------------------------ state

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

    private sealed class SectionBuffer
    {
        public byte[] Data { get; } = new byte[1024 + 3];

        public int Length { get; set; }

        public int Total { get; set; }

        public bool Active { get; set; }

        public void Reset()
        {
            Active = false;
            Length = 0;
            Total = 0;
        }
    }

    private sealed class PesBuffer
    {
        public byte[] Data { get; private set; } = new byte[4096];

        public int Length { get; private set; }

        public bool Active { get; set; }

        public bool Damaged { get; set; }

        public long StartPosition { get; private set; }

        public long? PcrAtStart { get; private set; }

        public void Start(long position, long? pcr)
        {
            Active = true;
            Damaged = false;
            Length = 0;
            StartPosition = position;
            PcrAtStart = pcr;
        }

        public void Append(ReadOnlySpan<byte> bytes)
        {
            if (Length + bytes.Length > Data.Length)
            {
                var bigger = new byte[Math.Max(Data.Length * 2, Length + bytes.Length)];
                Data.AsSpan(0, Length).CopyTo(bigger);
                Data = bigger;
            }

            bytes.CopyTo(Data.AsSpan(Length));
            Length += bytes.Length;
        }
    }
}
