using NetTopologySuite.Geometries;
using NetTopologySuite.Geometries.Utilities;
using SiteWatch.Demo.Plant;

namespace SiteWatch.Tests.Demo;

public sealed class DemoRendererTests
{
    private const int Blue = 0;
    private const int Red = 2;
    private const int Nir = 3;

    private static DemoPlan Plan => DemoScenes.Plan;

    private static IEnumerable<int> ClearScenes => Plan.Acquisitions.Where(a => a.CloudCoverPercent is null).Select(a => a.Index);

    [Fact]
    public void Render_gives_four_full_bands_without_nodata_zeros()
    {
        var scene = DemoScenes.Scene(0);
        Assert.Equal(Plan.Width, scene.Width);
        Assert.Equal(Plan.Height, scene.Height);
        Assert.Equal(4, scene.Bands.Length);
        foreach (var band in scene.Bands)
        {
            Assert.Equal(scene.Width * scene.Height, band.Length);
            Assert.DoesNotContain((ushort)0, band);
            Assert.True(band.Max() <= 20000);
        }

        Assert.Null(scene.CloudMask);
    }

    [Fact]
    public void Render_is_deterministic()
    {
        var cached = DemoScenes.Scene(1);
        var again = DemoRenderer.Render(Plan, 1);
        var fromNewPlan = DemoRenderer.Render(PlantScenario.Build(), 1);
        for (int b = 0; b < 4; b++)
        {
            Assert.True(cached.Bands[b].AsSpan().SequenceEqual(again.Bands[b]), $"band {b} differs between renders");
            Assert.True(cached.Bands[b].AsSpan().SequenceEqual(fromNewPlan.Bands[b]), $"band {b} differs between plans");
        }
    }

