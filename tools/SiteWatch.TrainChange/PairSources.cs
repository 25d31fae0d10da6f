using System.Collections.Concurrent;
using NetTopologySuite.Algorithm.Locate;
using NetTopologySuite.Geometries;
using SiteWatch.Demo.Plant;
using SiteWatch.Gdal;
using SiteWatch.Training;

namespace SiteWatch.TrainChange;

/// <summary>
/// One training sample: 6 planes of Tile x Tile (BEFORE red, green, blue stretched to 0..1, then AFTER), the change
/// label per pixel (0 or 1) and the pixel's weight in the loss (0 where the truth is unknown: clouds, outside a scene).
/// </summary>
internal sealed class PairSample(int tile)
{
    public int Tile { get; } = tile;
    public float[] Input { get; } = new float[6 * tile * tile];
    public float[] Label { get; } = new float[tile * tile];
    public float[] Weight { get; } = new float[tile * tile];

    public Span<float> Plane(int k) => Input.AsSpan(k * Tile * Tile, Tile * Tile);
}

/// <summary>Where training pairs come from; each draw fills one sample.</summary>
internal interface IPairSource
{
    string Name { get; }

    void Draw(Random rng, PairSample sample);
}

/// <summary>
/// Pairs of the demo generator's scenes (every two acquisitions of a seed's plant, in either order), with the
/// generator's truth of what changed between them: objects that appeared, went, or changed construction stage (roads
/// and rail left out, as the demo's own truth does). AFTER is moved onto BEFORE by the whole pixels of their known
/// misregistration, leaving up to half a pixel, as co-registration would. Cloud and cloud shadow of either date are
/// left out of the loss. Crops are taken at the scene's 0.9 m or area-averaged to 1.8 m and 3.6 m, so the model sees
/// the same structures at several ground sample distances.
/// </summary>
internal sealed class DemoPairs : IPairSource
{
    private readonly List<DemoScene> _scenes = [];
    private readonly List<DemoPair> _pairs = [];

    private sealed record DemoScene(int Seed, int Index, int Width, int Height, float[] Rgb, byte[]? Cloud, double ShiftX, double ShiftY);

    private sealed record DemoPair(DemoScene Before, DemoScene After, int Dx, int Dy, byte[] Label, (int X, int Y)[] Changed);

    public DemoPairs(IEnumerable<int> seeds, TextWriter log)
    {
        foreach (var seed in seeds)
        {
            var plan = PlantScenario.Build(seed);
            var scenes = new DemoScene[plan.Acquisitions.Count];
            Parallel.For(0, scenes.Length, i =>
            {
                var scene = DemoRenderer.Render(plan, i);
                int n = scene.Width * scene.Height;
                var rgb = new float[3 * n];
                int[] bands = [2, 1, 0]; // demo band order is blue, green, red, NIR
                for (int c = 0; c < 3; c++)
                {
                    Stretch.Plane(scene.Bands[bands[c]], rgb.AsSpan(c * n, n));
                }
                var a = plan.Acquisitions[i];
                scenes[i] = new DemoScene(seed, i, scene.Width, scene.Height, rgb, scene.CloudMask, a.ShiftXPixels, a.ShiftYPixels);
            });
            _scenes.AddRange(scenes);
            var pairs = new ConcurrentBag<DemoPair>();
            var indices = from i in Enumerable.Range(0, scenes.Length) from j in Enumerable.Range(0, scenes.Length) where i != j select (i, j);
            Parallel.ForEach(indices, p => pairs.Add(MakePair(plan, scenes[p.i], scenes[p.j])));
            _pairs.AddRange(pairs.OrderBy(p => p.Before.Index).ThenBy(p => p.After.Index));
            log.WriteLine($"demo seed {seed}: {scenes.Length} scenes, {pairs.Count} ordered pairs, {pairs.Sum(p => p.Changed.Length)} changed objects over them");
        }
    }

    public string Name => "demo";

    public int PairCount => _pairs.Count;

