using SiteWatch.Video.Geo;
using Xunit.Abstractions;

namespace SiteWatch.Video.Tests.Geo;

/// <summary>Rays against GeoTIFF DEMs with known analytic surfaces written by <see cref="SyntheticDem"/>.</summary>
public sealed class DemFootprintTests(ITestOutputHelper output) : IDisposable
{
    private const double Lat0 = Poses.Latitude;
    private const double Lon0 = Poses.Longitude;

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>An oblique camera 1500 m above and south-west of the origin, looking north-east and down.</summary>
    private static CameraPose ObliquePose(double heightAboveEllipsoid = 1700) => new()
    {
        SensorLatitude = Wgs84.FromEnu(new GeoPoint(Lat0, Lon0, 0), new Vec3(-700, -900, 0)).Latitude,
        SensorLongitude = Wgs84.FromEnu(new GeoPoint(Lat0, Lon0, 0), new Vec3(-700, -900, 0)).Longitude,
        SensorHeight = heightAboveEllipsoid,
        SensorHeightReference = HeightReference.Ellipsoid,
        PlatformHeading = 38,
        PlatformPitch = 2,
        PlatformRoll = -3,
        SensorRelativeElevation = -52,
        SensorRelativeAzimuth = 0,
        SensorRelativeRoll = 4,
        HorizontalFov = 40,
        VerticalFov = 2 * Math.Atan(Math.Tan(20 * Math.PI / 180) * 480 / 640) * 180 / Math.PI,
        FrameWidth = 640,
        FrameHeight = 480,
    };

    [Fact]
    public void Tilted_plane_DEM_gives_the_closed_form_intersection()
    {
        const double h0 = 200, slopeEast = 0.3, slopeNorth = -0.2;
        var path = _temp.File("plane.tif");
        SyntheticDem.WriteGeoTiff(path, DemGrid.Geographic(Lat0, Lon0, 3000, 30), SyntheticDem.TangentPlane(Lat0, Lon0, h0, slopeEast, slopeNorth));
        using var dem = DemTerrain.Open(path, new DemOptions { VerticalDatum = HeightReference.Ellipsoid });
        var pose = ObliquePose();
        var camera = CameraModel.FromPose(pose);
        var locator = new FrameGeolocator(camera, dem);

        // The plane in the ENU frame at its origin: n . p = 0 with n = (-sE, -sN, 1).
        var origin = new GeoPoint(Lat0, Lon0, h0);
        var originEcef = Wgs84.ToEcef(origin);
        var toEnu = Wgs84.EnuToEcef(Lat0, Lon0).Transpose();
        var n = new Vec3(-slopeEast, -slopeNorth, 1);
        var o = toEnu * (camera.PositionEcef - originEcef);
        var worst = 0.0;
        foreach (var (c, r) in new[] { (0.0, 0.0), (640.0, 0.0), (640.0, 480.0), (0.0, 480.0), (320.0, 240.0), (100.5, 377.25) })
        {
            var d = toEnu * camera.RayDirection(c, r);
            var t = -n.Dot(o) / n.Dot(d);
            var expected = originEcef + Wgs84.EnuToEcef(Lat0, Lon0) * (o + t * d);
            var hit = locator.PixelToGround(c, r);
            Assert.True(hit.IsHit, $"pixel ({c}, {r}): {hit.Status}");
            Assert.Equal(TerrainSource.Dem, hit.Source);
            var error = (hit.Ecef - expected).Length;
            worst = Math.Max(worst, error);
            Assert.True(error < 0.02, $"pixel ({c}, {r}): {error:0.0000} m from the plane intersection");
        }

        // A half-pixel slip in the DEM georeference would move heights by slope x 15 m = 4.5 m: far beyond this.
        output.WriteLine($"tilted plane: worst distance to the closed-form intersection {worst * 1000:0.00} mm; {dem.TilesRead} windows, {dem.PixelsRead} pixels read");
    }

