using System.Buffers;
using System.Buffers.Binary;

namespace SiteWatch.Video.Ts;

// PES reassembly: packets of a PID joined into PES packets, their headers and PTS/DTS read and unwrapped, and the
// KLV access units (whole packets, or metadata AU cells) handed to the output queue.
public sealed partial class TsDemuxer
{
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
