using System.Text;
using SiteWatch.Core;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Geo;
using SiteWatch.Core.Ingest;
using SiteWatch.Gdal;
using SiteWatch.Video.Klv;
using SiteWatch.Video.Ts;
using SiteWatch.Video.Watch;

namespace SiteWatch.Video.Tests.Fuzz;

/// <summary>
/// One fuzz target per parser: what it does with an input and which exceptions are that parser's documented answer
/// to bad input. Anything else escaping <see cref="Run"/> (another exception type, a broken invariant) is a crasher.
/// Shared by the fuzzer (bench/Fuzz links this file) and the crasher regression tests, so both run the same code.
/// </summary>
public sealed class FuzzTarget
{
    public required string Name { get; init; }

    public required string Parser { get; init; }

    /// <summary>Runs the parser on the input; returns normally on success or on its documented error.</summary>
    public required Action<byte[]> Execute { get; init; }

    /// <summary>The documented "bad input" exceptions (a clear one-line user error); none for the tolerant decoders.</summary>
    public Func<Exception, bool> IsExpected { get; init; } = _ => false;

    /// <summary>Built-in seeds, plus those read from the shared KLV clips when their folder is given.</summary>
    public required Func<string?, IEnumerable<byte[]>> Seeds { get; init; }

    /// <summary>Tokens the mutator splices in (keys, BER lengths, JSON members).</summary>
    public IReadOnlyList<byte[]> Dictionary { get; init; } = [];

    /// <summary>Runs the input; null when the outcome is acceptable, else the exception that makes it a crasher.</summary>
    public Exception? Run(byte[] input)
    {
        try
        {
            Execute(input);
            return null;
        }
        catch (Exception e) when (IsExpected(e))
        {
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>Exception type and the first SiteWatch frame: the same bug found twice has the same signature.</summary>
    public static string Signature(Exception e)
    {
        var frame = new System.Diagnostics.StackTrace(e, false).GetFrames()
            .Select(f => f.GetMethod())
            .FirstOrDefault(m => m?.DeclaringType?.Namespace?.StartsWith("SiteWatch", StringComparison.Ordinal) == true && m.DeclaringType != typeof(FuzzTarget) && m.DeclaringType?.DeclaringType != typeof(FuzzTargets));
        var where = frame is null ? "unknown" : $"{frame.DeclaringType!.Name}.{frame.Name}";
        return Sanitize($"{e.GetType().Name}-{where}");
    }

    private static string Sanitize(string s) => new([.. s.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '_')]);
}

/// <summary>A parser's answer that breaks a stated invariant (e.g. a problem offset outside the bytes).</summary>
public sealed class FuzzInvariantException(string message) : Exception(message);

public static class FuzzTargets
{
    private static readonly Lazy<IReadOnlyList<FuzzTarget>> s_all = new(Create);

    public static IReadOnlyList<FuzzTarget> All => s_all.Value;

    public static FuzzTarget Get(string name) =>
        All.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"unknown fuzz target '{name}' (known: {string.Join(", ", All.Select(t => t.Name))})");

