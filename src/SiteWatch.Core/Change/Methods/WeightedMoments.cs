using MathNet.Numerics.LinearAlgebra;

namespace SiteWatch.Core.Change;

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
            if (valid[i] == 0)
            {
                continue;
            }
            var w = useWeights ? weights[i] : 1.0;
            if (!(w > 0))
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
            if (valid[i] == 0)
            {
                continue;
            }
            var w = useWeights ? weights[i] : 1.0;
            if (!(w > 0))
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