    private static DemoPair MakePair(DemoPlan plan, DemoScene before, DemoScene after)
    {
        var d0 = DateOnly.FromDateTime(plan.Acquisitions[before.Index].AcquiredUtc);
        var d1 = DateOnly.FromDateTime(plan.Acquisitions[after.Index].AcquiredUtc);
        var changed = plan.Objects.Where(o => o.Class is not (TruthClasses.Road or TruthClasses.RailSpur)
            && (o.IsPresentOn(d0) != o.IsPresentOn(d1) || o.StageOn(d0) != o.StageOn(d1))).ToList();
        var label = new byte[before.Width * before.Height];
        var points = new List<(int, int)>();
        foreach (var o in changed)
        {
            var env = o.FootprintUtm.EnvelopeInternal;
            var (c0, r0) = plan.TruePixelOf(env.MinX, env.MaxY, before.Index);
            var (c1, r1) = plan.TruePixelOf(env.MaxX, env.MinY, before.Index);
            int x0 = Math.Max(0, (int)Math.Floor(c0)), x1 = Math.Min(before.Width - 1, (int)Math.Ceiling(c1));
            int y0 = Math.Max(0, (int)Math.Floor(r0)), y1 = Math.Min(before.Height - 1, (int)Math.Ceiling(r1));
            if (x1 < x0 || y1 < y0)
            {
                continue;
            }
            var locator = new IndexedPointInAreaLocator(o.FootprintUtm);
            for (int y = y0; y <= y1; y++)
            {
                for (int x = x0; x <= x1; x++)
                {
                    // Pixel (x, y) of a scene shows the ground at x + 0.5 + its shift (DemoAcquisition).
                    var ground = new Coordinate(plan.OriginX + (x + 0.5 + before.ShiftX) * plan.Gsd, plan.OriginY - (y + 0.5 + before.ShiftY) * plan.Gsd);
                    if (locator.Locate(ground) != Location.Exterior)
                    {
                        label[y * before.Width + x] = 1;
                    }
                }
            }
            points.Add(((x0 + x1) / 2, (y0 + y1) / 2));
        }
        // The ground BEFORE shows at x lies in AFTER at x + shift(before) - shift(after).
        return new DemoPair(before, after, (int)Math.Round(before.ShiftX - after.ShiftX), (int)Math.Round(before.ShiftY - after.ShiftY), label, [.. points]);
    }

    public void Draw(Random rng, PairSample sample)
    {
        var pair = _pairs[rng.Next(_pairs.Count)];
        double u = rng.NextDouble();
        int factor = u < 0.5 ? 1 : u < 0.8 ? 2 : 4;
        Crop(pair, rng, factor, sample);
    }

    /// <summary>Draws from one pair and one factor: for the fixed validation set.</summary>
    public void Draw(Random rng, PairSample sample, int pairIndex, int factor) => Crop(_pairs[pairIndex % _pairs.Count], rng, factor, sample);

    private static void Crop(DemoPair pair, Random rng, int factor, PairSample sample)
    {
        int t = sample.Tile, span = t * factor;
        var (w, h) = (pair.Before.Width, pair.Before.Height);
        int x0, y0;
        if (pair.Changed.Length > 0 && rng.NextDouble() < 0.6)
        {
            var (cx, cy) = pair.Changed[rng.Next(pair.Changed.Length)];
            x0 = Math.Clamp(cx - span / 2 + rng.Next(-span / 3, span / 3 + 1), 0, w - span);
            y0 = Math.Clamp(cy - span / 2 + rng.Next(-span / 3, span / 3 + 1), 0, h - span);
        }
        else
        {
            x0 = rng.Next(w - span + 1);
            y0 = rng.Next(h - span + 1);
        }
        float inv = 1f / (factor * factor);
        Span<float> sums = stackalloc float[6];
        for (int y = 0; y < t; y++)
        {
            for (int x = 0; x < t; x++)
            {
                float changed = 0;
                bool known = true;
                sums.Clear();
                for (int sy = 0; sy < factor; sy++)
                {
                    for (int sx = 0; sx < factor; sx++)
                    {
                        int bx = x0 + x * factor + sx, by = y0 + y * factor + sy;
                        int ax = Math.Clamp(bx + pair.Dx, 0, w - 1), ay = Math.Clamp(by + pair.Dy, 0, h - 1);
                        int bi = by * w + bx, ai = ay * w + ax;
                        for (int c = 0; c < 3; c++)
                        {
                            sums[c] += pair.Before.Rgb[c * w * h + bi];
                            sums[3 + c] += pair.After.Rgb[c * w * h + ai];
                        }
                        changed += pair.Label[bi];
                        known &= pair.Before.Cloud is not { } cb || cb[bi] == 0;
                        known &= pair.After.Cloud is not { } ca || ca[ai] == 0;
                        known &= bx + pair.Dx == ax && by + pair.Dy == ay;
                    }
                }
                int i = y * t + x;
                for (int k = 0; k < 6; k++)
                {
                    sample.Input[k * t * t + i] = sums[k] * inv;
                }
                sample.Label[i] = changed * inv >= 0.5f ? 1 : 0;
                sample.Weight[i] = known ? 1 : 0;
            }
        }
    }
}