    [Fact]
    public void Flat_DEM_agrees_with_the_constant_surface_and_the_MSL_datum_is_applied()
    {
        // A flat DEM at 300 m MSL and a ConstantTerrain at 300 m MSL must give the same footprint to the millimetre
        // level: the DEM path (tiles, geoid conversion per pixel, bilinear sampling) against the analytic one.
        var path = _temp.File("flat.tif");
        SyntheticDem.WriteGeoTiff(path, DemGrid.Geographic(Lat0, Lon0, 4000, 30), SyntheticDem.Flat(300));
        using var dem = DemTerrain.Open(path);
        var pose = ObliquePose();
        var withDem = new FrameGeolocator(CameraModel.FromPose(pose), dem).ComputeFootprint();
        var flat = new FrameGeolocator(CameraModel.FromPose(pose), new ConstantTerrain(300, HeightReference.Msl)).ComputeFootprint();
        Assert.True(withDem.IsComplete && flat.IsComplete);
        Assert.False(withDem.UsedFlatTerrain);
        var worst = withDem.Perimeter.Zip(flat.Perimeter, (a, b) => (a.Hit.Ecef - b.Hit.Ecef).Length).Max();
        // Tolerance: the geoid is interpolated per DEM pixel then bilinearly between them, vs exactly at the point.
        Assert.True(worst < 0.01, $"DEM vs constant: {worst:0.0000} m");
        var n = GeoidModel.Egm96OrZero.Undulation(withDem.Centre.Point.Latitude, withDem.Centre.Point.Longitude);
        Assert.Equal(300 + n, withDem.Centre.Point.HeightAboveEllipsoid, 2);
        output.WriteLine($"flat DEM vs constant surface: worst {worst * 1000:0.00} mm; N = {n:0.00} m ({GeoidModel.Egm96OrZero})");
    }

    [Fact]
    public void Pixel_ground_pixel_round_trip_over_a_hill_is_below_a_tenth_of_a_pixel()
    {
        var path = _temp.File("hill.tif");
        SyntheticDem.WriteGeoTiff(path, DemGrid.Geographic(Lat0, Lon0, 4000, 30), SyntheticDem.GaussianHill(Lat0, Lon0, 150, 400, 600));
        using var dem = DemTerrain.Open(path);
        var pose = ObliquePose(1800) with { SensorHeightReference = HeightReference.Msl };
        var locator = new FrameGeolocator(CameraModel.FromPose(pose), dem);
        var worst = 0.0;
        var count = 0;
        for (var c = 0.0; c <= 640; c += 80)
        {
            for (var r = 0.0; r <= 480; r += 60)
            {
                var hit = locator.PixelToGround(c, r);
                Assert.True(hit.IsHit, $"({c}, {r}) {hit.Status}");
                var back = locator.GroundToPixel(hit.Point.Latitude, hit.Point.Longitude);
                if (back.Status == GroundToPixelStatus.Occluded)
                {
                    continue;
                }

                Assert.Equal(GroundToPixelStatus.Visible, back.Status);
                worst = Math.Max(worst, Math.Sqrt((back.Column - c) * (back.Column - c) + (back.Row - r) * (back.Row - r)));
                count++;
            }
        }

        Assert.True(count > 60);
        Assert.True(worst < 0.1, $"worst round trip {worst} px");
        output.WriteLine($"hill round trip over {count} pixels: worst {worst:0.00000} px");
    }

    [Fact]
    public void Points_hidden_behind_a_hill_are_reported_occluded()
    {
        var path = _temp.File("ridge.tif");
        SyntheticDem.WriteGeoTiff(path, DemGrid.Geographic(Lat0, Lon0, 5000, 20), SyntheticDem.GaussianHill(Lat0, Lon0, 0, 500, 300));
        using var dem = DemTerrain.Open(path, new DemOptions { VerticalDatum = HeightReference.Ellipsoid });
        var sensor = Wgs84.FromEnu(new GeoPoint(Lat0, Lon0, 0), new Vec3(-3000, 0, 0));
        var pose = new CameraPose
        {
            SensorLatitude = sensor.Latitude, SensorLongitude = sensor.Longitude, SensorHeight = 300,
            SensorHeightReference = HeightReference.Ellipsoid, PlatformHeading = 90, SensorRelativeElevation = -5,
            HorizontalFov = 30, FrameWidth = 640, FrameHeight = 480,
        };
        var locator = new FrameGeolocator(CameraModel.FromPose(pose), dem);
        var hidden = Wgs84.FromEnu(new GeoPoint(Lat0, Lon0, 0), new Vec3(800, 0, 0));
        var result = locator.GroundToPixel(hidden.Latitude, hidden.Longitude);
        Assert.Equal(GroundToPixelStatus.Occluded, result.Status);
        Assert.True(result.InFrame);
        var seen = Wgs84.FromEnu(new GeoPoint(Lat0, Lon0, 0), new Vec3(-400, 100, 0));
        Assert.Equal(GroundToPixelStatus.Visible, locator.GroundToPixel(seen.Latitude, seen.Longitude).Status);
    }

