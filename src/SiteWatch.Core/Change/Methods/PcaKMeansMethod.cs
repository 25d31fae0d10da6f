using MathNet.Numerics.LinearAlgebra;

namespace SiteWatch.Core.Change.Methods;

/// <summary>
/// PCA-KMeans (Celik, IEEE GRSL 6(4), 2009) streamed: a difference image (Celik's |X2 - X1| is for one grey band; for
/// several bands the default is the L2 norm of the difference of bands standardised per date, because the raw
/// difference of two dates is dominated by their overall radiometric offset, see <see cref="ChangeDetectionOptions.PcaDifference"/>);
/// non-overlapping h x h blocks on a scene-aligned grid give the training vectors (h^2 values per channel) whose principal components
/// span the feature space (S kept); each pixel's h x h neighbourhood minus the mean training vector is projected onto
/// it; k-means (k = 2) is fitted on a spatially hashed sample of pixels and every pixel is assigned to the nearer
/// centre; the cluster with the larger mean difference is change.
/// Output bands: 1 score, the signed distance along the line between the two centres, positive on the change side
/// (so the k-means decision is score &gt; 0); 2.. PC1..PCS, the pixel's features.
/// </summary>
public sealed class PcaKMeansMethod : IChangeMethod
{
    private readonly List<string> _notes = [];
    private int _h;
    private int _width;
    private int _height;
    private int _offset;
    private int _dimension;
    private int _components;
    private double[] _meanVector = [];
    private PcaDifferenceImage _difference = PcaDifferenceImage.Standardised;
    private int _channels;
    private double[] _meanX = [];
    private double[] _meanY = [];
    private double[] _invStdX = [];
    private double[] _invStdY = [];
    private float[] _diff = [];
    private double[] _basis = []; // S x D, row-major
    private double[] _axis = [];
    private double _midpoint;
    private string[] _bands = [];

    public string Name => "pcakmeans";
    public ThresholdRule DefaultThreshold => ThresholdRule.KMeans;
    public bool MagnitudeIsSquared => false;
    public int Halo => _h - 1;
    public IReadOnlyList<string> OutputBands => _bands;
    /// <summary>Cluster centres in feature space (unchanged, changed) after fitting.</summary>
    public IReadOnlyList<double[]> Centres { get; private set; } = [];

