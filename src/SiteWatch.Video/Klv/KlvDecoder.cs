using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SiteWatch.Video.Klv;

/// <summary>
/// The generic, table-driven decoder. It never throws on malformed bytes: every problem becomes a
/// <see cref="KlvProblem"/> with its byte offset, and bytes it cannot interpret are kept as raw items.
/// </summary>
public static class KlvDecoder
{
    /// <summary>Nested sets deeper than this are kept raw (guards against hostile recursion such as amend-in-amend).</summary>
    public const int MaxDepth = 12;

    /// <summary>Decodes one packet (key, BER length, value) into a new <see cref="KlvPacket"/>.</summary>
    public static KlvPacket Decode(ReadOnlyMemory<byte> packet, KlvRegistry? registry = null)
    {
        var result = new KlvPacket();
        Decode(packet, result, registry);
        return result;
    }

    /// <summary>
    /// Decodes one packet into <paramref name="into"/>, reusing its storage; numeric items cause no
    /// allocation. Items of the previous packet are invalidated.
    /// </summary>
    public static void Decode(ReadOnlyMemory<byte> packet, KlvPacket into, KlvRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(into);
        into.Reset(packet);
        var span = packet.Span;
        ref var problems = ref into.ProblemList;
        if (span.Length < 16)
        {
            Report(ref problems, KlvProblemKind.Truncated, 0, 0, $"Packet of {span.Length} bytes is shorter than a 16-byte key");
            return;
        }

        var key = new KlvKey(BinaryPrimitives.ReadUInt64BigEndian(span), BinaryPrimitives.ReadUInt64BigEndian(span[8..]));
        var n = Ber.TryReadLength(span[16..], out var declared);
        if (n <= 0)
        {
            into.SetHeader(key, (registry ?? KlvRegistry.Default).Find(key), 16, -1);
            Report(ref problems, n == 0 ? KlvProblemKind.Truncated : KlvProblemKind.BadLength, 16, 0,
                n == 0 ? "Packet ends inside its BER length" : $"Invalid BER length byte 0x{span[16]:X2}");
            return;
        }

        var valueOffset = 16 + n;
        var available = span.Length - valueOffset;
        var valueLength = declared;
        if (declared > available)
        {
            Report(ref problems, KlvProblemKind.Truncated, valueOffset + available, 0,
                $"Length says {declared} value bytes but only {available} present");
            valueLength = available;
        }
        else if (declared < available)
        {
            Report(ref problems, KlvProblemKind.ExtraBytes, valueOffset + declared, 0,
                $"{available - declared} bytes after the packet's declared end");
        }

        var schema = (registry ?? KlvRegistry.Default).Find(key);
        into.SetHeader(key, schema, valueOffset, declared);
        if (schema is null)
        {
            return;
        }

        var set = into.RentSet(schema);
        var value = packet.Slice(valueOffset, valueLength);
        set.Reset(schema, value, valueOffset);
        if (schema.IsUniversal)
        {
            DecodeUniversalItems(set, schema, value, valueOffset, ref problems, 0);
        }
        else
        {
            // 0x03 in UL byte 5 means one-byte tags; everything else MISB uses is BER-OID.
            DecodeItems(set, schema, value, valueOffset, ref problems, 0, key.RegistryDesignator == 0x03);
        }

        if (schema.Checksum != KlvChecksumKind.None)
        {
            VerifyChecksum(into, set, schema, span, ref problems);
        }
    }

    /// <summary>Decodes a bare local set (no key or length) such as a nested set's value.</summary>
    public static KlvLocalSet DecodeSet(KlvSchema schema, ReadOnlyMemory<byte> value)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var set = new KlvLocalSet(schema);
        set.Reset(schema, value, 0);
        List<KlvProblem>? problems = null;
        if (schema.IsUniversal)
        {
            DecodeUniversalItems(set, schema, value, 0, ref problems, 0);
        }
        else
        {
            DecodeItems(set, schema, value, 0, ref problems, 0, false);
        }

