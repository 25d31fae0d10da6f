using SiteWatch.Video.Geo;
using Xunit.Abstractions;

namespace SiteWatch.Video.Tests.Geo;

/// <summary>Camera conventions and ray/terrain geometry over flat surfaces, against closed forms.</summary>
public class FootprintGeometryTests(ITestOutputHelper output)
{
    private const double Deg = Math.PI / 180;

    [Fact]
    public void Nadir_footprint_over_flat_ground_is_two_h_tan_half_FOV_wide_and_centred_below_the_sensor()
    {
        const double h = 1000;
        var pose = Poses.Nadir(h, hfov: 60);
        var camera = CameraModel.FromPose(pose);
        var locator = new FrameGeolocator(camera, Poses.FlatEllipsoid());
        var footprint = locator.ComputeFootprint();

        // Camera axes in ENU: boresight down, image right east, image down south.
        Assert.Equal(-1, camera.CameraToEnu.Column1.Z, 12);
        Assert.Equal(1, camera.CameraToEnu.Column2.X, 12);
        Assert.Equal(-1, camera.CameraToEnu.Column3.Y, 12);
        Assert.True(footprint.IsComplete);
        var centre = Poses.Enu(footprint.Centre.Point);
        Assert.True(Math.Sqrt(centre.X * centre.X + centre.Y * centre.Y) < 0.01, $"centre offset {centre}");
        Assert.Equal(0, footprint.Centre.Point.HeightAboveEllipsoid, 2);
        Assert.Equal(h, footprint.Centre.Hit.Range, 2);

        // Across the frame through the centre: 2 H tan(HFOV / 2); Earth curvature adds ~1.5 cm at 577 m out.
        var left = locator.PixelToGround(0, pose.FrameHeight / 2.0);
        var right = locator.PixelToGround(pose.FrameWidth, pose.FrameHeight / 2.0);
        var width = Wgs84.Distance(left.Point, right.Point);
        Assert.Equal(2 * h * Math.Tan(30 * Deg), width, 1);
        // Image right is east and image top is north for a level platform heading north.
        Assert.True(Poses.Enu(right.Point).X > 570 && Poses.Enu(left.Point).X < -570);
        var top = locator.PixelToGround(pose.FrameWidth / 2.0, 0);
        var fy = pose.FrameWidth / 2.0 / Math.Tan(30 * Deg);
        Assert.Equal(h * (pose.FrameHeight / 2.0) / fy, Poses.Enu(top.Point).Y, 1);

        // Corners: UL is north-west, LR south-east; the polygon is closed and counter-clockwise.
        var ul = Poses.Enu(footprint.Corners[0].Point);
        var lr = Poses.Enu(footprint.Corners[2].Point);
        Assert.True(ul.X < 0 && ul.Y > 0 && lr.X > 0 && lr.Y < 0);
        Assert.Equal(footprint.Polygon[0], footprint.Polygon[^1]);
        Assert.Equal(4 * 8 + 1, footprint.Polygon.Count);
        Assert.True(Math.Abs(footprint.AreaSquareMetres / (1154.70 * 649.52) - 1) < 1e-3, $"area {footprint.AreaSquareMetres:0} m2");
        Assert.Contains(footprint.Warnings, w => w.Kind == FootprintWarningKind.FlatTerrainAssumed);
        Assert.True(footprint.UsedFlatTerrain);
        output.WriteLine($"width {width:0.000} m (2 H tan 30 = {2 * h * Math.Tan(30 * Deg):0.000}); {footprint}");
    }

