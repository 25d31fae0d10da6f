using SiteWatch.Video.Klv;
using SiteWatch.Video.Ts;

namespace SiteWatch.Video.Tests.Ts;

public class TsDemuxerTests
{
    private const int PmtPid = 0x1000;
    private const int VideoPid = 0x100;
    private const int KlvPid = 0x101;

    private static byte[] SamplePacket(long timestamp) => KlvEncoder.EncodePacket(St0601.Schema,
        [KlvField.Integer(2, timestamp), KlvField.Number(13, 51.5), KlvField.Number(14, -0.12), KlvField.Integer(65, 19)]);

    /// <summary>A stream with H.264 video (PCR) and async KLV with PTS, one KLV packet per PES.</summary>
    private static (byte[] Stream, List<byte[]> Packets) AsyncStream(int count, bool withPts = true)
    {
        var ts = new TsBuilder();
        ts.Pat(1, PmtPid);
        ts.Pmt(PmtPid, 1, VideoPid,
            new TsBuilder.Es(0x1B, VideoPid, []),
            new TsBuilder.Es(0x06, KlvPid, TsBuilder.Registration("KLVA")));
        var packets = new List<byte[]>();
        for (var i = 0; i < count; i++)
        {
            var pts = 900_000L + i * 3003;
            ts.Pes(VideoPid, 0xE0, new byte[400 + i], pts, pts - 3003, pcr: pts - 6000, declareLength: false);
            var klv = SamplePacket(1_700_000_000_000_000 + i * 33_367);
            packets.Add(klv);
            ts.Pes(KlvPid, 0xBD, klv, withPts ? pts : null);
        }

        return (ts.ToArray(), packets);
    }

    private static List<KlvAccessUnit> Demux(byte[] stream, TsDemuxer demuxer, int chunk = 4096)
    {
        var units = new List<KlvAccessUnit>();
        for (var i = 0; i < stream.Length; i += chunk)
        {
            demuxer.Write(stream.AsSpan(i, Math.Min(chunk, stream.Length - i)));
            while (demuxer.TryRead(out var u))
            {
                units.Add(u);
            }
        }

        demuxer.Complete();
        while (demuxer.TryRead(out var u))
        {
            units.Add(u);
        }

        return units;
    }

    [Fact]
    public void Async_KLV_comes_out_with_PTS_and_streams_are_reported()
    {
        var (stream, packets) = AsyncStream(10);
        var demuxer = new TsDemuxer();
        var units = Demux(stream, demuxer);
        Assert.Equal(10, units.Count);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(packets[i], units[i].Payload.ToArray());
            Assert.Equal(900_000L + i * 3003, units[i].Pts);
            Assert.Equal(KlvTransport.Async, units[i].Transport);
            Assert.Equal(KlvPid, units[i].Pid);
            Assert.False(units[i].Damaged);
            Assert.True(units[i].DataAligned);
            Assert.Equal(900_000L + i * 3003 - 6000, units[i].Pcr);
        }

