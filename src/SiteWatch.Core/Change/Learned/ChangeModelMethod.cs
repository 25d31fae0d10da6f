using System.Globalization;
using SiteWatch.Core.Detection;
using SiteWatch.Gdal;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Core.Change.Learned;

/// <summary>
/// Change from a learned bi-temporal model (<see cref="ChangeModel"/>), run tile by tile over each window like the
/// detector: tiles of the model's side overlapping by its overlap, each pixel the weighted mean of the tiles covering
/// it (weights falling linearly towards a tile's edges, where a network sees the least context), so no seam shows.
/// Each date is scaled on its own (the side-car's scale over the whole scene), as the model was trained. Band 1 is
/// the change probability; the default threshold is the model's own (side-car <c>threshold</c>, else 0.5).
/// </summary>
public sealed class ChangeModelMethod(string modelPath) : IChangeMethod, IDisposable
{
    private ChangeModel? _model;
    private RasterPair? _pair;
    private SceneBands? _beforeBands;
    private SceneBands? _afterBands;
    private double?[] _beforeNoData = [];
    private double?[] _afterNoData = [];
    private float[] _planes = [];
    private float[] _sum = [];
    private float[] _weight = [];
    private float[] _input = [];
    private float[] _probability = [];
    private float[] _tileWeight = [];
    private readonly List<string> _notes = [];
    private int _tilesRun;

    public string Name => "model";
    public ThresholdRule DefaultThreshold => ThresholdRule.Model;
    public bool MagnitudeIsSquared => false;
    public int Halo => Model.Overlap;
    public IReadOnlyList<string> OutputBands { get; } = ["change_probability"];

    private ChangeModel Model => _model ??= ChangeModel.Load(modelPath);

    public void Fit(RasterPair pair, ChangeDetectionOptions options, IProgress<double>? progress, CancellationToken cancel)
    {
        var model = Model;
        _pair = pair;
        _beforeBands = SceneBands.Select(pair.Before, model.Bands, model.Scaling);
        _afterBands = SceneBands.Select(pair.After, model.Bands, model.Scaling);
        _beforeNoData = [.. _beforeBands.BandNumbers.Select(pair.Before.NoDataOf)];
        _afterNoData = [.. _afterBands.BandNumbers.Select(pair.After.NoDataOf)];
        var t = model.Tile;
        _input = new float[2 * model.Channels * t * t];
        _probability = new float[t * t];
        _tileWeight = new float[t * t];
        for (var i = 0; i < t; i++)
        {
            for (var j = 0; j < t; j++)
            {
                _tileWeight[i * t + j] = (Math.Min(i, t - 1 - i) + 1f) * (Math.Min(j, t - 1 - j) + 1f);
            }
        }
        _notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"change model {model}: bands {string.Join(", ", _beforeBands.BandNumbers)} (before) and {string.Join(", ", _afterBands.BandNumbers)} (after), scale {model.Scaling.Kind}"));
        if (model.GroundSampleDistance is { } trained && pair.Before.GeoTransform is { } gt && pair.Before.OpenCrs() is { } crs)
        {
            using (crs)
            {
                if (SceneObjectDetector.GroundSampleDistance(pair.Before, gt, crs) is { } gsd && Math.Abs(gsd / trained - 1) > 0.2)
                {
                    _notes.Add(string.Create(CultureInfo.InvariantCulture,
                        $"the model was trained at {trained:0.###} m per pixel and this pair is {gsd:0.###} m: objects appear at another scale than it learned"));
                }
            }
        }
        progress?.Report(1);
    }

    public void Transform(PairBlock block, Span<float> output)
    {
        var model = Model;
        var pair = _pair ?? throw new InvalidOperationException("Fit first.");
        var padded = block.Padded;
        var (pw, ph) = (padded.Width, padded.Height);
        var n = pw * ph;
        var c = model.Channels;
        Grow(ref _planes, 2 * c * n);
        Grow(ref _sum, n);
        Grow(ref _weight, n);
        for (var k = 0; k < c; k++)
        {
            ReadScaled(pair.Before, _beforeBands!, _beforeNoData, k, padded, _planes.AsSpan(k * n, n), model);
            ReadScaled(pair.After, _afterBands!, _afterNoData, k, padded, _planes.AsSpan((c + k) * n, n), model);
        }
        var sum = _sum.AsSpan(0, n);
        var weight = _weight.AsSpan(0, n);
        sum.Clear();
        weight.Clear();
        var t = model.Tile;
        var plane = t * t;
        foreach (var tile in SceneObjectDetector.Tiles(pw, ph, t, t, model.Overlap / (double)t))
        {
            // A tile larger than the window sits top left on zeros (the normalised mean).
            Array.Clear(_input);
            for (var k = 0; k < 2 * c; k++)
            {
                for (var r = 0; r < tile.Height; r++)
                {
                    _planes.AsSpan(k * n + (tile.Row + r) * pw + tile.Column, tile.Width).CopyTo(_input.AsSpan(k * plane + r * t, tile.Width));
                }
            }
            model.Run(_input, _probability);
            _tilesRun++;
            for (var r = 0; r < tile.Height; r++)
            {
                var row = (tile.Row + r) * pw + tile.Column;
                for (var j = 0; j < tile.Width; j++)
                {
                    var w = _tileWeight[r * t + j];
                    sum[row + j] += w * _probability[r * t + j];
                    weight[row + j] += w;
                }
            }
        }
        var core = block.Core;
        var valid = block.Valid;
        for (var r = 0; r < core.Height; r++)
        {
            for (var j = 0; j < core.Width; j++)
            {
                var i = block.IndexOfCore(r, j);
                output[r * core.Width + j] = valid[i] != 0 ? sum[i] / weight[i] : float.NaN;
            }
        }
    }

    private static void ReadScaled(RasterDataset raster, SceneBands bands, double?[] noData, int k, RasterWindow window, Span<float> plane, ChangeModel model)
    {
        raster.Read(bands.BandNumbers[k], window, plane);
        bands.Scale(k, plane, noData[k]);
        if (model.Mean is { } mean && model.Std is { } std)
        {
            var (m, s) = (mean[k], 1 / std[k]);
            foreach (ref var v in plane)
            {
                v = (v - m) * s;
            }
        }
        else if (model.Mean is { } meanOnly)
        {
            var m = meanOnly[k];
            foreach (ref var v in plane)
            {
                v -= m;
            }
        }
    }

    private static void Grow(ref float[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new float[length];
        }
    }

    public double? NativeThreshold(ThresholdRule rule, ChangeDetectionOptions options) => rule == ThresholdRule.Model ? Model.Threshold : null;

    public void Dispose() => _model?.Dispose();

    public ChangeDetectionResult Describe(ChangeDetectionResult result) => result with
    {
        Notes = [.. result.Notes, .. _notes, string.Create(CultureInfo.InvariantCulture, $"{_tilesRun} model tiles of {Model.Tile} x {Model.Tile} pixels run")],
    };
}
