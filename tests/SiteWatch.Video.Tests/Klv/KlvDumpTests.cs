using System.Text.Json;
using SiteWatch.Video.Klv;

namespace SiteWatch.Video.Tests.Klv;

public class KlvDumpTests
{
    private static JsonElement Json(string path, out KlvDumpSummary summary)
    {
        var writer = new StringWriter();
        summary = KlvDump.WriteJson(path, writer);
        using var doc = JsonDocument.Parse(writer.ToString());
        return doc.RootElement.Clone();
    }

    private static JsonElement Item(JsonElement packet, int tag) =>
        packet.GetProperty("items").EnumerateArray().First(i => i.GetProperty("tag").GetInt32() == tag);

    [KlvDataFact]
    public void JSON_of_a_transport_stream_has_one_object_per_packet()
    {
        var root = Json(TestData.Klv("h264_klv.ts"), out var summary);
        Assert.Equal(JsonValueKind.Array, root.ValueKind);
        Assert.Equal(30, root.GetArrayLength());
        Assert.Equal(30, summary.Packets);
        Assert.Equal(0, summary.ChecksumFailures);
        Assert.True(summary.IsTransportStream);
        Assert.Equal(0, summary.Transport!.TotalErrors);

        var first = root[0];
        Assert.Equal(JsonValueKind.Null, first.GetProperty("pts").ValueKind);
        Assert.Equal(JsonValueKind.Null, first.GetProperty("time").ValueKind);
        Assert.Equal("060E2B34020B01010E01030101000000", first.GetProperty("key").GetString());
        Assert.Equal(St0601.Name, first.GetProperty("name").GetString());
        Assert.True(first.GetProperty("checksum_ok").GetBoolean());
        Assert.Equal(0x101, first.GetProperty("pid").GetInt32());

        var ts = Item(first, 2);
        Assert.Equal("Precision Time Stamp", ts.GetProperty("name").GetString());
        Assert.Equal(1224807209913000, ts.GetProperty("value").GetInt64());
        Assert.Equal("us", ts.GetProperty("units").GetString());
        Assert.Equal("2008-10-24T00:13:29.913000Z", ts.GetProperty("utc").GetString());
        Assert.Equal(60.176822966978335, Item(first, 13).GetProperty("value").GetDouble());
        Assert.Equal("deg", Item(first, 13).GetProperty("units").GetString());
        Assert.Equal("Medium", Item(first, 63).GetProperty("label").GetString());
        Assert.Equal(["Laser Range", "Slant Range", "Image Invalid"], Item(first, 47).GetProperty("flags").EnumerateArray().Select(f => f.GetString()));

        // Nested sets are packet-like objects in "value".
        var security = Item(first, 48).GetProperty("value");
        Assert.Equal(St0102.Name, security.GetProperty("name").GetString());
        Assert.Equal("UNCLASSIFIED", Item(security, 1).GetProperty("label").GetString());
        var vmti = Item(first, 74).GetProperty("value");
        var targets = Item(vmti, 101).GetProperty("value");
        Assert.Equal([1, 1234], targets.EnumerateArray().Select(t => t.GetProperty("id").GetInt32()));
        Assert.Equal(10.0, Item(targets[1], 10).GetProperty("value").GetDouble(), 9);

        // Structured values are objects; raw-only tags say so.
        var airbase = Item(first, 130).GetProperty("value");
        Assert.Equal(38.841858983039856, airbase.GetProperty("take_off_location").GetProperty("latitude").GetDouble(), 12);
        var sdcc = Item(first, 102);
        Assert.True(sdcc.GetProperty("raw").GetBoolean());
        Assert.Equal("03B304803F8000004000000000000000200000", sdcc.GetProperty("value").GetString());
        Assert.Contains("ST 1010", sdcc.GetProperty("note").GetString());
    }

    [KlvDataFact]
    public void JSON_of_a_raw_packet_file()
    {
        var root = Json(TestData.Klv("DynamicOnlyMISMMSPacketData.bin"), out var summary);
        var packet = Assert.Single(root.EnumerateArray());
        Assert.False(summary.IsTransportStream);
        Assert.Equal(0, packet.GetProperty("position").GetInt64());
        Assert.True(packet.GetProperty("checksum_ok").GetBoolean());
        Assert.Equal(14190.72, Item(packet, 15).GetProperty("value").GetDouble(), 2);
        Assert.False(packet.TryGetProperty("problems", out _));
    }

    [KlvDataFact]
    public void Csv_and_text_forms()
    {
        var csv = new StringWriter();
        KlvDump.WriteCsv(TestData.Klv("DynamicOnlyMISMMSPacketData.bin"), csv);
        var lines = csv.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("index,time,pts,position,pid,packet,checksum_ok,path,tag,name,value,units", lines[0]);
        Assert.Contains(lines, l => l.Contains(",13,13,Sensor Latitude,60.176822966978335,deg,", StringComparison.Ordinal));
        Assert.Equal(1 + 19, lines.Length);

        var csvTs = new StringWriter();
        KlvDump.WriteCsv(TestData.Klv("mpeg2_klv.ts"), csvTs);
        Assert.Contains("74.101[1234].104.10.east", csvTs.ToString(), StringComparison.Ordinal);

        var text = new StringWriter();
        KlvDump.WriteText(TestData.Klv("st0903_jmisb.bin"), text);
        var s = text.ToString();
        Assert.Equal(5, s.Split('\n').Count(l => l.StartsWith('#')));
        Assert.Contains("checksum OK", s, StringComparison.Ordinal);
        Assert.Contains("VTarget Series: 2 entries", s, StringComparison.Ordinal);
    }

    [Fact]
    public void Dump_of_damaged_raw_KLV_reports_junk_and_problems_with_positions()
    {
        var good = KlvEncoder.EncodePacket(St0601.Schema, [KlvField.Integer(2, 1), KlvField.Number(13, 10)]);
        var bad = (byte[])good.Clone();
        bad[^1] ^= 0xFF;
        byte[] input = [1, 2, 3, .. good, .. bad, .. good.AsSpan(0, 25)];
        var json = new StringWriter();
        var summary = KlvDump.WriteJson(new MemoryStream(input), false, json);
        using var doc = JsonDocument.Parse(json.ToString());
        var packets = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(4, packets.Count);
        Assert.Equal("Junk", packets[0].GetProperty("name").GetString());
        Assert.Equal(0, packets[0].GetProperty("position").GetInt64());
        Assert.True(packets[1].GetProperty("checksum_ok").GetBoolean());
        Assert.Equal(3, packets[1].GetProperty("position").GetInt64());
        Assert.False(packets[2].GetProperty("checksum_ok").GetBoolean());
        Assert.Equal("ChecksumMismatch", packets[2].GetProperty("problems")[0].GetProperty("kind").GetString());
        Assert.Equal(3 + good.Length, packets[3].GetProperty("position").GetInt64() - good.Length);
        Assert.Equal("Truncated", packets[3].GetProperty("problems")[0].GetProperty("kind").GetString());
        Assert.Equal(1, summary.ChecksumFailures);
        Assert.Equal(1, summary.JunkRuns);
    }

    [KlvDataFact]
    public void Transport_stream_is_sniffed_without_the_extension()
    {
        using var stream = File.OpenRead(TestData.Klv("h265_klv.ts"));
        Assert.True(KlvDump.LooksLikeTransportStream("clip.bin", stream));
        Assert.Equal(0, stream.Position);
        using var raw = File.OpenRead(TestData.Klv("st0903_jmisb.bin"));
        Assert.False(KlvDump.LooksLikeTransportStream("st0903.bin", raw));
    }
}
