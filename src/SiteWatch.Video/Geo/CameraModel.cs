namespace SiteWatch.Video.Geo;

/// <summary>
/// A pinhole camera in Earth-centred, Earth-fixed (ECEF, WGS 84) coordinates.
/// <para>
/// Camera frame: x along the line of sight, y to the right of the image, z down the image (rows grow along z):
/// the usual "forward, right, down" body convention, so a camera with no rotation looks along the platform's nose
/// with the top of the image up.
/// </para>
/// <para>
/// Pixel coordinates are continuous: (0, 0) is the upper-left corner of the upper-left pixel, (W, H) the lower-right
/// corner of the lower-right one, and the principal point is the frame centre (W/2, H/2); the centre of pixel (i, j)
/// is (i + 0.5, j + 0.5).
/// </para>
/// </summary>
public sealed class CameraModel
{
    private const double Deg = Math.PI / 180;

    private readonly Mat3 _ecefToCamera;

    public CameraModel(GeoPoint position, Mat3 cameraToNed, double focalX, double focalY, int width, int height)
    {
        if (!(Math.Abs(position.Latitude) <= 90) || !double.IsFinite(position.Longitude) || !double.IsFinite(position.HeightAboveEllipsoid))
        {
            throw new ArgumentOutOfRangeException(nameof(position), $"Sensor position {position} is not a valid WGS 84 position.");
        }

        if (width <= 0 || height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"Frame size {width} x {height} is not valid.");
        }

        if (!(focalX > 0) || !(focalY > 0) || !double.IsFinite(focalX) || !double.IsFinite(focalY))
        {
            throw new ArgumentOutOfRangeException(nameof(focalX), "Focal lengths must be positive and finite.");
        }