    [Fact]
    public void DEM_that_misses_the_footprint_is_reported_and_the_flat_fallback_is_used()
    {
        // A DEM 20 km east of where the camera looks.
        var far = Wgs84.FromEnu(new GeoPoint(Lat0, Lon0, 0), new Vec3(20_000, 0, 0));
        var path = _temp.File("elsewhere.tif");
        SyntheticDem.WriteGeoTiff(path, DemGrid.Geographic(far.Latitude, far.Longitude, 1000, 30), SyntheticDem.Flat(900));
        using var dem = DemTerrain.Open(path);
        var pose = Poses.Nadir(2000) with { SensorHeightReference = HeightReference.Msl, FrameCenterElevationMsl = 250 };
        var footprint = FrameGeolocator.ForFrame(pose, dem).ComputeFootprint();
        Assert.True(footprint.IsComplete);
        Assert.True(footprint.UsedFlatTerrain);
        Assert.All(footprint.Perimeter, p => Assert.Equal(TerrainSource.FallbackOutsideDem, p.Hit.Source));
        var warning = Assert.Single(footprint.Warnings, w => w.Kind == FootprintWarningKind.DemNotCovering);
        Assert.Contains("upper-left corner", warning.Message);
        Assert.Contains("tag 25", footprint.TerrainDescription);
        // The fallback is the frame-centre elevation: 1750 m below a nadir camera.
        Assert.Equal(1750, footprint.Centre.Hit.Range, 1);
        output.WriteLine($"{warning}\nterrain: {footprint.TerrainDescription}");

        // Without any fallback the rays find no terrain at all, and say so.
        var bare = new FrameGeolocator(CameraModel.FromPose(pose), dem, new GeolocationOptions { RayCast = new RayCastOptions { MaxRangeMetres = 50_000 } }).ComputeFootprint();
        Assert.Empty(bare.Polygon);
        Assert.Contains(bare.Warnings, w => w.Kind == FootprintWarningKind.NoTerrain);
    }

    [Fact]
    public void DEM_covering_half_the_footprint_mixes_DEM_and_fallback()
    {
        // DEM west of the sensor only: the west half of a nadir footprint lands on it, the east half on the fallback.
        var west = Wgs84.FromEnu(new GeoPoint(Lat0, Lon0, 0), new Vec3(-1500, 0, 0));
        var path = _temp.File("west.tif");
        SyntheticDem.WriteGeoTiff(path, DemGrid.Geographic(west.Latitude, west.Longitude, 1500, 30), SyntheticDem.Flat(100));
        using var dem = DemTerrain.Open(path, new DemOptions { VerticalDatum = HeightReference.Ellipsoid });
        var pose = Poses.Nadir(1100) with { FrameCenterHeightAboveEllipsoid = 0 };
        var footprint = FrameGeolocator.ForFrame(pose, dem).ComputeFootprint();
        Assert.True(footprint.IsComplete);
        Assert.Equal(TerrainSource.Dem, footprint.Corners[0].Hit.Source);
        Assert.Equal(TerrainSource.FallbackOutsideDem, footprint.Corners[1].Hit.Source);
        Assert.Equal(100, footprint.Corners[0].Point.HeightAboveEllipsoid, 2);
        Assert.Equal(0, footprint.Corners[1].Point.HeightAboveEllipsoid, 2);
        var warning = Assert.Single(footprint.Warnings, w => w.Kind == FootprintWarningKind.DemNotCovering);
        Assert.Contains("upper-right corner", warning.Message);
        Assert.DoesNotContain("upper-left corner", warning.Message);
    }

