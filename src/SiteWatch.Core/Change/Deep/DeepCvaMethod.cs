using System.Diagnostics;
using System.Globalization;
using SiteWatch.Core.Ingest;
using SiteWatch.Gdal;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Core.Change.Deep;

/// <summary>
/// Deep change vector analysis (Saha, Bovolo and Bruzzone, IEEE TGRS 57(6), 2019) with the ImageNet ResNet18 of
/// <see cref="ResNetFeatureExtractor"/>, streamed tile by tile.
/// <para>
/// Input: three bands (true colour when band names or wavelengths identify red, green and blue, else the pair's
/// first three bands as R, G, B), each stretched from its low to its high percentile onto 0..255, the percentiles
/// estimated per date (or pooled, <see cref="DeepCvaOptions.JointStretch"/>) on a sample of tiles, then the
/// network's own BGR mean subtraction.
/// </para>
/// <para>
/// Fit runs the network on that sample and, per layer, keeps the feature maps whose bi-temporal difference has the
/// largest variance (<see cref="DeepCvaOptions.FeatureFraction"/>, as the paper does), estimates each kept feature's
/// mean and standard deviation per date (features are standardised per date before differencing, as in the
/// authors' code), and the layer's mean squared standardised difference E_l = mean_k (2 - 2 rho_k) (rho_k the
/// inter-date correlation of feature k), which normalises the layer.
/// </para>
/// <para>
/// Transform: each kept feature's standardised difference is upsampled bilinearly to the pixel grid (feature j of a
/// stride-s layer is centred on pixel s j), and band 1 is sqrt(1/L sum_l 1/(K_l E_l) sum_k d_k^2), the magnitude of
/// the deep change vector with every layer weighted equally (its mean square over the sample is 1); band l + 1 is
/// layer l's own term sqrt(1/(K_l E_l) sum_k d_k^2). The network sees each window grown by <see cref="Halo"/>
/// pixels and aligned to the largest stride on the scene grid, which covers the receptive field of every kept
/// feature: results do not depend on the tiling (no seams). Invalid pixels are fed as the network's mean colour in
/// both dates and come out NaN.
/// </para>
/// </summary>
public sealed class DeepCvaMethod : IChangeMethod
{
    /// <summary>Side of the tiles the fitting sample is drawn in.</summary>
    private const int SampleTile = 512;
    /// <summary>Most values per band and date the percentiles are computed from.</summary>
    private const int PercentileSample = 1_000_000;
    /// <summary>Smallest layer normaliser E_l: nearly identical dates are not blown up to unit magnitude.</summary>
    private const double MinLayerNormaliser = 1e-3;

    private readonly DeepCvaOptions _options;
    private readonly List<string> _notes = [];
    private ResNetFeatureExtractor? _extractor;
    private ResNetLayer[] _layers;
    private int _alignment;
    private int _context;
    private int[] _rgb = [0, 1, 2];
    private readonly double[] _low = new double[6];
    private readonly double[] _gain = new double[6];
    private LayerModel[] _models = [];
    private string[] _bands = ["magnitude"];
    private int _sceneHeight;
    private int _sceneWidth;
    private long _transformTicks;
    private long _transformPixels;

    public DeepCvaMethod(DeepCvaOptions? options = null)
    {
        _options = options ?? new DeepCvaOptions();
        _layers = ResolveLayers(_options.Layers);
        (_alignment, _context) = Geometry(_layers);
    }

    public string Name => "deepcva";
    public ThresholdRule DefaultThreshold => ThresholdRule.Otsu;

    /// <summary>Band 1 is a Euclidean magnitude (the square root is already taken), not a squared distance.</summary>
    public bool MagnitudeIsSquared => false;

    /// <summary>Context the network needs: the receptive radius plus one stride (interpolation) of the deepest kept layer, plus alignment slack.</summary>
    public int Halo => _context + _alignment - 1;

    public IReadOnlyList<string> OutputBands => _bands;

    public DeepCvaOptions Options => _options;

    /// <summary>After Fit: the layers used and, per layer, the channels of the kept feature maps.</summary>
    public IReadOnlyList<(ResNetLayer Layer, IReadOnlyList<int> Channels)> SelectedFeatures =>
        [.. _models.Select(m => (m.Layer, (IReadOnlyList<int>)m.Channels))];

    /// <summary>After Fit: the pair's band positions (0-based) fed as red, green and blue.</summary>
    public (int Red, int Green, int Blue) InputBands => (_rgb[0], _rgb[1], _rgb[2]);

