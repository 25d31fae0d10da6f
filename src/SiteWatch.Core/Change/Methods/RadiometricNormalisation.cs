using SiteWatch.Gdal;

namespace SiteWatch.Core.Change.Methods;

/// <summary>How <see cref="RadiometricNormalisation.Fit"/> picks and uses the invariant pixels.</summary>
public sealed record NormalisationOptions
{
    /// <summary>
    /// Pixels whose IR-MAD no-change probability exceeds this are taken as radiometrically invariant (Canty and
    /// Nielsen use 0.95: with chi2-distributed Z that keeps the most invariant 5 % of the unchanged pixels).
    /// </summary>
    public double NoChangeProbability { get; init; } = 0.95;
    /// <summary>Every third invariant pixel (by a fixed spatial hash) is held out to test the fit, as Canty and Nielsen do.</summary>
    public bool HoldOut { get; init; } = true;
    public int MaxIterations { get; init; } = 50;
    public double Regularisation { get; init; }
    public int BlockSize { get; init; } = 512;
}

/// <summary>
/// The fit of one target band onto the reference: normalised = Gain * target + Offset (orthogonal regression), with
/// the correlation and the number of invariant pixels behind it, and the hold-out check: mean and RMS of
/// (normalised target - reference) on the held-out invariant pixels.
/// </summary>
public sealed record BandNormalisation(int Band, double Gain, double Offset, double Correlation, long Count, double HoldOutMeanDifference, double HoldOutRmse, long HoldOutCount);

public sealed record NormalisationResult
{
    public required IReadOnlyList<BandNormalisation> Bands { get; init; }
    /// <summary>Invariant pixels found (training and hold-out together).</summary>
    public required long NoChangePixels { get; init; }
    public required long ValidPixels { get; init; }
    public required IReadOnlyList<double> CanonicalCorrelations { get; init; }
    public required int Iterations { get; init; }
}

/// <summary>
/// Relative radiometric normalisation with IR-MAD (Canty, Nielsen and Schmidt 2004; Canty and Nielsen 2008): IR-MAD
/// finds the pixels that did not change (high no-change probability); on those, each band of the target (AFTER) is
/// regressed on the reference (BEFORE) by orthogonal (total least squares) regression, which treats both dates as
/// noisy, and the target is mapped onto the reference's radiometry.
/// </summary>
public static class RadiometricNormalisation
{
    public static NormalisationResult Fit(RasterPair pair, NormalisationOptions? options = null, IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        options ??= new NormalisationOptions();
        if (!(options.NoChangeProbability is > 0 and < 1))
        {
            throw new SiteWatchException($"the no-change probability must lie strictly between 0 and 1, not {options.NoChangeProbability}");
        }
        var mad = new MadMethod(iterative: true);
        var madOptions = new ChangeDetectionOptions
        {
            Method = ChangeMethodKind.IrMad,
            MaxIterations = options.MaxIterations,
            Regularisation = options.Regularisation,
            BlockSize = options.BlockSize,
        };
        mad.Fit(pair, madOptions, new ProgressSlice(progress, 0, 0.9).OrNull, cancel);
        var transform = mad.Transformation;
        var p = pair.BandCount;
        var train = new WeightedMoments(2 * p);
        var test = new WeightedMoments(2 * p);
        var side = Math.Min(options.BlockSize, Math.Max(pair.Width, pair.Height));
        var trainWeights = new float[side * side];
        var testWeights = new float[side * side];
        var variates = new double[p];
        long valid = 0;
        var slice = new ProgressSlice(progress, 0.9, 0.1);
        foreach (var block in PairBlocks.Read(pair, options.BlockSize, 0, slice.Callback, cancel))
        {
            var n = block.PixelCount;
            var core = block.Core;
            for (var i = 0; i < n; i++)
            {
                trainWeights[i] = 0;
                testWeights[i] = 0;
                if (block.Valid[i] == 0)
                {
                    continue;
                }
                valid++;
                var probability = ChiSquare.Survival(transform.ChiSquare(block, i, variates), transform.Variates);
                if (probability <= options.NoChangeProbability)
                {
                    continue;
                }
                var heldOut = options.HoldOut && PcaKMeansMethod.Hash01(core.Row + i / core.Width, core.Column + i % core.Width) < 1.0 / 3;
                (heldOut ? testWeights : trainWeights)[i] = 1;
            }
            train.AddPlanes(block.Planes, n, block.Valid, trainWeights.AsSpan(0, n));
            test.AddPlanes(block.Planes, n, block.Valid, testWeights.AsSpan(0, n));
        }
        if (train.Count < 10)
        {
            throw new SiteWatchException($"IR-MAD found only {train.Count} invariant pixels (no-change probability above {options.NoChangeProbability}); too few to normalise, lower the probability or check that the scenes overlap");
        }
        var s = train.Covariance();
        var t = test.Covariance();
        var bands = new List<BandNormalisation>();
        for (var b = 0; b < p; b++)
        {
            double sxx = s[b, b], syy = s[p + b, p + b], sxy = s[b, p + b];
            double mx = train.Mean[b], my = train.Mean[p + b];
            if (!(sxx > 0 && syy > 0) || sxy == 0)
            {
                throw new SiteWatchException($"band {b + 1} does not vary on the invariant pixels; it cannot be normalised");
            }
            // Orthogonal regression y = alpha + beta x (major axis of the 2-D scatter); invert to map the target onto the reference.
            var beta = (syy - sxx + Math.Sqrt((syy - sxx) * (syy - sxx) + 4 * sxy * sxy)) / (2 * sxy);
            var alpha = my - beta * mx;
            var gain = 1 / beta;
            var offset = -alpha / beta;
            double meanDiff = double.NaN, rmse = double.NaN;
            if (test.Count > 0)
            {
                double tx = test.Mean[b], ty = test.Mean[p + b];
                meanDiff = gain * ty + offset - tx;
                var variance = gain * gain * t[p + b, p + b] + t[b, b] - 2 * gain * t[b, p + b];
                rmse = Math.Sqrt(Math.Max(0, variance) + meanDiff * meanDiff);
            }
            bands.Add(new BandNormalisation(b + 1, gain, offset, sxy / Math.Sqrt(sxx * syy), train.Count, meanDiff, rmse, test.Count));
        }
        progress?.Report(1);
        return new NormalisationResult
        {
            Bands = bands,
            NoChangePixels = train.Count + test.Count,
            ValidPixels = valid,
            CanonicalCorrelations = transform.Correlations,
            Iterations = mad.CorrelationHistory.Count,
        };
    }