    private static IReadOnlyList<FuzzTarget> Create()
    {
        var targets = new List<FuzzTarget>
        {
            new()
            {
                Name = "ts", Parser = "TsDemuxer (+ KLV splitting and decoding of what it demuxes)",
                Execute = RunTs, Seeds = TsSeeds, Dictionary = TsDictionary(),
            },
            new()
            {
                Name = "klv-dump", Parser = "KlvDump (raw KLV or TS, JSON / CSV / text)",
                Execute = RunDump, Seeds = DumpSeeds, Dictionary = KlvDictionary(),
            },
            new()
            {
                Name = "klv-packet", Parser = "KlvDecoder.Decode of whole packets (ST 0601, 0903, 0806, 0102 by key) and KlvLocalSetReader.ForPacket",
                Execute = RunPacket, IsExpected = e => e is KlvFormatException, Seeds = PacketSeeds, Dictionary = KlvDictionary(),
            },
        };
        foreach (var (name, schema) in Standards)
        {
            targets.Add(new FuzzTarget
            {
                Name = "klv-" + name, Parser = $"KlvDecoder.DecodeSet and KlvLocalSetReader on a bare {schema.Name}",
                Execute = input => RunSet(schema, input), IsExpected = e => e is KlvFormatException,
                Seeds = shared => SetSeeds(schema, shared), Dictionary = KlvDictionary(),
            });
        }

        targets.Add(new FuzzTarget
        {
            Name = "aoi", Parser = "AoiReader.Parse (GeoJSON AOI)", Execute = input => AoiReader.Parse(Text(input), "aoi.geojson"),
            IsExpected = e => e is SiteWatchException, Seeds = _ => Utf8(AoiSeeds), Dictionary = JsonDictionary(),
        });
        targets.Add(new FuzzTarget
        {
            Name = "zones", Parser = "WatchZoneFile.Parse (watch zones GeoJSON)", Execute = input => WatchZoneFile.Parse(Text(input), "zones.geojson"),
            IsExpected = e => e is SiteWatchException, Seeds = _ => Utf8(ZoneSeeds), Dictionary = JsonDictionary(),
        });
        targets.Add(new FuzzTarget
        {
            Name = "stac", Parser = "SceneMetadataReader.Read with a STAC item beside the scene", Execute = RunStac,
            IsExpected = e => e is SiteWatchException, Seeds = _ => Utf8(StacSeeds), Dictionary = JsonDictionary(),
        });
        targets.Add(new FuzzTarget
        {
            Name = "rules", Parser = "AlertRuleSet.Parse (alert rules JSON)", Execute = input => AlertRuleSet.Parse(Text(input), "rules.json"),
            IsExpected = e => e is SiteWatchException, Seeds = _ => Utf8(RuleSeeds), Dictionary = JsonDictionary(),
        });
        return targets;
    }

    /// <summary>Every standard the table-driven decoder knows, each fuzzed as a bare local set.</summary>
    public static readonly (string Name, KlvSchema Schema)[] Standards =
    [
        ("0601", St0601.Nested), ("0102", St0102.Schema), ("0903", St0903.Schema), ("0903-vtarget", St0903.VTarget),
        ("0806", St0806.Schema), ("1206", MisbSets.St1206), ("1002", MisbSets.St1002), ("1202", MisbSets.St1202),
        ("1601", MisbSets.St1601), ("1602", MisbSets.St1602),
    ];

    // ---- TS ----

    private static void RunTs(byte[] input)
    {
        // The first byte picks the write chunk size, so sync and PES reassembly see data split anywhere.
        var chunk = input.Length == 0 ? 1 : 1 + input[0] * 7;
        var demuxer = new TsDemuxer { ReportVideoPes = input.Length > 1 && (input[1] & 1) == 1 };
        var reused = new KlvPacket();
        for (var p = 0; p < input.Length; p += chunk)
        {
            demuxer.Write(input.AsSpan(p, Math.Min(chunk, input.Length - p)));
            Drain(demuxer, reused);
        }

        demuxer.Complete();
        Drain(demuxer, reused);
        foreach (var e in demuxer.Diagnostics.Errors)
        {
            if (e.Position < 0 || e.Position > input.Length)
            {
                throw new FuzzInvariantException($"TS error position {e.Position} outside the {input.Length} input bytes");
            }
        }
    }

    private static void Drain(TsDemuxer demuxer, KlvPacket reused)
    {
        while (demuxer.TryRead(out var unit))
        {
            foreach (var slice in KlvPacketSplitter.Split(unit.Payload))
            {
                KlvDecoder.Decode(slice.Bytes, reused);
                CheckProblems(reused, slice.Bytes.Length);
                if (reused.Set is { } set)
                {
                    Walk(set);
                }
            }
        }

        while (demuxer.TryReadVideoPes(out _))
        {
        }
    }

