using System.Diagnostics;
using SiteWatch.Video.Klv;
using SiteWatch.Video.Ts;
using Xunit.Abstractions;

namespace SiteWatch.Video.Tests.Fuzz;

/// <summary>
/// Mutation fuzzing with a fixed seed: decoding, dumping and demuxing mutated input must never throw
/// (the tolerant APIs do not even throw <see cref="KlvFormatException"/>) and must finish in bounded time.
/// </summary>
public class FuzzTests(ITestOutputHelper output)
{
    private static List<byte[]> Seeds()
    {
        var seeds = new List<byte[]>
        {
            KlvEncoder.EncodePacket(St0601.Schema,
            [
                KlvField.Integer(2, 1_700_000_000_000_000), KlvField.Text(3, "FUZZ"), KlvField.Number(13, 1), KlvField.Number(96, 10),
                KlvField.Set(48, [KlvField.Integer(1, 1), KlvField.Text(13, "US")]),
                KlvField.Set(74, [KlvField.IdSeries(101, [(5UL, [KlvField.Integer(1, 9), KlvField.Number(10, 1.5)])])]),
            ]),
        };
        if (TestData.KlvDirectory is not null)
        {
            seeds.Add(TestData.KlvBytes("DynamicOnlyMISMMSPacketData.bin"));
            seeds.Add(TestData.KlvBytes("DynamicConstantMISMMSPacketData.bin"));
            seeds.AddRange(KlvPacketSplitter.Split(TestData.KlvBytes("st0903_jmisb.bin")).Select(s => s.Bytes.ToArray()));
            seeds.Add(TestData.KlvPacketsOf("h264_klv.ts")[0].Packet); // every nested standard, 2.4 KB
        }

        return seeds;
    }

    private static byte[] Mutate(byte[] input, Random rng)
    {
        var data = new List<byte>(input);
        var mutations = rng.Next(1, 5);
        for (var m = 0; m < mutations && data.Count > 0; m++)
        {
            var at = rng.Next(data.Count);
            switch (rng.Next(8))
            {
                case 0: data[at] ^= (byte)(1 << rng.Next(8)); break;          // bit flip
                case 1: data[at] = (byte)rng.Next(256); break;                 // byte replace
                case 2: data.Insert(at, (byte)rng.Next(256)); break;            // insert
                case 3: data.RemoveRange(at, Math.Min(rng.Next(1, 16), data.Count - at)); break; // delete run
                case 4: data.RemoveRange(at, data.Count - at); break;           // truncate
                case 5: data[at] = (byte)(0x80 | rng.Next(1, 10)); break;       // plant a long-form length
                case 6:                                                          // duplicate a run
                    var from = rng.Next(data.Count);
                    data.InsertRange(at, data.GetRange(from, Math.Min(8, data.Count - from)));
                    break;
                default: data[at] = rng.Next(2) == 0 ? (byte)0x00 : (byte)0xFF; break;
            }
        }

        return data.ToArray();
    }

    [Fact]
    public void Mutated_KLV_packets_never_throw_or_hang()
    {
        var seeds = Seeds();
        var rng = new Random(0x5EED);
        var clock = Stopwatch.StartNew();
        int cases = 0, problems = 0, items = 0;
        for (var i = 0; i < 4000; i++)
        {
            var input = Mutate(seeds[i % seeds.Count], rng);
            var packet = KlvDecoder.Decode(input);
            if (packet.HasProblems || packet.ChecksumStatus == KlvChecksumStatus.Invalid)
            {
                problems++;
            }

            if (packet.Set is { } set)
            {
                items += FuzzTargets.Walk(set);
            }

            // Problems must point inside (or just past) the bytes.
            Assert.All(packet.Problems, p => Assert.InRange(p.Offset, 0, input.Length));

            // The dump paths (JSON, CSV, text) on every 4th case, over raw bytes with junk around them.
            if (i % 4 == 0)
            {
                byte[] framed = [.. input.AsSpan(0, Math.Min(3, input.Length)), .. input];
                KlvDump.WriteJson(new MemoryStream(framed), false, TextWriter.Null);
                KlvDump.WriteCsv(new MemoryStream(framed), false, TextWriter.Null);
                KlvDump.WriteText(new MemoryStream(framed), false, TextWriter.Null);
            }

            cases++;
        }

        output.WriteLine($"{cases} cases, {problems} flagged, {items} items walked, {clock.ElapsedMilliseconds} ms");
        Assert.True(problems > cases / 2, "mutations should mostly be detected");
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var rng = new Random(99);
        var key = new byte[16];
        St0601.Key.CopyTo(key);
        for (var i = 0; i < 3000; i++)
        {
            var body = new byte[rng.Next(0, 300)];
            rng.NextBytes(body);
            // Half the cases start with a real key so the set decoder sees the garbage.
            byte[] input = i % 2 == 0 ? [.. key, .. body] : body;
            var packet = KlvDecoder.Decode(input);
            if (packet.Set is { } set)
            {
                FuzzTargets.Walk(set);
            }

            foreach (var _ in KlvPacketSplitter.Split(input))
            {
            }
        }
    }

    [KlvDataFact]
    public void Mutated_transport_streams_never_throw_or_hang()
    {
        var original = File.ReadAllBytes(TestData.Klv("h264_klv.ts")).AsSpan(0, 188 * 120).ToArray();
        var rng = new Random(1402);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 300; i++)
        {
            var data = (byte[])original.Clone();
            for (var k = rng.Next(1, 40); k > 0; k--)
            {
                data[rng.Next(data.Length)] = (byte)rng.Next(256);
            }

            // Sometimes cut a run out or splice junk in, so sync is lost mid-stream.
            if (rng.Next(3) == 0)
            {
                var at = rng.Next(data.Length);
                data = [.. data.AsSpan(0, at), .. data.AsSpan(Math.Min(data.Length, at + rng.Next(1, 500)))];
            }
            else if (rng.Next(2) == 0)
            {
                var at = rng.Next(data.Length);
                var junk = new byte[rng.Next(1, 6000)];
                rng.NextBytes(junk);
                data = [.. data.AsSpan(0, at), .. junk, .. data.AsSpan(at)];
            }

            var demuxer = new TsDemuxer();
            var chunk = rng.Next(1, 5000);
            for (var p = 0; p < data.Length; p += chunk)
            {
                demuxer.Write(data.AsSpan(p, Math.Min(chunk, data.Length - p)));
                while (demuxer.TryRead(out var unit))
                {
                    foreach (var slice in KlvPacketSplitter.Split(unit.Payload))
                    {
                        if (KlvDecoder.Decode(slice.Bytes).Set is { } set)
                        {
                            FuzzTargets.Walk(set);
                        }
                    }
                }
            }

            demuxer.Complete();
            while (demuxer.TryRead(out _))
            {
            }

            Assert.All(demuxer.Diagnostics.Errors, e => Assert.InRange(e.Position, 0, data.Length));
            if (i % 10 == 0)
            {
                KlvDump.WriteJson(new MemoryStream(data), true, TextWriter.Null);
            }
        }

        output.WriteLine($"300 mutated streams in {clock.ElapsedMilliseconds} ms");
    }
}
