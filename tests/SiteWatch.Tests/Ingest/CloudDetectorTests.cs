using SiteWatch.Core;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Core.Ingest;
using SiteWatch.Core.Workflows;
using SiteWatch.Gdal;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Tests.Ingest;

/// <summary>
/// Clouds and their shadows in scenes delivered without a mask: a soft cumulus with its shadow 300 m to the north-west
/// is found; a bright roof with its own shadow against its wall, a pale ribbon and a lake are not clouds.
/// </summary>
public sealed class CloudDetectorTests
{
    private const int Size = 600;
    private const double Gsd = 2;
    private const double OriginX = 371_000, OriginY = 4_421_000;
    // Cloud centre and radii in pixels; its shadow 106 px west and 106 px north (300 m towards 315 degrees).
    private const int CloudX = 400, CloudY = 400, CoreRadius = 36, EdgeRadius = 46, ShadowDx = -106, ShadowDy = -106;

    private static readonly float[] Vegetation = [450, 750, 500, 3600], Soil = [1250, 1450, 1650, 2300];
    private static readonly float[] CloudWhite = [6000, 6100, 6150, 6000], Roof = [5200, 5300, 5350, 5200], Pale = [3000, 3050, 3100, 3000];
    private static readonly float[] ShadowFactor = [0.5f, 0.45f, 0.4f, 0.3f];

    private static float CloudOpacity(int x, int y)
    {
        var r = Math.Sqrt((x - CloudX) * (x - CloudX) + (y - CloudY) * (y - CloudY));
        return r <= CoreRadius ? 1 : r >= EdgeRadius ? 0 : (float)((EdgeRadius - r) / (EdgeRadius - CoreRadius));
    }

