using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using OpenCvSharp;
using OpenCvSharp.XImgProc;
using SiteWatch.Core.Detection;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Change.Methods;

/// <summary>
/// Object-based change of true-colour pairs, for very-high-resolution RGB imagery where IR-MAD's assumptions break
/// (three correlated bands, shadows that move with the sun, a colour balance that differs from flight to flight).
/// <para>
/// Segments: SLICO superpixels (Achanta et al., IEEE TPAMI 34(11), 2012) of both dates stacked, so a segment never
/// straddles an edge of either date, about <see cref="ChangeDetectionOptions.SegmentMetres"/> across on the ground.
/// Each segment is compared as a whole, which is what the analyst asks of a roof or a pad, and what keeps single
/// pixels of noise and misregistration from speaking.
/// </para>
/// <para>
/// Features, all in logarithms so that a gain between the dates, the sensor's or the sun's, becomes an offset that
/// the fitted no-change mean removes: brightness ln L (L the mean of R, G, B), the two chromaticities ln(R/G) and
/// ln(B/G), and texture ln(s + tau) (s the spread of ln L inside the segment, tau the scene's median spread). The
/// change vector of a segment is the difference of its features between the dates.
/// </para>
/// <para>
/// Illumination: shade is lit by the blue sky alone. A pixel changed shade when it is in shade on one date only (darker
/// than half the date's median brightness and bluer than the date's median ln(B/G)), or when, beyond the scene's own
/// change of light, it lost more than half its brightness while its blue rose against its red (or the reverse). Such
/// pixels tell of the sun, not the surface: a segment is compared on its other pixels, and a segment most of whose
/// pixels changed shade carries no evidence of change (band "shadow_change" marks it).
/// </para>
/// <para>
/// Statistics: the no-change mean and covariance of the change vectors are fitted the way IR-MAD fits its variates,
/// on a sample of the scene's segments weighted by area and by their no-change probability P(chi2(4) &gt; Z), with the
/// same consistency correction, so that unchanged segments follow chi2(4) at convergence. Band 1 is Z, the squared
/// Mahalanobis distance of the segment's change vector from the no-change mean; the chi-square test and Otsu apply
/// as for IR-MAD.
/// </para>
/// </summary>
public sealed class ObjectChangeMethod : IChangeMethod
{
    private const int Features = 4;
    /// <summary>Most pixels of the scene whose segments the no-change statistics are fitted on.</summary>
    private const long FitSamplePixels = 4_000_000;
    private const int SampleTile = 512;
    private const int MaxIterations = 30;
    /// <summary>ln 2: shade takes away the direct sun, more than half the light of a lit surface.</summary>
    private const double ShadeDarkening = 0.693;
    /// <summary>The least rise of ln(B/R) in shade (skylight's is about 0.4).</summary>
    private const double ShadeBluing = 0.2;

    private readonly List<string> _notes = [];
    private int[] _rgb = [0, 1, 2];
    private int _regionSize = 8;
    /// <summary>Per date and band (R, G, B before, then after): the offset added before the logarithm, 1 % of the band's median.</summary>
    private readonly double[] _epsilon = new double[6];
    /// <summary>The scene-wide change of ln L and of ln(B/R) between the dates (medians): the day's light and the sensor.</summary>
    private double _brightnessOffset;
    private double _blueRedOffset;
    /// <summary>Per date: ln of half the median brightness, and the median ln(B/G).</summary>
    private readonly double[] _shadeLog = new double[2];
    private readonly double[] _blueGreenMedian = new double[2];
    private double _tau;
    private double[] _mean = new double[Features];
    private double[,] _inverse = new double[Features, Features];
    private double[] _sigma = new double[Features];
    private int _iterations;
    private bool _converged;

    // Reused between windows (Transform is called for one window at a time).
    private float[] _stack = [];
    private byte[] _shadow = [];
    private SegmentSums _sums = new(0);
    private float[] _z = [];
    private float[] _p = [];
    private float[] _standard = [];
    /// <summary>Superpixels of the fitting sample's windows (at most the sample's pixels), taken by the output pass.</summary>
    private readonly Dictionary<RasterWindow, (int[] Labels, int Count)> _segmentations = [];

    public string Name => "objects";
    public ThresholdRule DefaultThreshold => ThresholdRule.OtsuChiSquare;
    public bool MagnitudeIsSquared => true;

    /// <summary>Two segments of context: a segment touching the core is whole in the padded window.</summary>
    public int Halo => 2 * _regionSize;

