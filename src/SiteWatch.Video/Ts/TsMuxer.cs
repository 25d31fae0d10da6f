using System.Buffers.Binary;

namespace SiteWatch.Video.Ts;

/// <summary>Layout of the single program <see cref="TsMuxer"/> writes.</summary>
public sealed record TsMuxerOptions
{
    public int ProgramNumber { get; init; } = 1;
    public int PmtPid { get; init; } = 0x1000;
    public int VideoPid { get; init; } = 0x100;
    public int KlvPid { get; init; } = 0x101;

    /// <summary>
    /// Synchronous KLV (stream_type 0x15, metadata AU cells, PTS equal to the frame's) or asynchronous
    /// (stream_type 0x06, registration 'KLVA', private_stream_1), as MISB ST 1402 describes both.
    /// </summary>
    public KlvTransport Klv { get; init; } = KlvTransport.Sync;

    /// <summary>PAT and PMT are repeated before every keyframe and at least every this many video access units.</summary>
    public int PsiIntervalFrames { get; init; } = 15;

    /// <summary>How far the PCR runs behind a frame's decode time (90 kHz ticks): the decoder's buffering headroom.</summary>
    public long PcrDelay { get; init; } = 63_000;
}

/// <summary>
/// Writes one MPEG-2 transport stream program: H.264 video (stream_type 0x1B) with its PCR and a KLV metadata
/// stream. PES packets are cut into 188-byte packets with continuity counters per PID; the last packet of each
/// PES is padded with adaptation-field stuffing. <see cref="TsDemuxer"/> reads back what it writes.
/// </summary>
public sealed class TsMuxer
{
    private const int PacketSize = TsDemuxer.PacketSize;
    private const byte VideoStreamId = 0xE0;
    private const byte MetadataStreamId = 0xFC;
    private const byte PrivateStream1 = 0xBD;

    private readonly Stream _output;
    private readonly TsMuxerOptions _options;
    private readonly byte[] _packet = new byte[PacketSize];
    private readonly int[] _cc = new int[8192];
    private int _framesSincePsi = int.MaxValue;
    private byte _klvSequence;

    public TsMuxer(Stream output, TsMuxerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _options = options ?? new TsMuxerOptions();
        foreach (var pid in (int[])[_options.PmtPid, _options.VideoPid, _options.KlvPid])
        {
            if (pid is < 0x10 or > 0x1FFE)
            {
                throw new ArgumentOutOfRangeException(nameof(options), $"PID 0x{pid:X} is reserved or out of range (0x0010..0x1FFE).");
            }
        }

        if (_options.PmtPid == _options.VideoPid || _options.PmtPid == _options.KlvPid || _options.VideoPid == _options.KlvPid)
        {
            throw new ArgumentException("PMT, video and KLV PIDs must differ.", nameof(options));
        }
    }

    public TsMuxerOptions Options => _options;

    /// <summary>TS packets written so far.</summary>
    public long PacketsWritten { get; private set; }

    /// <summary>
    /// Writes one video access unit (H.264 Annex B bytes) as a PES with PTS (and DTS when it differs), PCR in the
    /// first packet's adaptation field, and the random-access flag on keyframes.
    /// </summary>
    public void WriteVideo(ReadOnlySpan<byte> accessUnit, long pts, long? dts = null, bool keyframe = false)
    {
        if (keyframe || _framesSincePsi >= _options.PsiIntervalFrames)
        {
            WritePsi();
            _framesSincePsi = 0;
        }

        _framesSincePsi++;
        var decodeTime = dts ?? pts;
        Span<byte> header = stackalloc byte[19];
        var headerLength = PesHeader(header, VideoStreamId, pts, dts != pts ? dts : null, payloadLength: null, accessUnit.Length);
        WritePes(_options.VideoPid, header[..headerLength], accessUnit, pcr: Math.Max(0, decodeTime - _options.PcrDelay), randomAccess: keyframe);
    }

