using System.Buffers;
using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using Vector = System.Numerics.Vector;

namespace SiteWatch.Core.Change.Methods;

/// <summary>
/// The solution of one (weighted) canonical correlation analysis of BEFORE (X) against AFTER (Y): MAD variates
/// M_i = a_i'(x - mean_x) - b_i'(y - mean_y), ordered by ascending canonical correlation (MAD1 has the lowest
/// correlation, the largest variance 2 (1 - rho_1)).
/// </summary>
public sealed class MadTransform
{
    private readonly double[] _meanX;
    private readonly double[] _meanY;
    private readonly double[] _a; // N x p, row-major
    private readonly double[] _b; // N x p
    private readonly double[] _inverseVariance;

    internal MadTransform(int bands, double[] meanX, double[] meanY, double[] a, double[] b, double[] rho, double[] variance)
    {
        Bands = bands;
        _meanX = meanX;
        _meanY = meanY;
        _a = a;
        _b = b;
        Correlations = rho;
        Variances = variance;
        _inverseVariance = variance.Select(v => 1 / v).ToArray();
    }

    /// <summary>Bands of each date (p).</summary>
    public int Bands { get; }
    /// <summary>Number of MAD variates N (the chi-square degrees of freedom); fewer than p when bands are collinear.</summary>
    public int Variates => Correlations.Count;
    public IReadOnlyList<double> Correlations { get; }
    /// <summary>Variance of each MAD variate under the fit's weights, 2 (1 - rho).</summary>
    public IReadOnlyList<double> Variances { get; }
    public IReadOnlyList<double> MeanBefore => _meanX;
    public IReadOnlyList<double> MeanAfter => _meanY;

    /// <summary>Canonical vector a_i (weights of the BEFORE bands) of variate i.</summary>
    public double[] BeforeVector(int i) => _a.AsSpan(i * Bands, Bands).ToArray();
    /// <summary>Canonical vector b_i (weights of the AFTER bands) of variate i.</summary>
    public double[] AfterVector(int i) => _b.AsSpan(i * Bands, Bands).ToArray();

    /// <summary>The chi-square statistic Z = sum (M_i / sigma_i)^2 of pixel i of a block; writes the MAD variates to mad.</summary>
    public double ChiSquare(PairBlock block, int i, Span<double> mad)
    {
        var n = block.PixelCount;
        var planes = block.Planes;
        var p = Bands;
        double z = 0;
        for (var v = 0; v < Variates; v++)
        {
            double m = 0;
            var row = v * p;
            for (var k = 0; k < p; k++)
            {
                m += _a[row + k] * (planes[k * n + i] - _meanX[k]) - _b[row + k] * (planes[(p + k) * n + i] - _meanY[k]);
            }
            mad[v] = m;
            z += m * m * _inverseVariance[v];
        }
        return z;
    }

