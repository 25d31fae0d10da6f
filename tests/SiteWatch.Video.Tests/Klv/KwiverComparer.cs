using System.IO.Compression;
using System.Text;
using System.Text.Json;
using SiteWatch.Video.Klv;

namespace SiteWatch.Video.Tests.Klv;

/// <summary>
/// Walks KWIVER's JSON form of a decoded set (list of {"key": {"integer": tag}, "value": ...}) next to
/// ours and counts leaf fields that agree. KWIVER's layout: numbers with a fixed length are
/// {"length", "value"}, enums {"integer", "string"}, flags a list of enums, bytes {"bytes", "hex"},
/// nested sets a list of items, id series a list of {"id", "set"}, other series a list of lists,
/// packs an object with hyphenated names, and unparsable values carry "value-unparsed-bytes".
/// </summary>
internal sealed class KwiverComparer
{
    public int Total { get; private set; }

    public int Matched { get; private set; }

    /// <summary>Numeric leaves that agree to 1e-9 relative, not just within a quantisation step.</summary>
    public int Exact { get; private set; }

    public int NumericLeaves { get; private set; }

    public List<string> Mismatches { get; } = [];

    /// <summary>Leaves we did not compare because our codec keeps the tag raw by design.</summary>
    public SortedDictionary<string, int> RawOnly { get; } = new(StringComparer.Ordinal);

    public static JsonElement LoadVideoStreamKlv()
    {
        using var file = File.OpenRead(TestData.Klv("video_stream_klv.json.zz"));
        using var z = new ZLibStream(file, CompressionMode.Decompress);
        using var doc = JsonDocument.Parse(z);
        return doc.RootElement.Clone();
    }

    public void CompareSet(JsonElement kwItems, KlvLocalSet ours, string path)
    {
        var used = new bool[ours.Count];
        foreach (var kw in kwItems.EnumerateArray())
        {
            var tag = kw.GetProperty("key").GetProperty("integer").GetInt32();
            var name = kw.GetProperty("key").GetProperty("string").GetString();
            var itemPath = $"{path}/{tag}";
            // Pair with the first unused item of the same tag (tags may repeat).
            var index = -1;
            for (var i = 0; i < ours.Count; i++)
            {
                if (!used[i] && ours[i].Tag == tag)
                {
                    index = i;
                    break;
                }
            }

            if (index < 0)
            {
                Miss(itemPath, CountLeaves(kw.GetProperty("value")), $"{name}: missing from our decode");
                continue;
            }

            used[index] = true;
            var item = ours[index];
            if (kw.TryGetProperty("value-unparsed-bytes", out var unparsed))
            {
                Leaf(itemPath, Convert.FromBase64String(unparsed.GetString()!).AsSpan().SequenceEqual(item.Value.Span), $"{name}: unparsed bytes differ");
                continue;
            }

            CompareItem(kw.GetProperty("value"), item, itemPath, name);
        }
    }

    /// <summary>Compares one KWIVER value with one of our items (any kind).</summary>
    public void CompareValue(JsonElement kw, in KlvItem item, string path) => CompareItem(kw, item, path, item.Name);

    /// <summary>Absolute tolerance for doubles inside packs (0: agree to 1e-9 relative). Re-encoding tests set one quantisation step.</summary>
    public double PackTolerance { get; set; }

    /// <summary>KWIVER field names that are encoding choices rather than values (ignored by <see cref="CompareValue"/> callers that re-encode).</summary>
    public HashSet<string> IgnoredFields { get; } = [];

    private void CompareItem(JsonElement kw, in KlvItem item, string path, string? name)
    {
        if (item.Kind is KlvValueKind.Raw or KlvValueKind.Invalid or KlvValueKind.Unknown)
        {
            var n = CountLeaves(kw);
            Total += n;
            var key = $"{item.Tag} {item.Name}";
            RawOnly[key] = RawOnly.GetValueOrDefault(key) + n;
            if (item.Kind != KlvValueKind.Raw)
            {
                Mismatches.Add($"{path} {name}: decoded as {item.Kind}");
            }

            return;
        }

        switch (item.Kind)
        {
            case KlvValueKind.Set:
                if (kw.ValueKind == JsonValueKind.Array)
                {
                    CompareSet(kw, item.AsSet()!, path);
                }
                else
                {
                    Miss(path, CountLeaves(kw), $"{name}: KWIVER value is not a set");
                }

                return;
            case KlvValueKind.Series:
                CompareSeries(kw, item.AsSeries()!, path, name);
                return;
            case KlvValueKind.Struct:
                CompareStructured(kw, item.AsStructured(), path, name);
                return;
        }

        // Scalar item.
        var ok = kw.ValueKind switch
        {
            JsonValueKind.Null => item.Kind is KlvValueKind.Empty or KlvValueKind.OutOfRange,
            // An empty set or series is zero bytes on the wire.
            JsonValueKind.Array when kw.GetArrayLength() == 0 && item.Kind == KlvValueKind.Empty => true,
            JsonValueKind.String => StringEquals(kw.GetString()!, item),
            JsonValueKind.Number => item.IsNumber && NumberEquals(kw.GetDouble(), item.AsDouble(), item.Resolution, path),
            JsonValueKind.Array => item.Kind == KlvValueKind.Flags
                && kw.EnumerateArray().Select(e => e.GetProperty("integer").GetInt32()).Aggregate(0UL, (a, b) => a | (1UL << b)) == item.AsUInt64(),
            JsonValueKind.Object when kw.TryGetProperty("length", out _) => Lengthy(kw, item, path),
            JsonValueKind.Object when kw.TryGetProperty("integer", out var e) => item.Kind == KlvValueKind.Enum && e.GetInt64() == item.AsInt64(),
            JsonValueKind.Object when kw.TryGetProperty("bytes", out var b) => Convert.FromBase64String(b.GetString()!).AsSpan().SequenceEqual(item.Value.Span),
            _ => false,
        };
        Leaf(path, ok, $"{name}: KWIVER {Short(kw)} vs ours {item}");
    }