    /// <summary>Fields of vegetation and soil with noise, a roof, a pale ribbon and a lake; a cloud and its shadow when asked.</summary>
    internal static string WriteScene(string path, bool cloudy, DateTime? when = null)
    {
        var profile = new RasterProfile(Size, Size, 4, RasterDataType.UInt16)
        {
            GeoTransform = GeoTransform.NorthUp(OriginX, OriginY, Gsd),
            Crs = "EPSG:32652",
            NoData = 0,
            BandDescriptions = ["blue", "green", "red", "nir"],
        };
        var random = new Random(7);
        var bands = Enumerable.Range(0, 4).Select(_ => new ushort[Size * Size]).ToArray();
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                var ground = ((x / 60) + (y / 45)) % 3 == 0 ? Soil : Vegetation;
                var roof = x is >= 100 and < 180 && y is >= 400 and < 460;
                var roofShadow = x is >= 94 and < 100 && y is >= 400 and < 460;
                var ribbon = x is >= 150 and < 550 && y is >= 150 and < 156;
                var lake = x is >= 250 and < 330 && y is >= 60 and < 120;
                var shadowOpacity = cloudy ? CloudOpacity(x - ShadowDx, y - ShadowDy) : 0;
                var cloud = cloudy ? CloudOpacity(x, y) : 0;
                for (var b = 0; b < 4; b++)
                {
                    var noise = random.Next(-60, 61);
                    float v = roof ? Roof[b] : ribbon ? Pale[b] : lake ? new float[] { 500, 650, 450, 150 }[b] : ground[b];
                    if (roofShadow)
                    {
                        v *= 0.35f;
                    }
                    v *= 1 - shadowOpacity * (1 - ShadowFactor[b]);
                    v = cloud * CloudWhite[b] + (1 - cloud) * v;
                    bands[b][y * Size + x] = (ushort)Math.Clamp(v + noise, 1, 60000);
                }
            }
        }
        using var raster = RasterDataset.Create(path, profile);
        for (var b = 0; b < 4; b++)
        {
            raster.Write<ushort>(b + 1, new RasterWindow(0, 0, Size, Size), bands[b]);
        }
        if (when is { } t)
        {
            raster.SetMetadataItem("TIFFTAG_DATETIME", t.ToString("yyyy:MM:dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
        }
        return path;
    }

    private static readonly SpectralBands Bands = new(0, 1, 2, 3, 4);

    [Fact]
    public void A_cumulus_and_its_shadow_are_found_and_a_roof_a_ribbon_and_a_lake_are_not()
    {
        using var dir = new TempDir();
        var scene = WriteScene(dir.File("cloudy.tif"), cloudy: true);

        var result = CloudDetector.Detect(scene, Bands, dir.File("mask.tif"));

        Assert.Null(result.SkippedBecause);
        Assert.Equal(1, result.CloudObjects);
        Assert.Equal(1, result.ConfirmedByShadow);
        Assert.True(result.ShadowAzimuthDegrees is >= 300 and <= 330 && result.ShadowOffsetMetres is >= 250 and <= 350,
            $"shadow {result.ShadowOffsetMetres} m towards {result.ShadowAzimuthDegrees} degrees; it was cast 300 m towards 315");
        using var mask = RasterDataset.Open(dir.File("mask.tif"));
        Assert.Equal((Size, Size), (mask.Width, mask.Height));
        Assert.Equal(GeoTransform.NorthUp(OriginX, OriginY, Gsd), mask.GeoTransform);
        var values = mask.Read<byte>(1, new RasterWindow(0, 0, Size, Size));
        byte At(int x, int y) => values[y * Size + x];
        // Cloud core and shadow core; roof, ribbon, lake and open ground clear.
        Assert.Equal(CloudDetector.Cloud, At(CloudX, CloudY));
        Assert.Equal(CloudDetector.Shadow, At(CloudX + ShadowDx - 20, CloudY + ShadowDy - 20));
        Assert.Equal(CloudDetector.Clear, At(140, 430));
        Assert.Equal(CloudDetector.Clear, At(350, 152));
        Assert.Equal(CloudDetector.Clear, At(290, 90));
        Assert.Equal(CloudDetector.Clear, At(560, 60));
        // Against the truth of the opaque core: most of it found, little else.
        long truth = 0, hit = 0, flagged = values.LongCount(v => v == CloudDetector.Cloud);
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                if (CloudOpacity(x, y) >= 0.5f)
                {
                    truth++;
                    hit += At(x, y) == CloudDetector.Cloud ? 1 : 0;
                }
            }
        }
        Assert.True(hit >= 0.9 * truth, $"{hit} of {truth} cloud pixels found");
        Assert.True(flagged <= 1.5 * truth, $"{flagged} pixels flagged for {truth} of cloud");
    }

    [Fact]
    public void A_clear_scene_with_a_roof_a_ribbon_and_a_lake_gets_no_mask()
    {
        using var dir = new TempDir();
        var scene = WriteScene(dir.File("clear.tif"), cloudy: false);

        var result = CloudDetector.Detect(scene, Bands, dir.File("mask.tif"));

        Assert.False(result.Found);
        Assert.Equal(0, result.CloudFraction);
        Assert.False(File.Exists(dir.File("mask.tif")));
    }

    [Fact]
    public void Without_blue_and_red_the_detector_says_why_it_did_not_look()
    {
        using var dir = new TempDir();
        var scene = WriteScene(dir.File("cloudy.tif"), cloudy: true);
        var result = CloudDetector.Detect(scene, new SpectralBands(null, 1, null, 3, 4), dir.File("mask.tif"));
        Assert.Contains("blue and red", result.SkippedBecause);
        Assert.False(File.Exists(dir.File("mask.tif")));
    }

    [Fact]
    public void Ingest_stores_the_detected_mask_and_change_runs_leave_the_cloud_out()
    {
        using var dir = new TempDir();
        var clear = WriteScene(dir.File("clear.tif"), cloudy: false, new DateTime(2024, 7, 16, 2, 0, 0));
        var cloudy = WriteScene(dir.File("cloudy.tif"), cloudy: true, new DateTime(2024, 8, 13, 2, 0, 0));
        using var workspace = Workspace.Init(dir.File("ws"));
        // The AOI covers nearly the whole scene (2 m pixels from 371000, 4421000 in UTM 52N).
        File.WriteAllText(dir.File("aoi.geojson"), """{"type":"Polygon","coordinates":[[[127.4907,39.9188],[127.5043,39.9189],[127.5041,39.9292],[127.4906,39.9290],[127.4907,39.9188]]]}""");
        SiteSetup.AddSite(workspace, "valley", dir.File("aoi.geojson"), null, null, [], null);
        var ingestor = new SceneIngestor(workspace);

        var first = ingestor.Ingest("valley", clear, new IngestOptions());
        var second = ingestor.Ingest("valley", cloudy, new IngestOptions());

        Assert.NotNull(first.Clouds);
        Assert.False(first.Clouds!.Found);
        Assert.Null(first.Scene.CloudMaskFile);
        Assert.True(second.Clouds!.Found);
        Assert.NotNull(second.Scene.CloudMaskFile);
        Assert.True(File.Exists(workspace.Resolve(second.Scene.CloudMaskFile!)));
        Assert.Equal(second.Scene.CloudMaskSha256, StoredFiles.Sha256(workspace.Resolve(second.Scene.CloudMaskFile!)));
        Assert.InRange(second.Scene.CloudCoverPercent!.Value, 0.5, 10);

        var change = SiteChangeWorkflow.Run(workspace, "valley", "2024-07-16", "2024-08-13", new SiteChangeOptions { Detection = new ChangeDetectionOptions { Method = ChangeMethodKind.Cva } });
        Assert.True(change.Summary.GetProperty("excluded_cloud_pixels").GetInt64() > 3000);
        // Nothing at the cloud's or its shadow's place is reported as change.
        Assert.DoesNotContain(change.Objects!, o => o.Footprint.Distance(new NetTopologySuite.Geometries.Point(OriginX + CloudX * Gsd, OriginY - CloudY * Gsd)) < 60);

        // Asked not to look, ingest stores no mask.
        var other = WriteScene(dir.File("cloudy-2.tif"), cloudy: true, new DateTime(2024, 9, 12, 2, 0, 0));
        Assert.Null(ingestor.Ingest("valley", other, new IngestOptions { DetectClouds = false }).Scene.CloudMaskFile);
        var unnamed = WriteScene(dir.File("cloudy-3.tif"), cloudy: true, new DateTime(2024, 10, 15, 2, 0, 0));
        var wrongNames = Assert.Throws<SiteWatchException>(() => ingestor.Ingest("valley", unnamed, new IngestOptions { BandNames = ["red", "green", "blue"] }));
        Assert.Contains("4 bands but 3 band names", wrongNames.Message);
    }
}
