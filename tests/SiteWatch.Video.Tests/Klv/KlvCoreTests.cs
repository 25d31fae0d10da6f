using SiteWatch.Video.Klv;

namespace SiteWatch.Video.Tests.Klv;

public class KlvCoreTests
{
    [Theory]
    [InlineData(new byte[] { 0x00 }, 0, 1)]
    [InlineData(new byte[] { 0x7F }, 127, 1)]
    [InlineData(new byte[] { 0x81, 0x80 }, 128, 2)]
    [InlineData(new byte[] { 0x82, 0x09, 0x63 }, 2403, 3)]
    [InlineData(new byte[] { 0x84, 0x00, 0x00, 0x01, 0x00 }, 256, 5)]
    public void BER_length_reads_short_and_long_forms(byte[] bytes, int expected, int size)
    {
        Assert.Equal(size, Ber.TryReadLength(bytes, out var length));
        Assert.Equal(expected, length);
    }

    [Theory]
    [InlineData(new byte[] { 0x80 })]                                            // indefinite form
    [InlineData(new byte[] { 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9 })]                   // 9 length bytes
    [InlineData(new byte[] { 0x88, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF })] // > int.MaxValue
    public void BER_length_rejects_invalid_forms(byte[] bytes)
    {
        Assert.Equal(-1, Ber.TryReadLength(bytes, out _));
        Assert.Throws<KlvFormatException>(() => Ber.ReadLength(bytes, out _));
    }

