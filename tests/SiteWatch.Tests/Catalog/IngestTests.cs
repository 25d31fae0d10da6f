using SiteWatch.Core;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Geo;
using SiteWatch.Core.Ingest;
using SiteWatch.Core.Workflows;
using SiteWatch.Gdal;

namespace SiteWatch.Tests.Catalog;

public class IngestTests
{
    /// <summary>An AOI around the synthetic scene of <see cref="Rasters.WriteUtmScene"/> (UTM 52N, E 543000, N 4420000).</summary>
    internal const string SceneAoi = """
        {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[129.5040,39.9270],[129.5055,39.9270],[129.5055,39.9282],[129.5040,39.9282],[129.5040,39.9270]]]}}
        """;

    private static (Workspace Workspace, Site Site) NewSite(TempDir dir, double? gsd = 1.0, string aoi = SceneAoi)
    {
        var workspace = Workspace.Init(dir.File("ws"));
        File.WriteAllText(dir.File("aoi.geojson"), aoi);
        var site = SiteSetup.AddSite(workspace, "plant", dir.File("aoi.geojson"), gsd, null, ["test"], null);
        return (workspace, site);
    }

    private static string[] StoredFiles(Workspace ws) =>
        Directory.EnumerateFiles(ws.Root, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(Workspace.CatalogFileName, StringComparison.Ordinal)).ToArray();

