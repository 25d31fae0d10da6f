namespace SiteWatch.Video.Geo;

/// <summary>A WGS 84 geodetic position: degrees, and metres above the ellipsoid (not above mean sea level).</summary>
public readonly record struct GeoPoint(double Latitude, double Longitude, double HeightAboveEllipsoid)
{
    public override string ToString() =>
        FormattableString.Invariant($"({Latitude:0.0000000}, {Longitude:0.0000000}, {HeightAboveEllipsoid:0.00} m HAE)");
}

/// <summary>WGS 84 ellipsoid geometry: geodetic/ECEF conversion, local frames and geodesic distance.</summary>
public static class Wgs84
{
    public const double SemiMajorAxis = 6378137.0;
    public const double Flattening = 1 / 298.257223563;
    public const double SemiMinorAxis = SemiMajorAxis * (1 - Flattening);
    /// <summary>First eccentricity squared.</summary>
    public const double E2 = Flattening * (2 - Flattening);
    /// <summary>Mean radius (2a + b) / 3, used where a sphere is enough.</summary>
    public const double MeanRadius = (2 * SemiMajorAxis + SemiMinorAxis) / 3;

    private const double Deg = Math.PI / 180;

    public static Vec3 ToEcef(GeoPoint p) => ToEcef(p.Latitude, p.Longitude, p.HeightAboveEllipsoid);

    public static Vec3 ToEcef(double latitude, double longitude, double heightAboveEllipsoid)
    {
        var (sinLat, cosLat) = Math.SinCos(latitude * Deg);
        var (sinLon, cosLon) = Math.SinCos(longitude * Deg);
        var n = SemiMajorAxis / Math.Sqrt(1 - E2 * sinLat * sinLat);
        return new Vec3((n + heightAboveEllipsoid) * cosLat * cosLon, (n + heightAboveEllipsoid) * cosLat * sinLon,
            (n * (1 - E2) + heightAboveEllipsoid) * sinLat);
    }

    /// <summary>
    /// ECEF to geodetic. Bowring's start followed by two fixed-point refinements: sub-micrometre for any point from
    /// the Earth's crust to geostationary orbit, which the bisection of terrain crossings relies on.
    /// </summary>
    public static GeoPoint FromEcef(Vec3 ecef)
    {
        var x = ecef.X;
        var y = ecef.Y;
        var z = ecef.Z;
        var p = Math.Sqrt(x * x + y * y);
        var lon = Math.Atan2(y, x);
        if (p < 1e-9)
        {
            // On the polar axis: latitude is +-90 and the height is measured from the pole.
            return new GeoPoint(z >= 0 ? 90 : -90, 0, Math.Abs(z) - SemiMinorAxis);
        }

        const double ep2 = E2 / (1 - E2);
        var theta = Math.Atan2(z * SemiMajorAxis, p * SemiMinorAxis);
        var (st, ct) = Math.SinCos(theta);
        var lat = Math.Atan2(z + ep2 * SemiMinorAxis * st * st * st, p - E2 * SemiMajorAxis * ct * ct * ct);
        for (var i = 0; i < 2; i++)
        {
            var s = Math.Sin(lat);
            var n = SemiMajorAxis / Math.Sqrt(1 - E2 * s * s);
            lat = Math.Atan2(z + E2 * n * s, p);
        }

        var (sinLat, cosLat) = Math.SinCos(lat);
        // This form of the height stays accurate at every latitude (no division by cos near the poles).
        var h = p * cosLat + z * sinLat - SemiMajorAxis * Math.Sqrt(1 - E2 * sinLat * sinLat);
        return new GeoPoint(lat / Deg, lon / Deg, h);
    }

    /// <summary>Unit vector of the ellipsoid normal (local "up") at a geodetic position.</summary>
    public static Vec3 Up(double latitude, double longitude)
    {
        var (sinLat, cosLat) = Math.SinCos(latitude * Deg);
        var (sinLon, cosLon) = Math.SinCos(longitude * Deg);
        return new Vec3(cosLat * cosLon, cosLat * sinLon, sinLat);
    }

    /// <summary>Rotation whose columns are the local East, North, Up unit vectors in ECEF: maps ENU to ECEF.</summary>
    public static Mat3 EnuToEcef(double latitude, double longitude)
    {
        var (sinLat, cosLat) = Math.SinCos(latitude * Deg);
        var (sinLon, cosLon) = Math.SinCos(longitude * Deg);
        var east = new Vec3(-sinLon, cosLon, 0);
        var north = new Vec3(-sinLat * cosLon, -sinLat * sinLon, cosLat);
        var up = new Vec3(cosLat * cosLon, cosLat * sinLon, sinLat);
        return Mat3.FromColumns(east, north, up);
    }

    /// <summary>Rotation whose columns are the local North, East, Down unit vectors in ECEF: maps NED to ECEF.</summary>
    public static Mat3 NedToEcef(double latitude, double longitude)
    {
        var enu = EnuToEcef(latitude, longitude);
        return Mat3.FromColumns(enu.Column2, enu.Column1, -enu.Column3);
    }

