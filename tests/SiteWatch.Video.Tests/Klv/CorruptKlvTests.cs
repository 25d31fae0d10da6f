using SiteWatch.Video.Klv;

namespace SiteWatch.Video.Tests.Klv;

public class CorruptKlvTests
{
    private static byte[] Good() => KlvEncoder.EncodePacket(St0601.Schema,
    [
        KlvField.Integer(2, 1_700_000_000_000_000),
        KlvField.Text(3, "MISSION"),
        KlvField.Number(5, 159.974),
        KlvField.Number(13, 60.1768),
        KlvField.Number(14, 128.4267),
        KlvField.Integer(65, 19),
    ]);

    [Fact]
    public void Bad_checksum_is_flagged_not_thrown()
    {
        var bytes = Good();
        bytes[^1] ^= 0x01;
        var packet = KlvDecoder.Decode(bytes);
        Assert.Equal(KlvChecksumStatus.Invalid, packet.ChecksumStatus);
        Assert.False(packet.ChecksumOk);
        var problem = Assert.Single(packet.Problems);
        Assert.Equal(KlvProblemKind.ChecksumMismatch, problem.Kind);
        Assert.Equal(bytes.Length - 4, problem.Offset);
        Assert.Equal(60.1768, packet.Set!.GetDouble(13), 6); // values still available
    }

    [Fact]
    public void Corrupt_value_byte_makes_the_checksum_fail()
    {
        var bytes = Good();
        bytes[30] ^= 0x40;
        Assert.Equal(KlvChecksumStatus.Invalid, KlvDecoder.Decode(bytes).ChecksumStatus);
    }

    [Fact]
    public void Missing_checksum_is_reported()
    {
        var bytes = Good();
        var withoutChecksum = bytes.AsSpan(0, bytes.Length - 4).ToArray();
        withoutChecksum[16] -= 4; // fix up the one-byte BER length
        var packet = KlvDecoder.Decode(withoutChecksum);
        Assert.Equal(KlvChecksumStatus.Missing, packet.ChecksumStatus);
        Assert.Contains(packet.Problems, p => p.Kind == KlvProblemKind.ChecksumMissing);
    }

    [Fact]
    public void BER_length_longer_than_the_packet_is_reported_as_truncation()
    {
        var bytes = Good();
        bytes[16] += 10; // claims 10 more bytes than there are
        var packet = KlvDecoder.Decode(bytes);
        var problem = packet.Problems.First();
        Assert.Equal(KlvProblemKind.Truncated, problem.Kind);
        Assert.Equal(bytes.Length, problem.Offset);
        Assert.Equal(6 + 1, packet.Set!.Count); // all items still decoded
    }

    [Fact]
    public void BER_length_shorter_than_the_packet_cuts_the_last_item_and_reports_extra_bytes()
    {
        var bytes = Good();
        bytes[16] -= 3;
        var packet = KlvDecoder.Decode(bytes);
        Assert.Contains(packet.Problems, p => p.Kind == KlvProblemKind.ExtraBytes && p.Offset == bytes.Length - 3);
        Assert.Contains(packet.Problems, p => p.Kind == KlvProblemKind.Truncated);
        Assert.NotEqual(KlvChecksumStatus.Valid, packet.ChecksumStatus);
    }

    [Fact]
    public void Invalid_BER_length_form_is_reported()
    {
        var bytes = Good();
        bytes[16] = 0x80; // indefinite length, forbidden in KLV
        var packet = KlvDecoder.Decode(bytes);
        var problem = Assert.Single(packet.Problems);
        Assert.Equal(KlvProblemKind.BadLength, problem.Kind);
        Assert.Equal(16, problem.Offset);
        Assert.Null(packet.Set);
    }

    [Fact]
    public void Truncated_packet_keeps_what_arrived_and_says_where()
    {
        var bytes = Good();
        // key 16 + length 1 + tag 2 (10) + tag 3 (9) + tag 5 (4) = 40: cut two bytes into tag 13.
        var cut = bytes.AsSpan(0, 42).ToArray();
        var packet = KlvDecoder.Decode(cut);
        Assert.Contains(packet.Problems, p => p.Kind == KlvProblemKind.Truncated && p.Offset == 42);
        var set = packet.Set!;
        Assert.True(set.TryGetItem(2, out var ts));
        Assert.Equal(1_700_000_000_000_000L, ts.AsInt64());
        // The item cut in the middle is kept as raw bytes, not dropped.
        Assert.Equal(KlvValueKind.Invalid, set[set.Count - 1].Kind);
        Assert.Equal(KlvChecksumStatus.Missing, packet.ChecksumStatus);
    }

