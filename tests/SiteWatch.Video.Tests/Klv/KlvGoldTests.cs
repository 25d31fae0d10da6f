using System.Text.Json;
using SiteWatch.Video.Klv;
using Xunit.Abstractions;

namespace SiteWatch.Video.Tests.Klv;

/// <summary>
/// KWIVER's gold values (klv_gold.json) as an encode/decode oracle: for the standards implemented here,
/// each gold item is turned into an encoder field (nested sets, series and packs included), the packet is
/// encoded and decoded, and the result is compared with the gold value the same way the clip comparison does.
/// </summary>
public class KlvGoldTests(ITestOutputHelper output)
{
    private static JsonElement Gold()
    {
        // KWIVER writes non-finite doubles as bare NaN / Infinity tokens, which JSON does not allow: quote them.
        var text = System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(TestData.Klv("klv_gold.json")),
            @"(?<=[:\[,]\s*)(-?Infinity|NaN)(?=\s*[,\]}])", "\"$1\"");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    [KlvDataFact]
    public void Gold_entries_of_implemented_standards_round_trip()
    {
        var entries = Gold().EnumerateArray().ToList();
        Assert.Equal(5, entries.Count);
        var skipped = new List<string>();
        var comparer = new KwiverComparer();
        // Encoding choices, not values: IMAPB byte counts of view-domain intervals.
        comparer.IgnoredFields.Add("semi-length");
        // Pack doubles come back within one step of their mapping; the coarsest such step in these packs is
        // the int32 mapping of +-180 degrees (8.4e-8), the others (IMAPB) land exactly on the gold values.
        comparer.PackTolerance = 1e-7;
        var implemented = 0;
        foreach (var entry in entries)
        {
            var key = KlvKey.Parse(entry.GetProperty("key").GetProperty("hex").GetString()!);
            var schema = KlvRegistry.Default.Find(key);
            var name = entry.GetProperty("key").GetProperty("string").GetString();
            if (schema is null)
            {
                // ST 1107, ST 1108: not implemented; their keys must come out as unknown, raw kept.
                var packet = KlvDecoder.Decode(Convert.FromHexString(key + "02ABCD"));
                Assert.Null(packet.Schema);
                Assert.Equal(19, packet.Bytes.Length);
                output.WriteLine($"{name}: not implemented here (unknown key, kept raw)");
                continue;
            }

            implemented++;
            var (fields, expected) = ToFields(schema, entry.GetProperty("value"), name!, skipped);
            var decoded = KlvDecoder.Decode(KlvEncoder.EncodePacket(schema, fields));
            Assert.Equal(schema.Checksum == KlvChecksumKind.None ? KlvChecksumStatus.NotApplicable : KlvChecksumStatus.Valid, decoded.ChecksumStatus);
            var items = decoded.Set!.Where(i => schema.Checksum == KlvChecksumKind.None || i.Tag != schema.ChecksumTag).ToList();
            CompareItems(comparer, expected, items, name!);
        }

        output.WriteLine($"gold fields compared: {comparer.Matched}/{comparer.Total}; skipped items: {string.Join("; ", skipped)}");
        Assert.Equal(3, implemented); // ST 0102, EG 0104, ST 0601
        foreach (var m in comparer.Mismatches)
        {
            output.WriteLine("mismatch: " + m);
        }

        Assert.Empty(comparer.Mismatches);
        Assert.Equal(comparer.Total, comparer.Matched);
        Assert.True(comparer.Total >= 60, $"only {comparer.Total} gold fields compared");
    }

    private static void CompareItems(KwiverComparer comparer, List<JsonElement> expected, IReadOnlyList<KlvItem> items, string path)
    {
        Assert.Equal(expected.Select(TagOf), items.Select(i => i.Tag));
        for (var i = 0; i < items.Count; i++)
        {
            var gold = expected[i];
            if (gold.TryGetProperty("value-unparsed-bytes", out var unparsed))
            {
                // Bytes that are not valid text come back byte for byte.
                Assert.Equal(Convert.FromBase64String(unparsed.GetString()!), items[i].Value.ToArray());
                continue;
            }

            var value = gold.GetProperty("value");
            if (items[i].Kind == KlvValueKind.Empty && value.ValueKind == JsonValueKind.Array && items[i].Traits!.Format == KlvFormat.Set
                && !value.EnumerateArray().Any(e => ToField(items[i].Traits!.NestedSchema![e.GetProperty("key").GetProperty("integer").GetUInt64()]!, e, "", []) is not null))
            {
                continue; // a set none of whose members the encoder can express: sent empty
            }

            if (items[i].Kind == KlvValueKind.Set)
            {
                // Compare what was encoded: the expected list was filtered the same way as the fields.
                var nested = items[i].AsSet()!;
                var encodable = value.EnumerateArray()
                    .Where(e => ToField(nested.Schema[e.GetProperty("key").GetProperty("integer").GetUInt64()]!, e, "", []) is not null)
                    .ToList();
                CompareItems(comparer, encodable, nested.ToList(), $"{path}/{items[i].Tag}");
                continue;
            }

            comparer.CompareValue(value, items[i], $"{path}/{items[i].Tag}");
        }
    }

    /// <summary>
    /// A gold item's tag: its integer key in a local set; in a universal set (EG 0104) the tag our table gives its
    /// 16-byte key, whose name must be the one KWIVER gives it.
    /// </summary>
    private static int TagOf(JsonElement item)
    {
        var key = item.GetProperty("key");
        if (key.TryGetProperty("integer", out var integer))
        {
            return integer.GetInt32();
        }

        var itemKey = KlvKey.Parse(key.GetProperty("hex").GetString()!);
        var traits = St0104.Schema.FindItem(itemKey) ?? St0601.UniversalSchema.FindItem(itemKey) ?? St0102.UniversalSchema.FindItem(itemKey);
        Assert.True(traits is not null, $"no table has item key {itemKey}");
        Assert.Equal(key.GetProperty("string").GetString(), traits.Name);
        return traits.Tag;
    }

