using System.Buffers;
using MathNet.Numerics.LinearAlgebra;
using NVector = System.Numerics.Vector;
using VD = System.Numerics.Vector<double>;

namespace SiteWatch.Core.Change.Methods;

/// <summary>
/// Weighted mean and covariance of d-dimensional samples accumulated block by block. Each block is centred on its own
/// weighted mean in double precision and merged with Chan's pairwise update, so the result does not suffer the
/// cancellation of raw sums and hardly depends on how the scene is cut into blocks.
/// </summary>
public sealed class WeightedMoments
{
    private readonly double[] _mean;
    private readonly double[] _comoment; // d x d, row-major, full
    private readonly double[] _blockMean;
    private readonly double[] _blockComoment;
    private readonly double[] _centred;

    public WeightedMoments(int dimension)
    {
        Dimension = dimension;
        _mean = new double[dimension];
        _comoment = new double[dimension * dimension];
        _blockMean = new double[dimension];
        _blockComoment = new double[dimension * dimension];
        _centred = new double[dimension];
    }

    public int Dimension { get; }
    /// <summary>Sum of the weights.</summary>
    public double Weight { get; private set; }
    /// <summary>Samples with a positive weight.</summary>
    public long Count { get; private set; }
    /// <summary>Sum of the squared weights.</summary>
    public double WeightSquared { get; private set; }
    /// <summary>Kish's effective sample size (sum w)^2 / sum w^2: how many equally weighted samples the weights amount to.</summary>
    public double EffectiveCount => WeightSquared > 0 ? Weight * Weight / WeightSquared : 0;

    public IReadOnlyList<double> Mean => _mean;

    /// <summary>Whether sample <paramref name="i"/> counts (valid, with a positive weight), and its weight.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static bool Counts(ReadOnlySpan<byte> valid, ReadOnlySpan<float> weights, bool useWeights, int i, out double w)
    {
        w = useWeights ? weights[i] : 1.0;
        return valid[i] != 0 && w > 0;
    }

    /// <summary>
    /// Adds the samples of one block given as d planes of n values (plane k at [k n, (k + 1) n)), where
    /// valid[i] != 0 and weight (1 when weights is empty) is positive.
    /// </summary>
    public void AddPlanes(ReadOnlySpan<float> planes, int n, ReadOnlySpan<byte> valid, ReadOnlySpan<float> weights = default)
    {
        var d = Dimension;
        var useWeights = !weights.IsEmpty;
        double wb = 0, wb2 = 0;
        long nb = 0;
        Array.Clear(_blockMean);
        for (var i = 0; i < n; i++)
        {
            if (!Counts(valid, weights, useWeights, i, out var w))
            {
                continue;
            }
            wb += w;
            wb2 += w * w;
            nb++;
            for (var k = 0; k < d; k++)
            {
                _blockMean[k] += w * planes[k * n + i];
            }
        }
        if (nb == 0)
        {
            return;
        }
        for (var k = 0; k < d; k++)
        {
            _blockMean[k] /= wb;
        }
        Array.Clear(_blockComoment);
        var c = _centred;
        for (var i = 0; i < n; i++)
        {
            if (!Counts(valid, weights, useWeights, i, out var w))
            {
                continue;
            }
            for (var k = 0; k < d; k++)
            {
                c[k] = planes[k * n + i] - _blockMean[k];
            }
            for (var j = 0; j < d; j++)
            {
                var wc = w * c[j];
                var row = j * d;
                for (var k = j; k < d; k++)
                {
                    _blockComoment[row + k] += wc * c[k];
                }
            }
        }
        WeightSquared += wb2;
        Merge(wb, nb, _blockMean, _blockComoment, upperOnly: true);
    }

    /// <summary>Pixels per chunk of <see cref="AddPlanesParallel"/>: fixed, so the result does not depend on the thread count.</summary>
    internal const int ParallelChunk = 32_768;

    /// <summary>
    /// <see cref="AddPlanes"/> on both cores: the block is cut into fixed chunks of <see cref="ParallelChunk"/> pixels,
    /// each chunk's moments are computed on its own (in parallel) and merged in chunk order, so the sums are the same
    /// whatever the number of threads (they differ from one <see cref="AddPlanes"/> of the whole block only by rounding).
    /// </summary>
    internal void AddPlanesParallel(float[] planes, int n, byte[] valid, float[]? weights = null)
    {
        var chunks = (n + ParallelChunk - 1) / ParallelChunk;
        if (chunks <= 1)
        {
            AddPlanes(planes.AsSpan(0, Dimension * n), n, valid.AsSpan(0, n), weights is null ? default : weights.AsSpan(0, n));
            return;
        }
        var parts = new WeightedMoments[chunks];
        var d = Dimension;
        Parallel.For(0, chunks, c =>
        {
            var start = c * ParallelChunk;
            var m = Math.Min(ParallelChunk, n - start);
            var part = new WeightedMoments(d);
            part.AddStrided(planes, n, start, m, valid, weights);
            parts[c] = part;
        });
        foreach (var part in parts)
        {
            if (part.Count == 0)
            {
                continue;
            }
            WeightSquared += part.WeightSquared;
            Merge(part.Weight, part.Count, part._mean, part._comoment, upperOnly: true);
        }
    }

