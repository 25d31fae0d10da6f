using System.Buffers.Binary;

namespace SiteWatch.Video.Tests.Ts;

/// <summary>
/// Writes small MPEG-TS streams for tests: PAT, PMT (with descriptors), PES packets split into 188-byte
/// packets with correct continuity counters, optional PTS/DTS and PCR.
/// </summary>
internal sealed class TsBuilder
{
    private readonly MemoryStream _out = new();
    private readonly Dictionary<int, int> _cc = [];

    public byte[] ToArray() => _out.ToArray();

    public long Length => _out.Length;

    public void Raw(ReadOnlySpan<byte> bytes) => _out.Write(bytes);

    public void Pat(int programNumber, int pmtPid)
    {
        var body = new byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)programNumber);
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(2), (ushort)(0xE000 | pmtPid));
        Section(0, Psi(0x00, 1, body));
    }

    public sealed record Es(byte StreamType, int Pid, byte[] Descriptors);

    public void Pmt(int pmtPid, int programNumber, int pcrPid, params Es[] streams)
    {
        var body = new List<byte> { (byte)(0xE0 | (pcrPid >> 8)), (byte)pcrPid, 0xF0, 0x00 };
        foreach (var es in streams)
        {
            body.Add(es.StreamType);
            body.Add((byte)(0xE0 | (es.Pid >> 8)));
            body.Add((byte)es.Pid);
            body.Add((byte)(0xF0 | (es.Descriptors.Length >> 8)));
            body.Add((byte)es.Descriptors.Length);
            body.AddRange(es.Descriptors);
        }

        Section(pmtPid, Psi(0x02, programNumber, body.ToArray()));
    }

    public static byte[] Registration(string fourCc) => [0x05, 4, .. System.Text.Encoding.ASCII.GetBytes(fourCc)];

    /// <summary>metadata_descriptor with application format 0x0100 and format identifier 'KLVA'.</summary>
    public static byte[] MetadataDescriptorKlva(byte serviceId) =>
        [0x26, 9, 0x01, 0x00, 0xFF, (byte)'K', (byte)'L', (byte)'V', (byte)'A', serviceId, 0x0F];

    private static byte[] Psi(byte tableId, int idExtension, byte[] body)
    {
        var length = 5 + body.Length + 4;
        var s = new byte[3 + length];
        s[0] = tableId;
        s[1] = (byte)(0xB0 | (length >> 8));
        s[2] = (byte)length;
        BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(3), (ushort)idExtension);
        s[5] = 0xC1; // version 0, current
        s[6] = 0;
        s[7] = 0;
        body.CopyTo(s, 8);
        BinaryPrimitives.WriteUInt32BigEndian(s.AsSpan(s.Length - 4), Crc32(s.AsSpan(0, s.Length - 4)));
        return s;
    }

    private void Section(int pid, byte[] section)
    {
        var payload = new byte[1 + section.Length];
        section.CopyTo(payload, 1);
        Packetize(pid, payload, null);
    }

    /// <summary>Writes one PES packet (stream id 0xBD or 0xFC) carrying <paramref name="data"/>.</summary>
    public void Pes(int pid, byte streamId, ReadOnlySpan<byte> data, long? pts = null, long? dts = null, bool aligned = true, long? pcr = null, bool declareLength = true)
    {
        var header = new List<byte> { 0, 0, 1, streamId, 0, 0, (byte)(0x80 | (aligned ? 0x04 : 0)) };
        var flags = (byte)((pts is null ? 0 : 0x80) | (dts is null ? 0 : 0x40));
        header.Add(flags);
        var optional = new List<byte>();
        if (pts is { } p)
        {
            optional.AddRange(Timestamp(dts is null ? 0x2 : 0x3, p));
        }

        if (dts is { } d)
        {
            optional.AddRange(Timestamp(0x1, d));
        }

        header.Add((byte)optional.Count);
        header.AddRange(optional);
        var pes = new byte[header.Count + data.Length];
        header.CopyTo(pes);
        data.CopyTo(pes.AsSpan(header.Count));
        var pesLength = declareLength ? pes.Length - 6 : 0;
        BinaryPrimitives.WriteUInt16BigEndian(pes.AsSpan(4), (ushort)pesLength);
        Packetize(pid, pes, pcr);
    }

    private static byte[] Timestamp(int prefix, long t) =>
    [
        (byte)((prefix << 4) | (int)((t >> 29) & 0x0E) | 1),
        (byte)(t >> 22),
        (byte)(((t >> 14) & 0xFE) | 1),
        (byte)(t >> 7),
        (byte)(((t << 1) & 0xFE) | 1),
    ];

    /// <summary>Splits a payload into TS packets; short last packets are padded with adaptation-field stuffing.</summary>
    public void Packetize(int pid, ReadOnlySpan<byte> payload, long? pcr)
    {
        var first = true;
        while (!payload.IsEmpty || first)
        {
            var packet = new byte[188];
            packet[0] = 0x47;
            packet[1] = (byte)((first ? 0x40 : 0) | (pid >> 8));
            packet[2] = (byte)pid;
            var cc = _cc.GetValueOrDefault(pid);
            _cc[pid] = (cc + 1) & 0xF;
            var pcrBytes = first && pcr is not null ? 6 : 0;
            var room = 184 - (pcrBytes > 0 ? 2 + pcrBytes : 0);
            var take = Math.Min(room, payload.Length);
            var stuffing = room - take;
            var afLength = pcrBytes > 0 ? 1 + pcrBytes + stuffing : stuffing > 0 ? stuffing - 1 : -1;
            var pos = 4;
            if (afLength >= 0)
            {
                packet[3] = (byte)(0x30 | cc);
                packet[pos++] = (byte)afLength;
                if (afLength > 0)
                {
                    packet[pos++] = (byte)(pcrBytes > 0 ? 0x10 : 0x00);
                    if (pcrBytes > 0)
                    {
                        var b = pcr!.Value;
                        packet[pos++] = (byte)(b >> 25);
                        packet[pos++] = (byte)(b >> 17);
                        packet[pos++] = (byte)(b >> 9);
                        packet[pos++] = (byte)(b >> 1);
                        packet[pos++] = (byte)(((b & 1) << 7) | 0x7E);
                        packet[pos++] = 0;
                    }

                    while (pos < 4 + 1 + afLength)
                    {
                        packet[pos++] = 0xFF;
                    }
                }
            }
            else
            {
                packet[3] = (byte)(0x10 | cc);
            }

            payload[..take].CopyTo(packet.AsSpan(pos));
            payload = payload[take..];
            _out.Write(packet);
            first = false;
        }
    }

    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= (uint)b << 24;
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 0x80000000) != 0 ? (crc << 1) ^ 0x04C11DB7 : crc << 1;
            }
        }

        return crc;
    }

    /// <summary>Metadata AU cell (sync KLV): service id, sequence number, flags (whole cell), length, data.</summary>
    public static byte[] AuCell(byte serviceId, byte sequence, ReadOnlySpan<byte> data, int fragment = 3) =>
        [serviceId, sequence, (byte)((fragment << 6) | 0x0F), (byte)(data.Length >> 8), (byte)data.Length, .. data];
}
