using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using SiteWatch.Video.Geo;
using SiteWatch.Video.Klv;
using SiteWatch.Video.Ts;
using SiteWatch.Video;

namespace SiteWatch.Demo.Flight;

/// <summary>What to simulate. Angles in degrees, distances in metres.</summary>
public sealed record FlightSimulationOptions
{
    public double Seconds { get; init; } = 20;
    public double Fps { get; init; } = 30;
    public int Width { get; init; } = 1280;
    public int Height { get; init; } = 720;
    public int Seed { get; init; } = 1;

    /// <summary>Any GDAL DEM (heights MSL); null generates a mountainous one around the origin and writes it as dem.tif.</summary>
    public string? DemPath { get; init; }

    /// <summary>
    /// Origin of a generated DEM (by default near the Bolivia-Argentina border, where the sub-Andean ranges rise 1-2 km:
    /// a place and <see cref="StartTime"/> where the real sun stands where the drawn shadows say); with a DEM given its
    /// centre is used.
    /// </summary>
    public double OriginLatitude { get; init; } = -22.5;
    public double OriginLongitude { get; init; } = -64.5;

    public double AltitudeAboveGround { get; init; } = 400;
    public double OrbitRadius { get; init; } = 250;
    public double AirSpeed { get; init; } = 25;
    public double HorizontalFov { get; init; } = 60;

    /// <summary>
    /// People added beside the scenario's own, as training data for the drone detector: files of one to four walking in
    /// random directions near the crossing, in dark to mid-toned clothing. They come from a random generator of their
    /// own, so the scenario's objects are the same with or without them.
    /// </summary>
    public int ExtraPeople { get; init; }

    /// <summary>
    /// Where shadows point, degrees clockwise from north (the sun stands opposite); 135: to the south-east, where the sun
    /// of the default place and time casts them. Another value (training data) no longer agrees with the KLV's time and
    /// place unless <see cref="StartTime"/> and the origin are moved with it.
    /// </summary>
    public double ShadowBearing { get; init; } = 135;

    /// <summary>
    /// Shadow length against the default (a person's shadow 2 m from its body, a vehicle's 1.3 m, as under the default
    /// sun 40.6 degrees high, for a person 1.7 m tall); it scales as 1 / tan(sun elevation).
    /// </summary>
    public double ShadowLength { get; init; } = 1;

    /// <summary>Add an ST 0903 VMTI set (tag 74) with the truth targets in view to every KLV packet.</summary>
    public bool Vmti { get; init; }

    public KlvTransport KlvTransport { get; init; } = KlvTransport.Sync;
    public string FfmpegPath { get; init; } = "ffmpeg";

    /// <summary>
    /// First frame's time (precision time stamp, tag 2). At the default origin the sun then stands in the north-west,
    /// 40.6 degrees high (14:30 local time in late April), where the drawn shadows and the terrain's shading put it, so
    /// what the KLV says and what the frames show agree (<see cref="SunPosition"/>).
    /// </summary>
    public DateTimeOffset StartTime { get; init; } = new(2025, 4, 29, 18, 30, 0, TimeSpan.Zero);

    internal void Validate()
    {
        if (!(Seconds > 0 && Seconds <= 3600))
        {
            throw new VideoException($"--seconds {Seconds.ToString(CultureInfo.InvariantCulture)}: give a duration between 0 and 3600 s");
        }

        if (!(Fps >= 1 && Fps <= 120))
        {
            throw new VideoException($"--fps {Fps.ToString(CultureInfo.InvariantCulture)}: give a frame rate between 1 and 120");
        }

        if (ExtraPeople is < 0 or > 1000)
        {
            throw new VideoException($"extra people {ExtraPeople}: give 0 to 1000");
        }

        if (!(ShadowLength >= 0 && ShadowLength <= 10) || !double.IsFinite(ShadowBearing))
        {
            throw new VideoException($"shadow length {ShadowLength.ToString(CultureInfo.InvariantCulture)} towards {ShadowBearing.ToString(CultureInfo.InvariantCulture)} degrees: give a length from 0 to 10 and a finite bearing");
        }

        if (Width is < 64 or > 3840 || Height is < 64 or > 2160 || Width % 2 != 0 || Height % 2 != 0)
        {
            throw new VideoException($"--size {Width}x{Height}: give even sizes from 64x64 to 3840x2160");
        }
    }
}

/// <summary>One rendered frame: pixels, the camera that saw them and the truth objects with their pixel boxes.</summary>
public sealed record SimulatedFrame(int Width, int Height, byte[] Bgr24, double Time, CameraPose Pose, CameraModel Camera,
    IReadOnlyList<FrameObjectTruth> Objects, double[]? Centre, IReadOnlyList<double[]?> Footprint);

