using SiteWatch.Core;
using SiteWatch.Core.Change;
using SiteWatch.Core.Change.Methods;
using SiteWatch.Core.Geo;
using SiteWatch.Gdal;

namespace SiteWatch.Tests.Change.Methods;

/// <summary>
/// The object-based method on a very-high-resolution true-colour pair: 0.5 m pixels of grass and soil with three
/// existing buildings whose shadows swing from one side to the other between the dates (another time of day), a
/// brighter second date (gain), and one new building with its own shadow.
/// </summary>
public class ObjectChangeTests
{
    private const int Size = 400;
    private static readonly (int R0, int C0, int H, int W)[] Existing = [(60, 60, 40, 50), (250, 80, 36, 36), (90, 260, 50, 40)];
    private static readonly (int R0, int C0, int H, int W) NewBuilding = (260, 250, 32, 40);
    /// <summary>Shadow offsets in pixels (rows, columns) of a building on each date: the sun moved from the south-east to the south-west.</summary>
    private static readonly (int Dr, int Dc)[] ShadowOffset = [(-10, -12), (-10, 12)];

    private static bool Inside((int R0, int C0, int H, int W) b, int r, int c) => r >= b.R0 && r < b.R0 + b.H && c >= b.C0 && c < b.C0 + b.W;

    private static bool InShadow((int R0, int C0, int H, int W) b, int date, int r, int c)
    {
        var (dr, dc) = ShadowOffset[date];
        // A prism's shadow: the footprint swept along the offset (sampled finely enough for these sizes).
        for (var t = 0.0; t <= 1.0; t += 0.05)
        {
            if (Inside(b, r - (int)Math.Round(dr * t), c - (int)Math.Round(dc * t)))
            {
                return !Inside(b, r, c);
            }
        }
        return false;
    }

    private static bool Shaded(int date, int r, int c) =>
        Existing.Any(b => InShadow(b, date, r, c)) || (date == 1 && InShadow(NewBuilding, 1, r, c));

    private static bool Roof(int date, int r, int c) => Existing.Any(b => Inside(b, r, c)) || (date == 1 && Inside(NewBuilding, r, c));

    /// <summary>Red, green, blue reflectance-like values (0..1) of a pixel.</summary>
    private static (double R, double G, double B) Surface(int date, int r, int c, Random random)
    {
        if (date == 1 && Inside(NewBuilding, r, c))
        {
            return (0.55, 0.22, 0.18); // a red metal roof
        }
        if (Existing.Any(b => Inside(b, r, c)))
        {
            return (0.46, 0.46, 0.47);
        }
        // Grass in the west, bare soil in the east, with texture that both dates share.
        var soil = Math.Clamp((c - 150) / 100.0, 0, 1);
        var texture = 0.04 * Math.Sin(r / 5.0) * Math.Cos(c / 7.0);
        return (0.10 + 0.22 * soil + texture, 0.16 + 0.12 * soil + texture, 0.07 + 0.10 * soil + texture);
    }

    private static string Write(TempDir dir, string name, int date)
    {
        var random = new Random(10 + date);
        var gain = date == 0 ? 1.0 : 1.15; // a brighter day
        var profile = new RasterProfile(Size, Size, 3, RasterDataType.UInt16)
        {
            GeoTransform = GeoTransform.NorthUp(371_000, 4_421_000, 0.5),
            Crs = "EPSG:32652",
            NoData = 0,
            BandDescriptions = ["blue", "green", "red"],
        };
        var path = dir.File(name);
        using var raster = RasterDataset.Create(path, profile);
        var planes = new ushort[3][];
        for (var b = 0; b < 3; b++)
        {
            planes[b] = new ushort[Size * Size];
        }
        for (var r = 0; r < Size; r++)
        {
            for (var c = 0; c < Size; c++)
            {
                var (red, green, blue) = Surface(date, r, c, random);
                if (Shaded(date, r, c))
                {
                    // Shade is lit by the sky alone: darker, and bluer.
                    (red, green, blue) = (red * 0.26, green * 0.31, blue * 0.40);
                }
                double Noisy(double v) => Math.Clamp(gain * v * 4000 + random.Next(-25, 26), 1, 60000);
                planes[0][r * Size + c] = (ushort)Noisy(blue);
                planes[1][r * Size + c] = (ushort)Noisy(green);
                planes[2][r * Size + c] = (ushort)Noisy(red);
            }
        }
        for (var b = 0; b < 3; b++)
        {
            raster.Write<ushort>(b + 1, new RasterWindow(0, 0, Size, Size), planes[b]);
        }
        return path;
    }

