using NetTopologySuite.Geometries;
using SiteWatch.Demo.Plant;

namespace SiteWatch.Tests.Demo;

public sealed class PlantScenarioTests
{
    private static DemoPlan Plan => DemoScenes.Plan;

    private static DateOnly[] Dates => Plan.Acquisitions.Select(a => DateOnly.FromDateTime(a.AcquiredUtc)).ToArray();

    [Fact]
    public void Acquisitions_are_at_least_six_chronological_and_roughly_monthly()
    {
        var acquisitions = Plan.Acquisitions;
        Assert.True(acquisitions.Count >= 6);
        for (int i = 0; i < acquisitions.Count; i++)
        {
            Assert.Equal(i, acquisitions[i].Index);
            Assert.Equal(DateTimeKind.Utc, acquisitions[i].AcquiredUtc.Kind);
        }

        for (int i = 1; i < acquisitions.Count; i++)
        {
            double days = (acquisitions[i].AcquiredUtc - acquisitions[i - 1].AcquiredUtc).TotalDays;
            Assert.InRange(days, 20, 45);
        }
    }

    [Fact]
    public void Acquisitions_have_plausible_sun_and_haze_and_shifts_from_zero_to_about_three_pixels()
    {
        var acquisitions = Plan.Acquisitions;
        Assert.Equal(0, acquisitions[0].ShiftXPixels);
        Assert.Equal(0, acquisitions[0].ShiftYPixels);
        var magnitudes = acquisitions.Skip(1).Select(a => Math.Sqrt(a.ShiftXPixels * a.ShiftXPixels + a.ShiftYPixels * a.ShiftYPixels)).ToArray();
        Assert.All(magnitudes, m => Assert.InRange(m, 0.05, 3.5));
        Assert.Contains(magnitudes, m => m < 1);
        Assert.Contains(magnitudes, m => m > 2);
        foreach (var a in acquisitions)
        {
            // Morning pass at ~40N between March and October.
            Assert.InRange(a.SunElevationDeg, 30, 75);
            Assert.InRange(a.SunAzimuthDeg, 100, 170);
            Assert.InRange(a.HazeLevel, 0, 1);
        }

        // Summer sun stands higher than in March and October.
        var june = acquisitions.Single(a => a.AcquiredUtc.Month == 6);
        Assert.True(june.SunElevationDeg > acquisitions[0].SunElevationDeg + 15);
        Assert.True(june.SunElevationDeg > acquisitions[^1].SunElevationDeg + 15);
    }

    [Fact]
    public void Grid_has_sub_metre_GSD_and_AOI_sits_well_inside_the_scene()
    {
        Assert.InRange(Plan.Gsd, 0.8, 1.0);
        Assert.InRange(Plan.Width, 1200, 1600);
        Assert.InRange(Plan.Height, 1200, 1600);
        Assert.Equal(32652, DemoPlan.Epsg);
        Assert.True(Plan.AoiUtm.IsValid);
        Assert.Equal(DemoPlan.Epsg, Plan.AoiUtm.SRID);
        var scene = Plan.SceneExtentUtm;
        var aoi = Plan.AoiUtm.EnvelopeInternal;
        Assert.True(aoi.MinX - scene.MinX >= 100);
        Assert.True(scene.MaxX - aoi.MaxX >= 100);
        Assert.True(aoi.MinY - scene.MinY >= 100);
        Assert.True(scene.MaxY - aoi.MaxY >= 100);
        Assert.Equal(new[] { "blue", "green", "red", "nir" }, Plan.BandNames);
        Assert.Equal(new[] { 0.49, 0.56, 0.665, 0.842 }, Plan.BandWavelengthsMicrometres);
    }

    [Fact]
    public void Site_is_near_hamhung()
    {
        var (lon, lat) = PlantScenario.Utm52ToWgs84(Plan.CentreEasting, Plan.CentreNorthing);
        Assert.InRange(lon, 127.49, 127.51);
        Assert.InRange(lat, 39.92, 39.94);
    }

    [Fact]
    public void Every_class_is_represented_and_footprints_are_valid_UTM_polygons_inside_the_scene()
    {
        Assert.Equal(TruthClasses.All.OrderBy(c => c), Plan.Objects.Select(o => o.Class).Distinct().OrderBy(c => c));
        Assert.Equal(Plan.Objects.Count, Plan.Objects.Select(o => o.Id).Distinct().Count());
        var extent = Plan.SceneExtentUtm;
        foreach (var o in Plan.Objects)
        {
            Assert.True(o.FootprintUtm.IsValid, o.Id);
            Assert.Equal(DemoPlan.Epsg, o.FootprintUtm.SRID);
            Assert.True(o.FootprintUtm.Area > 0, o.Id);
            Assert.True(extent.Contains(o.FootprintUtm.EnvelopeInternal), o.Id);
            Assert.True(o.HeightMetres >= 0, o.Id);
        }
    }