/// <summary>
/// A drone orbiting a border crossing in the mountains with a gimbal camera looking steeply down at it: renders frames
/// by ray-casting a coarse pixel grid onto the DEM (<see cref="RayCaster"/>) and interpolating ground positions in
/// between, samples a procedural ground texture, draws the vehicles and people top-down with their shadows, encodes
/// H.264 with ffmpeg and muxes it with one ST 0601 packet per frame into MPEG-TS, and keeps the ground truth.
/// </summary>
public sealed class FlightSimulator : IDisposable
{
    private const double Deg = Math.PI / 180;
    private static readonly RayCastOptions s_rays = new() { ToleranceMetres = 0.01, MaxRangeMetres = 30_000 };

    private readonly FlightSimulationOptions _options;
    private readonly DemTerrain _dem;
    private readonly ITerrain _terrain;
    private readonly GeoidModel _geoid = GeoidModel.Egm96OrZero;
    private readonly GroundTexture _texture;
    private readonly (double X, double Y) _orbitCentre;
    private readonly double _targetHeight;
    private readonly double _flightHeight;
    private readonly int _gridStep;
    private readonly (double X, double Y) _vehicleShadow; // metres east and north of the body
    private readonly (double X, double Y) _personShadow;
    private readonly object _terrainGate = new();

    private FlightSimulator(FlightSimulationOptions options, string demPath, DemTerrain dem, LocalFrame frame)
    {
        _options = options;
        DemPath = demPath;
        _dem = dem;
        Frame = frame;
        World = new FlightWorld(options.Seed, options.Seconds, options.ExtraPeople);
        // The default sun's offsets are kept exactly as the first scenarios drew them (the drone model learnt them).
        if (options.ShadowBearing == 135 && options.ShadowLength == 1)
        {
            _vehicleShadow = (0.9, -0.9);
            _personShadow = (1.4, -1.4);
        }
        else
        {
            var (sin, cos) = Math.SinCos(options.ShadowBearing * Deg);
            var scale = Math.Sqrt(2) * options.ShadowLength;
            _vehicleShadow = (0.9 * scale * sin, 0.9 * scale * cos);
            _personShadow = (1.4 * scale * sin, 1.4 * scale * cos);
        }

        var roadCross = World.Road.At(World.Road.FirstCrossing(World.BorderPoint, World.BorderDirection)!.Value);
        _orbitCentre = (roadCross.X, roadCross.Y);
        var centreSample = dem.Sample(frame.OriginLatitude, frame.OriginLongitude);
        if (!centreSample.HasHeight)
        {
            throw new VideoException($"{demPath}: the DEM has no height at its centre ({frame.OriginLatitude:0.#####}, {frame.OriginLongitude:0.#####})");
        }

        // Outside the DEM or on voids the ground continues flat at the centre's height.
        _terrain = dem.WithFallback(new ConstantTerrain(centreSample.HeightAboveEllipsoid, HeightReference.Ellipsoid, origin: "DEM centre height"));
        _targetHeight = HeightAt(_orbitCentre.X, _orbitCentre.Y);
        var highestUnderOrbit = Enumerable.Range(0, 72).Max(k =>
        {
            var (s, c) = Math.SinCos(k * 5 * Deg);
            return HeightAt(_orbitCentre.X + options.OrbitRadius * s, _orbitCentre.Y + options.OrbitRadius * c);
        });
        _flightHeight = Math.Max(_targetHeight + options.AltitudeAboveGround, highestUnderOrbit + 150);

        // Texels a little finer than the ground pixels at the frame centre, never finer than 0.5 m.
        var slant = Math.Sqrt(options.OrbitRadius * options.OrbitRadius + Math.Pow(_flightHeight - _targetHeight, 2));
        var gsd = 2 * slant * Math.Tan(options.HorizontalFov * Deg / 2) / options.Width;
        var texel = Math.Max(0.5, 0.75 * gsd);
        var half = Math.Max(Math.Abs(_orbitCentre.X), Math.Abs(_orbitCentre.Y)) + options.OrbitRadius + 1.6 * (_flightHeight - _targetHeight) + 200;
        _texture = new GroundTexture(World, HeightAt, half, texel, options.Seed);
        _gridStep = options.Width >= 640 ? 16 : 8;
        GroundSampleDistance = gsd;
    }

    public LocalFrame Frame { get; }

    public FlightWorld World { get; }

    public string DemPath { get; }

    public int FrameCount => (int)Math.Round(_options.Seconds * _options.Fps);

    /// <summary>Ground metres per pixel at the frame centre.</summary>
    public double GroundSampleDistance { get; }

    /// <summary>
    /// Sets up a flight: opens <see cref="FlightSimulationOptions.DemPath"/>, or writes a procedural mountain DEM to
    /// <paramref name="outputDirectory"/>/dem.tif, and paints the ground texture.
    /// </summary>
    public static FlightSimulator Create(FlightSimulationOptions options, string outputDirectory)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Directory.CreateDirectory(outputDirectory);
        string demPath;
        LocalFrame frame;
        if (options.DemPath is { } given)
        {
            if (!File.Exists(given))
            {
                throw new VideoException($"{given}: no such DEM file");
            }

            demPath = Path.GetFullPath(given);
            var probe = DemTerrain.Open(demPath);
            frame = new LocalFrame(probe.CentreLatitude, probe.CentreLongitude);
            return new FlightSimulator(options, demPath, probe, frame);
        }

