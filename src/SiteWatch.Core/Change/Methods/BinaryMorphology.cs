namespace SiteWatch.Core.Change.Methods;

/// <summary>
/// 3 x 3 binary morphology on a window of a change mask. Invalid pixels (nodata) and pixels beyond the window take no
/// part: the structuring element is clipped to the valid pixels, so a change region touching nodata or the scene edge
/// is not eaten away. Run on a window with a halo of <see cref="HaloOpenClose"/> pixels, the core of the window comes
/// out exactly as if the whole scene had been processed at once.
/// </summary>
public static class BinaryMorphology
{
    /// <summary>Context an opening followed by a closing needs: four 3 x 3 passes, one pixel each.</summary>
    public const int HaloOpenClose = 4;

    /// <summary>Context <see cref="AreaOpenClose"/> needs for regions of minArea pixels: a region smaller than minArea lies
    /// within minArea - 1 pixels of any of its pixels, plus one for its boundary, twice (opening, then closing).</summary>
    public static int HaloArea(int minArea) => 2 * minArea + 1;

    /// <summary>
    /// Area opening then area closing (Vincent 1993): changed regions (8-connected) of fewer than minArea pixels are
    /// cleared, then unchanged holes (4-connected) of fewer than minArea pixels are filled. Unlike a 3 x 3 opening it
    /// keeps thin structures such as new roads, which are one or two pixels wide at 30 m. queue needs width x height
    /// ints, visited width x height bytes.
    /// </summary>
    public static void AreaOpenClose(Span<byte> mask, ReadOnlySpan<byte> valid, int width, int height, int minArea, Span<int> queue, Span<byte> visited)
    {
        if (minArea <= 1)
        {
            return;
        }
        RemoveSmallRegions(mask, valid, width, height, 1, minArea, eightConnected: true, queue, visited);
        RemoveSmallRegions(mask, valid, width, height, 0, minArea, eightConnected: false, queue, visited);
    }

    /// <summary>Flips every connected region of valid pixels equal to value that has fewer than minArea pixels.</summary>
    private static void RemoveSmallRegions(Span<byte> mask, ReadOnlySpan<byte> valid, int width, int height, byte value, int minArea, bool eightConnected,
        Span<int> queue, Span<byte> visited)
    {
        var n = width * height;
        visited[..n].Clear();
        for (var seed = 0; seed < n; seed++)
        {
            if (visited[seed] != 0 || valid[seed] == 0 || mask[seed] != value)
            {
                continue;
            }
            visited[seed] = 1;
            queue[0] = seed;
            var count = 1;
            for (var head = 0; head < count; head++)
            {
                var j = queue[head];
                var r = j / width;
                var c = j - r * width;
                for (var dr = -1; dr <= 1; dr++)
                {
                    var rr = r + dr;
                    if (rr < 0 || rr >= height)
                    {
                        continue;
                    }
                    for (var dc = -1; dc <= 1; dc++)
                    {
                        var cc = c + dc;
                        if (cc < 0 || cc >= width || (dr == 0 && dc == 0) || (!eightConnected && dr != 0 && dc != 0))
                        {
                            continue;
                        }
                        var k = rr * width + cc;
                        if (visited[k] == 0 && valid[k] != 0 && mask[k] == value)
                        {
                            visited[k] = 1;
                            queue[count++] = k;
                        }
                    }
                }
            }
            if (count < minArea)
            {
                for (var q = 0; q < count; q++)
                {
                    mask[queue[q]] = (byte)(1 - value);
                }
            }
        }
    }

    /// <summary>Opening (erode, dilate: removes specks smaller than 3 x 3) then closing (dilate, erode: fills pinholes).</summary>
    public static void OpenClose(Span<byte> mask, ReadOnlySpan<byte> valid, int width, int height, Span<byte> scratch)
    {
        Pass(mask, valid, width, height, scratch, erode: true);
        Pass(mask, valid, width, height, scratch, erode: false);
        Pass(mask, valid, width, height, scratch, erode: false);
        Pass(mask, valid, width, height, scratch, erode: true);
    }

    public static void Erode(Span<byte> mask, ReadOnlySpan<byte> valid, int width, int height, Span<byte> scratch) =>
        Pass(mask, valid, width, height, scratch, erode: true);

    public static void Dilate(Span<byte> mask, ReadOnlySpan<byte> valid, int width, int height, Span<byte> scratch) =>
        Pass(mask, valid, width, height, scratch, erode: false);

    /// <summary>
    /// One separable 3 x 3 min (erode) or max (dilate) over valid pixels: invalid pixels count as the neutral element
    /// (1 for min, 0 for max), which keeps the square element separable. Invalid pixels come out 0.
    /// </summary>
    private static void Pass(Span<byte> mask, ReadOnlySpan<byte> valid, int width, int height, Span<byte> scratch, bool erode)
    {
        var neutral = erode ? (byte)1 : (byte)0;
        var n = width * height;
        var row = scratch[..n];
        for (var r = 0; r < height; r++)
        {
            var o = r * width;
            for (var c = 0; c < width; c++)
            {
                var v = neutral;
                for (var dc = -1; dc <= 1; dc++)
                {
                    var cc = c + dc;
                    if (cc < 0 || cc >= width || valid[o + cc] == 0)
                    {
                        continue;
                    }
                    v = erode ? Math.Min(v, mask[o + cc]) : Math.Max(v, mask[o + cc]);
                }
                row[o + c] = v;
            }
        }
        for (var r = 0; r < height; r++)
        {
            for (var c = 0; c < width; c++)
            {
                var i = r * width + c;
                if (valid[i] == 0)
                {
                    mask[i] = 0;
                    continue;
                }
                var v = neutral;
                for (var dr = -1; dr <= 1; dr++)
                {
                    var rr = r + dr;
                    if (rr < 0 || rr >= height)
                    {
                        continue;
                    }
                    var x = row[rr * width + c];
                    v = erode ? Math.Min(v, x) : Math.Max(v, x);
                }
                mask[i] = v;
            }
        }
    }
}
