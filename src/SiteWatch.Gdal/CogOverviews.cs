using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Xml.Linq;
using SiteWatch.Gdal.Native;

namespace SiteWatch.Gdal;

/// <summary>
/// The overview pyramid GDAL's COG driver would compute for a staged raster, computed here to the bit: the same level
/// sizes (halved and rounded down until a level fits one block) and GDAL 3.6's AVERAGE arithmetic (each level from
/// the one above, cascaded; nodata left out of the mean and a mean equal to nodata moved to the next value; fractional edge
/// weights where a level's size is odd), for 8- and 16-bit unsigned rasters. GDAL reads a nodata mask beside every
/// pixel and averages each one in double precision; here the 2 x 2 case is integer arithmetic in SIMD registers on every
/// core, which took CogWriter's block copy of a 10000 x 10000 x 4 raster from 1.35 to 1.20 times gdal_translate
/// (bench/raster-io.sh, README).
/// Other types and resamplings are left to GDAL (<see cref="WhyNot"/> says why).
/// </summary>
internal static class CogOverviews
{
    private const int MaskAllValid = 0x01;
    private const int MaskNoData = 0x08;
    // Bounds the strips in memory (all bands), so memory stays bounded on any width.
    private const long StripBytes = 128L << 20;

    /// <summary>The overview sizes GDAL's COG driver (3.6) makes for a raster: halved, rounded down, until one block holds a level.</summary>
    public static IReadOnlyList<(int Width, int Height)> Levels(int width, int height, int blockSize)
    {
        var levels = new List<(int, int)>();
        while (width > blockSize || height > blockSize)
        {
            width = Math.Max(1, width / 2);
            height = Math.Max(1, height / 2);
            levels.Add((width, height));
        }
        return levels;
    }

    /// <summary>Null when these overviews can be computed here exactly as GDAL would; else the reason GDAL computes them.</summary>
    public static string? WhyNot(RasterDataset raster, CogOptions options)
    {
        if (!options.Overviews)
        {
            return "no overviews asked for";
        }
        if (!options.OverviewResampling.Equals("AVERAGE", StringComparison.OrdinalIgnoreCase))
        {
            return $"{options.OverviewResampling} resampling";
        }
        if (!File.Exists(raster.Path))
        {
            return "the raster is not a file";
        }
        if (Levels(raster.Width, raster.Height, options.BlockSize).Count == 0)
        {
            return "the raster fits one block";
        }
        // As CPLTestBool reads it. No default passed: GDAL would hand back the marshalled default, freed on return.
        if (GdalNative.Utf8(GdalNative.CPLGetConfigOption("GDAL_OVR_PROPAGATE_NODATA", null)) is { } propagate
            && !(propagate.ToUpperInvariant() is "NO" or "FALSE" or "OFF" or "0"))
        {
            return "GDAL_OVR_PROPAGATE_NODATA is set";
        }
        var type = raster.DataType;
        if (type is not (RasterDataType.Byte or RasterDataType.UInt16))
        {
            return $"{type} pixels";
        }
        var withNoData = raster.NoDataOf(1) is not null;
        for (var b = 1; b <= raster.BandCount; b++)
        {
            if (raster.DataTypeOf(b) != type)
            {
                return "bands of different types";
            }
            if (raster.HasColorTable(b))
            {
                return "a colour table";
            }
            var noData = raster.NoDataOf(b);
            // GDAL decides from band 1 whether to read nodata masks for all bands.
            if ((noData is not null) != withNoData)
            {
                return "nodata on some bands only";
            }
            if (noData is { } value && (value != Math.Floor(value) || value < 0 || value > (type == RasterDataType.Byte ? byte.MaxValue : ushort.MaxValue)))
            {
                return $"nodata {value} outside the pixel type";
            }
            if (raster.MaskFlagsOf(b) != (withNoData ? MaskNoData : MaskAllValid))
            {
                return "a mask or alpha band";
            }
        }
        return null;
    }

