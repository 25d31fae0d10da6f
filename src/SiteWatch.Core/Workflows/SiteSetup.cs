using SiteWatch.Core.Catalog;
using SiteWatch.Core.Geo;
using SiteWatch.Core.Ingest;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Workflows;

/// <summary>Creates sites: reads and checks the AOI, picks the analysis grid's CRS, records the site.</summary>
public static class SiteSetup
{
    /// <param name="crs">Grid CRS override ("EPSG:32651"); by default the UTM zone of the AOI's centroid.</param>
    public static Site AddSite(Workspace workspace, string name, string aoiPath, double? gsd, string? crs, IReadOnlyList<string> tags, string? notes)
        => AddSite(workspace, name, AoiReader.ReadFile(aoiPath), gsd, crs, tags, notes);

    /// <summary>Adds a site from an AOI already parsed and checked (<see cref="AoiReader.Parse"/>), e.g. a request body.</summary>
    public static Site AddSite(Workspace workspace, string name, NetTopologySuite.Geometries.Geometry aoi, double? gsd, string? crs, IReadOnlyList<string> tags, string? notes)
    {
        var epsg = crs is null ? UtmEpsgOf(aoi) : ProjectedEpsg(crs);
        if (gsd is { } g)
        {
            // Refuse now what could never be ingested, rather than at the first scene.
            var projected = GeometryProjection.Transform(aoi, 4326, epsg);
            SiteGrid.For(projected.EnvelopeInternal, epsg, g, 0, 0, name);
        }
        workspace.EnsureWritable();
        return workspace.Catalog.AddSite(name, aoi, epsg, gsd, tags, notes);
    }

    private static int UtmEpsgOf(NetTopologySuite.Geometries.Geometry aoi)
    {
        var c = aoi.Centroid;
        return SpatialReference.UtmEpsgFor(c.X, c.Y);
    }

    private static int ProjectedEpsg(string definition)
    {
        try
        {
            using var srs = SpatialReference.FromUserInput(definition);
            if (!srs.IsProjected || Math.Abs(srs.LinearUnitMetres - 1) > 1e-9)
            {
                throw new SiteWatchException($"--crs {definition}: a site grid needs a projected CRS in metres (e.g. a UTM zone), not {srs.Name}");
            }
            return srs.Epsg ?? throw new SiteWatchException($"--crs {definition}: has no EPSG code; give one as EPSG:nnnn");
        }
        catch (GdalException e)
        {
            throw new SiteWatchException($"--crs: {e.Message}", e);
        }
    }
}
