using System.Collections;
using System.Globalization;
using System.Text;
using SiteWatch.Video.Klv;

namespace SiteWatch.Video.Tests.Klv;

/// <summary>
/// Decoding into one reused packet (nested sets, series and packs taken from its pool) must give exactly what a
/// fresh decode gives, whatever the previous packet was.
/// </summary>
public class KlvReuseTests
{
    /// <summary>Everything a reader can see of a packet, nested values and packs included.</summary>
    private static string Render(KlvPacket packet)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{packet.Name} {packet.ChecksumStatus} {packet.ReceivedChecksum} {packet.ComputedChecksum}\n");
        foreach (var p in packet.Problems)
        {
            text.Append(p).Append('\n');
        }

        if (packet.Set is { } set)
        {
            RenderSet(text, set, "");
        }

        return text.ToString();
    }

    private static void RenderSet(StringBuilder text, KlvLocalSet set, string indent)
    {
        foreach (var item in set)
        {
            text.Append(CultureInfo.InvariantCulture, $"{indent}{item.Tag} {item.Name} {item.Kind} @{item.Offset}+{item.Length} ");
            text.Append(CultureInfo.InvariantCulture, $"{item.AsDouble():R} {item.AsString()} {item.InvalidReason} {Convert.ToHexString(item.Value.Span)} ");
            RenderValue(text, item.AsStructured());
            text.Append('\n');
            if (item.AsSet() is { } nested)
            {
                RenderSet(text, nested, indent + "  ");
            }

            foreach (var entry in item.AsSeries() ?? (IEnumerable<KlvSeriesEntry>)[])
            {
                text.Append(CultureInfo.InvariantCulture, $"{indent}  - {entry.Id}\n");
                RenderSet(text, entry.Set, indent + "    ");
            }
        }
    }

    private static void RenderValue(StringBuilder text, object? value)
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
            case IEnumerable list and not string:
                text.Append('[');
                foreach (var e in list)
                {
                    RenderValue(text, e);
                    text.Append(',');
                }

                text.Append(']');
                break;
            default:
                text.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    /// <summary>The packet with a 3-byte Mission ID item before its first item (length rewritten, checksum left stale).</summary>
    private static byte[] WithLeadingItem(byte[] packet)
    {
        var n = Ber.TryReadLength(packet.AsSpan(16), out var length);
        var value = packet.AsSpan(16 + n, length).ToArray();
        var result = new List<byte>(packet[..16]) { 0x83, 0, 0, 0 };
        var newLength = length + 3;
        result[17] = (byte)(newLength >> 16);
        result[18] = (byte)(newLength >> 8);
        result[19] = (byte)newLength;
        result.AddRange([3, 1, (byte)'X']);
        result.AddRange(value);
        return [.. result];
    }

    private static byte[] WithPack94(byte[] packet, Action<Span<byte>> change)
    {
        var copy = (byte[])packet.Clone();
        var item = KlvDecoder.Decode(copy).Set!.First(i => i.Tag == 94);
        change(copy.AsSpan(item.ValueOffset, item.Length));
        return copy;
    }

    [KlvDataFact]
    public void Reused_packet_decodes_every_clip_packet_as_a_fresh_decode_does()
    {
        var constant = TestData.KlvBytes("DynamicConstantMISMMSPacketData.bin");
        var packets = new List<byte[]>
        {
            constant,
            TestData.KlvBytes("DynamicOnlyMISMMSPacketData.bin"),
            // Same MIIS pack position, other bytes: a changed sensor id, then a usage byte promising ids that are not there.
            WithPack94(constant, v => v[^1] ^= 0x5A),
            WithPack94(constant, v => v[1] = 0x7E),
            constant,
            constant[..150],
        };
        foreach (var clip in new[] { "h264_klv.ts", "h265_klv.ts", "mpeg2_klv.ts" })
        {
            var clipPackets = TestData.KlvPacketsOf(clip).Select(p => p.Packet).ToList();
            packets.AddRange(clipPackets);
            // The same packets with a text item in front: every nested set repeats at another offset.
            packets.AddRange(clipPackets.Take(3).Select(WithLeadingItem));
        }

        // Forward, backward and forward again, so every packet follows packets of other shapes and values.
        var order = packets.Concat(Enumerable.Reverse(packets)).Concat(packets).ToList();
        var reused = new KlvPacket();
        foreach (var bytes in order)
        {
            KlvDecoder.Decode(bytes, reused);
            Assert.Equal(Render(KlvDecoder.Decode(bytes)), Render(reused));
        }

        Assert.Contains(order, b => KlvDecoder.Decode(b).Set!.Any(i => i.Tag == 94 && i.Kind == KlvValueKind.Invalid));
    }

    [KlvDataFact]
    public void Repeated_pack_bytes_reuse_the_decoded_pack_and_changed_bytes_do_not()
    {
        var constant = TestData.KlvBytes("DynamicConstantMISMMSPacketData.bin");
        var changed = WithPack94(constant, v => v[^1] ^= 0x5A);
        var reused = new KlvPacket();
        object? Miis(byte[] bytes)
        {
            KlvDecoder.Decode(bytes, reused);
            return reused.Set!.First(i => i.Tag == 94).AsStructured();
        }

        Miis(constant); // a packet's first decode keeps nothing: it may be its only one
        var first = Miis(constant);
        var second = Miis(constant);
        var third = Miis(changed);
        Assert.Same(first, second);
        Assert.NotSame(second, third);
        string Text(object? value)
        {
            var text = new StringBuilder();
            RenderValue(text, value);
            return text.ToString();
        }

        Assert.NotEqual(Text(first), Text(third));
    }

    [KlvDataFact]
    public void Reused_packet_decodes_a_steady_stream_without_allocating()
    {
        var packet = TestData.KlvBytes("DynamicConstantMISMMSPacketData.bin");
        var reused = new KlvPacket();
        for (var i = 0; i < 3; i++)
        {
            KlvDecoder.Decode(packet, reused); // first decodes size the pool
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            KlvDecoder.Decode(packet, reused);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(KlvValueKind.Set, reused.Set!.First(i => i.Tag == St0601.SecurityLocalSet).Kind);
    }

    /// <summary>Every local set reachable from the registry's schemas (nested sets and series elements included).</summary>
    private static List<KlvSchema> AllLocalSchemas()
    {
        var seen = new List<KlvSchema>();
        var queue = new Queue<KlvSchema>([St0601.Schema, St0102.Schema, St0903.Schema, St0806.Schema]);
        while (queue.TryDequeue(out var schema))
        {
            if (schema.IsUniversal || seen.Contains(schema))
            {
                continue;
            }

            seen.Add(schema);
            foreach (var t in schema.Tags)
            {
                if (t.NestedSchema is { } nested)
                {
                    queue.Enqueue(nested);
                }
            }
        }

        return seen;
    }

    [Fact]
    public void Packs_built_on_access_match_an_immediate_decode_for_any_bytes()
    {
        // Well-formed packs are only checked while a packet decodes and built on first access; whatever the bytes,
        // the item must be what decoding the pack at once gives: the same struct, or Invalid when that throws.
        var random = new Random(16);
        var checkedPacks = 0;
        foreach (var schema in AllLocalSchemas())
        {
            foreach (var t in schema.Tags.Where(t => t.Format == KlvFormat.Custom))
            {
                for (var i = 0; i < 400; i++)
                {
                    // Mostly small bytes, so BER lengths and OIDs parse and the packs' structure is reached.
                    var value = new byte[random.Next(1, 48)];
                    for (var b = 0; b < value.Length; b++)
                    {
                        value[b] = (byte)(random.Next(4) == 0 ? random.Next(256) : random.Next(i % 2 == 0 ? 24 : 4));
                    }

                    var set = new List<byte>();
                    var tag = (ulong)t.Tag;
                    if (tag >= 0x80)
                    {
                        set.Add((byte)(0x80 | (tag >> 7)));
                    }

                    set.Add((byte)(tag & 0x7F));
                    set.Add((byte)value.Length);
                    set.AddRange(value);
                    var item = KlvDecoder.DecodeSet(schema, set.ToArray()).Single();

                    object? expected;
                    try
                    {
                        expected = t.Custom!(value);
                    }
                    catch (KlvFormatException)
                    {
                        Assert.Equal(KlvValueKind.Invalid, item.Kind);
                        continue;
                    }

                    Assert.Equal(KlvValueKind.Struct, item.Kind);
                    var want = new StringBuilder();
                    RenderValue(want, expected);
                    var got = new StringBuilder();
                    RenderValue(got, item.AsStructured());
                    Assert.Equal(want.ToString(), got.ToString());
                    checkedPacks++;
                }
            }
        }

        Assert.True(checkedPacks > 1000, $"only {checkedPacks} well-formed packs were generated");
    }
}
