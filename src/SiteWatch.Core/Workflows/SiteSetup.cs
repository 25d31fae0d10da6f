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
        => AddSite(workspace, name, AoiReader.ReadFile(aoiPath), gsd, crs, tags, notes, aoiPath);

    /// <summary>Adds a site from an AOI already parsed and checked (<see cref="AoiReader.Parse"/>), e.g. a request body.</summary>
    /// <param name="aoiSource">Where the AOI came from (a file, a request), for messages.</param>
    public static Site AddSite(Workspace workspace, string name, NetTopologySuite.Geometries.Geometry aoi, double? gsd, string? crs, IReadOnlyList<string> tags, string? notes,
        string? aoiSource = null)
    {
        var epsg = crs is null ? UtmEpsgOf(aoi, aoiSource ?? "the AOI") : ProjectedEpsg(crs);
        if (gsd is { } g)
        {
            // Refuse now what could never be ingested, rather than at the first scene.
            var projected = GeometryProjection.Transform(aoi, 4326, epsg);
            SiteGrid.For(projected.EnvelopeInternal, epsg, g, 0, 0, name);
        }
        workspace.EnsureWritable();
        return workspace.Catalog.AddSite(name, aoi, epsg, gsd, tags, notes,
            crs is null ? null : $"EPSG:{epsg}: chosen when the site was added");
    }

    /// <summary>The UTM zone of the AOI's centre. UTM covers 80 S to 84 N; beyond, the user picks a polar grid.</summary>
    private static int UtmEpsgOf(NetTopologySuite.Geometries.Geometry aoi, string aoiPath)
    {
        var c = aoi.Centroid;
        if (c.Y is < -80 or > 84)
        {
            var north = c.Y > 0;
            throw new SiteWatchException(FormattableString.Invariant(
                $"{aoiPath}: the AOI's centre ({Math.Abs(c.Y):0.####}{(north ? "N" : "S")} {c.X:0.####}E) is beyond the UTM zones (80S to 84N) the default grid uses; give the site a polar grid CRS: ")
                + (north ? "EPSG:3413 (polar stereographic north) or EPSG:32661 (UPS North)" : "EPSG:3031 (Antarctic polar stereographic) or EPSG:32761 (UPS South)"))
            {
                Next = new NextStep(NextStepKind.GiveCrs),
            };
        }
        return SpatialReference.UtmEpsgFor(c.X, c.Y);
    }

    private static int ProjectedEpsg(string definition)
    {
        try
        {
            using var srs = SpatialReference.FromUserInput(definition);
            if (!srs.IsProjected || Math.Abs(srs.LinearUnitMetres - 1) > 1e-9)
            {
                throw SiteWatchException.About("crs", $"{definition}: a site grid needs a projected CRS in metres (e.g. a UTM zone), not {srs.Name}");
            }
            return srs.Epsg ?? throw SiteWatchException.About("crs", $"{definition}: has no EPSG code; give one as EPSG:nnnn");
        }
        catch (GdalException e)
        {
            throw SiteWatchException.About("crs", $"{definition}: {e.Message}", e);
        }
    }
}
