using NetTopologySuite.Geometries;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Geo;

/// <summary>Moves NetTopologySuite geometries between coordinate reference systems with GDAL/PROJ.</summary>
public static class GeometryProjection
{
    /// <summary>A transformed copy of the geometry; the SRID is set to the target EPSG code when known.</summary>
    public static Geometry Transform(Geometry geometry, CoordinateTransform transform, int targetSrid)
    {
        var copy = geometry.Copy();
        copy.Apply(new TransformFilter(transform));
        copy.GeometryChanged();
        copy.SRID = targetSrid;
        return copy;
    }

    public static Geometry Transform(Geometry geometry, int sourceEpsg, int targetEpsg)
    {
        using var source = SpatialReference.FromEpsg(sourceEpsg);
        using var target = SpatialReference.FromEpsg(targetEpsg);
        using var transform = new CoordinateTransform(source, target);
        return Transform(geometry, transform, targetEpsg);
    }

    private sealed class TransformFilter(CoordinateTransform transform) : ICoordinateSequenceFilter
    {
        public bool Done => false;
        public bool GeometryChanged => true;

        public void Filter(CoordinateSequence seq, int i)
        {
            var (x, y) = transform.Transform(seq.GetX(i), seq.GetY(i));
            seq.SetX(i, x);
            seq.SetY(i, y);
        }
    }
}