    /// <summary>
    /// <see cref="ChiSquare(PairBlock, int, Span{double})"/> for <paramref name="count"/> consecutive pixels from
    /// index <paramref name="start"/> of planes of length <paramref name="n"/>: Z to <paramref name="z"/>, variate v of
    /// pixel j to mad[v * count + j]. Several pixels per instruction (System.Numerics, AVX-512 where present) with each
    /// pixel's operations in the scalar order, so the values are the scalar ones bit for bit.
    /// </summary>
    public void ChiSquare(ReadOnlySpan<float> planes, int n, int start, int count, Span<double> z, Span<double> mad)
    {
        var p = Bands;
        var j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var width = System.Numerics.Vector<float>.Count;
            var half = System.Numerics.Vector<double>.Count;
            for (; j + width <= count; j += width)
            {
                var z0 = System.Numerics.Vector<double>.Zero;
                var z1 = System.Numerics.Vector<double>.Zero;
                for (var v = 0; v < Variates; v++)
                {
                    var m0 = System.Numerics.Vector<double>.Zero;
                    var m1 = System.Numerics.Vector<double>.Zero;
                    var row = v * p;
                    for (var k = 0; k < p; k++)
                    {
                        Vector.Widen(new System.Numerics.Vector<float>(planes.Slice(k * n + start + j, width)), out var x0, out var x1);
                        Vector.Widen(new System.Numerics.Vector<float>(planes.Slice((p + k) * n + start + j, width)), out var y0, out var y1);
                        var a = new System.Numerics.Vector<double>(_a[row + k]);
                        var b = new System.Numerics.Vector<double>(_b[row + k]);
                        var mx = new System.Numerics.Vector<double>(_meanX[k]);
                        var my = new System.Numerics.Vector<double>(_meanY[k]);
                        m0 += a * (x0 - mx) - b * (y0 - my);
                        m1 += a * (x1 - mx) - b * (y1 - my);
                    }
                    m0.CopyTo(mad.Slice(v * count + j, half));
                    m1.CopyTo(mad.Slice(v * count + j + half, half));
                    var inverse = new System.Numerics.Vector<double>(_inverseVariance[v]);
                    z0 += m0 * m0 * inverse;
                    z1 += m1 * m1 * inverse;
                }
                z0.CopyTo(z.Slice(j, half));
                z1.CopyTo(z.Slice(j + half, half));
            }
        }
        for (; j < count; j++)
        {
            var i = start + j;
            double zj = 0;
            for (var v = 0; v < Variates; v++)
            {
                double m = 0;
                var row = v * p;
                for (var k = 0; k < p; k++)
                {
                    m += _a[row + k] * (planes[k * n + i] - _meanX[k]) - _b[row + k] * (planes[(p + k) * n + i] - _meanY[k]);
                }
                mad[v * count + j] = m;
                zj += m * m * _inverseVariance[v];
            }
            z[j] = zj;
        }
    }

    /// <summary>
    /// Canonical correlation analysis of the 2p-dimensional weighted moments (first p = X, last p = Y). Each covariance
    /// block is whitened through its eigen-decomposition, dropping directions with no variance (constant or collinear
    /// bands), and the whitened cross-covariance is decomposed by SVD; this is the same solution as the generalised
    /// eigenproblem S12 S22^-1 S21 a = rho^2 S11 a, but stays well defined on rank-deficient data.
    /// </summary>
    /// <param name="varianceScale">Factor applied to the MAD variances 2 (1 - rho) (the IR-MAD consistency correction; 1 for plain MAD).</param>
    /// <param name="quantisationVariance">Variance added to every band of both dates: 1/12 for integer data, the variance of
    /// rounding to whole numbers. It keeps pixels whose values are identical on both dates (fill values, saturation,
    /// frames) from making a canonical correlation exactly 1.</param>
    public static MadTransform Solve(WeightedMoments moments, double regularisation, List<string>? notes = null, double varianceScale = 1, double quantisationVariance = 0)
    {
        var d = moments.Dimension;
        var p = d / 2;
        var cov = moments.Covariance();
        var s11 = cov.SubMatrix(0, p, 0, p);
        var s22 = cov.SubMatrix(p, p, p, p);
        var s12 = cov.SubMatrix(0, p, p, p);
        // Rank from the data alone, so constant or collinear bands are dropped before the quantisation floor is added.
        var w1 = Whitener(Regularise(s11, regularisation), quantisationVariance, out var r1);
        var w2 = Whitener(Regularise(s22, regularisation), quantisationVariance, out var r2);
        s11 += Matrix<double>.Build.DenseIdentity(p) * quantisationVariance;
        s22 += Matrix<double>.Build.DenseIdentity(p) * quantisationVariance;
        if (r1 < p || r2 < p)
        {
            notes?.Add($"the bands are collinear or constant (rank {r1} before, {r2} after, of {p}); MAD uses {Math.Min(r1, r2)} variates");
        }
        var k = Math.Min(r1, r2);
        if (k == 0)
        {
            throw new SiteWatchException("the scenes show no variation in any band (every band is constant); there is nothing to compare");
        }
        var c = w1.TransposeThisAndMultiply(s12) * w2;
        var svd = c.Svd(computeVectors: true);
        var a = new double[k * p];
        var b = new double[k * p];
        var rho = new double[k];
        var order = new int[k];
        var avecs = new Vector<double>[k];
        var bvecs = new Vector<double>[k];
        for (var i = 0; i < k; i++)
        {
            var av = w1 * svd.U.Column(i);
            var bv = w2 * svd.VT.Row(i);
            // Unit variance on the data itself (with regularisation the whitening used the ridged matrices).
            av /= Math.Sqrt(Math.Max(av * s11 * av, double.Epsilon));
            bv /= Math.Sqrt(Math.Max(bv * s22 * bv, double.Epsilon));
            var r = av * s12 * bv;
            if (r < 0)
            {
                bv = -bv;
                r = -r;
            }
            // Fix the arbitrary sign of the pair: the canonical variate correlates positively with the sum of the X bands.
            if ((s11 * av).Sum() < 0)
            {
                av = -av;
                bv = -bv;
            }
            avecs[i] = av;
            bvecs[i] = bv;
            rho[i] = Math.Min(r, 1);
            order[i] = i;
        }
        Array.Sort(rho, order);
        var variance = new double[k];
        for (var i = 0; i < k; i++)
        {
            avecs[order[i]].AsArray().CopyTo(a, i * p);
            bvecs[order[i]].AsArray().CopyTo(b, i * p);
            // Identical dates give rho = 1 and a zero variance; keep Z finite.
            variance[i] = Math.Max(2 * (1 - rho[i]) * varianceScale, 1e-12);
        }
        var mean = moments.Mean;
        return new MadTransform(p, mean.Take(p).ToArray(), mean.Skip(p).ToArray(), a, b, rho, variance);
    }

    private static Matrix<double> Regularise(Matrix<double> s, double lambda)
    {
        if (lambda <= 0)
        {
            return s;
        }
        var scale = s.Trace() / s.RowCount;
        return s * (1 - lambda) + Matrix<double>.Build.DenseIdentity(s.RowCount) * (lambda * scale);
    }

    /// <summary>W (p x r) with W' (S + q I) W = I over the r directions of S that carry variance.</summary>
    private static Matrix<double> Whitener(Matrix<double> s, double q, out int rank)
    {
        var evd = s.Evd(Symmetricity.Symmetric);
        var values = evd.EigenValues.Select(v => v.Real).ToArray();
        var max = values.Length == 0 ? 0 : values.Max();
        var keep = Enumerable.Range(0, values.Length).Where(i => max > 0 && values[i] > max * 1e-10).OrderByDescending(i => values[i]).ToArray();
        rank = keep.Length;
        var w = Matrix<double>.Build.Dense(s.RowCount, Math.Max(rank, 1));
        for (var j = 0; j < rank; j++)
        {
            w.SetColumn(j, evd.EigenVectors.Column(keep[j]) / Math.Sqrt(values[keep[j]] + q));
        }
        return w;
    }
}

