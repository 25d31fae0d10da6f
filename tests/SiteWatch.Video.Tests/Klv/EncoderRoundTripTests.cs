using SiteWatch.Video.Klv;
using Xunit.Abstractions;

namespace SiteWatch.Video.Tests.Klv;

/// <summary>Decode, rebuild every item through the encoder, and get the same bytes back.</summary>
public class EncoderRoundTripTests(ITestOutputHelper output)
{
    /// <summary>Turns a decoded set back into encoder fields, using each tag's own representation.</summary>
    internal static List<KlvField> ToFields(KlvLocalSet set, Dictionary<string, int> usage)
    {
        var fields = new List<KlvField>();
        foreach (var item in set)
        {
            var t = item.Traits;
            var (field, how) = item.Kind switch
            {
                KlvValueKind.Empty => (KlvField.Empty(item.Tag), "empty"),
                KlvValueKind.Double when t!.Format is KlvFormat.UIntMapped or KlvFormat.IntMapped or KlvFormat.Imapb or KlvFormat.Float
                    => (KlvField.Number(item.Tag, item.AsDouble(), item.Length), t.Format.ToString()),
                KlvValueKind.OutOfRange => (KlvField.OutOfRange(item.Tag, item.Length), "sentinel"),
                KlvValueKind.Int64 or KlvValueKind.UInt64 or KlvValueKind.Enum or KlvValueKind.Flags or KlvValueKind.Timestamp
                    => (KlvField.Integer(item.Tag, item.AsInt64(), t!.Format == KlvFormat.BerOid ? 0 : item.Length), t.Format.ToString()),
                KlvValueKind.String => (KlvField.Text(item.Tag, item.AsString()!), "text"),
                KlvValueKind.Set => (KlvField.Set(item.Tag, ToFields(item.AsSet()!, usage)), "set"),
                KlvValueKind.Series when t!.Format == KlvFormat.IdSeries
                    => (KlvField.IdSeries(item.Tag, item.AsSeries()!.Select(e => (e.Id!.Value, (IReadOnlyList<KlvField>)ToFields(e.Set, usage))).ToList()), "id series"),
                KlvValueKind.Series => (KlvField.Series(item.Tag, item.AsSeries()!.Select(e => (IReadOnlyList<KlvField>)ToFields(e.Set, usage)).ToList()), "series"),
                KlvValueKind.Struct when t!.CustomEncoder is not null => (KlvField.Structured(item.Tag, item.AsStructured()), "pack"),
                _ => (KlvField.Bytes(item.Tag, item.Value), "bytes"),
            };
            usage[how] = usage.GetValueOrDefault(how) + 1;
            fields.Add(field);
        }

        return fields;
    }

    [KlvDataTheory]
    [InlineData("h264_klv.ts")]
    [InlineData("h265_klv.ts")]
    [InlineData("mpeg2_klv.ts")]
    public void Every_clip_packet_reencodes_byte_for_byte(string clip)
    {
        var usage = new Dictionary<string, int>();
        foreach (var (_, original) in TestData.KlvPacketsOf(clip))
        {
            var packet = KlvDecoder.Decode(original);
            var rebuilt = KlvEncoder.EncodePacket(St0601.Schema, ToFields(packet.Set!, usage));
            Assert.Equal(Convert.ToHexString(original), Convert.ToHexString(rebuilt));
        }

        output.WriteLine(string.Join(", ", usage.OrderBy(u => u.Key).Select(u => $"{u.Key} {u.Value}")));
        // Every ST 0601 pack went through its structured encoder, not raw bytes.
        Assert.True(usage["pack"] >= 30 * 14);
    }

    [KlvDataFact]
    public void VMTI_sets_reencode_byte_for_byte()
    {
        var usage = new Dictionary<string, int>();
        foreach (var slice in KlvPacketSplitter.Split(TestData.KlvBytes("st0903_jmisb.bin")))
        {
            var packet = KlvDecoder.Decode(slice.Bytes);
            Assert.Equal(slice.Bytes.ToArray(), KlvEncoder.EncodePacket(St0903.Schema, ToFields(packet.Set!, usage)));
        }
    }

    [Fact]
    public void Structured_values_can_be_built_by_hand()
    {
        var waypoints = new List<object?>
        {
            new KlvStruct().Add("id", 0L).Add("order", 1L).Add("info", new List<object?> { 0L })
                .Add("location", new KlvStruct().Add("latitude", 38.8894).Add("longitude", -77.0352).Add("altitude", 200.0)),
            new KlvStruct().Add("id", 1L).Add("order", -2L).Add("info", new List<object?>()).Add("location", null),
        };
        var bytes = KlvEncoder.EncodePacket(St0601.Schema,
        [
            KlvField.Integer(2, 1),
            KlvField.Structured(141, waypoints),
            KlvField.Structured(127, new KlvStruct().Add("numerator", 30000L).Add("denominator", 1001L)),
            KlvField.Structured(139, new List<object?> { 2L, 9L }),
        ]);
        var set = KlvDecoder.Decode(bytes).Set!;
        var decoded = (List<object?>)set.First(i => i.Tag == 141).AsStructured()!;
        var first = (KlvStruct)decoded[0]!;
        Assert.Equal(38.8894, (double)((KlvStruct)first["location"]!)["latitude"]!, 6);
        Assert.Null(((KlvStruct)decoded[1]!)["location"]);
        Assert.Equal(-2L, ((KlvStruct)decoded[1]!)["order"]);
        Assert.Equal(1001L, ((KlvStruct)set.First(i => i.Tag == 127).AsStructured()!)["denominator"]);
        Assert.Equal(new object?[] { 2L, 9L }, (List<object?>)set.First(i => i.Tag == 139).AsStructured()!);
        Assert.Throws<ArgumentException>(() => KlvEncoder.EncodePacket(St0601.Schema, [KlvField.Structured(127, "thirty")]));
    }
}