    private sealed class LayerModel(ResNetLayer layer, int index, int[] channels, double[] mean1, double[] invStd1, double[] mean2, double[] invStd2, double normaliser)
    {
        public ResNetLayer Layer { get; } = layer;
        /// <summary>Index of the layer among the extractor's outputs.</summary>
        public int Index { get; } = index;
        public int[] Channels { get; } = channels;
        public double[] Mean1 { get; } = mean1;
        public double[] InvStd1 { get; } = invStd1;
        public double[] Mean2 { get; } = mean2;
        public double[] InvStd2 { get; } = invStd2;
        /// <summary>E_l: the mean over the sample of the mean squared standardised difference of the kept features.</summary>
        public double Normaliser { get; } = normaliser;
        /// <summary>1 / (K_l E_l).</summary>
        public double Weight => 1 / (Channels.Length * Normaliser);
    }

    private static ResNetLayer[] ResolveLayers(IReadOnlyList<string> names)
    {
        if (names.Count == 0)
        {
            throw new SiteWatchException("deep CVA needs at least one ResNet18 layer");
        }
        return [.. names.Select(ResNetLayer.Find).Distinct().OrderBy(l => l.Stride)];
    }

    private static (int Alignment, int Context) Geometry(IReadOnlyList<ResNetLayer> layers) =>
        (layers.Max(l => l.Stride), layers.Max(l => l.ReceptiveRadius + l.Stride));

    public void Fit(RasterPair pair, ChangeDetectionOptions options, IProgress<double>? progress, CancellationToken cancel)
    {
        Validate();
        var clock = Stopwatch.StartNew();
        _notes.Clear();
        _transformTicks = 0;
        _transformPixels = 0;
        _sceneWidth = pair.Width;
        _sceneHeight = pair.Height;
        _layers = ResolveLayers(_options.Layers);
        (_alignment, _context) = Geometry(_layers);
        _extractor = ResNetFeatureExtractor.Get(_layers, _options.IntraOpThreads, _options.ModelPath);
        _rgb = SpectralBands.ChooseTrueColour(pair, _notes, "deep CVA");

        var candidates = CandidateWindows(pair);
        var progressStretch = new ProgressSlice(progress, 0, 0.1);
        var progressFeatures = new ProgressSlice(progress, 0.1, 0.9);

        // Pass 1: tiles are taken in a fixed pseudo-random order until they hold the sample's worth of valid pixels
        // (tiles without valid pixels are skipped); the band percentiles come from (a subsample of) those pixels.
        var side = Math.Min(SampleTile, Math.Max(pair.Width, pair.Height));
        var budget = Math.Min(_options.FitSamplePixels, (long)pair.Width * pair.Height);
        var step = (int)Math.Max(1, (budget + PercentileSample - 1) / PercentileSample);
        var values = Enumerable.Range(0, 6).Select(_ => new List<float>()).ToArray();
        var block = new PairBlock(pair.BandCount, Math.Min(pair.Width, side + 2 * Halo) * Math.Min(pair.Height, side + 2 * Halo));
        var accepted = new List<RasterWindow>();
        long seen = 0;
        foreach (var window in candidates)
        {
            if (seen >= budget)
            {
                break;
            }
            cancel.ThrowIfCancellationRequested();
            block.Load(pair, window, 0);
            var valid = block.Valid;
            var before = seen;
            for (var i = 0; i < valid.Length; i++)
            {
                if (valid[i] != 0 && seen++ % step == 0)
                {
                    for (var c = 0; c < 3; c++)
                    {
                        values[c].Add(block.Before(_rgb[c])[i]);
                        values[3 + c].Add(block.After(_rgb[c])[i]);
                    }
                }
            }
            if (seen > before)
            {
                accepted.Add(window);
            }
            progressStretch.Report((double)seen / budget);
        }
        var windows = accepted.OrderBy(w => w.Row).ThenBy(w => w.Column).ToArray();
        var samplePixels = seen;
        ChangeDetector.RequireValidPixels(seen, 64, pair);
        FitStretch(values);

        // Pass 2: feature statistics on the sample.
        var stats = _layers.Select(l => new FeatureMoments(l.Channels)).ToArray();
        for (var w = 0; w < windows.Length; w++)
        {
            cancel.ThrowIfCancellationRequested();
            block.Load(pair, windows[w], Halo);
            var (features, oy, ox) = RunNetwork(block, windows[w]);
            using (features)
            {
                for (var l = 0; l < _layers.Length; l++)
                {
                    stats[l].Add(features, l, block, windows[w], oy, ox, _layers[l].Stride);
                }
            }
            progressFeatures.Report((w + 1.0) / windows.Length);
        }
        SelectFeatures(stats);
        _bands = ["magnitude", .. _models.Select(m => m.Layer.Name)];
        _notes.Add(FormattableString.Invariant($"deep CVA fitted on {windows.Length} tile(s), {samplePixels} valid pixels, in {clock.Elapsed.TotalSeconds:0.0} s (ResNet18 on ONNX Runtime, CPU, {(_options.IntraOpThreads == 0 ? "default" : _options.IntraOpThreads.ToString(CultureInfo.InvariantCulture))} threads)"));
    }

