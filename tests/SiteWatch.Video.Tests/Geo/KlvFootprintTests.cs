using SiteWatch.Video.Geo;
using SiteWatch.Video.Klv;
using Xunit.Abstractions;
using SiteWatch.Demo.Flight;

namespace SiteWatch.Video.Tests.Geo;

/// <summary>Camera poses read from ST 0601 packets, and our footprints against the corners the KLV reports.</summary>
public class KlvFootprintTests(ITestOutputHelper output)
{
    private const double Deg = Math.PI / 180;

    private static KlvLocalSet Decode(IEnumerable<KlvField> fields)
    {
        var packet = KlvDecoder.Decode(KlvEncoder.EncodePacket(St0601.Schema, fields));
        Assert.Equal(KlvChecksumStatus.Valid, packet.ChecksumStatus);
        return packet.Set!;
    }

    [Fact]
    public void Pose_uses_ellipsoid_height_and_full_range_angles_when_present()
    {
        var set = Decode(
        [
            KlvField.Number(St0601.PlatformHeading, 45), KlvField.Number(St0601.PlatformPitch, 3), KlvField.Number(St0601.PlatformRoll, 4),
            KlvField.Number(St0601.SensorLatitude, 37.5), KlvField.Number(St0601.SensorLongitude, 127),
            KlvField.Number(St0601.SensorTrueAltitude, 1000), KlvField.Number(St0601.HorizontalFov, 30),
            KlvField.Number(St0601.SensorRelativeAzimuth, 10), KlvField.Number(St0601.SensorRelativeElevation, -60),
            KlvField.Number(75, 1020), KlvField.Number(90, 33.5), KlvField.Number(91, -70.25),
        ]);
        var pose = CameraPose.FromKlv(set, 1920, 1080);
        Assert.Equal(HeightReference.Ellipsoid, pose.SensorHeightReference);
        Assert.Equal(1020, pose.SensorHeight, 0);
        Assert.Equal(33.5, pose.PlatformPitch, 4);
        Assert.Equal(-70.25, pose.PlatformRoll, 4);
        Assert.Equal(0, pose.SensorRelativeRoll);
        Assert.Null(pose.VerticalFov);
        Assert.Contains(pose.Notes, n => n.Contains("tag 75"));
        Assert.Contains(pose.Notes, n => n.Contains("tag 90"));
        Assert.Contains(pose.Notes, n => n.Contains("tag 20"));
        Assert.Contains(pose.Notes, n => n.Contains("square pixels"));

        // Without 75/90/91 the MSL altitude and the short angles are used.
        var plain = CameraPose.FromKlv(Decode(
        [
            KlvField.Number(St0601.PlatformHeading, 45), KlvField.Number(St0601.PlatformPitch, 3), KlvField.Number(St0601.PlatformRoll, 4),
            KlvField.Number(St0601.SensorLatitude, 37.5), KlvField.Number(St0601.SensorLongitude, 127),
            KlvField.Number(St0601.SensorTrueAltitude, 1000), KlvField.Number(St0601.HorizontalFov, 30),
            KlvField.Number(St0601.SensorRelativeAzimuth, 10), KlvField.Number(St0601.SensorRelativeElevation, -60),
        ]), 1920, 1080);
        Assert.Equal(HeightReference.Msl, plain.SensorHeightReference);
        Assert.Equal(3, plain.PlatformPitch, 2);
        Assert.Equal(4, plain.PlatformRoll, 2);
    }

    [Fact]
    public void Missing_tags_are_named()
    {
        var set = Decode([KlvField.Number(St0601.SensorLatitude, 37.5), KlvField.Number(St0601.HorizontalFov, 30)]);
        Assert.False(CameraPose.TryFromKlv(set, 640, 480, out var pose, out var error));
        Assert.Null(pose);
        Assert.Contains("14 (sensor longitude)", error);
        Assert.Contains("15/75/104", error);
        Assert.Throws<InvalidOperationException>(() => CameraPose.FromKlv(set, 640, 480));
        // The error sentinel (0x8000 in int16 pitch) is not a number: the pose falls back to 0 and says why.
        var sentinel = Decode(
        [
            KlvField.Number(St0601.PlatformHeading, 0), KlvField.OutOfRange(St0601.PlatformPitch),
            KlvField.Number(St0601.SensorLatitude, 1), KlvField.Number(St0601.SensorLongitude, 2),
            KlvField.Number(St0601.SensorTrueAltitude, 100), KlvField.Number(St0601.HorizontalFov, 30),
            KlvField.Number(St0601.SensorRelativeAzimuth, 0), KlvField.Number(St0601.SensorRelativeElevation, -90),
        ]);
        var p = CameraPose.FromKlv(sentinel, 640, 480);
        Assert.Equal(0, p.PlatformPitch);
        Assert.Contains(p.Notes, n => n.Contains("out-of-range"));
    }

