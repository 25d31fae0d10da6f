using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using SiteWatch.Video.Klv;
using SiteWatch.Video.Ts;

// TS demux and ST 0601 decode throughput, run by bench/ts-klv-throughput.sh next to ffmpeg on the same files.
//   loop IN OUT N        writes IN N times over (a long stream from a short clip)
//   demux FILE           demuxes FILE from disk in 64 KiB reads, splitting out every KLV packet: MB/s
//   decode SECONDS FILE [both|ours|naive]
//                        decodes every KLV packet of FILE over and over for SECONDS: ours (reused packet, every
//                        nested set decoded, no allocation) and a naive top-level decoder that allocates per field
//   extract FILE OUT     writes FILE's KLV packets (demuxed from a .ts) back to back: the klvdata peer's input
//   vary FILE OUT        FILE's packets with a number in each nested set changed from packet to packet
//   profile FILE         which items of FILE's packets are nested, packs, and which change from packet to packet
//   dump OUT FILE...     every item (offset, kind, value, problem, nested sets, packs) of the FILEs' packets and of
//                        corrupted copies of them, decoded into one reused packet and afresh: two builds' decoders
//                        agree when their dumps are the same bytes
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: KlvBench loop IN OUT N | demux FILE | decode SECONDS FILE [both|ours|naive] | extract FILE OUT | profile FILE | dump OUT FILE...");
    return 2;
}

switch (args[0])
{
    case "loop":
        Loop(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture));
        return 0;
    case "demux":
        Demux(args[1]);
        return 0;
    case "decode":
        Decode(double.Parse(args[1], CultureInfo.InvariantCulture), args[2], args.Length > 3 ? args[3] : "both");
        return 0;
    case "extract":
        Extract(args[1], args[2]);
        return 0;
    case "vary":
        Vary(args[1], args[2]);
        return 0;
    case "profile":
        Profile(args[1]);
        return 0;
    case "dump":
        Dump(args[1], args[2..]);
        return 0;
    default:
        Console.Error.WriteLine($"unknown command {args[0]}");
        return 2;
}

static void Loop(string input, string output, int times)
{
    var bytes = File.ReadAllBytes(input);
    using var file = File.Create(output);
    for (var i = 0; i < times; i++)
    {
        file.Write(bytes);
    }
}

static void Demux(string path)
{
    var watch = Stopwatch.StartNew();
    var demuxer = new TsDemuxer();
    long packets = 0, bytes = 0;
    var buffer = new byte[1 << 16];
    using (var file = File.OpenRead(path))
    {
        int n;
        while ((n = file.Read(buffer)) > 0)
        {
            bytes += n;
            demuxer.Write(buffer.AsSpan(0, n));
            while (demuxer.TryRead(out var unit))
            {
                foreach (var _ in KlvPacketSplitter.Split(unit.Payload))
                {
                    packets++;
                }
            }
        }
    }

    demuxer.Complete();
    while (demuxer.TryRead(out var unit))
    {
        packets += KlvPacketSplitter.Split(unit.Payload).Count();
    }

    var seconds = watch.Elapsed.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"demux {bytes} bytes {seconds:0.000} s {bytes / 1e6 / seconds:0.0} MB/s {packets} KLV packets"));
}

static ReadOnlyMemory<byte>[] ReadPackets(string path)
{
    // .ts files are demuxed; anything else is read as concatenated KLV packets.
    if (path.EndsWith(".ts", StringComparison.OrdinalIgnoreCase))
    {
        using var stream = File.OpenRead(path);
        return [.. TsDemuxer.ReadKlv(stream).SelectMany(u => KlvPacketSplitter.Split(u.Payload).Select(s => s.Bytes))];
    }

    return [.. KlvPacketSplitter.Split(File.ReadAllBytes(path)).Select(s => s.Bytes)];
}

/// <summary>Writes FILE's KLV packets back to back (what the klvdata peer reads: the same packets ours decodes).</summary>
static void Extract(string path, string output)
{
    using var file = File.Create(output);
    foreach (var p in ReadPackets(path))
    {
        file.Write(p.Span);
    }
}