    [Fact]
    public void Short_buffers_are_reported_not_thrown()
    {
        Assert.Equal(KlvProblemKind.Truncated, Assert.Single(KlvDecoder.Decode(new byte[5]).Problems).Kind);
        Assert.Equal(KlvProblemKind.Truncated, Assert.Single(KlvDecoder.Decode(Good().AsMemory(0, 16)).Problems).Kind);
        Assert.Equal(KlvProblemKind.Truncated, Assert.Single(KlvDecoder.Decode(ReadOnlyMemory<byte>.Empty).Problems).Kind);
    }

    [Fact]
    public void Wrong_item_length_is_decoded_with_a_length_mismatch_note()
    {
        // Tag 5 (heading, uint16) sent as 1 byte: decoded with the 8-bit mapping and reported.
        var body = new byte[] { 0x02, 0x08, 0, 0, 0, 0, 0, 0, 0, 1, 0x05, 0x01, 0x80 };
        var packet = KlvDecoder.Decode(Concat(St0601KeyBytes(), [(byte)body.Length], body));
        Assert.True(packet.Set!.TryGetItem(5, out var heading));
        Assert.Equal(128 * 360.0 / 255, heading.AsDouble(), 9);
        var problem = packet.Problems.First(p => p.Kind == KlvProblemKind.LengthMismatch);
        Assert.Equal(5, problem.Tag);
        Assert.Equal(27, problem.Offset); // key 16 + length 1 + tag 2 item 10
    }

    [Fact]
    public void Unknown_tags_and_keys_are_kept_raw()
    {
        var body = new byte[] { 0x02, 0x08, 0, 0, 0, 0, 0, 0, 0, 1, 0x81, 0x7F, 0x02, 0xAB, 0xCD };
        var packet = KlvDecoder.Decode(Concat(St0601KeyBytes(), [(byte)body.Length], body));
        Assert.True(packet.Set!.TryGetItem(255, out var unknown));
        Assert.Equal(KlvValueKind.Unknown, unknown.Kind);
        Assert.Equal(new byte[] { 0xAB, 0xCD }, unknown.Value.ToArray());
        Assert.Null(unknown.Traits);

        var foreign = KlvDecoder.Decode(Convert.FromHexString("060E2B34020101010E01FFFF01010000" + "03" + "AABBCC"));
        Assert.Null(foreign.Schema);
        Assert.Null(foreign.Set);
        Assert.Equal("060E2B34020101010E01FFFF01010000", foreign.Key.ToString());
        Assert.Equal(17, foreign.ValueOffset);
        Assert.Empty(foreign.Problems);
    }

    [Fact]
    public void Bad_structured_value_is_kept_raw_with_a_problem()
    {
        // Tag 115 (control command) whose text length runs past the value.
        var packet = KlvDecoder.Decode(KlvEncoder.EncodePacket(St0601.Schema,
            [KlvField.Integer(2, 1), KlvField.Bytes(115, new byte[] { 0x05, 0x40, 0x41 })]));
        Assert.True(packet.ChecksumOk);
        Assert.True(packet.Set!.TryGetItem(115, out var item));
        Assert.Equal(KlvValueKind.Invalid, item.Kind);
        Assert.NotNull(item.InvalidReason);
        Assert.Contains(packet.Problems, p => p.Kind == KlvProblemKind.BadValue && p.Tag == 115);
    }

