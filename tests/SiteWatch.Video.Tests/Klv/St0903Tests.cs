using SiteWatch.Video.Klv;

namespace SiteWatch.Video.Tests.Klv;

public class St0903Tests
{
    [KlvDataFact]
    public void Jmisb_file_holds_five_VMTI_sets_with_targets()
    {
        var bytes = TestData.KlvBytes("st0903_jmisb.bin");
        var slices = KlvPacketSplitter.Split(bytes).ToList();
        Assert.Equal(5, slices.Count);
        Assert.All(slices, s => Assert.Equal(KlvSliceStatus.Complete, s.Status));
        Assert.Equal(650, slices.Sum(s => s.Bytes.Length));

        var targetIds = new List<ulong>();
        foreach (var slice in slices)
        {
            var packet = KlvDecoder.Decode(slice.Bytes);
            Assert.Equal(St0903.Schema, packet.Schema);
            Assert.True(packet.ChecksumOk);
            Assert.Empty(packet.Problems);
            var set = packet.Set!;
            Assert.Equal("Example Targeting System", set.GetString(3));
            Assert.Equal(4, set.GetDouble(4));
            Assert.Equal(1000, set.GetDouble(8));
            Assert.Equal(600, set.GetDouble(9));
            Assert.Equal("EO Nose", set.GetString(10));
            Assert.True(set.TryGetItem(St0903.VTargetSeries, out var series));
            var targets = series.AsSeries()!;
            Assert.Equal(2, targets.Count);
            foreach (var target in targets)
            {
                targetIds.Add(target.Id!.Value);
                var centroid = target.Set.GetDouble(1);
                Assert.InRange(centroid, 0, 1000 * 600);
                Assert.InRange(target.Set.GetDouble(5), 0, 100);
                Assert.Equal(St0903.VTarget, target.Set.Schema);
            }
        }

        Assert.Equal(Enumerable.Range(0, 10).Select(i => (ulong)i), targetIds);
    }

    [KlvDataFact]
    public void Kwiver_VMTI_set_decodes_tracker_locations_and_velocity()
    {
        var packet = KlvDecoder.Decode(TestData.KlvPacketsOf("h264_klv.ts")[0].Packet);
        Assert.True(packet.Set!.TryGetItem(St0601.VmtiLocalSet, out var vmti));
        var targets = vmti.AsSet()!.First(i => i.Tag == St0903.VTargetSeries).AsSeries()!;
        var target = targets.Single(t => t.Id == 1234).Set;
        Assert.Equal(10.0, target.GetDouble(10), 9); // IMAPB(-19.2, 19.2, 3)
        Assert.Equal(10000.0, target.GetDouble(12), 9);
        Assert.True(target.TryGetItem(104, out var tracker));
        var t = tracker.AsSet()!;
        Assert.True(t.TryGetItem(9, out var history));
        var points = Assert.IsType<List<object?>>(history.AsStructured());
        Assert.Equal(3, points.Count);
        var first = Assert.IsType<KlvStruct>(points[0]);
        Assert.Equal(72.0, (double)first["latitude"]!, 9);
        Assert.Equal(73.0, (double)first["longitude"]!, 9);
        Assert.Equal(900.0, (double)first["altitude"]!, 9);
        Assert.True(t.TryGetItem(10, out var velocity));
        var v = Assert.IsType<KlvStruct>(velocity.AsStructured());
        Assert.Equal(-608.75, (double)v["east"]!, 9);
        Assert.True(t.TryGetItem(1, out var trackId));
        Assert.Equal("F81D4FAE7DEC11D0A76500A0C91E6BF6", Convert.ToHexString(trackId.Value.Span));
    }

    [Fact]
    public void Standalone_VMTI_packet_round_trips_with_checksum()
    {
        var bytes = KlvEncoder.EncodePacket(St0903.Schema,
        [
            KlvField.Integer(2, 1_664_769_469_971_288),
            KlvField.Text(3, "SiteWatch"),
            KlvField.Integer(8, 1920),
            KlvField.Integer(9, 1080),
            KlvField.Number(11, 12.5),
            KlvField.IdSeries(St0903.VTargetSeries,
            [
                (42UL, [KlvField.Integer(1, 1920 * 540 + 960), KlvField.Integer(5, 87), KlvField.Integer(19, 540), KlvField.Integer(20, 960),
                    KlvField.Bytes(17, Location(51.5, -0.12, 35)), KlvField.Integer(22, 3)]),
            ]),
            KlvField.Series(St0903.OntologySeries, [[KlvField.Integer(1, 3), KlvField.Text(3, "https://example.org/vehicle")]]),
        ]);

        var packet = KlvDecoder.Decode(bytes);
        Assert.True(packet.ChecksumOk);
        Assert.Empty(packet.Problems);
        var target = packet.Set!.First(i => i.Tag == 101).AsSeries()!.Single();
        Assert.Equal(42UL, target.Id);
        Assert.Equal(87, target.Set.GetDouble(5));
        Assert.True(target.Set.TryGetItem(17, out var location));
        var loc = Assert.IsType<KlvStruct>(location.AsStructured());
        Assert.Equal(51.5, (double)loc["latitude"]!, 6);
        Assert.Equal(-0.12, (double)loc["longitude"]!, 6);
        Assert.Equal(35, (double)loc["altitude"]!, 0);
        Assert.Equal(12.5, packet.Set!.GetDouble(11), 9);
    }

    private static byte[] Location(double lat, double lon, double hae)
    {
        var b = new byte[10];
        KlvPrimitivesForTests.WriteUInt(b.AsSpan(0, 4), Imapb.Create(-90, 90, 4).Encode(lat));
        KlvPrimitivesForTests.WriteUInt(b.AsSpan(4, 4), Imapb.Create(-180, 180, 4).Encode(lon));
        KlvPrimitivesForTests.WriteUInt(b.AsSpan(8, 2), Imapb.Create(-900, 19000, 2).Encode(hae));
        return b;
    }
}

internal static class KlvPrimitivesForTests
{
    public static void WriteUInt(Span<byte> d, ulong v)
    {
        for (var i = d.Length - 1; i >= 0; i--)
        {
            d[i] = (byte)v;
            v >>= 8;
        }
    }
}
