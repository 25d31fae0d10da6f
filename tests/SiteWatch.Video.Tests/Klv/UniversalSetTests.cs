using System.Text;
using System.Text.Json;
using SiteWatch.Video.Geo;
using SiteWatch.Video.Klv;
using SiteWatch.Video.Ts;

namespace SiteWatch.Video.Tests.Klv;

/// <summary>
/// EG 0104 (the Predator UAV Basic Universal Set older archives carry), ST 0601 and ST 0102 sent as universal sets,
/// unknown keys, and lengths of earlier ST 0601 versions.
/// </summary>
public class UniversalSetTests
{
    // A frame looking down and ahead from about 1500 m near Hamhung.
    private const double Lat = 39.9321, Lon = 127.4985, Alt = 1500, Heading = 30, Pitch = 2, Roll = -3;
    private const double RelAzimuth = 20, RelElevation = -60, Hfov = 12, Vfov = 6.75;

    private static readonly (double Lat, double Lon)[] s_corners =
        [(39.9401, 127.5102), (39.9420, 127.5160), (39.9370, 127.5190), (39.9350, 127.5130)];

    /// <summary>An EG 0104 packet written with our encoder, pointing given the way EG 0104 gives it (absolute).</summary>
    internal static byte[] Eg0104Packet(long micros = 1_700_000_000_000_000, double lat = Lat)
    {
        var (north, elevation, sensorRoll) = Eg0104Pointing.ToAbsolute(Heading, Pitch, Roll, RelAzimuth, RelElevation, 0);
        List<KlvField> fields =
        [
            KlvField.Integer(St0601.PrecisionTimeStamp, micros),
            KlvField.Text(3, "EPISODE 7"),
            KlvField.Text(10, "Predator"),
            KlvField.Number(St0601.PlatformHeading, Heading),
            KlvField.Number(St0601.PlatformPitch, Pitch),
            KlvField.Number(St0601.PlatformRoll, Roll),
            KlvField.Number(St0601.SensorLatitude, lat),
            KlvField.Number(St0601.SensorLongitude, Lon),
            KlvField.Number(St0601.SensorTrueAltitude, Alt),
            KlvField.Number(St0601.HorizontalFov, Hfov),
            KlvField.Number(St0601.VerticalFov, Vfov),
            KlvField.Number(St0601.FrameCenterLatitude, 39.9385),
            KlvField.Number(St0601.FrameCenterLongitude, 127.5145),
            KlvField.Number(St0601.FrameCenterElevation, 40),
            KlvField.Number(St0104.AngleToNorth, north),
            KlvField.Number(St0104.ObliquityAngle, Eg0104Pointing.ObliquityFromElevation(elevation)),
            KlvField.Number(St0104.SensorRollAngle, sensorRoll),
            KlvField.Text(St0104.StartDateTime, "20240614T083000"),
        ];
        for (var k = 0; k < 4; k++)
        {
            fields.Add(KlvField.Number(82 + 2 * k, s_corners[k].Lat));
            fields.Add(KlvField.Number(83 + 2 * k, s_corners[k].Lon));
        }

        return KlvEncoder.EncodePacket(St0104.Schema, fields);
    }