    [Fact]
    public void New_building_ends_at60_to70_percent_of_the_hall_footprint()
    {
        var hall = DemoScenes.Object("hall-1");
        var building = Plan.Objects.Single(o => o.Class == TruthClasses.NewAssemblyBuilding);
        double ratio = building.FootprintUtm.Area / hall.FootprintUtm.Area;
        Assert.InRange(ratio, 0.60, 0.70);
        Assert.Equal(0.64, ratio, 1e-9);
        Assert.Equal(16200, hall.FootprintUtm.Area, 1e-6);
        Assert.True(hall.AppearedOn is null && hall.RemovedOn is null);
        Assert.Equal("roof", building.StageOn(Dates[^1]));
    }

    [Fact]
    public void New_building_goes_through_its_stages_in_order_one_acquisition_each()
    {
        var building = Plan.Objects.Single(o => o.Class == TruthClasses.NewAssemblyBuilding);
        Assert.Equal(new[] { "cleared", "foundation", "frame", "roofing", "roof" }, building.Stages.Select(s => s.Stage));
        Assert.True(building.Stages.Zip(building.Stages.Skip(1)).All(p => p.First.From < p.Second.From));
        Assert.Null(building.StageOn(Dates[0]));
        var seen = Dates.Select(building.StageOn).Where(s => s is not null).Distinct().ToArray();
        Assert.Equal(new[] { "cleared", "foundation", "frame", "roofing", "roof" }, seen);

        var changes = Plan.Changes.Where(c => c.ObjectId == building.Id).ToArray();
        Assert.Equal(ChangeKinds.Appeared, changes[0].Kind);
        Assert.Equal(4, changes.Count(c => c.Kind == ChangeKinds.Altered));
        Assert.All(changes, c => Assert.Equal(building.FootprintUtm.Area, c.AreaSquareMetres, 1e-9));
    }

    [Fact]
    public void Crane_stands_in_the_first_scenes_and_is_removed_mid_series()
    {
        var crane = Plan.Objects.Single(o => o.Class == TruthClasses.BridgeCrane);
        var tunnel = Plan.Objects.Single(o => o.Class == TruthClasses.TunnelEntrance);
        Assert.True(crane.IsPresentOn(Dates[0]));
        Assert.False(crane.IsPresentOn(Dates[^1]));
        Assert.True(tunnel.IsPresentOn(Dates[0]) && tunnel.IsPresentOn(Dates[^1]));
        // In front of the tunnel mouth: within 20 m of it.
        Assert.True(crane.FootprintUtm.Distance(tunnel.FootprintUtm) < 20);

        var removal = Assert.Single(Plan.Changes, c => c.ObjectId == crane.Id);
        Assert.Equal(ChangeKinds.Removed, removal.Kind);
        int afterIndex = Array.IndexOf(Dates, removal.After);
        Assert.InRange(afterIndex, 2, Dates.Length - 2);
        Assert.True(crane.RemovedOn > removal.Before && crane.RemovedOn <= removal.After);
    }

    [Theory]
    [InlineData(TruthClasses.Vehicle)]
    [InlineData(TruthClasses.FreightCar)]
    public void Vehicle_and_freight_car_counts_never_drop_and_grow_overall(string objectClass)
    {
        var counts = Dates.Select(d => Plan.CountOn(objectClass, d)).ToArray();
        for (int i = 1; i < counts.Length; i++)
        {
            Assert.True(counts[i] >= counts[i - 1], $"{objectClass}: {string.Join(",", counts)}");
        }

        Assert.True(counts[^1] >= 2 * Math.Max(1, counts[0]), $"{objectClass}: {string.Join(",", counts)}");
    }

    [Fact]
    public void Counts_per_date_follow_the_scenario()
    {
        // The reported case: everything accumulates month by month (removals are replaced by newcomers).
        Assert.Equal(new[] { 5, 7, 9, 12, 16, 19, 23, 28 }, Dates.Select(d => Plan.CountOn(TruthClasses.Vehicle, d)));
        Assert.Equal(new[] { 2, 2, 4, 7, 9, 12, 15, 18 }, Dates.Select(d => Plan.CountOn(TruthClasses.FreightCar, d)));
        Assert.Equal(new[] { 3, 5, 8, 11, 14, 18, 21, 25 }, Dates.Select(d => Plan.CountOn(TruthClasses.MaterialPile, d)));
        Assert.Equal(new[] { 0, 0, 4, 8, 12, 16, 16, 16 }, Dates.Select(d => Plan.CountOn(TruthClasses.WorkerHousing, d)));
        Assert.Equal(new[] { 1, 1, 1, 1, 0, 0, 0, 0 }, Dates.Select(d => Plan.CountOn(TruthClasses.BridgeCrane, d)));
        Assert.Equal(27, Plan.Objects.Count(o => o.Class == TruthClasses.MaterialPile));
    }

    [Fact]
    public void Pile_and_housing_counts_grow_overall()
    {
        var piles = Dates.Select(d => Plan.CountOn(TruthClasses.MaterialPile, d)).ToArray();
        var housing = Dates.Select(d => Plan.CountOn(TruthClasses.WorkerHousing, d)).ToArray();
        Assert.True(piles[^1] > 3 * piles[0], string.Join(",", piles));
        Assert.Equal(0, housing[0]);
        Assert.True(housing[^1] >= 8, string.Join(",", housing));
        // Some piles are used up along the way: removals exist but do not stop the growth.
        Assert.Contains(Plan.Changes, c => c.Class == TruthClasses.MaterialPile && c.Kind == ChangeKinds.Removed);
    }

