using NetTopologySuite.Geometries;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Geo;

/// <summary>The measurements an analyst reports: areas, footprint ratios, distances, in metres on the ground.</summary>
public static class Measurements
{
    /// <summary>
    /// Area in square metres. Geometries in WGS84 (SRID 4326 or 0 with lon/lat coordinates) are measured in the UTM
    /// zone of their centroid; projected ones in their own CRS.
    /// </summary>
    public static double AreaSquareMetres(Geometry geometry) => InMetres(geometry).Area;

    public static double PerimeterMetres(Geometry geometry) => InMetres(geometry).Length;

    /// <summary>Ground distance between two geometries (nearest points), metres.</summary>
    public static double DistanceMetres(Geometry a, Geometry b)
    {
        if (IsGeographic(a) != IsGeographic(b))
        {
            throw new ArgumentException("Both geometries must be in the same CRS.");
        }
        if (!IsGeographic(a))
        {
            return a.Distance(b);
        }
        var epsg = UtmOf(a.Factory.CreateGeometryCollection([a, b]));
        return GeometryProjection.Transform(a, 4326, epsg).Distance(GeometryProjection.Transform(b, 4326, epsg));
    }

    /// <summary>"The new building is 64 % of the existing hall": area of a footprint over the area of a reference footprint.</summary>
    public static double FootprintRatio(Geometry footprint, Geometry reference)
    {
        var referenceArea = AreaSquareMetres(reference);
        if (referenceArea <= 0)
        {
            throw new ArgumentException("The reference footprint has no area.");
        }
        return AreaSquareMetres(footprint) / referenceArea;
    }

    /// <summary>
    /// The outline an analyst would draw around a structure made of several detected pieces: the pieces closed by a
    /// distance (dilate, then erode), then every hole filled. Roof seams, ribs and shadowed skylights split a roof into
    /// pieces in a change mask; its footprint is still the outer outline. Projected geometries only.
    /// </summary>
    public static Geometry Outline(Geometry pieces, double closingDistance)
    {
        var closed = pieces.Buffer(closingDistance).Buffer(-closingDistance);
        var shells = Enumerable.Range(0, closed.NumGeometries)
            .Select(i => closed.GetGeometryN(i))
            .OfType<Polygon>()
            .Select(p => (Geometry)p.Factory.CreatePolygon((LinearRing)p.ExteriorRing.Copy()))
            .ToArray();
        return shells.Length == 1 ? shells[0] : pieces.Factory.BuildGeometry(shells).Union();
    }

    /// <summary>
    /// The footprint of one structure from change objects: the pieces within two pixels of <paramref name="largest"/>
    /// (roof seams split a roof), outlined as an analyst would (<see cref="Outline"/>). Projected geometries only.
    /// </summary>
    public static Geometry StructureOutline(Geometry largest, IEnumerable<Geometry> pieces, double gsd)
    {
        var near = pieces.Where(p => !ReferenceEquals(p, largest) && p.IsWithinDistance(largest, 2 * gsd)).Prepend(largest).ToArray();
        return Outline(largest.Factory.BuildGeometry(near), 2 * gsd);
    }

    private static bool IsGeographic(Geometry g) =>
        g.SRID == 4326 || (g.SRID == 0 && g.EnvelopeInternal is { } e && e.MinX >= -180 && e.MaxX <= 180 && e.MinY >= -90 && e.MaxY <= 90);

    private static int UtmOf(Geometry g)
    {
        var c = g.Centroid;
        return SpatialReference.UtmEpsgFor(c.X, c.Y);
    }

    private static Geometry InMetres(Geometry g) => IsGeographic(g) ? GeometryProjection.Transform(g, 4326, UtmOf(g)) : g;
}