    private static IEnumerable<byte[]> TsSeeds(string? shared)
    {
        yield return new byte[188];

        // Our own muxer: synchronous KLV (stream_type 0x15, metadata descriptor, AU cells) and asynchronous KLV,
        // with small H.264-like access units: what the shared clips (all asynchronous) do not have.
        foreach (var transport in new[] { KlvTransport.Sync, KlvTransport.Async })
        {
            using var ts = new MemoryStream();
            var muxer = new TsMuxer(ts, new TsMuxerOptions { Klv = transport, PsiIntervalFrames = 2 });
            var klv = PacketSeeds(null).First();
            for (var frame = 0; frame < 3; frame++)
            {
                muxer.WriteVideo([0, 0, 0, 1, 0x65, (byte)frame, 1, 2, 3], 3003L * frame, keyframe: frame == 0);
                muxer.WriteKlv(klv, 3003L * frame);
            }

            muxer.Flush();
            yield return ts.ToArray();
        }

        if (shared is null)
        {
            yield break;
        }

        // The start of each clip (PAT, PMT, KLV and video PES), and a run from the middle of the h264 one.
        foreach (var clip in new[] { "h264_klv.ts", "h265_klv.ts", "mpeg2_klv.ts" })
        {
            var path = Path.Combine(shared, clip);
            if (File.Exists(path))
            {
                var bytes = File.ReadAllBytes(path);
                yield return bytes.AsSpan(0, Math.Min(bytes.Length, 188 * 40)).ToArray();
                if (bytes.Length > 188 * 400)
                {
                    yield return bytes.AsSpan(188 * 300, 188 * 60).ToArray();
                }
            }
        }
    }

    private static List<byte[]> TsDictionary() =>
    [
        [0x47], [0x47, 0x40, 0x00, 0x10], [0x47, 0x1F, 0xFF, 0x10], [0x00, 0x00, 0x01, 0xBD], [0x00, 0x00, 0x01, 0xFC], [0x00, 0x00, 0x01, 0xE0],
        [0x15], [0x06], [0x1B], [0x24], "KLVA"u8.ToArray(), [0xFF, 0xFF, 0xFF, 0xFF], [0x00, 0xB0], [0x02, 0xB0], [0x80, 0xC0], [0x20],
        .. KlvDictionary(),
    ];

    // ---- KLV ----

    private static void RunDump(byte[] input)
    {
        var mode = input.Length == 0 ? 0 : input[0] % 6;
        var ts = mode >= 3;
        using var stream = new MemoryStream(input, writable: false);
        var summary = (mode % 3) switch
        {
            0 => KlvDump.WriteJson(stream, ts, TextWriter.Null),
            1 => KlvDump.WriteCsv(stream, ts, TextWriter.Null),
            _ => KlvDump.WriteText(stream, ts, TextWriter.Null),
        };
        _ = summary.ToString();
    }

    private static IEnumerable<byte[]> DumpSeeds(string? shared)
    {
        foreach (var packet in PacketSeeds(shared).Take(6))
        {
            yield return [0, .. packet];
            yield return [1, .. packet, .. packet];
        }

        foreach (var ts in TsSeeds(shared).Skip(1).Take(2))
        {
            yield return [3, .. ts.AsSpan(0, Math.Min(ts.Length, 188 * 20))];
        }
    }

    private static void RunPacket(byte[] input)
    {
        var packet = KlvDecoder.Decode(input);
        CheckProblems(packet, input.Length);
        if (packet.Set is { } set)
        {
            Walk(set);
        }

        // The reused-packet path, twice, so pooled state from one decode meets the next.
        var reused = new KlvPacket();
        KlvDecoder.Decode(input, reused);
        KlvDecoder.Decode(input.AsMemory(0, input.Length / 2), reused);
        KlvDecoder.Decode(input, reused);
        if (reused.Set is { } again)
        {
            Walk(again);
        }

        foreach (var slice in KlvPacketSplitter.Split(input))
        {
            _ = slice.Status;
        }

        var reader = KlvLocalSetReader.ForPacket(input);
        ReadStrict(ref reader, 0);
    }