    [Fact]
    public void Changes_agree_with_presence_for_every_class_and_pair()
    {
        for (int i = 1; i < Dates.Length; i++)
        {
            var pair = Plan.ChangesBefore(i);
            Assert.All(pair, c => Assert.Equal(Dates[i - 1], c.Before));
            foreach (string cls in TruthClasses.All)
            {
                int delta = Plan.CountOn(cls, Dates[i]) - Plan.CountOn(cls, Dates[i - 1]);
                int appeared = pair.Count(c => c.Class == cls && c.Kind == ChangeKinds.Appeared);
                int removed = pair.Count(c => c.Class == cls && c.Kind == ChangeKinds.Removed);
                Assert.Equal(delta, appeared - removed);
            }
        }

        Assert.All(Plan.Changes, c => Assert.Contains(c.Kind, new[] { ChangeKinds.Appeared, ChangeKinds.Removed, ChangeKinds.Altered }));
    }

    [Fact]
    public void Movable_objects_never_overlap_while_they_coexist()
    {
        foreach (var date in Dates)
        {
            var present = Plan.ObjectsPresentOn(date)
                .Where(o => o.Class is TruthClasses.Vehicle or TruthClasses.FreightCar or TruthClasses.MaterialPile)
                .ToArray();
            for (int a = 0; a < present.Length; a++)
            {
                for (int b = a + 1; b < present.Length; b++)
                {
                    Assert.False(present[a].FootprintUtm.Intersects(present[b].FootprintUtm), $"{present[a].Id} x {present[b].Id} on {date}");
                }
            }
        }
    }

    [Fact]
    public void Freight_cars_stand_on_the_rail_spur_and_vehicles_are_truck_sized()
    {
        var rail = Plan.Objects.Single(o => o.Class == TruthClasses.RailSpur).FootprintUtm;
        foreach (var car in Plan.Objects.Where(o => o.Class == TruthClasses.FreightCar))
        {
            Assert.Equal(42, car.FootprintUtm.Area, 1e-6);
            Assert.True(rail.Buffer(0.5).Contains(car.FootprintUtm.Centroid), car.Id);
        }

        foreach (var vehicle in Plan.Objects.Where(o => o.Class == TruthClasses.Vehicle))
        {
            Assert.InRange(vehicle.FootprintUtm.Area, 9, 14);
            Assert.True(Plan.AoiUtm.Contains(vehicle.FootprintUtm), vehicle.Id);
        }
    }

    [Fact]
    public void Exactly_one_scene_is_partly_clouded()
    {
        var clouded = Assert.Single(Plan.Acquisitions, a => a.CloudCoverPercent is not null);
        Assert.InRange(clouded.CloudCoverPercent!.Value, 3, 60);
    }

    [Fact]
    public void Build_is_deterministic_and_the_seed_matters()
    {
        var a = PlantScenario.Build(42);
        var b = PlantScenario.Build(42);
        var c = PlantScenario.Build(7);
        Assert.Equal(a.Acquisitions, b.Acquisitions);
        Assert.Equal(a.Objects.Select(Describe), b.Objects.Select(Describe));
        Assert.Equal(a.Changes.Select(ch => (ch.Before, ch.After, ch.ObjectId, ch.Kind)), b.Changes.Select(ch => (ch.Before, ch.After, ch.ObjectId, ch.Kind)));
        Assert.NotEqual(a.Objects.Select(Describe), c.Objects.Select(Describe));

        static string Describe(TruthObject o) => $"{o.Id} {o.Class} {o.FootprintUtm.AsText()} {o.AppearedOn} {o.RemovedOn} {string.Join(";", o.Stages)}";
    }

    [Fact]
    public void True_pixel_of_applies_the_shift_convention()
    {
        var plan = Plan;
        int k = DemoScenes.MostShiftedClearScene();
        var a = plan.Acquisitions[k];
        double x = plan.OriginX + 100.25 * plan.Gsd, y = plan.OriginY - 200.75 * plan.Gsd;
        var (col, row) = plan.TruePixelOf(x, y, k);
        Assert.Equal(100.25 - a.ShiftXPixels, col, 1e-6);
        Assert.Equal(200.75 - a.ShiftYPixels, row, 1e-6);
        Assert.Equal(new[] { plan.OriginX, plan.Gsd, 0, plan.OriginY, 0, -plan.Gsd }, plan.GeoTransform);
    }

    [Fact]
    public void Footprints_are_straight_translations_of_the_local_layout()
    {
        // The hall is 180 x 90 m, axis-aligned, so its UTM envelope must measure exactly that.
        var env = DemoScenes.Object("hall-1").FootprintUtm.EnvelopeInternal;
        Assert.Equal(180, env.Width, 1e-9);
        Assert.Equal(90, env.Height, 1e-9);
        Assert.IsType<Polygon>(DemoScenes.Object("hall-1").FootprintUtm);
    }
}