    /// <summary>
    /// Writes target (its bands targetBands, default 1..N, in the order fitted) normalised onto the reference as a
    /// Float32 GeoTIFF on the target's grid, window by window; nodata and NaN pixels of a band become NaN.
    /// </summary>
    public static void Apply(RasterDataset target, NormalisationResult fit, string outputPath, IReadOnlyList<int>? targetBands = null,
        int blockSize = 512, IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        var bands = (targetBands ?? Enumerable.Range(1, fit.Bands.Count).ToArray()).ToArray();
        if (bands.Length != fit.Bands.Count)
        {
            throw new SiteWatchException($"the normalisation was fitted on {fit.Bands.Count} bands but {bands.Length} target bands were given");
        }
        foreach (var b in bands)
        {
            if (b < 1 || b > target.BandCount)
            {
                throw new SiteWatchException($"{target.Path}: has no band {b} (it has {target.BandCount})");
            }
        }
        var temp = ChangeDetector.TempPathBeside(outputPath);
        try
        {
            var profile = new RasterProfile(target.Width, target.Height, bands.Length, RasterDataType.Float32)
            {
                GeoTransform = target.GeoTransform,
                Crs = target.CrsWkt,
                NoData = double.NaN,
                // Band names travel with the values: methods that pick bands by name (a change model's red, green,
                // blue) read them from the normalised file.
                BandDescriptions = [.. bands.Select(b => target.BandDescription(b) ?? "")],
            };
            using (var output = RasterDataset.Create(temp, profile))
            {
                var side = Math.Max(16, Math.Min(blockSize, Math.Max(target.Width, target.Height)));
                var buffer = new float[side * side];
                var windows = RasterWindow.Tile(target.Width, target.Height, side, side).ToArray();
                var done = 0;
                foreach (var window in windows)
                {
                    cancel.ThrowIfCancellationRequested();
                    var span = buffer.AsSpan(0, (int)window.PixelCount);
                    for (var k = 0; k < bands.Length; k++)
                    {
                        target.Read<float>(bands[k], window, span);
                        var nodata = target.NoDataOf(bands[k]) is { } v && !double.IsNaN(v) ? (float)v : float.NaN;
                        var hasNoData = !float.IsNaN(nodata);
                        var (gain, offset) = (fit.Bands[k].Gain, fit.Bands[k].Offset);
                        for (var i = 0; i < span.Length; i++)
                        {
                            var x = span[i];
                            span[i] = float.IsNaN(x) || (hasNoData && x == nodata) ? float.NaN : (float)(gain * x + offset);
                        }
                        output.Write<float>(k + 1, window, span);
                    }
                    progress?.Report(++done / (double)windows.Length);
                }
                output.Flush();
            }
            ChangeDetector.MoveInto(temp, outputPath);
        }
        catch (GdalException e)
        {
            TryDelete(temp);
            throw new SiteWatchException(e.Message, e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
