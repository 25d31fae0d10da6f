using System.Text;

namespace SiteWatch.Video.Geo;

/// <summary>What a footprint warning is about.</summary>
public enum FootprintWarningKind
{
    /// <summary>No DEM: the ground is a flat surface at a known or assumed height.</summary>
    FlatTerrainAssumed,
    /// <summary>Some rays point above the horizon (or into the sky) and never meet the ground.</summary>
    RayAboveHorizon,
    /// <summary>Some rays went past the range limit without meeting the ground.</summary>
    RayBeyondMaxRange,
    /// <summary>Some rays met no terrain at all (outside the DEM, no fallback).</summary>
    NoTerrain,
    /// <summary>The sensor is below the terrain surface.</summary>
    SensorBelowTerrain,
    /// <summary>The DEM does not cover part of the footprint: the fallback surface was used there.</summary>
    DemNotCovering,
    /// <summary>The footprint falls on DEM voids: the fallback surface was used there.</summary>
    DemVoid,
    /// <summary>No geoid grid: MSL heights were taken as ellipsoid heights.</summary>
    GeoidUnavailable,
    /// <summary>The metadata contradicts itself (pixel aspect, MSL vs ellipsoid frame-centre heights, ...).</summary>
    InconsistentMetadata,
    /// <summary>Something the analyst should know about the DEM (undeclared CRS, datum mismatch, read errors).</summary>
    DemNote,
}

public sealed record FootprintWarning(FootprintWarningKind Kind, string Message)
{
    public override string ToString() => $"{Kind}: {Message}";
}

/// <summary>One image position and where its ray met the ground.</summary>
public readonly record struct FootprintPoint(double Column, double Row, RayHit Hit)
{
    public bool IsHit => Hit.IsHit;

    public GeoPoint Point => Hit.Point;
}

/// <summary>
/// Where a video frame looks: the rays through its corners, through points along its edges (so that a footprint over
/// hills is not just a quadrilateral) and through its centre, intersected with the terrain.
/// </summary>
public sealed class FrameFootprint
{
    internal FrameFootprint(CameraModel camera, string terrainDescription, IReadOnlyList<FootprintPoint> perimeter, int segmentsPerEdge,
        FootprintPoint centre, IReadOnlyList<FootprintWarning> warnings, TimeSpan elapsed)
    {
        Camera = camera;
        TerrainDescription = terrainDescription;
        Perimeter = perimeter;
        Corners = [perimeter[0], perimeter[segmentsPerEdge], perimeter[2 * segmentsPerEdge], perimeter[3 * segmentsPerEdge]];
        Centre = centre;
        Warnings = warnings;
        Elapsed = elapsed;
        Polygon = BuildPolygon(perimeter);
    }

    public CameraModel Camera { get; }

    /// <summary>The surface the rays were intersected with.</summary>
    public string TerrainDescription { get; }

    /// <summary>Perimeter rays in image order: upper-left, along the top edge, upper-right, down the right edge, ...</summary>
    public IReadOnlyList<FootprintPoint> Perimeter { get; }

    /// <summary>Corner rays: upper-left, upper-right, lower-right, lower-left (ST 0601's corner 1..4 order).</summary>
    public IReadOnlyList<FootprintPoint> Corners { get; }

    /// <summary>The ray through the frame centre (the principal point).</summary>
    public FootprintPoint Centre { get; }

    /// <summary>
    /// The footprint as a closed WGS 84 ring (first point repeated last), counter-clockwise seen from above as GeoJSON
    /// wants, made of the perimeter rays that met the ground; empty when fewer than three did.
    /// </summary>
    public IReadOnlyList<GeoPoint> Polygon { get; }

    /// <summary>True when every perimeter ray met the ground: the polygon is the whole frame.</summary>
    public bool IsComplete => Perimeter.All(p => p.IsHit);

    public IReadOnlyList<FootprintWarning> Warnings { get; }

    /// <summary>True when any ray landed on a flat stand-in surface (no DEM, or outside the DEM / on its voids).</summary>
    public bool UsedFlatTerrain => Perimeter.Append(Centre).Any(p => p.IsHit && p.Hit.Source is TerrainSource.Constant or TerrainSource.FallbackOutsideDem or TerrainSource.FallbackVoid);

    /// <summary>Time taken to compute the footprint.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Area of the polygon in square metres (on the local tangent plane at its first vertex; 0 when empty).</summary>
    public double AreaSquareMetres
    {
        get
        {
            if (Polygon.Count < 4)
            {
                return 0;
            }

            return Math.Abs(SignedArea(Polygon, Polygon[0]));
        }
    }

    /// <summary>The polygon as WKT (longitude latitude order), or "POLYGON EMPTY".</summary>
    public string ToWkt()
    {
        if (Polygon.Count == 0)
        {
            return "POLYGON EMPTY";
        }

        return "POLYGON ((" + string.Join(", ", Polygon.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Longitude:0.#########} {p.Latitude:0.#########}"))) + "))";
    }

    /// <summary>A GeoJSON Feature: the polygon plus completeness, terrain and warnings as properties.</summary>
    public string ToGeoJson()
    {
        var sb = new StringBuilder();
        sb.Append("{\"type\":\"Feature\",\"geometry\":");
        if (Polygon.Count == 0)
        {
            sb.Append("null");
        }
        else
        {
            sb.Append("{\"type\":\"Polygon\",\"coordinates\":[[");
            sb.AppendJoin(',', Polygon.Select(p => string.Create(CultureInfo.InvariantCulture, $"[{p.Longitude:0.#########},{p.Latitude:0.#########}]")));
            sb.Append("]]}");
        }

        sb.Append(",\"properties\":{\"complete\":").Append(IsComplete ? "true" : "false");
        sb.Append(",\"flat_terrain\":").Append(UsedFlatTerrain ? "true" : "false");
        sb.Append(",\"terrain\":").Append(JsonString(TerrainDescription));
        sb.Append(",\"warnings\":[").AppendJoin(',', Warnings.Select(w => JsonString(w.ToString()))).Append("]}}");
        return sb.ToString();
    }

    private static string JsonString(string s) => System.Text.Json.JsonSerializer.Serialize(s);

    private static IReadOnlyList<GeoPoint> BuildPolygon(IReadOnlyList<FootprintPoint> perimeter)
    {
        var ring = perimeter.Where(p => p.IsHit).Select(p => p.Point).ToList();
        if (ring.Count < 3)
        {
            return [];
        }

        // Image order runs clockwise on the ground for an upright image; a mirrored or upside-down view reverses it.
        if (SignedArea(ring, ring[0]) < 0)
        {
            ring.Reverse();
        }

        ring.Add(ring[0]);
        return ring;
    }

    /// <summary>Shoelace area on the tangent plane at <paramref name="origin"/>: positive for counter-clockwise rings.</summary>
    private static double SignedArea(IReadOnlyList<GeoPoint> ring, GeoPoint origin)
    {
        var area = 0.0;
        for (var i = 0; i < ring.Count; i++)
        {
            var a = Wgs84.ToEnu(origin, ring[i]);
            var b = Wgs84.ToEnu(origin, ring[(i + 1) % ring.Count]);
            area += a.X * b.Y - b.X * a.Y;
        }

        return area / 2;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"footprint: {Polygon.Count} vertices, {(IsComplete ? "complete" : "incomplete")}, {AreaSquareMetres / 1e6:0.###} km2, {Warnings.Count} warnings");
}