    /// <summary>
    /// A self-consistent packet built independently of our camera code: a nadir view whose frame centre is the
    /// sensor's ground position and whose corners come from the flat-Earth formulas (half-widths H tan(FOV/2) turned
    /// into degrees with the ellipsoid's radii of curvature). Our corners must agree to within the quantisation of the
    /// KLV fields (altitude and elevation 0.3 m steps, FOV 0.003 degree, offsets 0.25 m).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Consistent_synthetic_KLV_corners_agree_with_ours(bool fullCorners)
    {
        const double lat = 37.5, lon = 127, altitude = 2000, ground = 100, hfov = 40;
        const int width = 640, height = 480;
        var fx = width / 2.0 / Math.Tan(hfov / 2 * Deg);
        var vfov = 2 * Math.Atan(height / 2.0 / fx) / Deg;
        var halfEast = (altitude - ground) * Math.Tan(hfov / 2 * Deg);
        var halfNorth = (altitude - ground) * Math.Tan(vfov / 2 * Deg);
        var dLat = halfNorth / (Wgs84.MeridianRadius(lat) * Deg);
        var dLon = halfEast / (Wgs84.PrimeVerticalRadius(lat) * Math.Cos(lat * Deg) * Deg);
        (double Lat, double Lon)[] offsets = [(dLat, -dLon), (dLat, dLon), (-dLat, dLon), (-dLat, -dLon)];
        var fields = new List<KlvField>
        {
            KlvField.Number(St0601.PlatformHeading, 0), KlvField.Number(St0601.PlatformPitch, 0), KlvField.Number(St0601.PlatformRoll, 0),
            KlvField.Number(St0601.SensorLatitude, lat), KlvField.Number(St0601.SensorLongitude, lon),
            KlvField.Number(St0601.SensorTrueAltitude, altitude), KlvField.Number(St0601.HorizontalFov, hfov), KlvField.Number(St0601.VerticalFov, vfov),
            KlvField.Number(St0601.SensorRelativeAzimuth, 0), KlvField.Number(St0601.SensorRelativeElevation, -90), KlvField.Number(St0601.SensorRelativeRoll, 0),
            KlvField.Number(St0601.SlantRange, altitude - ground),
            KlvField.Number(St0601.FrameCenterLatitude, lat), KlvField.Number(St0601.FrameCenterLongitude, lon), KlvField.Number(St0601.FrameCenterElevation, ground),
        };
        for (var k = 0; k < 4; k++)
        {
            fields.Add(fullCorners ? KlvField.Number(82 + 2 * k, lat + offsets[k].Lat) : KlvField.Number(26 + 2 * k, offsets[k].Lat));
            fields.Add(fullCorners ? KlvField.Number(83 + 2 * k, lon + offsets[k].Lon) : KlvField.Number(27 + 2 * k, offsets[k].Lon));
        }

        var pose = CameraPose.FromKlv(Decode(fields), width, height);
        var footprint = FrameGeolocator.ForFrame(pose).ComputeFootprint();
        var comparison = KlvFootprintCheck.Compare(footprint, pose);
        output.WriteLine(comparison.ToString());
        Assert.Equal(fullCorners ? "full (tags 82-89)" : "offsets (tags 26-33 from 23/24)", comparison.CornerSource);
        Assert.True(comparison.CentreDistanceMetres < 0.05, $"centre {comparison.CentreDistanceMetres} m");
        Assert.Equal(4, comparison.Corners.Count);
        Assert.All(comparison.Corners, c => Assert.True(c.DistanceMetres < 0.6, $"corner {c.Corner}: {c.DistanceMetres} m"));
        Assert.Equal(altitude - ground, comparison.OurSlantRange!.Value, 0);
    }