    /// <summary>
    /// <see cref="AddPlanes"/> on pixels [start, start + m) of planes of length n, several pixels per instruction
    /// (System.Numerics; AVX-512 where present): each lane sums its own pixels, the lanes are added at the end.
    /// </summary>
    private void AddStrided(float[] planes, int n, int start, int m, byte[] valid, float[]? weights)
    {
        var d = Dimension;
        var w = ArrayPool<double>.Shared.Rent(m);
        var x = ArrayPool<double>.Shared.Rent(d * m);
        try
        {
            // Each pixel's weight, 0 where it does not count (invalid, or a weight that is not positive).
            double wb = 0, wb2 = 0;
            long nb = 0;
            for (var i = 0; i < m; i++)
            {
                var v = valid[start + i] == 0 ? 0 : weights is null ? 1.0 : weights[start + i];
                if (v > 0)
                {
                    w[i] = v;
                    wb += v;
                    wb2 += v * v;
                    nb++;
                }
                else
                {
                    w[i] = 0;
                }
            }
            if (nb == 0)
            {
                return;
            }
            // The chunk as doubles, plane by plane; pixels that do not count are 0 (they may hold NaN).
            for (var k = 0; k < d; k++)
            {
                var src = planes.AsSpan(k * n + start, m);
                var dst = x.AsSpan(k * m, m);
                for (var i = 0; i < m; i++)
                {
                    dst[i] = w[i] > 0 ? src[i] : 0;
                }
            }
            var lanes = VD.Count;
            var whole = NVector.IsHardwareAccelerated && d <= MaxVectorDimension ? m / lanes * lanes : 0;
            for (var k = 0; k < d; k++)
            {
                var xs = x.AsSpan(k * m, m);
                var acc = VD.Zero;
                for (var i = 0; i < whole; i += lanes)
                {
                    acc += new VD(w.AsSpan(i, lanes)) * new VD(xs.Slice(i, lanes));
                }
                var sum = NVector.Sum(acc);
                for (var i = whole; i < m; i++)
                {
                    sum += w[i] * xs[i];
                }
                _blockMean[k] = sum / wb;
            }
            Array.Clear(_blockComoment);
            if (whole > 0)
            {
                Span<VD> centred = stackalloc VD[MaxVectorDimension];
                Span<VD> sums = stackalloc VD[MaxVectorDimension * MaxVectorDimension];
                Span<VD> means = stackalloc VD[MaxVectorDimension];
                sums.Clear();
                for (var k = 0; k < d; k++)
                {
                    means[k] = new VD(_blockMean[k]);
                }
                for (var i = 0; i < whole; i += lanes)
                {
                    var wv = new VD(w.AsSpan(i, lanes));
                    var counts = NVector.GreaterThan(wv, VD.Zero);
                    for (var k = 0; k < d; k++)
                    {
                        centred[k] = NVector.ConditionalSelect(counts, new VD(x.AsSpan(k * m + i, lanes)) - means[k], VD.Zero);
                    }
                    for (var j = 0; j < d; j++)
                    {
                        var wc = wv * centred[j];
                        for (var k = j; k < d; k++)
                        {
                            sums[j * MaxVectorDimension + k] += wc * centred[k];
                        }
                    }
                }
                for (var j = 0; j < d; j++)
                {
                    for (var k = j; k < d; k++)
                    {
                        _blockComoment[j * d + k] = NVector.Sum(sums[j * MaxVectorDimension + k]);
                    }
                }
            }
            var c = _centred;
            for (var i = whole; i < m; i++)
            {
                if (!(w[i] > 0))
                {
                    continue;
                }
                for (var k = 0; k < d; k++)
                {
                    c[k] = x[k * m + i] - _blockMean[k];
                }
                for (var j = 0; j < d; j++)
                {
                    var wc = w[i] * c[j];
                    var row = j * d;
                    for (var k = j; k < d; k++)
                    {
                        _blockComoment[row + k] += wc * c[k];
                    }
                }
            }
            WeightSquared += wb2;
            Merge(wb, nb, _blockMean, _blockComoment, upperOnly: true);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(w);
            ArrayPool<double>.Shared.Return(x);
        }
    }

    /// <summary>Largest dimension the vectorised path keeps in registers and stack (8 bands a date); more falls back to scalar.</summary>
    private const int MaxVectorDimension = 16;

    /// <summary>Adds one d-dimensional sample.</summary>
    public void Add(ReadOnlySpan<double> x, double weight = 1)
    {
        if (!(weight > 0))
        {
            return;
        }
        var d = Dimension;
        x[..d].CopyTo(_blockMean);
        Array.Clear(_blockComoment);
        WeightSquared += weight * weight;
        Merge(weight, 1, _blockMean, _blockComoment, upperOnly: true);
    }

    private void Merge(double wb, long nb, double[] meanB, double[] comomentB, bool upperOnly)
    {
        var d = Dimension;
        var wa = Weight;
        var w = wa + wb;
        var f = wa * wb / w;
        for (var j = 0; j < d; j++)
        {
            var dj = meanB[j] - _mean[j];
            for (var k = upperOnly ? j : 0; k < d; k++)
            {
                var dk = meanB[k] - _mean[k];
                _comoment[j * d + k] += comomentB[j * d + k] + f * dj * dk;
            }
        }
        for (var j = 0; j < d; j++)
        {
            _mean[j] += (meanB[j] - _mean[j]) * wb / w;
        }
        Weight = w;
        Count += nb;
    }

    /// <summary>The weighted covariance matrix (divided by the sum of weights, as in Nielsen's weighted estimates).</summary>
    public Matrix<double> Covariance()
    {
        var d = Dimension;
        var m = Matrix<double>.Build.Dense(d, d);
        if (Weight <= 0)
        {
            return m;
        }
        for (var j = 0; j < d; j++)
        {
            for (var k = j; k < d; k++)
            {
                var v = _comoment[j * d + k] / Weight;
                m[j, k] = v;
                m[k, j] = v;
            }
        }
        return m;
    }

    public Vector<double> MeanVector() => Vector<double>.Build.DenseOfArray((double[])_mean.Clone());
}