        set.Problems = (IReadOnlyList<KlvProblem>?)problems ?? [];
        return set;
    }

    private static void VerifyChecksum(KlvPacket packet, KlvLocalSet set, KlvSchema schema, ReadOnlySpan<byte> span, ref List<KlvProblem>? problems)
    {
        var items = set.AsSpan();
        for (var i = items.Length - 1; i >= 0; i--)
        {
            ref readonly var item = ref items[i];
            if (item.Tag != schema.ChecksumTag)
            {
                continue;
            }

            if (item.Length != 2)
            {
                break;
            }

            var received = BinaryPrimitives.ReadUInt16BigEndian(item.Value.Span);
            // The checksum covers the key through the checksum item's own tag and length bytes.
            var computed = KlvChecksum.Compute(schema.Checksum, span[..item.ValueOffset]);
            var ok = received == computed;
            packet.SetChecksum(ok ? KlvChecksumStatus.Valid : KlvChecksumStatus.Invalid, received, computed);
            if (!ok)
            {
                Report(ref problems, KlvProblemKind.ChecksumMismatch, item.Offset, item.Tag,
                    set.Pool?.ChecksumMessage(received, computed) ?? ChecksumMessage(received, computed));
            }
            else if (i != items.Length - 1)
            {
                Report(ref problems, KlvProblemKind.ExtraBytes, items[i + 1].Offset, 0, "Items after the checksum are not covered by it");
            }

            return;
        }

        packet.SetChecksum(KlvChecksumStatus.Missing, null, KlvChecksum.Compute(schema.Checksum, span));
        Report(ref problems, KlvProblemKind.ChecksumMissing, span.Length, schema.ChecksumTag, "Packet does not end with its checksum item");
    }

    internal static string ChecksumMessage(ushort received, ushort computed) => $"Checksum 0x{received:X4} in packet, 0x{computed:X4} computed";

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void DecodeItems(KlvLocalSet set, KlvSchema schema, ReadOnlyMemory<byte> memory, int baseOffset, ref List<KlvProblem>? problems, int depth, bool oneByteTags)
    {
        var span = memory.Span;
        var table = schema.FastTable;
        // Items count their offsets from their set's (KlvItem); every caller passes the set's own offset, which the
        // run loop relies on (it writes the item's position in the set as its offset).
        var runs = baseOffset == set.Offset;
        var pos = 0;
        while (true)
        {
            // Runs of common items are decoded by a loop without calls, so its state stays in registers; each item it
            // stops at goes through the general path, one at a time.
            if (runs)
            {
                pos = DecodeRun(set, schema.RunTable, span, pos);
            }

            if (pos >= span.Length)
            {
                break;
            }

            pos = DecodeItems(set, table, runs ? schema.RunTable : null, span, pos, baseOffset, ref problems, depth, oneByteTags);
            if (pos < 0)
            {
                break; // the rest of the set was unreadable and is kept raw
            }
        }

        set.TrimObjects();
    }

    /// <summary>
    /// Decodes items from <paramref name="pos"/> while they have a one-byte tag and length and a value the tag's row
    /// decodes without a call: numbers, texts and bytes at the lengths the standard gives them (see
    /// <see cref="KlvFastTrait"/>); returns where it stopped, the end of the set or the first item left to
    /// <see cref="DecodeItem"/>, which decodes it the same way or reports why not. Nothing in the loop calls out, so
    /// its state stays in registers (packs are checked after it, <see cref="CheckPacks"/>, and a slot that names
    /// another set gets its owner there too, <see cref="SetOwners"/>: the GC write barrier is a call), and the byte
    /// reads are checked once per item (the header against the set's end, the value by its length) rather than per
    /// access.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int DecodeRun(KlvLocalSet set, KlvRunRow[] table, ReadOnlySpan<byte> span, int pos)
    {
        var items = set.ItemArray;
        var start = set.Count;
        // The next item is written through a reference that moves on to the storage's end: no index to keep and scale.
        ref var slot = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(items), start);
        ref var slotsEnd = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(items), items.Length);
        ref var rows = ref MemoryMarshal.GetArrayDataReference(table); // 128 rows (KlvSchema.RunTable)
        ref var bytes = ref MemoryMarshal.GetReference(span);
        var end = span.Length;
        var firstPack = -1; // the first and last pack items of the run, checked after the loop (CheckPacks)
        var lastPack = 0;
        var owned = true; // every slot written already names the set (else SetOwners after the loop)
        while (pos + 1 < end && Unsafe.IsAddressLessThan(ref slot, ref slotsEnd))
        {
            var tag = (uint)Unsafe.Add(ref bytes, pos);
            var length = (int)Unsafe.Add(ref bytes, pos + 1);
            if (((tag | (uint)length) & 0x80) != 0 || length > end - pos - 2)
            {
                break; // a multi-byte tag or length, or a value past the set's end
            }

            ref readonly var row = ref Unsafe.Add(ref rows, (nint)tag);
            if ((uint)(length - row.MinLength) > row.LengthRange)
            {
                break; // a value the general path decodes (or reports)
            }

            var at = pos + 2;
            var kind = row.Kind;
            long bits;
            switch (row.Op)
            {
                case KlvFastOp.UIntMapped:
                    bits = BitConverter.DoubleToInt64Bits(ReadUIntAt(ref bytes, end, at, length) * row.Scale + row.Offset);
                    break;
                case KlvFastOp.IntMapped:
                    var raw = ReadIntAt(ref bytes, end, at, length);
                    // The most negative value is the "out of range / error" sentinel.
                    kind = raw == long.MinValue >> (64 - 8 * length) ? KlvValueKind.OutOfRange : KlvValueKind.Double;
                    bits = BitConverter.DoubleToInt64Bits(raw * row.Scale);
                    break;
                case KlvFastOp.UInt:
                    bits = (long)ReadUIntAt(ref bytes, end, at, length);
                    break;
                case KlvFastOp.Int:
                    bits = ReadIntAt(ref bytes, end, at, length);
                    break;
                case KlvFastOp.Imapb:
                    var unsigned = ReadUIntAt(ref bytes, end, at, length);
                    if ((unsigned >> (8 * length - 1)) != 0)
                    {
                        goto Stop; // an ST 1201 special value
                    }

                    // Imapb.Decode's arithmetic, ScaleReverse * (raw - ZOffset) + Min, at the standard's length (the row's).
                    bits = BitConverter.DoubleToInt64Bits(row.Scale * (unsigned - row.ZOffset) + row.Offset);
                    break;
                case KlvFastOp.Text:
                    bits = 0;
                    break;
                case KlvFastOp.Float when length == 4:
                    bits = BitConverter.DoubleToInt64Bits(BitConverter.Int32BitsToSingle(
                        BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref bytes, at)))));
                    break;
                case KlvFastOp.Float when length == 8:
                    bits = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(
                        BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<long>(ref Unsafe.Add(ref bytes, at)))));
                    break;
                case KlvFastOp.ShortOid when Unsafe.Add(ref bytes, at) < 0x80:
                    bits = Unsafe.Add(ref bytes, at);
                    break;
                case KlvFastOp.Pack:
                    // Written as it stands and checked after the loop (CheckPacks): packs sit among the numbers, and
                    // leaving the run for each costs more than their check, while a call here would make the loop
                    // keep its state on the stack (a call clobbers most registers).
                    lastPack = ItemIndex(set, ref slot);
                    if (firstPack < 0)
                    {
                        firstPack = lastPack;
                    }

                    bits = 0;
                    break;
                default:
                    goto Stop;
            }

            if (!KlvItem.WriteRelative(ref slot, set, (int)tag, kind, pos, 2, length, bits))
            {
                owned = false;
            }

            slot = ref Unsafe.Add(ref slot, 1);
            pos = at + length;
        }

    Stop:
        var count = ItemIndex(set, ref slot);
        set.SetCount(count);
        if (!owned)
        {
            SetOwners(set, start, count);
        }

        return firstPack < 0 ? pos : CheckPacks(set, span, firstPack, lastPack, pos);
    }

    /// <summary>The index of <paramref name="slot"/> in <paramref name="set"/>'s item storage.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ItemIndex(KlvLocalSet set, ref KlvItem slot) =>
        (int)((nuint)Unsafe.ByteOffset(ref MemoryMarshal.GetArrayDataReference(set.ItemArray), ref slot) / (nuint)Unsafe.SizeOf<KlvItem>());

    /// <summary>Stores the set in the slots from <paramref name="start"/> to <paramref name="end"/> that name another owner.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void SetOwners(KlvLocalSet set, int start, int end)
    {
        var items = set.ItemArray;
        for (var i = start; i < end; i++)
        {
            KlvItem.SetOwner(ref items[i], set);
        }
    }

    /// <summary>
    /// The packs <see cref="DecodeRun"/> wrote from item <paramref name="from"/> to <paramref name="last"/>, in order:
    /// a well-formed pack gets its object index (its struct built when first asked for, so nothing is allocated here);
    /// at the first one its validator rejects, the run ends (the items from it on are dropped) and that pack's
    /// position is returned, for the general path to decode it and report why; else <paramref name="pos"/>, where the
    /// run stopped. The items are the same as when each pack was checked in the loop, and the objects in the same
    /// order.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int CheckPacks(KlvLocalSet set, ReadOnlySpan<byte> span, int from, int last, int pos)
    {
        var items = set.ItemArray;
        var table = set.Schema.FastTable;
        for (var i = from; i <= last; i++)
        {
            ref var item = ref items[i];
            if (item.Kind != KlvValueKind.Struct)
            {
                continue;
            }

            if (table[item.Tag].Validator is { } valid && valid(span.Slice(item.ValueStart, item.Length)))
            {
                KlvItem.SetBits(ref item, set.AddObject(KlvLocalSet.PackNotBuilt));
                continue;
            }

            set.SetCount(i);
            return item.RelativeOffset;
        }

        return pos;
    }

    /// <summary>
    /// The 1-8 byte big-endian unsigned value at <paramref name="at"/> of <paramref name="bytes"/>, whose last
    /// <paramref name="length"/> bytes the caller has checked are before <paramref name="end"/>: one 8-byte load and a
    /// shift when 8 bytes remain before the end, else byte by byte.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadUIntAt(ref byte bytes, int end, int at, int length)
    {
        if (end - at >= 8)
        {
            return BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref bytes, at))) >> (64 - 8 * length);
        }

        ulong v = 0;
        for (var i = 0; i < length; i++)
        {
            v = (v << 8) | Unsafe.Add(ref bytes, at + i);
        }

        return v;
    }

    /// <summary>The 1-8 byte big-endian two's complement value at <paramref name="at"/> (see <see cref="ReadUIntAt"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long ReadIntAt(ref byte bytes, int end, int at, int length)
    {
        var shift = 64 - 8 * length;
        if (end - at >= 8)
        {
            return (long)BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref bytes, at))) >> shift;
        }

        ulong v = 0;
        for (var i = 0; i < length; i++)
        {
            v = (v << 8) | Unsafe.Add(ref bytes, at + i);
        }

        return (long)(v << shift) >> shift;
    }

    /// <summary>
    /// Decodes the items from <paramref name="pos"/> one at a time, whatever their headers and values, up to the next
    /// item that starts a run (<paramref name="runTable"/>; null: to the end), so that neighbouring nested sets and
    /// packs cost one call; returns where it stopped, or -1 when a header is unreadable or a value runs past the set
    /// (the rest is kept raw, a problem recorded).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int DecodeItems(KlvLocalSet set, KlvFastTrait[] table, KlvRunRow[]? runTable, ReadOnlySpan<byte> span, int pos, int baseOffset, ref List<KlvProblem>? problems, int depth, bool oneByteTags)
    {
        do
        {
            pos = DecodeItem(set, table, span, pos, baseOffset, ref problems, depth, oneByteTags);
        }
        while ((uint)pos < (uint)span.Length && !(runTable is not null && StartsRun(runTable, span, pos)));

        return pos;
    }

    /// <summary>Whether the item at <paramref name="pos"/> is one <see cref="DecodeRun"/> decodes (its first test).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool StartsRun(KlvRunRow[] runTable, ReadOnlySpan<byte> span, int pos)
    {
        if (pos + 1 >= span.Length)
        {
            return false;
        }

        var tag = (uint)span[pos];
        var length = (int)span[pos + 1];
        if (((tag | (uint)length) & 0x80) != 0 || length > span.Length - pos - 2)
        {
            return false;
        }

        ref readonly var row = ref runTable[tag];
        return (uint)(length - row.MinLength) <= row.LengthRange;
    }

    /// <summary>
    /// Decodes the one item at <paramref name="start"/>, whatever its header and value; returns where the next item
    /// starts, or -1 when the header is unreadable or the value runs past the set (the rest is kept raw, a problem
    /// recorded).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int DecodeItem(KlvLocalSet set, KlvFastTrait[] table, ReadOnlySpan<byte> span, int start, int baseOffset, ref List<KlvProblem>? problems, int depth, bool oneByteTags)
    {
        var pos = start;
        ulong tag;
        int length;
        if (!TryReadShortHeader(span, ref pos, oneByteTags, out tag, out length))
        {
            var header = ReadItemHeader(span, start, oneByteTags);
            if (header.Next < 0)
            {
                ReportBadHeader(set, span.Length, start, baseOffset, header, ref problems);
                return -1;
            }

            (tag, length, pos) = (header.Tag, header.Length, header.Next);
        }

        if (length > span.Length - pos)
        {
            AddTruncated(set, span.Length, start, pos, (int)tag, length, baseOffset, ref problems);
            return -1;
        }

        ref var slot = ref set.AddSlot();
        if (tag < (ulong)table.Length)
        {
            ref readonly var row = ref table[(int)tag];
            if (TryDecodeFast(in row, span, pos, length, true, out var kind, out var bits))
            {
                KlvItem.Write(ref slot, set, (int)tag, kind, baseOffset + start, pos - start, length, bits);
                return pos + length;
            }

            if (row.Traits is { } traits)
            {
                var value = span.Slice(pos, length);
                if (row.Validator is { } valid && length > 0 && valid(value))
                {
                    // A well-formed pack (validator and format from the row, not the traits object): the struct is
                    // built when first asked for (KlvItem.AsStructured), so nothing is allocated here.
                    KlvItem.Write(ref slot, set, (int)tag, KlvValueKind.Struct, baseOffset + start, pos - start, length, set.AddObject(KlvLocalSet.PackNotBuilt));
                    return pos + length;
                }

                DecodeValue(set, traits, value, pos, baseOffset + start, pos - start, ref problems, depth, ref slot);
                return pos + length;
            }
        }

        KlvItem.Write(ref slot, set, (int)tag, KlvValueKind.Unknown, baseOffset + start, pos - start, length, 0);
        return pos + length;
    }

    /// <summary>
    /// The item header at <paramref name="pos"/> in its common forms, without a call: a one-byte tag (or a two-byte
    /// BER-OID tag, ST 0601's tags above 127) and a BER length of one to three bytes (nested sets up to 64 KiB).
    /// False for anything else, which <see cref="ReadItemHeader"/> reads (or reports) from the start.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryReadShortHeader(ReadOnlySpan<byte> span, ref int pos, bool oneByteTags, out ulong tag, out int length)
    {
        var p = pos;
        length = 0;
        tag = 0;
        if (p + 1 >= span.Length)
        {
            return false;
        }

        uint first = span[p];
        if (first < 0x80 || oneByteTags)
        {
            tag = first;
            p++;
        }
        else if (span[p + 1] < 0x80)
        {
            // Ber.TryReadOid's two-byte form: seven bits from each byte.
            tag = ((first & 0x7F) << 7) | span[p + 1];
            p += 2;
        }
        else
        {
            return false;
        }

        if (p >= span.Length)
        {
            return false;
        }

        uint l0 = span[p];
        if (l0 < 0x80)
        {
            length = (int)l0;
            p++;
        }
        else if (l0 == 0x81 && p + 1 < span.Length)
        {
            length = span[p + 1];
            p += 2;
        }
        else if (l0 == 0x82 && p + 2 < span.Length)
        {
            length = (span[p + 1] << 8) | span[p + 2];
            p += 3;
        }
        else
        {
            return false;
        }

        pos = p;
        return true;
    }

    /// <summary>
    /// The numbers and texts of nearly every item, at the lengths the standard gives them, decoded in the item loop
    /// itself (no call, no stack frame) from the tag's row; false sends the item to <see cref="DecodeValue"/>, which
    /// handles everything and reports problems.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryDecodeFast(ref readonly KlvFastTrait row, ReadOnlySpan<byte> span, int pos, int len, bool specials, out KlvValueKind kind, out long bits)
    {
        kind = row.Kind;
        bits = 0;
        if ((uint)(len - row.MinLength) > row.LengthRange)
        {
            return false;
        }

        switch (row.Op)
        {
            case KlvFastOp.UIntMapped:
                bits = BitConverter.DoubleToInt64Bits(ReadUInt(span, pos, len) * row.Scale + row.Offset);
                return true;
            case KlvFastOp.IntMapped:
                var raw = ReadInt(span, pos, len);
                // The most negative value is the "out of range / error" sentinel.
                kind = raw == long.MinValue >> (64 - 8 * len) ? KlvValueKind.OutOfRange : KlvValueKind.Double;
                bits = BitConverter.DoubleToInt64Bits(raw * row.Scale);
                return true;
            case KlvFastOp.UInt:
                bits = (long)ReadUInt(span, pos, len);
                return true;
            case KlvFastOp.Int:
                bits = ReadInt(span, pos, len);
                return true;
            case KlvFastOp.Imapb:
                var rawImapb = ReadUInt(span, pos, len);
                if (!specials && (rawImapb >> (8 * len - 1)) != 0)
                {
                    return false; // an ST 1201 special value: decoded out of the loop (a call)
                }

                var value = row.ImapbByLength![len].Decode(rawImapb, out var special);
                (kind, bits) = special == ImapbSpecial.None
                    ? (KlvValueKind.Double, BitConverter.DoubleToInt64Bits(value))
                    : (KlvValueKind.Special, (long)special);
                return true;
            case KlvFastOp.Text:
                return true;
            case KlvFastOp.Float when len == 4:
                bits = BitConverter.DoubleToInt64Bits(BinaryPrimitives.ReadSingleBigEndian(span.Slice(pos, 4)));
                return true;
            case KlvFastOp.Float when len == 8:
                bits = BitConverter.DoubleToInt64Bits(BinaryPrimitives.ReadDoubleBigEndian(span.Slice(pos, 8)));
                return true;
            case KlvFastOp.ShortOid when span[pos] < 0x80:
                bits = span[pos];
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// The 1-8 byte big-endian unsigned value at <paramref name="pos"/>: one 8-byte load and a shift when 8 bytes
    /// remain in <paramref name="span"/> (the bytes after the value are read and shifted out), so the value's length
    /// costs no branch; else byte by byte.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadUInt(ReadOnlySpan<byte> span, int pos, int len) =>
        span.Length - pos >= 8
            ? BinaryPrimitives.ReadUInt64BigEndian(span[pos..]) >> (64 - 8 * len)
            : KlvPrimitives.ReadUInt(span.Slice(pos, len));

    /// <summary>The 1-8 byte big-endian two's complement value at <paramref name="pos"/> (see <see cref="ReadUInt"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long ReadInt(ReadOnlySpan<byte> span, int pos, int len) =>
        span.Length - pos >= 8
            ? BinaryPrimitives.ReadInt64BigEndian(span[pos..]) >> (64 - 8 * len)
            : KlvPrimitives.ReadInt(span.Slice(pos, len));

    /// <summary>
    /// Items of a universal set: 16-byte item key, BER length, value. Keys the table knows decode with their traits
    /// (and carry the tag the table gives them); other keys are kept as <see cref="KlvValueKind.Unknown"/> items whose
    /// <see cref="KlvItem.UniversalKey"/> says which key they had.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void DecodeUniversalItems(KlvLocalSet set, KlvSchema schema, ReadOnlyMemory<byte> memory, int baseOffset, ref List<KlvProblem>? problems, int depth)
    {
        var span = memory.Span;
        var pos = 0;
        while (pos < span.Length)
        {
            var start = pos;
            var length = 0;
            var ln = span.Length - pos > 16 ? Ber.TryReadLength(span[(pos + 16)..], out length) : 0;
            if (ln <= 0)
            {
                var reason = ln == 0 ? "Item key or length runs past the end of the set" : "Unreadable item length";
                Report(ref problems, ln == 0 ? KlvProblemKind.Truncated : KlvProblemKind.BadLength, baseOffset + start, 0, reason + "; rest of set kept raw");
                set.AddSlot() = KlvItem.WithObject(set, 0, KlvValueKind.Invalid, baseOffset + start, 0, span.Length - start, reason);
                set.TrimObjects();
                return;
            }

            pos += 16 + ln;
            if (length > span.Length - pos)
            {
                AddTruncated(set, span.Length, start, pos, 0, length, baseOffset, ref problems);
                set.TrimObjects();
                return;
            }

            var itemKey = new KlvKey(BinaryPrimitives.ReadUInt64BigEndian(span[start..]), BinaryPrimitives.ReadUInt64BigEndian(span[(start + 8)..]));
            var traits = schema.FindItem(itemKey);
            ref var slot = ref set.AddSlot();
            if (traits is null)
            {
                slot = new KlvItem(set, 0, KlvValueKind.Unknown, baseOffset + start, pos - start, length, 0);
            }
            else if (TryDecodeFast(in schema.FastTable[traits.Tag], span, pos, length, true, out var kind, out var bits))
            {
                KlvItem.Write(ref slot, set, traits.Tag, kind, baseOffset + start, pos - start, length, bits);
            }
            else
            {
                DecodeValue(set, traits, span.Slice(pos, length), pos, baseOffset + start, pos - start, ref problems, depth, ref slot);
            }

            pos += length;
        }

        set.TrimObjects();
    }

    private readonly record struct ItemHeader(ulong Tag, int Length, int Next, KlvProblemKind Problem);

    /// <summary>General tag/length parse; Next &lt; 0 means the header is unreadable (Problem says why).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ItemHeader ReadItemHeader(ReadOnlySpan<byte> span, int pos, bool oneByteTags)
    {
        ulong tag = span[pos];
        if (tag < 0x80 || oneByteTags)
        {
            pos++;
        }
        else
        {
            var tn = Ber.TryReadOid(span[pos..], out tag);
            if (tn <= 0 || tag > int.MaxValue)
            {
                return new ItemHeader(0, 0, -1, KlvProblemKind.BadItem);
            }

            pos += tn;
        }

        var ln = Ber.TryReadLength(span[pos..], out var length);
        if (ln <= 0)
        {
            // Length carries the position of the unreadable length bytes.
            return new ItemHeader(tag, pos, -1, ln == 0 ? KlvProblemKind.Truncated : KlvProblemKind.BadLength);
        }

        return new ItemHeader(tag, length, pos + ln, default);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ReportBadHeader(KlvLocalSet set, int setLength, int start, int baseOffset, ItemHeader header, ref List<KlvProblem>? problems)
    {
        string reason;
        if (header.Problem == KlvProblemKind.BadItem)
        {
            reason = "Unreadable tag";
            Report(ref problems, KlvProblemKind.BadItem, baseOffset + start, 0, reason + "; rest of set kept raw");
        }
        else
        {
            reason = "Unreadable item length";
            Report(ref problems, header.Problem, baseOffset + header.Length, (int)header.Tag, reason + "; rest of set kept raw");
        }

        // Keep the undecodable rest (tag 0 = not an item of the standard) rather than dropping it.
        set.AddSlot() = KlvItem.WithObject(set, 0, KlvValueKind.Invalid, baseOffset + start, 0, setLength - start, reason);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddTruncated(KlvLocalSet set, int setLength, int start, int pos, int tag, int length, int baseOffset, ref List<KlvProblem>? problems)
    {
        Report(ref problems, KlvProblemKind.Truncated, baseOffset + pos, tag,
            $"Item length {length} runs {length - (setLength - pos)} bytes past the end of its set");
        set.AddSlot() = KlvItem.WithObject(set, tag, KlvValueKind.Invalid, baseOffset + start, pos - start, setLength - pos, "Truncated");
    }

    /// <summary>
    /// Decodes one value that <see cref="TryDecodeFast"/> left (empty values, nested sets and series, packs, and
    /// formats or lengths off the common path) into <paramref name="slot"/>. Kept small: a large stack frame here
    /// costs more than the decode of these items.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DecodeValue(KlvLocalSet set, KlvTagTraits t, ReadOnlySpan<byte> v, int pos, int offset, int header, ref List<KlvProblem>? problems, int depth, ref KlvItem slot)
    {
        if (v.IsEmpty)
        {
            KlvItem.Write(ref slot, set, t.Tag, KlvValueKind.Empty, offset, header, 0, 0);
            return;
        }

        switch (t.Format)
        {
            case KlvFormat.Set or KlvFormat.Series or KlvFormat.IdSeries when depth < MaxDepth:
                DecodeNestedItem(set, t, pos, v.Length, offset, header, ref problems, depth, ref slot);
                return;
            case KlvFormat.Custom when t.Validator is { } valid && valid(v):
                // Well formed: the struct is built when first asked for (KlvItem.AsStructured), so nothing is allocated here.
                KlvItem.Write(ref slot, set, t.Tag, KlvValueKind.Struct, offset, header, v.Length, set.AddObject(KlvLocalSet.PackNotBuilt));
                return;
            case KlvFormat.Custom:
                slot = DecodePackItem(set, t, v, pos, offset, header, ref problems);
                return;
            default:
                slot = DecodeValueSlow(set, t, v, pos, offset, header, ref problems, depth);
                return;
        }
    }

    /// <summary>Every format and length, with problems reported. <paramref name="pos"/> is the value's start in <paramref name="set"/>'s bytes.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static KlvItem DecodeValueSlow(KlvLocalSet set, KlvTagTraits t, ReadOnlySpan<byte> v, int pos, int offset, int header, ref List<KlvProblem>? problems, int depth)
    {
        var len = v.Length;
        KlvItem Make(KlvValueKind kind, long bits = 0) => new(set, t.Tag, kind, offset, header, len, bits);
        KlvItem Real(double d) => KlvItem.Number(set, t.Tag, KlvValueKind.Double, offset, header, len, d);
        KlvItem Invalid(string reason, ref List<KlvProblem>? problems) => InvalidItem(set, t, pos, len, offset, header, reason, ref problems);

        if (len == 0)
        {
            return Make(KlvValueKind.Empty);
        }

        switch (t.Format)
        {
            case KlvFormat.UIntMapped:
                if (len > 8)
                {
                    return Invalid($"{len} bytes is too long for a mapped integer", ref problems);
                }

                LengthMismatch(t, len, offset, ref problems);
                return Real(KlvPrimitives.ReadUInt(v) * ((t.Max - t.Min) / (Math.Pow(2, 8 * len) - 1)) + t.Min);

            case KlvFormat.IntMapped:
            {
                if (len > 8)
                {
                    return Invalid($"{len} bytes is too long for a mapped integer", ref problems);
                }

                LengthMismatch(t, len, offset, ref problems);
                var raw = KlvPrimitives.ReadInt(v);
                return raw == long.MinValue >> (64 - 8 * len)
                    ? KlvItem.Number(set, t.Tag, KlvValueKind.OutOfRange, offset, header, len, double.NaN)
                    : Real(raw * (t.Max / (Math.Pow(2, 8 * len - 1) - 1)));
            }

            case KlvFormat.UInt:
            case KlvFormat.Enum:
            case KlvFormat.Flags:
            case KlvFormat.Timestamp:
            case KlvFormat.Int:
            case KlvFormat.Imapb:
                if (len > 8)
                {
                    return Invalid($"{len} bytes is too long for an integer", ref problems);
                }

                LengthMismatch(t, len, offset, ref problems);
                return t.Format == KlvFormat.Int ? Make(KlvValueKind.Int64, KlvPrimitives.ReadInt(v)) : Make(t.IntegerKind, (long)KlvPrimitives.ReadUInt(v));

            case KlvFormat.Float:
                return len switch
                {
                    4 => Real(BinaryPrimitives.ReadSingleBigEndian(v)),
                    8 => Real(BinaryPrimitives.ReadDoubleBigEndian(v)),
                    _ => Invalid($"A float must be 4 or 8 bytes, not {len}", ref problems),
                };

            case KlvFormat.BerOid:
            {
                var n = Ber.TryReadOid(v, out var id);
                return n == len ? Make(KlvValueKind.UInt64, (long)id) : Invalid("Not a single BER-OID value", ref problems);
            }

            case KlvFormat.Utf8:
                LengthMismatch(t, len, offset, ref problems);
                return Make(KlvValueKind.String);

            case KlvFormat.Utf16BE:
                return (len & 1) == 0 ? Make(KlvValueKind.String) : Invalid("UTF-16 text with an odd byte count", ref problems);

            case KlvFormat.Uuid:
                if (len != 16)
                {
                    LengthMismatch(t, len, offset, ref problems);
                }

                return Make(KlvValueKind.Bytes);

            case KlvFormat.Bytes:
                return Make(KlvValueKind.Bytes);

            case KlvFormat.Set:
            case KlvFormat.Series:
            case KlvFormat.IdSeries:
                if (depth + 1 > MaxDepth)
                {
                    Report(ref problems, KlvProblemKind.TooDeep, offset, t.Tag, $"Nesting deeper than {MaxDepth}; kept raw");
                    return Make(KlvValueKind.Raw);
                }

                var item = default(KlvItem);
                DecodeNestedItem(set, t, pos, len, offset, header, ref problems, depth, ref item);
                return item;

            case KlvFormat.Custom:
                return DecodePackItem(set, t, v, pos, offset, header, ref problems);

            default:
                return Make(KlvValueKind.Raw);
        }
    }

    /// <summary>
    /// A nested set or series item below <see cref="MaxDepth"/>. Kept out of <see cref="DecodeValueSlow"/>:
    /// nested sets and packs come in every packet, and that method's large frame costs more than their decode.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DecodeNestedItem(KlvLocalSet set, KlvTagTraits t, int pos, int len, int offset, int header, ref List<KlvProblem>? problems, int depth, ref KlvItem slot)
    {
        if (depth == 0 && set.Pool is { } pool)
        {
            DecodeTopNestedItem(set, pool, t, pos, len, offset, header, ref problems, ref slot);
            return;
        }

        var nested = DecodeNested(t, set.Bytes.Slice(pos, len), offset + header, set.Pool, ref problems, depth, out var error);
        WriteNested(set, t, pos, len, offset, header, nested, error, ref problems, ref slot);
    }

    /// <summary>
    /// A set or series in a reused packet's own set: the previous packet's decode is moved into place when the bytes
    /// are the same and decoded without a problem (security, RVT, SAR ... sets seldom change). Apart from
    /// <see cref="DecodeNestedItem"/>, whose frame every deeper nested set pays for.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DecodeTopNestedItem(KlvLocalSet set, KlvDecodePool pool, KlvTagTraits t, int pos, int len, int offset, int header, ref List<KlvProblem>? problems, ref KlvItem slot)
    {
        var memory = set.Bytes.Slice(pos, len);
        var entry = pool.FindNested(t, memory.Span, out var reusable);
        if (reusable)
        {
            var placed = entry.Place(memory, offset + header);
            KlvItem.Write(ref slot, set, t.Tag, placed is KlvLocalSet ? KlvValueKind.Set : KlvValueKind.Series, offset, header, len, set.AddObject(placed));
            return;
        }

        var before = problems?.Count ?? 0;
        var decoded = DecodeNested(t, memory, offset + header, entry.Pool, ref problems, 0, out var failure);
        entry.Store(t, memory.Span, decoded, offset + header, (problems?.Count ?? 0) == before);
        WriteNested(set, t, pos, len, offset, header, decoded, failure, ref problems, ref slot);
    }

    private static void WriteNested(KlvLocalSet set, KlvTagTraits t, int pos, int len, int offset, int header, object? nested, string? error, ref List<KlvProblem>? problems, ref KlvItem slot)
    {
        if (nested is null)
        {
            slot = InvalidItem(set, t, pos, len, offset, header, error!, ref problems);
            return;
        }

        KlvItem.Write(ref slot, set, t.Tag, nested is KlvLocalSet ? KlvValueKind.Set : KlvValueKind.Series, offset, header, len, set.AddObject(nested));
    }

    /// <summary>
    /// A structured (pack) item: built on first access when its validator accepts the bytes, else decoded now
    /// (a reused packet takes it from its pool when the bytes repeat).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static KlvItem DecodePackItem(KlvLocalSet set, KlvTagTraits t, ReadOnlySpan<byte> v, int pos, int offset, int header, ref List<KlvProblem>? problems)
    {
        if (t.Validator is { } valid && valid(v))
        {
            // Well formed: the struct is built when first asked for (KlvItem.AsStructured), so nothing is allocated here.
            return KlvItem.WithObject(set, t.Tag, KlvValueKind.Struct, offset, header, v.Length, KlvLocalSet.PackNotBuilt);
        }

        var decoded = set.Pool is { } pool ? pool.DecodePack(t, v, out var error) : KlvDecodePool.Decode(t, v, out error);
        return error is null
            ? KlvItem.WithObject(set, t.Tag, KlvValueKind.Struct, offset, header, v.Length, decoded)
            : InvalidItem(set, t, pos, v.Length, offset, header, error, ref problems);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static KlvItem InvalidItem(KlvLocalSet set, KlvTagTraits t, int pos, int len, int offset, int header, string reason, ref List<KlvProblem>? problems)
    {
        Report(ref problems, KlvProblemKind.BadValue, offset, t.Tag, $"{t.Name}: {reason}; kept raw");
        return KlvItem.WithObject(set, t.Tag, KlvValueKind.Invalid, offset, header, len, reason);
    }

    /// <summary>Decodes a nested set or series; null (with <paramref name="error"/>) when a series element is unreadable.</summary>
    private static object? DecodeNested(KlvTagTraits t, ReadOnlyMemory<byte> memory, int valueOffset, KlvDecodePool? pool, ref List<KlvProblem>? problems, int depth, out string? error)
    {
        var schema = t.NestedSchema!;
        error = null;
        if (t.Format == KlvFormat.Set)
        {
            var set = pool?.RentSet(schema) ?? new KlvLocalSet(schema, 8);
            set.Reset(schema, memory, valueOffset);
            DecodeItems(set, schema, memory, valueOffset, ref problems, depth + 1, false);
            return set;
        }

        return DecodeSeries(t, schema, memory, valueOffset, pool, ref problems, depth, out error);
    }

    /// <summary>
    /// The series part of <see cref="DecodeNested"/>, kept apart: its locals (spans, the series, ids) would make every
    /// nested set's frame larger, zeroed on each call.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static KlvSeries? DecodeSeries(KlvTagTraits t, KlvSchema schema, ReadOnlyMemory<byte> memory, int valueOffset, KlvDecodePool? pool, ref List<KlvProblem>? problems, int depth, out string? error)
    {
        error = null;

        // Series: each element is a BER length followed by (for IdSeries) a BER-OID id, then a local set.
        var series = pool?.RentSeries() ?? new KlvSeries();
        var span = memory.Span;
        var pos = 0;
        while (pos < span.Length)
        {
            var ln = Ber.TryReadLength(span[pos..], out var elementLength);
            if (ln <= 0 || elementLength > span.Length - pos - ln)
            {
                error = $"Series element at value byte {pos} has a bad length";
                return null;
            }

            pos += ln;
            var elementStart = pos;
            ulong? id = null;
            if (t.Format == KlvFormat.IdSeries)
            {
                var idn = Ber.TryReadOid(span.Slice(pos, elementLength), out var idValue);
                if (idn <= 0)
                {
                    error = $"Series element at value byte {pos} has a bad id";
                    return null;
                }

                id = idValue;
                pos += idn;
            }

            var body = memory[pos..(elementStart + elementLength)];
            var set = pool?.RentSet(schema) ?? new KlvLocalSet(schema, 8);
            set.Reset(schema, body, valueOffset + pos);
            DecodeItems(set, schema, body, valueOffset + pos, ref problems, depth + 1, false);
            series.Add(new KlvSeriesEntry(id, set));
            pos = elementStart + elementLength;
        }

        return series;
    }

    /// <summary>Records a length that differs from the standard's (the value is still decoded).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void LengthMismatch(KlvTagTraits t, int len, int offset, ref List<KlvProblem>? problems)
    {
        var fixedLength = t.Format is KlvFormat.UIntMapped or KlvFormat.IntMapped;
        if (fixedLength ? len == t.Length : (t.MaxLength == 0 || len <= t.MaxLength))
        {
            return;
        }

        foreach (var legacy in t.LegacyLengths)
        {
            if (len == legacy)
            {
                return; // a length an earlier version of the standard used
            }
        }

        Report(ref problems, KlvProblemKind.LengthMismatch, offset, t.Tag,
            $"{t.Name}: {len} bytes, standard says {(fixedLength ? "" : "at most ")}{(fixedLength ? t.Length : t.MaxLength).ToString(System.Globalization.CultureInfo.InvariantCulture)}");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void Report(ref List<KlvProblem>? problems, KlvProblemKind kind, long offset, int tag, string message) =>
        (problems ??= []).Add(new KlvProblem(kind, offset, tag, message));
}