/// <summary>
/// Writes FILE's packets with one number changed in each nested set of the packet's own set, a different change in
/// consecutive packets: a stream whose nested sets never repeat, so a reused packet decodes every one of them.
/// The numbers stay well formed and the checksum is written again.
/// </summary>
static void Vary(string path, string output)
{
    using var file = File.Create(output);
    var sequence = 0;
    foreach (var p in ReadPackets(path))
    {
        var bytes = p.ToArray();
        var mark = (byte)(sequence++ % 255 + 1);
        foreach (var item in KlvDecoder.Decode(bytes).Set!)
        {
            var nested = item.AsSet() ?? (item.AsSeries() is { Count: > 0 } series ? series[0].Set : null);
            foreach (var inner in nested ?? (IEnumerable<KlvItem>)[])
            {
                if (inner.IsNumber && inner.Length > 0)
                {
                    bytes[inner.ValueOffset + inner.Length - 1] ^= mark;
                    break;
                }
            }
        }

        // A valid checksum again, so the packets decode without a problem.
        var decoded = KlvDecoder.Decode(bytes);
        if (decoded.Set is { Count: > 0 } set && set[set.Count - 1] is { Tag: 1, Length: 2 } checksum)
        {
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(checksum.ValueOffset), KlvChecksum.Sum16(bytes.AsSpan(0, checksum.ValueOffset)));
        }

        file.Write(bytes);
    }
}

static void Profile(string path)
{
    var packets = ReadPackets(path);
    var reused = new KlvPacket();
    var prev = new Dictionary<string, byte[]>();
    var counts = new Dictionary<string, (int N, int Changed)>();
    foreach (var p in packets)
    {
        KlvDecoder.Decode(p, reused);
        var ordinal = new Dictionary<string, int>();
        void Walk(KlvLocalSet set, string prefix)
        {
            foreach (var item in set)
            {
                var name = $"{prefix}/{set.Schema.Name}:{item.Tag}:{item.Kind}";
                var k = ordinal.TryGetValue(name, out var o) ? o : 0;
                ordinal[name] = k + 1;
                var bytes = item.Value.ToArray();
                var changed = prev.TryGetValue(name + "#" + k, out var b) && !b.AsSpan().SequenceEqual(bytes);
                prev[name + "#" + k] = bytes;
                counts[name] = counts.TryGetValue(name, out var c) ? (c.N + 1, c.Changed + (changed ? 1 : 0)) : (1, 0);
                if (item.AsSet() is { } s)
                {
                    Walk(s, name);
                }

                if (item.AsSeries() is { } series)
                {
                    foreach (var e in series)
                    {
                        Walk(e.Set, name);
                    }
                }
            }
        }

        Walk(reused.Set!, "");
        Console.WriteLine($"packet {p.Length} bytes, problems {reused.Problems.Count}: {string.Join("; ", reused.Problems.Select(x => x.Message))}");
    }

    for (var round = 0; round < 3; round++)
    {
        var line = new List<long>();
        foreach (var p in packets)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            KlvDecoder.Decode(p, reused);
            line.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Console.WriteLine($"allocated per packet, round {round}: {string.Join(" ", line)}");
    }

    foreach (var (k, v) in counts.OrderBy(k => k.Key))
    {
        Console.WriteLine($"{v.N / (double)packets.Length,6:0.0}/packet changed {v.Changed,4} {k}");
    }
}