    [Fact]
    public void Nadir_with_MSL_altitude_over_MSL_ground_is_independent_of_the_geoid()
    {
        // Both heights MSL: whatever undulation the geoid has here cancels out (it is smooth over a kilometre).
        var pose = Poses.Nadir(1500) with { SensorHeightReference = HeightReference.Msl };
        var terrain = new ConstantTerrain(500, HeightReference.Msl);
        var locator = new FrameGeolocator(CameraModel.FromPose(pose), terrain);
        var left = locator.PixelToGround(0, pose.FrameHeight / 2.0);
        var right = locator.PixelToGround(pose.FrameWidth, pose.FrameHeight / 2.0);
        // Within 0.1 m, not to the millimetre: a surface of constant MSL height follows the geoid, whose slope here
        // (~1e-4) tilts the ground by a few centimetres across the footprint.
        Assert.True(Math.Abs(2 * 1000 * Math.Tan(30 * Deg) - Wgs84.Distance(left.Point, right.Point)) < 0.1);
        var centre = locator.PixelToGround(pose.FrameWidth / 2.0, pose.FrameHeight / 2.0);
        Assert.Equal(1000, centre.Range, 2);
        var n = (GeoidModel.Egm96OrZero).Undulation(Poses.Latitude, Poses.Longitude);
        Assert.Equal(500 + n, centre.Point.HeightAboveEllipsoid, 2);
    }

    [Theory]
    // Nose up 10: the belly tilts forward, so the belly camera looks 10 degrees ahead of the platform (north).
    [InlineData(0, 10, 0, 0, -90, 0, 1)]
    // Right wing down 10: the belly swings left (west).
    [InlineData(0, 0, 10, 0, -90, -1, 0)]
    // Nose down 25 while heading east: the belly tilts back, the camera looks behind the platform, west.
    [InlineData(90, -25, 0, 0, -90, -1, 0)]
    // Gimbal 45 down straight ahead, heading east.
    [InlineData(90, 0, 0, 0, -45, 1, 0)]
    // Gimbal 30 down to the right of a platform heading east: south.
    [InlineData(90, 0, 0, 90, -60, 0, -1)]
    // Heading 200, gimbal azimuth 250: looks at 90 (east), 20 off nadir.
    [InlineData(200, 0, 0, 250, -70, 1, 0)]
    // Pitched and rolled together with a gimbal offset (checked against the rotation composed by hand below).
    [InlineData(30, 5, -8, 15, -60, double.NaN, double.NaN)]
    public void Tilted_cameras_land_where_the_angles_say(double heading, double pitch, double roll, double azimuth, double elevation, double eastSign, double northSign)
    {
        const double h = 1000;
        var pose = Poses.Nadir(h) with
        {
            PlatformHeading = heading, PlatformPitch = pitch, PlatformRoll = roll,
            SensorRelativeAzimuth = azimuth, SensorRelativeElevation = elevation,
        };
        var locator = new FrameGeolocator(CameraModel.FromPose(pose), Poses.FlatEllipsoid());
        var hit = locator.PixelToGround(pose.FrameWidth / 2.0, pose.FrameHeight / 2.0);
        Assert.True(hit.IsHit);
        var enu = Poses.Enu(hit.Point);
        double expectedEast, expectedNorth;
        if (double.IsNaN(eastSign))
        {
            // Independent composition: boresight = Rz(h) Ry(p) Rx(r) Rz(az) Ry(el) (1,0,0) in NED, scaled to the ground.
            var b = Rz(heading, Ry(pitch, Rx(roll, Rz(azimuth, Ry(elevation, (1.0, 0.0, 0.0))))));
            expectedNorth = h * b.X / b.Z;
            expectedEast = h * b.Y / b.Z;
        }
        else
        {
            var offNadir = Math.Abs(90 + elevation) + Math.Abs(pitch) + Math.Abs(roll);
            expectedEast = eastSign * h * Math.Tan(offNadir * Deg);
            expectedNorth = northSign * h * Math.Tan(offNadir * Deg);
        }

        // Flat-Earth closed forms; the ellipsoid's curvature moves a point 1 km out by under 0.1 m.
        var tolerance = 0.05 + 1.5e-7 * (expectedEast * expectedEast + expectedNorth * expectedNorth);
        Assert.True(Math.Abs(enu.X - expectedEast) < tolerance && Math.Abs(enu.Y - expectedNorth) < tolerance,
            $"expected E {expectedEast:0.000} N {expectedNorth:0.000}, got {enu}");
        output.WriteLine($"h{heading} p{pitch} r{roll} az{azimuth} el{elevation}: E {enu.X:0.000} N {enu.Y:0.000} (expected {expectedEast:0.000}, {expectedNorth:0.000})");

        static (double X, double Y, double Z) Rz(double a, (double X, double Y, double Z) v)
        {
            var (s, c) = Math.SinCos(a * Deg);
            return (c * v.X - s * v.Y, s * v.X + c * v.Y, v.Z);
        }

        static (double X, double Y, double Z) Ry(double a, (double X, double Y, double Z) v)
        {
            var (s, c) = Math.SinCos(a * Deg);
            return (c * v.X + s * v.Z, v.Y, -s * v.X + c * v.Z);
        }

        static (double X, double Y, double Z) Rx(double a, (double X, double Y, double Z) v)
        {
            var (s, c) = Math.SinCos(a * Deg);
            return (v.X, c * v.Y - s * v.Z, s * v.Y + c * v.Z);
        }
    }