    public IReadOnlyList<string> OutputBands { get; } =
        ["chi2", "no_change_probability", "brightness_z", "red_green_z", "blue_green_z", "texture_z", "shadow_change"];

    /// <summary>After Fit: the segment side in pixels.</summary>
    public int RegionSize => _regionSize;

    /// <summary>After Fit: the no-change mean of the change vector (brightness, red/green, blue/green, texture).</summary>
    public IReadOnlyList<double> NoChangeMean => _mean;

    /// <summary>After Fit: the no-change standard deviations of the change vector's components.</summary>
    public IReadOnlyList<double> NoChangeSigma => _sigma;

    public void Fit(RasterPair pair, ChangeDetectionOptions options, IProgress<double>? progress, CancellationToken cancel)
    {
        _notes.Clear();
        _segmentations.Clear();
        _rgb = SpectralBands.ChooseTrueColour(pair, _notes, "object change");
        var gsd = GroundSampleDistance(pair);
        _regionSize = Math.Clamp((int)Math.Round(gsd is { } g ? options.SegmentMetres / g : 8), 4, 64);
        _notes.Add(gsd is { } m
            ? string.Create(CultureInfo.InvariantCulture, $"object change: segments of about {_regionSize} x {_regionSize} pixels ({options.SegmentMetres:0.#} m at {m:0.###} m a pixel)")
            : $"object change: the scene's pixel size is unknown; segments of about {_regionSize} x {_regionSize} pixels");

        // The sample: tiles in a fixed pseudo-random spread over the scene until they hold enough pixels.
        var side = Math.Min(SampleTile, Math.Max(pair.Width, pair.Height));
        var tiles = pair.Windows(side).ToArray();
        new Random(20120101).Shuffle(tiles);
        var budget = Math.Min(FitSamplePixels, (long)pair.Width * pair.Height);
        var block = new PairBlock(pair.BandCount, Math.Min(pair.Width, side + 2 * Halo) * Math.Min(pair.Height, side + 2 * Halo));
        var chosen = new List<RasterWindow>();
        long pixels = 0;
        var samples = Enumerable.Range(0, 6).Select(_ => new List<float>()).ToArray();
        foreach (var tile in tiles)
        {
            if (pixels >= budget)
            {
                break;
            }
            cancel.ThrowIfCancellationRequested();
            block.Load(pair, tile, 0);
            var valid = block.Valid;
            var before = pixels;
            for (var i = 0; i < valid.Length; i += 7)
            {
                if (valid[i] != 0)
                {
                    for (var c = 0; c < 3; c++)
                    {
                        samples[c].Add(block.Before(_rgb[c])[i]);
                        samples[3 + c].Add(block.After(_rgb[c])[i]);
                    }
                }
            }
            for (var i = 0; i < valid.Length; i++)
            {
                pixels += valid[i];
            }
            if (pixels > before)
            {
                chosen.Add(tile);
            }
        }
        ChangeDetector.RequireValidPixels(pixels, 64, pair);
        FitRadiometry(samples);

        // Pass 2: change vectors of the sample's segments. Only segments whose centre lies in the tile's core count,
        // so a segment is counted once.
        var sameWindows = Math.Min(options.BlockSize, Math.Max(pair.Width, pair.Height)) == side;
        var segments = new List<(double[] Raw, double Area)>();
        var tileProgress = new ProgressSlice(progress, 0, 0.9);
        for (var t = 0; t < chosen.Count; t++)
        {
            cancel.ThrowIfCancellationRequested();
            block.Load(pair, chosen[t], Halo);
            Segment(block, keep: sameWindows);
            _sums.Collect(segments, block);
            tileProgress.Report((t + 1.0) / chosen.Count);
        }
        // tau: the scene's median spread of ln L inside a segment, so texture is weighed against the scene's own.
        var spreads = segments.SelectMany(v => new[] { v.Raw[3], v.Raw[4] }).Order().ToArray();
        _tau = Math.Max(1e-3, spreads.Length == 0 ? 0.05 : spreads[spreads.Length / 2]);
        var vectors = segments.Select(v => (D: (double[])[v.Raw[0], v.Raw[1], v.Raw[2], Math.Log(v.Raw[4] + _tau) - Math.Log(v.Raw[3] + _tau)], v.Area)).ToList();
        if (vectors.Count < 10 * Features)
        {
            throw new SiteWatchException($"object change needs at least {10 * Features} segments with valid pixels in both scenes; these have {vectors.Count} (the scenes are too small or barely overlap)");
        }
        FitNoChange(vectors);
        progress?.Report(1);
        _notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"object change: no-change statistics from {vectors.Count} segments in {_iterations} iteration(s){(_converged ? "" : " (not converged)")}; no-change spread of the change vector: brightness {_sigma[0]:0.###}, red/green {_sigma[1]:0.###}, blue/green {_sigma[2]:0.###}, texture {_sigma[3]:0.###} (natural logarithms)"));
    }

    private static double? GroundSampleDistance(RasterPair pair)
    {
        if (pair.Before.GeoTransform is not { } transform)
        {
            return null;
        }
        using var crs = pair.Before.OpenCrs();
        return crs is null ? null : SceneObjectDetector.GroundSampleDistance(pair.Before, transform, crs);
    }

    private void FitRadiometry(List<float>[] samples)
    {
        for (var k = 0; k < 6; k++)
        {
            var sorted = samples[k].ToArray();
            Array.Sort(sorted);
            var median = sorted.Length == 0 ? 0 : sorted[sorted.Length / 2];
            // The offset keeps the logarithm of a black pixel finite without changing the ratios of lit surfaces.
            _epsilon[k] = Math.Max(0.01 * Math.Abs(median), 1e-6);
        }
        var brightness = new double[samples[0].Count];
        var blueRed = new double[samples[0].Count];
        for (var i = 0; i < brightness.Length; i++)
        {
            var (l1, br1) = Light(samples[0][i] + _epsilon[0], samples[1][i] + _epsilon[1], samples[2][i] + _epsilon[2]);
            var (l2, br2) = Light(samples[3][i] + _epsilon[3], samples[4][i] + _epsilon[4], samples[5][i] + _epsilon[5]);
            brightness[i] = l2 - l1;
            blueRed[i] = br2 - br1;
        }
        for (var date = 0; date < 2; date++)
        {
            var o = 3 * date;
            var l = new double[samples[o].Count];
            var bg = new double[samples[o].Count];
            for (var i = 0; i < l.Length; i++)
            {
                var (rr, gg, bb) = (samples[o][i] + _epsilon[o], samples[o + 1][i] + _epsilon[o + 1], samples[o + 2][i] + _epsilon[o + 2]);
                l[i] = Math.Log(Math.Max((rr + gg + bb) / 3, 1e-12));
                bg[i] = Math.Log(Math.Max(bb, 1e-12) / Math.Max(gg, 1e-12));
            }
            Array.Sort(l);
            Array.Sort(bg);
            _shadeLog[date] = l.Length == 0 ? double.NegativeInfinity : l[l.Length / 2] + Math.Log(0.5);
            _blueGreenMedian[date] = bg.Length == 0 ? 0 : bg[bg.Length / 2];
        }
        Array.Sort(brightness);
        Array.Sort(blueRed);
        _brightnessOffset = brightness.Length == 0 ? 0 : brightness[brightness.Length / 2];
        _blueRedOffset = blueRed.Length == 0 ? 0 : blueRed[blueRed.Length / 2];
    }

    private static (double LogBrightness, double LogBlueRed) Light(double r, double g, double b) =>
        (Math.Log(Math.Max((r + g + b) / 3, 1e-12)), Math.Log(Math.Max(b, 1e-12) / Math.Max(r, 1e-12)));

    /// <summary>Segments the padded window and sums each segment's features; keep: hold the superpixels for the output pass.</summary>
    private void Segment(PairBlock block, bool keep = false)
    {
        var n = block.PixelCount;
        var (w, h) = (block.Padded.Width, block.Padded.Height);
        if (_stack.Length < 6 * n)
        {
            _stack = new float[6 * n];
            _shadow = new byte[n];
        }
        var valid = block.Valid;
        for (var date = 0; date < 2; date++)
        {
            var r = date == 0 ? block.Before(_rgb[0]) : block.After(_rgb[0]);
            var g = date == 0 ? block.Before(_rgb[1]) : block.After(_rgb[1]);
            var b = date == 0 ? block.Before(_rgb[2]) : block.After(_rgb[2]);
            var (er, eg, eb) = (_epsilon[3 * date], _epsilon[3 * date + 1], _epsilon[3 * date + 2]);
            for (var i = 0; i < n; i++)
            {
                float l = 0, rg = 0, bg = 0;
                if (valid[i] != 0)
                {
                    var (rr, gg, bb) = (Math.Max(r[i] + er, 1e-12), Math.Max(g[i] + eg, 1e-12), Math.Max(b[i] + eb, 1e-12));
                    l = (float)Math.Log(Math.Max((rr + gg + bb) / 3, 1e-12));
                    rg = (float)Math.Log(rr / gg);
                    bg = (float)Math.Log(bb / gg);
                }
                _stack[6 * i + 3 * date] = l;
                _stack[6 * i + 3 * date + 1] = rg;
                _stack[6 * i + 3 * date + 2] = bg;
            }
        }
        // Shade that came or went. Shade is lit by the sky alone, whose light is bluer than the sun's (about 1.5 times
        // the blue-to-red ratio): in shade on one date only (dark and bluish against that date's medians), or, beyond
        // the day's own change of light, more than half the brightness lost (or gained) while blue grew (or fell)
        // against red by more than a fifth.
        for (var i = 0; i < n; i++)
        {
            byte flip = 0;
            if (valid[i] != 0)
            {
                var dl = _stack[6 * i + 3] - _stack[6 * i] - _brightnessOffset;
                // ln(B/R) = ln(B/G) - ln(R/G).
                var dbr = (_stack[6 * i + 5] - _stack[6 * i + 4]) - (_stack[6 * i + 2] - _stack[6 * i + 1]) - _blueRedOffset;
                var shade1 = _stack[6 * i] < _shadeLog[0] && _stack[6 * i + 2] > _blueGreenMedian[0];
                var shade2 = _stack[6 * i + 3] < _shadeLog[1] && _stack[6 * i + 5] > _blueGreenMedian[1];
                flip = shade1 != shade2 || (dl < -ShadeDarkening && dbr > ShadeBluing) || (dl > ShadeDarkening && dbr < -ShadeBluing) ? (byte)1 : (byte)0;
            }
            _shadow[i] = flip;
        }

        if (!_segmentations.Remove(block.Padded, out var segmentation))
        {
            using var image = Mat.FromPixelData(h, w, MatType.CV_32FC(6), _stack);
            using var slic = SuperpixelSLIC.Create(image, SLICType.SLICO, _regionSize);
            using var labelMat = new Mat();
            slic.Iterate(10);
            slic.EnforceLabelConnectivity(25);
            slic.GetLabels(labelMat);
            labelMat.GetArray(out int[] segmentLabels);
            segmentation = (segmentLabels, slic.GetNumberOfSuperpixels());
            if (keep)
            {
                // The fitting sample's windows are the output's windows: their superpixels are made once.
                _segmentations[block.Padded] = segmentation;
            }
        }
        var (labels, count) = segmentation;
        if (_sums.Capacity < count)
        {
            _sums = new SegmentSums(count + count / 2);
        }
        _sums.Reset(count, labels);
        for (var i = 0; i < n; i++)
        {
            if (valid[i] != 0)
            {
                _sums.Add(labels[i], i, _stack, _shadow);
            }
        }
        _sums.Finish();
    }

    private void FitNoChange(List<(double[] D, double Area)> vectors)
    {
        var weights = vectors.Select(v => v.Area).ToArray();
        var shrink = 1 / Methods.ChiSquare.WeightedVarianceShrinkage(Features);
        double[]? previousSigma = null;
        _converged = false;
        for (_iterations = 1; _iterations <= MaxIterations; _iterations++)
        {
            var mean = new double[Features];
            double total = 0;
            for (var s = 0; s < vectors.Count; s++)
            {
                total += weights[s];
                for (var k = 0; k < Features; k++)
                {
                    mean[k] += weights[s] * vectors[s].D[k];
                }
            }
            if (!(total > 0))
            {
                // Every segment of the sample weighed nothing: no no-change population to fit.
                throw new SiteWatchException("object change: no segment of the scenes looks unchanged, so there is no no-change statistic to measure change against");
            }
            for (var k = 0; k < Features; k++)
            {
                mean[k] /= total;
            }
            var cov = Matrix<double>.Build.Dense(Features, Features);
            for (var s = 0; s < vectors.Count; s++)
            {
                for (var a = 0; a < Features; a++)
                {
                    var da = vectors[s].D[a] - mean[a];
                    for (var b = 0; b <= a; b++)
                    {
                        cov[a, b] += weights[s] * da * (vectors[s].D[b] - mean[b]);
                    }
                }
            }
            for (var a = 0; a < Features; a++)
            {
                for (var b = 0; b <= a; b++)
                {
                    cov[a, b] = cov[b, a] = cov[a, b] / total * (_iterations == 1 ? 1 : shrink);
                }
            }
            // A feature that never varies (a grey scene's chromaticity) would make the covariance singular.
            var trace = cov.Trace();
            for (var k = 0; k < Features; k++)
            {
                cov[k, k] += 1e-6 * trace / Features + 1e-12;
            }
            _mean = mean;
            _inverse = cov.Inverse().ToArray();
            _sigma = [.. Enumerable.Range(0, Features).Select(k => Math.Sqrt(cov[k, k]))];
            if (previousSigma is not null && Enumerable.Range(0, Features).All(k => Math.Abs(_sigma[k] - previousSigma[k]) <= 1e-3 * previousSigma[k]))
            {
                _converged = true;
                break;
            }
            previousSigma = _sigma;
            for (var s = 0; s < vectors.Count; s++)
            {
                weights[s] = vectors[s].Area * Methods.ChiSquare.Survival(Mahalanobis(vectors[s].D), Features);
            }
        }
        _iterations = Math.Min(_iterations, MaxIterations);
    }

    private double Mahalanobis(ReadOnlySpan<double> d)
    {
        double z = 0;
        for (var a = 0; a < Features; a++)
        {
            var da = d[a] - _mean[a];
            for (var b = 0; b < Features; b++)
            {
                z += da * _inverse[a, b] * (d[b] - _mean[b]);
            }
        }
        return Math.Max(z, 0);
    }

    public void Transform(PairBlock block, Span<float> output)
    {
        Segment(block);
        var core = block.Core;
        var n = (int)core.PixelCount;
        var valid = block.Valid;
        var count = _sums.Count;
        if (_z.Length < count)
        {
            _z = new float[count + count / 2];
            _p = new float[_z.Length];
            _standard = new float[Features * _z.Length];
        }
        var d = new double[Features];
        for (var s = 0; s < count; s++)
        {
            if (!_sums.Vector(s, d, _tau))
            {
                _z[s] = _p[s] = float.NaN;
                continue;
            }
            if (_sums.ShadowChanged(s))
            {
                _mean.CopyTo(d, 0); // the lighting changed, not the surface: no evidence of change
            }
            var zs = Mahalanobis(d);
            _z[s] = (float)zs;
            _p[s] = (float)Methods.ChiSquare.Survival(zs, Features);
            for (var k = 0; k < Features; k++)
            {
                _standard[k * count + s] = (float)((d[k] - _mean[k]) / _sigma[k]);
            }
        }
        for (var r = 0; r < core.Height; r++)
        {
            for (var c = 0; c < core.Width; c++)
            {
                var o = r * core.Width + c;
                var i = block.IndexOfCore(r, c);
                var s = _sums.Label(i);
                if (valid[i] == 0 || float.IsNaN(_z[s]))
                {
                    for (var k = 0; k < OutputBands.Count; k++)
                    {
                        output[k * n + o] = float.NaN;
                    }
                    continue;
                }
                output[o] = _z[s];
                output[n + o] = _p[s];
                for (var k = 0; k < Features; k++)
                {
                    output[(2 + k) * n + o] = _standard[k * count + s];
                }
                output[6 * n + o] = _sums.ShadowChanged(s) ? 1 : 0;
            }
        }
    }

    public double? NativeThreshold(ThresholdRule rule, ChangeDetectionOptions options) => rule switch
    {
        ThresholdRule.ChiSquare => Methods.ChiSquare.Critical(options.Significance, Features),
        _ => null,
    };

    public ChangeDetectionResult Describe(ChangeDetectionResult result) => result with
    {
        Iterations = _iterations,
        Converged = _converged,
        Notes = [.. result.Notes, .. _notes],
    };

    /// <summary>Per-segment sums of the stacked features, and the label of every pixel of the window.</summary>
    private sealed class SegmentSums(int capacity)
    {
        // Per segment: the valid pixels lit alike on both dates, then for each date over those pixels the sums of
        // l, l^2, rg and bg, then the valid pixels whose shade changed.
        private const int Pixels = 0, Date0 = 1, Date1 = 5, ShadeChanged = 9, Stride = 10;
        private const int SumL = 0, SumL2 = 1, SumRg = 2, SumBg = 3;
        private readonly double[] _sums = new double[capacity * Stride];
        private readonly double[] _spread = new double[capacity * 2];
        private int[] _labels = [];

        public int Capacity => _sums.Length / Stride;
        public int Count { get; private set; }

        public int Label(int pixel) => _labels[pixel];

        public void Reset(int count, int[] labels)
        {
            Count = count;
            _labels = labels;
            Array.Clear(_sums, 0, count * Stride);
        }

        public void Add(int label, int i, float[] stack, byte[] shadeChanged)
        {
            var o = label * Stride;
            if (shadeChanged[i] != 0)
            {
                // Lit on one date and in shade on the other: its values tell of the sun, not the surface.
                _sums[o + ShadeChanged]++;
                return;
            }
            _sums[o + Pixels]++;
            for (var date = 0; date < 2; date++)
            {
                var l = (double)stack[6 * i + 3 * date];
                var q = o + (date == 0 ? Date0 : Date1);
                _sums[q + SumL] += l;
                _sums[q + SumL2] += l * l;
                _sums[q + SumRg] += stack[6 * i + 3 * date + 1];
                _sums[q + SumBg] += stack[6 * i + 3 * date + 2];
            }
        }

        /// <summary>Each segment's spread of ln L per date, from the sums.</summary>
        public void Finish()
        {
            for (var s = 0; s < Count; s++)
            {
                var o = s * Stride;
                var m = _sums[o + Pixels];
                for (var date = 0; date < 2; date++)
                {
                    var q = o + (date == 0 ? Date0 : Date1);
                    _spread[2 * s + date] = m < 2 ? double.NaN : Math.Sqrt(Math.Max(0, _sums[q + SumL2] / m - (_sums[q + SumL] / m) * (_sums[q + SumL] / m)));
                }
            }
        }

        /// <summary>Too few valid pixels lit alike on both dates to say anything about the segment.</summary>
        private bool TooSmall(int s) => _sums[s * Stride + Pixels] < 2;

        /// <summary>The change of mean brightness, red/green and blue/green between the dates.</summary>
        private void ColourChange(int s, Span<double> d)
        {
            var o = s * Stride;
            var m = _sums[o + Pixels];
            d[0] = (_sums[o + Date1 + SumL] - _sums[o + Date0 + SumL]) / m;
            d[1] = (_sums[o + Date1 + SumRg] - _sums[o + Date0 + SumRg]) / m;
            d[2] = (_sums[o + Date1 + SumBg] - _sums[o + Date0 + SumBg]) / m;
        }

        /// <summary>The segment's change vector; false when it has too few valid pixels to say anything.</summary>
        public bool Vector(int s, Span<double> d, double tau)
        {
            if (TooSmall(s))
            {
                return false;
            }
            ColourChange(s, d);
            d[3] = Math.Log(_spread[2 * s + 1] + tau) - Math.Log(_spread[2 * s] + tau);
            return true;
        }

        /// <summary>Most of the segment went into or out of shade: what is left of it is too little to compare.</summary>
        public bool ShadowChanged(int s)
        {
            var o = s * Stride;
            return _sums[o + ShadeChanged] > _sums[o + Pixels];
        }

        /// <summary>
        /// The segments whose centroid lies in the block's core, with their areas: the brightness and colour parts of
        /// the change vector, then the spread of ln L on each date.
        /// </summary>
        public void Collect(List<(double[] Raw, double Area)> segments, PairBlock block)
        {
            // Centroids: one more pass over the labels.
            var cx = new double[Count];
            var cy = new double[Count];
            var cn = new int[Count];
            var (w, h) = (block.Padded.Width, block.Padded.Height);
            for (var y = 0; y < h; y++)
            {
                for (var x = 0; x < w; x++)
                {
                    var s = _labels[y * w + x];
                    cx[s] += x;
                    cy[s] += y;
                    cn[s]++;
                }
            }
            var (x0, y0) = (block.CoreColumnOffset, block.CoreRowOffset);
            for (var s = 0; s < Count; s++)
            {
                if (cn[s] == 0 || ShadowChanged(s))
                {
                    continue;
                }
                var (mx, my) = (cx[s] / cn[s], cy[s] / cn[s]);
                if (mx < x0 || my < y0 || mx >= x0 + block.Core.Width || my >= y0 + block.Core.Height)
                {
                    continue;
                }
                if (!TooSmall(s))
                {
                    var raw = new double[5];
                    ColourChange(s, raw);
                    (raw[3], raw[4]) = (_spread[2 * s], _spread[2 * s + 1]);
                    segments.Add((raw, _sums[s * Stride + Pixels]));
                }
            }
        }
    }
}