    /// <summary>
    /// Computes every overview level of <paramref name="raster"/> into uncompressed tiled GeoTIFFs named
    /// <paramref name="pathPrefix"/>.1.tif, .2.tif ... and returns their paths, largest first.
    /// </summary>
    public static IReadOnlyList<string> Write(RasterDataset raster, string pathPrefix, int blockSize, IProgress<double>? progress, CancellationToken cancel)
    {
        var levels = Levels(raster.Width, raster.Height, blockSize);
        var paths = new List<string>();
        var noData = new int?[raster.BandCount];
        for (var b = 0; b < noData.Length; b++)
        {
            noData[b] = raster.NoDataOf(b + 1) is { } v ? (int)v : null;
        }
        // Work in proportion to the pixels each level reads.
        var work = new double[levels.Count];
        for (var i = 0; i < levels.Count; i++)
        {
            var (w, h) = i > 0 ? levels[i - 1] : (raster.Width, raster.Height);
            work[i] = (double)w * h;
        }
        var total = work.Sum();
        var done = 0.0;
        // Each level from the one above, as GDAL cascades them when its temporary overview file is uncompressed
        // (RasterDataset.CopyToCog; with a compressed one GDAL reads the full resolution again for a level whose width
        // no longer shrinks, so only 1-pixel-wide rasters differ). Sources are read with direct I/O (each strip is read
        // once): through the block cache the reads took half the time.
        raster.Flush();
        var source = RasterDataset.OpenForStreaming(raster.Path);
        RasterDataset? level = null;
        try
        {
            for (var i = 0; i < levels.Count; i++)
            {
                cancel.ThrowIfCancellationRequested();
                var path = $"{pathPrefix}.{i + 1}.tif";
                paths.Add(path);
                var profile = new RasterProfile(levels[i].Width, levels[i].Height, raster.BandCount, raster.DataType);
                level = RasterDataset.Create(path, profile, creationOptions:
                    ["TILED=YES", $"BLOCKXSIZE={blockSize}", $"BLOCKYSIZE={blockSize}", "COMPRESS=NONE", "BIGTIFF=IF_SAFER", raster.BandCount > 1 ? "INTERLEAVE=PIXEL" : "INTERLEAVE=BAND"]);
                var slice = new ProgressSlice(progress, done / total, work[i] / total);
                if (raster.DataType == RasterDataType.Byte)
                {
                    Reduce<byte>(source, level, noData, slice, cancel);
                }
                else
                {
                    Reduce<ushort>(source, level, noData, slice, cancel);
                }
                level.Dispose();
                level = null;
                source.Dispose(); // disposing twice (here and below) is harmless
                if (i + 1 < levels.Count)
                {
                    source = RasterDataset.OpenForStreaming(path);
                }
                done += work[i];
            }
            progress?.Report(1);
            return paths;
        }
        catch
        {
            level?.Dispose();
            foreach (var path in paths)
            {
                File.Delete(path);
            }
            throw;
        }
        finally
        {
            source.Dispose();
        }
    }

    /// <summary>
    /// A virtual copy of <paramref name="raster"/> (every band, its georeference and metadata) whose overviews are the
    /// given files, for the COG driver to copy instead of computing.
    /// </summary>
    public static RasterDataset WithOverviews(RasterDataset raster, IReadOnlyList<string> levelPaths)
    {
        var xml = XDocument.Parse(raster.ToVrtXml());
        foreach (var band in xml.Root!.Elements("VRTRasterBand"))
        {
            var number = (string?)band.Attribute("band") ?? throw new GdalException($"{raster.Path}: GDAL's virtual copy names no band number");
            foreach (var path in levelPaths)
            {
                band.Add(new XElement("Overview",
                    new XElement("SourceFilename", new XAttribute("relativeToVRT", "0"), path),
                    new XElement("SourceBand", number)));
            }
        }
        return RasterDataset.OpenVrtXml(xml.ToString(SaveOptions.DisableFormatting));
    }

