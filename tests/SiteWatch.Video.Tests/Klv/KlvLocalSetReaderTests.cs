using SiteWatch.Video.Klv;

namespace SiteWatch.Video.Tests.Klv;

public class KlvLocalSetReaderTests
{
    [KlvDataFact]
    public void Reader_agrees_with_the_decoder_on_every_numeric_item()
    {
        var compared = 0;
        var packets = TestData.KlvPacketsOf("h264_klv.ts").Select(p => p.Packet).Append(TestData.KlvBytes("DynamicOnlyMISMMSPacketData.bin"));
        foreach (var bytes in packets)
        {
            var packet = KlvDecoder.Decode(bytes);
            var set = packet.Set!;
            var reader = KlvLocalSetReader.ForPacket(bytes);
            var i = 0;
            while (reader.Read())
            {
                var item = set[i++];
                Assert.Equal(item.Tag, reader.Tag);
                Assert.Equal(item.ValueOffset, packet.ValueOffset + reader.ValueOffset);
                Assert.True(item.Value.Span.SequenceEqual(reader.Value));
                if (item.Kind is KlvValueKind.Double or KlvValueKind.Int64 or KlvValueKind.UInt64 or KlvValueKind.Timestamp or KlvValueKind.Enum or KlvValueKind.Flags)
                {
                    Assert.True(reader.TryGetDouble(out var d), $"tag {reader.Tag}");
                    Assert.Equal(item.AsDouble(), d);
                    compared++;
                }
                else if (item.Kind == KlvValueKind.String)
                {
                    Assert.Equal(item.AsString(), reader.GetString());
                }
            }

            Assert.Equal(set.Count, i);
        }

        Assert.True(compared > 30 * 80);
    }

    [KlvDataFact]
    public void Nested_sets_can_be_read_in_place()
    {
        var bytes = TestData.KlvBytes("DynamicConstantMISMMSPacketData.bin");
        var reader = KlvLocalSetReader.ForPacket(bytes);
        string? country = null;
        while (reader.Read())
        {
            if (reader.Tag == St0601.SecurityLocalSet)
            {
                var nested = reader.ReadNested();
                while (nested.Read())
                {
                    if (nested.Tag == 13)
                    {
                        country = nested.GetString();
                    }
                }
            }
        }

        Assert.Equal("USA", country);
    }

    [Fact]
    public void Reader_is_strict_about_structure()
    {
        var good = KlvEncoder.EncodePacket(St0601.Schema, [KlvField.Integer(2, 7), KlvField.OutOfRange(13), KlvField.Text(3, "M")]);
        var reader = KlvLocalSetReader.ForPacket(good);
        Assert.True(reader.Read());
        Assert.Equal(7, reader.GetInt64());
        Assert.True(reader.Read());
        Assert.False(reader.TryGetDouble(out _)); // error sentinel
        Assert.True(double.IsNaN(reader.GetDouble()));
        Assert.True(reader.Read());
        Assert.False(reader.TryGetDouble(out _)); // text
        Assert.Throws<KlvFormatException>(() =>
        {
            var r = KlvLocalSetReader.ForPacket(good);
            r.Read();
            r.Read();
            r.Read();
            return r.GetInt64();
        });

        var cut = good.AsSpan(0, good.Length - 3).ToArray();
        Assert.Throws<KlvFormatException>(() => KlvLocalSetReader.ForPacket(cut));
        var badItem = (byte[])good.Clone();
        badItem[18] = 0x7F; // tag 2's length now runs past the set
        Assert.Throws<KlvFormatException>(() =>
        {
            var r = KlvLocalSetReader.ForPacket(badItem);
            return r.Read();
        });
        Assert.Throws<KlvFormatException>(() => KlvLocalSetReader.ForPacket(new byte[40]));
    }

    [Fact]
    public void Fuzzed_input_only_ever_raises_KLV_format_exception()
    {
        var seed = KlvEncoder.EncodePacket(St0601.Schema,
            [KlvField.Integer(2, 1), KlvField.Number(13, 45), KlvField.Number(96, 100), KlvField.Set(48, [KlvField.Integer(1, 2)])]);
        var rng = new Random(17);
        var thrown = 0;
        for (var i = 0; i < 3000; i++)
        {
            var data = (byte[])seed.Clone();
            for (var k = rng.Next(1, 4); k > 0; k--)
            {
                data[rng.Next(data.Length)] = (byte)rng.Next(256);
            }

            try
            {
                var reader = KlvLocalSetReader.ForPacket(data.AsSpan(0, rng.Next(data.Length / 2, data.Length + 1)));
                while (reader.Read())
                {
                    reader.GetDouble();
                    if (reader.Traits?.Format == KlvFormat.Set)
                    {
                        var nested = reader.ReadNested();
                        while (nested.Read())
                        {
                            nested.GetDouble();
                        }
                    }
                }
            }
            catch (KlvFormatException)
            {
                thrown++;
            }
        }

        Assert.InRange(thrown, 1, 3000);
    }
}