    public void Fit(RasterPair pair, ChangeDetectionOptions options, IProgress<double>? progress, CancellationToken cancel)
    {
        _h = options.PcaBlock;
        if (_h is < 2 or > 32)
        {
            throw new SiteWatchException($"the PCA-KMeans block must be 2 to 32 pixels, not {_h}");
        }
        _width = pair.Width;
        _height = pair.Height;
        _offset = (_h + 1) / 2 - 1; // ceil(h / 2) - 1 rows and columns before the pixel, as in Celik's code
        var p = pair.BandCount;
        _difference = options.PcaDifference;
        _channels = _difference == PcaDifferenceImage.Bands ? p : 1;
        _dimension = _h * _h * _channels;
        _components = options.PcaComponents;
        if (_components < 1 || _components > _dimension)
        {
            throw new SiteWatchException($"PCA-KMeans keeps 1 to {_dimension} components here, not {_components}");
        }
        _notes.Clear();
        var progressA = new ProgressSlice(progress, 0, 0.5);
        var progressB = new ProgressSlice(progress, 0.5, 0.5);

        if (_difference == PcaDifferenceImage.Standardised)
        {
            var stats = new WeightedMoments(2 * p);
            foreach (var block in PairBlocks.Read(pair, options.BlockSize, 0, null, cancel))
            {
                stats.AddPlanes(block.Planes, block.PixelCount, block.Valid);
            }
            var cov = stats.Covariance();
            _meanX = [.. Enumerable.Range(0, p).Select(b => stats.Mean[b])];
            _meanY = [.. Enumerable.Range(0, p).Select(b => stats.Mean[p + b])];
            // A band constant on either date carries no comparable signal: it contributes nothing.
            var usable = Enumerable.Range(0, p).Select(b => cov[b, b] > 0 && cov[p + b, p + b] > 0).ToArray();
            _invStdX = [.. Enumerable.Range(0, p).Select(b => usable[b] ? 1 / Math.Sqrt(cov[b, b]) : 0)];
            _invStdY = [.. Enumerable.Range(0, p).Select(b => usable[b] ? 1 / Math.Sqrt(cov[p + b, p + b]) : 0)];
        }

        // Pass 1: PCA of the non-overlapping h x h blocks of the difference image.
        var moments = new WeightedMoments(_dimension);
        long validPixels = 0;
        var maxBlocks = (options.BlockSize / _h + 1) * (options.BlockSize / _h + 1);
        var vectors = new float[_dimension * maxBlocks];
        var complete = new byte[maxBlocks];
        foreach (var block in PairBlocks.Read(pair, options.BlockSize, Halo, progressA.Callback, cancel))
        {
            validPixels += CountCoreValid(block);
            ComputeDifference(block);
            var count = CollectTrainingBlocks(block, vectors, maxBlocks);
            // Planes of length maxBlocks; only the first count entries are filled, the rest are masked out.
            complete.AsSpan(0, count).Fill(1);
            complete.AsSpan(count).Clear();
            moments.AddPlanes(vectors, maxBlocks, complete);
        }
        ChangeDetector.RequireValidPixels(validPixels, 50, pair);
        if (moments.Count < Math.Max(10, 2 * _components))
        {
            throw new SiteWatchException($"only {moments.Count} complete {_h} x {_h} blocks of valid pixels; PCA-KMeans needs at least {Math.Max(10, 2 * _components)}");
        }
        _meanVector = [.. moments.Mean];
        var evd = moments.Covariance().Evd(Symmetricity.Symmetric);
        var order = Enumerable.Range(0, _dimension).OrderByDescending(i => evd.EigenValues[i].Real).ToArray();
        _basis = new double[_components * _dimension];
        for (var s = 0; s < _components; s++)
        {
            var v = evd.EigenVectors.Column(order[s]);
            // Eigenvectors have no sign; fix one so results do not flip between runs or block sizes.
            var pivot = v.AbsoluteMaximumIndex();
            if (v[pivot] < 0)
            {
                v = -v;
            }
            v.AsArray().CopyTo(_basis, s * _dimension);
        }

        // Pass 2: features of a hashed sample of pixels (the same pixels whatever the block size) for k-means.
        var rate = Math.Min(1.0, options.KMeansSampleSize / (double)Math.Max(1, validPixels));
        var hardCap = 2 * options.KMeansSampleSize + 1000;
        var features = new List<float>();
        var magnitudes = new List<float>();
        var vector = new double[_dimension];
        var f = new double[_components];
        foreach (var block in PairBlocks.Read(pair, options.BlockSize, Halo, progressB.Callback, cancel))
        {
            ComputeDifference(block);
            var core = block.Core;
            for (var r = 0; r < core.Height; r++)
            {
                for (var c = 0; c < core.Width; c++)
                {
                    var i = block.IndexOfCore(r, c);
                    if (block.Valid[i] == 0 || magnitudes.Count >= hardCap || Hash01(core.Row + r, core.Column + c) >= rate)
                    {
                        continue;
                    }
                    Project(block, r, c, vector, f);
                    foreach (var x in f)
                    {
                        features.Add((float)x);
                    }
                    magnitudes.Add(CentreDifference(block.PixelCount, i));
                }
            }
        }
        var (unchanged, changed, iterations) = KMeans2(features, magnitudes, _components);
        Centres = [unchanged, changed];
        var axis = new double[_components];
        double norm = 0, mid = 0;
        for (var s = 0; s < _components; s++)
        {
            axis[s] = changed[s] - unchanged[s];
            norm += axis[s] * axis[s];
        }
        norm = Math.Sqrt(norm);
        if (!(norm > 0))
        {
            throw new SiteWatchException("PCA-KMeans found a single cluster: the difference image is uniform, nothing separates change from no change");
        }
        for (var s = 0; s < _components; s++)
        {
            axis[s] /= norm;
            mid += axis[s] * (changed[s] + unchanged[s]) / 2;
        }
        _axis = axis;
        _midpoint = mid;
        _notes.Add($"PCA-KMeans: {moments.Count} training blocks, k-means on {magnitudes.Count} pixels, {iterations} iterations");
        _bands = ["score", .. Enumerable.Range(1, _components).Select(i => $"PC{i}")];
    }

    private static long CountCoreValid(PairBlock block)
    {
        long count = 0;
        var core = block.Core;
        for (var r = 0; r < core.Height; r++)
        {
            var row = block.Valid.Slice(block.IndexOfCore(r, 0), core.Width);
            count += core.Width - row.Count((byte)0);
        }
        return count;
    }

