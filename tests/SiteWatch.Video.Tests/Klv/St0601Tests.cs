using SiteWatch.Video.Klv;

namespace SiteWatch.Video.Tests.Klv;

public class St0601Tests
{
    [KlvDataFact]
    public void Dynamic_only_packet_has_the_known_values()
    {
        var packet = KlvDecoder.Decode(TestData.KlvBytes("DynamicOnlyMISMMSPacketData.bin"));
        Assert.Equal(St0601.Schema, packet.Schema);
        Assert.Empty(packet.Problems);
        Assert.Equal(KlvChecksumStatus.Valid, packet.ChecksumStatus);
        Assert.Equal((ushort)0xC850, packet.ReceivedChecksum);
        Assert.Equal((ushort)0xC850, packet.ComputedChecksum);

        var set = packet.Set!;
        Assert.Equal(60.176822966978335, set.GetDouble(St0601.SensorLatitude), 12);
        Assert.Equal(14190.72, set.GetDouble(St0601.SensorTrueAltitude), 2);
        Assert.Equal(144.5713, set.GetDouble(St0601.HorizontalFov), 4);
        Assert.Equal(159.974, set.GetDouble(St0601.PlatformHeading), 3);
        Assert.True(set.TryGetItem(St0601.PrecisionTimeStamp, out var ts));
        Assert.Equal(KlvValueKind.Timestamp, ts.Kind);
        Assert.Equal(St0601.PrecisionTimeStamp, set[0].Tag);
        Assert.Equal(St0601.Checksum, set[set.Count - 1].Tag);
        // Every item decoded by the table: nothing raw, unknown or invalid.
        Assert.All(set, i => Assert.True(i.IsNumber || i.Kind == KlvValueKind.String, i.ToString()));
    }

    [KlvDataFact]
    public void Dynamic_constant_packet_decodes_nested_security_set_and_miis_id()
    {
        var packet = KlvDecoder.Decode(TestData.KlvBytes("DynamicConstantMISMMSPacketData.bin"));
        // This public sample carries a wrong checksum (0xAA43; the running sum is 0x3E1E, checked independently):
        // it must be flagged with its position, and everything else still decoded.
        Assert.Equal(KlvChecksumStatus.Invalid, packet.ChecksumStatus);
        Assert.Equal((ushort)0xAA43, packet.ReceivedChecksum);
        Assert.Equal((ushort)0x3E1E, packet.ComputedChecksum);
        var problem = Assert.Single(packet.Problems);
        Assert.Equal(KlvProblemKind.ChecksumMismatch, problem.Kind);
        Assert.Equal(224, problem.Offset);
        var set = packet.Set!;
        Assert.Equal("Mission 12", set.GetString(3));
        Assert.Equal("Predator", set.GetString(10));
        Assert.True(set.TryGetItem(St0601.SecurityLocalSet, out var security));
        var sec = security.AsSet()!;
        Assert.Equal(St0102.Schema, sec.Schema);
        Assert.True(sec.TryGetItem(1, out var classification));
        Assert.Equal("UNCLASSIFIED", classification.Label);
        Assert.Equal("//USA", sec.GetString(3));
        Assert.Equal("USA", sec.GetString(13)); // UTF-16BE object country codes
        Assert.Equal(10, sec.GetDouble(22));
        Assert.True(set.TryGetItem(94, out var miis));
        var core = Assert.IsType<KlvStruct>(miis.AsStructured());
        Assert.Equal(1L, core["version"]);
        Assert.Equal("F592F02373364AF8AA9162C00F2EB2DA", core["sensor_id"]!.ToString());
        Assert.Equal(6, set.GetDouble(St0601.UasLsVersion));
    }

    [KlvDataFact]
    public void Reused_packet_decodes_the_same_as_a_fresh_one()
    {
        var a = TestData.KlvBytes("DynamicOnlyMISMMSPacketData.bin");
        var b = TestData.KlvBytes("DynamicConstantMISMMSPacketData.bin");
        var reused = new KlvPacket();
        KlvDecoder.Decode(b, reused);
        KlvDecoder.Decode(a, reused);
        var fresh = KlvDecoder.Decode(a);
        Assert.Equal(fresh.Set!.Count, reused.Set!.Count);
        for (var i = 0; i < fresh.Set.Count; i++)
        {
            Assert.Equal(fresh.Set[i].Tag, reused.Set[i].Tag);
            Assert.Equal(fresh.Set[i].AsDouble(), reused.Set[i].AsDouble());
        }

        Assert.True(reused.ChecksumOk);
    }