    private static void Reduce<T>(RasterDataset source, RasterDataset target, int?[] noData, IProgress<double>? progress, CancellationToken cancel)
        where T : unmanaged, IBinaryInteger<T>
    {
        int srcWidth = source.Width, srcHeight = source.Height, width = target.Width, height = target.Height, bands = source.BandCount;
        var xRatio = (double)srcWidth / width;
        var yRatio = (double)srcHeight / height;
        var columns = Spans(width, xRatio, srcWidth);
        var rows = Spans(height, yRatio, srcHeight);
        var halving = srcWidth == 2 * width && srcHeight == 2 * height;
        var bandList = Enumerable.Range(1, bands).ToArray();
        var size = Unsafe.SizeOf<T>();
        // Strips of a row of the target's blocks, or a half, quarter ... of it as memory requires (two source strips and
        // one output strip in memory), so partly written tiles complete in GDAL's cache.
        var (_, blockHeight) = target.BlockSize;
        var perRow = (long)bands * size * (2 * (long)Math.Ceiling(srcWidth * (yRatio + 1)) + width);
        var stripRows = Math.Max(1, blockHeight);
        while (stripRows > 1 && perRow * stripRows > StripBytes)
        {
            stripRows /= 2;
        }
        // The next strip is read while this one is averaged and written (the source and the target are each used by
        // one thread at a time): the reads were half of this step's time.
        RasterWindow StripWindow(int y0) => new(0, rows[y0].First, srcWidth, rows[Math.Min(height, y0 + stripRows) - 1].End - rows[y0].First);
        var largest = Enumerable.Range(0, (height + stripRows - 1) / stripRows).Max(k => StripWindow(k * stripRows).PixelCount);
        T[] src = new T[largest * bands], next = new T[largest * bands], dst = new T[(long)width * stripRows * bands];
        var reading = Task.Run(() => source.Read<T>(bandList, StripWindow(0), src), cancel);
        try
        {
            for (var y0 = 0; y0 < height; y0 += stripRows)
            {
                reading.GetAwaiter().GetResult();
                cancel.ThrowIfCancellationRequested();
                var y1 = Math.Min(height, y0 + stripRows);
                var window = StripWindow(y0);
                var top = window.Row;
                if (y1 < height)
                {
                    var buffer = next;
                    reading = Task.Run(() => source.Read<T>(bandList, StripWindow(y1), buffer), cancel);
                }
                var strip = src;
                var stripHeight = y1 - y0;
                var dstPlane = width * stripHeight;
                var srcPlane = (int)window.PixelCount;
                // One task per band and output row: the rows of a strip are independent.
                Parallel.For(0, bands * stripHeight, new ParallelOptions { CancellationToken = cancel }, task =>
                {
                    var b = task / stripHeight;
                    var y = y0 + task % stripHeight;
                    AverageRow(new ReadOnlySpan<T>(strip, b * srcPlane, srcPlane), srcWidth, top, halving ? null : columns, rows[y],
                        new Span<T>(dst, b * dstPlane + (y - y0) * width, width), noData[b]);
                });
                target.Write<T>(bandList, new RasterWindow(0, y0, width, stripHeight), dst.AsSpan(0, dstPlane * bands));
                (src, next) = (next, src);
                progress?.Report((double)y1 / height);
            }
        }
        finally
        {
            // Never leave a read running into a dataset the caller is about to close.
            ((IAsyncResult)reading).AsyncWaitHandle.WaitOne();
        }
    }