/// <summary>
/// MAD (Nielsen, Conradsen and Simpson 1998) and IR-MAD (Nielsen 2007): canonical correlation analysis of the two
/// dates; the MAD variates are invariant to per-band affine radiometric changes. IR-MAD re-weights every pixel by its
/// no-change probability 1 - F_chi2(Z; N) and repeats (one pass over the scene per iteration) until the canonical
/// correlations settle, so the statistics come to describe the unchanged background only.
/// Three departures from the published iteration, each for a measured reason: (1) the weighted MAD variances are
/// divided by the shrinkage the weights themselves cause (<see cref="ChiSquare.WeightedVarianceShrinkage"/>), so Z of
/// unchanged pixels follows chi2(N) at convergence (as published it settles 2-3 times higher and the chi-square test
/// flags half of Taizhou); (2) integer data get the rounding variance 1/12 on every band; (3) the iteration stops, keeping
/// the previous one, if a canonical correlation would exceed <see cref="DegenerateCorrelation"/> (weights collapsing onto
/// pixels identical on both dates). ConsistencyCorrection = false restores (1) as published.
/// Output bands: 1 chi2 (Z), 2 nochange_probability (1 - F_chi2(Z; N)), 3.. MAD1..MADN (raw variates; variance
/// 2 (1 - rho_i), times the consistency factor for IR-MAD).
/// </summary>
public sealed class MadMethod(bool iterative) : IChangeMethod
{
    private readonly List<IReadOnlyList<double>> _history = [];
    private readonly List<string> _notes = [];
    private readonly List<double> _effective = [];
    private MadTransform? _transform;
    private bool _converged;
    private string[] _bands = [];
    private float[] _scratch = [];

    /// <summary>IR-MAD stops before an iteration whose largest canonical correlation exceeds this (see Fit).</summary>
    public const double DegenerateCorrelation = 0.999;