    private static void RunSet(KlvSchema schema, byte[] input)
    {
        var set = KlvDecoder.DecodeSet(schema, input);
        foreach (var p in set.Problems)
        {
            if (p.Offset < 0 || p.Offset > input.Length)
            {
                throw new FuzzInvariantException($"problem offset {p.Offset} outside the {input.Length} input bytes");
            }
        }

        Walk(set);
        var reader = new KlvLocalSetReader(input, schema);
        ReadStrict(ref reader, 0);
    }

    private static void ReadStrict(ref KlvLocalSetReader reader, int depth)
    {
        while (reader.Read())
        {
            _ = reader.TryGetDouble(out _);
            _ = reader.GetDouble();
            _ = reader.GetInt64();
            _ = reader.GetString();
            if (depth < 4 && reader.Traits?.NestedSchema is not null && reader.Traits.Format == KlvFormat.Set)
            {
                var nested = reader.ReadNested();
                ReadStrict(ref nested, depth + 1);
            }
        }
    }

    private static void CheckProblems(KlvPacket packet, int length)
    {
        foreach (var p in packet.Problems)
        {
            if (p.Offset < 0 || p.Offset > length)
            {
                throw new FuzzInvariantException($"problem offset {p.Offset} outside the {length} packet bytes");
            }
        }
    }

    /// <summary>Touches everything a consumer might read, so the lazy paths (packs, strings, flags) run too.</summary>
    public static int Walk(KlvLocalSet set, int depth = 0)
    {
        var n = 0;
        foreach (var item in set)
        {
            n++;
            _ = item.AsDouble() + item.AsInt64() + item.Resolution;
            _ = item.AsString();
            _ = item.Label;
            _ = item.FlagNames();
            _ = item.AsDateTime();
            _ = item.Value.Length + item.ValueOffset + item.Name.Length;
            _ = item.AsStructured()?.ToString();
            if (item.AsSet() is { } nested)
            {
                n += Walk(nested, depth + 1);
            }

            if (item.AsSeries() is { } series)
            {
                foreach (var e in series)
                {
                    n += Walk(e.Set, depth + 1);
                }
            }
        }

        return n;
    }

    private static IEnumerable<byte[]> PacketSeeds(string? shared)
    {
        yield return KlvEncoder.EncodePacket(St0601.Schema,
        [
            KlvField.Integer(2, 1_700_000_000_000_000), KlvField.Text(3, "FUZZ"), KlvField.Number(13, 1), KlvField.Number(96, 10),
            KlvField.Set(48, [KlvField.Integer(1, 1), KlvField.Text(13, "US")]),
            KlvField.Set(74, [KlvField.IdSeries(101, [(5UL, [KlvField.Integer(1, 9), KlvField.Number(10, 1.5)])])]),
        ]);
        if (shared is null)
        {
            yield break;
        }

        foreach (var raw in new[] { "DynamicOnlyMISMMSPacketData.bin", "DynamicConstantMISMMSPacketData.bin", "st0903_jmisb.bin" })
        {
            var path = Path.Combine(shared, raw);
            if (File.Exists(path))
            {
                foreach (var slice in KlvPacketSplitter.Split(File.ReadAllBytes(path)).Take(4))
                {
                    yield return slice.Bytes.ToArray();
                }
            }
        }

        foreach (var packet in ClipPackets(shared).Take(3))
        {
            yield return packet;
        }
    }

    /// <summary>KLV packets of the first units of each shared TS clip.</summary>
    private static IEnumerable<byte[]> ClipPackets(string shared)
    {
        foreach (var clip in new[] { "h264_klv.ts", "h265_klv.ts", "mpeg2_klv.ts" })
        {
            var path = Path.Combine(shared, clip);
            if (!File.Exists(path))
            {
                continue;
            }

            using var stream = File.OpenRead(path);
            foreach (var unit in TsDemuxer.ReadKlv(stream).Take(8))
            {
                foreach (var slice in KlvPacketSplitter.Split(unit.Payload))
                {
                    yield return slice.Bytes.ToArray();
                }
            }
        }
    }