    private bool Lengthy(JsonElement kw, in KlvItem item, string path)
    {
        var v = kw.GetProperty("value");
        if (v.ValueKind != JsonValueKind.Number)
        {
            return item.Kind is KlvValueKind.Special or KlvValueKind.OutOfRange;
        }

        return item.IsNumber && NumberEquals(v.GetDouble(), item.AsDouble(), item.Resolution, path);
    }

    private bool NumberEquals(double expected, double actual, double step, string path)
    {
        NumericLeaves++;
        var diff = Math.Abs(expected - actual);
        if (diff <= 1e-9 * Math.Max(1, Math.Abs(expected)))
        {
            Exact++;
        }

        // Tolerance: one quantisation step of the field (both sides decode the same bytes, so agreement is normally exact).
        return diff <= Math.Max(step, 1e-9 * Math.Max(1, Math.Abs(expected)));
    }

    private static bool StringEquals(string expected, in KlvItem item)
    {
        if (item.Kind == KlvValueKind.Bytes)
        {
            // KWIVER writes some opaque byte values (RVT user data) as base64 strings.
            return Convert.ToBase64String(item.Value.Span) == expected;
        }

        var ours = item.AsString();
        // KWIVER keeps UTF-16 text (ST 0102 object country codes) as 8-bit chars, NULs included.
        return ours == expected || (ours is not null && ours == expected.Replace("\0", "", StringComparison.Ordinal));
    }

    private void CompareSeries(JsonElement kw, KlvSeries ours, string path, string? name)
    {
        if (kw.ValueKind != JsonValueKind.Array)
        {
            Miss(path, CountLeaves(kw), $"{name}: KWIVER value is not a series");
            return;
        }

        var i = 0;
        foreach (var element in kw.EnumerateArray())
        {
            if (i >= ours.Count)
            {
                Miss($"{path}[{i}]", CountLeaves(element), $"{name}: element {i} missing");
                i++;
                continue;
            }

            var entry = ours[i];
            if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("set", out var set))
            {
                Leaf($"{path}[{i}].id", entry.Id == element.GetProperty("id").GetUInt64(), $"{name}: id");
                CompareSet(set, entry.Set, $"{path}[{i}]");
            }
            else
            {
                CompareSet(element, entry.Set, $"{path}[{i}]");
            }

            i++;
        }