    [Fact]
    public void EG0104_packet_from_our_encoder_decodes_with_its_positions()
    {
        var bytes = Eg0104Packet();
        Assert.Equal(St0104.Key.ToString(), Convert.ToHexString(bytes, 0, 16));
        // Items are 16-byte keys: the first is the user defined time stamp's.
        var items = 16 + Ber.TryReadLength(bytes.AsSpan(16), out _);
        Assert.Equal("060E2B34010101010702010101050000", Convert.ToHexString(bytes.AsSpan(items, 16)));

        var packet = KlvDecoder.Decode(bytes);
        Assert.Same(St0104.Schema, packet.Schema);
        Assert.True(packet.IsPlatformTelemetry);
        Assert.Empty(packet.Problems);
        Assert.Equal(KlvChecksumStatus.NotApplicable, packet.ChecksumStatus);
        var set = packet.Set!;
        // Positions are IEEE doubles: exact.
        Assert.Equal(Lat, set.GetDouble(St0601.SensorLatitude));
        Assert.Equal(Lon, set.GetDouble(St0601.SensorLongitude));
        for (var k = 0; k < 4; k++)
        {
            Assert.Equal(s_corners[k].Lat, set.GetDouble(82 + 2 * k));
            Assert.Equal(s_corners[k].Lon, set.GetDouble(83 + 2 * k));
        }

        // Angles are floats.
        Assert.Equal(Heading, set.GetDouble(St0601.PlatformHeading), 5);
        Assert.Equal(Alt, set.GetDouble(St0601.SensorTrueAltitude), 3);
        Assert.Equal("Predator", set.GetString(10));
        Assert.Equal("20240614T083000", set.GetString(St0104.StartDateTime));
        Assert.True(set.TryGetItem(St0601.PrecisionTimeStamp, out var stamp));
        Assert.Equal(new DateTime(2023, 11, 14, 22, 13, 20, DateTimeKind.Utc), stamp.AsDateTime());
        Assert.True(set.TryGetItem(St0601.SensorLatitude, out var latItem));
        Assert.Equal("060E2B34010101030701020102040200", latItem.UniversalKey.ToString());
        Assert.Equal("Device Latitude", latItem.Name);
    }

    [Fact]
    public void EG0104_set_gives_the_same_camera_pose_and_footprint_as_the_equivalent_ST0601_pose()
    {
        var set = KlvDecoder.Decode(Eg0104Packet()).Set!;
        Assert.True(CameraPose.TryFromKlv(set, 1280, 720, out var pose, out var error), error);
        Assert.Equal(RelAzimuth, pose.SensorRelativeAzimuth, 3);
        Assert.Equal(RelElevation, pose.SensorRelativeElevation, 3);
        Assert.Equal(0, Math.IEEERemainder(pose.SensorRelativeRoll, 360), 3);
        Assert.Equal(HeightReference.Msl, pose.SensorHeightReference);
        Assert.Equal(40, pose.FrameCenterElevationMsl!.Value, 3);
        Assert.Equal(s_corners[2].Lat, pose.CornersFull![2].Latitude);
        Assert.Contains(pose.Notes, n => n.Contains("EG 0104", StringComparison.Ordinal));

        var reference = pose with
        {
            SensorRelativeAzimuth = RelAzimuth,
            SensorRelativeElevation = RelElevation,
            SensorRelativeRoll = 0,
            PlatformHeading = Heading,
            PlatformPitch = Pitch,
            PlatformRoll = Roll,
            HorizontalFov = Hfov,
            VerticalFov = Vfov,
        };
        var geoid = GeoidModel.Zero;
        var options = new GeolocationOptions { Geoid = geoid };
        var ours = FrameGeolocator.ForFrame(pose, null, options).ComputeFootprint();
        var expected = FrameGeolocator.ForFrame(reference, null, options).ComputeFootprint();
        Assert.True(ours.IsComplete);
        for (var k = 0; k < 4; k++)
        {
            var d = Wgs84.ToEnu(expected.Corners[k].Point, ours.Corners[k].Point);
            Assert.True(d.Length < 0.5, $"corner {k} off by {d.Length:0.00} m");
        }
    }

    [Fact]
    public void Pointing_conversions_invert_each_other()
    {
        foreach (var (h, p, r, az, el, ro) in new[] { (30.0, 2.0, -3.0, 20.0, -60.0, 0.0), (300.0, -10.0, 25.0, 270.0, -5.0, 10.0), (0.0, 0.0, 0.0, 0.0, -89.0, 0.0) })
        {
            var (north, elevation, roll) = Eg0104Pointing.ToAbsolute(h, p, r, az, el, ro);
            var back = Eg0104Pointing.ToRelative(h, p, r, north, elevation, roll);
            Assert.Equal(el, back.Elevation, 6);
            if (Math.Abs(el) < 89)
            {
                Assert.Equal(0, Math.IEEERemainder(back.Azimuth - az, 360), 6);
                Assert.Equal(0, Math.IEEERemainder(back.Roll - ro, 360), 6);
            }
        }

        Assert.Equal(-90, Eg0104Pointing.ElevationFromObliquity(270));
        Assert.Equal(0, Eg0104Pointing.ElevationFromObliquity(180));
        Assert.Equal(238, Eg0104Pointing.ObliquityFromElevation(-58));
    }

