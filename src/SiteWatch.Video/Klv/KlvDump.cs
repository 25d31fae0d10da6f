using System.Buffers;
using System.Text;
using System.Text.Json;
using SiteWatch.Video.Ts;

namespace SiteWatch.Video.Klv;

/// <summary>One decoded packet (or junk run) from a dump source, with where and when it was found.</summary>
public sealed record KlvDumpRecord(
    int Index,
    KlvPacket? Packet,
    KlvSliceStatus Status,
    long Position,
    int Length,
    int? Pid,
    long? Pts,
    long? Pcr,
    bool TransportDamaged)
{
    /// <summary>PTS in seconds, or null.</summary>
    public double? Time => Pts is { } pts ? MpegClock.Seconds(pts) : null;
}

/// <summary>Totals for one dump, for the CLI to print after the output.</summary>
public sealed class KlvDumpSummary
{
    public bool IsTransportStream { get; internal set; }

    public int Packets { get; internal set; }

    public int ChecksumFailures { get; internal set; }

    public int PacketsWithProblems { get; internal set; }

    public int JunkRuns { get; internal set; }

    public long JunkBytes { get; internal set; }

    /// <summary>Transport counters when the input was MPEG-TS.</summary>
    public TsDiagnostics? Transport { get; internal set; }

    /// <summary>Elementary streams found when the input was MPEG-TS.</summary>
    public IReadOnlyList<TsElementaryStream> Streams { get; internal set; } = [];

    public override string ToString() =>
        $"{Packets} KLV packets, {ChecksumFailures} bad checksums, {PacketsWithProblems} with problems, {JunkRuns} junk runs ({JunkBytes} bytes)" +
        (Transport is null ? "" : $"; TS: {Transport}");
}

/// <summary>
/// Dumps the KLV in a file: MPEG-TS (.ts/.m2ts/.mts, or sniffed) is demuxed, anything else is read as
/// raw concatenated KLV packets. Output as a JSON array (one object per packet), CSV (one row per value)
/// or indented text. Malformed input never throws: problems appear in the output with byte positions.
/// </summary>
public static class KlvDump
{
    public static KlvDumpSummary WriteJson(string path, TextWriter output) => Write(path, output, new JsonSink(output));

    public static KlvDumpSummary WriteCsv(string path, TextWriter output) => Write(path, output, new CsvSink(output));

    public static KlvDumpSummary WriteText(string path, TextWriter output) => Write(path, output, new TextSink(output));

    public static KlvDumpSummary WriteJson(Stream input, bool isTransportStream, TextWriter output) =>
        Write(input, isTransportStream, new JsonSink(output));

    public static KlvDumpSummary WriteCsv(Stream input, bool isTransportStream, TextWriter output) =>
        Write(input, isTransportStream, new CsvSink(output));

    public static KlvDumpSummary WriteText(Stream input, bool isTransportStream, TextWriter output) =>
        Write(input, isTransportStream, new TextSink(output));