        Assert.Equal(0, demuxer.Diagnostics.TotalErrors);
        var video = Assert.Single(demuxer.Streams, s => s.Kind == TsStreamKind.Video);
        Assert.Equal((VideoPid, (byte)0x1B, "H.264"), (video.Pid, video.StreamType, video.Codec));
        Assert.Equal(900_000L + 9 * 3003, video.LastPts);
        var klv = Assert.Single(demuxer.Streams, s => s.Kind == TsStreamKind.KlvAsync);
        Assert.Equal("KLVA", klv.Registration);
        Assert.Equal(10, klv.PesPackets);
    }

    [Fact]
    public void Output_does_not_depend_on_how_the_bytes_are_chunked()
    {
        var (stream, _) = AsyncStream(6);
        var reference = Demux(stream, new TsDemuxer(), stream.Length);
        foreach (var chunk in new[] { 1, 7, 187, 188, 189, 1000 })
        {
            var units = Demux(stream, new TsDemuxer(), chunk);
            Assert.Equal(reference.Count, units.Count);
            Assert.Equal(reference.Select(u => u.Payload.ToArray()), units.Select(u => u.Payload.ToArray()));
            Assert.Equal(reference.Select(u => (u.Pts, u.Position)), units.Select(u => (u.Pts, u.Position)));
        }
    }

    [Fact]
    public void Thirty_three_bit_PTS_wraps_and_DTS_are_read()
    {
        var ts = new TsBuilder();
        ts.Pat(1, PmtPid);
        ts.Pmt(PmtPid, 1, KlvPid, new TsBuilder.Es(0x06, KlvPid, TsBuilder.Registration("KLVA")));
        const long big = (1L << 33) - 1;
        ts.Pes(KlvPid, 0xBD, SamplePacket(1), big, big - 10);
        var units = Demux(ts.ToArray(), new TsDemuxer());
        Assert.Equal(big, Assert.Single(units).Pts);
        Assert.Equal(big - 10, units[0].Dts);
    }

    [Fact]
    public void Synchronous_KLV_is_split_into_metadata_au_cells()
    {
        var ts = new TsBuilder();
        ts.Pat(1, PmtPid);
        ts.Pmt(PmtPid, 1, KlvPid, new TsBuilder.Es(0x15, KlvPid, TsBuilder.MetadataDescriptorKlva(7)));
        var a = SamplePacket(1);
        var b = SamplePacket(2);
        ts.Pes(KlvPid, 0xFC, [.. TsBuilder.AuCell(7, 0, a), .. TsBuilder.AuCell(7, 1, b)], 123_456);
        // A cell sent in two fragments (first, last) in the next PES.
        var c = SamplePacket(3);
        ts.Pes(KlvPid, 0xFC, [.. TsBuilder.AuCell(7, 2, c.AsSpan(0, 20), fragment: 2), .. TsBuilder.AuCell(7, 2, c.AsSpan(20), fragment: 1)], 126_459);

        var demuxer = new TsDemuxer();
        var units = Demux(ts.ToArray(), demuxer);
        Assert.Equal(3, units.Count);
        Assert.All(units, u => Assert.Equal(KlvTransport.Sync, u.Transport));
        Assert.Equal([a, b, c], units.Select(u => u.Payload.ToArray()));
        Assert.Equal([123_456L, 123_456L, 126_459L], units.Select(u => u.Pts!.Value));
        Assert.Equal([0, 1, 2], units.Select(u => u.SequenceNumber!.Value));
        Assert.All(units, u => Assert.Equal(7, u.ServiceId));
        var stream = Assert.Single(demuxer.Streams);
        Assert.Equal(TsStreamKind.KlvSync, stream.Kind);
        Assert.Equal("KLVA", stream.MetadataFormat);
        Assert.Equal(7, stream.MetadataServiceId);
        Assert.Equal(0, demuxer.Diagnostics.TotalErrors);
    }

    [Fact]
    public void Garbage_between_packets_is_skipped_and_reported_with_position()
    {
        var (stream, packets) = AsyncStream(8);
        // Insert 77 bytes of junk (with a stray 0x47 in it) after packet 20.
        var cut = 20 * 188;
        var junk = Enumerable.Range(0, 77).Select(i => (byte)(i == 30 ? 0x47 : 0xA5)).ToArray();
        var damaged = stream[..cut].Concat(junk).Concat(stream[cut..]).ToArray();

        var demuxer = new TsDemuxer();
        var units = Demux(damaged, demuxer, 1000);
        Assert.Equal(1, demuxer.Diagnostics.SyncLosses);
        Assert.Equal(77, demuxer.Diagnostics.BytesSkipped);
        var loss = demuxer.Diagnostics.Errors.First(e => e.Kind == TsErrorKind.SyncLoss);
        Assert.Equal(cut, loss.Position);
        var skip = demuxer.Diagnostics.Errors.First(e => e.Kind == TsErrorKind.Skipped);
        Assert.Equal(cut, skip.Position);
        // Nothing was lost: every KLV payload survives, byte for byte.
        Assert.Equal(packets, units.Select(u => u.Payload.ToArray()));
        Assert.Equal(0, demuxer.Diagnostics.ContinuityErrors);
    }

    [Fact]
    public void Large_garbage_with_stray_sync_bytes_in_one_write_is_skipped()
    {
        // 20 KB of junk sprinkled with 0x47 (including one close to its end) handed over in one call:
        // the resync search must not hold on to the whole chunk.
        var (stream, packets) = AsyncStream(4);
        var rng = new Random(5);
        var junk = new byte[20_000];
        rng.NextBytes(junk);
        junk[100] = 0x47;
        junk[5_000] = 0x47;
        junk[^50] = 0x47;
        var demuxer = new TsDemuxer();
        var units = Demux([.. junk, .. stream, .. junk, .. stream], demuxer, 64 * 1024);
        Assert.Equal(packets.Concat(packets), units.Select(u => u.Payload.ToArray()));
        Assert.Equal(2 * junk.Length, demuxer.Diagnostics.BytesSkipped);

        // Same junk as a write of its own, so the search stops at a candidate it cannot confirm yet.
        var split = new TsDemuxer();
        split.Write(junk);
        split.Write(stream);
        split.Complete();
        var got = new List<byte[]>();
        while (split.TryRead(out var u))
        {
            got.Add(u.Payload.ToArray());
        }

        Assert.Equal(packets, got);
        Assert.Equal(junk.Length, split.Diagnostics.BytesSkipped);
    }

    [Fact]
    public void Leading_garbage_is_skipped_before_the_first_sync()
    {
        var (stream, packets) = AsyncStream(3);
        var damaged = new byte[] { 0x47, 1, 2, 0x47, 9 }.Concat(stream).ToArray();
        var demuxer = new TsDemuxer();
        var units = Demux(damaged, demuxer, 64);
        Assert.Equal(packets, units.Select(u => u.Payload.ToArray()));
        Assert.Equal(5, demuxer.Diagnostics.BytesSkipped);
    }

    [Fact]
    public void Dropped_packets_are_counted_as_continuity_errors_per_PID()
    {
        var (stream, _) = AsyncStream(8);
        // Find the TS packets of the KLV PID and drop the second packet of the 3rd KLV PES.
        var klvPackets = Enumerable.Range(0, stream.Length / 188)
            .Where(i => (((stream[i * 188 + 1] & 0x1F) << 8) | stream[i * 188 + 2]) == KlvPid).ToList();
        var starts = klvPackets.Where(i => (stream[i * 188 + 1] & 0x40) != 0).ToList();
        var drop = klvPackets[klvPackets.IndexOf(starts[2]) + 0];
        var damaged = stream.AsSpan(0, drop * 188).ToArray().Concat(stream.AsSpan((drop + 1) * 188).ToArray()).ToArray();

        var demuxer = new TsDemuxer();
        var units = Demux(damaged, demuxer);
        Assert.Equal(1, demuxer.Diagnostics.ContinuityErrors);
        Assert.Equal(1, demuxer.Diagnostics.ContinuityErrorsByPid[KlvPid]);
        // Reported where the gap is noticed: the next packet of that PID in the damaged stream.
        var next = Enumerable.Range(drop, damaged.Length / 188 - drop)
            .First(i => (((damaged[i * 188 + 1] & 0x1F) << 8) | damaged[i * 188 + 2]) == KlvPid);
        Assert.Equal(next * 188L, demuxer.Diagnostics.Errors.Single(e => e.Kind == TsErrorKind.ContinuityError).Position);
        Assert.Equal(1, demuxer.Streams.Single(s => s.Pid == KlvPid).ContinuityErrors);
        // The PES whose start was lost is not emitted; the others are intact.
        Assert.Equal(7, units.Count);
        Assert.All(units, u => Assert.True(KlvDecoder.Decode(u.Payload).ChecksumOk));
    }

    [Fact]
    public void Lost_middle_packet_marks_the_PES_damaged()
    {
        var ts = new TsBuilder();
        ts.Pat(1, PmtPid);
        ts.Pmt(PmtPid, 1, KlvPid, new TsBuilder.Es(0x06, KlvPid, TsBuilder.Registration("KLVA")));
        var big = KlvEncoder.EncodePacket(St0601.Schema, [KlvField.Integer(2, 5), KlvField.Text(3, new string('x', 127)), KlvField.Text(4, new string('y', 127)), KlvField.Text(10, new string('z', 127))]);
        ts.Pes(KlvPid, 0xBD, big, 1000);
        ts.Pes(KlvPid, 0xBD, SamplePacket(9), 4000);
        var stream = ts.ToArray();
        // Packets: PAT, PMT, then the first PES over 3 packets; drop its 2nd packet.
        var damaged = stream.AsSpan(0, 3 * 188).ToArray().Concat(stream.AsSpan(4 * 188).ToArray()).ToArray();
        var demuxer = new TsDemuxer();
        var units = Demux(damaged, demuxer);
        Assert.Equal(2, units.Count);
        Assert.True(units[0].Damaged);
        Assert.False(KlvDecoder.Decode(units[0].Payload).ChecksumOk);
        Assert.False(units[1].Damaged);
        Assert.True(KlvDecoder.Decode(units[1].Payload).ChecksumOk);
        Assert.Equal(1, demuxer.Diagnostics.TruncatedPes);
    }

    [KlvDataFact]
    public void Truncated_final_packet_is_tolerated_and_reported()
    {
        var stream = File.ReadAllBytes(TestData.Klv("h264_klv.ts"));
        var cut = stream.AsSpan(0, stream.Length - 100).ToArray();
        var demuxer = new TsDemuxer();
        var units = Demux(cut, demuxer, 8192);
        Assert.Equal(88, demuxer.Diagnostics.TruncatedBytes);
        var error = Assert.Single(demuxer.Diagnostics.Errors, e => e.Kind == TsErrorKind.TruncatedPacket);
        Assert.Equal(stream.Length - 188, error.Position);
        Assert.InRange(units.Count, 29, 30);
        Assert.All(units.Where(u => !u.Damaged), u => Assert.True(KlvDecoder.Decode(u.Payload).ChecksumOk));
    }

    [KlvDataTheory]
    [InlineData("h264_klv.ts", 0x1B, "H.264")]
    [InlineData("h265_klv.ts", 0x24, "H.265")]
    [InlineData("mpeg2_klv.ts", 0x02, "MPEG-2 Video")]
    public void Real_clips_report_video_and_KLV_streams(string clip, byte videoType, string codec)
    {
        using var file = File.OpenRead(TestData.Klv(clip));
        var demuxer = new TsDemuxer();
        var units = TsDemuxer.ReadKlv(file, demuxer).ToList();
        Assert.Equal(30, units.Count);
        var video = Assert.Single(demuxer.Streams, s => s.Kind == TsStreamKind.Video);
        Assert.Equal((videoType, codec), (video.StreamType, video.Codec));
        Assert.Equal(30, video.PesPackets);
        var klv = Assert.Single(demuxer.Streams, s => s.Kind == TsStreamKind.KlvAsync);
        Assert.Equal(0x101, klv.Pid);
        Assert.Equal(0, demuxer.Diagnostics.TotalErrors);
        Assert.Equal(file.Length / 188, demuxer.Diagnostics.Packets);
    }

    [KlvDataFact]
    public void Transport_error_indicator_and_bad_psi_crc_are_counted()
    {
        var stream = File.ReadAllBytes(TestData.Klv("h264_klv.ts"));
        var damaged = (byte[])stream.Clone();
        // Flip the last CRC byte of the first PAT (PID 0, pointer_field 0, 16-byte section), and set
        // transport_error_indicator on packet 5.
        var pat = Enumerable.Range(0, stream.Length / 188).First(i => stream[i * 188 + 1] == 0x40 && stream[i * 188 + 2] == 0);
        Assert.Equal(0, stream[pat * 188 + 4]);
        damaged[pat * 188 + 5 + 16 - 1] ^= 0xFF;
        damaged[5 * 188 + 1] |= 0x80;
        var demuxer = new TsDemuxer();
        var units = Demux(damaged, demuxer);
        Assert.True(demuxer.Diagnostics.PsiCrcErrors >= 1);
        Assert.Equal(1, demuxer.Diagnostics.TransportErrors);
        Assert.Equal(5 * 188, demuxer.Diagnostics.Errors.Single(e => e.Kind == TsErrorKind.TransportError).Position);
        Assert.InRange(units.Count, 29, 30); // the PAT repeats, so the program is still found
    }
}