    [Fact]
    public void Unknown_item_keys_and_unknown_packet_keys_are_listed_with_key_and_length()
    {
        // An EG 0104 set with an item whose key no table knows: kept, with its key and length.
        var unknownItem = Convert.FromHexString("060E2B340101010107010A0101000000" + "03" + "ABCDEF");
        var known = Eg0104Packet();
        var lengthBytes = Ber.TryReadLength(known.AsSpan(16), out _);
        var value = known.AsSpan(16 + lengthBytes).ToArray().Concat(unknownItem).ToArray();
        var packet = KlvPacket(St0104.Key, value);
        var decoded = KlvDecoder.Decode(packet);
        Assert.Empty(decoded.Problems);
        var last = decoded.Set!.AsSpan()[^1];
        Assert.Equal(KlvValueKind.Unknown, last.Kind);
        Assert.Equal("060E2B340101010107010A0101000000", last.UniversalKey.ToString());
        Assert.Equal(3, last.Length);

        // A packet whose key no table knows, in a raw KLV file: listed as unknown with its key and length.
        var strangeKey = KlvKey.Parse("060E2B34020101010E01FFFF01000000");
        var file = KlvPacket(strangeKey, [1, 2, 3, 4]).Concat(packet).ToArray();
        using var input = new MemoryStream(file);
        using var json = new StringWriter();
        var summary = KlvDump.WriteJson(input, false, json);
        Assert.Equal(2, summary.Packets);
        using var doc = JsonDocument.Parse(json.ToString());
        var first = doc.RootElement[0];
        Assert.Equal("Unknown key", first.GetProperty("name").GetString());
        Assert.Equal(strangeKey.ToString(), first.GetProperty("key").GetString());
        Assert.Equal(21, first.GetProperty("length").GetInt32());
        var second = doc.RootElement[1];
        Assert.Equal(St0104.Name, second.GetProperty("name").GetString());
        var items = second.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal("060E2B340101010107010A0101000000", items[^1].GetProperty("key").GetString());
        Assert.Contains(items, i => i.GetProperty("name").GetString() == "Device Latitude" && i.GetProperty("value").GetDouble() == Lat);

        using var text = new StringWriter();
        using var again = new MemoryStream(file);
        KlvDump.WriteText(again, false, text);
        Assert.Contains("unknown key 060E2B340101010107010A0101000000, 3 bytes", text.ToString());
    }

    [Fact]
    public void Ten_seconds_of_EG0104_in_a_transport_stream_give_every_packet()
    {
        using var ts = new MemoryStream();
        var muxer = new TsMuxer(ts, new TsMuxerOptions { Klv = KlvTransport.Async });
        for (var i = 0; i < 300; i++)
        {
            var pts = 126_000 + i * 3000L;
            muxer.WriteVideo(new byte[] { 0, 0, 0, 1, 9, 0xF0 }, pts, keyframe: i % 30 == 0);
            muxer.WriteKlv(Eg0104Packet(1_700_000_000_000_000 + i * 33_333L, Lat + i * 1e-6), pts);
        }

        muxer.Flush();
        ts.Position = 0;
        using var json = new StringWriter();
        var summary = KlvDump.WriteJson(ts, true, json);
        Assert.Equal(300, summary.Packets);
        Assert.Equal(0, summary.PacketsWithProblems);
        using var doc = JsonDocument.Parse(json.ToString());
        Assert.All(doc.RootElement.EnumerateArray(), p => Assert.Equal(St0104.Name, p.GetProperty("name").GetString()));
        Assert.Equal(Lat + 299e-6, doc.RootElement[299].GetProperty("items").EnumerateArray()
            .First(i => i.GetProperty("tag").GetInt32() == St0601.SensorLatitude).GetProperty("value").GetDouble());
    }