        Position = position;
        PositionEcef = Wgs84.ToEcef(position);
        CameraToNed = cameraToNed;
        CameraToEcef = Wgs84.NedToEcef(position.Latitude, position.Longitude) * cameraToNed;
        _ecefToCamera = CameraToEcef.Transpose();
        FocalX = focalX;
        FocalY = focalY;
        Width = width;
        Height = height;
    }

    /// <summary>Sensor position (height above the ellipsoid).</summary>
    public GeoPoint Position { get; }

    public Vec3 PositionEcef { get; }

    /// <summary>Rotation from the camera frame to the local North-East-Down frame at the sensor.</summary>
    public Mat3 CameraToNed { get; }

    /// <summary>Rotation from the camera frame to the local East-North-Up frame at the sensor.</summary>
    public Mat3 CameraToEnu => new Mat3(0, 1, 0, 1, 0, 0, 0, 0, -1) * CameraToNed;

    /// <summary>Rotation from the camera frame to ECEF.</summary>
    public Mat3 CameraToEcef { get; }

    /// <summary>Focal lengths in pixels: fx = (W/2) / tan(HFOV/2), fy = (H/2) / tan(VFOV/2).</summary>
    public double FocalX { get; }
    public double FocalY { get; }

    public int Width { get; }
    public int Height { get; }

    public double PrincipalX => Width / 2.0;
    public double PrincipalY => Height / 2.0;

    /// <summary>Notes from building the model (geoid used, pixel aspect).</summary>
    public IReadOnlyList<string> Notes { get; private init; } = [];

    /// <summary>True when an MSL sensor altitude was taken as an ellipsoid height because no geoid grid is installed.</summary>
    public bool UsedApproximateGeoid { get; private init; }

    /// <summary>Set when the HFOV and VFOV tags imply non-square pixels (more than 5 % off): says by how much.</summary>
    public string? PixelAspectWarning { get; private init; }

    /// <summary>
    /// Platform attitude as a rotation from the platform body frame (x nose, y right wing, z belly) to NED:
    /// R = Rz(heading) * Ry(pitch) * Rx(roll), the aerospace yaw-pitch-roll sequence ST 0601 uses.
    /// Positive pitch lifts the nose (Ry maps x to (cos, 0, -sin): up in NED), positive roll lowers the right wing
    /// (Rx maps y to (0, cos, sin): down in NED), heading turns clockwise seen from above (x to east at 90 degrees).
    /// </summary>
    public static Mat3 PlatformToNed(double heading, double pitch, double roll) =>
        Mat3.RotationZ(heading * Deg) * Mat3.RotationY(pitch * Deg) * Mat3.RotationX(roll * Deg);

    /// <summary>
    /// Gimbal as a rotation from the camera frame to the platform body frame, the same sequence relative to the
    /// platform: R = Rz(azimuth) * Ry(elevation) * Rx(roll). Azimuth turns the line of sight clockwise from the nose
    /// seen from above, negative elevation points it down (-90 is straight through the belly), positive roll turns
    /// the image clockwise seen from behind the camera (right side of the image moves down).
    /// </summary>
    public static Mat3 SensorToPlatform(double azimuth, double elevation, double roll) =>
        Mat3.RotationZ(azimuth * Deg) * Mat3.RotationY(elevation * Deg) * Mat3.RotationX(roll * Deg);

    /// <summary>
    /// Builds the camera of a pose: platform rotation then gimbal rotation (camera-to-NED = platform * gimbal),
    /// MSL heights turned into ellipsoid heights with <paramref name="geoid"/> (EGM96 when installed).
    /// With <paramref name="squarePixels"/> the VFOV tag is ignored and fy = fx.
    /// </summary>
    public static CameraModel FromPose(CameraPose pose, GeoidModel? geoid = null, bool squarePixels = false)
    {
        ArgumentNullException.ThrowIfNull(pose);
        var notes = new List<string>();
        string? aspectWarning = null;
        var approximateGeoid = false;
        if (!(pose.HorizontalFov > 0 && pose.HorizontalFov < 180))
        {
            throw new ArgumentOutOfRangeException(nameof(pose), FormattableString.Invariant(
                $"Horizontal field of view {pose.HorizontalFov} deg is outside (0, 180): no pinhole camera has it."));
        }

        var fx = pose.FrameWidth / 2.0 / Math.Tan(pose.HorizontalFov * Deg / 2);
        var fy = fx;
        if (!squarePixels && pose.VerticalFov is { } vfov)
        {
            if (!(vfov > 0 && vfov < 180))
            {
                throw new ArgumentOutOfRangeException(nameof(pose), FormattableString.Invariant(
                    $"Vertical field of view {vfov} deg is outside (0, 180): no pinhole camera has it."));
            }

            fy = pose.FrameHeight / 2.0 / Math.Tan(vfov * Deg / 2);
            var aspect = fx / fy;
            if (Math.Abs(aspect - 1) > 0.05)
            {
                var squareVfov = 2 * Math.Atan(pose.FrameHeight / 2.0 / fx) / Deg;
                aspectWarning = string.Create(CultureInfo.InvariantCulture,
                    $"HFOV {pose.HorizontalFov:0.###} and VFOV {vfov:0.###} deg on a {pose.FrameWidth} x {pose.FrameHeight} frame imply pixels {aspect:0.###} times taller than wide (square pixels would give a VFOV of {squareVfov:0.###} deg); the VFOV tag is honoured");
                notes.Add(aspectWarning);
            }
        }

        double hae;
        if (pose.SensorHeightReference == HeightReference.Msl)
        {
            var model = geoid ?? GeoidModel.Egm96OrZero;
            var n = model.Undulation(pose.SensorLatitude, pose.SensorLongitude);
            hae = pose.SensorHeight + n;
            approximateGeoid = model.IsApproximate;
            notes.Add(model.IsApproximate
                ? "no geoid grid installed: the sensor's MSL altitude is used as its ellipsoid height"
                : string.Create(CultureInfo.InvariantCulture, $"sensor MSL altitude + {model.Name} undulation {n:0.00} m = {hae:0.00} m HAE"));
        }
        else
        {
            hae = pose.SensorHeight;
        }

        var rotation = PlatformToNed(pose.PlatformHeading, pose.PlatformPitch, pose.PlatformRoll)
            * SensorToPlatform(pose.SensorRelativeAzimuth, pose.SensorRelativeElevation, pose.SensorRelativeRoll);
        return new CameraModel(new GeoPoint(pose.SensorLatitude, pose.SensorLongitude, hae), rotation, fx, fy, pose.FrameWidth, pose.FrameHeight)
        {
            Notes = notes,
            UsedApproximateGeoid = approximateGeoid,
            PixelAspectWarning = aspectWarning,
        };
    }

    /// <summary>Unit direction (ECEF) of the ray through a pixel position.</summary>
    public Vec3 RayDirection(double column, double row) =>
        (CameraToEcef * new Vec3(1, (column - PrincipalX) / FocalX, (row - PrincipalY) / FocalY)).Normalized();

    /// <summary>Unit direction (local North, East, Down at the sensor) of the ray through a pixel position.</summary>
    public Vec3 RayDirectionNed(double column, double row) =>
        (CameraToNed * new Vec3(1, (column - PrincipalX) / FocalX, (row - PrincipalY) / FocalY)).Normalized();

    /// <summary>Pixel position of an ECEF point; false when it is behind the camera.</summary>
    public bool TryProject(Vec3 ecef, out double column, out double row)
    {
        var c = _ecefToCamera * (ecef - PositionEcef);
        if (c.X <= 1e-9 * c.Length)
        {
            column = row = double.NaN;
            return false;
        }

        column = PrincipalX + FocalX * c.Y / c.X;
        row = PrincipalY + FocalY * c.Z / c.X;
        return true;
    }

    public bool TryProject(GeoPoint point, out double column, out double row) => TryProject(Wgs84.ToEcef(point), out column, out row);

    /// <summary>True when a pixel position lies on the frame (edges included).</summary>
    public bool Contains(double column, double row) => column >= 0 && column <= Width && row >= 0 && row <= Height;
}