    /// <summary>East, North, Up offsets (metres) of <paramref name="point"/> from <paramref name="origin"/>.</summary>
    public static Vec3 ToEnu(GeoPoint origin, GeoPoint point) =>
        EnuToEcef(origin.Latitude, origin.Longitude).Transpose() * (ToEcef(point) - ToEcef(origin));

    /// <summary>The geodetic position at East, North, Up offsets (metres) from <paramref name="origin"/>.</summary>
    public static GeoPoint FromEnu(GeoPoint origin, Vec3 enu) =>
        FromEcef(ToEcef(origin) + EnuToEcef(origin.Latitude, origin.Longitude) * enu);

    /// <summary>Meridian radius of curvature M at a latitude (metres per radian of latitude).</summary>
    public static double MeridianRadius(double latitude)
    {
        var s = Math.Sin(latitude * Deg);
        var w = 1 - E2 * s * s;
        return SemiMajorAxis * (1 - E2) / (w * Math.Sqrt(w));
    }

    /// <summary>Prime vertical radius of curvature N at a latitude.</summary>
    public static double PrimeVerticalRadius(double latitude)
    {
        var s = Math.Sin(latitude * Deg);
        return SemiMajorAxis / Math.Sqrt(1 - E2 * s * s);
    }

    /// <summary>
    /// Geodesic distance on the ellipsoid (metres) by Vincenty's inverse formula (sub-millimetre). For the nearly
    /// antipodal pairs where it does not converge, the great-circle distance on the mean sphere is returned
    /// (within 0.5 %), which is all an agreement check between footprints needs.
    /// </summary>
    public static double Distance(double lat1, double lon1, double lat2, double lon2)
    {
        if (lat1 == lat2 && lon1 == lon2)
        {
            return 0;
        }

        const double a = SemiMajorAxis;
        const double b = SemiMinorAxis;
        const double f = Flattening;
        var l = Math.IEEERemainder(lon2 - lon1, 360) * Deg; // across the antimeridian the short way
        var u1 = Math.Atan((1 - f) * Math.Tan(lat1 * Deg));
        var u2 = Math.Atan((1 - f) * Math.Tan(lat2 * Deg));
        var (sinU1, cosU1) = Math.SinCos(u1);
        var (sinU2, cosU2) = Math.SinCos(u2);
        var lambda = l;
        for (var iteration = 0; iteration < 200; iteration++)
        {
            var (sinLambda, cosLambda) = Math.SinCos(lambda);
            var sinSigma = Math.Sqrt(Sq(cosU2 * sinLambda) + Sq(cosU1 * sinU2 - sinU1 * cosU2 * cosLambda));
            if (sinSigma == 0)
            {
                return 0;
            }

            var cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosLambda;
            var sigma = Math.Atan2(sinSigma, cosSigma);
            var sinAlpha = cosU1 * cosU2 * sinLambda / sinSigma;
            var cos2Alpha = 1 - sinAlpha * sinAlpha;
            var cos2SigmaM = cos2Alpha != 0 ? cosSigma - 2 * sinU1 * sinU2 / cos2Alpha : 0;
            var c = f / 16 * cos2Alpha * (4 + f * (4 - 3 * cos2Alpha));
            var previous = lambda;
            lambda = l + (1 - c) * f * sinAlpha * (sigma + c * sinSigma * (cos2SigmaM + c * cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)));
            if (Math.Abs(lambda - previous) < 1e-12)
            {
                var uSq = cos2Alpha * (a * a - b * b) / (b * b);
                var bigA = 1 + uSq / 16384 * (4096 + uSq * (-768 + uSq * (320 - 175 * uSq)));
                var bigB = uSq / 1024 * (256 + uSq * (-128 + uSq * (74 - 47 * uSq)));
                var deltaSigma = bigB * sinSigma * (cos2SigmaM + bigB / 4 * (cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)
                    - bigB / 6 * cos2SigmaM * (-3 + 4 * sinSigma * sinSigma) * (-3 + 4 * cos2SigmaM * cos2SigmaM)));
                return b * bigA * (sigma - deltaSigma);
            }
        }

        return GreatCircleDistance(lat1, lon1, lat2, lon2);
    }

    /// <summary>Haversine distance on the mean sphere.</summary>
    public static double GreatCircleDistance(double lat1, double lon1, double lat2, double lon2)
    {
        var dLat = (lat2 - lat1) * Deg;
        var dLon = Math.IEEERemainder(lon2 - lon1, 360) * Deg;
        var h = Sq(Math.Sin(dLat / 2)) + Math.Cos(lat1 * Deg) * Math.Cos(lat2 * Deg) * Sq(Math.Sin(dLon / 2));
        return 2 * MeanRadius * Math.Asin(Math.Min(1, Math.Sqrt(h)));
    }

    public static double Distance(GeoPoint a, GeoPoint b) => Distance(a.Latitude, a.Longitude, b.Latitude, b.Longitude);

    /// <summary>A longitude brought into [-180, 180).</summary>
    public static double NormalizeLongitude(double longitude) => longitude - 360 * Math.Floor((longitude + 180) / 360);

    private static double Sq(double x) => x * x;
}
