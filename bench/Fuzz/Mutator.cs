using System.Buffers.Binary;

namespace SiteWatch.Fuzz;

/// <summary>
/// afl/libFuzzer-style mutations, 1 to 8 stacked per input: bit flips, random and interesting values (8/16/32-bit,
/// both byte orders), small arithmetic, byte runs inserted / deleted / duplicated, truncation, splicing with another
/// corpus entry, dictionary tokens inserted or written over (KLV keys, BER lengths, TS headers, JSON tokens), and
/// BER length edits (a short length replaced by a long form or an absurd one).
/// </summary>
internal sealed class Mutator(Random rng, IReadOnlyList<byte[]> dictionary, int maxLength)
{
    private static readonly long[] Interesting =
        [0, 1, -1, 2, 16, 32, 64, 100, 127, 128, 255, 256, 512, 1000, 1024, 4096, 32767, 32768, 65535, 65536, 0x7FFFFFFF, unchecked((int)0x80000000), -128, -129];

    public byte[] Mutate(byte[] parent, byte[] other)
    {
        var data = new List<byte>(parent);
        var count = 1 << rng.Next(4);
        for (var m = 0; m < count; m++)
        {
            MutateOnce(data, other);
        }

        if (data.Count > maxLength)
        {
            data.RemoveRange(maxLength, data.Count - maxLength);
        }

        return [.. data];
    }

    private void MutateOnce(List<byte> data, byte[] other)
    {
        if (data.Count == 0)
        {
            data.Add((byte)rng.Next(256));
            return;
        }

        var at = rng.Next(data.Count);
        switch (rng.Next(16))
        {
            case 0:
                data[at] ^= (byte)(1 << rng.Next(8));
                break;
            case 1:
                data[at] = (byte)rng.Next(256);
                break;
            case 2:
                {
                    var n = rng.Next(1, 5);
                    for (var i = 0; i < n; i++)
                    {
                        data.Insert(at, (byte)rng.Next(256));
                    }

                    break;
                }

            case 3:
                data.RemoveRange(at, Math.Min(1 << rng.Next(7), data.Count - at));
                break;
            case 4:
                WriteInteresting(data, at);
                break;
            case 5:
                data[at] = (byte)(data[at] + rng.Next(-35, 36));
                break;
            case 6:
                {
                    var from = rng.Next(data.Count);
                    var run = data.GetRange(from, Math.Min(1 << rng.Next(8), data.Count - from));
                    if (rng.Next(2) == 0)
                    {
                        data.InsertRange(at, run);
                    }
                    else
                    {
                        for (var i = 0; i < run.Count && at + i < data.Count; i++)
                        {
                            data[at + i] = run[i];
                        }
                    }

                    break;
                }

            case 7:
                if (rng.Next(4) == 0)
                {
                    data.RemoveRange(at, data.Count - at);
                }
                else
                {
                    data[at] = rng.Next(2) == 0 ? (byte)0 : (byte)0xFF;
                }

                break;
            case 8:
                if (other.Length > 0)
                {
                    // Splice: our head, the other's tail.
                    var cut = rng.Next(other.Length);
                    data.RemoveRange(at, data.Count - at);
                    data.AddRange(other.AsSpan(cut).ToArray());
                }

                break;
            case 9:
            case 10:
                if (dictionary.Count > 0)
                {
                    var token = dictionary[rng.Next(dictionary.Count)];
                    data.InsertRange(at, token);
                }

                break;
            case 11:
                if (dictionary.Count > 0)
                {
                    var token = dictionary[rng.Next(dictionary.Count)];
                    for (var i = 0; i < token.Length && at + i < data.Count; i++)
                    {
                        data[at + i] = token[i];
                    }
                }

                break;
            case 12:
                {
                    // BER length edit: a short-form length becomes long form, zero, or absurd.
                    var len = data[at];
                    byte[] replacement = rng.Next(4) switch
                    {
                        0 => [0x81, len],
                        1 => [0x82, 0x00, len],
                        2 => [0x84, 0x7F, 0xFF, 0xFF, 0xFF],
                        _ => [(byte)(0x80 | rng.Next(0, 16))],
                    };
                    data.RemoveAt(at);
                    data.InsertRange(at, replacement);
                    break;
                }

            case 13:
                {
                    // Swap two runs.
                    var b = rng.Next(data.Count);
                    var n = Math.Min(Math.Min(1 << rng.Next(5), data.Count - at), data.Count - b);
                    for (var i = 0; i < n; i++)
                    {
                        (data[at + i], data[b + i]) = (data[b + i], data[at + i]);
                    }

                    break;
                }

            case 14:
                // ASCII digit and sign tweaks help the JSON readers reach number checks.
                data[at] = (byte)"0123456789-+.eE\"\\"[rng.Next(17)];
                break;
            default:
                data.Insert(at, data[at]);
                break;
        }
    }

    private void WriteInteresting(List<byte> data, int at)
    {
        var value = Interesting[rng.Next(Interesting.Length)];
        var width = 1 << rng.Next(3);
        Span<byte> bytes = stackalloc byte[4];
        if (rng.Next(2) == 0)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes, (int)value);
            bytes = bytes[(4 - width)..];
        }
        else
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes, (int)value);
            bytes = bytes[..width];
        }

        for (var i = 0; i < bytes.Length && at + i < data.Count; i++)
        {
            data[at + i] = bytes[i];
        }
    }
}