/// <summary>
/// Writes everything a reader can see of each packet of <paramref name="paths"/>, then of corrupted copies (a byte
/// changed, a byte set above 0x7F where lengths and tags turn long, the packet cut short, a byte dropped), decoded in
/// order into one reused packet (nested sets and packs from its pool) and each also afresh.
/// </summary>
static void Dump(string output, string[] paths)
{
    var packets = paths.SelectMany(ReadPackets).Select(p => p.ToArray()).ToList();
    // Each nested security set also as an ST 0102 packet of its own, whose key says tags are one byte, and once more
    // with an item of tag 0x81 in front (a one-byte tag there, the lead of a two-byte tag in ST 0601).
    var security = packets
        .SelectMany(p => KlvDecoder.Decode(p).Set?.Where(i => i.Tag == St0601.SecurityLocalSet && i.Length < 120) ?? [])
        .Select(i => i.Value.ToArray())
        .ToList();
    foreach (var value in security)
    {
        byte[] withLead = [0x81, 0x02, 0x01, 0x02, .. value];
        packets.Add([.. Convert.FromHexString(St0102.Key.ToString()), (byte)value.Length, .. value]);
        packets.Add([.. Convert.FromHexString(St0102.Key.ToString()), (byte)withLead.Length, .. withLead]);
    }

    var random = new Random(16);
    var corrupted = new List<byte[]>();
    foreach (var p in packets)
    {
        for (var i = 0; i < 12; i++)
        {
            var copy = (byte[])p.Clone();
            var at = random.Next(16, copy.Length);
            switch (i % 4)
            {
                case 0:
                    copy[at] ^= (byte)random.Next(1, 256);
                    break;
                case 1:
                    copy[at] |= 0x80;
                    break;
                case 2:
                    copy = copy[..at];
                    break;
                default:
                    copy = [.. copy[..at], .. copy[(at + 1)..]];
                    break;
            }

            corrupted.Add(copy);
        }
    }

    using var file = new StreamWriter(output);
    var reused = new KlvPacket();
    var text = new System.Text.StringBuilder();
    var count = 0;
    foreach (var bytes in packets.Concat(corrupted).Concat(packets))
    {
        KlvDecoder.Decode(bytes, reused);
        text.Clear();
        RenderPacket(text, reused);
        file.Write(text);
        text.Clear();
        RenderPacket(text, KlvDecoder.Decode(bytes));
        file.Write(text);
        count++;
    }

    Console.WriteLine($"{count} packets ({packets.Count} as read, {corrupted.Count} corrupted) dumped to {output}");
}

static void RenderPacket(System.Text.StringBuilder text, KlvPacket packet)
{
    var c = CultureInfo.InvariantCulture;
    text.Append(c, $"packet {packet.Name} {packet.Bytes.Length} {packet.ValueOffset} {packet.DeclaredLength} {packet.ChecksumStatus} {packet.ReceivedChecksum} {packet.ComputedChecksum}\n");
    foreach (var p in packet.Problems)
    {
        text.Append(c, $"problem {p.Kind} {p.Offset} {p.Tag} {p.Message}\n");
    }

    if (packet.Set is { } set)
    {
        RenderSet(text, set, "");
    }
}

static void RenderSet(System.Text.StringBuilder text, KlvLocalSet set, string indent)
{
    var c = CultureInfo.InvariantCulture;
    text.Append(c, $"{indent}set {set.Schema.Name} @{set.Offset}+{set.Bytes.Length} {set.Problems.Count}\n");
    foreach (var item in set)
    {
        text.Append(c, $"{indent}{item.Tag} {item.Kind} @{item.Offset} v{item.ValueOffset}+{item.Length} {BitConverter.DoubleToInt64Bits(item.AsDouble()):X} {item.AsInt64()} {item.Special} {item.AsString()} {item.InvalidReason} {Convert.ToHexString(item.Value.Span)} ");
        RenderValue(text, item.AsStructured());
        text.Append('\n');
        if (item.AsSet() is { } nested)
        {
            RenderSet(text, nested, indent + "  ");
        }

        if (item.AsSeries() is { } series)
        {
            foreach (var entry in series)
            {
                text.Append(c, $"{indent}  - {entry.Id}\n");
                RenderSet(text, entry.Set, indent + "    ");
            }
        }
    }
}

static void RenderValue(System.Text.StringBuilder text, object? value)
{
    switch (value)
    {
        case KlvStruct s:
            text.Append('{');
            foreach (var f in s)
            {
                text.Append(f.Name).Append('=');
                RenderValue(text, f.Value);
                text.Append(f.Units).Append(';');
            }

            text.Append('}');
            break;
        case System.Collections.IEnumerable list and not string:
            text.Append('[');
            foreach (var e in list)
            {
                RenderValue(text, e);
                text.Append(',');
            }

            text.Append(']');
            break;
        case double d:
            text.Append(BitConverter.DoubleToInt64Bits(d).ToString("X", CultureInfo.InvariantCulture));
            break;
        default:
            text.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
            break;
    }
}