    [Fact]
    public void DEM_voids_fall_back_and_are_reported()
    {
        var path = _temp.File("void.tif");
        var grid = DemGrid.Geographic(Lat0, Lon0, 3000, 30);
        // Everything north of the sensor is void (nodata).
        SyntheticDem.WriteGeoTiff(path, grid, SyntheticDem.Flat(400), (lat, _) => lat > Lat0 + 0.001);
        using var dem = DemTerrain.Open(path, new DemOptions { VerticalDatum = HeightReference.Ellipsoid, Fallback = new ConstantTerrain(50, HeightReference.Ellipsoid) });
        var footprint = new FrameGeolocator(CameraModel.FromPose(Poses.Nadir(1400)), dem).ComputeFootprint();
        Assert.Equal(TerrainSource.FallbackVoid, footprint.Corners[0].Hit.Source);
        Assert.Equal(50, footprint.Corners[0].Point.HeightAboveEllipsoid, 2);
        Assert.Equal(TerrainSource.Dem, footprint.Corners[2].Hit.Source);
        Assert.Equal(400, footprint.Corners[2].Point.HeightAboveEllipsoid, 2);
        Assert.Contains(footprint.Warnings, w => w.Kind == FootprintWarningKind.DemVoid);
    }

    [Fact]
    public void Only_windows_around_the_footprint_are_read()
    {
        // A 2400 x 2400 DEM (~72 km across at 30 m); a nadir footprint of ~1 km must read a handful of windows.
        var path = _temp.File("big.tif");
        var grid = DemGrid.Geographic(Lat0, Lon0, 36_000, 30);
        SyntheticDem.WriteGeoTiff(path, grid, SyntheticDem.GaussianHill(Lat0, Lon0, 100, 200, 5000));
        using var dem = DemTerrain.Open(path);
        var footprint = FrameGeolocator.ForFrame(Poses.Nadir(1500) with { SensorHeightReference = HeightReference.Msl }, dem).ComputeFootprint();
        Assert.True(footprint.IsComplete);
        Assert.False(footprint.UsedFlatTerrain);
        var total = (long)grid.Width * grid.Height;
        Assert.True(dem.PixelsRead < total / 50, $"{dem.PixelsRead} of {total} pixels read");
        Assert.InRange(dem.TilesRead, 1, 9);
        output.WriteLine($"DEM {grid.Width} x {grid.Height}: {dem.TilesRead} windows, {dem.PixelsRead} pixels read ({100.0 * dem.PixelsRead / total:0.00} %)");

        // The second frame over the same ground reads nothing new.
        var before = dem.TilesRead;
        FrameGeolocator.ForFrame(Poses.Nadir(1510) with { SensorHeightReference = HeightReference.Msl }, dem).ComputeFootprint();
        Assert.Equal(before, dem.TilesRead);
    }

    [Fact]
    public void Projected_DEM_gives_the_same_footprint_as_a_geographic_one()
    {
        // The same hill written on a UTM grid and on a geographic grid: the CRS path (PROJ per sample) must agree.
        var hill = SyntheticDem.GaussianHill(Lat0, Lon0, 80, 120, 700);
        var geographic = _temp.File("hill-geo.tif");
        SyntheticDem.WriteGeoTiff(geographic, DemGrid.Geographic(Lat0, Lon0, 3000, 10), hill);
        var utmEpsg = SiteWatch.Gdal.SpatialReference.UtmEpsgFor(Lon0, Lat0);
        double cx, cy;
        using (var wgs = SiteWatch.Gdal.SpatialReference.Wgs84())
        using (var utm = SiteWatch.Gdal.SpatialReference.FromEpsg(utmEpsg))
        using (var transform = new SiteWatch.Gdal.CoordinateTransform(wgs, utm))
        {
            (cx, cy) = transform.Transform(Lon0, Lat0);
        }

        var projected = _temp.File("hill-utm.tif");
        SyntheticDem.WriteGeoTiff(projected, DemGrid.Projected($"EPSG:{utmEpsg}", cx, cy, 3000, 10), hill);
        using var demGeo = DemTerrain.Open(geographic);
        using var demUtm = DemTerrain.Open(projected);
        Assert.Equal($"EPSG:{utmEpsg}", demUtm.Crs);
        var pose = ObliquePose(1200);
        var a = new FrameGeolocator(CameraModel.FromPose(pose), demGeo).ComputeFootprint();
        var b = new FrameGeolocator(CameraModel.FromPose(pose), demUtm).ComputeFootprint();
        Assert.True(a.IsComplete && b.IsComplete);
        var worst = a.Perimeter.Zip(b.Perimeter, (p, q) => (p.Hit.Ecef - q.Hit.Ecef).Length).Max();
        Assert.True(worst < 0.2, $"geographic vs UTM DEM: {worst:0.000} m");
        output.WriteLine($"geographic vs UTM DEM footprints: worst {worst:0.0000} m");
    }
}