    /// <summary>One output row of one band from the source rows it covers (<paramref name="columns"/> null: a 2 x 2 halving).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AverageRow<T>(ReadOnlySpan<T> plane, int srcWidth, int top, SourceSpan[]? columns, SourceSpan row, Span<T> output, int? noData)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (columns is null)
        {
            var upper = plane.Slice((row.First - top) * srcWidth, srcWidth);
            var lower = plane.Slice((row.First + 1 - top) * srcWidth, srcWidth);
            var done = HalveVectors(upper, lower, output, noData);
            if (noData is { } nd)
            {
                HalveMasked(upper[(2 * done)..], lower[(2 * done)..], output[done..], T.CreateTruncating(nd), Replacement<T>(nd));
            }
            else
            {
                Halve(upper[(2 * done)..], lower[(2 * done)..], output[done..]);
            }
        }
        else
        {
            Weighted(plane, srcWidth, top, columns, row, output, noData is { } nd ? (T.CreateTruncating(nd), Replacement<T>(nd)) : null);
        }
    }

    /// <summary>
    /// The 2 x 2 means of <see cref="Halve{T}"/> and <see cref="HalveMasked{T}"/>, 8 or 16 outputs a step in SIMD
    /// registers (pairs summed in 32-bit lanes; the masked mean's (2 sum + count) / (2 count) divided in single precision,
    /// exact here: numerators stay below 2^20 and every inexact quotient is at least 1/8 from a whole number).
    /// Returns how many outputs it wrote; the scalar loops finish the row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int HalveVectors<T>(ReadOnlySpan<T> upper, ReadOnlySpan<T> lower, Span<T> output, int? noData) where T : unmanaged, IBinaryInteger<T>
    {
        if (!Vector128.IsHardwareAccelerated)
        {
            return 0;
        }
        var nd = Vector128.Create((ushort)(noData ?? 0));
        var replacement = Vector128.Create((uint)(noData is { } n ? int.CreateTruncating(Replacement<T>(n)) : 0));
        var x = 0;
        if (typeof(T) == typeof(ushort))
        {
            ref var u = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<T, ushort>(upper));
            ref var l = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<T, ushort>(lower));
            ref var o = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<T, ushort>(output));
            for (; x + 8 <= output.Length; x += 8)
            {
                var at = (nuint)(2 * x);
                var first = Mean(Vector128.LoadUnsafe(ref u, at), Vector128.LoadUnsafe(ref l, at), noData is not null, nd, replacement);
                var second = Mean(Vector128.LoadUnsafe(ref u, at + 8), Vector128.LoadUnsafe(ref l, at + 8), noData is not null, nd, replacement);
                Vector128.Narrow(first, second).StoreUnsafe(ref o, (nuint)x);
            }
        }
        else if (typeof(T) == typeof(byte))
        {
            ref var u = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<T, byte>(upper));
            ref var l = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<T, byte>(lower));
            ref var o = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<T, byte>(output));
            for (; x + 16 <= output.Length; x += 16)
            {
                var at = (nuint)(2 * x);
                var (u0, u1) = Vector128.Widen(Vector128.LoadUnsafe(ref u, at));
                var (l0, l1) = Vector128.Widen(Vector128.LoadUnsafe(ref l, at));
                var (u2, u3) = Vector128.Widen(Vector128.LoadUnsafe(ref u, at + 16));
                var (l2, l3) = Vector128.Widen(Vector128.LoadUnsafe(ref l, at + 16));
                var low = Vector128.Narrow(Mean(u0, l0, noData is not null, nd, replacement), Mean(u1, l1, noData is not null, nd, replacement));
                var high = Vector128.Narrow(Mean(u2, l2, noData is not null, nd, replacement), Mean(u3, l3, noData is not null, nd, replacement));
                Vector128.Narrow(low, high).StoreUnsafe(ref o, (nuint)x);
            }
        }
        return x;
    }

    // Four outputs from four pairs of each row (8 values as 16-bit lanes).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector128<uint> Mean(Vector128<ushort> upper, Vector128<ushort> lower, bool masked, Vector128<ushort> noData, Vector128<uint> replacement)
    {
        if (!masked)
        {
            return (PairSums(upper) + PairSums(lower) + Vector128.Create(2u)) >> 2;
        }
        var upperValid = ~Vector128.Equals(upper, noData);
        var lowerValid = ~Vector128.Equals(lower, noData);
        var sum = PairSums(upper & upperValid) + PairSums(lower & lowerValid);
        var count = PairSums(Vector128.ShiftRightLogical(upperValid, 15)) + PairSums(Vector128.ShiftRightLogical(lowerValid, 15));
        var mean = Vector128.ConvertToInt32(Vector128.ConvertToSingle(((sum << 1) + count).AsInt32()) / Vector128.ConvertToSingle((count << 1).AsInt32())).AsUInt32();
        var noData32 = Vector128.WidenLower(noData);
        mean = Vector128.ConditionalSelect(Vector128.Equals(mean, noData32), replacement, mean);
        return Vector128.ConditionalSelect(Vector128.Equals(count, Vector128<uint>.Zero), noData32, mean);
    }

    // Each 32-bit lane holds two neighbouring 16-bit values: their sum.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector128<uint> PairSums(Vector128<ushort> values)
    {
        var pairs = values.AsUInt32();
        return (pairs & Vector128.Create(0xFFFFu)) + (pairs >> 16);
    }

    // GDAL's value for a mean that lands on nodata: the next value up, or down at the type's maximum.
    private static T Replacement<T>(int noData) where T : unmanaged, IBinaryInteger<T>
    {
        var max = int.CreateTruncating(T.AllBitsSet);
        return T.CreateTruncating(noData == max ? max - 1 : noData + 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Halve<T>(ReadOnlySpan<T> upper, ReadOnlySpan<T> lower, Span<T> output) where T : unmanaged, IBinaryInteger<T>
    {
        for (var x = 0; x < output.Length; x++)
        {
            var sum = int.CreateTruncating(upper[2 * x]) + int.CreateTruncating(upper[2 * x + 1])
                      + int.CreateTruncating(lower[2 * x]) + int.CreateTruncating(lower[2 * x + 1]);
            output[x] = T.CreateTruncating((sum + 2) >> 2);
        }
    }

    // GDAL's masked mean over a whole 2 x 2 window, (double)sum / count + 0.5 truncated, is exactly (2 sum + count) / (2 count).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void HalveMasked<T>(ReadOnlySpan<T> upper, ReadOnlySpan<T> lower, Span<T> output, T noData, T replacement) where T : unmanaged, IBinaryInteger<T>
    {
        for (var x = 0; x < output.Length; x++)
        {
            int sum = 0, count = 0;
            Add(upper[2 * x], noData, ref sum, ref count);
            Add(upper[2 * x + 1], noData, ref sum, ref count);
            Add(lower[2 * x], noData, ref sum, ref count);
            Add(lower[2 * x + 1], noData, ref sum, ref count);
            if (count == 0)
            {
                output[x] = noData;
                continue;
            }
            var mean = T.CreateTruncating((2 * sum + count) / (2 * count));
            output[x] = mean == noData ? replacement : mean;
        }
    }

    private static void Add<T>(T value, T noData, ref int sum, ref int count) where T : unmanaged, IBinaryInteger<T>
    {
        if (value != noData)
        {
            sum += int.CreateTruncating(value);
            count++;
        }
    }

    /// <summary>
    /// GDAL's general AVERAGE (overview.cpp, GDALResampleChunk32R_AverageT) for windows that are not 2 x 2: partial
    /// first and last source pixels weighted by how much of them the output pixel covers, summed in the same order in
    /// double so every result matches to the bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Weighted<T>(ReadOnlySpan<T> plane, int srcWidth, int top, SourceSpan[] columns, SourceSpan row, Span<T> output, (T NoData, T Replacement)? noData)
        where T : unmanaged, IBinaryInteger<T>
    {
        for (var x = 0; x < output.Length; x++)
        {
            var column = columns[x];
            double total = 0, weight = 0;
            var count = 0;
            for (var y = row.First; y < row.End; y++)
            {
                var line = plane.Slice((y - top) * srcWidth, srcWidth);
                var weightY = y == row.First ? row.FirstWeight : y + 1 == row.End ? row.LastWeight : 1.0;
                double lineTotal = 0, lineWeight = 0;
                if (noData is not { } nd)
                {
                    lineTotal = double.CreateTruncating(line[column.First]) * column.FirstWeight;
                    if (column.First + 1 < column.End)
                    {
                        for (var i = column.First + 1; i + 1 < column.End; i++)
                        {
                            lineTotal += double.CreateTruncating(line[i]);
                        }
                        lineTotal += double.CreateTruncating(line[column.End - 1]) * column.LastWeight;
                    }
                    total += lineTotal * weightY;
                    continue;
                }
                if (line[column.First] != nd.NoData)
                {
                    count++;
                    lineWeight = column.FirstWeight;
                    lineTotal = double.CreateTruncating(line[column.First]) * column.FirstWeight;
                }
                if (column.First + 1 < column.End)
                {
                    for (var i = column.First + 1; i + 1 < column.End; i++)
                    {
                        if (line[i] != nd.NoData)
                        {
                            count++;
                            lineWeight += 1;
                            lineTotal += double.CreateTruncating(line[i]);
                        }
                    }
                    if (line[column.End - 1] != nd.NoData)
                    {
                        count++;
                        lineWeight += column.LastWeight;
                        lineTotal += double.CreateTruncating(line[column.End - 1]) * column.LastWeight;
                    }
                }
                total += lineTotal * weightY;
                weight += lineWeight * weightY;
            }
            if (noData is { } n)
            {
                if (count == 0)
                {
                    output[x] = n.NoData;
                    continue;
                }
                var mean = T.CreateTruncating((int)(total / weight + 0.5));
                output[x] = mean == n.NoData ? n.Replacement : mean;
            }
            else
            {
                output[x] = T.CreateTruncating((int)(total / (column.FullWeight * row.FullWeight) + 0.5));
            }
        }
    }

    /// <summary>The source pixels [First, End) an output pixel averages, and the weights of the first and last.</summary>
    private readonly record struct SourceSpan(int First, int End, double FirstWeight, double LastWeight, double FullWeight);

    // GDAL's per-pixel source window, with its 1e-8 guards, so ratios that are not whole numbers round the same way.
    private static SourceSpan[] Spans(int count, double ratio, int sourceSize)
    {
        var spans = new SourceSpan[count];
        for (var i = 0; i < count; i++)
        {
            var start = i * ratio;
            var first = (int)(start + 1e-8);
            var end = (i + 1) * ratio;
            var last = (int)Math.Ceiling(end - 1e-8);
            if (last == first)
            {
                last++;
            }
            last = Math.Min(last, sourceSize);
            var firstWeight = last == first + 1 ? 1.0 : 1 - (start - first);
            var lastWeight = 1 - (last - end);
            var full = firstWeight;
            if (first + 1 < last)
            {
                full += last - first - 2;
                full += lastWeight;
            }
            spans[i] = new SourceSpan(first, last, firstWeight, lastWeight, full);
        }
        return spans;
    }
}

/// <summary>Reports a part of a longer job's progress: [start, start + span] of the whole.</summary>
internal sealed class ProgressSlice(IProgress<double>? inner, double start, double span) : IProgress<double>
{
    public void Report(double value) => inner?.Report(start + span * value);
}