    /// <summary>
    /// Writes KLV bytes (one or more whole packets) for the frame presented at <paramref name="pts"/>: in one
    /// metadata AU cell for synchronous KLV, as the PES payload for asynchronous KLV.
    /// </summary>
    public void WriteKlv(ReadOnlySpan<byte> klv, long pts)
    {
        if (_framesSincePsi == int.MaxValue)
        {
            WritePsi();
            _framesSincePsi = 0;
        }

        Span<byte> header = stackalloc byte[19];
        if (_options.Klv == KlvTransport.Sync)
        {
            if (klv.Length > 0xFFFF - 5 - 13)
            {
                throw new ArgumentOutOfRangeException(nameof(klv), $"{klv.Length} bytes of KLV do not fit one metadata AU cell.");
            }

            var headerLength = PesHeader(header, MetadataStreamId, pts, null, payloadLength: 5 + klv.Length, 0);
            // Metadata AU cell (ISO 13818-1 2.12.4): service id, sequence number, fragmentation 11 (whole cell),
            // decoder config 0, random access 1, reserved 1111, then the 16-bit cell length.
            Span<byte> cell = stackalloc byte[5];
            cell[0] = 0;
            cell[1] = _klvSequence++;
            cell[2] = 0xDF;
            BinaryPrimitives.WriteUInt16BigEndian(cell[3..], (ushort)klv.Length);
            var payload = new byte[5 + klv.Length];
            cell.CopyTo(payload);
            klv.CopyTo(payload.AsSpan(5));
            WritePes(_options.KlvPid, header[..headerLength], payload, pcr: null, randomAccess: false);
        }
        else
        {
            if (klv.Length > 0xFFFF - 8)
            {
                throw new ArgumentOutOfRangeException(nameof(klv), $"{klv.Length} bytes of KLV do not fit one PES packet.");
            }

            var headerLength = PesHeader(header, PrivateStream1, pts, null, payloadLength: klv.Length, 0);
            WritePes(_options.KlvPid, header[..headerLength], klv, pcr: null, randomAccess: false);
        }
    }

    public void Flush() => _output.Flush();

    /// <summary>PES header with PTS (and DTS); PES_packet_length 0 (unbounded, allowed for video) when the payload is too large.</summary>
    private static int PesHeader(Span<byte> h, byte streamId, long pts, long? dts, int? payloadLength, int videoLength)
    {
        var optional = dts is null ? 5 : 10;
        h[0] = 0;
        h[1] = 0;
        h[2] = 1;
        h[3] = streamId;
        var total = 3 + optional + (payloadLength ?? videoLength);
        BinaryPrimitives.WriteUInt16BigEndian(h[4..], (ushort)(total > 0xFFFF ? 0 : total));
        h[6] = 0x84; // '10', not scrambled, no priority, data_alignment_indicator
        h[7] = (byte)(dts is null ? 0x80 : 0xC0);
        h[8] = (byte)optional;
        WriteTimestamp(h[9..], dts is null ? 0x2 : 0x3, pts);
        if (dts is { } d)
        {
            WriteTimestamp(h[14..], 0x1, d);
        }

        return 9 + optional;
    }

    /// <summary>33-bit time stamp in 5 bytes with marker bits, prefixed by a 4-bit code ('0010' PTS only, '0011' PTS with DTS, '0001' DTS).</summary>
    private static void WriteTimestamp(Span<byte> b, int prefix, long value)
    {
        value &= (1L << 33) - 1;
        b[0] = (byte)((prefix << 4) | (int)((value >> 29) & 0x0E) | 1);
        b[1] = (byte)(value >> 22);
        b[2] = (byte)(((value >> 14) & 0xFE) | 1);
        b[3] = (byte)(value >> 7);
        b[4] = (byte)(((value << 1) & 0xFE) | 1);
    }

    private void WritePsi()
    {
        // PAT: one program.
        Span<byte> pat = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(pat, (ushort)_options.ProgramNumber);
        BinaryPrimitives.WriteUInt16BigEndian(pat[2..], (ushort)(0xE000 | _options.PmtPid));
        WriteSection(0, 0x00, 1, pat);

        // PMT: PCR on the video PID; video 0x1B; KLV with the descriptors ST 1402 names.
        var pmt = new List<byte>(64);
        pmt.Add((byte)(0xE0 | (_options.VideoPid >> 8)));
        pmt.Add((byte)_options.VideoPid);
        byte[] programInfo = _options.Klv == KlvTransport.Sync
            // metadata_pointer_descriptor: format 0x0100, 'KLVA', service 0, no locator, carriage 00, program number.
            ? [0x25, 11, 0x01, 0x00, 0xFF, (byte)'K', (byte)'L', (byte)'V', (byte)'A', 0x00, 0x1F, (byte)(_options.ProgramNumber >> 8), (byte)_options.ProgramNumber]
            : [];
        pmt.Add((byte)(0xF0 | (programInfo.Length >> 8)));
        pmt.Add((byte)programInfo.Length);
        pmt.AddRange(programInfo);
        AddStream(pmt, 0x1B, _options.VideoPid, []);
        if (_options.Klv == KlvTransport.Sync)
        {
            // metadata_descriptor: format 0x0100, 'KLVA', service 0, decoder config 000, no DSM-CC, reserved 1111.
            AddStream(pmt, 0x15, _options.KlvPid, [0x26, 9, 0x01, 0x00, 0xFF, (byte)'K', (byte)'L', (byte)'V', (byte)'A', 0x00, 0x0F]);
        }
        else
        {
            AddStream(pmt, 0x06, _options.KlvPid, [0x05, 4, (byte)'K', (byte)'L', (byte)'V', (byte)'A']);
        }

        WriteSection(_options.PmtPid, 0x02, _options.ProgramNumber, pmt.ToArray());

        static void AddStream(List<byte> pmt, byte streamType, int pid, byte[] descriptors)
        {
            pmt.Add(streamType);
            pmt.Add((byte)(0xE0 | (pid >> 8)));
            pmt.Add((byte)pid);
            pmt.Add((byte)(0xF0 | (descriptors.Length >> 8)));
            pmt.Add((byte)descriptors.Length);
            pmt.AddRange(descriptors);
        }
    }

