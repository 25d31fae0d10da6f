namespace SiteWatch.Video.Geo;

/// <summary>
/// Where the sun stands, seen from a place at a time: azimuth in degrees clockwise from true north, elevation in
/// degrees above the horizon (geometric, without refraction, which lifts the sun by about half a degree only at the
/// horizon). NOAA's general solar position equations (Spencer's Fourier series for the declination and the equation
/// of time), good to a few tenths of a degree: a 2 m shadow is placed to within 2 cm, well inside a drone pixel.
/// </summary>
public readonly record struct SunPosition(double AzimuthDeg, double ElevationDeg)
{
    /// <summary>Bearing the shadows point to, degrees clockwise from north (away from the sun).</summary>
    public double ShadowBearingDeg => (AzimuthDeg + 180) % 360;

    /// <summary>Length of the shadow of a vertical object <paramref name="height"/> metres tall on level ground; infinite with the sun at or below the horizon.</summary>
    public double ShadowLength(double height) =>
        ElevationDeg <= 0 ? double.PositiveInfinity : height / Math.Tan(ElevationDeg * Math.PI / 180);

    public static SunPosition At(DateTimeOffset time, double latitude, double longitude)
    {
        if (!(latitude is >= -90 and <= 90) || !double.IsFinite(longitude))
        {
            throw new ArgumentOutOfRangeException(nameof(latitude), $"no place at latitude {latitude}, longitude {longitude}");
        }

        var utc = time.UtcDateTime;
        var hours = utc.TimeOfDay.TotalHours;
        var daysInYear = DateTime.IsLeapYear(utc.Year) ? 366 : 365;
        // The fractional year, in radians.
        var gamma = 2 * Math.PI / daysInYear * (utc.DayOfYear - 1 + (hours - 12) / 24);
        var declination = 0.006918 - 0.399912 * Math.Cos(gamma) + 0.070257 * Math.Sin(gamma) - 0.006758 * Math.Cos(2 * gamma)
            + 0.000907 * Math.Sin(2 * gamma) - 0.002697 * Math.Cos(3 * gamma) + 0.00148 * Math.Sin(3 * gamma);
        var equationOfTimeMinutes = 229.18 * (0.000075 + 0.001868 * Math.Cos(gamma) - 0.032077 * Math.Sin(gamma)
            - 0.014615 * Math.Cos(2 * gamma) - 0.040849 * Math.Sin(2 * gamma));
        var trueSolarMinutes = hours * 60 + equationOfTimeMinutes + 4 * longitude;
        var hourAngle = (trueSolarMinutes / 4 - 180) * Math.PI / 180;
        var phi = latitude * Math.PI / 180;
        var cosZenith = Math.Sin(phi) * Math.Sin(declination) + Math.Cos(phi) * Math.Cos(declination) * Math.Cos(hourAngle);
        var zenith = Math.Acos(Math.Clamp(cosZenith, -1, 1));
        // Azimuth from the hour angle (west positive) by atan2, so no quadrant needs fixing by hand.
        var azimuth = Math.Atan2(Math.Sin(hourAngle), Math.Cos(hourAngle) * Math.Sin(phi) - Math.Tan(declination) * Math.Cos(phi)) * 180 / Math.PI + 180;
        return new SunPosition(azimuth % 360, 90 - zenith * 180 / Math.PI);
    }
}
