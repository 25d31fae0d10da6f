using System.Buffers.Binary;

namespace SiteWatch.Video.Klv;

public enum KlvSliceStatus : byte
{
    /// <summary>Key, BER length and all announced value bytes.</summary>
    Complete,
    /// <summary>A packet start whose announced length is not all there (end of data, or the next key starts first).</summary>
    Truncated,
    /// <summary>Bytes that are not part of any packet (no UL prefix where one should start, or an impossible length).</summary>
    Junk,
}

/// <summary>A piece of a KLV byte stream: a packet, a cut packet or junk, with its position.</summary>
public readonly record struct KlvSlice(ReadOnlyMemory<byte> Bytes, long Position, KlvSliceStatus Status);

/// <summary>
/// Splits a KLV byte stream into packets. A buffer may hold several packets, junk between them, or end
/// inside one. <see cref="Split"/> handles a complete buffer without copying; an instance handles data
/// that arrives in pieces (a packet cut across PES packets or UDP datagrams).
/// </summary>
public sealed class KlvPacketSplitter
{
    /// <summary>Default cap on one packet's value length; anything larger is treated as a corrupt length.</summary>
    public const int DefaultMaxPacketLength = 4 * 1024 * 1024;

    private byte[] _buffer = new byte[4096];
    private int _start;
    private int _end;
    private long _position;

    public KlvPacketSplitter(int maxPacketLength = DefaultMaxPacketLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPacketLength, 1);
        MaxPacketLength = maxPacketLength;
    }

    public int MaxPacketLength { get; }

    /// <summary>Bytes held while waiting for the rest of a packet.</summary>
    public int PendingBytes => _end - _start;

    /// <summary>Splits a complete buffer. Slices share <paramref name="buffer"/>'s memory.</summary>
    public static IEnumerable<KlvSlice> Split(ReadOnlyMemory<byte> buffer, long basePosition = 0, int maxPacketLength = DefaultMaxPacketLength)
    {
        var pos = 0;
        while (pos < buffer.Length)
        {
            var (length, status) = Next(buffer.Span[pos..], final: true, maxPacketLength);
            yield return new KlvSlice(buffer.Slice(pos, length), basePosition + pos, status);
            pos += length;
        }
    }

    /// <summary>Appends bytes; <paramref name="position"/> (if given) is the stream offset of the first of them.</summary>
    public void Write(ReadOnlySpan<byte> data, long? position = null)
    {
        if (_start == _end)
        {
            _start = _end = 0;
            if (position is { } p)
            {
                _position = p;
            }
        }

        if (_end + data.Length > _buffer.Length)
        {
            var live = _end - _start;
            if (live + data.Length > _buffer.Length)
            {
                var bigger = new byte[Math.Max(_buffer.Length * 2, live + data.Length)];
                _buffer.AsSpan(_start, live).CopyTo(bigger);
                _buffer = bigger;
            }
            else
            {
                _buffer.AsSpan(_start, live).CopyTo(_buffer);
            }

            _start = 0;
            _end = live;
        }

        data.CopyTo(_buffer.AsSpan(_end));
        _end += data.Length;
    }

    /// <summary>Returns the next complete packet or junk run; false while a packet is still incomplete.</summary>
    /// <remarks>The slice owns a copy of its bytes, so it stays valid after later writes.</remarks>
    public bool TryRead(out KlvSlice slice)
    {
        if (_start == _end)
        {
            slice = default;
            return false;
        }

        var (length, status) = Next(_buffer.AsSpan(_start, _end - _start), final: false, MaxPacketLength);
        if (length == 0)
        {
            slice = default;
            return false;
        }

        slice = Take(length, status);
        return true;
    }

    /// <summary>End of data: whatever is pending comes out as truncated packet(s) or junk.</summary>
    public IEnumerable<KlvSlice> Flush()
    {
        var result = new List<KlvSlice>();
        while (_start < _end)
        {
            var (length, status) = Next(_buffer.AsSpan(_start, _end - _start), final: true, MaxPacketLength);
            result.Add(Take(length, status));
        }

        return result;
    }

    /// <summary>Drops pending bytes (e.g. when the transport says a new packet starts); returns how many.</summary>
    public int Discard()
    {
        var n = _end - _start;
        _position += n;
        _start = _end = 0;
        return n;
    }

    private KlvSlice Take(int length, KlvSliceStatus status)
    {
        var slice = new KlvSlice(_buffer.AsSpan(_start, length).ToArray(), _position, status);
        _start += length;
        _position += length;
        return slice;
    }

    private static bool IsPrefix(ReadOnlySpan<byte> s) =>
        s.Length >= 4 && BinaryPrimitives.ReadUInt32BigEndian(s) == KlvKey.UniversalLabelPrefix;

    /// <summary>Index of the next UL prefix at or after <paramref name="from"/>, or -1.</summary>
    private static int FindPrefix(ReadOnlySpan<byte> s, int from)
    {
        ReadOnlySpan<byte> prefix = [0x06, 0x0E, 0x2B, 0x34];
        if (from >= s.Length)
        {
            return -1;
        }

        var i = s[from..].IndexOf(prefix);
        return i < 0 ? -1 : from + i;
    }

    /// <summary>
    /// Classifies what starts at s[0]. Returns (0, _) when more data is needed (only if !final).
    /// </summary>
    private static (int Length, KlvSliceStatus Status) Next(ReadOnlySpan<byte> s, bool final, int maxPacketLength)
    {
        if (!IsPrefix(s))
        {
            if (!final && s.Length < 4 && KlvKey.UniversalLabelPrefix >> (8 * (4 - s.Length)) == ReadPartial(s))
            {
                return (0, KlvSliceStatus.Junk);
            }

            var next = FindPrefix(s, 1);
            if (next >= 0)
            {
                return (next, KlvSliceStatus.Junk);
            }

            // Keep a tail that could be the start of a prefix split across writes.
            var keep = final ? 0 : Math.Min(3, s.Length);
            return (s.Length - keep, KlvSliceStatus.Junk);
        }

        if (s.Length < 17)
        {
            return final ? (s.Length, KlvSliceStatus.Truncated) : (0, KlvSliceStatus.Truncated);
        }

        var n = Ber.TryReadLength(s[16..], out var length);
        if (n == 0)
        {
            return final ? (s.Length, KlvSliceStatus.Truncated) : (0, KlvSliceStatus.Truncated);
        }

        if (n < 0 || length > maxPacketLength)
        {
            // Not a believable packet: skip to the next key start.
            var next = FindPrefix(s, 1);
            return (next >= 0 ? next : s.Length, KlvSliceStatus.Junk);
        }

        var total = 16 + n + length;
        if (total <= s.Length)
        {
            return (total, KlvSliceStatus.Complete);
        }

        if (!final)
        {
            return (0, KlvSliceStatus.Truncated);
        }

        // Announced length runs past the data: cut at the next key if there is one, so a corrupt length
        // does not swallow the packets behind it.
        var following = FindPrefix(s, 16 + n);
        return (following >= 0 ? following : s.Length, KlvSliceStatus.Truncated);
    }

    private static uint ReadPartial(ReadOnlySpan<byte> s)
    {
        uint v = 0;
        foreach (var b in s)
        {
            v = (v << 8) | b;
        }

        return v;
    }
}