    [Fact]
    public void Sensor_roll_turns_the_image_clockwise_seen_from_behind()
    {
        // Nadir, heading north: image right is east. A +90 roll about the line of sight turns image right to south.
        var pose = Poses.Nadir(1000) with { SensorRelativeRoll = 90 };
        var locator = new FrameGeolocator(CameraModel.FromPose(pose), Poses.FlatEllipsoid());
        var right = Poses.Enu(locator.PixelToGround(pose.FrameWidth, pose.FrameHeight / 2.0).Point);
        Assert.True(right.Y < -570 && Math.Abs(right.X) < 0.5, right.ToString());
    }

    [Fact]
    public void Rays_above_the_horizon_are_reported_not_thrown()
    {
        // Camera level with the horizon, nose 5 degrees up: the top half of the frame sees sky.
        var pose = Poses.Nadir(500) with { SensorRelativeElevation = 0, PlatformPitch = 5, HorizontalFov = 60 };
        var locator = new FrameGeolocator(CameraModel.FromPose(pose), Poses.FlatEllipsoid());
        var footprint = locator.ComputeFootprint();
        Assert.False(footprint.IsComplete);
        Assert.Equal(RayStatus.AboveHorizon, footprint.Centre.Hit.Status);
        Assert.Equal(RayStatus.AboveHorizon, footprint.Corners[0].Hit.Status);
        Assert.True(footprint.Corners[2].IsHit && footprint.Corners[3].IsHit);
        var warning = Assert.Single(footprint.Warnings, w => w.Kind == FootprintWarningKind.RayAboveHorizon);
        Assert.Contains("upper-left corner", warning.Message);
        Assert.Contains("the centre", warning.Message);
        Assert.True(footprint.Polygon.Count >= 4, "the visible ground still forms a polygon");
        output.WriteLine(warning.ToString());

        // Looking at the sky entirely: an empty polygon, still no exception.
        var sky = new FrameGeolocator(CameraModel.FromPose(pose with { SensorRelativeElevation = 40 }), Poses.FlatEllipsoid()).ComputeFootprint();
        Assert.Empty(sky.Polygon);
        Assert.Equal("POLYGON EMPTY", sky.ToWkt());
        Assert.All(sky.Perimeter, p => Assert.Equal(RayStatus.AboveHorizon, p.Hit.Status));
        Assert.Contains("\"geometry\":null", sky.ToGeoJson());
    }

    [Fact]
    public void Grazing_rays_follow_the_earths_curvature()
    {
        // From 3000 m the geometric horizon is sqrt(2 h / R) = 1.76 degrees below the horizontal: a ray 1 degree down
        // misses the Earth altogether (flat-Earth reasoning would put it on the ground 172 km out); a ray 3 degrees
        // down lands where the sphere's closed form says.
        const double h = 3000;
        var pose = Poses.Nadir(h) with { SensorRelativeElevation = -1 };
        var miss = new FrameGeolocator(CameraModel.FromPose(pose), Poses.FlatEllipsoid()).PixelToGround(pose.FrameWidth / 2.0, pose.FrameHeight / 2.0);
        Assert.Equal(RayStatus.AboveHorizon, miss.Status);

        var hit = new FrameGeolocator(CameraModel.FromPose(pose with { SensorRelativeElevation = -3 }), Poses.FlatEllipsoid())
            .PixelToGround(pose.FrameWidth / 2.0, pose.FrameHeight / 2.0);
        Assert.True(hit.IsHit);
        // Sphere with the meridian radius of curvature (the ray heads north): the range r solves
        // (R + h)^2 + r^2 - 2 (R + h) r sin(dip) = R^2.
        var radius = Wgs84.MeridianRadius(Poses.Latitude);
        var rh = radius + h;
        var dip = 3 * Deg;
        var range = rh * Math.Sin(dip) - Math.Sqrt(Math.Pow(rh * Math.Sin(dip), 2) - (rh * rh - radius * radius));
        output.WriteLine($"grazing ray 3 degrees down from 3000 m: range {hit.Range:0.0} m (sphere {range:0.0} m, flat Earth {h / Math.Sin(dip):0.0} m)");
        Assert.True(Math.Abs(hit.Range - range) / range < 1e-3, $"range {hit.Range:0.0} vs sphere {range:0.0}");
    }