    /// <summary>Gold items to encoder fields; items the encoder cannot express are listed in <paramref name="skipped"/>.</summary>
    private static (List<KlvField> Fields, List<JsonElement> Expected) ToFields(KlvSchema schema, JsonElement items, string path, List<string> skipped)
    {
        var fields = new List<KlvField>();
        var expected = new List<JsonElement>();
        foreach (var item in items.EnumerateArray())
        {
            var tag = TagOf(item);
            var traits = schema[(ulong)tag]!;
            if (ToField(traits, item, path, skipped) is { } field)
            {
                fields.Add(field);
                expected.Add(item);
            }
            else
            {
                skipped.Add($"{path}/{tag} {traits.Name} ({traits.Format})");
            }
        }

        return (fields, expected);
    }

    private static KlvField? ToField(KlvTagTraits t, JsonElement item, string path, List<string> skipped)
    {
        if (item.TryGetProperty("value-unparsed-bytes", out var raw))
        {
            // A value KWIVER could not parse (invalid UTF-8): send the same bytes, expect them back raw.
            return KlvField.Bytes(t.Tag, Convert.FromBase64String(raw.GetString()!));
        }

        var v = item.GetProperty("value");
        switch (t.Format)
        {
            case var _ when v.ValueKind == JsonValueKind.Null:
                return KlvField.Empty(t.Tag);
            case KlvFormat.Utf8 or KlvFormat.Utf16BE:
                return KlvField.Text(t.Tag, v.GetString()!);
            case KlvFormat.Bytes when v.ValueKind == JsonValueKind.String:
                return KlvField.Bytes(t.Tag, Convert.FromBase64String(v.GetString()!)); // KWIVER writes opaque bytes as base64
            case KlvFormat.Enum when v.TryGetProperty("integer", out var e):
                return KlvField.Integer(t.Tag, e.GetInt64());
            case KlvFormat.Flags:
                return KlvField.Integer(t.Tag, v.EnumerateArray().Aggregate(0L, (a, b) => a | (1L << b.GetProperty("integer").GetInt32())));
            case KlvFormat.UIntMapped or KlvFormat.IntMapped or KlvFormat.Imapb or KlvFormat.Float:
                var length = v.GetProperty("length").GetInt32();
                return KlvField.Number(t.Tag, v.GetProperty("value").GetDouble(), t.Format == KlvFormat.Imapb ? length : 0);
            case KlvFormat.UInt or KlvFormat.Int or KlvFormat.Timestamp or KlvFormat.BerOid:
                return v.ValueKind == JsonValueKind.Number
                    ? KlvField.Integer(t.Tag, v.GetInt64())
                    : KlvField.Number(t.Tag, v.GetProperty("value").GetDouble());
            case KlvFormat.Set:
                return KlvField.Set(t.Tag, ToFields(t.NestedSchema!, v, $"{path}/{t.Tag}", skipped).Fields);

            case KlvFormat.IdSeries:
                return KlvField.IdSeries(t.Tag, v.EnumerateArray()
                    .Select(e => (e.GetProperty("id").GetUInt64(), (IReadOnlyList<KlvField>)ToFields(t.NestedSchema!, e.GetProperty("set"), $"{path}/{t.Tag}", skipped).Fields))
                    .ToList());
            case KlvFormat.Series:
                return KlvField.Series(t.Tag, v.EnumerateArray().Select(e => (IReadOnlyList<KlvField>)ToFields(t.NestedSchema!, e, $"{path}/{t.Tag}", skipped).Fields).ToList());
            case KlvFormat.Custom when t.CustomEncoder is not null:
                return KlvField.Structured(t.Tag, FromKwiver(v));
            default:
                return null;
        }
    }

    /// <summary>KWIVER's JSON value to the structured shape our pack encoders take.</summary>
    private static object? FromKwiver(JsonElement v)
    {
        switch (v.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                return v.GetString() switch
                {
                    "Infinity" => double.PositiveInfinity,
                    "-Infinity" => double.NegativeInfinity,
                    "NaN" => double.NaN,
                    var s => s,
                };
            case JsonValueKind.Number:
                return v.TryGetInt64(out var l) ? l : v.GetDouble();
            case JsonValueKind.Array:
                return v.EnumerateArray().Select(FromKwiver).ToList();
            case JsonValueKind.Object when v.TryGetProperty("integer", out var e) && v.TryGetProperty("string", out var label):
                return new KlvEnumValue(e.GetInt64(), label.GetString());
            case JsonValueKind.Object when v.TryGetProperty("bytes", out var b):
                return new KlvBytes(Convert.FromBase64String(b.GetString()!));
            case JsonValueKind.Object when v.TryGetProperty("length", out _) && v.TryGetProperty("value", out var inner):
                return inner.GetDouble();
            case JsonValueKind.Object when v.TryGetProperty("kind", out var kind):
                return new KlvSpecialValue(kind.GetProperty("string").GetString() switch
                {
                    "Quiet NaN" => ImapbSpecial.PositiveQuietNaN,
                    "Signaling NaN" => ImapbSpecial.PositiveSignalingNaN,
                    "Below Minimum" => ImapbSpecial.BelowMinimum,
                    "Above Maximum" => ImapbSpecial.AboveMaximum,
                    _ => ImapbSpecial.UserDefined,
                });
            default:
                var pack = new KlvStruct();
                foreach (var p in v.EnumerateObject())
                {
                    pack.Add(p.Name.Replace('-', '_'), FromKwiver(p.Value));
                }

                return pack;
        }
    }
}