    [Fact]
    public void Render_rejects_bad_indices()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DemoRenderer.Render(Plan, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DemoRenderer.Render(Plan, Plan.Acquisitions.Count));
    }

    [Fact]
    public void Hall_roof_is_brighter_in_red_than_the_background()
    {
        var hall = DemoScenes.Inset(DemoScenes.Object("hall-1").FootprintUtm, 5);
        var yard = Utm(Box(-300, 150, 40, 40));
        var fields = Utm(Plan.Layout.VegetationProbeLocal);
        foreach (int i in ClearScenes)
        {
            double roof = DemoScenes.MeanInside(i, Red, hall);
            Assert.True(roof > 1.3 * DemoScenes.MeanInside(i, Red, yard), $"scene {i}: roof vs yard");
            Assert.True(roof > 1.5 * DemoScenes.MeanInside(i, Red, fields), $"scene {i}: roof vs fields");
        }
    }

    [Fact]
    public void NDVI_of_fields_rises_into_summer_and_falls_in_autumn()
    {
        var fields = Utm(Plan.Layout.VegetationProbeLocal);
        double Ndvi(int i)
        {
            double red = DemoScenes.MeanInside(i, Red, fields), nir = DemoScenes.MeanInside(i, Nir, fields);
            return (nir - red) / (nir + red);
        }

        int march = 0, april = 1, july = 4, october = Plan.Acquisitions.Count - 1;
        Assert.True(Ndvi(july) > Ndvi(march) + 0.25, $"July {Ndvi(july):F3} vs March {Ndvi(march):F3}");
        Assert.True(Ndvi(july) > Ndvi(april) + 0.2, $"July {Ndvi(july):F3} vs April {Ndvi(april):F3}");
        Assert.True(Ndvi(october) < Ndvi(july) - 0.15, $"October {Ndvi(october):F3} vs July {Ndvi(july):F3}");
    }

    [Fact]
    public void Shifted_scene_is_shifted_by_its_true_misregistration()
    {
        var hall = DemoScenes.Object("hall-1").FootprintUtm.EnvelopeInternal;
        int k = DemoScenes.MostShiftedClearScene();
        var shifted = Plan.Acquisitions[k];
        Assert.True(Math.Abs(shifted.ShiftXPixels) > 0.5 || Math.Abs(shifted.ShiftYPixels) > 0.5);

        double eastRef = MeasureEastEdge(0, hall), eastShifted = MeasureEastEdge(k, hall);
        double southRef = MeasureSouthEdge(0, hall), southShifted = MeasureSouthEdge(k, hall);

        // Absolute: where the truth says the edge must be on each scene's true grid.
        Assert.Equal(Plan.TruePixelOf(hall.MaxX, hall.MinY, 0).Col, eastRef, 0.2);
        Assert.Equal(Plan.TruePixelOf(hall.MaxX, hall.MinY, k).Col, eastShifted, 0.2);
        Assert.Equal(Plan.TruePixelOf(hall.MaxX, hall.MinY, 0).Row, southRef, 0.2);
        Assert.Equal(Plan.TruePixelOf(hall.MaxX, hall.MinY, k).Row, southShifted, 0.2);

        // Relative: content moves by minus the shift (pixel centres sample the ground at col + 0.5 + shift).
        Assert.Equal(-shifted.ShiftXPixels, eastShifted - eastRef, 0.2);
        Assert.Equal(-shifted.ShiftYPixels, southShifted - southRef, 0.2);
    }

    [Fact]
    public void Crane_is_visible_before_its_removal_and_gone_after()
    {
        var crane = DemoScenes.Object("crane-1");
        var c = crane.FootprintUtm.Centroid;
        // Along the girder, clear of the darker trolley that sits east of the centre.
        var girder = Utm(Box(c.X - Plan.CentreEasting - 9, c.Y - Plan.CentreNorthing, 22, 1.0));
        int before = Plan.Acquisitions.Last(a => crane.IsPresentOn(DateOnly.FromDateTime(a.AcquiredUtc))).Index;
        int after = before + 1;
        for (int i = 0; i <= before; i++)
        {
            Assert.True(DemoScenes.MeanInside(i, Red, girder) > 1.4 * DemoScenes.MeanInside(after, Red, girder), $"scene {i}");
        }
    }

    [Fact]
    public void Tunnel_mouth_is_dark()
    {
        var look = Plan.Features.Single(f => f.Truth.Class == TruthClasses.TunnelEntrance).Look;
        var mouth = DemoScenes.Inset(Utm(look.Parts[0]), 1.2);
        var apron = Utm(Box(-120, 225, 30, 10));
        foreach (int i in ClearScenes.Where(i => !DemoScenes.Object("crane-1").IsPresentOn(Plan.AcquisitionDate(i))))
        {
            Assert.True(DemoScenes.MeanInside(i, Red, mouth) < 0.4 * DemoScenes.MeanInside(i, Red, apron), $"scene {i}");
        }
    }

    [Fact]
    public void New_building_brightens_as_it_is_built()
    {
        var building = Plan.Objects.Single(o => o.Class == TruthClasses.NewAssemblyBuilding);
        var inside = DemoScenes.Inset(building.FootprintUtm, 4);
        int bare = 0;
        int frame = ClearScenes.First(i => building.StageOn(Plan.AcquisitionDate(i)) == "frame");
        int roof = ClearScenes.Last(i => building.StageOn(Plan.AcquisitionDate(i)) == "roof");
        double r0 = DemoScenes.MeanInside(bare, Red, inside);
        double rFrame = DemoScenes.MeanInside(frame, Red, inside);
        double rRoof = DemoScenes.MeanInside(roof, Red, inside);
        Assert.True(r0 < rFrame && rFrame < rRoof, $"{r0:F0} < {rFrame:F0} < {rRoof:F0}");
    }

    [Fact]
    public void Hall_shadow_falls_away_from_the_sun_and_is_dark()
    {
        var hall = DemoScenes.Object("hall-1");
        foreach (int i in ClearScenes)
        {
            var a = Plan.Acquisitions[i];
            double az = a.SunAzimuthDeg * Math.PI / 180, len = hall.HeightMetres / Math.Tan(a.SunElevationDeg * Math.PI / 180);
            double dx = -Math.Sin(az) * len, dy = -Math.Cos(az) * len;
            var moved = AffineTransformation.TranslationInstance(dx, dy).Transform(hall.FootprintUtm.Copy());
            var shadow = hall.FootprintUtm.Union(moved).ConvexHull().Difference(hall.FootprintUtm.Buffer(2)).Buffer(-1.5);
            // The same shape mirrored to the sunny side of the hall.
            var mirrored = AffineTransformation.TranslationInstance(-dx, -dy).Transform(hall.FootprintUtm.Copy());
            var sunny = hall.FootprintUtm.Union(mirrored).ConvexHull().Difference(hall.FootprintUtm.Buffer(2)).Buffer(-1.5);
            double dark = DemoScenes.MeanInside(i, Red, shadow), lit = DemoScenes.MeanInside(i, Red, sunny);
            Assert.True(dark < 0.6 * lit, $"scene {i}: shadow {dark:F0} vs sunny side {lit:F0}");
        }
    }

    [Fact]
    public void Haze_adds_path_radiance_strongest_in_blue()
    {
        var road = DemoScenes.Inset(DemoScenes.Object("road-public").FootprintUtm.Intersection(Utm(Box(-300, -420, 300, 40))), 1.5);
        var byHaze = ClearScenes.OrderBy(i => Plan.Acquisitions[i].HazeLevel).ToArray();
        int clear = byHaze[0], hazy = byHaze[^1];
        Assert.True(Plan.Acquisitions[hazy].HazeLevel > Plan.Acquisitions[clear].HazeLevel + 0.2);
        double blueGain = DemoScenes.MeanInside(hazy, Blue, road) - DemoScenes.MeanInside(clear, Blue, road);
        double nirGain = DemoScenes.MeanInside(hazy, Nir, road) - DemoScenes.MeanInside(clear, Nir, road);
        Assert.True(blueGain > 150, $"blue rose by {blueGain:F0}");
        Assert.True(blueGain > nirGain + 100, $"blue {blueGain:F0} vs nir {nirGain:F0}");
    }

    [Fact]
    public void Clouded_scene_has_bright_soft_clouds_and_shadows_in_its_mask()
    {
        var acquisition = Assert.Single(Plan.Acquisitions, a => a.CloudCoverPercent is not null);
        var scene = DemoScenes.Scene(acquisition.Index);
        var mask = Assert.IsType<byte[]>(scene.CloudMask);
        Assert.Equal(scene.Width * scene.Height, mask.Length);
        Assert.All(mask, m => Assert.True(m <= 1));

        int bright = 0, brightMasked = 0, darkMasked = 0, maskedInAoi = 0, aoiPixels = 0, softEdge = 0;
        var locator = new NetTopologySuite.Algorithm.Locate.IndexedPointInAreaLocator(Plan.AoiUtm);
        for (int row = 0; row < scene.Height; row++)
        {
            for (int col = 0; col < scene.Width; col++)
            {
                int i = row * scene.Width + col;
                ushort blue = scene.Bands[Blue][i];
                if (blue > 5000)
                {
                    bright++;
                    brightMasked += mask[i];
                }
                else if (mask[i] == 1 && blue < 1500)
                {
                    darkMasked++;
                }

                if (mask[i] == 1 && blue is > 2500 and < 4500)
                {
                    softEdge++;
                }

                if (row % 4 == 0 && col % 4 == 0)
                {
                    var (x, y) = (Plan.OriginX + (col + 0.5) * Plan.Gsd, Plan.OriginY - (row + 0.5) * Plan.Gsd);
                    if (locator.Locate(new Coordinate(x, y)) == Location.Interior)
                    {
                        aoiPixels++;
                        maskedInAoi += mask[i];
                    }
                }
            }
        }

        Assert.True(bright > 20000, $"only {bright} bright cloud pixels");
        Assert.True(brightMasked >= 0.99 * bright, "bright cloud pixels outside the mask");
        Assert.True(darkMasked > 2000, $"only {darkMasked} dark cloud-shadow pixels in the mask");
        Assert.True(softEdge > 500, $"only {softEdge} semi-transparent edge pixels");
        Assert.True(acquisition.CloudCoverPercent > 0);
        // The mask holds clouds and shadows, so it covers at least the cloud share of the AOI.
        Assert.True(100.0 * maskedInAoi / aoiPixels >= 0.9 * acquisition.CloudCoverPercent!.Value,
            $"mask {100.0 * maskedInAoi / aoiPixels:F1}% vs cloud cover {acquisition.CloudCoverPercent}%");
        Assert.True(100.0 * maskedInAoi / aoiPixels < 90);

        foreach (int i in ClearScenes.Take(2))
        {
            Assert.True(DemoScenes.Scene(i).Bands[Blue].Count(v => v > 5000) < 100, $"scene {i} has cloud-bright pixels");
        }
    }

    // East edge of the hall: area-based sub-pixel edge estimate (the sum of normalised coverages across the
    // edge equals the covered length for any symmetric blur), averaged over rows along the edge.
    private static double MeasureEastEdge(int sceneIndex, Envelope hall)
    {
        var scene = DemoScenes.Scene(sceneIndex);
        var (col, _) = Plan.TruePixelOf(hall.MaxX, hall.MinY, sceneIndex);
        var (_, rowTop) = Plan.TruePixelOf(hall.MaxX, hall.MaxY - 20, sceneIndex);
        var (_, rowBottom) = Plan.TruePixelOf(hall.MaxX, hall.MinY + 20, sceneIndex);
        int k0 = (int)Math.Floor(col);
        var estimates = new List<double>();
        for (int row = (int)rowTop; row <= (int)rowBottom; row++)
        {
            double V(int c) => scene.Value(Red, c, row);
            double inside = (V(k0 - 4) + V(k0 - 3)) / 2, outside = (V(k0 + 3) + V(k0 + 4)) / 2;
            double edge = k0 - 2;
            for (int c = k0 - 2; c <= k0 + 2; c++)
            {
                edge += (V(c) - outside) / (inside - outside);
            }

            estimates.Add(edge);
        }

        return estimates.Average();
    }

    // South edge: same along columns, on columns that fall between the roof's skylight bands.
    private static double MeasureSouthEdge(int sceneIndex, Envelope hall)
    {
        var scene = DemoScenes.Scene(sceneIndex);
        var a = Plan.Acquisitions[sceneIndex];
        var (colLeft, row) = Plan.TruePixelOf(hall.MinX + 20, hall.MinY, sceneIndex);
        var (colRight, _) = Plan.TruePixelOf(hall.MaxX - 20, hall.MinY, sceneIndex);
        int k0 = (int)Math.Floor(row);
        var estimates = new List<double>();
        for (int col = (int)colLeft; col <= (int)colRight; col++)
        {
            double along = Plan.OriginX + (col + 0.5 + a.ShiftXPixels) * Plan.Gsd - hall.MinX;
            if (along % 12 is < 4.5 or > 9.5)
            {
                continue;
            }

            double V(int r) => scene.Value(Red, col, r);
            double inside = (V(k0 - 4) + V(k0 - 3)) / 2, outside = (V(k0 + 3) + V(k0 + 4)) / 2;
            double edge = k0 - 2;
            for (int r = k0 - 2; r <= k0 + 2; r++)
            {
                edge += (V(r) - outside) / (inside - outside);
            }

            estimates.Add(edge);
        }

        Assert.True(estimates.Count > 40);
        return estimates.Average();
    }

    private static Polygon Box(double cx, double cy, double width, double height) =>
        (Polygon)new GeometryFactory().ToGeometry(new Envelope(cx - width / 2, cx + width / 2, cy - height / 2, cy + height / 2));

    /// <summary>Local plant metres to UTM.</summary>
    private static Geometry Utm(Geometry local) =>
        AffineTransformation.TranslationInstance(Plan.CentreEasting, Plan.CentreNorthing).Transform(local.Copy());

    private static Geometry Utm(Shape local)
    {
        var f = new GeometryFactory();
        var ring = local.Rings[0];
        var coords = Enumerable.Range(0, ring.Length / 2 + 1)
            .Select(k => new Coordinate(ring[2 * (k % (ring.Length / 2))], ring[2 * (k % (ring.Length / 2)) + 1]))
            .ToArray();
        return Utm(f.CreatePolygon(coords));
    }
}
