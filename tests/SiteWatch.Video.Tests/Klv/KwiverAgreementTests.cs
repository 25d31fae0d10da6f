using System.Text.Json;
using SiteWatch.Video.Klv;
using Xunit.Abstractions;

namespace SiteWatch.Video.Tests.Klv;

/// <summary>Our decode of KWIVER's three test clips against KWIVER's own expected decode (video_stream_klv.json.zz).</summary>
public class KwiverAgreementTests(ITestOutputHelper output)
{
    private static readonly Lazy<JsonElement> s_expected = new(KwiverComparer.LoadVideoStreamKlv);

    [KlvDataTheory]
    [InlineData("h264_klv.ts")]
    [InlineData("h265_klv.ts")]
    [InlineData("mpeg2_klv.ts")]
    public void Clip_decode_agrees_with_kwiver_field_by_field(string clip)
    {
        var expected = s_expected.Value;
        var packets = TestData.KlvPacketsOf(clip);
        Assert.Equal(expected.GetArrayLength(), packets.Count);

        var comparer = new KwiverComparer();
        var i = 0;
        foreach (var entry in expected.EnumerateArray())
        {
            var packet = KlvDecoder.Decode(packets[i].Packet);
            Assert.Equal(entry.GetProperty("key").GetProperty("hex").GetString()!.Replace(" ", "", StringComparison.Ordinal),
                packet.Key.ToString().ToLowerInvariant());
            Assert.True(packet.ChecksumOk, $"packet {i}");
            Assert.Empty(packet.Problems);
            comparer.CompareSet(entry.GetProperty("value"), packet.Set!, $"#{i}");
            i++;
        }

        output.WriteLine(comparer.Report(clip));

        // Fields we decode must agree exactly; the only disagreements allowed are fields of tags this codec
        // keeps raw by design (ST 1303 arrays, ST 1010 SDCC), which are counted separately.
        var rawOnly = comparer.RawOnly.Values.Sum();
        Assert.Empty(comparer.Mismatches);
        Assert.Equal(comparer.Total - rawOnly, comparer.Matched);
        Assert.Equal(comparer.NumericLeaves, comparer.Exact);
        // What is left raw by design is ST 1010 SDCC data (tag 102 and SDCC-coded array elements).
        Assert.True(comparer.Matched >= 0.97 * comparer.Total, comparer.Report(clip));
        Assert.All(comparer.RawOnly.Keys, k => Assert.Contains("SDCC", k, StringComparison.Ordinal));
    }

    [KlvDataFact]
    public void Arrival_times_follow_the_video_frame_rate()
    {
        // The clips' KLV PES packets carry no PTS; the program clock at arrival stands in for it,
        // and should step by one 30 fps frame (3003 or 3000 ticks at 90 kHz) like KWIVER's frame times.
        var packets = TestData.KlvPacketsOf("h264_klv.ts");
        Assert.All(packets, p => Assert.Null(p.Unit.Pts));
        var pcrs = packets.Select(p => p.Unit.Pcr).Where(p => p is not null).Select(p => p!.Value).ToList();
        Assert.True(pcrs.Count >= packets.Count - 1);
        var steps = pcrs.Zip(pcrs.Skip(1), (a, b) => b - a).ToList();
        Assert.All(steps, s => Assert.InRange(s, 2900, 3100));
    }
}
