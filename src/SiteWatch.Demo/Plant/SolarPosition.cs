namespace SiteWatch.Demo.Plant;

/// <summary>
/// Low-precision solar position (Astronomical Almanac approximation, ~0.01 deg): enough to give every
/// scene a physically consistent sun elevation/azimuth and thus shadow direction and length.
/// </summary>
internal static class SolarPosition
{
    private const double Deg = Math.PI / 180;

    /// <summary>Returns elevation and azimuth (clockwise from north) in degrees.</summary>
    public static (double ElevationDeg, double AzimuthDeg) Compute(DateTime utc, double latDeg, double lonDeg)
    {
        double n = (utc - new DateTime(2000, 1, 1, 12, 0, 0, DateTimeKind.Utc)).TotalDays;
        double meanLongitude = Normalise(280.460 + 0.9856474 * n);
        double meanAnomaly = Normalise(357.528 + 0.9856003 * n) * Deg;
        double eclipticLongitude = (meanLongitude + 1.915 * Math.Sin(meanAnomaly) + 0.020 * Math.Sin(2 * meanAnomaly)) * Deg;
        double obliquity = (23.439 - 0.0000004 * n) * Deg;
        double rightAscension = Math.Atan2(Math.Cos(obliquity) * Math.Sin(eclipticLongitude), Math.Cos(eclipticLongitude));
        double declination = Math.Asin(Math.Sin(obliquity) * Math.Sin(eclipticLongitude));
        double gmstHours = 18.697374558 + 24.06570982441908 * n;
        double localSiderealDeg = Normalise(gmstHours * 15 + lonDeg);
        double hourAngle = localSiderealDeg * Deg - rightAscension;
        double lat = latDeg * Deg;
        double sinEl = Math.Sin(lat) * Math.Sin(declination) + Math.Cos(lat) * Math.Cos(declination) * Math.Cos(hourAngle);
        double elevation = Math.Asin(sinEl);
        double azimuth = Math.Atan2(-Math.Sin(hourAngle),
            Math.Tan(declination) * Math.Cos(lat) - Math.Sin(lat) * Math.Cos(hourAngle));
        return (elevation / Deg, Normalise(azimuth / Deg));
    }

    private static double Normalise(double degrees)
    {
        double d = degrees % 360;
        return d < 0 ? d + 360 : d;
    }
}
