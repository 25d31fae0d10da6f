using SiteWatch.Video.Klv;

namespace SiteWatch.Video.Geo;

/// <summary>
/// EG 0104 gives the sensor's pointing in absolute terms (angle to north, obliquity, sensor roll) where ST 0601 gives
/// it relative to the platform (tags 18, 19, 20). This turns the first into the second so an EG 0104 set maps onto
/// the same <see cref="CameraPose"/> as an ST 0601 set.
/// </summary>
public static class Eg0104Pointing
{
    private const double Deg = Math.PI / 180;

    /// <summary>Sensor elevation above the horizontal from the obliquity angle (180 = forward on the horizon, 270 = straight down).</summary>
    public static double ElevationFromObliquity(double obliquity) => NormalizeSigned(180 - obliquity);

    /// <summary>The obliquity angle for a sensor elevation (inverse of <see cref="ElevationFromObliquity"/>), 0..360.</summary>
    public static double ObliquityFromElevation(double elevation) => NormalizeUnsigned(180 - elevation);

    /// <summary>
    /// Relative azimuth, elevation and roll (ST 0601 tags 18, 19, 20) of a sensor whose line of sight has the absolute
    /// azimuth <paramref name="angleToNorth"/> and elevation <paramref name="elevation"/> and rolls by
    /// <paramref name="sensorRoll"/> about it, on a platform with the given heading, pitch and roll (degrees).
    /// </summary>
    public static (double Azimuth, double Elevation, double Roll) ToRelative(double heading, double pitch, double roll,
        double angleToNorth, double elevation, double sensorRoll)
    {
        var absolute = CameraModel.SensorToPlatform(angleToNorth, elevation, sensorRoll);
        var relative = CameraModel.PlatformToNed(heading, pitch, roll).Transpose() * absolute;
        return Euler(relative);
    }

    /// <summary>Absolute angle to north, elevation and roll of the line of sight from ST 0601's relative angles (inverse of <see cref="ToRelative"/>).</summary>
    public static (double AngleToNorth, double Elevation, double Roll) ToAbsolute(double heading, double pitch, double roll,
        double azimuth, double elevation, double sensorRoll)
    {
        var absolute = CameraModel.PlatformToNed(heading, pitch, roll) * CameraModel.SensorToPlatform(azimuth, elevation, sensorRoll);
        return Euler(absolute);
    }

    /// <summary>Z-Y-X angles (degrees) of a rotation Rz(a) Ry(e) Rx(r): a in 0..360, e in -90..90, r in 0..360.</summary>
    private static (double, double, double) Euler(Mat3 m)
    {
        var e = Math.Asin(Math.Clamp(-m.M31, -1, 1)) / Deg;
        var a = Math.Atan2(m.M21, m.M11) / Deg;
        var r = Math.Atan2(m.M32, m.M33) / Deg;
        return (NormalizeUnsigned(a), e, NormalizeUnsigned(r));
    }

    /// <summary>
    /// Tags 18, 19 and 20 derived from an EG 0104 set (<see cref="St0104"/>), or an empty map when it lacks the angle
    /// to north or the obliquity. Platform pitch and roll default to 0 and the sensor roll to 0, each with a note.
    /// </summary>
    public static IReadOnlyDictionary<int, double> RelativeAngles(KlvLocalSet set, List<string> notes)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(notes);
        var derived = new Dictionary<int, double>();
        var heading = set.GetDouble(St0601.PlatformHeading);
        var north = set.GetDouble(St0104.AngleToNorth);
        var obliquity = set.GetDouble(St0104.ObliquityAngle);
        if (!double.IsFinite(heading) || !double.IsFinite(north) || !double.IsFinite(obliquity))
        {
            return derived;
        }

        var pitch = Finite(set.GetDouble(St0601.PlatformPitch));
        var roll = Finite(set.GetDouble(St0601.PlatformRoll));
        var sensorRoll = set.GetDouble(St0104.SensorRollAngle);
        if (!double.IsFinite(sensorRoll))
        {
            sensorRoll = 0;
            notes.Add("EG 0104 set without a sensor roll angle: 0 assumed");
        }

        var (azimuth, elevation, relativeRoll) = ToRelative(heading, pitch, roll, north, ElevationFromObliquity(obliquity), sensorRoll);
        derived[St0601.SensorRelativeAzimuth] = azimuth;
        derived[St0601.SensorRelativeElevation] = elevation;
        derived[St0601.SensorRelativeRoll] = relativeRoll;
        notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"EG 0104: sensor relative azimuth {azimuth:0.###}, elevation {elevation:0.###}, roll {relativeRoll:0.###} deg derived from angle to north {north:0.###}, obliquity {obliquity:0.###} and the platform attitude"));
        return derived;
    }

    private static double Finite(double v) => double.IsFinite(v) ? v : 0;

    private static double NormalizeUnsigned(double a)
    {
        a %= 360;
        return a < 0 ? a + 360 : a;
    }

    private static double NormalizeSigned(double a)
    {
        a = NormalizeUnsigned(a);
        return a > 180 ? a - 360 : a;
    }
}
