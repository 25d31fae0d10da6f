using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Ingest;
using SiteWatch.Core.Workflows;
using SiteWatch.Gdal;
using SiteWatch.Server.Endpoints;

namespace SiteWatch.Server.Tests;

/// <summary>
/// Uploads are untrusted: only TIFF bytes reach GDAL, and only its GeoTIFF driver opens them, so a VRT (raw bands
/// over the catalog, /vsicurl/ sources) is refused with 400 and nothing is stored.
/// </summary>
public sealed class UploadSafetyTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private string CatalogPath => Path.Combine(server.WorkspaceDirectory, Workspace.CatalogFileName);

    /// <summary>A VRT whose band is the raw bytes of the workspace's catalog.</summary>
    private string RawVrtOverCatalog() => $"""
        <VRTDataset rasterXSize="64" rasterYSize="64">
          <SRS>EPSG:32652</SRS>
          <GeoTransform>371000, 1, 0, 4421000, 0, -1</GeoTransform>
          <VRTRasterBand dataType="Byte" band="1" subClass="VRTRawRasterBand">
            <SourceFilename relativeToVRT="0">{CatalogPath}</SourceFilename>
            <ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset><LineOffset>64</LineOffset>
          </VRTRasterBand>
        </VRTDataset>
        """;

    private const string CurlVrt = """
        <VRTDataset rasterXSize="64" rasterYSize="64">
          <SRS>EPSG:32652</SRS>
          <GeoTransform>371000, 1, 0, 4421000, 0, -1</GeoTransform>
          <VRTRasterBand dataType="Byte" band="1">
            <SimpleSource><SourceFilename relativeToVRT="0">/vsicurl/http://127.0.0.1:9/secret.tif</SourceFilename><SourceBand>1</SourceBand></SimpleSource>
          </VRTRasterBand>
        </VRTDataset>
        """;

    private int StoredFileCount() =>
        Directory.EnumerateFiles(Path.Combine(server.WorkspaceDirectory, "imagery"), "*", SearchOption.AllDirectories).Count() +
        Directory.EnumerateFiles(Path.Combine(server.WorkspaceDirectory, ".staging"), "*", SearchOption.AllDirectories).Count();

    private int SceneCount()
    {
        using var workspace = Workspace.Open(server.WorkspaceDirectory);
        return workspace.Catalog.ListScenes(server.SiteId).Count;
    }

    public static TheoryData<string, string> Hostile => new()
    {
        { "vrt-catalog", "scene.vrt" },
        { "vrt-catalog", "scene.tif" },
        { "vrt-curl", "scene.tif" },
        { "tiff-le-then-vrt", "scene.tif" },
        { "tiff-be-then-vrt", "scene.tiff" },
        { "bigtiff-then-vrt", "scene.tif" },
    };

    private byte[] Body(string kind)
    {
        var vrt = Encoding.UTF8.GetBytes(RawVrtOverCatalog());
        return kind switch
        {
            "vrt-catalog" => vrt,
            "vrt-curl" => Encoding.UTF8.GetBytes(CurlVrt),
            // TIFF signatures followed by VRT XML: past the signature check, GDAL's GeoTIFF driver must refuse it.
            "tiff-le-then-vrt" => [.. "II*\0"u8, .. vrt],
            "tiff-be-then-vrt" => [.. "MM\0*"u8, .. vrt],
            "bigtiff-then-vrt" => [.. "II+\0"u8, .. vrt],
            _ => throw new ArgumentException(kind),
        };
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task A_VRT_upload_in_any_disguise_answers_400_and_stores_nothing(string kind, string filename)
    {
        using var client = await server.SignedIn("ana");
        var files = StoredFileCount();
        var scenes = SceneCount();
        var response = await client.PostAsync($"/api/sites/{server.SiteId}/scenes?filename={filename}&date=2024-07-01", new ByteArrayContent(Body(kind)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.Contains("upload", detail);
        Assert.DoesNotContain(server.WorkspaceDirectory, detail);
        Assert.DoesNotContain("SQLite", detail);
        Assert.Equal(files, StoredFileCount());
        Assert.Equal(scenes, SceneCount());
    }

    [Fact]
    public async Task A_real_GeoTIFF_named_vrt_is_refused_by_its_name()
    {
        using var client = await server.SignedIn("ana");
        var file = Scenes.Write(Path.Combine(server.Root, "named.tif"), after: true);
        var response = await client.PostAsync($"/api/sites/{server.SiteId}/scenes?filename=named.vrt", new ByteArrayContent(File.ReadAllBytes(file)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(".tif", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public void The_upload_driver_list_refuses_a_VRT_that_every_driver_opens()
    {
        var tif = Scenes.Write(Path.Combine(server.Root, "wrapped.tif"), after: false);
        var vrt = Path.Combine(server.Root, "wrapped.tif.vrt");
        WrapInVrt(tif, vrt);
        using (var opened = RasterDataset.Open(vrt))
        {
            Assert.Equal(4, opened.BandCount);
        }
        Assert.Throws<GdalException>(() => RasterDataset.Open(vrt, update: false, SceneEndpoints.UploadDrivers));
        using var geotiff = RasterDataset.Open(tif, update: false, SceneEndpoints.UploadDrivers);
        Assert.Equal(4, geotiff.BandCount);
    }

    [Fact]
    public void A_raw_VRT_band_over_the_catalog_is_refused()
    {
        var vrt = Path.Combine(server.Root, "raw.vrt");
        File.WriteAllText(vrt, RawVrtOverCatalog());
        Assert.Throws<GdalException>(() => RasterDataset.Open(vrt, update: false, SceneEndpoints.UploadDrivers));
        // ServerApp.Build sets GDAL_VRT_ENABLE_RAWRASTERBAND=NO for the whole process (the fixture's server runs in
        // this one); GDAL honours it from 3.7 on, so older GDAL relies on the driver list above alone.
        var version = Version.Parse(GdalEnvironment.Version.Split('-', ' ')[0]);
        if (version >= new Version(3, 7))
        {
            var error = Assert.Throws<GdalException>(() => RasterDataset.Open(vrt));
            Assert.Contains("GDAL_VRT_ENABLE_RAWRASTERBAND", error.Message + error.GdalMessage);
        }
    }

    [Fact]
    public void The_CLI_ingest_still_opens_a_users_own_VRT()
    {
        // `sitewatch scene add` passes no driver list: the CLI user may point at any raster GDAL reads.
        var root = Path.Combine(server.Root, "cli-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        using var workspace = Workspace.Init(Path.Combine(root, "ws"));
        File.WriteAllText(Path.Combine(root, "aoi.geojson"), ServerFixture.Aoi);
        SiteSetup.AddSite(workspace, "plant", Path.Combine(root, "aoi.geojson"), 1.0, null, [], null);
        var vrt = Path.Combine(root, "mine.vrt");
        WrapInVrt(Scenes.Write(Path.Combine(root, "mine.tif"), after: false), vrt);
        var result = new SceneIngestor(workspace).Ingest("plant", vrt, new IngestOptions());
        Assert.False(result.AlreadyPresent);
        Assert.Throws<Core.SiteWatchException>(() =>
            new SceneIngestor(workspace).Ingest("plant", vrt, new IngestOptions { AllowedDrivers = SceneEndpoints.UploadDrivers }));
    }

    /// <summary>A plain VRT (simple sources, no raw bands) over a GeoTIFF, as gdalbuildvrt would write.</summary>
    private static void WrapInVrt(string tif, string vrt)
    {
        using var source = RasterDataset.Open(tif);
        var gt = source.GeoTransform!.Value;
        var bands = string.Concat(Enumerable.Range(1, source.BandCount).Select(b => $"""
              <VRTRasterBand dataType="UInt16" band="{b}">
                <NoDataValue>0</NoDataValue>
                <SimpleSource><SourceFilename relativeToVRT="0">{tif}</SourceFilename><SourceBand>{b}</SourceBand></SimpleSource>
              </VRTRasterBand>
            """));
        File.WriteAllText(vrt, $"""
            <VRTDataset rasterXSize="{source.Width}" rasterYSize="{source.Height}">
              <SRS>{System.Security.SecurityElement.Escape(source.CrsWkt)}</SRS>
              <GeoTransform>{string.Join(", ", gt.ToArray().Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}</GeoTransform>
              <Metadata><MDI key="TIFFTAG_DATETIME">2024:03:14 02:00:00</MDI></Metadata>
            {bands}
            </VRTDataset>
            """);
    }
}
