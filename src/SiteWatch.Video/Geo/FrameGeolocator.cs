using System.Diagnostics;

namespace SiteWatch.Video.Geo;

/// <summary>How frames are geolocated.</summary>
public sealed record GeolocationOptions
{
    /// <summary>Geoid for MSL heights; null means EGM96 when installed, else N = 0 (reported as a warning).</summary>
    public GeoidModel? Geoid { get; init; }

    /// <summary>Ignore the VFOV tag and use square pixels (fy = fx).</summary>
    public bool SquarePixels { get; init; }

    /// <summary>Segments each frame edge is cut into for the footprint (1 gives the plain quadrilateral).</summary>
    public int SegmentsPerEdge { get; init; } = 8;

    /// <summary>Ground height (MSL) assumed when there is neither a DEM nor a frame-centre elevation in the KLV.</summary>
    public double DefaultGroundHeightMsl { get; init; }

    public RayCastOptions RayCast { get; init; } = new();
}

/// <summary>Status of a ground-to-pixel mapping.</summary>
public enum GroundToPixelStatus
{
    /// <summary>The point is seen at the returned pixel (the ray through it lands back on the point).</summary>
    Visible,
    /// <summary>The point projects to the returned pixel, but terrain nearer the camera hides it.</summary>
    Occluded,
    /// <summary>The point is behind the camera.</summary>
    BehindCamera,
    /// <summary>The terrain has no height at the point.</summary>
    NoTerrain,
    /// <summary>The refinement did not settle; the pixel is the best estimate.</summary>
    NotConverged,
}

/// <summary>Where a ground point appears in the frame.</summary>
public readonly record struct PixelLocation(GroundToPixelStatus Status, double Column, double Row, bool InFrame, double ResidualMetres, int Iterations);

/// <summary>
/// Pixel-to-ground and ground-to-pixel mappings and footprints for one video frame: a camera (from the KLV pose) and
/// a terrain (a DEM, or a flat surface at the frame-centre elevation). Not thread-safe when the terrain is a DEM.
/// </summary>
public sealed class FrameGeolocator
{
    private readonly GeolocationOptions _options;
    private readonly List<FootprintWarning> _baseWarnings = [];

    public FrameGeolocator(CameraModel camera, ITerrain terrain, GeolocationOptions? options = null)
    {
        Camera = camera ?? throw new ArgumentNullException(nameof(camera));
        Terrain = terrain ?? throw new ArgumentNullException(nameof(terrain));
        _options = options ?? new GeolocationOptions();
        if (_options.SegmentsPerEdge < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "SegmentsPerEdge must be at least 1.");
        }

        if (camera.UsedApproximateGeoid)
        {
            _baseWarnings.Add(new(FootprintWarningKind.GeoidUnavailable,
                "no EGM96 grid installed: the sensor's MSL altitude is taken as its ellipsoid height (off by the geoid undulation, -107..+86 m)"));
        }

        if (camera.PixelAspectWarning is { } aspect)
        {
            _baseWarnings.Add(new(FootprintWarningKind.InconsistentMetadata, aspect));
        }