    [KlvDataFact]
    public void Encoder_reproduces_the_reference_packet_byte_for_byte()
    {
        // Decode, rebuild from the decoded values through the table, and compare bytes: proves the
        // encoder's mapping, lengths and checksum are the inverse of the decoder's.
        var original = TestData.KlvBytes("DynamicOnlyMISMMSPacketData.bin");
        var set = KlvDecoder.Decode(original).Set!;
        var fields = new List<KlvField>();
        foreach (var item in set)
        {
            fields.Add(item.Kind switch
            {
                KlvValueKind.Double => KlvField.Number(item.Tag, item.AsDouble(), item.Length),
                KlvValueKind.String => KlvField.Text(item.Tag, item.AsString()!),
                _ => KlvField.Integer(item.Tag, item.AsInt64(), item.Length),
            });
        }

        Assert.Equal(original, KlvEncoder.EncodePacket(St0601.Schema, fields));
    }

    [Fact]
    public void Every_numeric_tag_round_trips_within_its_quantisation_step()
    {
        var rng = new Random(20240601);
        var checkedValues = 0;
        foreach (var t in St0601.Schema.Tags.Where(t => t.IsNumeric && t.Tag != St0601.Checksum))
        {
            foreach (var length in LengthsToTry(t))
            {
                foreach (var value in ValuesToTry(t, length, rng))
                {
                    var field = t.Format is KlvFormat.UIntMapped or KlvFormat.IntMapped or KlvFormat.Imapb or KlvFormat.Float
                        ? KlvField.Number(t.Tag, value, length)
                        : KlvField.Integer(t.Tag, (long)value, length);
                    List<KlvField> fields = t.Tag is 2 or 65 ? [field] : [KlvField.Integer(2, 1_700_000_000_000_000), field, KlvField.Integer(65, St0601.Version)];
                    var bytes = KlvEncoder.EncodePacket(St0601.Schema, fields);
                    var packet = KlvDecoder.Decode(bytes);
                    Assert.True(packet.ChecksumOk, $"tag {t.Tag}");
                    Assert.Empty(packet.Problems);
                    Assert.True(packet.Set!.TryGetItem(t.Tag, out var item));
                    var step = t.Resolution(item.Length);
                    var error = Math.Abs(item.AsDouble() - value);
                    Assert.True(error <= step * (1 + 1e-9) + 1e-12 * Math.Abs(value),
                        $"tag {t.Tag} {t.Name}: wrote {value} in {item.Length} bytes, read {item.AsDouble()}, step {step}");
                    checkedValues++;
                }
            }
        }

        Assert.True(checkedValues > 1000, $"only {checkedValues} values checked");
    }

    private static IEnumerable<int> LengthsToTry(KlvTagTraits t) => t.Format switch
    {
        KlvFormat.Imapb => Enumerable.Range(1, 8),
        _ => [0],
    };

    private static IEnumerable<double> ValuesToTry(KlvTagTraits t, int length, Random rng)
    {
        switch (t.Format)
        {
            case KlvFormat.UIntMapped:
            case KlvFormat.IntMapped:
            case KlvFormat.Imapb:
                yield return t.Min;
                yield return t.Max;
                yield return (t.Min + t.Max) / 2;
                if (t.Min < 0 && t.Max > 0)
                {
                    yield return 0;
                }

                for (var i = 0; i < 20; i++)
                {
                    yield return t.Min + rng.NextDouble() * (t.Max - t.Min);
                }

                break;
            case KlvFormat.Enum:
                foreach (var v in t.Labels!.Keys)
                {
                    yield return v;
                }

                break;
            case KlvFormat.Flags:
                for (var i = 0; i < 8; i++)
                {
                    yield return rng.Next(0, 1 << Math.Min(8, t.Labels!.Count));
                }

                break;
            case KlvFormat.Int:
            {
                var bits = 8 * t.Length - 1;
                yield return -(1L << bits);
                yield return (1L << bits) - 1;
                yield return 0;
                break;
            }

            case KlvFormat.Timestamp:
                yield return 0;
                yield return 1_700_000_000_123_456;
                yield return 9_007_199_254_740_992; // 2^53: still exact as a double
                break;
            default:
            {
                var bits = Math.Min(52, 8 * t.Length);
                yield return 0;
                yield return (1L << bits) - 1;
                for (var i = 0; i < 5; i++)
                {
                    yield return rng.NextInt64(0, 1L << bits);
                }

                break;
            }
        }
    }