static void Decode(double seconds, string path, string which)
{
    var packets = ReadPackets(path);
    var meanSize = packets.Average(p => p.Length);
    long checksum = 0;

    // Ours: one KlvPacket reused, every nested set, series and pack decoded, nothing allocated once warm.
    var reused = new KlvPacket();
    var ours = new Meter(p =>
    {
        KlvDecoder.Decode(p, reused);
        checksum += reused.Set!.Count;
    });

    // Baseline: the naive way, a dictionary of boxed values and a byte[] copy per top-level field.
    var naive = new Meter(p => checksum += NaiveDecode(p.Span).Count);

    var meters = which switch { "ours" => [ours], "naive" => [naive], _ => new[] { ours, naive } };
    foreach (var m in meters)
    {
        m.Run(packets, Math.Min(0.5, seconds / 4)); // warm up: JIT tiering and PGO reach the final code
        m.Reset();
    }

    // Interleaved in slices of a tenth of the time, so a change in the machine's load hits both alike.
    while (meters.Any(m => m.CpuSeconds < seconds))
    {
        foreach (var m in meters)
        {
            m.Run(packets, seconds / 10);
        }
    }

    // One line of name=value pairs for bench/ts-klv-throughput.sh. Rates are packets per CPU second of this
    // process (the machine is shared; wall-clock rates follow its load), wall-clock rates beside them.
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"packets={packets.Length} mean_bytes={meanSize:0} ours={ours.Rate:0} ours_wall={ours.WallRate:0} ours_alloc={ours.AllocatedPerPacket:0} naive={naive.Rate:0} naive_wall={naive.WallRate:0} naive_alloc={naive.AllocatedPerPacket:0} check={checksum % 10}"));
}

/// <summary>Key, BER length, then BER-OID tag / BER length / value triples, each value copied and boxed as a number.</summary>
static Dictionary<int, object> NaiveDecode(ReadOnlySpan<byte> packet)
{
    var fields = new Dictionary<int, object>();
    var pos = 16;
    var length = ReadBer(packet, ref pos);
    var end = Math.Min(packet.Length, pos + length);
    while (pos < end)
    {
        var tag = 0;
        byte b;
        do
        {
            b = packet[pos++];
            tag = (tag << 7) | (b & 0x7F);
        }
        while ((b & 0x80) != 0);
        var size = ReadBer(packet, ref pos);
        var value = packet.Slice(pos, Math.Min(size, end - pos)).ToArray();
        pos += size;
        fields[tag] = value.Length is > 0 and <= 8 ? (object)(double)ReadUnsigned(value) : value;
    }

    return fields;
}

static int ReadBer(ReadOnlySpan<byte> d, ref int pos)
{
    int first = d[pos++];
    if (first < 0x80)
    {
        return first;
    }

    var n = first & 0x7F;
    var v = 0;
    for (var i = 0; i < n; i++)
    {
        v = (v << 8) | d[pos++];
    }

    return v;
}

static ulong ReadUnsigned(byte[] v)
{
    Span<byte> padded = stackalloc byte[8];
    v.CopyTo(padded[(8 - v.Length)..]);
    return BinaryPrimitives.ReadUInt64BigEndian(padded);
}

/// <summary>Runs one decoder over the packets and accumulates packets, CPU time, wall time and allocation.</summary>
internal sealed class Meter(Action<ReadOnlyMemory<byte>> decode)
{
    private long _count;
    private double _wall;
    private long _allocated;

    public double CpuSeconds { get; private set; }

    public double Rate => _count == 0 ? double.NaN : _count / CpuSeconds;

    public double WallRate => _count == 0 ? double.NaN : _count / _wall;

    public double AllocatedPerPacket => _count == 0 ? double.NaN : _allocated / (double)_count;

    public void Reset() => (_count, _wall, _allocated, CpuSeconds) = (0, 0, 0, 0);

    /// <summary>Whole passes over <paramref name="packets"/> until <paramref name="seconds"/> of CPU time are spent.</summary>
    public void Run(ReadOnlyMemory<byte>[] packets, double seconds)
    {
        var cpu0 = Environment.CpuUsage.TotalTime;
        var watch = Stopwatch.StartNew();
        var spent = 0.0;
        while (spent < seconds)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var rep = 0; rep < 64; rep++)
            {
                foreach (var p in packets)
                {
                    decode(p);
                }
            }

            _allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            _count += 64L * packets.Length;
            spent = (Environment.CpuUsage.TotalTime - cpu0).TotalSeconds;
        }

        CpuSeconds += spent;
        _wall += watch.Elapsed.TotalSeconds;
    }
}