    private static byte[] Detect(TempDir dir, string before, string after, ChangeMethodKind method, out ChangeDetectionResult result, string tag)
    {
        using var pair = RasterPair.Open(before, after);
        result = ChangeDetector.Detect(pair, new ChangeDetectionOptions { Method = method }, dir.File($"{tag}-magnitude.tif"), dir.File($"{tag}-mask.tif"));
        using var mask = RasterDataset.Open(dir.File($"{tag}-mask.tif"));
        var values = new byte[Size * Size];
        mask.Read<byte>(1, new RasterWindow(0, 0, Size, Size), values);
        return values;
    }

    [Fact]
    public void A_new_roof_is_found_and_shadows_that_moved_with_the_sun_and_a_brighter_day_are_not_change()
    {
        using var dir = new TempDir();
        var before = Write(dir, "before.tif", 0);
        var after = Write(dir, "after.tif", 1);
        var objects = Detect(dir, before, after, ChangeMethodKind.Objects, out var result, "objects");
        var cva = Detect(dir, before, after, ChangeMethodKind.Cva, out _, "cva");

        double Share(byte[] mask, Func<int, int, bool> where)
        {
            long n = 0, changed = 0;
            for (var r = 0; r < Size; r++)
            {
                for (var c = 0; c < Size; c++)
                {
                    if (where(r, c))
                    {
                        n++;
                        changed += mask[r * Size + c] == 1 ? 1 : 0;
                    }
                }
            }
            Assert.True(n > 0);
            return (double)changed / n;
        }
        bool NearNewBuilding(int r, int c) => r >= NewBuilding.R0 - 16 && r < NewBuilding.R0 + NewBuilding.H + 4 && c >= NewBuilding.C0 - 4 && c < NewBuilding.C0 + NewBuilding.W + 16;
        // Shade that moved: pixels shaded on one date only, away from the new building and its own shadow.
        bool MovedShade(int r, int c) => Shaded(0, r, c) != Shaded(1, r, c) && !NearNewBuilding(r, c) && !Roof(0, r, c);
        bool FarFromBuildings(int r, int c) => !Existing.Any(b => r >= b.R0 - 16 && r < b.R0 + b.H + 16 && c >= b.C0 - 16 && c < b.C0 + b.W + 16) && !NearNewBuilding(r, c);

        var roof = Share(objects, (r, c) => Inside(NewBuilding, r, c));
        var moved = Share(objects, MovedShade);
        var elsewhere = Share(objects, FarFromBuildings);
        var cvaMoved = Share(cva, MovedShade);
        Assert.True(roof > 0.8, $"the new roof: {roof:P0} of its pixels found");
        Assert.True(moved < 0.15, $"shade that moved with the sun: {moved:P0} called change (CVA {cvaMoved:P0})");
        Assert.True(elsewhere < 0.01, $"open ground on a brighter day: {elsewhere:P1} called change");
        // The pixel-based method does call moved shade change: this is what the object method is for.
        Assert.True(cvaMoved > 2 * moved + 0.2, $"CVA calls {cvaMoved:P0} of the moved shade change, objects {moved:P0}");

        Assert.Equal("objects", result.Method);
        Assert.Equal("otsu-chi2", result.ThresholdMethod);
        Assert.Contains(result.Notes, n => n.Contains("true colour from bands 3, 2, 1", StringComparison.Ordinal));
        Assert.Contains(result.Notes, n => n.Contains("segments of about 16 x 16 pixels (8 m at 0.5 m a pixel)", StringComparison.Ordinal));
        Assert.Equal(["chi2", "no_change_probability", "brightness_z", "red_green_z", "blue_green_z", "texture_z", "shadow_change"], result.MagnitudeBands);
    }

    [Fact]
    public void The_chi_square_test_applies_to_objects_and_the_segment_size_must_be_positive()
    {
        using var dir = new TempDir();
        var before = Write(dir, "before.tif", 0);
        var after = Write(dir, "after.tif", 1);
        using var pair = RasterPair.Open(before, after);
        var result = ChangeDetector.Detect(pair, new ChangeDetectionOptions { Method = ChangeMethodKind.Objects, Threshold = ThresholdRule.ChiSquare, Significance = 0.001 },
            dir.File("m.tif"), dir.File("k.tif"));
        Assert.Equal(Core.Change.Methods.ChiSquare.Critical(0.001, 4), result.Threshold, 9);
        Assert.Contains("chi-square critical value", result.ThresholdReason);
        var e = Assert.Throws<SiteWatchException>(() => ChangeDetector.Detect(pair, new ChangeDetectionOptions { Method = ChangeMethodKind.Objects, SegmentMetres = 0 },
            dir.File("m2.tif"), dir.File("k2.tif")));
        Assert.Contains("segment size", e.Message);
        Assert.False(File.Exists(dir.File("k2.tif")));
    }
}