    [Fact]
    public void Signed_mapped_error_sentinel_is_reported_as_out_of_range()
    {
        var bytes = KlvEncoder.EncodePacket(St0601.Schema,
            [KlvField.Integer(2, 1), KlvField.OutOfRange(St0601.SensorLatitude), KlvField.Number(St0601.PlatformPitch, double.NaN)]);
        var set = KlvDecoder.Decode(bytes).Set!;
        Assert.True(set.TryGetItem(St0601.SensorLatitude, out var lat));
        Assert.Equal(KlvValueKind.OutOfRange, lat.Kind);
        Assert.Equal(new byte[] { 0x80, 0, 0, 0 }, lat.Value.ToArray());
        Assert.True(double.IsNaN(lat.AsDouble()));
        Assert.True(set.TryGetItem(St0601.PlatformPitch, out var pitch));
        Assert.Equal(KlvValueKind.OutOfRange, pitch.Kind);
    }

    [Fact]
    public void Encoder_rejects_values_outside_the_mapped_range()
    {
        Assert.Throws<ArgumentException>(() => KlvEncoder.EncodePacket(St0601.Schema, [KlvField.Number(St0601.PlatformHeading, 361)]));
        Assert.Throws<ArgumentException>(() => KlvEncoder.EncodePacket(St0601.Schema, [KlvField.Number(St0601.SensorLatitude, -90.1)]));
        Assert.Throws<ArgumentException>(() => KlvEncoder.EncodePacket(St0601.Schema, [KlvField.Number(200, 1)]));
        Assert.Throws<ArgumentException>(() => KlvEncoder.EncodePacket(St0601.Schema, [KlvField.Text(St0601.PlatformHeading, "north")]));
        Assert.Throws<ArgumentException>(() => KlvEncoder.EncodePacket(St0601.Schema, [KlvField.Integer(65, 256)]));
    }

    [Fact]
    public void Nested_sets_and_series_round_trip_through_the_encoder()
    {
        var bytes = KlvEncoder.EncodePacket(St0601.Schema,
        [
            KlvField.Integer(2, 1_600_000_000_000_000),
            KlvField.Set(St0601.SecurityLocalSet, [KlvField.Integer(1, 1), KlvField.Integer(2, 13), KlvField.Text(13, "GB")]),
            KlvField.Set(St0601.VmtiLocalSet,
            [
                KlvField.Integer(5, 3),
                KlvField.IdSeries(St0903.VTargetSeries,
                [
                    (7UL, [KlvField.Integer(1, 123456), KlvField.Integer(5, 90), KlvField.Number(12, 1234.5)]),
                    (300UL, [KlvField.Set(104, [KlvField.Integer(2, 1), KlvField.Text(6, "kcf")])]),
                ]),
                KlvField.Series(St0903.AlgorithmSeries, [[KlvField.Integer(1, 4), KlvField.Text(2, "yolo")]]),
            ]),
            KlvField.Number(96, 13898.5),
            KlvField.Bytes(139, new byte[] { 0x0B }),
            KlvField.Integer(65, St0601.Version),
        ]);

        var packet = KlvDecoder.Decode(bytes);
        Assert.True(packet.ChecksumOk);
        Assert.Empty(packet.Problems);
        var set = packet.Set!;
        set.TryGetItem(St0601.SecurityLocalSet, out var sec);
        Assert.Equal("GB", sec.AsSet()!.GetString(13));
        set.TryGetItem(St0601.VmtiLocalSet, out var vmti);
        var targets = vmti.AsSet()!.First(i => i.Tag == St0903.VTargetSeries).AsSeries()!;
        Assert.Equal([7UL, 300UL], targets.Select(t => t.Id!.Value));
        Assert.Equal(123456, targets[0].Set.GetDouble(1));
        Assert.InRange(targets[0].Set.GetDouble(12), 1234.5 - 1.0, 1234.5); // IMAPB(-900, 19000, 2): 1 m steps
        Assert.Equal("kcf", targets[1].Set[0].AsSet()!.GetString(6));
        Assert.Equal(13898.5, set.GetDouble(96));
        Assert.Equal(new object?[] { 0L, 1L, 3L }, (List<object?>)set.First(i => i.Tag == 139).AsStructured()!);
    }
}