    [Fact]
    public void Pixel_ground_pixel_round_trip_over_flat_ground()
    {
        var pose = Poses.Nadir(800) with { PlatformHeading = 33, SensorRelativeElevation = -50, SensorRelativeAzimuth = 20, PlatformRoll = 4 };
        var locator = new FrameGeolocator(CameraModel.FromPose(pose), Poses.FlatEllipsoid(120));
        var worst = 0.0;
        for (var c = 0.0; c <= pose.FrameWidth; c += pose.FrameWidth / 6.0)
        {
            for (var r = 0.0; r <= pose.FrameHeight; r += pose.FrameHeight / 4.0)
            {
                var hit = locator.PixelToGround(c, r);
                Assert.True(hit.IsHit);
                var back = locator.GroundToPixel(hit.Point.Latitude, hit.Point.Longitude);
                Assert.Equal(GroundToPixelStatus.Visible, back.Status);
                worst = Math.Max(worst, Math.Sqrt((back.Column - c) * (back.Column - c) + (back.Row - r) * (back.Row - r)));
            }
        }

        Assert.True(worst < 0.1, $"worst round trip {worst} px");
        output.WriteLine($"worst pixel -> ground -> pixel error over flat ground: {worst:0.00000} px");
    }

    [Fact]
    public void Ground_behind_the_camera_is_reported()
    {
        var pose = Poses.Nadir(800) with { SensorRelativeElevation = -30 };
        var locator = new FrameGeolocator(CameraModel.FromPose(pose), Poses.FlatEllipsoid());
        var behind = Wgs84.FromEnu(new GeoPoint(Poses.Latitude, Poses.Longitude, 0), new Vec3(0, -5000, 0));
        Assert.Equal(GroundToPixelStatus.BehindCamera, locator.GroundToPixel(behind.Latitude, behind.Longitude).Status);
    }

    [Fact]
    public void Impossible_field_of_view_is_rejected_with_a_message()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => CameraModel.FromPose(Poses.Nadir(100, hfov: 180)));
        Assert.Contains("180", e.Message);
    }
}

public class GeoidFallbackTests
{
    [Fact]
    public void Without_a_geoid_grid_MSL_heights_are_taken_as_ellipsoid_heights_and_the_footprint_says_so()
    {
        // GeoidModel.Zero stands in for a machine without egm96_15.gtx: heights are used as they are, and flagged.
        var pose = Poses.Nadir(1000) with { SensorHeightReference = HeightReference.Msl, FrameCenterElevationMsl = 200 };
        var footprint = FrameGeolocator.ForFrame(pose, options: new GeolocationOptions { Geoid = GeoidModel.Zero }).ComputeFootprint();
        Assert.Equal(800, footprint.Centre.Hit.Range, 2);
        Assert.Equal(200, footprint.Centre.Point.HeightAboveEllipsoid, 2);
        Assert.Contains(footprint.Warnings, w => w.Kind == FootprintWarningKind.GeoidUnavailable && w.Message.Contains("sensor"));
        Assert.Contains(footprint.Warnings, w => w.Kind == FootprintWarningKind.GeoidUnavailable && w.Message.Contains("terrain"));
        Assert.True(footprint.Camera.UsedApproximateGeoid);
        Assert.Contains("no geoid grid", footprint.TerrainDescription);
    }
}