/// <summary>DEM formats as they come from the field: an SRTM .hgt tile written through GDAL's own driver.</summary>
public sealed class SrtmTileTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void SRTM_HGT_nodes_sit_on_whole_arc_seconds_and_voids_fall_back()
    {
        // SRTM3: 1201 x 1201 big-endian int16 posts at whole multiples of 3", rows north to south, voids -32768.
        // Heights encode their own row and column, so a sample at a post must return exactly that post's value.
        const int n = 1201;
        static short Post(int column, int row) => (short)(100 + column % 50 * 10 + row % 40);
        var posts = new short[n * n];
        for (var j = 0; j < n; j++)
        {
            for (var i = 0; i < n; i++)
            {
                posts[j * n + i] = Post(i, j);
            }
        }

        posts[600 * n + 600] = -32768; // one void post in the middle
        var path = _temp.File("N37E127.hgt");
        var step = 1.0 / 1200;
        using (var mem = SiteWatch.Gdal.RasterDataset.CreateInMemory(new SiteWatch.Gdal.RasterProfile(n, n, 1, SiteWatch.Gdal.RasterDataType.Int16)
        {
            GeoTransform = new SiteWatch.Gdal.GeoTransform(127 - step / 2, step, 0, 38 + step / 2, 0, -step),
            Crs = "EPSG:4326",
            NoData = -32768,
        }))
        {
            mem.Write<short>(1, new SiteWatch.Gdal.RasterWindow(0, 0, n, n), posts);
            mem.CopyTo(path, "SRTMHGT", []);
        }

        using var dem = DemTerrain.Open(path, new DemOptions { VerticalDatum = HeightReference.Ellipsoid, Fallback = new ConstantTerrain(-5, HeightReference.Ellipsoid) });
        Assert.Equal(n, dem.Width);
        foreach (var (i, j) in new[] { (0, 0), (17, 923), (1200, 1200), (333, 1), (599, 600) })
        {
            var sample = dem.Sample(38 - j * step, 127 + i * step);
            Assert.Equal(TerrainSource.Dem, sample.Source);
            Assert.Equal(Post(i, j), sample.HeightAboveEllipsoid, 6);
        }

        // Half-way between two posts: the mean of the two (bilinear).
        Assert.Equal((Post(10, 20) + Post(11, 20)) / 2.0, dem.Sample(38 - 20 * step, 127 + 10.5 * step).HeightAboveEllipsoid, 6);
        // On the void post: the fallback, flagged.
        var hole = dem.Sample(38 - 600 * step, 127 + 600 * step);
        Assert.Equal(TerrainSource.FallbackVoid, hole.Source);
        Assert.Equal(-5, hole.HeightAboveEllipsoid);
        Assert.False(dem.Covers(36.99, 127.5));
    }

    [Fact]
    public void Sensor_below_the_terrain_is_reported_not_thrown()
    {
        var path = _temp.File("plateau.tif");
        SyntheticDem.WriteGeoTiff(path, DemGrid.Geographic(Poses.Latitude, Poses.Longitude, 3000, 30), SyntheticDem.Flat(900));
        using var dem = DemTerrain.Open(path, new DemOptions { VerticalDatum = HeightReference.Ellipsoid });
        var footprint = new FrameGeolocator(CameraModel.FromPose(Poses.Nadir(500)), dem).ComputeFootprint();
        Assert.Empty(footprint.Polygon);
        Assert.All(footprint.Perimeter, p => Assert.Equal(RayStatus.SensorBelowTerrain, p.Hit.Status));
        Assert.Contains(footprint.Warnings, w => w.Kind == FootprintWarningKind.SensorBelowTerrain);
    }
}