    [Fact]
    public void Scene_is_clipped_to_the_aoi_on_the_site_grid_and_stored_as_cog()
    {
        using var dir = new TempDir();
        var (ws, site) = NewSite(dir);
        using var _ = ws;
        var source = Rasters.WriteUtmScene(dir.File("scene.tif"), 600, 500);

        var result = new SceneIngestor(ws).Ingest(site.Name, source, new IngestOptions());

        Assert.False(result.AlreadyPresent);
        var scene = result.Scene;
        Assert.Equal(new DateTime(2024, 5, 1, 2, 30, 0, DateTimeKind.Utc), scene.AcquiredUtc);
        Assert.Equal("TIFFTAG_DATETIME", scene.AcquiredFrom);
        Assert.Equal(["blue", "green", "red", "nir"], scene.Bands.Select(b => b.Name));
        using var stored = RasterDataset.Open(Path.Combine(ws.Root, scene.File));
        Assert.Equal("COG", stored.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE"));
        Assert.Equal(32652, stored.OpenCrs()!.Epsg);
        // The stored scene names its own acquisition time (the COG driver keeps only the default metadata domain).
        var reread = SceneMetadataReader.Read(stored, Path.Combine(ws.Root, scene.File));
        Assert.Equal((scene.AcquiredUtc, "ACQUISITIONDATETIME"), (reread.AcquiredUtc, reread.AcquiredFrom));
        var grid = SiteGrid.For(ws.Catalog.GetSite("plant"), 1.0, 0, 0);
        Assert.Equal(grid.GeoTransform, stored.GeoTransform);
        Assert.Equal((grid.Width, grid.Height), (stored.Width, stored.Height));
        Assert.True(stored.Width < 600 && stored.Height < 500, "the scene must be clipped to the AOI plus margin");
        // Same CRS, same GSD, integer offset: values are copied, not resampled.
        using var src = RasterDataset.Open(source);
        var (col, row) = src.GeoTransform!.Value.MapToPixel(grid.Extent.MinX, grid.Extent.MaxY);
        var expected = src.Read<ushort>(3, new RasterWindow((int)Math.Round(col), (int)Math.Round(row), 40, 30));
        Assert.Equal(expected, stored.Read<ushort>(3, new RasterWindow(0, 0, 40, 30)));
        Assert.Equal(1.0, scene.ValidFraction, 3);
    }

    [Fact]
    public void An_orthophoto_that_marks_its_bands_only_as_rgb_colours_gets_red_green_blue_names()
    {
        using var dir = new TempDir();
        var profile = new RasterProfile(32, 32, 3, RasterDataType.Byte) { GeoTransform = GeoTransform.NorthUp(543_000, 4_420_000, 0.1), Crs = "EPSG:32652" };
        var rgb = dir.File("ortho.tif");
        RasterDataset.Create(rgb, profile, creationOptions: ["PHOTOMETRIC=RGB"]).Dispose();
        var plain = dir.File("plain.tif");
        // GDAL writes three Byte bands as RGB unless told otherwise.
        RasterDataset.Create(plain, profile, creationOptions: ["PHOTOMETRIC=MINISBLACK"]).Dispose();
        using (var raster = RasterDataset.Open(rgb))
        {
            Assert.Equal(["red", "green", "blue"], SceneMetadataReader.Read(raster, rgb).Bands.Select(b => b.Name));
        }
        using (var raster = RasterDataset.Open(plain))
        {
            // Without colours or descriptions nothing says which band is which.
            Assert.Equal(["band1", "band2", "band3"], SceneMetadataReader.Read(raster, plain).Bands.Select(b => b.Name));
        }
    }

    [Fact]
    public void Adding_the_same_file_twice_is_a_no_op()
    {
        using var dir = new TempDir();
        var (ws, site) = NewSite(dir);
        using var _ = ws;
        var source = Rasters.WriteUtmScene(dir.File("scene.tif"), 600, 500);
        var ingestor = new SceneIngestor(ws);
        var first = ingestor.Ingest(site.Name, source, new IngestOptions());
        var files = StoredFiles(ws);
        var second = ingestor.Ingest(site.Name, source, new IngestOptions { AcquiredUtc = new DateTime(2030, 1, 1) });
        Assert.True(second.AlreadyPresent);
        Assert.Equal(first.Scene.Id, second.Scene.Id);
        Assert.Single(ws.Catalog.ListScenes(site.Id));
        Assert.Equal(files, StoredFiles(ws));
    }

    [Fact]
    public void A_scene_in_another_crs_is_reprojected_onto_the_site_grid()
    {
        using var dir = new TempDir();
        var (ws, site) = NewSite(dir);
        using var _ = ws;
        var utm = Rasters.WriteUtmScene(dir.File("utm.tif"), 600, 500);
        using (var src = RasterDataset.Open(utm))
        using (Warper.Warp(src, dir.File("geo.tif"), new WarpTarget { Crs = "EPSG:4326", Resampling = Resampling.Nearest }))
        {
        }
        var scene = new SceneIngestor(ws).Ingest(site.Name, dir.File("geo.tif"), new IngestOptions()).Scene;
        using var stored = RasterDataset.Open(Path.Combine(ws.Root, scene.File));
        Assert.Equal(32652, stored.OpenCrs()!.Epsg);
        Assert.Equal(1.0, stored.GeoTransform!.Value.PixelWidth, 9);
        Assert.True(scene.ValidFraction > 0.95);
    }

    [SkippableFact]
    public void Taizhou_landsat_envi_ingests_in_utm_51n_at_30_m_without_resampling()
    {
        var path = TestPaths.RequireSharedData("change", "taizhou", "2000TM");
        using (var envi = RasterDataset.Open(path))
        {
            Assert.Equal("ENVI", envi.Driver);
            Assert.Equal(32651, envi.OpenCrs()!.Epsg);
            Assert.Equal(30, envi.GeoTransform!.Value.PixelWidth);
            Assert.Equal(-30, envi.GeoTransform!.Value.PixelHeight);
            Assert.Equal((400, 400, 6), (envi.Width, envi.Height, envi.BandCount));
        }
        using var dir = new TempDir();
        using var ws = Workspace.Init(dir.File("ws"));
        File.WriteAllText(dir.File("aoi.geojson"), """
            {"type":"Polygon","coordinates":[[[119.845,32.44],[119.97,32.44],[119.97,32.545],[119.845,32.545],[119.845,32.44]]]}
            """);
        var site = SiteSetup.AddSite(ws, "taizhou", dir.File("aoi.geojson"), gsd: null, crs: "EPSG:32651", [], null);
        var scene = new SceneIngestor(ws).Ingest(site.Name, path, new IngestOptions { AcquiredUtc = new DateTime(2000, 3, 17, 0, 0, 0, DateTimeKind.Utc) }).Scene;

        Assert.Equal(30, ws.Catalog.GetSite("taizhou").Gsd);
        Assert.Equal(0.4825, scene.Bands[0].WavelengthMicrometres!.Value, 4);
        Assert.Equal("Landsat ETM", scene.Sensor);
        using var stored = RasterDataset.Open(Path.Combine(ws.Root, scene.File));
        Assert.Equal(32651, stored.OpenCrs()!.Epsg);
        var gt = stored.GeoTransform!.Value;
        Assert.Equal(30, gt.PixelWidth);
        Assert.Equal(15, ((gt.OriginX % 30) + 30) % 30, 6); // Landsat's lattice kept
        // Pixel values are copied, not resampled: compare one row at the same map position.
        using var src = RasterDataset.Open(path);
        var (col, row) = src.GeoTransform!.Value.MapToPixel(gt.OriginX, gt.OriginY);
        var (c0, r0) = ((int)Math.Round(col), (int)Math.Round(row));
        var offsetCol = Math.Max(0, -c0);
        var offsetRow = Math.Max(0, -r0);
        var srcRow = src.Read<byte>(4, new RasterWindow(c0 + offsetCol, r0 + offsetRow, 100, 1));
        var storedRow = stored.Read<byte>(4, new RasterWindow(offsetCol, offsetRow, 100, 1));
        Assert.Equal(srcRow, storedRow);
    }
}