/// <summary>
/// Real NAIP images of one place on several dates (the real season, water level, crops, sun and sensor of each
/// year), under synthetic structures painted into one date or both (<see cref="Structures"/>): a structure in one
/// date only is change, one in both is not, whatever its shadow does. Crops come from a band of columns, so another
/// band stays unseen for validation.
/// </summary>
internal sealed class NaipPairs : IPairSource
{
    private readonly List<float[]> _dates = [];
    private readonly int _width;
    private readonly int _height;
    private readonly int _columnStart;
    private readonly int _columnEnd;

    public NaipPairs(string folder, double columnStart, double columnEnd, TextWriter log)
    {
        var files = Directory.GetFiles(folder, "*.tif").Order(StringComparer.Ordinal).ToList();
        if (files.Count < 2)
        {
            throw new ArgumentException($"{folder}: need at least two GeoTIFFs of one place (red, green, blue in bands 1-3)");
        }
        // Deliveries of one NAIP quarter quad differ by a row and a few metres of origin: the common window is
        // taken, leaving under a pixel of misregistration, as co-registration would.
        _width = int.MaxValue;
        _height = int.MaxValue;
        foreach (var file in files)
        {
            using var raster = RasterDataset.Open(file);
            _width = Math.Min(_width, raster.Width);
            _height = Math.Min(_height, raster.Height);
        }
        foreach (var file in files)
        {
            using var raster = RasterDataset.Open(file);
            int n = _width * _height;
            var rgb = new float[3 * n];
            var window = new RasterWindow(0, 0, _width, _height);
            for (int c = 0; c < 3; c++)
            {
                var values = raster.Read<float>(c + 1, window);
                var integers = new ushort[n];
                for (int i = 0; i < n; i++)
                {
                    integers[i] = (ushort)Math.Clamp(values[i], 0, 65535);
                }
                Stretch.Plane(integers, rgb.AsSpan(c * n, n));
            }
            _dates.Add(rgb);
        }
        _columnStart = (int)(columnStart * _width);
        _columnEnd = (int)(columnEnd * _width);
        log.WriteLine($"naip: {files.Count} dates of {_width} x {_height} from {folder}, crops from columns {_columnStart}-{_columnEnd}");
    }

    public string Name => "naip";

    /// <summary>Metres per pixel of the images (the shared NAIP series is resampled to 5 m).</summary>
    public double PixelMetres { get; init; } = 5;

    public void Draw(Random rng, PairSample sample)
    {
        int t = sample.Tile;
        if (_columnEnd - _columnStart < t || _height < t)
        {
            throw new ArgumentException($"naip: a {t} px crop does not fit columns {_columnStart}-{_columnEnd}");
        }
        int a = rng.Next(_dates.Count), b = (a + 1 + rng.Next(_dates.Count - 1)) % _dates.Count;
        int x0 = _columnStart + rng.Next(_columnEnd - _columnStart - t + 1), y0 = rng.Next(_height - t + 1);
        int n = _width * _height;
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < t; y++)
            {
                _dates[a].AsSpan(c * n + (y0 + y) * _width + x0, t).CopyTo(sample.Plane(c).Slice(y * t, t));
                _dates[b].AsSpan(c * n + (y0 + y) * _width + x0, t).CopyTo(sample.Plane(3 + c).Slice(y * t, t));
            }
        }
        Array.Clear(sample.Label);
        Array.Fill(sample.Weight, 1f);
        if (rng.NextDouble() < 0.85)
        {
            Structures.Paint(rng, sample, PixelMetres);
        }
    }
}