    private static KlvDumpSummary Write(string path, TextWriter output, Sink sink)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(output);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Write(stream, LooksLikeTransportStream(path, stream), sink);
    }

    private static KlvDumpSummary Write(Stream input, bool isTs, Sink sink)
    {
        var summary = new KlvDumpSummary { IsTransportStream = isTs };
        sink.Begin();
        foreach (var record in Read(input, isTs, summary))
        {
            sink.Record(record);
        }

        sink.End();
        return summary;
    }

    /// <summary>True for .ts/.m2ts/.mts names, or when the first bytes show 0x47 at 188-byte spacing.</summary>
    public static bool LooksLikeTransportStream(string path, Stream stream)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is ".ts" or ".m2ts" or ".mts" or ".trp")
        {
            return true;
        }

        if (!stream.CanSeek)
        {
            return false;
        }

        var start = stream.Position;
        Span<byte> probe = stackalloc byte[TsDemuxer.PacketSize * 2 + 1];
        var n = stream.ReadAtLeast(probe, probe.Length, throwOnEndOfStream: false);
        stream.Position = start;
        return n == probe.Length && probe[0] == 0x47 && probe[188] == 0x47 && probe[376] == 0x47;
    }

    /// <summary>Decodes every KLV packet in <paramref name="input"/>, lazily.</summary>
    public static IEnumerable<KlvDumpRecord> Read(Stream input, bool isTransportStream, KlvDumpSummary? summary = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        summary ??= new KlvDumpSummary();
        summary.IsTransportStream = isTransportStream;
        var index = 0;
        if (!isTransportStream)
        {
            var splitter = new KlvPacketSplitter();
            var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
            long position = 0;
            try
            {
                int n;
                while ((n = input.Read(buffer, 0, buffer.Length)) > 0)
                {
                    splitter.Write(buffer.AsSpan(0, n), position);
                    position += n;
                    while (splitter.TryRead(out var slice))
                    {
                        yield return MakeRecord(index++, slice, null, null, null, false, summary);
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            foreach (var slice in splitter.Flush())
            {
                yield return MakeRecord(index++, slice, null, null, null, false, summary);
            }

            yield break;
        }

        var demuxer = new TsDemuxer();
        summary.Transport = demuxer.Diagnostics;
        summary.Streams = demuxer.Streams;
        var perPid = new Dictionary<int, PidSplitter>();
        foreach (var unit in TsDemuxer.ReadKlv(input, demuxer))
        {
            if (!perPid.TryGetValue(unit.Pid, out var ps))
            {
                perPid[unit.Pid] = ps = new PidSplitter();
            }

            if (unit.DataAligned && ps.Splitter.PendingBytes > 0)
            {
                // The transport says a new KLV packet starts here: what is pending was cut short.
                foreach (var slice in ps.Splitter.Flush())
                {
                    var u = ps.UnitAt(slice.Position);
                    yield return MakeRecord(index++, slice, unit.Pid, u.Pts, u.Pcr, true, summary, u.Position);
                }
            }

            ps.Add(unit);
            while (ps.Splitter.TryRead(out var slice))
            {
                var u = ps.UnitAt(slice.Position);
                yield return MakeRecord(index++, slice, unit.Pid, u.Pts, u.Pcr, u.Damaged, summary, u.Position);
            }
        }

        foreach (var (pid, ps) in perPid)
        {
            foreach (var slice in ps.Splitter.Flush())
            {
                var u = ps.UnitAt(slice.Position);
                yield return MakeRecord(index++, slice, pid, u.Pts, u.Pcr, u.Damaged, summary, u.Position);
            }
        }
    }

    /// <summary>Splitter for one KLV PID plus the units its bytes came from, so a packet gets the timing of the PES it started in.</summary>
    private sealed class PidSplitter
    {
        private readonly List<(long Start, KlvAccessUnit Unit)> _units = [];
        private long _fed;

        public KlvPacketSplitter Splitter { get; } = new();

        public void Add(KlvAccessUnit unit)
        {
            _units.Add((_fed, unit));
            Splitter.Write(unit.Payload.Span, _fed);
            _fed += unit.Payload.Length;
        }

        public KlvAccessUnit UnitAt(long offset)
        {
            var i = _units.Count - 1;
            while (i > 0 && _units[i].Start > offset)
            {
                i--;
            }

            var unit = _units[i].Unit;
            if (i > 0)
            {
                _units.RemoveRange(0, i); // earlier units can no longer be referenced
            }

            return unit;
        }
    }

    private static KlvDumpRecord MakeRecord(int index, KlvSlice slice, int? pid, long? pts, long? pcr, bool damaged, KlvDumpSummary summary, long? transportPosition = null)
    {
        var position = transportPosition ?? slice.Position;
        if (slice.Status == KlvSliceStatus.Junk)
        {
            summary.JunkRuns++;
            summary.JunkBytes += slice.Bytes.Length;
            return new KlvDumpRecord(index, null, slice.Status, position, slice.Bytes.Length, pid, pts, pcr, damaged);
        }

        var packet = KlvDecoder.Decode(slice.Bytes);
        summary.Packets++;
        if (packet.ChecksumStatus == KlvChecksumStatus.Invalid)
        {
            summary.ChecksumFailures++;
        }

        if (packet.HasProblems)
        {
            summary.PacketsWithProblems++;
        }

        return new KlvDumpRecord(index, packet, slice.Status, position, slice.Bytes.Length, pid, pts, pcr, damaged);
    }

    internal static string FormatNumber(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    // ------------------------------------------------------------------ sinks

    private abstract class Sink
    {
        public virtual void Begin()
        {
        }

        public abstract void Record(KlvDumpRecord record);

        public virtual void End()
        {
        }
    }

    private sealed class JsonSink(TextWriter output) : Sink
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(1 << 14);
        private Utf8JsonWriter? _writer;

        public override void Begin()
        {
            _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            _writer.WriteStartArray();
        }

        public override void Record(KlvDumpRecord r)
        {
            var w = _writer!;
            w.WriteStartObject();
            w.WriteNumber("index", r.Index);
            WriteNullableNumber(w, "pts", r.Pts);
            if (r.Time is { } t)
            {
                w.WriteNumber("time", t);
            }
            else
            {
                w.WriteNull("time");
            }

            if (r.Pts is null && r.Pcr is { } pcr)
            {
                w.WriteNumber("pcr", pcr);
            }

            w.WriteNumber("position", r.Position);
            if (r.Pid is { } pid)
            {
                w.WriteNumber("pid", pid);
            }

            if (r.Packet is not { } p)
            {
                w.WriteNull("key");
                w.WriteString("name", "Junk");
                w.WriteNumber("length", r.Length);
                w.WriteStartArray("problems");
                w.WriteStartObject();
                w.WriteString("kind", nameof(KlvProblemKind.ExtraBytes));
                w.WriteNumber("offset", 0);
                w.WriteString("message", $"{r.Length} bytes that are not a KLV packet");
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
                Flush();
                return;
            }

            w.WriteString("key", p.Bytes.Length >= 16 ? p.Key.ToString() : Convert.ToHexString(p.Bytes.Span));
            w.WriteString("name", p.Name);
            w.WriteNumber("length", r.Length);
            if (p.ChecksumStatus == KlvChecksumStatus.NotApplicable)
            {
                w.WriteNull("checksum_ok");
            }
            else
            {
                w.WriteBoolean("checksum_ok", p.ChecksumOk);
            }

            if (r.TransportDamaged)
            {
                w.WriteBoolean("transport_damaged", true);
            }

            if (p.HasProblems)
            {
                w.WriteStartArray("problems");
                foreach (var pr in p.Problems)
                {
                    w.WriteStartObject();
                    w.WriteString("kind", pr.Kind.ToString());
                    w.WriteNumber("offset", pr.Offset);
                    if (pr.Tag > 0)
                    {
                        w.WriteNumber("tag", pr.Tag);
                    }

                    w.WriteString("message", pr.Message);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            if (p.Set is { } set)
            {
                WriteItems(w, set);
            }
            else if (p.ValueOffset > 0 && p.ValueOffset <= p.Bytes.Length)
            {
                w.WriteString("value_hex", Convert.ToHexString(p.Bytes.Span[p.ValueOffset..]));
            }

            w.WriteEndObject();
            Flush();
        }

        public override void End()
        {
            _writer!.WriteEndArray();
            Flush();
            output.WriteLine();
            output.Flush();
        }

        private void Flush()
        {
            _writer!.Flush();
            output.Write(Encoding.UTF8.GetString(_buffer.WrittenSpan));
            _buffer.ResetWrittenCount();
        }

        private static void WriteNullableNumber(Utf8JsonWriter w, string name, long? v)
        {
            if (v is { } x)
            {
                w.WriteNumber(name, x);
            }
            else
            {
                w.WriteNull(name);
            }
        }

        private static void WriteItems(Utf8JsonWriter w, KlvLocalSet set)
        {
            w.WriteStartArray("items");
            foreach (var item in set.AsSpan())
            {
                WriteItem(w, item);
            }

            w.WriteEndArray();
        }

        private static void WriteItem(Utf8JsonWriter w, in KlvItem item)
        {
            w.WriteStartObject();
            w.WriteNumber("tag", item.Tag);
            if (item.UniversalKey is { } itemKey)
            {
                w.WriteString("key", itemKey.ToString());
            }

            w.WriteString("name", item.Name);
            w.WritePropertyName("value");
            switch (item.Kind)
            {
                case KlvValueKind.Empty:
                    w.WriteNullValue();
                    break;
                case KlvValueKind.Double:
                    WriteDouble(w, item.AsDouble());
                    break;
                case KlvValueKind.Int64:
                    w.WriteNumberValue(item.AsInt64());
                    break;
                case KlvValueKind.UInt64:
                case KlvValueKind.Timestamp:
                case KlvValueKind.Enum:
                case KlvValueKind.Flags:
                    w.WriteNumberValue(item.AsUInt64());
                    break;
                case KlvValueKind.String:
                    w.WriteStringValue(item.AsString());
                    break;
                case KlvValueKind.Set:
                    w.WriteStartObject();
                    w.WriteString("name", item.AsSet()!.Schema.Name);
                    WriteItems(w, item.AsSet()!);
                    w.WriteEndObject();
                    break;
                case KlvValueKind.Series:
                    w.WriteStartArray();
                    foreach (var e in item.AsSeries()!)
                    {
                        w.WriteStartObject();
                        if (e.Id is { } id)
                        {
                            w.WriteNumber("id", id);
                        }

                        w.WriteString("name", e.Set.Schema.Name);
                        WriteItems(w, e.Set);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    break;
                case KlvValueKind.Struct:
                    WriteStructured(w, item.AsStructured());
                    break;
                case KlvValueKind.OutOfRange:
                case KlvValueKind.Special:
                    w.WriteNullValue();
                    break;
                default:
                    w.WriteStringValue(Convert.ToHexString(item.Value.Span));
                    break;
            }

            switch (item.Kind)
            {
                case KlvValueKind.Enum:
                    if (item.Label is { } label)
                    {
                        w.WriteString("label", label);
                    }

                    break;
                case KlvValueKind.Flags:
                    w.WriteStartArray("flags");
                    foreach (var f in item.FlagNames())
                    {
                        w.WriteStringValue(f);
                    }

                    w.WriteEndArray();
                    break;
                case KlvValueKind.Timestamp:
                    if (item.AsDateTime() is { } utc)
                    {
                        w.WriteString("utc", utc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
                    }

                    break;
                case KlvValueKind.OutOfRange:
                    w.WriteBoolean("out_of_range", true);
                    break;
                case KlvValueKind.Special:
                    w.WriteString("special", Imapb.Describe(item.Special));
                    break;
                case KlvValueKind.Bytes:
                    w.WriteString("encoding", "hex");
                    break;
                case KlvValueKind.Raw:
                case KlvValueKind.Unknown:
                case KlvValueKind.Invalid:
                    w.WriteBoolean("raw", true);
                    if (item.InvalidReason is { } reason)
                    {
                        w.WriteString("problem", reason);
                    }
                    else if (item.Traits?.Note is { } note)
                    {
                        w.WriteString("note", note);
                    }

                    break;
            }

            if (item.Units is { } units && item.Kind is not (KlvValueKind.Struct or KlvValueKind.Set or KlvValueKind.Series))
            {
                w.WriteString("units", units);
            }

            w.WriteEndObject();
        }

        private static void WriteDouble(Utf8JsonWriter w, double v)
        {
            if (double.IsFinite(v))
            {
                w.WriteNumberValue(v);
            }
            else
            {
                w.WriteNullValue();
            }
        }

        private static void WriteStructured(Utf8JsonWriter w, object? value)
        {
            switch (value)
            {
                case null:
                    w.WriteNullValue();
                    break;
                case double d:
                    WriteDouble(w, d);
                    break;
                case long l:
                    w.WriteNumberValue(l);
                    break;
                case ulong u:
                    w.WriteNumberValue(u);
                    break;
                case bool b:
                    w.WriteBooleanValue(b);
                    break;
                case string s:
                    w.WriteStringValue(s);
                    break;
                case KlvBytes bytes:
                    w.WriteStringValue(bytes.ToString());
                    break;
                case KlvEnumValue e:
                    w.WriteStartObject();
                    w.WriteNumber("value", e.Value);
                    if (e.Label is not null)
                    {
                        w.WriteString("label", e.Label);
                    }

                    w.WriteEndObject();
                    break;
                case KlvSpecialValue sv:
                    w.WriteStartObject();
                    w.WriteString("special", sv.ToString());
                    w.WriteEndObject();
                    break;
                case KlvStruct st:
                    w.WriteStartObject();
                    foreach (var f in st)
                    {
                        w.WritePropertyName(f.Name);
                        WriteStructured(w, f.Value);
                    }

                    w.WriteEndObject();
                    break;
                case IEnumerable<object?> list:
                    w.WriteStartArray();
                    foreach (var e in list)
                    {
                        WriteStructured(w, e);
                    }

                    w.WriteEndArray();
                    break;
                default:
                    w.WriteStringValue(value.ToString());
                    break;
            }
        }
    }

    /// <summary>One row per leaf value; nested items get a dotted path (74.101[1234].10).</summary>
    /// <summary>One row per item (nested sets, series and structured values flattened into a path), RFC 4180 quoting.</summary>
    private sealed class CsvSink(TextWriter output) : Sink
    {
        // Lines end as the other dump formats' do (LF); the writer checks that every row has the header's 13 fields.
        private readonly CsvHelper.CsvWriter _csv = CsvHelper.CsvWriter.Create(output, new CsvHelper.CsvWriterOptions { NewLine = "\n" }, leaveOpen: true);

        public override void Begin() =>
            _csv.WriteHeader(["index", "time", "pts", "position", "pid", "packet", "checksum_ok", "path", "tag", "name", "value", "units", "note"]);

        public override void End() => _csv.Dispose();

        public override void Record(KlvDumpRecord r)
        {
            if (r.Packet is not { } p)
            {
                Row(r, "", "", "", "", "", $"{r.Length} junk bytes");
                return;
            }

            foreach (var pr in p.Problems)
            {
                Row(r, "", pr.Tag > 0 ? pr.Tag.ToString(CultureInfo.InvariantCulture) : "", "problem", "", "", pr.ToString());
            }

            if (p.Set is { } set)
            {
                WriteSet(r, "", set);
            }
        }

        private void WriteSet(KlvDumpRecord r, string path, KlvLocalSet set)
        {
            foreach (var item in set.AsSpan())
            {
                var itemPath = path.Length == 0 ? item.Tag.ToString(CultureInfo.InvariantCulture) : $"{path}.{item.Tag}";
                switch (item.Kind)
                {
                    case KlvValueKind.Set:
                        WriteSet(r, itemPath, item.AsSet()!);
                        break;
                    case KlvValueKind.Series:
                        var i = 0;
                        foreach (var e in item.AsSeries()!)
                        {
                            WriteSet(r, $"{itemPath}[{(e.Id is { } id ? id : (ulong)i)}]", e.Set);
                            i++;
                        }

                        break;
                    case KlvValueKind.Struct:
                        WriteStructured(r, itemPath, item, item.AsStructured());
                        break;
                    default:
                        Row(r, itemPath, item.Tag.ToString(CultureInfo.InvariantCulture), item.Name, TextValue(item), item.Units ?? "", Note(item) ?? "");
                        break;
                }
            }
        }

        private void WriteStructured(KlvDumpRecord r, string path, in KlvItem item, object? value)
        {
            switch (value)
            {
                case KlvStruct st:
                    foreach (var f in st)
                    {
                        WriteStructured(r, $"{path}.{f.Name}", item, f.Value);
                    }

                    break;
                case IReadOnlyList<object?> list:
                    for (var i = 0; i < list.Count; i++)
                    {
                        WriteStructured(r, $"{path}[{i}]", item, list[i]);
                    }

                    break;
                default:
                    Row(r, path, item.Tag.ToString(CultureInfo.InvariantCulture), item.Name, StructuredText(value), "", "");
                    break;
            }
        }

        /// <summary>One row: the packet's columns, then the item's.</summary>
        private void Row(KlvDumpRecord r, string path, string tag, string name, string value, string units, string note)
        {
            _csv.WriteField(r.Index.ToString(CultureInfo.InvariantCulture));
            _csv.WriteField(r.Time is { } t ? FormatNumber(t) : "");
            _csv.WriteField(r.Pts?.ToString(CultureInfo.InvariantCulture) ?? "");
            _csv.WriteField(r.Position.ToString(CultureInfo.InvariantCulture));
            _csv.WriteField(r.Pid?.ToString(CultureInfo.InvariantCulture) ?? "");
            _csv.WriteField(r.Packet?.Name ?? "Junk");
            _csv.WriteField(r.Packet is null || r.Packet.ChecksumStatus == KlvChecksumStatus.NotApplicable ? "" : r.Packet.ChecksumOk ? "true" : "false");
            _csv.WriteField(path);
            _csv.WriteField(tag);
            _csv.WriteField(name);
            _csv.WriteField(value);
            _csv.WriteField(units);
            _csv.WriteField(note);
            _csv.EndRecord();
        }
    }

    /// <summary>Indented, human-readable form.</summary>
    private sealed class TextSink(TextWriter output) : Sink
    {
        public override void Record(KlvDumpRecord r)
        {
            var when = r.Time is { } t ? $"t={FormatNumber(t)}s" : r.Pcr is { } pcr ? $"pcr={FormatNumber(MpegClock.Seconds(pcr))}s" : "t=-";
            var where = r.Pid is { } pid ? $"byte {r.Position} PID 0x{pid:X4}" : $"byte {r.Position}";
            if (r.Packet is not { } p)
            {
                output.WriteLine($"#{r.Index} {when} {where}: {r.Length} junk bytes (not KLV)");
                return;
            }

            var checksum = p.ChecksumStatus switch
            {
                KlvChecksumStatus.Valid => ", checksum OK",
                KlvChecksumStatus.Invalid => $", CHECKSUM BAD (0x{p.ReceivedChecksum:X4} != 0x{p.ComputedChecksum:X4})",
                KlvChecksumStatus.Missing => ", checksum missing",
                _ => "",
            };
            output.WriteLine($"#{r.Index} {when} {where}: {p.Name} [{(p.Bytes.Length >= 16 ? p.Key.ToString() : "short")}] {r.Length} bytes{checksum}{(r.TransportDamaged ? ", transport damaged" : "")}");
            foreach (var pr in p.Problems)
            {
                output.WriteLine($"  ! {pr}");
            }

            if (p.Set is { } set)
            {
                WriteSet(set, "  ");
            }
        }

        private void WriteSet(KlvLocalSet set, string indent)
        {
            foreach (var item in set.AsSpan())
            {
                switch (item.Kind)
                {
                    case KlvValueKind.Set:
                        output.WriteLine($"{indent}{item.Tag,3} {item.Name}:");
                        WriteSet(item.AsSet()!, indent + "      ");
                        break;
                    case KlvValueKind.Series:
                        output.WriteLine($"{indent}{item.Tag,3} {item.Name}: {item.AsSeries()!.Count} entries");
                        foreach (var e in item.AsSeries()!)
                        {
                            output.WriteLine($"{indent}      - {(e.Id is { } id ? $"id {id}" : e.Set.Schema.Name)}");
                            WriteSet(e.Set, indent + "        ");
                        }

                        break;
                    default:
                        var units = item.Units is { } u && item.IsNumber ? " " + u : "";
                        var note = Note(item) is { } n ? $"  ({n})" : "";
                        output.WriteLine($"{indent}{item.Tag,3} {item.Name}: {TextValue(item)}{units}{note}");
                        break;
                }
            }
        }
    }

    private static string? Note(in KlvItem item) => item.Kind switch
    {
        KlvValueKind.Invalid => "invalid: " + item.InvalidReason,
        KlvValueKind.Unknown => item.UniversalKey is { } key ? $"unknown key {key}, {item.Length} bytes, raw hex" : "unknown tag, raw hex",
        KlvValueKind.Raw => "raw hex: " + item.Traits?.Note,
        KlvValueKind.OutOfRange => "out of range",
        _ => null,
    };

    private static string TextValue(in KlvItem item) => item.Kind switch
    {
        KlvValueKind.Empty => "(empty)",
        KlvValueKind.Double => FormatNumber(item.AsDouble()),
        KlvValueKind.Int64 => item.AsInt64().ToString(CultureInfo.InvariantCulture),
        KlvValueKind.UInt64 => item.AsUInt64().ToString(CultureInfo.InvariantCulture),
        KlvValueKind.Timestamp => item.AsUInt64().ToString(CultureInfo.InvariantCulture)
            + (item.AsDateTime() is { } utc ? " (" + utc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture) + ")" : ""),
        KlvValueKind.Enum => item.AsUInt64().ToString(CultureInfo.InvariantCulture) + (item.Label is { } l ? $" ({l})" : ""),
        KlvValueKind.Flags => $"0x{item.AsUInt64():X} [{string.Join(", ", item.FlagNames())}]",
        KlvValueKind.String => item.AsString() ?? "",
        KlvValueKind.Special => Imapb.Describe(item.Special),
        KlvValueKind.OutOfRange => "(out of range)",
        KlvValueKind.Struct => StructuredText(item.AsStructured()),
        _ => Convert.ToHexString(item.Value.Span),
    };

    private static string StructuredText(object? value) => value switch
    {
        null => "null",
        double d => FormatNumber(d),
        long l => l.ToString(CultureInfo.InvariantCulture),
        ulong u => u.ToString(CultureInfo.InvariantCulture),
        KlvStruct st => "{" + string.Join(", ", st.Select(f => $"{f.Name}: {StructuredText(f.Value)}")) + "}",
        IEnumerable<object?> list => "[" + string.Join(", ", list.Select(StructuredText)) + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