    private void Validate()
    {
        if (!(_options.FeatureFraction is > 0 and <= 1))
        {
            throw new SiteWatchException("the deep CVA feature fraction must lie in (0, 1]");
        }
        if (!(_options.StretchLow >= 0 && _options.StretchLow < _options.StretchHigh && _options.StretchHigh <= 1))
        {
            throw new SiteWatchException("the deep CVA stretch percentiles must satisfy 0 <= low < high <= 1");
        }
        if (_options.MaxTile < 32 || _options.MinFeatures < 1 || _options.FitSamplePixels < 1)
        {
            throw new SiteWatchException("deep CVA needs a tile of at least 32 pixels, at least one feature per layer and a positive sample");
        }
    }

    /// <summary>The scene's tiles in the order the fitting sample draws them: a fixed pseudo-random spread over the scene.</summary>
    private static RasterWindow[] CandidateWindows(RasterPair pair)
    {
        var side = Math.Min(SampleTile, Math.Max(pair.Width, pair.Height));
        var all = pair.Windows(side).ToArray();
        new Random(20190601).Shuffle(all);
        return all;
    }

    private void FitStretch(List<float>[] values)
    {
        for (var c = 0; c < 3; c++)
        {
            for (var date = 0; date < 2; date++)
            {
                var list = _options.JointStretch ? [.. values[c], .. values[3 + c]] : new List<float>(values[3 * date + c]);
                list.Sort();
                var lo = Quantile(list, _options.StretchLow);
                var hi = Quantile(list, _options.StretchHigh);
                if (!(hi > lo))
                {
                    hi = lo + 1; // a constant band: every pixel maps to 0
                }
                _low[3 * date + c] = lo;
                _gain[3 * date + c] = 255 / (hi - lo);
            }
        }
        _notes.Add(FormattableString.Invariant(
            $"deep CVA stretch ({(_options.JointStretch ? "joint" : "per date")}, {100 * _options.StretchLow:0.#}-{100 * _options.StretchHigh:0.#} %): before R {_low[0]:G4}-{_low[0] + 255 / _gain[0]:G4} G {_low[1]:G4}-{_low[1] + 255 / _gain[1]:G4} B {_low[2]:G4}-{_low[2] + 255 / _gain[2]:G4}; after R {_low[3]:G4}-{_low[3] + 255 / _gain[3]:G4} G {_low[4]:G4}-{_low[4] + 255 / _gain[4]:G4} B {_low[5]:G4}-{_low[5] + 255 / _gain[5]:G4}"));
    }

    private static double Quantile(List<float> sorted, double q)
    {
        if (sorted.Count == 0)
        {
            return 0;
        }
        var pos = q * (sorted.Count - 1);
        var i = (int)Math.Floor(pos);
        var f = pos - i;
        return i + 1 < sorted.Count ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
    }

