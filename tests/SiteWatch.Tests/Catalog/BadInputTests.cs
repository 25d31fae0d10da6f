using SiteWatch.Core;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Geo;
using SiteWatch.Core.Ingest;
using SiteWatch.Core.Workflows;
using SiteWatch.Gdal;

namespace SiteWatch.Tests.Catalog;

/// <summary>Every bad input gets a one-line error naming the file and the problem, and the catalog stays as it was.</summary>
public class BadInputTests
{
    private sealed class Fixture : IDisposable
    {
        public Fixture()
        {
            Workspace = Workspace.Init(Dir.File("ws"));
            File.WriteAllText(Dir.File("aoi.geojson"), IngestTests.SceneAoi);
            Site = SiteSetup.AddSite(Workspace, "plant", Dir.File("aoi.geojson"), 1.0, null, [], null);
            // One good scene already stored: it must survive every failure below.
            Good = new SceneIngestor(Workspace).Ingest("plant", Rasters.WriteUtmScene(Dir.File("good.tif"), 600, 500), new IngestOptions()).Scene;
            Snapshot = State();
        }

        public TempDir Dir { get; } = new();
        public Workspace Workspace { get; }
        public Site Site { get; }
        public Scene Good { get; }
        public string Snapshot { get; }

        public string State()
        {
            var scenes = string.Join(";", Workspace.Catalog.ListScenes(Site.Id).Select(s => $"{s.Id}:{s.File}:{s.SourceSha256}"));
            var files = Directory.EnumerateFiles(Workspace.Root, "*", SearchOption.AllDirectories)
                .Where(f => !f.EndsWith(Workspace.CatalogFileName, StringComparison.Ordinal))
                .Select(f => $"{Path.GetRelativePath(Workspace.Root, f)}:{new FileInfo(f).Length}").Order();
            var sites = string.Join(";", Workspace.Catalog.ListSites().Select(s => s.Name));
            return $"{sites}|{scenes}|{string.Join(",", files)}";
        }

        public SiteWatchException IngestFails(string path, IngestOptions? options = null)
        {
            var e = Assert.Throws<SiteWatchException>(() => new SceneIngestor(Workspace).Ingest("plant", path, options ?? new IngestOptions()));
            Assert.DoesNotContain('\n', e.Message);
            Assert.Equal(Snapshot, State());
            return e;
        }

        public void Dispose()
        {
            Workspace.Dispose();
            Dir.Dispose();
        }
    }

    [Fact]
    public void Not_a_raster()
    {
        using var f = new Fixture();
        var path = f.Dir.File("report.tif");
        File.WriteAllText(path, "<html>not an image</html>");
        var e = f.IngestFails(path);
        Assert.Contains(path, e.Message);
        Assert.Contains("not a raster", e.Message);
    }

    [Fact]
    public void Truncated_tiff_header()
    {
        using var f = new Fixture();
        var bytes = File.ReadAllBytes(Rasters.WriteUtmScene(f.Dir.File("whole.tif"), 600, 500));
        var path = f.Dir.File("truncated.tif");
        File.WriteAllBytes(path, bytes[..64]);
        Assert.Contains(path, f.IngestFails(path).Message);
    }

