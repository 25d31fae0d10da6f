using SiteWatch.Core.Catalog;
using SiteWatch.Core.Ingest;
using SiteWatch.Core.Workflows;
using SiteWatch.Gdal;

namespace SiteWatch.Tests.Catalog;

/// <summary>A site's grid keeps the first scene's own projected CRS, so native pixels are copied, not resampled across a datum.</summary>
public class NativeGridTests
{
    private const string Aoi = """
        {"type":"Polygon","coordinates":[[[-98.9990,36.1420],[-98.9970,36.1420],[-98.9970,36.1436],[-98.9990,36.1436],[-98.9990,36.1420]]]}
        """;

    private static string WriteScene(string path, string crs, GeoTransform transform, int size)
    {
        var profile = new RasterProfile(size, size, 3, RasterDataType.UInt16) { GeoTransform = transform, Crs = crs, NoData = 0 };
        using var raster = RasterDataset.Create(path, profile);
        var data = new ushort[size * size];
        for (var b = 1; b <= 3; b++)
        {
            for (var i = 0; i < data.Length; i++)
            {
                // Every pixel different from its neighbours: any resampling would show.
                data[i] = (ushort)(100 + (i * 7919 + b * 104729) % 60000);
            }
            raster.Write<ushort>(b, new RasterWindow(0, 0, size, size), data);
        }
        raster.SetMetadataItem("TIFFTAG_DATETIME", "2022:07:01 17:00:00");
        return path;
    }

    [Fact]
    public void A_NAD83_UTM_scene_keeps_its_CRS_and_its_values_are_copied()
    {
        using var dir = new TempDir();
        // NAD83 / UTM 14N, 1 m, around 99.0W 36.14N (as NAIP is delivered).
        var source = WriteScene(dir.File("naip.tif"), "EPSG:26914", GeoTransform.NorthUp(499_800, 4_000_200, 1), 600);
        File.WriteAllText(dir.File("aoi.geojson"), Aoi);
        using var workspace = Workspace.Init(dir.File("ws"));
        var provisional = SiteSetup.AddSite(workspace, "farm", dir.File("aoi.geojson"), null, null, [], null);
        Assert.Equal(32614, provisional.CrsEpsg);
        Assert.Null(provisional.GridReason);

        var scene = new SceneIngestor(workspace).Ingest("farm", source, new IngestOptions()).Scene;
        var site = workspace.Catalog.GetSite("farm");
        Assert.Equal(26914, site.CrsEpsg);
        Assert.Contains("first scene's own projected CRS", site.GridReason);
        Assert.Equal(1.0, site.Gsd);

        using var stored = RasterDataset.Open(workspace.Resolve(scene.File));
        using var original = RasterDataset.Open(source);
        var s = stored.GeoTransform!.Value;
        var o = original.GeoTransform!.Value;
        var column = (int)Math.Round((s.OriginX - o.OriginX) / o.PixelWidth);
        var row = (int)Math.Round((s.OriginY - o.OriginY) / o.PixelHeight);
        Assert.Equal(s.OriginX, o.OriginX + column * o.PixelWidth, 6);
        for (var b = 1; b <= 3; b++)
        {
            var window = new RasterWindow(0, 0, stored.Width, stored.Height);
            var copied = stored.Read<ushort>(b, window);
            var native = original.Read<ushort>(b, new RasterWindow(column, row, stored.Width, stored.Height));
            Assert.Equal(native, copied);
        }
    }

    [Fact]
    public void A_geographic_first_scene_leaves_the_UTM_grid_and_says_why()
    {
        using var dir = new TempDir();
        var source = WriteScene(dir.File("wgs84.tif"), "EPSG:4326", GeoTransform.NorthUp(-99.0, 36.145, 0.00001), 400);
        File.WriteAllText(dir.File("aoi.geojson"), Aoi);
        using var workspace = Workspace.Init(dir.File("ws"));
        SiteSetup.AddSite(workspace, "farm", dir.File("aoi.geojson"), 1.0, null, [], null);
        new SceneIngestor(workspace).Ingest("farm", source, new IngestOptions());
        var site = workspace.Catalog.GetSite("farm");
        Assert.Equal(32614, site.CrsEpsg);
        Assert.Contains("is not projected", site.GridReason);

        // A CRS given by the user is never replaced.
        var chosen = SiteSetup.AddSite(workspace, "farm-26914", dir.File("aoi.geojson"), null, "EPSG:32614", [], null);
        new SceneIngestor(workspace).Ingest(chosen.Name, WriteScene(dir.File("nad83.tif"), "EPSG:26914", GeoTransform.NorthUp(499_800, 4_000_200, 1), 600), new IngestOptions());
        Assert.Equal(32614, workspace.Catalog.GetSite(chosen.Name).CrsEpsg);
    }
}