    private void SelectFeatures(FeatureMoments[] stats)
    {
        var models = new List<LayerModel>();
        for (var l = 0; l < _layers.Length; l++)
        {
            var layer = _layers[l];
            var s = stats[l];
            if (s.Count < 2)
            {
                _notes.Add($"layer {layer.Name}: no valid feature positions in the sample; left out");
                continue;
            }
            var candidates = new List<(int Channel, double DiffVar, double Var1, double Var2, double Rho)>();
            for (var c = 0; c < layer.Channels; c++)
            {
                var (m1, v1, m2, v2, cov) = s.Moments(c);
                // Feature maps dead (constant) in either date cannot be standardised; they carry no change either.
                if (v1 <= 1e-12 * (1 + m1 * m1) || v2 <= 1e-12 * (1 + m2 * m2))
                {
                    continue;
                }
                var diffVar = Math.Max(0, v1 + v2 - 2 * cov);
                candidates.Add((c, diffVar, v1, v2, Math.Clamp(cov / Math.Sqrt(v1 * v2), -1, 1)));
            }
            if (candidates.Count == 0)
            {
                _notes.Add($"layer {layer.Name}: every feature map is constant over the sample; left out");
                continue;
            }
            var keep = Math.Min(candidates.Count, Math.Max(_options.MinFeatures, (int)Math.Round(_options.FeatureFraction * layer.Channels)));
            var chosen = candidates.OrderByDescending(x => x.DiffVar).ThenBy(x => x.Channel).Take(keep).OrderBy(x => x.Channel).ToArray();
            var normaliser = Math.Max(MinLayerNormaliser, chosen.Average(x => 2 - 2 * x.Rho));
            models.Add(new LayerModel(layer, l, [.. chosen.Select(x => x.Channel)],
                [.. chosen.Select(x => s.Moments(x.Channel).Mean1)], [.. chosen.Select(x => 1 / Math.Sqrt(x.Var1))],
                [.. chosen.Select(x => s.Moments(x.Channel).Mean2)], [.. chosen.Select(x => 1 / Math.Sqrt(x.Var2))],
                normaliser));
            var totalDiffVar = candidates.Sum(x => x.DiffVar);
            var share = totalDiffVar > 0 ? chosen.Sum(x => x.DiffVar) / totalDiffVar : 0;
            _notes.Add(FormattableString.Invariant(
                $"layer {layer.Name} (stride {layer.Stride}): kept {chosen.Length} of {layer.Channels} feature maps ({string.Join(",", chosen.Select(x => x.Channel))}) holding {100 * share:0.#} % of the difference variance; mean inter-date correlation {chosen.Average(x => x.Rho):0.###}, normaliser {normaliser:0.###}"));
        }
        if (models.Count == 0)
        {
            throw new SiteWatchException("deep CVA found no usable feature maps: the sample holds no valid, varying image content");
        }
        _models = [.. models];
    }

    /// <summary>
    /// Runs the network on both dates over <paramref name="core"/> grown by the context, aligned to the largest stride
    /// on the scene grid. Returns the features (batch 0 = BEFORE, 1 = AFTER) and the scene row and column of input pixel (0, 0).
    /// </summary>
    private (FeatureMaps Features, int Row, int Column) RunNetwork(PairBlock block, RasterWindow core)
    {
        var a = _alignment;
        var padded = block.Padded;
        var oy = Math.Max(0, FloorDiv(core.Row - _context, a) * a);
        var ox = Math.Max(0, FloorDiv(core.Column - _context, a) * a);
        var ey = Math.Min(_sceneHeight, core.Row + core.Height + _context);
        var ex = Math.Min(_sceneWidth, core.Column + core.Width + _context);
        if (oy < padded.Row || ox < padded.Column || ey > padded.Row + padded.Height || ex > padded.Column + padded.Width)
        {
            throw new InvalidOperationException($"Deep CVA needs windows read with a halo of {Halo} pixels; window {core} came with {padded}.");
        }
        var h = (ey - oy + a - 1) / a * a;
        var w = (ex - ox + a - 1) / a * a;
        var plane = h * w;
        // The network's own input: per date B, G, R planes minus its channel means. Pixels off the scene or invalid
        // get the mean colour (0), as do the stride-alignment margins.
        var input = new float[6 * plane];
        var valid = block.Valid;
        for (var date = 0; date < 2; date++)
        {
            for (var nc = 0; nc < 3; nc++)
            {
                var c = 2 - nc; // network channel B, G, R <- input channel R, G, B
                var dst = input.AsSpan((3 * date + nc) * plane, plane);
                var src = date == 0 ? block.Before(_rgb[c]) : block.After(_rgb[c]);
                var lo = (float)_low[3 * date + c];
                var gain = (float)_gain[3 * date + c];
                var mean = ResNetFeatureExtractor.MeanBgr[nc];
                for (var r = 0; r < ey - oy; r++)
                {
                    var s = (oy + r - padded.Row) * padded.Width + (ox - padded.Column);
                    var d = r * w;
                    for (var k = 0; k < ex - ox; k++)
                    {
                        dst[d + k] = valid[s + k] != 0 ? Math.Clamp((src[s + k] - lo) * gain, 0f, 255f) - mean : 0f;
                    }
                }
            }
        }
        return (_extractor!.ExtractPreprocessed(input, 2, h, w), oy, ox);
    }