        frame = new LocalFrame(options.OriginLatitude, options.OriginLongitude);
        demPath = Path.Combine(Path.GetFullPath(outputDirectory), "dem.tif");
        var surface = MountainSurface(options.Seed);
        SyntheticDem.WriteGeoTiff(demPath, DemGrid.Geographic(frame.OriginLatitude, frame.OriginLongitude, 2500, 10), (lat, lon) =>
        {
            var (x, y) = frame.ToLocal(lat, lon);
            return surface(x, y);
        });
        return new FlightSimulator(options, demPath, DemTerrain.Open(demPath), frame);
    }

    /// <summary>Mountains in local metres (MSL): a valley floor near 1,250 m between hills and ridges up to about 700 m higher.</summary>
    public static Func<double, double, double> MountainSurface(int seed)
    {
        var random = new Random(seed * 7919 + 13);
        var hills = Enumerable.Range(0, 10).Select(_ =>
        {
            var angle = random.NextDouble() * 2 * Math.PI;
            // Keep the big hills off the crossing at the origin: the road runs up a valley.
            var distance = 500 + random.NextDouble() * 1700;
            return (X: distance * Math.Sin(angle), Y: distance * Math.Cos(angle), Amplitude: 120 + random.NextDouble() * 380, Sigma: 220 + random.NextDouble() * 450);
        }).ToArray();
        var phase = random.NextDouble() * 10;
        return (x, y) =>
        {
            var h = 1250 + 0.04 * y + 35 * Math.Sin(x / 310 + phase) * Math.Cos(y / 270);
            foreach (var hill in hills)
            {
                var r2 = (x - hill.X) * (x - hill.X) + (y - hill.Y) * (y - hill.Y);
                h += hill.Amplitude * Math.Exp(-r2 / (2 * hill.Sigma * hill.Sigma));
            }

            return h;
        };
    }

    /// <summary>Terrain height (HAE) at local metres.</summary>
    public double HeightAt(double x, double y)
    {
        var (lat, lon) = Frame.ToLatLon(x, y);
        lock (_terrainGate)
        {
            return _terrain.Sample(lat, lon).HeightAboveEllipsoid;
        }
    }

    /// <summary>
    /// The camera at a time: the drone flies a clockwise orbit around the crossing, banked for the turn, and the
    /// gimbal keeps the line of sight on the crossing (about 58 degrees down with the defaults).
    /// </summary>
    public CameraPose PoseAt(double time)
    {
        var o = _options;
        var bearing = 200 * Deg + o.AirSpeed / o.OrbitRadius * time;
        var (sin, cos) = Math.SinCos(bearing);
        var x = _orbitCentre.X + o.OrbitRadius * sin;
        var y = _orbitCentre.Y + o.OrbitRadius * cos;
        var (lat, lon) = Frame.ToLatLon(x, y);
        var heading = Normalize360(bearing / Deg + 90);
        var roll = Math.Atan(o.AirSpeed * o.AirSpeed / (9.81 * o.OrbitRadius)) / Deg;
        const double pitch = 2;
        var los = new Vec3(_orbitCentre.Y - y, _orbitCentre.X - x, _flightHeight - _targetHeight).Normalized(); // NED
        var body = CameraModel.PlatformToNed(heading, pitch, roll).Transpose() * los;
        var azimuth = Normalize360(Math.Atan2(body.Y, body.X) / Deg);
        var elevation = Math.Atan2(-body.Z, Math.Sqrt(body.X * body.X + body.Y * body.Y)) / Deg;
        var vfov = 2 * Math.Atan(Math.Tan(o.HorizontalFov * Deg / 2) * o.Height / o.Width) / Deg;
        return new CameraPose
        {
            SensorLatitude = lat,
            SensorLongitude = lon,
            SensorHeight = _flightHeight,
            SensorHeightReference = HeightReference.Ellipsoid,
            PlatformHeading = heading,
            PlatformPitch = pitch,
            PlatformRoll = roll,
            SensorRelativeAzimuth = azimuth,
            SensorRelativeElevation = elevation,
            SensorRelativeRoll = 0,
            HorizontalFov = o.HorizontalFov,
            VerticalFov = vfov,
            FrameWidth = o.Width,
            FrameHeight = o.Height,
        };
    }

    private static double Normalize360(double degrees) => degrees - 360 * Math.Floor(degrees / 360);

    /// <summary>
    /// Renders the frame at <paramref name="time"/> seconds into <paramref name="into"/> (3 * W * H bytes, BGR) or a new
    /// buffer, with the truth objects and their pixel boxes. Not thread-safe across calls on one simulator.
    /// </summary>
    public SimulatedFrame RenderFrame(double time, byte[]? into = null)
    {
        int w = _options.Width, h = _options.Height;
        var bgr = into ?? new byte[w * h * 3];
        if (bgr.Length != w * h * 3)
        {
            throw new ArgumentException($"Buffer of {bgr.Length} bytes for a {w} x {h} frame.", nameof(into));
        }

        var pose = PoseAt(time);
        var camera = CameraModel.FromPose(pose, _geoid);
        var step = _gridStep;
        var nx = (w + step - 1) / step + 1;
        var ny = (h + step - 1) / step + 1;
        var gx = new double[nx * ny];
        var gy = new double[nx * ny];
        var hit = new bool[nx * ny];
        var range = new double[nx * ny];
        var footprint = new double[]?[4];
        lock (_terrainGate)
        {
            for (var l = 0; l < ny; l++)
            {
                for (var k = 0; k < nx; k++)
                {
                    double px = Math.Min(k * step, w), py = Math.Min(l * step, h);
                    var n = l * nx + k;
                    var direction = camera.RayDirection(px, py);
                    // Start the march most of the way to where the neighbouring ray landed: the air before it is empty
                    // (the camera looks steeply down), and marching it costs most of the time. If that start is already
                    // under the ground, cast again from the sensor.
                    var guess = k > 0 ? range[n - 1] : l > 0 ? range[n - nx] : 0;
                    var skip = Math.Max(0, 0.8 * guess - 20);
                    var ray = RayCaster.Cast(camera.PositionEcef + skip * direction, direction, _terrain, s_rays);
                    if (ray.Status == RayStatus.SensorBelowTerrain && skip > 0)
                    {
                        skip = 0;
                        ray = RayCaster.Cast(camera.PositionEcef, direction, _terrain, s_rays);
                    }

                    range[n] = ray.IsHit ? skip + ray.Range : 0;
                    if (ray.IsHit)
                    {
                        (gx[n], gy[n]) = Frame.ToLocal(ray.Point.Latitude, ray.Point.Longitude);
                        hit[n] = true;
                    }

                    var corner = (k, l) == (0, 0) ? 0 : (k, l) == (nx - 1, 0) ? 1 : (k, l) == (nx - 1, ny - 1) ? 2 : (k, l) == (0, ny - 1) ? 3 : -1;
                    if (corner >= 0)
                    {
                        footprint[corner] = ray.IsHit ? [ray.Point.Longitude, ray.Point.Latitude, ray.Point.HeightAboveEllipsoid] : null;
                    }
                }
            }
        }

        var centreRay = Cast(camera, w / 2.0, h / 2.0);
        double[]? centre = centreRay.IsHit ? [centreRay.Point.Longitude, centreRay.Point.Latitude, centreRay.Point.HeightAboveEllipsoid] : null;
        FillGround(bgr, w, h, step, nx, gx, gy, hit);
        var objects = DrawObjects(bgr, w, h, camera, time);
        return new SimulatedFrame(w, h, bgr, time, pose, camera, objects, centre, footprint);
    }

    private RayHit Cast(CameraModel camera, double column, double row)
    {
        lock (_terrainGate)
        {
            return RayCaster.Cast(camera.PositionEcef, camera.RayDirection(column, row), _terrain, s_rays);
        }
    }

    /// <summary>Every pixel: ground position interpolated in its grid cell, then the texture there; sky where a ray missed.</summary>
    private void FillGround(byte[] bgr, int w, int h, int step, int nx, double[] gx, double[] gy, bool[] hit)
    {
        Parallel.For(0, h, row =>
        {
            var span = bgr.AsSpan(row * w * 3, w * 3);
            var cy = row + 0.5;
            var l = Math.Min((int)(cy / step), (h - 1) / step);
            double y0 = l * step, y1 = Math.Min((l + 1) * step, h);
            var fv = (cy - y0) / (y1 - y0);
            for (var k = 0; k * step < w; k++)
            {
                // Ground x, y are linear along the row inside a cell: interpolate the cell's left and right edges
                // once, then step by a constant per pixel.
                var n00 = l * nx + k;
                var n01 = n00 + nx;
                int c0 = k * step, c1 = Math.Min(c0 + step, w);
                if (!(hit[n00] && hit[n00 + 1] && hit[n01] && hit[n01 + 1]))
                {
                    for (var p = c0 * 3; p < c1 * 3; p += 3)
                    {
                        span[p] = 225;
                        span[p + 1] = 205;
                        span[p + 2] = 185;
                    }

                    continue;
                }

                var xl = gx[n00] + (gx[n01] - gx[n00]) * fv;
                var xr = gx[n00 + 1] + (gx[n01 + 1] - gx[n00 + 1]) * fv;
                var yl = gy[n00] + (gy[n01] - gy[n00]) * fv;
                var yr = gy[n00 + 1] + (gy[n01 + 1] - gy[n00 + 1]) * fv;
                var width = (double)(c1 - c0);
                var dx = (xr - xl) / width;
                var dy = (yr - yl) / width;
                var x = xl + 0.5 * dx;
                var y = yl + 0.5 * dy;
                for (var col = c0; col < c1; col++, x += dx, y += dy)
                {
                    _texture.Sample(x, y, span.Slice(col * 3, 3));
                }
            }
        });
    }

    /// <summary>Shadows first, then bodies (vehicles with a dark windscreen band), seen through the camera.</summary>
    private List<FrameObjectTruth> DrawObjects(byte[] bgr, int w, int h, CameraModel camera, double time)
    {
        var result = new List<FrameObjectTruth>(World.Objects.Count);
        Span<double> xs = stackalloc double[4];
        Span<double> ys = stackalloc double[4];
        foreach (var o in World.Objects)
        {
            var (x, y, heading) = o.At(time);
            var z = HeightAt(x, y);
            var (lat, lon) = Frame.ToLatLon(x, y);
            var (sin, cos) = Math.SinCos(heading);
            // Shadows fall away from the sun (by default to the south-east), longer for people (taller than wide).
            var shadow = o.Class == SimulatedObjectClass.Vehicle ? _vehicleShadow : _personShadow;
            double[]? shadowBox = null;
            if (Project(camera, x + shadow.X, y + shadow.Y, z, o.Length, o.Width, sin, cos, -0.5, 0.5, xs, ys))
            {
                FillQuad(bgr, w, h, xs, ys, 20, 25, 25, 0.55);
                // A person's shadow (2 m from a 0.6 m body) is a dark dot of its own; a vehicle's overlaps its body.
                shadowBox = o.Class == SimulatedObjectClass.Vehicle ? null : PixelBox(xs, ys, w, h);
            }

            double[]? box = null;
            if (Project(camera, x, y, z, o.Length, o.Width, sin, cos, -0.5, 0.5, xs, ys))
            {
                FillQuad(bgr, w, h, xs, ys, o.R, o.G, o.B, 1.0);
                box = PixelBox(xs, ys, w, h);

                if (o.Class == SimulatedObjectClass.Vehicle && Project(camera, x, y, z, o.Length, o.Width * 0.9, sin, cos, 0.12, 0.3, xs, ys))
                {
                    FillQuad(bgr, w, h, xs, ys, 25, 30, 38, 0.85);
                }
            }

            result.Add(new FrameObjectTruth(o.Id, o.ClassName, lat, lon, z, box, shadowBox));
        }

        return result;
    }

    /// <summary>The pixel bounds of a projected quad clipped to the frame; null when nothing of it is inside.</summary>
    private static double[]? PixelBox(ReadOnlySpan<double> xs, ReadOnlySpan<double> ys, int w, int h)
    {
        double x0 = Math.Max(0, Min(xs)), x1 = Math.Min(w, Max(xs)), y0 = Math.Max(0, Min(ys)), y1 = Math.Min(h, Max(ys));
        return x1 > x0 && y1 > y0 ? [Math.Round(x0, 2), Math.Round(y0, 2), Math.Round(x1, 2), Math.Round(y1, 2)] : null;
    }

    private static double Min(ReadOnlySpan<double> v) => Math.Min(Math.Min(v[0], v[1]), Math.Min(v[2], v[3]));
    private static double Max(ReadOnlySpan<double> v) => Math.Max(Math.Max(v[0], v[1]), Math.Max(v[2], v[3]));

    /// <summary>
    /// Pixel corners of the part of an object's rectangle from <paramref name="from"/> to <paramref name="to"/> of its
    /// length (centre 0, nose +0.5); false when a corner is behind the camera.
    /// </summary>
    private bool Project(CameraModel camera, double x, double y, double z, double length, double width, double sin, double cos,
        double from, double to, Span<double> xs, Span<double> ys)
    {
        ReadOnlySpan<(double A, double C)> corners = [(to, -0.5), (to, 0.5), (from, 0.5), (from, -0.5)];
        for (var i = 0; i < 4; i++)
        {
            var a = corners[i].A * length;
            var c = corners[i].C * width;
            var (lat, lon) = Frame.ToLatLon(x + a * sin + c * cos, y + a * cos - c * sin);
            if (!camera.TryProject(new GeoPoint(lat, lon, z + 0.05), out xs[i], out ys[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Fills a convex quad (pixel centres inside all four edges), blending with <paramref name="alpha"/>.</summary>
    private static void FillQuad(byte[] bgr, int w, int h, ReadOnlySpan<double> xs, ReadOnlySpan<double> ys, byte r, byte g, byte b, double alpha)
    {
        var x0 = Math.Max(0, (int)Math.Floor(Min(xs)));
        var x1 = Math.Min(w - 1, (int)Math.Ceiling(Max(xs)));
        var y0 = Math.Max(0, (int)Math.Floor(Min(ys)));
        var y1 = Math.Min(h - 1, (int)Math.Ceiling(Max(ys)));
        // Orientation of the quad decides which side of each edge is inside.
        var area = 0.0;
        for (var i = 0; i < 4; i++)
        {
            var j = (i + 1) & 3;
            area += xs[i] * ys[j] - xs[j] * ys[i];
        }

        var sign = area >= 0 ? 1 : -1;
        for (var py = y0; py <= y1; py++)
        {
            for (var px = x0; px <= x1; px++)
            {
                double cx = px + 0.5, cy = py + 0.5;
                var inside = true;
                for (var i = 0; i < 4 && inside; i++)
                {
                    var j = (i + 1) & 3;
                    inside = sign * ((xs[j] - xs[i]) * (cy - ys[i]) - (ys[j] - ys[i]) * (cx - xs[i])) >= 0;
                }

                if (inside)
                {
                    var p = (py * w + px) * 3;
                    bgr[p] = (byte)(bgr[p] + (b - bgr[p]) * alpha);
                    bgr[p + 1] = (byte)(bgr[p + 1] + (g - bgr[p + 1]) * alpha);
                    bgr[p + 2] = (byte)(bgr[p + 2] + (r - bgr[p + 2]) * alpha);
                }
            }
        }
    }

    /// <summary>The ST 0601 packet of a frame: pose, fields of view, frame centre and corners from the truth, and optionally VMTI.</summary>
    public byte[] EncodeTelemetry(SimulatedFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var pose = frame.Pose;
        var time = _options.StartTime.AddTicks((long)Math.Round(frame.Time * TimeSpan.TicksPerSecond));
        var micros = (time - DateTimeOffset.UnixEpoch).Ticks / 10;
        var msl = pose.SensorHeight - _geoid.Undulation(pose.SensorLatitude, pose.SensorLongitude);
        var fields = new List<KlvField>
        {
            KlvField.Integer(St0601.PrecisionTimeStamp, micros),
            KlvField.Text(3, "SITEWATCH-SIM"),
            KlvField.Number(St0601.PlatformHeading, pose.PlatformHeading),
            KlvField.Number(St0601.PlatformPitch, pose.PlatformPitch),
            KlvField.Number(St0601.PlatformRoll, pose.PlatformRoll),
            KlvField.Number(St0601.SensorLatitude, pose.SensorLatitude),
            KlvField.Number(St0601.SensorLongitude, pose.SensorLongitude),
            KlvField.Number(St0601.SensorTrueAltitude, msl),
            KlvField.Number(St0601.HorizontalFov, pose.HorizontalFov),
            KlvField.Number(St0601.VerticalFov, pose.VerticalFov!.Value),
            KlvField.Number(St0601.SensorRelativeAzimuth, pose.SensorRelativeAzimuth),
            KlvField.Number(St0601.SensorRelativeElevation, pose.SensorRelativeElevation),
            KlvField.Number(St0601.SensorRelativeRoll, pose.SensorRelativeRoll),
        };
        if (frame.Centre is [var cLon, var cLat, var cHae])
        {
            var sensor = Wgs84.ToEcef(pose.SensorLatitude, pose.SensorLongitude, pose.SensorHeight);
            fields.Add(KlvField.Number(St0601.SlantRange, (Wgs84.ToEcef(cLat, cLon, cHae) - sensor).Length));
            fields.Add(KlvField.Number(St0601.FrameCenterLatitude, cLat));
            fields.Add(KlvField.Number(St0601.FrameCenterLongitude, cLon));
            fields.Add(KlvField.Number(St0601.FrameCenterElevation, cHae - _geoid.Undulation(cLat, cLon)));
            if (frame.Footprint.All(c => c is not null))
            {
                // Tags 26-33: offsets of corners 1-4 (upper-left, upper-right, lower-right, lower-left) from the centre.
                for (var k = 0; k < 4; k++)
                {
                    fields.Add(KlvField.Number(26 + 2 * k, frame.Footprint[k]![1] - cLat));
                    fields.Add(KlvField.Number(27 + 2 * k, frame.Footprint[k]![0] - cLon));
                }
            }
        }

        fields.Add(KlvField.Integer(St0601.UasLsVersion, St0601.Version));
        if (_options.Vmti)
        {
            fields.Add(KlvField.Set(St0601.VmtiLocalSet, VmtiFields(frame)));
        }

        fields.Add(KlvField.Number(75, pose.SensorHeight));
        fields.Add(KlvField.Number(90, pose.PlatformPitch));
        fields.Add(KlvField.Number(91, pose.PlatformRoll));
        return KlvEncoder.EncodePacket(St0601.Schema, fields);
    }

    /// <summary>ST 0903 VMTI: one VTarget per truth object in view (pixel numbers are 1-based row-major, as ST 0903 counts them).</summary>
    private static List<KlvField> VmtiFields(SimulatedFrame frame)
    {
        var w = frame.Width;
        long Pixel(double column, double row) =>
            (long)Math.Clamp(Math.Floor(column), 0, w - 1) + 1 + (long)Math.Clamp(Math.Floor(row), 0, frame.Height - 1) * w;
        var inView = frame.Objects.Where(o => o.Box is not null).ToList();
        var targets = inView.Select(o =>
        {
            var b = o.Box!;
            double cx = (b[0] + b[2]) / 2, cy = (b[1] + b[3]) / 2;
            var location = new byte[10];
            WriteUInt(location.AsSpan(0, 4), Imapb.Create(-90, 90, 4).Encode(o.Latitude));
            WriteUInt(location.AsSpan(4, 4), Imapb.Create(-180, 180, 4).Encode(o.Longitude));
            WriteUInt(location.AsSpan(8, 2), Imapb.Create(-900, 19000, 2).Encode(o.HeightAboveEllipsoid));
            IReadOnlyList<KlvField> items =
            [
                KlvField.Integer(1, Pixel(cx, cy)),
                KlvField.Integer(2, Pixel(b[0], b[1])),
                KlvField.Integer(3, Pixel(b[2] - 1e-6, b[3] - 1e-6)),
                KlvField.Integer(5, 100),
                KlvField.Bytes(17, location),
                KlvField.Integer(19, (long)Math.Floor(cy)),
                KlvField.Integer(20, (long)Math.Floor(cx)),
            ];
            return ((ulong)o.Id, items);
        }).ToList();
        var fields = new List<KlvField>
        {
            KlvField.Integer(5, inView.Count),
            KlvField.Integer(6, inView.Count),
            KlvField.Integer(8, frame.Width),
            KlvField.Integer(9, frame.Height),
        };
        if (targets.Count > 0)
        {
            fields.Add(KlvField.IdSeries(St0903.VTargetSeries, targets));
        }

        return fields;
    }

    private static void WriteUInt(Span<byte> d, ulong v)
    {
        for (var i = d.Length - 1; i >= 0; i--)
        {
            d[i] = (byte)v;
            v >>= 8;
        }
    }

    /// <summary>
    /// Renders every frame, encodes and muxes them into <paramref name="output"/> (MPEG-TS, one KLV packet per frame)
    /// and returns the truth. <paramref name="frameWritten"/> gets each frame's index and the output length after it.
    /// </summary>
    public async Task<FlightTruth> WriteTsAsync(Stream output, IProgress<int>? progress = null, Action<int, long>? frameWritten = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        var frames = FrameCount;
        var ticks = (double)Video.Ts.MpegClock.Hz / _options.Fps;
        const long firstPts = 126_000; // 1.4 s, ffmpeg's habit: room for the PCR to run ahead
        var muxer = new TsMuxer(output, new TsMuxerOptions { Klv = _options.KlvTransport, PsiIntervalFrames = Math.Max(1, (int)Math.Round(_options.Fps / 2)) });
        var telemetry = new ConcurrentDictionary<long, byte[]>();
        var truth = new FrameTruth[frames];
        await using var encoder = H264Encoder.Start(_options.Width, _options.Height, _options.Fps, gop: Math.Max(1, (int)Math.Round(_options.Fps)), _options.FfmpegPath);
        var muxing = Task.Run(async () =>
        {
            await foreach (var au in encoder.AccessUnits.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var pts = firstPts + (long)Math.Round(au.Index * ticks);
                muxer.WriteVideo(au.Bytes, pts, keyframe: au.Keyframe);
                if (telemetry.TryRemove(au.Index, out var klv))
                {
                    muxer.WriteKlv(klv, pts);
                }

                frameWritten?.Invoke((int)au.Index, output.Position);
            }
        }, ct);

        var buffer = new byte[_options.Width * _options.Height * 3];
        for (var i = 0; i < frames; i++)
        {
            ct.ThrowIfCancellationRequested();
            var time = i / _options.Fps;
            var frame = RenderFrame(time, buffer);
            telemetry[i] = EncodeTelemetry(frame);
            truth[i] = new FrameTruth(i, Math.Round(time, 6), firstPts + (long)Math.Round(i * ticks), CameraTruthOf(frame.Pose), frame.Centre, frame.Footprint, frame.Objects);
            await encoder.WriteFrameAsync(buffer, ct).ConfigureAwait(false);
            progress?.Report(i + 1);
        }

        await encoder.CompleteAsync().ConfigureAwait(false);
        await muxing.ConfigureAwait(false);
        muxer.Flush();
        return BuildTruth(truth);
    }

    /// <summary>
    /// Renders and encodes the whole flight first (so rendering speed cannot stall the stream), then sends it to
    /// <paramref name="target"/> paced in real time: each frame's packets leave at its presentation time, in datagrams
    /// of 7 TS packets (1,316 bytes).
    /// </summary>
    public async Task<FlightTruth> StreamUdpAsync(IPEndPoint target, IProgress<int>? progress = null, IProgress<int>? sent = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        using var buffer = new MemoryStream();
        var ends = new long[FrameCount];
        var truth = await WriteTsAsync(buffer, progress, (i, end) => ends[i] = end, ct).ConfigureAwait(false);
        var bytes = buffer.GetBuffer();
        using var udp = new UdpClient(target.AddressFamily);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long start = 0;
        const int datagram = 7 * TsDemuxer.PacketSize;
        for (var i = 0; i < ends.Length; i++)
        {
            var due = TimeSpan.FromSeconds(i / _options.Fps) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, ct).ConfigureAwait(false);
            }

            // The last frame also carries whatever the muxer wrote after it.
            var end = i == ends.Length - 1 ? buffer.Length : Math.Max(start, ends[i]);
            for (var offset = start; offset < end; offset += datagram)
            {
                await udp.SendAsync(bytes.AsMemory((int)offset, (int)Math.Min(datagram, end - offset)), target, ct).ConfigureAwait(false);
            }

            start = end;
            sent?.Report(i + 1);
        }

        return truth;
    }

    private static CameraTruth CameraTruthOf(CameraPose p) => new(p.SensorLatitude, p.SensorLongitude, p.SensorHeight, p.PlatformHeading, p.PlatformPitch,
        p.PlatformRoll, p.SensorRelativeAzimuth, p.SensorRelativeElevation, p.SensorRelativeRoll, p.HorizontalFov, p.VerticalFov ?? double.NaN);

    private FlightTruth BuildTruth(FrameTruth[] frames)
    {
        double[] LonLat((double X, double Y) p)
        {
            var (lat, lon) = Frame.ToLatLon(p.X, p.Y);
            return [Math.Round(lon, 9), Math.Round(lat, 9)];
        }

        var objects = World.Objects.Select(o => new ObjectTruth(o.Id, o.ClassName, o.Speed, Crossings(o), ZoneEntries(o))).ToList();
        return new FlightTruth
        {
            Dem = DemPath,
            DemDescription = _dem.Description,
            OriginLatitude = Frame.OriginLatitude,
            OriginLongitude = Frame.OriginLongitude,
            Fps = _options.Fps,
            Width = _options.Width,
            Height = _options.Height,
            StartTime = _options.StartTime,
            Border = World.Border.Select(LonLat).ToList(),
            Zone = World.Zone.Append(World.Zone[0]).Select(LonLat).ToList(),
            Objects = objects,
            Frames = frames,
        };
    }

    /// <summary>Border crossings during the flight, found on a 10 ms grid and interpolated.</summary>
    private List<CrossingTruth> Crossings(SimulatedObject o)
    {
        var list = new List<CrossingTruth>();
        const double dt = 0.01;
        var (px, py, _) = o.At(0);
        var previous = World.BorderSide(px, py);
        for (var t = dt; t <= _options.Seconds + 1e-9; t += dt)
        {
            var (x, y, _) = o.At(t);
            var side = World.BorderSide(x, y);
            if (Math.Sign(side) != Math.Sign(previous) && side != 0)
            {
                var f = previous / (previous - side);
                var time = t - dt + f * dt;
                var (cx, cy, _) = o.At(time);
                var (lat, lon) = Frame.ToLatLon(cx, cy);
                list.Add(new CrossingTruth(Math.Round(time, 3), side > 0 ? "left" : "right", lat, lon));
            }

            previous = side;
        }

        return list;
    }

    private List<double> ZoneEntries(SimulatedObject o)
    {
        var list = new List<double>();
        const double dt = 0.01;
        var (x0, y0, _) = o.At(0);
        var inside = World.InZone(x0, y0);
        for (var t = dt; t <= _options.Seconds + 1e-9; t += dt)
        {
            var (x, y, _) = o.At(t);
            var now = World.InZone(x, y);
            if (now && !inside)
            {
                list.Add(Math.Round(t, 2));
            }

            inside = now;
        }

        return list;
    }

    /// <summary>
    /// Watch zones as GeoJSON: the border as a LineString with property buffer_m (alert within that distance of the
    /// line) and the yard beside the road as a Polygon.
    /// </summary>
    public void WriteZones(string path, double bufferMetres = 25)
    {
        var truth = BuildTruth([]);
        var geoJson = new
        {
            type = "FeatureCollection",
            features = new object[]
            {
                new
                {
                    type = "Feature",
                    properties = new Dictionary<string, object> { ["name"] = "border", ["rule"] = "crossing", ["buffer_m"] = bufferMetres },
                    geometry = new { type = "LineString", coordinates = truth.Border },
                },
                new
                {
                    type = "Feature",
                    properties = new Dictionary<string, object> { ["name"] = "checkpoint yard", ["rule"] = Core.Alerts.RuleKind.Enter },
                    geometry = new { type = "Polygon", coordinates = new[] { truth.Zone } },
                },
            },
        };
        File.WriteAllText(path, JsonSerializer.Serialize(geoJson));
    }

    public void Dispose() => _dem.Dispose();
}
