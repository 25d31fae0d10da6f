using SiteWatch.Gdal;

namespace SiteWatch.Core.Change.Methods;

/// <summary>Agreement of a change mask with a reference: the confusion counts and the usual figures derived from them.</summary>
public sealed record ChangeAccuracy
{
    public required long TruePositives { get; init; }
    public required long FalsePositives { get; init; }
    public required long TrueNegatives { get; init; }
    public required long FalseNegatives { get; init; }
    /// <summary>Pixels in neither reference (only when an unchanged reference is given), or in both; not scored.</summary>
    public long Unlabelled { get; init; }
    /// <summary>Labelled pixels the prediction has no value for (its nodata); not scored.</summary>
    public long PredictionNoData { get; init; }

    public long Total => TruePositives + FalsePositives + TrueNegatives + FalseNegatives;
    public double OverallAccuracy => Ratio(TruePositives + TrueNegatives, Total);
    public double Precision => Ratio(TruePositives, TruePositives + FalsePositives);
    public double Recall => Ratio(TruePositives, TruePositives + FalseNegatives);
    public double F1 => Ratio(2 * TruePositives, 2 * TruePositives + FalsePositives + FalseNegatives);
    public double IoU => Ratio(TruePositives, TruePositives + FalsePositives + FalseNegatives);
    /// <summary>Share of reference-unchanged pixels called changed.</summary>
    public double FalseAlarmRate => Ratio(FalsePositives, FalsePositives + TrueNegatives);

    /// <summary>Cohen's kappa: agreement beyond what the two marginal distributions give by chance.</summary>
    public double Kappa
    {
        get
        {
            double n = Total;
            if (n == 0)
            {
                return 0;
            }
            var po = (TruePositives + TrueNegatives) / n;
            var pe = ((double)(TruePositives + FalsePositives) * (TruePositives + FalseNegatives)
                + (double)(FalseNegatives + TrueNegatives) * (FalsePositives + TrueNegatives)) / (n * n);
            return pe >= 1 ? (po >= 1 ? 1 : 0) : (po - pe) / (1 - pe);
        }
    }

    private static double Ratio(long a, long b) => b == 0 ? 0 : (double)a / b;

    public override string ToString() => FormattableString.Invariant(
        $"OA {OverallAccuracy:0.0000} kappa {Kappa:0.0000} F1 {F1:0.0000} precision {Precision:0.0000} recall {Recall:0.0000} IoU {IoU:0.0000} (TP {TruePositives} FP {FalsePositives} TN {TrueNegatives} FN {FalseNegatives})");
}

/// <summary>Scores a change mask against reference masks, window by window.</summary>
public static class ChangeEvaluator
{
    /// <summary>
    /// Compares predictedMask (band 1: pixels equal to its nodata value are not scored, other non-zero pixels are
    /// changed, zero unchanged) with referenceChanged (non-zero pixels of band 1 are changed). With referenceUnchanged
    /// (non-zero pixels of band 1 are unchanged) only pixels labelled by exactly one reference are scored; without it
    /// every pixel not marked changed counts as unchanged. All rasters must have the same size.
    /// </summary>
    public static ChangeAccuracy Evaluate(string predictedMask, string referenceChanged, string? referenceUnchanged = null, int blockSize = 512)
    {
        RasterDataset? predicted = null, changed = null, unchanged = null;
        try
        {
            predicted = RasterDataset.Open(predictedMask);
            changed = RasterDataset.Open(referenceChanged);
            unchanged = referenceUnchanged is null ? null : RasterDataset.Open(referenceUnchanged);
            foreach (var reference in new[] { changed, unchanged })
            {
                if (reference is not null && (reference.Width != predicted.Width || reference.Height != predicted.Height))
                {
                    throw new SiteWatchException($"{reference.Path}: is {reference.Width} x {reference.Height} pixels but {predicted.Path} is {predicted.Width} x {predicted.Height}; the reference must cover the same grid");
                }
                if (reference is not null)
                {
                    RasterPair.RequireSameGeoreference(predicted, reference, "the reference must cover the same grid");
                }
            }
            var nodata = predicted.NoData is { } v && v is >= 0 and <= 255 && v == Math.Floor(v) ? (int)v : -1;
            long tp = 0, fp = 0, tn = 0, fn = 0, unlabelled = 0, noData = 0;
            var side = Math.Max(1, Math.Min(blockSize, Math.Max(predicted.Width, predicted.Height)));
            var p = new byte[side * side];
            var c = new byte[side * side];
            var u = new byte[side * side];
            foreach (var window in RasterWindow.Tile(predicted.Width, predicted.Height, side, side))
            {
                var n = (int)window.PixelCount;
                predicted.Read<byte>(1, window, p.AsSpan(0, n));
                changed.Read<byte>(1, window, c.AsSpan(0, n));
                unchanged?.Read<byte>(1, window, u.AsSpan(0, n));
                for (var i = 0; i < n; i++)
                {
                    var isChanged = c[i] != 0;
                    if (unchanged is not null && isChanged == (u[i] != 0))
                    {
                        unlabelled++;
                        continue;
                    }
                    if (p[i] == nodata)
                    {
                        noData++;
                        continue;
                    }
                    var saysChanged = p[i] != 0;
                    if (isChanged)
                    {
                        if (saysChanged)
                        {
                            tp++;
                        }
                        else
                        {
                            fn++;
                        }
                    }
                    else if (saysChanged)
                    {
                        fp++;
                    }
                    else
                    {
                        tn++;
                    }
                }
            }
            return new ChangeAccuracy
            {
                TruePositives = tp, FalsePositives = fp, TrueNegatives = tn, FalseNegatives = fn,
                Unlabelled = unlabelled, PredictionNoData = noData,
            };
        }
        catch (GdalException e)
        {
            throw new SiteWatchException(e.Message, e);
        }
        finally
        {
            predicted?.Dispose();
            changed?.Dispose();
            unchanged?.Dispose();
        }
    }
}