    /// <summary>
    /// The shared clips' first packet carries MISB ST 0601's example values. We read the pose, assume flat terrain at
    /// the frame-centre elevation (tag 25) and compare with the frame centre (23/24) and corners (82-89 / 26-33).
    /// The example values are per-tag examples, not one geometry: the sensor (60.18 N, 128.43 E) is ~11 500 km from
    /// the frame centre it reports (10.54 S, 29.16 E), far beyond its ~425 km horizon, so no camera model can bring the
    /// centres or corners together. What does hang together is the pointing: the boresight, the altitude and the
    /// slant range (tag 21) agree to about 10 %, which is what the bounds below check.
    /// </summary>
    [KlvDataTheory]
    [InlineData("h264_klv.ts")]
    [InlineData("h265_klv.ts")]
    [InlineData("mpeg2_klv.ts")]
    public void Shared_clip_first_packet_against_its_own_centre_and_corners(string clip)
    {
        var (_, bytes) = TestData.KlvPacketsOf(clip).First();
        var packet = KlvDecoder.Decode(bytes);
        // 160 x 120: the clips' video size as ffprobe reports it; KLV does not carry the frame size.
        var pose = CameraPose.FromKlv(packet.Set!, 160, 120);
        Assert.Equal(60.176822966978335, pose.SensorLatitude, 9);
        var footprint = FrameGeolocator.ForFrame(pose).ComputeFootprint();
        var comparison = KlvFootprintCheck.Compare(footprint, pose);
        output.WriteLine($"{clip}: {pose}");
        output.WriteLine(comparison.ToString());
        foreach (var w in footprint.Warnings)
        {
            output.WriteLine(w.ToString());
        }

        foreach (var c in footprint.Corners.Append(footprint.Centre))
        {
            output.WriteLine($"ray ({c.Column}, {c.Row}): {c.Hit.Status} {(c.IsHit ? $"{c.Point} range {c.Hit.Range:0.0} m" : "")}");
        }

        // Flat terrain at tag 25, and every inconsistency of the example reported rather than hidden.
        Assert.Contains("tag 25", footprint.TerrainDescription);
        Assert.Contains(footprint.Warnings, w => w.Kind == FootprintWarningKind.FlatTerrainAssumed);
        Assert.Contains(footprint.Warnings, w => w.Kind == FootprintWarningKind.InconsistentMetadata && w.Message.Contains("tag 78"));
        Assert.Contains(footprint.Warnings, w => w.Kind == FootprintWarningKind.InconsistentMetadata && w.Message.Contains("tag 104"));
        Assert.Contains(footprint.Warnings, w => w.Kind == FootprintWarningKind.InconsistentMetadata && w.Message.Contains("VFOV"));

        // Centre: our boresight lands within the horizon of the sensor; the KLV's centre lies ~11 500 km away.
        var sensorGround = new GeoPoint(pose.SensorLatitude, pose.SensorLongitude, 0);
        var horizon = Math.Sqrt(2 * pose.SensorHeight * Wgs84.MeanRadius);
        Assert.True(footprint.Centre.IsHit);
        var ourGroundRange = Wgs84.Distance(sensorGround, footprint.Centre.Point);
        Assert.InRange(ourGroundRange, 1_000, horizon);
        Assert.InRange(comparison.SensorToKlvCentreMetres!.Value, 25 * horizon, 20_000_000);
        Assert.InRange(comparison.CentreDistanceMetres!.Value, comparison.SensorToKlvCentreMetres.Value - ourGroundRange, comparison.SensorToKlvCentreMetres.Value + ourGroundRange);

        // Pointing: our sensor-to-centre range agrees with tag 21 to within 15 %.
        Assert.InRange(comparison.OurSlantRange!.Value / comparison.KlvSlantRange!.Value, 0.85, 1.15);

        // Corners: the VFOV tag (152.6 degrees) puts the top edge ~65 degrees above the horizon, so the upper corners
        // never meet the ground and are reported; the lower corners land within the horizon.
        Assert.Equal("full (tags 82-89)", comparison.CornerSource);
        Assert.Null(comparison.Corners[0].DistanceMetres);
        Assert.Null(comparison.Corners[1].DistanceMetres);
        Assert.Contains("above the horizon", comparison.Corners[0].Reason);
        Assert.All(comparison.Corners.Skip(2), c => Assert.InRange(c.DistanceMetres!.Value, comparison.SensorToKlvCentreMetres.Value - horizon, comparison.SensorToKlvCentreMetres.Value + horizon));
        // The KLV's own corners span ~3 km, while a 144.6 degree HFOV at this range spans hundreds of kilometres.
        var klvSpan = Wgs84.Distance(pose.CornersFull![0].Latitude, pose.CornersFull[0].Longitude, pose.CornersFull[2].Latitude, pose.CornersFull[2].Longitude);
        var hfovSpan = 2 * comparison.OurSlantRange.Value * Math.Tan(pose.HorizontalFov / 2 * Deg);
        Assert.True(klvSpan < 0.05 * hfovSpan, $"KLV corner span {klvSpan:0} m vs HFOV span {hfovSpan:0} m");
        // Offsets (26-33) and full corners (82-89) agree with each other to the offsets' 0.25 m quantisation.
        for (var k = 0; k < 4; k++)
        {
            Assert.True(Wgs84.Distance(pose.CornersFull[k].Latitude, pose.CornersFull[k].Longitude, pose.CornersFromOffsets![k].Latitude, pose.CornersFromOffsets[k].Longitude) < 1);
        }

        // What ground height would make our boresight range equal tag 21? (Bisection over flat-terrain heights.)
        var camera = CameraModel.FromPose(pose);
        double lo = -500, hi = 9000;
        for (var i = 0; i < 40; i++)
        {
            var mid = (lo + hi) / 2;
            var hit = RayCaster.Cast(camera.PositionEcef, camera.RayDirection(80, 60), new ConstantTerrain(mid, HeightReference.Msl));
            (lo, hi) = !hit.IsHit || hit.Range > pose.SlantRange!.Value ? (mid, hi) : (lo, mid);
        }

        var square = FrameGeolocator.ForFrame(pose, options: new GeolocationOptions { SquarePixels = true }).ComputeFootprint();
        var squareComparison = KlvFootprintCheck.Compare(square, pose);
        output.WriteLine($"KLV corner span {klvSpan:0} m; HFOV span at our range {hfovSpan:0} m; tag 21 would need flat ground at {lo:0} m MSL (tag 25 says {pose.FrameCenterElevationMsl:0} m)");
        output.WriteLine($"with square pixels (VFOV ignored): {squareComparison}");
    }
}