/// <summary>
/// Pairs a user has in the LEVIR-CD folder layout: DIR/A/NAME and DIR/B/NAME (RGB images of the two dates, any format
/// GDAL reads) and DIR/label/NAME (0 unchanged, non-zero changed). Each image is stretched per band as the product
/// stretches a scene; a few images are kept in memory at a time and swapped as training goes.
/// </summary>
internal sealed class LevirPairs : IPairSource
{
    private readonly List<string> _names;
    private readonly string _folder;
    private readonly (int W, int H, float[] Rgb6, byte[] Label)?[] _cache = new (int, int, float[], byte[])?[16];

    public LevirPairs(string folder, TextWriter log)
    {
        _folder = folder;
        string a = Path.Combine(folder, "A"), b = Path.Combine(folder, "B"), label = Path.Combine(folder, "label");
        if (!Directory.Exists(a) || !Directory.Exists(b) || !Directory.Exists(label))
        {
            throw new ArgumentException($"{folder}: expected the LEVIR-CD layout A/, B/ and label/ with the same file names");
        }
        _names = [.. Directory.GetFiles(a).Select(f => Path.GetFileName(f)).Where(n => File.Exists(Path.Combine(b, n)) && File.Exists(Path.Combine(label, n))).Order(StringComparer.Ordinal)];
        if (_names.Count == 0)
        {
            throw new ArgumentException($"{folder}: no file name is in all of A/, B/ and label/");
        }
        log.WriteLine($"levir: {_names.Count} pairs in {folder}");
    }

    public string Name => "levir";

    public void Draw(Random rng, PairSample sample)
    {
        int slot = rng.Next(_cache.Length);
        if (_cache[slot] is null || rng.NextDouble() < 0.05)
        {
            _cache[slot] = Load(_names[rng.Next(_names.Count)]);
        }
        var (w, h, rgb6, label) = _cache[slot]!.Value;
        int t = sample.Tile;
        int x0 = rng.Next(Math.Max(1, w - t + 1)), y0 = rng.Next(Math.Max(1, h - t + 1));
        Array.Clear(sample.Input);
        Array.Clear(sample.Label);
        Array.Clear(sample.Weight);
        for (int y = 0; y < Math.Min(t, h); y++)
        {
            for (int x = 0; x < Math.Min(t, w); x++)
            {
                int i = (y0 + y) * w + x0 + x, o = y * t + x;
                for (int k = 0; k < 6; k++)
                {
                    sample.Input[k * t * t + o] = rgb6[k * w * h + i];
                }
                sample.Label[o] = label[i];
                sample.Weight[o] = 1;
            }
        }
    }

    private (int, int, float[], byte[]) Load(string name)
    {
        using var before = RasterDataset.Open(Path.Combine(_folder, "A", name));
        using var after = RasterDataset.Open(Path.Combine(_folder, "B", name));
        using var truth = RasterDataset.Open(Path.Combine(_folder, "label", name));
        var (w, h) = (before.Width, before.Height);
        if (after.Width != w || after.Height != h || truth.Width != w || truth.Height != h || before.BandCount < 3 || after.BandCount < 3)
        {
            throw new ArgumentException($"{name}: A, B and label must have the same size, A and B three bands or more");
        }
        int n = w * h;
        var window = new RasterWindow(0, 0, w, h);
        var rgb6 = new float[6 * n];
        var integers = new ushort[n];
        foreach (var (raster, offset) in new[] { (before, 0), (after, 3) })
        {
            for (int c = 0; c < 3; c++)
            {
                var values = raster.Read<float>(c + 1, window);
                for (int i = 0; i < n; i++)
                {
                    integers[i] = (ushort)Math.Clamp(values[i], 0, 65535);
                }
                Stretch.Plane(integers, rgb6.AsSpan((offset + c) * n, n));
            }
        }
        var labelValues = truth.Read<float>(1, window);
        var label = new byte[n];
        for (int i = 0; i < n; i++)
        {
            label[i] = labelValues[i] != 0 ? (byte)1 : (byte)0;
        }
        return (w, h, rgb6, label);
    }
}