    /// <summary>Values of every nested set of this standard found in the real packets, and one built by the encoder.</summary>
    private static IEnumerable<byte[]> SetSeeds(KlvSchema schema, string? shared)
    {
        var seeds = new List<byte[]>();
        if (schema == St0601.Nested)
        {
            var packet = KlvDecoder.Decode(PacketSeeds(null).First());
            seeds.Add(packet.Set!.Bytes.ToArray());
        }

        if (shared is not null)
        {
            foreach (var bytes in PacketSeeds(shared))
            {
                var packet = KlvDecoder.Decode(bytes);
                if (packet.Set is { } set)
                {
                    if (set.Schema.Name == schema.Name)
                    {
                        seeds.Add(set.Bytes.ToArray());
                    }

                    Collect(set, schema, seeds);
                }
            }
        }

        if (seeds.Count == 0)
        {
            seeds.Add([0x01, 0x01, 0x00]);
        }

        return seeds.DistinctBy(Convert.ToHexString).Take(12);
    }

    private static void Collect(KlvLocalSet set, KlvSchema schema, List<byte[]> into)
    {
        foreach (var item in set)
        {
            if (item.AsSet() is { } nested)
            {
                if (nested.Schema.Name == schema.Name)
                {
                    into.Add(item.Value.ToArray());
                }

                Collect(nested, schema, into);
            }

            if (item.AsSeries() is { } series)
            {
                foreach (var e in series)
                {
                    if (e.Set.Schema.Name == schema.Name)
                    {
                        into.Add(e.Set.Bytes.ToArray());
                    }

                    Collect(e.Set, schema, into);
                }
            }
        }
    }

    private static List<byte[]> KlvDictionary() =>
    [
        KeyBytes(St0601.Key), KeyBytes(St0903.Key), KeyBytes(St0806.Key), KeyBytes(St0102.Key), [0x81, 0x00], [0x82, 0x01, 0x00], [0x84, 0xFF, 0xFF, 0xFF, 0xFF],
        [0x88], [0x80], [0x7F], [0x81, 0x80], [0x01, 0x02], [0x30], [0x4A], [0x65], [0x61], [0x41], [0x80, 0x00], [0xFF, 0xFF], [0x00, 0x00, 0x00, 0x00],
    ];

    private static byte[] KeyBytes(KlvKey key)
    {
        var bytes = new byte[16];
        key.CopyTo(bytes);
        return bytes;
    }

    // ---- JSON readers ----

    private static string Text(byte[] input) => Encoding.UTF8.GetString(input);

    private static IEnumerable<byte[]> Utf8(IEnumerable<string> texts) => texts.Select(Encoding.UTF8.GetBytes);

    private static List<byte[]> JsonDictionary() =>
        [.. new[]
        {
            "{", "}", "[", "]", ",", ":", "\"", "null", "true", "false", "-0", "1e308", "-1e400", "0.5", "NaN", "\"\\u0000\"", "//", "/*", "*/",
            "\"type\"", "\"Feature\"", "\"FeatureCollection\"", "\"features\"", "\"geometry\"", "\"coordinates\"", "\"Polygon\"", "\"MultiPolygon\"",
            "\"LineString\"", "\"Point\"", "\"GeometryCollection\"", "\"geometries\"", "\"properties\"", "\"crs\"", "\"bbox\"", "\"rules\"", "\"webhooks\"",
            "\"kind\"", "\"zone\"", "\"buffer_m\"", "\"assets\"", "\"roles\"", "\"href\"", "\"eo:bands\"", "\"datetime\"", "\"instruments\"",
            "\"eo:cloud_cover\"", "\"cloud\"", "[[0,0],[1,0],[1,1],[0,0]]", "[180,90]", "[-180,-90]",
        }.Select(Encoding.UTF8.GetBytes)];

    private static readonly string[] AoiSeeds =
    [
        """{"type":"Polygon","coordinates":[[[127.49,39.93],[127.50,39.93],[127.50,39.94],[127.49,39.94],[127.49,39.93]]]}""",
        """{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"site"},"geometry":{"type":"MultiPolygon","coordinates":[[[[10,50],[10.01,50],[10.01,50.01],[10,50.01],[10,50]]],[[[10.02,50],[10.03,50],[10.03,50.01],[10.02,50]]]]}}]}""",
        """{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[0.01,0],[0.01,0.01],[0,0.01],[0,0]],[[0.002,0.002],[0.004,0.002],[0.004,0.004],[0.002,0.002]]]},"properties":null}""",
        """{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}""",
    ];

