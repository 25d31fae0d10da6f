using SiteWatch.Core.Change;
using SiteWatch.Gdal;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Tests.Change.Methods;

/// <summary>
/// A synthetic two-date scene with known truth: smooth "land cover" from three latent fields mixed into the bands, the
/// second date a per-band affine copy of the first (different gain and offset, like another sun angle and haze) plus
/// independent noise, and optional change: a rectangle and a two-pixel-wide road whose spectra differ on date 2.
/// </summary>
public sealed class SyntheticPair
{
    public int Width { get; init; } = 300;
    public int Height { get; init; } = 260;
    public int Bands { get; init; } = 4;
    public int Seed { get; init; } = 1;
    public double Noise { get; init; } = 2.0;
    public IReadOnlyList<double> Gains { get; init; } = [0.7, 1.3, 0.9, 1.2];
    public IReadOnlyList<double> Offsets { get; init; } = [12, -25, 6, 30];
    public bool WithChange { get; init; } = true;
    /// <summary>Pixels where date 1 is set to this nodata value (row, column) predicate.</summary>
    public Func<int, int, bool>? NoDataWhere { get; init; }
    public double? NoDataValue { get; init; }

    public static readonly RasterWindow ChangeRectangle = new(60, 50, 40, 30);
    public const int RoadRow = 150;
    public const int RoadStart = 40;
    public const int RoadEnd = 200;

    public static bool IsChanged(int row, int column) =>
        (column >= ChangeRectangle.Column && column < ChangeRectangle.Column + ChangeRectangle.Width && row >= ChangeRectangle.Row && row < ChangeRectangle.Row + ChangeRectangle.Height)
        || (row is >= RoadRow and < RoadRow + 2 && column is >= RoadStart and < RoadEnd);

    /// <summary>Within two pixels of a changed pixel (where a mixed or smoothed boundary may legitimately go either way).</summary>
    public static bool NearChange(int row, int column)
    {
        for (var dr = -2; dr <= 2; dr++)
        {
            for (var dc = -2; dc <= 2; dc++)
            {
                if (IsChanged(row + dr, column + dc))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>Band values of both dates, band-sequential [b * W * H + r * W + c].</summary>
    public (float[] Before, float[] After) Generate()
    {
        var rng = new Random(Seed);
        var n = Width * Height;
        var before = new float[Bands * n];
        var after = new float[Bands * n];
        // Three latent fields: two smooth gradients/undulations and a patchwork of "fields".
        var seeds = Enumerable.Range(0, 40).Select(_ => (R: rng.Next(Height), C: rng.Next(Width), V: rng.NextDouble() * 2 - 1)).ToArray();
        var mixing = new double[Bands, 3];
        for (var b = 0; b < Bands; b++)
        {
            for (var k = 0; k < 3; k++)
            {
                mixing[b, k] = 10 + 15 * rng.NextDouble() * (k == b % 3 ? 2 : 1);
            }
        }
        var changeSignature = Enumerable.Range(0, Bands).Select(b => (b % 2 == 0 ? 1 : -1) * (25 + 5 * b)).ToArray();
        for (var r = 0; r < Height; r++)
        {
            for (var c = 0; c < Width; c++)
            {
                var f1 = Math.Sin(r / 23.0) * Math.Cos(c / 31.0);
                var f2 = (r + c) / (double)(Width + Height) - 0.5;
                var nearest = seeds.MinBy(s => (s.R - r) * (s.R - r) + (s.C - c) * (s.C - c));
                var f3 = nearest.V;
                var i = r * Width + c;
                var changed = WithChange && IsChanged(r, c);
                for (var b = 0; b < Bands; b++)
                {
                    var signal = 100 + mixing[b, 0] * f1 + mixing[b, 1] * f2 + mixing[b, 2] * f3;
                    before[b * n + i] = (float)(signal + Noise * Gauss(rng));
                    var changedSignal = changed ? signal + changeSignature[b] : signal;
                    after[b * n + i] = (float)(Gains[b % Gains.Count] * changedSignal + Offsets[b % Offsets.Count] + Noise * Gauss(rng));
                }
                if (NoDataWhere is { } where && where(r, c))
                {
                    for (var b = 0; b < Bands; b++)
                    {
                        before[b * n + i] = (float)(NoDataValue ?? double.NaN);
                    }
                }
            }
        }
        return (before, after);
    }

    private static double Gauss(Random rng)
    {
        var u1 = 1 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Writes both dates as Float32 GeoTIFFs (UTM 33N, 10 m) and returns their paths.</summary>
    public (string Before, string After) Write(string directory, string name = "syn")
    {
        var (before, after) = Generate();
        var profile = new RasterProfile(Width, Height, Bands, RasterDataType.Float32)
        {
            GeoTransform = GeoTransform.NorthUp(400_000, 5_000_000, 10),
            Crs = "EPSG:32633",
            NoData = NoDataValue,
        };
        var paths = (Path.Combine(directory, name + "_t1.tif"), Path.Combine(directory, name + "_t2.tif"));
        foreach (var (path, data) in new[] { (paths.Item1, before), (paths.Item2, after) })
        {
            using var raster = RasterDataset.Create(path, profile);
            var n = Width * Height;
            for (var b = 0; b < Bands; b++)
            {
                raster.Write<float>(b + 1, new RasterWindow(0, 0, Width, Height), data.AsSpan(b * n, n));
            }
        }
        return paths;
    }

    public static byte[] ReadMask(string path)
    {
        using var raster = RasterDataset.Open(path);
        return raster.Read<byte>(1, new RasterWindow(0, 0, raster.Width, raster.Height));
    }

    public static float[] ReadBand(string path, int band = 1)
    {
        using var raster = RasterDataset.Open(path);
        return raster.Read<float>(band, new RasterWindow(0, 0, raster.Width, raster.Height));
    }

    /// <summary>Recall on the changed pixels and false-alarm rate on pixels away from change.</summary>
    public (double Recall, double RoadRecall, double FalseAlarms) Score(byte[] mask)
    {
        long changed = 0, found = 0, road = 0, roadFound = 0, far = 0, falseAlarms = 0;
        for (var r = 0; r < Height; r++)
        {
            for (var c = 0; c < Width; c++)
            {
                var m = mask[r * Width + c];
                if (m == ChangeDetector.MaskNoData)
                {
                    continue;
                }
                if (WithChange && IsChanged(r, c))
                {
                    changed++;
                    found += m;
                    if (r >= RoadRow && r < RoadRow + 2)
                    {
                        road++;
                        roadFound += m;
                    }
                }
                else if (!WithChange || !NearChange(r, c))
                {
                    far++;
                    falseAlarms += m;
                }
            }
        }
        return (changed == 0 ? 0 : (double)found / changed, road == 0 ? 0 : (double)roadFound / road, (double)falseAlarms / far);
    }
}
