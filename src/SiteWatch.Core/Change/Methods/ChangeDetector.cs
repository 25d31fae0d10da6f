using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Change.Methods;

/// <summary>
/// Runs a change method over a <see cref="RasterPair"/> and writes two GeoTIFFs on the pair's grid, window by window:
/// the magnitude raster (Float32, nodata NaN; band 1 is what is thresholded, see <see cref="ChangeDetectionResult.MagnitudeBands"/>)
/// and the change mask (Byte: 1 changed, 0 unchanged, 255 nodata). Memory is bounded by the block size, not the scene.
/// </summary>
public static class ChangeDetector
{
    public const byte MaskChanged = 1;
    public const byte MaskUnchanged = 0;
    public const byte MaskNoData = 255;

    /// <summary>
    /// Detects change. Passes: the method's fitting passes (one for CVA and MAD, one per iteration for IR-MAD, three for
    /// PCA-KMeans), one transform pass writing the magnitude, one or two histogram passes over band 1 (Otsu, k-means),
    /// one mask pass (threshold, then the clean-up with a halo). Both outputs are written under temporary names beside
    /// their targets and renamed at the end: they appear complete or not at all. Bad input throws
    /// <see cref="SiteWatchException"/>; cancellation throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public static ChangeDetectionResult Detect(RasterPair pair, ChangeDetectionOptions options, string magnitudePath, string maskPath,
        IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        Validate(options);
        if (Path.GetFullPath(magnitudePath) == Path.GetFullPath(maskPath))
        {
            throw new SiteWatchException($"{maskPath}: the mask and the magnitude raster must be different files");
        }
        var method = ChangeMethods.Create(options.Method, options);
        using var owned = method as IDisposable;
        var resolved = options.Threshold == ThresholdRule.Auto ? method.DefaultThreshold : options.Threshold;
        var resolvedName = ChangeChoices.Name(resolved);
        ChangeChoices.RequireThreshold(options.Method, resolved);