    [Fact]
    public void Tiff_cut_in_its_pixel_data_fails_half_way_and_leaves_no_trace()
    {
        using var f = new Fixture();
        // Uncompressed strips: the header (written last by GDAL, at the end) is kept by cutting out the middle instead.
        var whole = Rasters.WriteUtmScene(f.Dir.File("whole.tif"), 600, 500, options: ["COMPRESS=NONE", "TILED=NO", "INTERLEAVE=BAND"]);
        var bytes = File.ReadAllBytes(whole);
        var path = f.Dir.File("corrupt.tif");
        // Keep the IFD (at the start for GDAL's GTiff) and zero-length the pixel data by truncating at 40 %.
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * 0.4)]);
        var e = f.IngestFails(path);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Raster_without_georeference()
    {
        using var f = new Fixture();
        var path = f.Dir.File("plain.tif");
        using (var r = RasterDataset.Create(path, new RasterProfile(50, 50, 1, RasterDataType.Byte)))
        {
            r.SetMetadataItem("TIFFTAG_DATETIME", "2024:01:01 00:00:00");
        }
        var e = f.IngestFails(path);
        Assert.Contains("no georeference", e.Message);
    }

    [Fact]
    public void Scene_not_overlapping_the_aoi()
    {
        using var f = new Fixture();
        var path = Rasters.WriteUtmScene(f.Dir.File("elsewhere.tif"), 100, 100, originX: 600_000, originY: 4_500_000);
        var e = f.IngestFails(path);
        Assert.Contains("does not overlap the AOI", e.Message);
    }

    [Fact]
    public void Absurd_dimensions()
    {
        using var f = new Fixture();
        var path = f.Dir.File("huge.tif");
        File.WriteAllBytes(path, Gdal.RasterIoTests.HostileTiff(1_000_000, 1_000_000));
        var e = f.IngestFails(path);
        Assert.Contains("1000000 x 1000000", e.Message);
    }

    [Fact]
    public void Unknown_crs()
    {
        using var f = new Fixture();
        var path = f.Dir.File("local.tif");
        using (var r = RasterDataset.Create(path, new RasterProfile(50, 50, 1, RasterDataType.Byte) { GeoTransform = GeoTransform.NorthUp(543_100, 4_419_800, 1) }))
        {
            // An engineering (local) CRS cannot be related to any Earth CRS.
            using var local = SpatialReference.FromUserInput("LOCAL_CS[\"site survey grid\",UNIT[\"metre\",1]]");
            r.SetCrs(local);
            r.SetMetadataItem("TIFFTAG_DATETIME", "2024:01:01 00:00:00");
        }
        var e = f.IngestFails(path);
        Assert.Contains(path, e.Message);
        Assert.Contains("cannot be transformed", e.Message);

        using var dir = new TempDir();
        var bad = Assert.Throws<SiteWatchException>(() => SiteSetup.AddSite(f.Workspace, "other", f.Dir.File("aoi.geojson"), 1, "EPSG:999999", [], null));
        Assert.Contains("EPSG:999999", bad.Message);
        Assert.Equal(f.Snapshot, f.State());
    }

    [Fact]
    public void Missing_acquisition_time_asks_for_date()
    {
        using var f = new Fixture();
        var path = Rasters.WriteUtmScene(f.Dir.File("undated.tif"), 600, 500, dateTag: null);
        var e = f.IngestFails(path);
        Assert.Contains("no acquisition time", e.Message);
        Assert.Equal(NextStepKind.GiveDate, e.Next?.Kind);
        // The command line words the remedy as its option.
        Assert.EndsWith("(give one with --date YYYY-MM-DD)", SiteWatch.Cli.CliWording.Text(e));
    }

    [Fact]
    public void Stac_item_naming_a_missing_cloud_mask()
    {
        using var f = new Fixture();
        var path = Rasters.WriteUtmScene(f.Dir.File("stac.tif"), 600, 500, dateTag: null);
        File.WriteAllText(f.Dir.File("stac.json"), """
            {"type":"Feature","stac_version":"1.0.0","id":"x","properties":{"datetime":"2024-07-01T02:00:00Z"},"geometry":null,
             "assets":{"udm":{"href":"./stac_udm.tif","roles":["cloud"]}}}
            """);
        var e = f.IngestFails(path);
        Assert.Contains("stac_udm.tif does not exist", e.Message);
    }

    [Fact]
    public void Read_only_workspace()
    {
        using var f = new Fixture();
        var path = Rasters.WriteUtmScene(f.Dir.File("new.tif"), 600, 500, dateTag: "2024:06:01 02:30:00");
        var mode = File.GetUnixFileMode(f.Workspace.Root);
        File.SetUnixFileMode(f.Workspace.Root, mode & ~(UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
        try
        {
            var e = f.IngestFails(path);
            Assert.Contains("read-only", e.Message);
            var site = Assert.Throws<SiteWatchException>(() => SiteSetup.AddSite(f.Workspace, "second", f.Dir.File("aoi.geojson"), 1, null, [], null));
            Assert.Contains("read-only", site.Message);
        }
        finally
        {
            File.SetUnixFileMode(f.Workspace.Root, mode);
        }
        Assert.Equal(f.Snapshot, f.State());
    }

    [Theory]
    [InlineData("{\"type\":\"Polygon\",\"coordinates\":[[[129.5,39.9],[129.6,39.9]", "invalid GeoJSON")]
    [InlineData("{\"type\":\"Polygon\",\"coordinates\":[[[129.50,39.90],[129.51,39.91],[129.51,39.90],[129.50,39.91],[129.50,39.90]]]}", "Self-intersection")]
    [InlineData("{\"type\":\"LineString\",\"coordinates\":[[129.5,39.9],[129.6,39.9]]}", "must be a Polygon or MultiPolygon")]
    [InlineData("{\"type\":\"Point\",\"coordinates\":[129.5,39.9]}", "must be a Polygon or MultiPolygon")]
    [InlineData("{\"type\":\"Polygon\",\"coordinates\":[[[543000,4420000],[543100,4420000],[543100,4420100],[543000,4420000]]]}", "not a longitude/latitude")]
    [InlineData("{\"type\":\"FeatureCollection\",\"features\":[]}", "no features")]
    [InlineData("[1,2,3]", "not GeoJSON")]
    [InlineData("{\"type\":\"Feature\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"EPSG:32652\"}},\"properties\":{},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[129.5,39.9],[129.6,39.9],[129.6,40],[129.5,39.9]]]}}", "must be in WGS84")]
    public void Bad_aoi_is_refused_with_the_reason(string geojson, string reason)
    {
        using var f = new Fixture();
        var path = f.Dir.File("bad-aoi.geojson");
        File.WriteAllText(path, geojson);
        var e = Assert.Throws<SiteWatchException>(() => SiteSetup.AddSite(f.Workspace, "second", path, 1, null, [], null));
        Assert.Contains(path, e.Message);
        Assert.Contains(reason, e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(f.Snapshot, f.State());
    }

    [Fact]
    public void Aoi_too_large_for_its_gsd_is_refused_at_site_creation()
    {
        using var f = new Fixture();
        var path = f.Dir.File("country.geojson");
        File.WriteAllText(path, "{\"type\":\"Polygon\",\"coordinates\":[[[126,38],[130,38],[130,42],[126,42],[126,38]]]}");
        var e = Assert.Throws<SiteWatchException>(() => SiteSetup.AddSite(f.Workspace, "country", path, 0.5, null, [], null));
        Assert.Equal("gsd", e.Parameter);
        Assert.Contains("choose a larger GSD or a smaller AOI", e.Message);
        Assert.Equal(f.Snapshot, f.State());
    }

    [Fact]
    public void Duplicate_site_name()
    {
        using var f = new Fixture();
        var e = Assert.Throws<SiteWatchException>(() => SiteSetup.AddSite(f.Workspace, "PLANT", f.Dir.File("aoi.geojson"), 1, null, [], null));
        Assert.Contains("already exists", e.Message);
    }

    [Fact]
    public void Aoi_reader_accepts_feature_collections_and_multipolygons()
    {
        var g = AoiReader.Parse("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[[[[129.5,39.9],[129.6,39.9],[129.6,40],[129.5,39.9]]]]}}]}", "t");
        Assert.Equal("MultiPolygon", g.GeometryType);
        Assert.Equal(4326, g.SRID);
    }
}