    [Fact]
    public void Deeply_nested_amend_sets_stop_at_the_depth_limit()
    {
        // Amend set (tag 101) inside amend set ... 40 levels: must not recurse without bound.
        var inner = new byte[] { 0x41, 0x01, 0x13 };
        for (var i = 0; i < 40; i++)
        {
            inner = [0x65, .. BerLength(inner.Length), .. inner];
        }

        var packet = KlvDecoder.Decode(Concat(St0601KeyBytes(), BerLength(inner.Length), inner));
        Assert.Contains(packet.Problems, p => p.Kind == KlvProblemKind.TooDeep);
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] BerLength(int n)
    {
        var b = new byte[Ber.GetLengthSize(n)];
        Ber.WriteLength(b, n);
        return b;
    }

    private static byte[] St0601KeyBytes()
    {
        var key = new byte[16];
        St0601.Key.CopyTo(key);
        return key;
    }
}

public class KlvSplitterTests
{
    private static readonly byte[] s_a = KlvEncoder.EncodePacket(St0601.Schema, [KlvField.Integer(2, 1), KlvField.Number(5, 10)]);
    private static readonly byte[] s_b = KlvEncoder.EncodePacket(St0102.Schema, [KlvField.Integer(1, 1), KlvField.Text(3, "//GB")]);

    [Fact]
    public void Several_packets_and_junk_in_one_buffer()
    {
        byte[] buffer = [.. s_a, 0x00, 0x11, 0x22, .. s_b, .. s_a];
        var slices = KlvPacketSplitter.Split(buffer).ToList();
        Assert.Equal([KlvSliceStatus.Complete, KlvSliceStatus.Junk, KlvSliceStatus.Complete, KlvSliceStatus.Complete], slices.Select(s => s.Status));
        Assert.Equal([0L, s_a.Length, s_a.Length + 3, s_a.Length + 3 + s_b.Length], slices.Select(s => s.Position));
        Assert.Equal(s_b, slices[2].Bytes.ToArray());
    }

    [Fact]
    public void Overlong_length_does_not_swallow_the_next_packet()
    {
        var bad = (byte[])s_a.Clone();
        bad[16] = 0x7F;
        var slices = KlvPacketSplitter.Split(bad.Concat(s_b).ToArray()).ToList();
        Assert.Equal([KlvSliceStatus.Truncated, KlvSliceStatus.Complete], slices.Select(s => s.Status));
        Assert.Equal(s_b, slices[1].Bytes.ToArray());
    }

    [Fact]
    public void Packet_cut_across_writes_is_reassembled()
    {
        byte[] stream = [.. s_a, .. s_b, .. s_a];
        foreach (var chunk in new[] { 1, 2, 3, 5, 17, 40 })
        {
            var splitter = new KlvPacketSplitter();
            var got = new List<KlvSlice>();
            for (var i = 0; i < stream.Length; i += chunk)
            {
                splitter.Write(stream.AsSpan(i, Math.Min(chunk, stream.Length - i)));
                while (splitter.TryRead(out var slice))
                {
                    got.Add(slice);
                }
            }

            got.AddRange(splitter.Flush());
            Assert.Equal([s_a, s_b, s_a], got.Select(s => s.Bytes.ToArray()));
            Assert.All(got, s => Assert.Equal(KlvSliceStatus.Complete, s.Status));
            Assert.Equal([0L, s_a.Length, s_a.Length + s_b.Length], got.Select(s => s.Position));
        }
    }

    [Fact]
    public void Flush_returns_an_incomplete_tail_as_truncated()
    {
        var splitter = new KlvPacketSplitter();
        splitter.Write(s_a.AsSpan(0, s_a.Length - 5));
        Assert.False(splitter.TryRead(out _));
        var tail = Assert.Single(splitter.Flush());
        Assert.Equal(KlvSliceStatus.Truncated, tail.Status);
        Assert.Equal(0, splitter.PendingBytes);
    }

    [Fact]
    public void Impossible_length_is_treated_as_junk()
    {
        var splitter = new KlvPacketSplitter(maxPacketLength: 1000);
        byte[] huge = [.. s_a.AsSpan(0, 16), 0x84, 0x10, 0, 0, 0, 1, 2, 3, .. s_b];
        splitter.Write(huge);
        Assert.True(splitter.TryRead(out var junk));
        Assert.Equal(KlvSliceStatus.Junk, junk.Status);
        Assert.True(splitter.TryRead(out var packet));
        Assert.Equal(s_b, packet.Bytes.ToArray());
    }
}
