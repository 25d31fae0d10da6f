using NetTopologySuite.Geometries;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Geo;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Ingest;

/// <summary>
/// The analysis grid of a site: the AOI's bounding box in the site CRS plus a margin, snapped outward to the site's
/// pixel lattice. Every scene of a site is stored on exactly this grid, so scenes compare pixel for pixel.
/// </summary>
public sealed record SiteGrid(int Epsg, double Gsd, MapExtent Extent, int Width, int Height)
{
    /// <summary>Largest grid we create: a bigger AOI needs a coarser GSD.</summary>
    public const long MaxPixels = 1L << 31;

    public GeoTransform GeoTransform => GeoTransform.NorthUp(Extent.MinX, Extent.MaxY, Gsd);

    /// <summary>Margin around the AOI: a few pixels, at least 50 m, so edge objects and co-registration have context.</summary>
    public static double MarginFor(double gsd) => Math.Max(50, 2 * gsd);

    public static SiteGrid For(Site site, double gsd, double anchorX, double anchorY)
    {
        var aoi = GeometryProjection.Transform(site.Aoi, 4326, site.CrsEpsg);
        return For(aoi.EnvelopeInternal, site.CrsEpsg, gsd, anchorX, anchorY, site.Name);
    }

    public static SiteGrid For(Envelope aoiInSiteCrs, int epsg, double gsd, double anchorX, double anchorY, string siteName)
    {
        if (!(gsd > 0) || !double.IsFinite(gsd))
        {
            throw new SiteWatchException($"site {siteName}: ground sample distance must be a positive number of metres, not {gsd}");
        }
        var margin = MarginFor(gsd);
        var minX = anchorX + Math.Floor((aoiInSiteCrs.MinX - margin - anchorX) / gsd) * gsd;
        var minY = anchorY + Math.Floor((aoiInSiteCrs.MinY - margin - anchorY) / gsd) * gsd;
        var maxX = anchorX + Math.Ceiling((aoiInSiteCrs.MaxX + margin - anchorX) / gsd) * gsd;
        var maxY = anchorY + Math.Ceiling((aoiInSiteCrs.MaxY + margin - anchorY) / gsd) * gsd;
        var width = Math.Round((maxX - minX) / gsd);
        var height = Math.Round((maxY - minY) / gsd);
        if (width * height > MaxPixels)
        {
            throw SiteWatchException.About("gsd", FormattableString.Invariant(
                $"{gsd} m: the AOI of site {siteName} would need a {width:0} x {height:0} pixel grid (limit {MaxPixels:N0} pixels); choose a larger GSD or a smaller AOI"));
        }
        return new SiteGrid(epsg, gsd, new MapExtent(minX, minY, maxX, maxY), (int)width, (int)height);
    }
}