    public string Name => iterative ? "irmad" : "mad";
    /// <summary>
    /// Otsu on the Mahalanobis distance sqrt(Z), but never below the chi-square critical value: Otsu finds the break
    /// between the no-change and change modes, the test keeps a scene without change from being split in two anyway.
    /// </summary>
    public ThresholdRule DefaultThreshold => ThresholdRule.OtsuChiSquare;
    public bool MagnitudeIsSquared => true;
    public int Halo => 0;
    public IReadOnlyList<string> OutputBands => _bands;
    public MadTransform Transformation => _transform ?? throw new InvalidOperationException("Fit first.");
    public IReadOnlyList<IReadOnlyList<double>> CorrelationHistory => _history;
    public bool Converged => _converged;
    /// <summary>Effective number of pixels (Kish) behind each iteration's statistics.</summary>
    public IReadOnlyList<double> EffectiveSamples => _effective;

    public void Fit(RasterPair pair, ChangeDetectionOptions options, IProgress<double>? progress, CancellationToken cancel)
    {
        if (options.Regularisation is < 0 or >= 1 || double.IsNaN(options.Regularisation))
        {
            throw new SiteWatchException($"the regularisation must lie in [0, 1), not {options.Regularisation.ToString(CultureInfo.InvariantCulture)}");
        }
        if (options.MaxIterations < 1)
        {
            throw new SiteWatchException($"the number of iterations must be at least 1, not {options.MaxIterations}");
        }
        _history.Clear();
        _notes.Clear();
        _effective.Clear();
        _converged = false;
        var maxIterations = iterative ? options.MaxIterations : 1;
        var p = pair.BandCount;
        var minimum = Math.Max(50, 10 * 2 * p);
        float[]? weights = null;
        MadTransform? previous = null;
        var stopped = false;
        var quantisation = IsInteger(pair.Before.DataType) && IsInteger(pair.After.DataType) ? 1.0 / 12 : 0;
        for (var iteration = 1; iteration <= maxIterations; iteration++)
        {
            var moments = new WeightedMoments(2 * p);
            var slice = new ProgressSlice(progress, (iteration - 1) / (double)maxIterations, 1.0 / maxIterations);
            foreach (var block in PairBlocks.Read(pair, options.BlockSize, 0, slice.Callback, cancel))
            {
                var n = block.PixelCount;
                if (previous is null)
                {
                    moments.AddPlanesParallel(block.PlaneArray, n, block.ValidArray);
                    continue;
                }
                weights ??= new float[Math.Min(options.BlockSize, pair.Width) * Math.Min(options.BlockSize, pair.Height)];
                ComputeWeights(block, previous, weights);
                moments.AddPlanesParallel(block.PlaneArray, n, block.ValidArray, weights);
            }
            if (iteration == 1)
            {
                ChangeDetector.RequireValidPixels(moments.Count, minimum, pair);
            }
            else if (moments.EffectiveCount < minimum)
            {
                _notes.Add($"IR-MAD stopped after {iteration - 1} iterations: the no-change weights left only {moments.EffectiveCount:0} effective pixels");
                stopped = true;
                break;
            }
            // Weighted iterations: undo the shrinkage the no-change weights themselves cause (see ChiSquare.WeightedVarianceShrinkage).
            var scale = previous is not null && options.ConsistencyCorrection ? 1 / ChiSquare.WeightedVarianceShrinkage(previous.Variates) : 1;
            var transform = MadTransform.Solve(moments, options.Regularisation, iteration == 1 ? _notes : null, scale, quantisation);
            if (previous is not null && transform.Correlations[^1] > DegenerateCorrelation)
            {
                // A canonical correlation of (nearly) 1 means the weights have concentrated on pixels that are identical or
                // noise-free on both dates (fill values, a frame, palette-quantised water); the next iterations would call
                // everything else changed. Keep the last sound iteration.
                _notes.Add($"IR-MAD stopped after {iteration - 1} iterations: its weights were collapsing onto pixels that are identical on both dates (canonical correlation {transform.Correlations[^1]:0.#####})");
                stopped = true;
                break;
            }
            _effective.Add(moments.EffectiveCount);
            _history.Add(transform.Correlations.ToArray());
            var delta = previous is null || previous.Variates != transform.Variates
                ? double.PositiveInfinity
                : transform.Correlations.Zip(previous.Correlations, (x, y) => Math.Abs(x - y)).Max();
            previous = transform;
            if (delta < options.ConvergenceTolerance)
            {
                _converged = true;
                break;
            }
        }
        _transform = previous!;
        _converged |= !iterative;
        if (iterative && !_converged && !stopped)
        {
            _notes.Add($"IR-MAD did not converge in {maxIterations} iterations (tolerance {options.ConvergenceTolerance:g3})");
        }
        _bands = ["chi2", "nochange_probability", .. Enumerable.Range(1, _transform.Variates).Select(i => $"MAD{i}")];
    }