    [Fact]
    public void ST0601_as_a_universal_set_maps_item_keys_to_local_set_tags()
    {
        KlvField[] fields =
        [
            KlvField.Integer(St0601.PrecisionTimeStamp, 1_700_000_000_000_000),
            KlvField.Number(St0601.PlatformHeading, 159.974), KlvField.Number(St0601.SensorLatitude, 60.176822966978335),
            KlvField.Number(St0601.SensorTrueAltitude, 14190.72), KlvField.Number(82, -10.5427), KlvField.Text(3, "MISSION01"),
        ];
        var universal = KlvDecoder.Decode(KlvEncoder.EncodePacket(St0601.UniversalSchema, fields));
        var local = KlvDecoder.Decode(KlvEncoder.EncodePacket(St0601.Schema, fields));
        Assert.Same(St0601.UniversalSchema, universal.Schema);
        Assert.True(universal.IsPlatformTelemetry);
        Assert.Empty(universal.Problems);
        foreach (var f in fields.Where(f => f.Tag != 3))
        {
            Assert.Equal(local.Set!.GetDouble(f.Tag), universal.Set!.GetDouble(f.Tag));
        }

        Assert.Equal("MISSION01", universal.Set!.GetString(3));
        Assert.True(universal.Set.TryGetItem(13, out var item));
        Assert.Equal("Sensor Latitude", item.Name);
        Assert.Equal(St0601.UniversalSchema.ItemKeyOf(13), item.UniversalKey);
    }

    [Fact]
    public void ST0102_as_a_universal_set_decodes_its_text()
    {
        var bytes = KlvEncoder.EncodePacket(St0102.UniversalSchema,
            [KlvField.Text(1, "UNCLASSIFIED//"), KlvField.Text(2, "ISO-3166 Two Letter"), KlvField.Text(3, "//KR"), KlvField.Integer(22, 12)]);
        var packet = KlvDecoder.Decode(bytes);
        Assert.Same(St0102.UniversalSchema, packet.Schema);
        Assert.Empty(packet.Problems);
        Assert.Equal("UNCLASSIFIED//", packet.Set!.GetString(1));
        Assert.Equal("//KR", packet.Set.GetString(3));
        Assert.Equal(12, packet.Set.GetDouble(22));
    }

    [Fact]
    public void Truncated_universal_set_keeps_the_rest_raw_with_a_problem()
    {
        var bytes = Eg0104Packet();
        var cut = KlvPacket(St0104.Key, bytes.AsSpan(bytes.Length - 40, 30).ToArray());
        var packet = KlvDecoder.Decode(cut);
        Assert.NotEmpty(packet.Problems);
        Assert.Contains(packet.Set!.AsSpan().ToArray(), i => i.Kind == KlvValueKind.Invalid);
    }

    [Fact]
    public void Target_width_in_four_bytes_as_version_one_packets_send_it_decodes_without_a_problem()
    {
        var v1 = KlvDecoder.Decode(KlvEncoder.EncodePacket(St0601.Schema,
            [KlvField.Integer(St0601.PrecisionTimeStamp, 1_245_257_585_099_653), KlvField.Integer(St0601.UasLsVersion, 1), KlvField.Number(22, 1234.5, length: 4)]));
        Assert.Empty(v1.Problems);
        Assert.True(v1.Set!.TryGetItem(22, out var width));
        Assert.Equal(4, width.Length);
        Assert.Equal(1234.5, width.AsDouble(), 3);

        // A length no version of the standard used is still reported.
        var odd = KlvDecoder.Decode(KlvEncoder.EncodePacket(St0601.Schema,
            [KlvField.Integer(St0601.PrecisionTimeStamp, 1_245_257_585_099_653), KlvField.Number(22, 1234.5, length: 3)]));
        Assert.Contains(odd.Problems, p => p.Kind == KlvProblemKind.LengthMismatch && p.Tag == 22);
        Assert.Contains("version 1", St0601.Schema[22]!.LegacyNote, StringComparison.Ordinal);
    }

    private static byte[] KlvPacket(KlvKey key, byte[] value)
    {
        var length = new byte[9];
        var n = Ber.WriteLength(length, value.Length);
        var bytes = new byte[16 + n + value.Length];
        key.CopyTo(bytes);
        length.AsSpan(0, n).CopyTo(bytes.AsSpan(16));
        value.CopyTo(bytes, 16 + n);
        return bytes;
    }
}
