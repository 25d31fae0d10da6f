using System.Globalization;
using SiteWatch.Gdal;

namespace SiteWatch.Tests.Gdal;

public class ProjectionTests
{
    [Fact]
    public void Transforms_lon_lat_to_utm_like_gdaltransform()
    {
        using var wgs84 = SpatialReference.Wgs84();
        using var utm = SpatialReference.FromEpsg(32652);
        using var transform = new CoordinateTransform(wgs84, utm);
        var (x, y) = transform.Transform(127.54, 39.92);

        var (code, output) = Rasters.RunTool("sh", "-c", "echo '127.54 39.92' | gdaltransform -s_srs EPSG:4326 -t_srs EPSG:32652 -output_xy");
        Assert.Equal(0, code);
        var parts = output.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(double.Parse(parts[0], CultureInfo.InvariantCulture), x, 1e-4);
        Assert.Equal(double.Parse(parts[1], CultureInfo.InvariantCulture), y, 1e-4);

        using var back = new CoordinateTransform(utm, wgs84);
        var (lon, lat) = back.Transform(x, y);
        Assert.Equal(127.54, lon, 1e-9);
        Assert.Equal(39.92, lat, 1e-9);
    }

    [Theory]
    [InlineData(127.54, 39.92, 32652)]
    [InlineData(119.9, 32.49, 32650)]
    [InlineData(-0.1, 51.5, 32630)]
    [InlineData(151.2, -33.9, 32756)]
    public void Picks_the_utm_zone_of_a_point(double lon, double lat, int epsg) => Assert.Equal(epsg, SpatialReference.UtmEpsgFor(lon, lat));

    [Fact]
    public void Unknown_crs_is_a_clear_error()
    {
        var e = Assert.Throws<GdalException>(() => SpatialReference.FromUserInput("EPSG:999999"));
        Assert.Contains("EPSG:999999", e.Message);
        Assert.Throws<GdalException>(() => SpatialReference.FromUserInput("not a crs at all"));
    }

    [Fact]
    public void Identifies_epsg_of_esri_style_wkt()
    {
        const string wkt = "PROJCS[\"UTM_Zone_51N\",GEOGCS[\"GCS_WGS_1984\",DATUM[\"D_WGS_1984\",SPHEROID[\"WGS_1984\",6378137.0,298.257223563]],PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]],PROJECTION[\"Transverse_Mercator\"],PARAMETER[\"False_Easting\",500000.0],PARAMETER[\"False_Northing\",0.0],PARAMETER[\"Central_Meridian\",123.0],PARAMETER[\"Scale_Factor\",0.9996],PARAMETER[\"Latitude_Of_Origin\",0.0],UNIT[\"Meter\",1.0]]";
        using var srs = SpatialReference.FromUserInput(wkt);
        Assert.Equal(32651, srs.Epsg);
        Assert.True(srs.IsProjected);
    }

    [Fact]
    public void Warp_matches_gdalwarp_on_the_same_input()
    {
        using var dir = new TempDir();
        var source = Rasters.WriteUtmScene(dir.File("utm.tif"), 200, 180, gsd: 2.0);
        var target = new WarpTarget
        {
            Crs = "EPSG:4326",
            Resolution = 0.00002,
            Extent = new MapExtent(129.5030, 39.9255, 129.5075, 39.9295),
            Resampling = Resampling.Bilinear,
        };
        using var src = RasterDataset.Open(source);
        using var ours = Warper.Warp(src, dir.File("ours.tif"), target);

        var (code, output) = Rasters.RunTool("gdalwarp", "-q", "-t_srs", "EPSG:4326", "-tr", "0.00002", "0.00002",
            "-te", "129.5030", "39.9255", "129.5075", "39.9295", "-r", "bilinear", "-dstnodata", "0", source, dir.File("theirs.tif"));
        Assert.True(code == 0, output);
        using var theirs = RasterDataset.Open(dir.File("theirs.tif"));

        Assert.Equal((theirs.Width, theirs.Height), (ours.Width, ours.Height));
        Assert.Equal(theirs.GeoTransform, ours.GeoTransform);
        Assert.Equal(4326, ours.OpenCrs()!.Epsg);
        var all = new RasterWindow(0, 0, ours.Width, ours.Height);
        var validPixels = 0;
        for (var b = 1; b <= 4; b++)
        {
            var a = ours.Read<ushort>(b, all);
            var t = theirs.Read<ushort>(b, all);
            Assert.Equal(t, a);
            validPixels += a.Count(v => v != 0);
        }
        Assert.True(validPixels > all.PixelCount, "the warped window should overlap the source");
    }
}