        switch (terrain)
        {
            case ConstantTerrain flat:
                _baseWarnings.Add(new(FootprintWarningKind.FlatTerrainAssumed, $"no DEM: rays meet {flat.Description}"));
                AddGeoidWarning(flat.Reference, flat.Geoid);
                break;
            case IDemBacked dem:
                if (dem.Dem.UsesApproximateGeoid)
                {
                    AddGeoidWarning(HeightReference.Msl, GeoidModel.Zero);
                }

                foreach (var note in dem.Dem.Notes.Where(n => !n.Contains("no EGM96 grid", StringComparison.Ordinal)))
                {
                    _baseWarnings.Add(new(FootprintWarningKind.DemNote, note));
                }

                if (dem.Fallback is ConstantTerrain fallback)
                {
                    AddGeoidWarning(fallback.Reference, fallback.Geoid);
                }

                break;
        }
    }

    private void AddGeoidWarning(HeightReference reference, GeoidModel geoid)
    {
        const string message = "no EGM96 grid installed: MSL terrain heights are taken as ellipsoid heights (off by the geoid undulation, -107..+86 m)";
        if (reference == HeightReference.Msl && geoid.IsApproximate && !_baseWarnings.Any(w => w.Message == message))
        {
            _baseWarnings.Add(new(FootprintWarningKind.GeoidUnavailable, message));
        }
    }

    /// <summary>
    /// A geolocator for one frame of KLV: the camera from the pose, the terrain from <paramref name="dem"/> (falling
    /// back, outside it and on its voids, to the frame's flat-terrain estimate) or, without a DEM, that flat estimate.
    /// </summary>
    public static FrameGeolocator ForFrame(CameraPose pose, DemTerrain? dem = null, GeolocationOptions? options = null)
    {
        options ??= new GeolocationOptions();
        var camera = CameraModel.FromPose(pose, options.Geoid, options.SquarePixels);
        var flat = FlatTerrainFor(pose, options.Geoid, options.DefaultGroundHeightMsl);
        var terrain = dem is null ? (ITerrain)flat : dem.WithFallback(flat);
        var locator = new FrameGeolocator(camera, terrain, options);
        var geoid = options.Geoid ?? GeoidModel.Egm96OrZero;
        locator.CheckFrameCentreHeights(pose, geoid);
        locator.CheckSensorHeights(pose, geoid);
        return locator;
    }

    /// <summary>
    /// The flat surface a frame is assumed to look at without a DEM: at the KLV frame-centre elevation (tag 25, MSL),
    /// else the frame-centre height above the ellipsoid (tag 78), else <paramref name="defaultHeightMsl"/>.
    /// </summary>
    public static ConstantTerrain FlatTerrainFor(CameraPose pose, GeoidModel? geoid = null, double defaultHeightMsl = 0)
    {
        if (pose.FrameCenterElevationMsl is { } msl)
        {
            return new ConstantTerrain(msl, HeightReference.Msl, geoid, "the KLV frame-centre elevation (tag 25)");
        }

        if (pose.FrameCenterHeightAboveEllipsoid is { } hae)
        {
            return new ConstantTerrain(hae, HeightReference.Ellipsoid, geoid, "the KLV frame-centre height above ellipsoid (tag 78)");
        }

        return new ConstantTerrain(defaultHeightMsl, HeightReference.Msl, geoid, "a constant height: the KLV has no frame-centre elevation (tags 25, 78)");
    }

    private void CheckFrameCentreHeights(CameraPose pose, GeoidModel geoid)
    {
        if (pose is { FrameCenterElevationMsl: { } msl, FrameCenterHeightAboveEllipsoid: { } hae, FrameCenter: { } centre })
        {
            var n = geoid.Undulation(centre.Latitude, centre.Longitude);
            var difference = msl + n - hae;
            if (Math.Abs(difference) > 30)
            {
                _baseWarnings.Add(new(FootprintWarningKind.InconsistentMetadata, string.Create(CultureInfo.InvariantCulture,
                    $"frame-centre elevation {msl:0.0} m MSL (tag 25) is {msl + n:0.0} m above the ellipsoid, but tag 78 says {hae:0.0} m: they disagree by {difference:0.0} m; tag 25 is used")));
            }
        }
    }

    private void CheckSensorHeights(CameraPose pose, GeoidModel geoid)
    {
        // Tolerance: the geoid (when installed) is good to a metre or so; altitude tags are quantised to 0.3 m.
        var tolerance = geoid.IsApproximate ? 110 : 10;
        var n = geoid.Undulation(pose.SensorLatitude, pose.SensorLongitude);
        var candidates = new List<(string Name, double Hae)>();
        if (pose.SensorEllipsoidHeight is { } h75)
        {
            candidates.Add(("tag 75 (HAE)", h75));
        }

        if (pose.SensorEllipsoidHeightExtended is { } h104)
        {
            candidates.Add(("tag 104 (HAE)", h104));
        }

        if (pose.SensorTrueAltitudeMsl is { } h15)
        {
            candidates.Add(("tag 15 (MSL) + N", h15 + n));
        }

        for (var i = 1; i < candidates.Count; i++)
        {
            var difference = candidates[i].Hae - candidates[0].Hae;
            if (Math.Abs(difference) > tolerance)
            {
                _baseWarnings.Add(new(FootprintWarningKind.InconsistentMetadata, string.Create(CultureInfo.InvariantCulture,
                    $"sensor height: {candidates[i].Name} gives {candidates[i].Hae:0.0} m HAE but {candidates[0].Name} gives {candidates[0].Hae:0.0} m: they disagree by {difference:0.0} m; {candidates[0].Name} is used")));
            }
        }
    }

    public CameraModel Camera { get; }

    public ITerrain Terrain { get; }

    /// <summary>Where the ray through a pixel position meets the terrain.</summary>
    public RayHit PixelToGround(double column, double row) =>
        RayCaster.Cast(Camera.PositionEcef, Camera.RayDirection(column, row), Terrain, _options.RayCast);

    /// <summary>
    /// Ground metres per pixel around a pixel position: the finer of the ground distances spanned by
    /// <paramref name="step"/> pixels across and down, over the step; null when a ray misses the ground. An oblique
    /// view's pixels are longer down the line of sight than across it, and on a slope facing away from the camera many
    /// times longer; the finer spacing is the detail the sensor has there, so bringing it to a model's GSD never
    /// enlarges a frame for the sake of a hillside's foreshortening.
    /// </summary>
    public double? GroundSampleDistance(double column, double row, double step = 8)
    {
        var left = PixelToGround(column - step / 2, row);
        var right = PixelToGround(column + step / 2, row);
        var top = PixelToGround(column, row - step / 2);
        var bottom = PixelToGround(column, row + step / 2);
        if (!(left.IsHit && right.IsHit && top.IsHit && bottom.IsHit))
        {
            return null;
        }
        var across = (right.Ecef - left.Ecef).Length;
        var down = (bottom.Ecef - top.Ecef).Length;
        return Math.Min(across, down) / step;
    }

    /// <summary>The pixel position of a 3-D point (no terrain, no visibility test); null behind the camera.</summary>
    public (double Column, double Row)? Project(GeoPoint point) =>
        Camera.TryProject(point, out var column, out var row) ? (column, row) : null;

    /// <summary>
    /// Where a ground position (latitude, longitude; the height comes from the terrain) appears in the frame. The
    /// projection of the terrain point is refined until the ray through the pixel lands back on the point (within a
    /// millimetre-level tolerance), which also reveals points hidden behind nearer terrain.
    /// </summary>
    public PixelLocation GroundToPixel(double latitude, double longitude, int maxIterations = 8)
    {
        var sample = Terrain.Sample(latitude, longitude);
        if (!sample.HasHeight)
        {
            return new PixelLocation(GroundToPixelStatus.NoTerrain, double.NaN, double.NaN, false, double.NaN, 0);
        }

        var target = new GeoPoint(latitude, longitude, sample.HeightAboveEllipsoid);
        var targetEcef = Wgs84.ToEcef(target);
        if (!Camera.TryProject(targetEcef, out var column, out var row))
        {
            return new PixelLocation(GroundToPixelStatus.BehindCamera, double.NaN, double.NaN, false, double.NaN, 0);
        }

        var toEnu = Wgs84.EnuToEcef(latitude, longitude).Transpose();
        var targetRange = (targetEcef - Camera.PositionEcef).Length;
        // Tolerance on the ground: a few times the bisection tolerance, which is measured along the ray.
        var tolerance = 5 * _options.RayCast.ToleranceMetres;
        var jacobian = PixelPerMetre(target);
        var residual = double.NaN;
        for (var iteration = 1; iteration <= maxIterations; iteration++)
        {
            var hit = PixelToGround(column, row);
            if (!hit.IsHit)
            {
                return new PixelLocation(GroundToPixelStatus.NotConverged, column, row, Camera.Contains(column, row), residual, iteration);
            }

            var error = toEnu * (hit.Ecef - targetEcef);
            residual = Math.Sqrt(error.X * error.X + error.Y * error.Y);
            if (iteration == 1 && hit.Range < targetRange - Math.Max(1, 1e-4 * targetRange) && residual > Math.Max(1, 1e-4 * targetRange))
            {
                // The ray through the exact projection meets terrain well before the point: something hides it.
                return new PixelLocation(GroundToPixelStatus.Occluded, column, row, Camera.Contains(column, row), residual, iteration);
            }

            if (residual <= tolerance || jacobian is null)
            {
                var status = residual <= tolerance ? GroundToPixelStatus.Visible : GroundToPixelStatus.NotConverged;
                return new PixelLocation(status, column, row, Camera.Contains(column, row), residual, iteration);
            }

            var j = jacobian.Value;
            column -= j.M11 * error.X + j.M12 * error.Y;
            row -= j.M21 * error.X + j.M22 * error.Y;
        }

        return new PixelLocation(GroundToPixelStatus.NotConverged, column, row, Camera.Contains(column, row), residual, maxIterations);
    }

    /// <summary>d(column, row) / d(east, north) for moves along the terrain around a point (upper-left 2 x 2 of the result).</summary>
    private Mat3? PixelPerMetre(GeoPoint target)
    {
        const double delta = 0.5;
        if (!Camera.TryProject(target, out var c0, out var r0))
        {
            return null;
        }

        (double C, double R)? Moved(double east, double north)
        {
            var p = Wgs84.FromEnu(target, new Vec3(east, north, 0));
            var s = Terrain.Sample(p.Latitude, p.Longitude);
            var h = s.HasHeight ? s.HeightAboveEllipsoid : target.HeightAboveEllipsoid;
            return Camera.TryProject(p with { HeightAboveEllipsoid = h }, out var c, out var r) ? (c, r) : null;
        }

        if (Moved(delta, 0) is not { } e || Moved(0, delta) is not { } n)
        {
            return null;
        }

        return new Mat3((e.C - c0) / delta, (n.C - c0) / delta, 0, (e.R - r0) / delta, (n.R - r0) / delta, 0, 0, 0, 1);
    }

    /// <summary>Casts the corner, edge and centre rays and gathers the warnings. Never throws for geometry problems.</summary>
    public FrameFootprint ComputeFootprint()
    {
        var clock = Stopwatch.StartNew();
        var segments = _options.SegmentsPerEdge;
        double w = Camera.Width, h = Camera.Height;
        (double C, double R)[] corners = [(0, 0), (w, 0), (w, h), (0, h)];
        var perimeter = new List<FootprintPoint>(4 * segments);
        for (var edge = 0; edge < 4; edge++)
        {
            var (c0, r0) = corners[edge];
            var (c1, r1) = corners[(edge + 1) % 4];
            for (var i = 0; i < segments; i++)
            {
                var f = (double)i / segments;
                var c = c0 + f * (c1 - c0);
                var r = r0 + f * (r1 - r0);
                perimeter.Add(new FootprintPoint(c, r, PixelToGround(c, r)));
            }
        }

        var centre = new FootprintPoint(w / 2, h / 2, PixelToGround(w / 2, h / 2));
        var warnings = new List<FootprintWarning>(_baseWarnings);
        AddRayWarnings(perimeter, segments, centre, warnings);
        clock.Stop();
        return new FrameFootprint(Camera, Terrain.Description, perimeter, segments, centre, warnings, clock.Elapsed);
    }

    private static readonly string[] s_cornerNames = ["upper-left", "upper-right", "lower-right", "lower-left"];

    private static void AddRayWarnings(List<FootprintPoint> perimeter, int segments, FootprintPoint centre, List<FootprintWarning> warnings)
    {
        string Describe(IEnumerable<int> indices)
        {
            var list = indices.ToList();
            var named = list.Where(i => i >= 0 && i % segments == 0).Select(i => s_cornerNames[i / segments] + " corner").ToList();
            if (list.Contains(-1))
            {
                named.Insert(0, "the centre");
            }

            var others = list.Count(i => i >= 0 && i % segments != 0);
            if (others > 0)
            {
                named.Add($"{others} edge point{(others == 1 ? "" : "s")}");
            }

            return string.Join(", ", named);
        }

        var all = perimeter.Select((p, i) => (Point: p, Index: i)).Append((Point: centre, Index: -1)).ToList();
        void Add(FootprintWarningKind kind, Func<FootprintPoint, bool> predicate, string what)
        {
            var indices = all.Where(x => predicate(x.Point)).Select(x => x.Index).ToList();
            if (indices.Count > 0)
            {
                warnings.Add(new(kind, $"{what}: {Describe(indices)}"));
            }
        }

        Add(FootprintWarningKind.RayAboveHorizon, p => p.Hit.Status == RayStatus.AboveHorizon, "rays above the horizon never meet the ground");
        Add(FootprintWarningKind.RayBeyondMaxRange, p => p.Hit.Status == RayStatus.MaxRangeExceeded, "rays pass the range limit without meeting the ground");
        Add(FootprintWarningKind.NoTerrain, p => p.Hit.Status == RayStatus.NoTerrain, "rays cross no terrain (outside the DEM, no fallback)");
        Add(FootprintWarningKind.SensorBelowTerrain, p => p.Hit.Status == RayStatus.SensorBelowTerrain, "the sensor is below the terrain surface (altitude or datum wrong?)");
        Add(FootprintWarningKind.DemNotCovering, p => p.IsHit && p.Hit.Source == TerrainSource.FallbackOutsideDem, "the DEM does not cover these points; the fallback surface was used");
        Add(FootprintWarningKind.DemVoid, p => p.IsHit && p.Hit.Source == TerrainSource.FallbackVoid, "these points fall on DEM voids; the fallback surface was used");
    }
}
