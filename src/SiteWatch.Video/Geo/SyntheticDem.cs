using SiteWatch.Gdal;

namespace SiteWatch.Video.Geo;

/// <summary>A DEM grid: size, geotransform and CRS (any definition GDAL accepts).</summary>
public sealed record DemGrid(int Width, int Height, GeoTransform Transform, string Crs = "EPSG:4326")
{
    /// <summary>A north-up WGS 84 grid centred on a position, about <paramref name="halfSizeMetres"/> each way.</summary>
    public static DemGrid Geographic(double centreLatitude, double centreLongitude, double halfSizeMetres, double pixelMetres)
    {
        var dLat = pixelMetres / (Wgs84.MeridianRadius(centreLatitude) * Math.PI / 180);
        var dLon = pixelMetres / (Wgs84.PrimeVerticalRadius(centreLatitude) * Math.Cos(centreLatitude * Math.PI / 180) * Math.PI / 180);
        var n = Math.Max(2, (int)Math.Ceiling(2 * halfSizeMetres / pixelMetres));
        var transform = new GeoTransform(centreLongitude - n / 2.0 * dLon, dLon, 0, centreLatitude + n / 2.0 * dLat, 0, -dLat);
        return new DemGrid(n, n, transform);
    }

    /// <summary>A north-up grid in a projected CRS (e.g. UTM) centred on a map position.</summary>
    public static DemGrid Projected(string crs, double centreX, double centreY, double halfSizeMetres, double pixelMetres)
    {
        var n = Math.Max(2, (int)Math.Ceiling(2 * halfSizeMetres / pixelMetres));
        return new DemGrid(n, n, GeoTransform.NorthUp(centreX - n / 2.0 * pixelMetres, centreY + n / 2.0 * pixelMetres, pixelMetres), crs);
    }
}

/// <summary>
/// Writes DEMs with a known analytic surface, for tests and demonstrations: each pixel holds the surface's height at
/// the pixel centre. Surfaces are functions of WGS 84 latitude and longitude (degrees) returning metres.
/// </summary>
public static class SyntheticDem
{
    /// <summary>A constant height.</summary>
    public static Func<double, double, double> Flat(double height) => (_, _) => height;

    /// <summary>A Gaussian hill: base + amplitude * exp(-r^2 / (2 sigma^2)), r the distance (metres) from its top.</summary>
    public static Func<double, double, double> GaussianHill(double latitude, double longitude, double baseHeight, double amplitude, double sigmaMetres)
    {
        var top = new GeoPoint(latitude, longitude, 0);
        return (lat, lon) =>
        {
            var enu = Wgs84.ToEnu(top, new GeoPoint(lat, lon, 0));
            var r2 = enu.X * enu.X + enu.Y * enu.Y;
            return baseHeight + amplitude * Math.Exp(-r2 / (2 * sigmaMetres * sigmaMetres));
        };
    }

    /// <summary>
    /// A true plane through (latitude, longitude, h0 HAE), up = slopeEast * east + slopeNorth * north in the local
    /// East-North-Up frame there: each pixel holds the ellipsoid height at which its vertical meets the plane (found by
    /// Newton's method), so a ray meets the DEM where it meets the plane, which has a closed form.
    /// </summary>
    public static Func<double, double, double> TangentPlane(double latitude, double longitude, double h0, double slopeEast, double slopeNorth)
    {
        var origin = new GeoPoint(latitude, longitude, h0);
        var originEcef = Wgs84.ToEcef(origin);
        var toEnu = Wgs84.EnuToEcef(latitude, longitude).Transpose();
        return (lat, lon) =>
        {
            // f(h) = up - sE * east - sN * north, in ENU offsets from the plane's origin: zero on the plane.
            double F(double h)
            {
                var enu = toEnu * (Wgs84.ToEcef(lat, lon, h) - originEcef);
                return enu.Z - slopeEast * enu.X - slopeNorth * enu.Y;
            }

            var height = h0;
            for (var i = 0; i < 20; i++)
            {
                var f = F(height);
                var derivative = (F(height + 1) - F(height - 1)) / 2;
                var next = height - f / derivative;
                if (Math.Abs(next - height) < 1e-7)
                {
                    return next;
                }

                height = next;
            }

            return height;
        };
    }

    /// <summary>
    /// Writes a single-band Float32 GeoTIFF of <paramref name="surface"/> on <paramref name="grid"/>. Pixels where
    /// <paramref name="void"/> is true get the nodata value -32768 (as SRTM voids).
    /// </summary>
    public static void WriteGeoTiff(string path, DemGrid grid, Func<double, double, double> surface, Func<double, double, bool>? @void = null)
    {
        ArgumentNullException.ThrowIfNull(surface);
        const float noData = -32768;
        var profile = new RasterProfile(grid.Width, grid.Height, 1, RasterDataType.Float32)
        {
            GeoTransform = grid.Transform,
            Crs = grid.Crs,
            NoData = noData,
        };
        using var dataset = RasterDataset.Create(path, profile);
        using var crs = SpatialReference.FromUserInput(grid.Crs);
        using var wgs84 = SpatialReference.Wgs84();
        using var toWgs84 = crs.IsGeographic && crs.IsSame(wgs84) ? null : new CoordinateTransform(crs, wgs84);
        var xs = new double[grid.Width];
        var ys = new double[grid.Width];
        var row = new float[grid.Width];
        for (var j = 0; j < grid.Height; j++)
        {
            for (var i = 0; i < grid.Width; i++)
            {
                (xs[i], ys[i]) = grid.Transform.PixelToMap(i + 0.5, j + 0.5);
            }

            toWgs84?.Transform(xs, ys);
            for (var i = 0; i < grid.Width; i++)
            {
                var (lon, lat) = (xs[i], ys[i]);
                row[i] = @void is not null && @void(lat, lon) ? noData : (float)surface(lat, lon);
            }

            dataset.Write<float>(1, new RasterWindow(0, j, grid.Width, 1), row);
        }

        dataset.Flush();
    }
}