    /// <summary>A long-form PSI section (version 0, current) with its CRC, in one packet after a zero pointer_field.</summary>
    private void WriteSection(int pid, byte tableId, int idExtension, ReadOnlySpan<byte> body)
    {
        var length = 5 + body.Length + 4;
        Span<byte> s = stackalloc byte[3 + length];
        s[0] = tableId;
        s[1] = (byte)(0xB0 | (length >> 8));
        s[2] = (byte)length;
        BinaryPrimitives.WriteUInt16BigEndian(s[3..], (ushort)idExtension);
        s[5] = 0xC1;
        s[6] = 0;
        s[7] = 0;
        body.CopyTo(s[8..]);
        BinaryPrimitives.WriteUInt32BigEndian(s[^4..], Crc32Mpeg.Compute(s[..^4]));

        var p = _packet.AsSpan();
        p.Fill(0xFF);
        WriteHeader(p, pid, payloadStart: true, adaptation: false);
        p[4] = 0; // pointer_field
        s.CopyTo(p[5..]);
        Emit();
    }

    private void WritePes(int pid, ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, long? pcr, bool randomAccess)
    {
        var first = true;
        var headerLeft = header;
        var payloadLeft = payload;
        while (first || !headerLeft.IsEmpty || !payloadLeft.IsEmpty)
        {
            var p = _packet.AsSpan();
            var withPcr = first && pcr is not null;
            var withFlags = first && (withPcr || randomAccess);
            // Adaptation field bytes this packet needs (length byte, flags, PCR), then stuffing for a short tail so
            // the PES ends exactly at the packet's end.
            var afBytes = withFlags ? 2 + (withPcr ? 6 : 0) : 0;
            var remaining = headerLeft.Length + payloadLeft.Length;
            if (remaining < PacketSize - 4 - afBytes)
            {
                afBytes = PacketSize - 4 - remaining;
            }

            WriteHeader(p, pid, payloadStart: first, adaptation: afBytes > 0);
            var pos = 4;
            if (afBytes > 0)
            {
                var afEnd = 4 + afBytes;
                p[pos++] = (byte)(afBytes - 1);
                if (afBytes > 1)
                {
                    p[pos++] = (byte)((first && randomAccess ? 0x40 : 0) | (withPcr ? 0x10 : 0));
                    if (withPcr)
                    {
                        // PCR: 33-bit base, 6 reserved bits, 9-bit extension (0).
                        var b = pcr!.Value & ((1L << 33) - 1);
                        p[pos++] = (byte)(b >> 25);
                        p[pos++] = (byte)(b >> 17);
                        p[pos++] = (byte)(b >> 9);
                        p[pos++] = (byte)(b >> 1);
                        p[pos++] = (byte)(((b & 1) << 7) | 0x7E);
                        p[pos++] = 0;
                    }

                    p[pos..afEnd].Fill(0xFF);
                    pos = afEnd;
                }
            }

            var take = Math.Min(headerLeft.Length, PacketSize - pos);
            headerLeft[..take].CopyTo(p[pos..]);
            headerLeft = headerLeft[take..];
            pos += take;
            take = Math.Min(payloadLeft.Length, PacketSize - pos);
            payloadLeft[..take].CopyTo(p[pos..]);
            payloadLeft = payloadLeft[take..];
            pos += take;
            if (pos != PacketSize)
            {
                throw new InvalidOperationException($"TS packet layout error: {pos} bytes written.");
            }

            Emit();
            first = false;
        }
    }

    private void WriteHeader(Span<byte> p, int pid, bool payloadStart, bool adaptation)
    {
        p[0] = 0x47;
        p[1] = (byte)((payloadStart ? 0x40 : 0) | (pid >> 8));
        p[2] = (byte)pid;
        p[3] = (byte)((adaptation ? 0x30 : 0x10) | _cc[pid]);
        _cc[pid] = (_cc[pid] + 1) & 0x0F;
    }

    private void Emit()
    {
        _output.Write(_packet);
        PacketsWritten++;
    }
}