        if (ours.Count > i)
        {
            Mismatches.Add($"{path} {name}: {ours.Count - i} extra elements in ours");
        }
    }

    private void CompareStructured(JsonElement kw, object? ours, string path, string? name)
    {
        switch (kw.ValueKind)
        {
            case JsonValueKind.Object when kw.TryGetProperty("integer", out var e) && kw.TryGetProperty("string", out _):
                Leaf(path, ours is KlvEnumValue ev && ev.Value == e.GetInt64(), $"{name}: enum {Short(kw)} vs {ours}");
                return;
            case JsonValueKind.Object when kw.TryGetProperty("bytes", out var b):
                Leaf(path, ours is KlvBytes kb && kb.Value.AsSpan().SequenceEqual(Convert.FromBase64String(b.GetString()!)), $"{name}: bytes");
                return;
            case JsonValueKind.Object when kw.TryGetProperty("length", out _) && kw.TryGetProperty("value", out var lv):
                Leaf(path, ours is double od && lv.ValueKind == JsonValueKind.Number && NumberEquals(lv.GetDouble(), od, PackTolerance, path), $"{name}: {Short(kw)} vs {ours}");
                return;
            case JsonValueKind.Object when kw.TryGetProperty("kind", out _):
                Leaf(path, ours is KlvSpecialValue, $"{name}: special value {Short(kw)} vs {ours}");
                return;
            case JsonValueKind.Object:
                if (ours is not KlvStruct st)
                {
                    Miss(path, CountLeaves(kw), $"{name}: KWIVER pack vs ours {ours}");
                    return;
                }

                foreach (var prop in kw.EnumerateObject())
                {
                    if (IgnoredFields.Contains(prop.Name))
                    {
                        continue;
                    }

                    var fieldName = prop.Name.Replace('-', '_');
                    var field = st.FirstOrDefault(f => f.Name == fieldName);
                    if (field.Name is null)
                    {
                        Miss($"{path}.{prop.Name}", CountLeaves(prop.Value), $"{name}: no field '{fieldName}'");
                        continue;
                    }

                    CompareStructured(prop.Value, field.Value, $"{path}.{prop.Name}", name);
                }

                return;
            case JsonValueKind.Array when ours is KlvBytes:
            {
                // Array elements coded by another standard (ST 1010 SDCC): kept as bytes by design.
                var n = CountLeaves(kw);
                Total += n;
                var key = $"{name}: SDCC-coded elements";
                RawOnly[key] = RawOnly.GetValueOrDefault(key) + n;
                return;
            }

            case JsonValueKind.Array:
                if (ours is not IReadOnlyList<object?> list)
                {
                    Miss(path, CountLeaves(kw), $"{name}: KWIVER list vs ours {ours}");
                    return;
                }

                var items = kw.EnumerateArray().ToList();
                if (items.All(x => x.ValueKind is JsonValueKind.Number or JsonValueKind.String)
                    || items.All(x => x.ValueKind == JsonValueKind.Object && x.TryGetProperty("integer", out _) && x.TryGetProperty("string", out _)))
                {
                    // A list of scalars or enum flags is one field.
                    var same = items.Count == list.Count && items.Zip(list).All(p => ScalarEquals(p.First, p.Second));
                    Leaf(path, same, $"{name}: list {Short(kw)} vs [{string.Join(", ", list)}]");
                    return;
                }

                for (var i = 0; i < items.Count; i++)
                {
                    if (i < list.Count)
                    {
                        CompareStructured(items[i], list[i], $"{path}[{i}]", name);
                    }
                    else
                    {
                        Miss($"{path}[{i}]", CountLeaves(items[i]), $"{name}: element missing");
                    }
                }

                return;
            default:
                Leaf(path, ScalarEquals(kw, ours), $"{name}: {Short(kw)} vs {ours}");
                return;
        }
    }

    private bool ScalarEquals(JsonElement kw, object? ours) => kw.ValueKind switch
    {
        JsonValueKind.Null => ours is null,
        JsonValueKind.String => ours is string s && s == kw.GetString(),
        JsonValueKind.Number => ours switch
        {
            long l => kw.TryGetInt64(out var k) ? k == l : Math.Abs(kw.GetDouble() - l) < 1e-9,
            double d => NumberEquals(kw.GetDouble(), d, PackTolerance, ""),
            _ => false,
        },
        JsonValueKind.Object when kw.TryGetProperty("integer", out var e) => ours is KlvEnumValue ev && ev.Value == e.GetInt64(),
        _ => false,
    };

    private void Leaf(string path, bool ok, string message)
    {
        Total++;
        if (ok)
        {
            Matched++;
        }
        else
        {
            Mismatches.Add($"{path} {message}");
        }
    }

    private void Miss(string path, int leaves, string message)
    {
        Total += leaves;
        Mismatches.Add($"{path} {message} ({leaves} fields)");
    }

    /// <summary>Number of leaf fields in a KWIVER value, by the same rules the comparison uses.</summary>
    public static int CountLeaves(JsonElement v)
    {
        switch (v.ValueKind)
        {
            case JsonValueKind.Array:
                var items = v.EnumerateArray().ToList();
                if (items.Count == 0 || items.All(x => x.ValueKind is JsonValueKind.Number or JsonValueKind.String)
                    || items.All(x => x.ValueKind == JsonValueKind.Object && x.TryGetProperty("integer", out _) && x.TryGetProperty("string", out _)))
                {
                    return 1;
                }

                return items.Sum(x => x.ValueKind == JsonValueKind.Object && x.TryGetProperty("key", out var k) && k.TryGetProperty("integer", out _)
                    ? CountLeaves(x.GetProperty("value"))
                    : x.ValueKind == JsonValueKind.Object && x.TryGetProperty("set", out var s) ? 1 + CountLeaves(s) : CountLeaves(x));
            case JsonValueKind.Object:
                if (v.TryGetProperty("length", out _) || v.TryGetProperty("bytes", out _) || v.TryGetProperty("kind", out _)
                    || (v.TryGetProperty("integer", out _) && v.TryGetProperty("string", out _)))
                {
                    return 1;
                }

                return v.EnumerateObject().Sum(p => CountLeaves(p.Value));
            default:
                return 1;
        }
    }

    private static string Short(JsonElement e)
    {
        var s = e.GetRawText();
        return s.Length > 80 ? s[..80] + "..." : s;
    }

    public string Report(string label)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{label}: {Matched}/{Total} KWIVER fields match ({100.0 * Matched / Math.Max(1, Total):F2}%); numeric {Exact}/{NumericLeaves} exact to 1e-9");
        foreach (var (tag, n) in RawOnly)
        {
            sb.AppendLine($"  raw by design: {tag}: {n} fields");
        }

        foreach (var m in Mismatches.Take(40))
        {
            sb.AppendLine("  mismatch: " + m);
        }

        return sb.ToString();
    }
}