    [Fact]
    public void BER_length_reports_truncation_as_need_more()
    {
        Assert.Equal(0, Ber.TryReadLength([0x82, 0x01], out _));
        Assert.Equal(0, Ber.TryReadLength([], out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(65535)]
    [InlineData(int.MaxValue)]
    public void BER_length_round_trips_in_shortest_form(int value)
    {
        Span<byte> buffer = stackalloc byte[9];
        var n = Ber.WriteLength(buffer, value);
        Assert.Equal(Ber.GetLengthSize(value), n);
        Assert.Equal(n, Ber.TryReadLength(buffer[..n], out var back));
        Assert.Equal(value, back);
        Assert.Equal(value < 128 ? 1 : 1 + (int)Math.Ceiling(Math.Log2(value + 1.0) / 8), n);
    }

    [Theory]
    [InlineData(0UL, new byte[] { 0x00 })]
    [InlineData(127UL, new byte[] { 0x7F })]
    [InlineData(128UL, new byte[] { 0x81, 0x00 })]
    [InlineData(1234UL, new byte[] { 0x89, 0x52 })]
    [InlineData(60000UL, new byte[] { 0x83, 0xD4, 0x60 })]
    public void BER_OID_matches_known_encodings(ulong value, byte[] encoded)
    {
        Span<byte> buffer = stackalloc byte[10];
        var n = Ber.WriteOid(buffer, value);
        Assert.Equal(encoded, buffer[..n].ToArray());
        Assert.Equal(encoded.Length, Ber.TryReadOid(encoded, out var back));
        Assert.Equal(value, back);
    }

    [Fact]
    public void BER_OID_round_trips_up_to64_bits()
    {
        var rng = new Random(7);
        Span<byte> buffer = stackalloc byte[10];
        for (var i = 0; i < 2000; i++)
        {
            var v = (ulong)rng.NextInt64() << rng.Next(0, 2) >> rng.Next(0, 63);
            var n = Ber.WriteOid(buffer, v);
            Assert.Equal(n, Ber.TryReadOid(buffer[..n], out var back));
            Assert.Equal(v, back);
        }

        Assert.Equal(0, Ber.TryReadOid([0x81, 0x82], out _)); // continuation bit on the last byte
        Assert.Equal(-1, Ber.TryReadOid([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], out _));
    }

    [Fact]
    public void Keys_parse_print_and_ignore_the_version_byte()
    {
        var key = KlvKey.Parse("06 0E 2B 34 02 0B 01 01 0E 01 03 01 01 00 00 00");
        Assert.Equal(St0601.Key, key);
        Assert.Equal("060E2B34020B01010E01030101000000", key.ToString());
        Assert.True(key.IsUniversalLabel);
        Assert.Equal(0x0B, key.RegistryDesignator);
        var otherVersion = KlvKey.Parse("060E2B34020B01020E01030101000000");
        Assert.NotEqual(key, otherVersion);
        Assert.True(key.MatchesIgnoringVersion(otherVersion));
        Assert.False(key.MatchesIgnoringVersion(St0102.Key));
        Assert.Throws<FormatException>(() => KlvKey.Parse("060E2B34"));
    }

    [Fact]
    public void Sum16_checksum_handles_odd_lengths_like_the_byte_wise_definition()
    {
        var rng = new Random(3);
        for (var len = 0; len < 200; len++)
        {
            var data = new byte[len];
            rng.NextBytes(data);
            ushort expected = 0;
            for (var i = 0; i < len; i++)
            {
                expected += (ushort)(data[i] << (8 * ((i + 1) % 2)));
            }

            Assert.Equal(expected, KlvChecksum.Sum16(data));
        }
    }

    [Fact]
    public void CRC16_CCITT_matches_the_standard_check_value()
    {
        // CRC-16/CCITT-FALSE check value for "123456789".
        Assert.Equal(0x29B1, KlvChecksum.Crc16Ccitt("123456789"u8));
    }

    [Theory]
    // Values worked out by hand from ST 1201 and confirmed by KWIVER's expected decode.
    [InlineData(-19.2, 19.2, 3, 0x3A6667UL, 10.0)]
    [InlineData(0, 1_500_000, 3, 0x00D92AUL, 13898.5)]
    [InlineData(-900, 40000, 3, 0x2F921EUL, 23456.234375)]
    [InlineData(-1000, 1000, 3, 0x3E8011UL, 0.004150390625)]
    [InlineData(1, 99999, 3, 0x0257C0UL, 2400)]
    [InlineData(-900, 900, 2, 0x1234UL, -608.75)]
    [InlineData(-90, 90, 4, 0x51000000UL, 72)]
    public void IMAPB_decodes_known_values(double min, double max, int length, ulong raw, double expected)
    {
        var map = Imapb.Create(min, max, length);
        Assert.Equal(expected, map.Decode(raw, out var special), 9);
        Assert.Equal(ImapbSpecial.None, special);
        Assert.Equal(raw, map.Encode(expected));
    }

    [Fact]
    public void IMAPB_makes_zero_exact_when_the_range_straddles_it()
    {
        var map = Imapb.Create(-19.2, 19.2, 3);
        Assert.Equal(0.0, map.Decode(map.Encode(0.0), out _), 12);
    }

    [Fact]
    public void IMAPB_special_values_round_trip()
    {
        var map = Imapb.Create(0, 100, 2);
        Assert.True(double.IsPositiveInfinity(map.Decode(map.Encode(double.PositiveInfinity), out var s1)));
        Assert.Equal(ImapbSpecial.PositiveInfinity, s1);
        Assert.True(double.IsNegativeInfinity(map.Decode(map.Encode(double.NegativeInfinity), out var s2)));
        Assert.Equal(ImapbSpecial.NegativeInfinity, s2);
        Assert.True(double.IsNaN(map.Decode(map.Encode(double.NaN), out var s3)));
        Assert.Equal(ImapbSpecial.PositiveQuietNaN, s3);
        Assert.Throws<ArgumentOutOfRangeException>(() => map.Encode(101));
    }

    [Fact]
    public void Schema_rejects_duplicate_tags()
    {
        Assert.Throws<ArgumentException>(() => new KlvSchema("x", null, KlvChecksumKind.None,
            [KlvTraits.UInt(1, "a", 1), KlvTraits.UInt(1, "b", 1)]));
    }

    [Fact]
    public void ST0601_table_covers_every_tag_from1_to143()
    {
        var tags = St0601.Schema.Tags.Select(t => t.Tag).ToArray();
        Assert.Equal(Enumerable.Range(1, 143), tags);
        Assert.All(St0601.Schema.Tags, t => Assert.False(string.IsNullOrWhiteSpace(t.Name)));
        // Only documented complex tags are raw: the deprecated covariance matrix and ST 1010 SDCC-FLP.
        Assert.Equal([66, 102], St0601.Schema.Tags.Where(t => t.Format == KlvFormat.Raw).Select(t => t.Tag));
        Assert.All(St0601.Schema.Tags.Where(t => t.Format == KlvFormat.Raw), t => Assert.NotNull(t.Note));
    }
}