    /// <summary>No-change probabilities of a block under the previous transform, in parallel chunks (each weight depends on its pixel only, so the result does not depend on the threads).</summary>
    private static void ComputeWeights(PairBlock block, MadTransform previous, float[] weights)
    {
        const int chunk = 4096;
        var n = block.PixelCount;
        Parallel.For(0, (n + chunk - 1) / chunk, k =>
        {
            var start = k * chunk;
            var count = Math.Min(chunk, n - start);
            var z = ArrayPool<double>.Shared.Rent(count);
            var mad = ArrayPool<double>.Shared.Rent(previous.Variates * count);
            previous.ChiSquare(block.Planes, n, start, count, z, mad);
            var valid = block.Valid;
            for (var j = 0; j < count; j++)
            {
                var i = start + j;
                weights[i] = valid[i] == 0 ? 0 : (float)ChiSquare.Survival(z[j], previous.Variates);
            }
            ArrayPool<double>.Shared.Return(z);
            ArrayPool<double>.Shared.Return(mad);
        });
    }

    private static bool IsInteger(SiteWatch.Gdal.RasterDataType type) => type is not (SiteWatch.Gdal.RasterDataType.Float32 or SiteWatch.Gdal.RasterDataType.Float64);

    /// <summary>
    /// Output planes of a block: rows in parallel chunks into a scratch buffer (each pixel depends on itself only, so
    /// the values do not depend on the threads), then copied to <paramref name="output"/>.
    /// </summary>
    public void Transform(PairBlock block, Span<float> output)
    {
        var t = Transformation;
        var core = block.Core;
        var n = (int)core.PixelCount;
        var planes = OutputBands.Count;
        if (_scratch.Length < planes * n)
        {
            _scratch = new float[planes * n];
        }
        var scratch = _scratch;
        const int rowsPerChunk = 16;
        Parallel.For(0, (core.Height + rowsPerChunk - 1) / rowsPerChunk, chunk =>
        {
            var width = core.Width;
            var z = ArrayPool<double>.Shared.Rent(width);
            var mad = ArrayPool<double>.Shared.Rent(t.Variates * width);
            var valid = block.Valid;
            var end = Math.Min(core.Height, (chunk + 1) * rowsPerChunk);
            for (var r = chunk * rowsPerChunk; r < end; r++)
            {
                var first = block.IndexOfCore(r, 0);
                t.ChiSquare(block.Planes, block.PixelCount, first, width, z, mad);
                for (var c = 0; c < width; c++)
                {
                    var o = r * width + c;
                    if (valid[first + c] == 0)
                    {
                        for (var k = 0; k < planes; k++)
                        {
                            scratch[k * n + o] = float.NaN;
                        }
                        continue;
                    }
                    scratch[o] = (float)z[c];
                    if (planes > 1)
                    {
                        scratch[n + o] = (float)ChiSquare.Survival(z[c], t.Variates);
                        for (var v = 0; v < t.Variates && 2 + v < planes; v++)
                        {
                            scratch[(2 + v) * n + o] = (float)mad[v * width + c];
                        }
                    }
                }
            }
            ArrayPool<double>.Shared.Return(z);
            ArrayPool<double>.Shared.Return(mad);
        });
        scratch.AsSpan(0, planes * n).CopyTo(output);
    }

    public double? NativeThreshold(ThresholdRule rule, ChangeDetectionOptions options) => rule switch
    {
        ThresholdRule.ChiSquare => ChiSquare.Critical(options.Significance, Transformation.Variates),
        _ => null,
    };

    public ChangeDetectionResult Describe(ChangeDetectionResult result) => result with
    {
        CanonicalCorrelations = Transformation.Correlations,
        CorrelationHistory = _history.ToArray(),
        Iterations = _history.Count,
        Converged = _converged,
        Notes = [.. result.Notes, .. _notes],
    };
}