    /// <summary>Training vectors of the h x h blocks whose top-left corner lies in the core window, as planes of length stride.</summary>
    private int CollectTrainingBlocks(PairBlock block, float[] vectors, int stride)
    {
        var core = block.Core;
        var np = block.PixelCount;
        var count = 0;
        var r0 = (core.Row + _h - 1) / _h * _h;
        var c0 = (core.Column + _h - 1) / _h * _h;
        for (var gr = r0; gr < core.Row + core.Height && gr + _h <= _height; gr += _h)
        {
            for (var gc = c0; gc < core.Column + core.Width && gc + _h <= _width; gc += _h)
            {
                var complete = true;
                for (var dy = 0; dy < _h && complete; dy++)
                {
                    for (var dx = 0; dx < _h; dx++)
                    {
                        if (block.Valid[Index(block, gr + dy, gc + dx)] == 0)
                        {
                            complete = false;
                            break;
                        }
                    }
                }
                if (!complete)
                {
                    continue;
                }
                for (var b = 0; b < _channels; b++)
                {
                    for (var dy = 0; dy < _h; dy++)
                    {
                        for (var dx = 0; dx < _h; dx++)
                        {
                            var j = Index(block, gr + dy, gc + dx);
                            var k = (b * _h + dy) * _h + dx;
                            vectors[k * stride + count] = _diff[b * np + j];
                        }
                    }
                }
                count++;
            }
        }
        return count;
    }

    private static int Index(PairBlock block, int row, int column) => (row - block.Padded.Row) * block.Padded.Width + column - block.Padded.Column;

    private float CentreDifference(int np, int i)
    {
        double sum = 0;
        for (var b = 0; b < _channels; b++)
        {
            var d = _diff[b * np + i];
            sum += d * d;
        }
        return (float)Math.Sqrt(sum);
    }

    /// <summary>The difference image of the padded window into _diff (channel planes).</summary>
    private void ComputeDifference(PairBlock block)
    {
        var np = block.PixelCount;
        var p = block.Bands;
        var planes = block.Planes;
        if (_diff.Length < _channels * np)
        {
            _diff = new float[_channels * np];
        }
        for (var i = 0; i < np; i++)
        {
            if (block.Valid[i] == 0)
            {
                continue;
            }
            switch (_difference)
            {
                case PcaDifferenceImage.Bands:
                    for (var b = 0; b < p; b++)
                    {
                        _diff[b * np + i] = Math.Abs(planes[(p + b) * np + i] - planes[b * np + i]);
                    }
                    break;
                case PcaDifferenceImage.Raw:
                {
                    double sum = 0;
                    for (var b = 0; b < p; b++)
                    {
                        var d = planes[(p + b) * np + i] - planes[b * np + i];
                        sum += d * d;
                    }
                    _diff[i] = (float)Math.Sqrt(sum);
                    break;
                }
                default:
                {
                    double sum = 0;
                    for (var b = 0; b < p; b++)
                    {
                        var d = (planes[(p + b) * np + i] - _meanY[b]) * _invStdY[b] - (planes[b * np + i] - _meanX[b]) * _invStdX[b];
                        sum += d * d;
                    }
                    _diff[i] = (float)Math.Sqrt(sum);
                    break;
                }
            }
        }
    }

    /// <summary>Features of core pixel (r, c): its h x h neighbourhood of |X2 - X1| (edge-replicated at the scene border, invalid neighbours replaced by the pixel itself) minus the mean vector, projected.</summary>
    private void Project(PairBlock block, int r, int c, double[] vector, double[] features)
    {
        var core = block.Core;
        var np = block.PixelCount;
        var centre = block.IndexOfCore(r, c);
        var gr = core.Row + r;
        var gc = core.Column + c;
        for (var dy = 0; dy < _h; dy++)
        {
            var y = Math.Clamp(gr - _offset + dy, 0, _height - 1);
            for (var dx = 0; dx < _h; dx++)
            {
                var x = Math.Clamp(gc - _offset + dx, 0, _width - 1);
                var j = Index(block, y, x);
                if (block.Valid[j] == 0)
                {
                    j = centre;
                }
                for (var b = 0; b < _channels; b++)
                {
                    var k = (b * _h + dy) * _h + dx;
                    vector[k] = _diff[b * np + j] - _meanVector[k];
                }
            }
        }
        for (var s = 0; s < _components; s++)
        {
            double sum = 0;
            var row = s * _dimension;
            for (var k = 0; k < _dimension; k++)
            {
                sum += _basis[row + k] * vector[k];
            }
            features[s] = sum;
        }
    }