    private static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    public void Transform(PairBlock block, Span<float> output)
    {
        if (_extractor is null)
        {
            throw new InvalidOperationException("Fit must run before Transform.");
        }
        var started = Stopwatch.GetTimestamp();
        var core = block.Core;
        var n = (int)core.PixelCount;
        var planes = 1 + _models.Length;
        output[..(planes * n)].Clear();
        var tile = Math.Max(_options.MaxTile / _alignment * _alignment, _alignment);
        foreach (var sub in RasterWindow.Tile(core.Width, core.Height, tile, tile))
        {
            var window = new RasterWindow(core.Column + sub.Column, core.Row + sub.Row, sub.Width, sub.Height);
            var (features, oy, ox) = RunNetwork(block, window);
            using (features)
            {
                for (var m = 0; m < _models.Length; m++)
                {
                    AccumulateLayer(features, _models[m], oy, ox, window, core, output.Slice((1 + m) * n, n));
                }
            }
        }
        var valid = block.Valid;
        var scale = 1.0 / _models.Length;
        for (var r = 0; r < core.Height; r++)
        {
            for (var c = 0; c < core.Width; c++)
            {
                var o = r * core.Width + c;
                if (valid[block.IndexOfCore(r, c)] == 0)
                {
                    for (var p = 0; p < planes; p++)
                    {
                        output[p * n + o] = float.NaN;
                    }
                    continue;
                }
                double total = 0;
                for (var m = 0; m < _models.Length; m++)
                {
                    var term = output[(1 + m) * n + o];
                    total += term;
                    output[(1 + m) * n + o] = MathF.Sqrt(term);
                }
                output[o] = (float)Math.Sqrt(total * scale);
            }
        }
        Interlocked.Add(ref _transformTicks, Stopwatch.GetTimestamp() - started);
        Interlocked.Add(ref _transformPixels, n);
    }

    /// <summary>
    /// Adds 1/(K E) sum_k d_k^2 of one layer, d_k bilinearly upsampled, for the pixels of <paramref name="window"/>
    /// into <paramref name="plane"/> (laid out over <paramref name="core"/>).
    /// </summary>
    private static void AccumulateLayer(FeatureMaps features, LayerModel model, int oy, int ox, RasterWindow window, RasterWindow core, Span<float> plane)
    {
        var (_, _, hf, wf) = features.Shape(model.Index);
        var s = model.Layer.Stride;
        var k = model.Channels.Length;
        // Standardised differences of the kept features on the feature grid.
        var diff = new float[k * hf * wf];
        for (var f = 0; f < k; f++)
        {
            var before = features.Map(model.Index, 0, model.Channels[f]);
            var after = features.Map(model.Index, 1, model.Channels[f]);
            var m1 = (float)model.Mean1[f];
            var i1 = (float)model.InvStd1[f];
            var m2 = (float)model.Mean2[f];
            var i2 = (float)model.InvStd2[f];
            var d = diff.AsSpan(f * hf * wf, hf * wf);
            for (var i = 0; i < d.Length; i++)
            {
                d[i] = (after[i] - m2) * i2 - (before[i] - m1) * i1;
            }
        }
        // Horizontal interpolation positions: pixel x lies at feature coordinate (x - ox) / s.
        var x0 = new int[window.Width];
        var x1 = new int[window.Width];
        var fx = new float[window.Width];
        for (var c = 0; c < window.Width; c++)
        {
            var u = (window.Column + c - ox) / (double)s;
            var i = Math.Min((int)Math.Floor(u), wf - 1);
            x0[c] = i;
            x1[c] = Math.Min(i + 1, wf - 1);
            fx[c] = (float)(u - i);
        }
        var weight = (float)model.Weight;
        var row = new float[wf];
        var sum = new float[window.Width];
        for (var r = 0; r < window.Height; r++)
        {
            var v = (window.Row + r - oy) / (double)s;
            var j0 = Math.Min((int)Math.Floor(v), hf - 1);
            var j1 = Math.Min(j0 + 1, hf - 1);
            var fy = (float)(v - j0);
            Array.Clear(sum);
            for (var f = 0; f < k; f++)
            {
                var d = diff.AsSpan(f * hf * wf, hf * wf);
                var a0 = d.Slice(j0 * wf, wf);
                var a1 = d.Slice(j1 * wf, wf);
                for (var i = 0; i < wf; i++)
                {
                    row[i] = a0[i] + fy * (a1[i] - a0[i]);
                }
                for (var c = 0; c < window.Width; c++)
                {
                    var left = row[x0[c]];
                    var value = left + fx[c] * (row[x1[c]] - left);
                    sum[c] += value * value;
                }
            }
            var o = (window.Row - core.Row + r) * core.Width + (window.Column - core.Column);
            for (var c = 0; c < window.Width; c++)
            {
                plane[o + c] += weight * sum[c];
            }
        }
    }