        string? magnitudeTemp = null, maskTemp = null;
        var moved = new List<string>();
        try
        {
            method.Fit(pair, options, new ProgressSlice(progress, 0, 0.6).OrNull, cancel);
            magnitudeTemp = TempPathBeside(magnitudePath);
            maskTemp = TempPathBeside(maskPath);
            var bandCount = options.ExtraBands ? method.OutputBands.Count : 1;
            var bandNames = method.OutputBands.Take(bandCount).ToArray();
            using var magnitude = RasterDataset.Create(magnitudeTemp, pair.Profile(bandCount, RasterDataType.Float32, double.NaN) with { BandDescriptions = bandNames },
                creationOptions: MagnitudeOptions);
            using var mask = RasterDataset.Create(maskTemp, pair.Profile(1, RasterDataType.Byte, MaskNoData) with { BandDescriptions = ["change"] });

            double threshold;
            string reason;
            var inv = CultureInfo.InvariantCulture;
            MagnitudeStats stats;
            MaskWriter maskWriter;
            // A threshold that does not depend on the magnitude's histogram (the chi-square test, a model's own) is known
            // before the transform: the mask is then made in the same pass, from the values in memory, instead of
            // reading band 1 back from the file in a pass of its own.
            if (resolved != ThresholdRule.OtsuChiSquare && method.NativeThreshold(resolved, options) is { } native)
            {
                threshold = native;
                reason = resolved == ThresholdRule.ChiSquare
                    ? string.Create(inv, $"the chi-square critical value {native:G5} at significance {options.Significance:G3}")
                    : string.Create(inv, $"the model's own threshold {native:G5} on its change probability");
                maskWriter = new MaskWriter(pair, mask, threshold, options);
                stats = WriteMagnitude(pair, method, magnitude, bandCount, options, new MaskStrip(pair, maskWriter, options.BlockSize), new ProgressSlice(progress, 0.6, 0.4), cancel);
                RequireValidPixels(stats.Count, 1, pair);
            }
            else
            {
                stats = WriteMagnitude(pair, method, magnitude, bandCount, options, null, new ProgressSlice(progress, 0.6, 0.2), cancel);
                RequireValidPixels(stats.Count, 1, pair);
                if (resolved == ThresholdRule.OtsuChiSquare)
                {
                    var critical = method.NativeThreshold(ThresholdRule.ChiSquare, options)!.Value;
                    var otsu = HistogramThreshold(ThresholdRule.Otsu, method, magnitude, pair, stats, options, new ProgressSlice(progress, 0.8, 0.1), cancel);
                    threshold = Math.Max(critical, otsu);
                    reason = otsu >= critical
                        ? string.Create(inv, $"Otsu's cut of the chi-square, {otsu:G5}, is above its critical value {critical:G5} at significance {options.Significance:G3}: pixels in the high class are also significant change")
                        : string.Create(inv, $"Otsu's cut of the chi-square, {otsu:G5}, is below its critical value {critical:G5} at significance {options.Significance:G3}: the critical value is used, so nothing that could be noise is called change");
                }
                else
                {
                    threshold = HistogramThreshold(resolved, method, magnitude, pair, stats, options, new ProgressSlice(progress, 0.8, 0.1), cancel);
                    reason = resolved == ThresholdRule.KMeans
                        ? string.Create(inv, $"the midpoint {threshold:G5} of the two k-means centres of the {method.OutputBands[0]} histogram")
                        : string.Create(inv, $"Otsu's cut {threshold:G5} of the {method.OutputBands[0]} histogram (the split with the largest between-class variance)");
                }
                maskWriter = new MaskWriter(pair, mask, threshold, options);
                WriteMask(pair, magnitude, maskWriter, options, new ProgressSlice(progress, 0.9, 0.1), cancel);
            }
            if (options.Threshold == ThresholdRule.Auto)
            {
                reason = $"{resolvedName} is {method.Name}'s default; " + reason;
            }
            var (changed, changedRaw) = (maskWriter.Changed, maskWriter.ChangedRaw);
            mask.SetMetadataItem("CHANGE_METHOD", method.Name);
            mask.SetMetadataItem("CHANGE_THRESHOLD", threshold.ToString("R", CultureInfo.InvariantCulture));
            mask.SetMetadataItem("CHANGE_THRESHOLD_METHOD", resolvedName);
            mask.Flush();
            mask.Dispose();

            var result = method.Describe(new ChangeDetectionResult
            {
                Method = method.Name,
                ThresholdMethod = resolvedName,
                Threshold = threshold,
                ThresholdReason = reason,
                ChangedPixels = changed,
                ChangedPixelsBeforeMorphology = changedRaw,
                ValidPixels = stats.Count,
                TotalPixels = (long)pair.Width * pair.Height,
                MagnitudeBands = bandNames,
                MagnitudeMin = stats.Min,
                MagnitudeMax = stats.Max,
                MagnitudeMean = stats.Sum / stats.Count,
            });
            magnitude.SetMetadataItem("CHANGE_METHOD", method.Name);
            magnitude.SetMetadataItem("CHANGE_THRESHOLD", threshold.ToString("R", CultureInfo.InvariantCulture));
            magnitude.SetMetadataItem("CHANGE_THRESHOLD_METHOD", resolvedName);
            if (result.CanonicalCorrelations.Count > 0)
            {
                magnitude.SetMetadataItem("CANONICAL_CORRELATIONS", string.Join(",", result.CanonicalCorrelations.Select(r => r.ToString("G6", CultureInfo.InvariantCulture))));
                magnitude.SetMetadataItem("IRMAD_ITERATIONS", result.Iterations.ToString(CultureInfo.InvariantCulture));
            }
            magnitude.Flush();
            magnitude.Dispose();

            MoveInto(magnitudeTemp, magnitudePath);
            moved.Add(magnitudePath);
            MoveInto(maskTemp, maskPath);
            moved.Add(maskPath);
            progress?.Report(1);
            return result;
        }
        catch (GdalException e)
        {
            Cleanup(magnitudeTemp, maskTemp, moved);
            throw new SiteWatchException(e.Message, e);
        }
        catch
        {
            Cleanup(magnitudeTemp, maskTemp, moved);
            throw;
        }
    }

    private static void Validate(ChangeDetectionOptions options)
    {
        if (options.BlockSize < 16)
        {
            throw new SiteWatchException($"the block size must be at least 16 pixels, not {options.BlockSize}");
        }
        if (!(options.Significance is > 0 and < 1))
        {
            throw new SiteWatchException($"the significance level must lie strictly between 0 and 1, not {options.Significance.ToString(CultureInfo.InvariantCulture)}");
        }
        if (!(options.ConvergenceTolerance > 0))
        {
            throw new SiteWatchException("the convergence tolerance must be positive");
        }
        if (options.MinRegionPixels is < 1 or > 1000)
        {
            throw new SiteWatchException($"the smallest region must be 1 to 1000 pixels, not {options.MinRegionPixels}");
        }
        if (!(options.SegmentMetres is > 0 and < 10_000))
        {
            throw new SiteWatchException($"the segment size must be a positive number of metres, not {options.SegmentMetres.ToString(CultureInfo.InvariantCulture)}");
        }
        if (options.KMeansSampleSize < 100)
        {
            throw new SiteWatchException($"the k-means sample must hold at least 100 pixels, not {options.KMeansSampleSize}");
        }
    }

    /// <summary>Clear errors for scenes with no, or too few, usable pixels.</summary>
    internal static void RequireValidPixels(long count, long minimum, RasterPair pair)
    {
        if (count == 0)
        {
            throw new SiteWatchException($"{pair.After.Path}: no pixel holds valid data in both scenes (all nodata, NaN or masked, e.g. fully clouded); nothing to compare");
        }
        if (count < minimum)
        {
            throw new SiteWatchException($"{pair.After.Path}: only {count} pixels hold valid data in both scenes; at least {minimum} are needed to estimate the change statistics");
        }
    }

    /// <summary>
    /// The magnitude raster is stored uncompressed, with blocks that hold no data left out (SPARSE_OK, read back as
    /// nodata): change statistics are as noisy as the pixels they come from, and ZSTD shrank MAD's outputs by 6-9 %
    /// for a sixth of the run's CPU time (bench/mad-vs-otb.sh); what compresses in them is the nodata around a
    /// scene's footprint, most of which fills whole blocks. Band-interleaved: band 1 is read back on its own.
    /// </summary>
    private static readonly string[] MagnitudeOptions =
        ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "COMPRESS=NONE", "SPARSE_OK=TRUE", "BIGTIFF=IF_SAFER", "INTERLEAVE=BAND"];

    private readonly record struct MagnitudeStats(long Count, double Min, double Max, double Sum);

    /// <summary>Count, minimum, maximum and sum of the finite values, several values per instruction.</summary>
    private static void Accumulate(ReadOnlySpan<float> values, ref long count, ref double min, ref double max, ref double sum)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            var lanes = MemoryMarshal.Cast<float, Vector<float>>(values);
            var low = new Vector<float>(float.PositiveInfinity);
            var high = new Vector<float>(float.NegativeInfinity);
            var sum0 = Vector<double>.Zero;
            var sum1 = Vector<double>.Zero;
            var finiteCount = Vector<int>.Zero;
            foreach (var x in lanes)
            {
                // x - x is 0 for a finite value and NaN for NaN or an infinity.
                var finite = Vector.Equals(x - x, Vector<float>.Zero);
                finiteCount -= finite;
                low = Vector.Min(low, Vector.ConditionalSelect(finite, x, new Vector<float>(float.PositiveInfinity)));
                high = Vector.Max(high, Vector.ConditionalSelect(finite, x, new Vector<float>(float.NegativeInfinity)));
                Vector.Widen(Vector.ConditionalSelect(finite, x, Vector<float>.Zero), out var a, out var b);
                sum0 += a;
                sum1 += b;
            }
            count += Vector.Sum(finiteCount);
            sum += Vector.Sum(sum0) + Vector.Sum(sum1);
            for (var k = 0; k < Vector<float>.Count; k++)
            {
                min = Math.Min(min, low[k]);
                max = Math.Max(max, high[k]);
            }
            i = lanes.Length * Vector<float>.Count;
        }
        for (; i < values.Length; i++)
        {
            var v = values[i];
            if (float.IsFinite(v))
            {
                count++;
                sum += v;
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
        }
    }

    private static MagnitudeStats WriteMagnitude(RasterPair pair, IChangeMethod method, RasterDataset magnitude, int bandCount, ChangeDetectionOptions options, MaskStrip? mask, ProgressSlice progress, CancellationToken cancel)
    {
        var side = Math.Min(options.BlockSize, Math.Max(pair.Width, pair.Height));
        var output = new float[method.OutputBands.Count * side * side];
        // When the windows are the raster's own blocks they are handed straight to the driver, past the block cache.
        var direct = magnitude.BlockSize == (options.BlockSize, options.BlockSize);
        var pad = direct ? new float[options.BlockSize * options.BlockSize] : [];
        long count = 0;
        double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0;
        foreach (var block in PairBlocks.Read(pair, options.BlockSize, method.Halo, progress.Callback, cancel))
        {
            var n = (int)block.Core.PixelCount;
            method.Transform(block, output);
            for (var b = 0; b < bandCount; b++)
            {
                if (direct)
                {
                    magnitude.WriteBlock<float>(b + 1, block.Core, output.AsSpan(b * n, n), pad);
                }
                else
                {
                    magnitude.Write<float>(b + 1, block.Core, output.AsSpan(b * n, n));
                }
            }
            mask?.Add(block.Core, output.AsSpan(0, n));
            Accumulate(output.AsSpan(0, n), ref count, ref min, ref max, ref sum);
        }
        mask?.Complete();
        return new MagnitudeStats(count, min, max, sum);
    }

    private static double HistogramThreshold(ThresholdRule rule, IChangeMethod method, RasterDataset magnitude, RasterPair pair, MagnitudeStats stats, ChangeDetectionOptions options, ProgressSlice progress, CancellationToken cancel)
    {
        if (rule is not (ThresholdRule.Otsu or ThresholdRule.KMeans))
        {
            throw SiteWatchException.About("threshold", $"{ChangeChoices.Name(rule)} does not apply to {method.Name}");
        }
        var squared = method.MagnitudeIsSquared;
        var histogram = Histogram(magnitude, pair, squared ? stats with { Min = Math.Sqrt(Math.Max(0, stats.Min)), Max = Math.Sqrt(Math.Max(0, stats.Max)) } : stats,
            squared, options, progress, cancel);
        var t = rule == ThresholdRule.Otsu ? ChangeThresholds.Otsu(histogram) : ChangeThresholds.KMeans(histogram);
        return squared ? t * t : t;
    }

    /// <summary>
    /// Histogram of band 1 read back from the magnitude raster: first over [min, max]; when the top 0.1 % stretch far
    /// beyond the rest (the chi-square has a long tail), a second pass over [min, 99.9th percentile] with the tail in
    /// the last bin, so the bins stay fine where the threshold can fall.
    /// </summary>
    private static MagnitudeHistogram Histogram(RasterDataset magnitude, RasterPair pair, MagnitudeStats stats, bool squareRoot, ChangeDetectionOptions options, ProgressSlice progress, CancellationToken cancel)
    {
        var histogram = FillHistogram(magnitude, pair, new MagnitudeHistogram(stats.Min, stats.Max), squareRoot, options, progress.Sub(0, 0.5), cancel);
        var q = histogram.Quantile(0.999);
        if (q - stats.Min < 0.25 * (stats.Max - stats.Min))
        {
            histogram = FillHistogram(magnitude, pair, new MagnitudeHistogram(stats.Min, q), squareRoot, options, progress.Sub(0.5, 0.5), cancel);
        }
        return histogram;
    }

    private static MagnitudeHistogram FillHistogram(RasterDataset magnitude, RasterPair pair, MagnitudeHistogram histogram, bool squareRoot, ChangeDetectionOptions options, ProgressSlice progress, CancellationToken cancel)
    {
        var side = Math.Min(options.BlockSize, Math.Max(pair.Width, pair.Height));
        var buffer = new float[side * side];
        var total = PairBlocks.WindowCount(pair, options.BlockSize);
        var done = 0;
        foreach (var window in pair.Windows(options.BlockSize))
        {
            cancel.ThrowIfCancellationRequested();
            var span = buffer.AsSpan(0, (int)window.PixelCount);
            magnitude.Read<float>(1, window, span);
            if (squareRoot)
            {
                foreach (ref var v in span)
                {
                    v = MathF.Sqrt(MathF.Max(0, v));
                }
            }
            histogram.AddValid(span);
            progress.Report(++done / (double)total);
        }
        return histogram;
    }

    /// <summary>The mask from band 1 of the magnitude raster read back window by window (a threshold from its histogram).</summary>
    private static void WriteMask(RasterPair pair, RasterDataset magnitude, MaskWriter writer, ChangeDetectionOptions options, ProgressSlice progress, CancellationToken cancel)
    {
        var total = PairBlocks.WindowCount(pair, options.BlockSize);
        var done = 0;
        foreach (var core in pair.Windows(options.BlockSize))
        {
            cancel.ThrowIfCancellationRequested();
            var padded = writer.Padded(core);
            var values = writer.Values((int)padded.PixelCount);
            magnitude.Read<float>(1, padded, values);
            writer.Classify(values);
            writer.Write(core, padded);
            progress.Report(++done / (double)total);
        }
    }

    /// <summary>
    /// Thresholds band 1 and cleans the decision up window by window: each core window is decided on a window grown by
    /// the clean-up's halo (clamped to the scene), so the mask does not depend on where the windows fall.
    /// </summary>
    private sealed class MaskWriter
    {
        private readonly RasterPair _pair;
        private readonly RasterDataset _mask;
        private readonly ChangeDetectionOptions _options;
        private readonly double _threshold;
        private readonly float[] _values;
        private readonly byte[] _binary;
        private readonly byte[] _valid;
        private readonly byte[] _scratch;
        private readonly int[] _queue;
        private readonly byte[] _output;
        private readonly byte[] _decisions;
        private readonly float _floatCut;

        public MaskWriter(RasterPair pair, RasterDataset mask, double threshold, ChangeDetectionOptions options)
        {
            _pair = pair;
            _mask = mask;
            _options = options;
            _threshold = threshold;
            Halo = options.Morphology switch
            {
                MaskCleanup.OpenClose => BinaryMorphology.HaloOpenClose,
                MaskCleanup.Area => BinaryMorphology.HaloArea(options.MinRegionPixels),
                _ => 0,
            };
            var side = Math.Min(options.BlockSize, Math.Max(pair.Width, pair.Height)) + 2 * Halo;
            _values = new float[side * side];
            _binary = new byte[side * side];
            _valid = new byte[side * side];
            _scratch = new byte[side * side];
            _queue = options.Morphology == MaskCleanup.Area ? new int[side * side] : [];
            _output = new byte[side * side];
            _decisions = new byte[side * side];
            // The largest float not above the threshold (see Decide).
            _floatCut = (float)threshold;
            if (_floatCut > threshold)
            {
                _floatCut = MathF.BitDecrement(_floatCut);
            }
        }

        public int Halo { get; }
        public long Changed { get; private set; }
        /// <summary>Changed pixels before the clean-up.</summary>
        public long ChangedRaw { get; private set; }

        public RasterWindow Padded(RasterWindow core)
        {
            var c0 = Math.Max(0, core.Column - Halo);
            var r0 = Math.Max(0, core.Row - Halo);
            return new RasterWindow(c0, r0, Math.Min(_pair.Width, core.Column + core.Width + Halo) - c0, Math.Min(_pair.Height, core.Row + core.Height + Halo) - r0);
        }

        public Span<float> Values(int n) => _values.AsSpan(0, n);

        /// <summary>
        /// The decisions for values of band 1: 0 unchanged, 1 changed (above the threshold), 2 no data (NaN). Several
        /// values per instruction: a float is above the (double) threshold exactly when it is above the largest float
        /// not above it, so the vector comparison in float decides as the scalar one in double.
        /// </summary>
        public void Decide(ReadOnlySpan<float> values, Span<byte> decisions)
        {
            var i = 0;
            var w = Vector<float>.Count;
            if (Vector.IsHardwareAccelerated && Vector<byte>.Count == 4 * w)
            {
                var cut = new Vector<float>(_floatCut);
                var one = Vector<uint>.One;
                var two = new Vector<uint>(2);
                for (; i + 4 * w <= values.Length; i += 4 * w)
                {
                    var a = Decision(new Vector<float>(values.Slice(i, w)), cut, one, two);
                    var b = Decision(new Vector<float>(values.Slice(i + w, w)), cut, one, two);
                    var c = Decision(new Vector<float>(values.Slice(i + 2 * w, w)), cut, one, two);
                    var d = Decision(new Vector<float>(values.Slice(i + 3 * w, w)), cut, one, two);
                    Vector.Narrow(Vector.Narrow(a, b), Vector.Narrow(c, d)).CopyTo(decisions.Slice(i, 4 * w));
                }
            }
            for (; i < values.Length; i++)
            {
                var v = values[i];
                decisions[i] = !float.IsFinite(v) ? (byte)2 : v > _threshold ? (byte)1 : (byte)0;
            }
        }

        private static Vector<uint> Decision(Vector<float> x, Vector<float> cut, Vector<uint> one, Vector<uint> two)
        {
            // x - x is 0 for a finite value and NaN for NaN or an infinity.
            var finite = Vector.AsVectorUInt32(Vector.Equals(x - x, Vector<float>.Zero));
            var above = Vector.AsVectorUInt32(Vector.GreaterThan(x, cut));
            return Vector.ConditionalSelect(finite, above & one, two);
        }

        /// <summary>Decides every value of the padded window.</summary>
        public void Classify(ReadOnlySpan<float> values)
        {
            Decide(values, _decisions.AsSpan(0, values.Length));
            Set(0, _decisions.AsSpan(0, values.Length));
        }

        /// <summary>Sets the padded window's pixels from <paramref name="offset"/> on from decisions of <see cref="Decide"/>.</summary>
        public void Set(int offset, ReadOnlySpan<byte> decisions)
        {
            var valid = _valid.AsSpan(offset, decisions.Length);
            var binary = _binary.AsSpan(offset, decisions.Length);
            var i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var one = Vector<byte>.One;
                var two = new Vector<byte>(2);
                for (; i + Vector<byte>.Count <= decisions.Length; i += Vector<byte>.Count)
                {
                    var d = new Vector<byte>(decisions.Slice(i, Vector<byte>.Count));
                    Vector.AndNot(one, Vector.Equals(d, two)).CopyTo(valid.Slice(i, Vector<byte>.Count));
                    (Vector.Equals(d, one) & one).CopyTo(binary.Slice(i, Vector<byte>.Count));
                }
            }
            for (; i < decisions.Length; i++)
            {
                valid[i] = decisions[i] == 2 ? (byte)0 : (byte)1;
                binary[i] = decisions[i] == 1 ? (byte)1 : (byte)0;
            }
        }

        /// <summary>Cleans up the decided padded window and writes its core to the mask.</summary>
        public void Write(RasterWindow core, RasterWindow padded)
        {
            var n = (int)padded.PixelCount;
            var binary = _binary;
            var valid = _valid;
            // Count the raw decision over the core only, before clean-up.
            var dr = core.Row - padded.Row;
            var dc = core.Column - padded.Column;
            for (var r = 0; r < core.Height; r++)
            {
                var start = (r + dr) * padded.Width + dc;
                ChangedRaw += core.Width - binary.AsSpan(start, core.Width).Count((byte)0);
            }
            if (_options.Morphology == MaskCleanup.OpenClose)
            {
                BinaryMorphology.OpenClose(binary.AsSpan(0, n), valid.AsSpan(0, n), padded.Width, padded.Height, _scratch);
            }
            else if (_options.Morphology == MaskCleanup.Area)
            {
                BinaryMorphology.AreaOpenClose(binary.AsSpan(0, n), valid.AsSpan(0, n), padded.Width, padded.Height, _options.MinRegionPixels, _queue, _scratch);
            }
            for (var r = 0; r < core.Height; r++)
            {
                var start = (r + dr) * padded.Width + dc;
                var output = _output.AsSpan(r * core.Width, core.Width);
                var validRow = valid.AsSpan(start, core.Width);
                var binaryRow = binary.AsSpan(start, core.Width);
                var c = 0;
                if (Vector.IsHardwareAccelerated)
                {
                    var noData = new Vector<byte>(MaskNoData);
                    for (; c + Vector<byte>.Count <= core.Width; c += Vector<byte>.Count)
                    {
                        var isValid = new Vector<byte>(validRow.Slice(c, Vector<byte>.Count));
                        Vector.ConditionalSelect(Vector.Equals(isValid, Vector<byte>.Zero), noData, new Vector<byte>(binaryRow.Slice(c, Vector<byte>.Count)))
                            .CopyTo(output.Slice(c, Vector<byte>.Count));
                    }
                }
                for (; c < core.Width; c++)
                {
                    output[c] = validRow[c] == 0 ? MaskNoData : binaryRow[c];
                }
                Changed += output.Count(MaskChanged);
            }
            _mask.Write<byte>(1, core, _output.AsSpan(0, (int)core.PixelCount));
        }
    }

    /// <summary>
    /// The mask made during the transform pass: the decisions of the rows of windows received so far are kept in a
    /// strip of whole scene rows (one byte a pixel), and a row of windows is cleaned up and written as soon as the rows
    /// its halo reaches have arrived. The strip holds (ceil(halo / block) + 1) block rows plus the halo, whatever the
    /// scene's height. Windows must arrive in <see cref="RasterPair.Windows"/> order (row by row).
    /// </summary>
    private sealed class MaskStrip
    {
        private readonly RasterPair _pair;
        private readonly MaskWriter _writer;
        private readonly int _block;
        private readonly int _capacity;
        private readonly byte[] _decisions;
        private int _nextBlockRow;
        private RasterWindow? _expectedAfter;

        public MaskStrip(RasterPair pair, MaskWriter writer, int blockSize)
        {
            _pair = pair;
            _writer = writer;
            _block = blockSize;
            var haloRows = (writer.Halo + blockSize - 1) / blockSize;
            _capacity = Math.Min(pair.Height, (haloRows + 1) * blockSize + writer.Halo);
            _decisions = new byte[(long)_capacity * pair.Width is var size && size <= Array.MaxLength ? (int)size
                : throw new SiteWatchException($"{pair.After.Path}: the scene is too wide ({pair.Width} pixels) to clean up its change mask in one pass")];
        }

        public void Add(RasterWindow core, ReadOnlySpan<float> values)
        {
            var inOrder = _expectedAfter is { } last
                ? core.Row == last.Row && core.Column == last.Column + last.Width || core.Column == 0 && core.Row == last.Row + last.Height && last.Column + last.Width == _pair.Width
                : core.Column == 0 && core.Row == 0;
            if (!inOrder)
            {
                throw new InvalidOperationException($"Window {core} arrived out of order after {(_expectedAfter is { } previous ? previous.ToString() : "none")}.");
            }
            _expectedAfter = core;
            for (var r = 0; r < core.Height; r++)
            {
                _writer.Decide(values.Slice(r * core.Width, core.Width), _decisions.AsSpan((core.Row + r) % _capacity * _pair.Width + core.Column, core.Width));
            }
            if (core.Column + core.Width == _pair.Width)
            {
                // Rows [0, received) are in: write every row of windows whose halo ends there.
                var received = core.Row + core.Height;
                while (_nextBlockRow * _block < _pair.Height && Math.Min(_pair.Height, (_nextBlockRow + 1) * _block + _writer.Halo) <= received)
                {
                    WriteBlockRow(_nextBlockRow++);
                }
            }
        }

        public void Complete()
        {
            while (_nextBlockRow * _block < _pair.Height)
            {
                WriteBlockRow(_nextBlockRow++);
            }
        }

        private void WriteBlockRow(int blockRow)
        {
            var top = blockRow * _block;
            var height = Math.Min(_block, _pair.Height - top);
            for (var left = 0; left < _pair.Width; left += _block)
            {
                var core = new RasterWindow(left, top, Math.Min(_block, _pair.Width - left), height);
                var padded = _writer.Padded(core);
                for (var r = padded.Row; r < padded.Row + padded.Height; r++)
                {
                    _writer.Set((r - padded.Row) * padded.Width, _decisions.AsSpan(r % _capacity * _pair.Width + padded.Column, padded.Width));
                }
                _writer.Write(core, padded);
            }
        }
    }

    internal static string TempPathBeside(string path)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.partial.tif");
    }

    internal static void MoveInto(string temp, string path)
    {
        try
        {
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SiteWatchException($"{path}: cannot write ({e.Message})", e);
        }
    }

    private static void Cleanup(string? magnitudeTemp, string? maskTemp, List<string> moved)
    {
        foreach (var path in moved.Append(magnitudeTemp).Append(maskTemp).OfType<string>())
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: a leftover is a dot-file beside the output.
            }
        }
    }
}