    /// <summary>Lloyd's k-means with k = 2 from two deterministic starts (split at the median and at the 2nd/98th percentiles of PC1); keeps the lower inertia. Returns (unchanged, changed) centres.</summary>
    internal static (double[] Unchanged, double[] Changed, int Iterations) KMeans2(List<float> features, List<float> magnitudes, int dims)
    {
        var n = magnitudes.Count;
        if (n < 2)
        {
            throw new SiteWatchException("too few valid pixels for k-means");
        }
        var pc1 = new float[n];
        for (var i = 0; i < n; i++)
        {
            pc1[i] = features[i * dims];
        }
        Array.Sort(pc1);
        var starts = new[] { (pc1[n / 2], pc1[n / 2]), (pc1[n * 2 / 100], pc1[Math.Min(n - 1, n * 98 / 100)]) };
        (double[] A, double[] B, double Inertia, int Iterations)? best = null;
        var labels = new byte[n];
        foreach (var (lo, hi) in starts)
        {
            var a = new double[dims];
            var b = new double[dims];
            // Initial centres: means of the points below / above the cut values on PC1.
            for (var i = 0; i < n; i++)
            {
                labels[i] = features[i * dims] > (lo + hi) / 2 ? (byte)1 : (byte)0;
            }
            var iterations = 0;
            double inertia = 0;
            if (!Centroids(features, labels, dims, a, b))
            {
                continue;
            }
            for (iterations = 1; iterations <= 300; iterations++)
            {
                var changedLabels = 0;
                inertia = 0;
                for (var i = 0; i < n; i++)
                {
                    double da = 0, db = 0;
                    for (var s = 0; s < dims; s++)
                    {
                        var x = features[i * dims + s];
                        da += (x - a[s]) * (x - a[s]);
                        db += (x - b[s]) * (x - b[s]);
                    }
                    var l = db < da ? (byte)1 : (byte)0;
                    inertia += Math.Min(da, db);
                    if (l != labels[i])
                    {
                        labels[i] = l;
                        changedLabels++;
                    }
                }
                if (changedLabels == 0 || !Centroids(features, labels, dims, a, b))
                {
                    break;
                }
            }
            if (best is null || inertia < best.Value.Inertia)
            {
                best = (a, b, inertia, iterations);
            }
        }
        if (best is not { } found)
        {
            throw new SiteWatchException("PCA-KMeans found a single cluster: the difference image is uniform, nothing separates change from no change");
        }
        // The change cluster is the one whose pixels differ more between the dates.
        double sumA = 0, sumB = 0;
        long countA = 0, countB = 0;
        for (var i = 0; i < n; i++)
        {
            double da = 0, db = 0;
            for (var s = 0; s < dims; s++)
            {
                var x = features[i * dims + s];
                da += (x - found.A[s]) * (x - found.A[s]);
                db += (x - found.B[s]) * (x - found.B[s]);
            }
            if (db < da)
            {
                sumB += magnitudes[i];
                countB++;
            }
            else
            {
                sumA += magnitudes[i];
                countA++;
            }
        }
        var meanA = countA == 0 ? 0 : sumA / countA;
        var meanB = countB == 0 ? 0 : sumB / countB;
        return meanB > meanA ? (found.A, found.B, found.Iterations) : (found.B, found.A, found.Iterations);
    }

    private static bool Centroids(List<float> features, byte[] labels, int dims, double[] a, double[] b)
    {
        Array.Clear(a);
        Array.Clear(b);
        long na = 0, nb = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            var target = labels[i] == 1 ? b : a;
            for (var s = 0; s < dims; s++)
            {
                target[s] += features[i * dims + s];
            }
            if (labels[i] == 1)
            {
                nb++;
            }
            else
            {
                na++;
            }
        }
        if (na == 0 || nb == 0)
        {
            return false;
        }
        for (var s = 0; s < dims; s++)
        {
            a[s] /= na;
            b[s] /= nb;
        }
        return true;
    }

    /// <summary>A uniform number in [0, 1) fixed by the pixel position (SplitMix64), so sampling ignores the block layout.</summary>
    internal static double Hash01(int row, int column)
    {
        var z = ((ulong)(uint)row << 32 | (uint)column) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }

    public void Transform(PairBlock block, Span<float> output)
    {
        var core = block.Core;
        var n = (int)core.PixelCount;
        var planesOut = OutputBands.Count;
        var vector = new double[_dimension];
        var f = new double[_components];
        ComputeDifference(block);
        for (var r = 0; r < core.Height; r++)
        {
            for (var c = 0; c < core.Width; c++)
            {
                var o = r * core.Width + c;
                var i = block.IndexOfCore(r, c);
                if (block.Valid[i] == 0)
                {
                    for (var k = 0; k < planesOut; k++)
                    {
                        output[k * n + o] = float.NaN;
                    }
                    continue;
                }
                Project(block, r, c, vector, f);
                double score = -_midpoint;
                for (var s = 0; s < _components; s++)
                {
                    score += _axis[s] * f[s];
                }
                output[o] = (float)score;
                for (var s = 0; s < _components && 1 + s < planesOut; s++)
                {
                    output[(1 + s) * n + o] = (float)f[s];
                }
            }
        }
    }

    public double? NativeThreshold(ThresholdRule rule, ChangeDetectionOptions options) => rule switch
    {
        // The 2-D/3-D k-means of the method is its own threshold: the score is 0 on the boundary between the centres.
        ThresholdRule.KMeans => 0,
        _ => null,
    };

    public ChangeDetectionResult Describe(ChangeDetectionResult result) => result with { Notes = [.. result.Notes, .. _notes] };
}