    public double? NativeThreshold(ThresholdRule rule, ChangeDetectionOptions options) => null;

    public ChangeDetectionResult Describe(ChangeDetectionResult result)
    {
        var notes = new List<string>(_notes);
        if (_transformPixels > 0)
        {
            var seconds = (double)_transformTicks / Stopwatch.Frequency;
            notes.Add(FormattableString.Invariant($"deep CVA transform: {_transformPixels / 1e6:0.###} MP in {seconds:0.0} s ({seconds / (_transformPixels / 1e6):0.00} s per MP; larger blocks cut the {Halo}-pixel halo's share)"));
        }
        return result with { Notes = [.. result.Notes, .. notes] };
    }

    /// <summary>Per-channel first and second moments of both dates' features over the valid feature positions of the sample.</summary>
    private sealed class FeatureMoments(int channels)
    {
        private readonly double[] _s1 = new double[channels];
        private readonly double[] _s2 = new double[channels];
        private readonly double[] _s11 = new double[channels];
        private readonly double[] _s22 = new double[channels];
        private readonly double[] _s12 = new double[channels];
        // Per-window sums in float would lose precision; shifts keep the double sums well conditioned.
        private readonly double[] _shift1 = new double[channels];
        private readonly double[] _shift2 = new double[channels];

        public long Count { get; private set; }

        /// <summary>Adds the features whose centre pixel lies in <paramref name="core"/> and is valid.</summary>
        public void Add(FeatureMaps features, int layer, PairBlock block, RasterWindow core, int oy, int ox, int stride)
        {
            var (_, c, hf, wf) = features.Shape(layer);
            var cells = new List<int>();
            var valid = block.Valid;
            var padded = block.Padded;
            for (var j = 0; j < hf; j++)
            {
                var y = oy + stride * j;
                if (y < core.Row || y >= core.Row + core.Height)
                {
                    continue;
                }
                for (var i = 0; i < wf; i++)
                {
                    var x = ox + stride * i;
                    if (x >= core.Column && x < core.Column + core.Width && valid[(y - padded.Row) * padded.Width + x - padded.Column] != 0)
                    {
                        cells.Add(j * wf + i);
                    }
                }
            }
            if (cells.Count == 0)
            {
                return;
            }
            if (Count == 0)
            {
                for (var ch = 0; ch < c; ch++)
                {
                    _shift1[ch] = features.Map(layer, 0, ch)[cells[0]];
                    _shift2[ch] = features.Map(layer, 1, ch)[cells[0]];
                }
            }
            for (var ch = 0; ch < c; ch++)
            {
                var f1 = features.Map(layer, 0, ch);
                var f2 = features.Map(layer, 1, ch);
                double s1 = 0, s2 = 0, s11 = 0, s22 = 0, s12 = 0;
                var k1 = _shift1[ch];
                var k2 = _shift2[ch];
                foreach (var cell in cells)
                {
                    var a = f1[cell] - k1;
                    var b = f2[cell] - k2;
                    s1 += a;
                    s2 += b;
                    s11 += a * a;
                    s22 += b * b;
                    s12 += a * b;
                }
                _s1[ch] += s1;
                _s2[ch] += s2;
                _s11[ch] += s11;
                _s22[ch] += s22;
                _s12[ch] += s12;
            }
            Count += cells.Count;
        }

        /// <summary>Means, variances and covariance of channel c's features in the two dates.</summary>
        public (double Mean1, double Var1, double Mean2, double Var2, double Cov) Moments(int c)
        {
            double n = Count;
            var a = _s1[c] / n;
            var b = _s2[c] / n;
            return (_shift1[c] + a, Math.Max(0, _s11[c] / n - a * a), _shift2[c] + b, Math.Max(0, _s22[c] / n - b * b), _s12[c] / n - a * b);
        }
    }
}