    private static readonly string[] ZoneSeeds =
    [
        """
        {"type":"FeatureCollection","features":[
         {"type":"Feature","properties":{"name":"border","rules":["cross"],"hysteresis_m":2,"classes":["vehicle","person"],"cooldown_seconds":5},
          "geometry":{"type":"LineString","coordinates":[[127.0,38.0],[127.01,38.0],[127.02,38.01]]}},
         {"type":"Feature","properties":{"name":"yard","rules":["enter","loiter"],"loiter_seconds":30,"inertia":3,"min_score":0.4,"min_area_m2":2},
          "geometry":{"type":"Polygon","coordinates":[[[127.0,38.0],[127.001,38.0],[127.001,38.001],[127.0,38.001],[127.0,38.0]]]}},
         {"type":"Feature","properties":{"name":"road","rules":["enter"],"buffer_m":10},
          "geometry":{"type":"LineString","coordinates":[[127.0,38.0],[127.001,38.001]]}},
         {"type":"Feature","properties":{"name":"two"},"geometry":{"type":"MultiPolygon","coordinates":[[[[1,1],[1.001,1],[1.001,1.001],[1,1]]]]}}]}
        """,
    ];

    private static readonly string[] RuleSeeds =
    [
        """
        {"rules": [
          {"name": "freight cars piling up", "kind": "count_above_baseline", "class": "freight_car", "k": 2, "baseline": 3, "min_count": 5},
          {"name": "new structure", "kind": "new_structure", "min_area_m2": 2000, "severity": "critical"},
          {"name": "removed crane", "kind": "object_removed", "class": "crane"},   // a comment
          {"name": "activity in yard", "kind": "change_area_in_zone", "zone": {"type": "Polygon", "coordinates": [[[127.49,39.93],[127.5,39.93],[127.5,39.94],[127.49,39.93]]]}, "min_area_m2": 500},],
         "webhooks": [{"url": "http://127.0.0.1:9000/hook", "secret": "k", "max_attempts": 8}]}
        """,
    ];

    private static readonly string[] StacSeeds =
    [
        """
        {"type":"Feature","stac_version":"1.0.0","id":"scene","properties":{"datetime":"2024-08-13T02:10:00Z","platform":"demo-sat","instruments":["msi"],
         "eo:cloud_cover":12.5,"eo:bands":[{"name":"b1","common_name":"blue","center_wavelength":0.49}]},
         "assets":{"image":{"href":"./scene.tif","eo:bands":[{"name":"B","common_name":"blue","center_wavelength":0.49},{"name":"N","center_wavelength":0.83}]},
                   "udm":{"href":"scene.tif","roles":["cloud","data-mask"]}}}
        """,
        """{"type":"Feature","properties":{"start_datetime":"2020-01-01","constellation":"x"}}""",
    ];

    // ---- STAC: the item is read from beside a real (1 x 1) GeoTIFF ----

    private static readonly Lazy<(RasterDataset Raster, string Path)> s_stacScene = new(CreateStacScene);

    private static (RasterDataset, string) CreateStacScene()
    {
        var root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var dir = Directory.CreateDirectory(Path.Combine(root, $"sitewatch-fuzz-stac-{Environment.ProcessId}")).FullName;
        var path = Path.Combine(dir, "scene.tif");
        RasterDataset.Create(path, new RasterProfile(1, 1, 1, RasterDataType.Byte)).Dispose();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(dir, true);
            }
            catch (IOException)
            {
            }
        };
        return (RasterDataset.Open(path), path);
    }

    private static void RunStac(byte[] input)
    {
        var (raster, path) = s_stacScene.Value;
        File.WriteAllBytes(path + ".json", input);
        var metadata = SceneMetadataReader.Read(raster, path);
        _ = metadata.ToString();
    }
}
