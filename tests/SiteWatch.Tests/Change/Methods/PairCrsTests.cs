using SiteWatch.Core;
using SiteWatch.Core.Change;
using SiteWatch.Core.Registration;
using SiteWatch.Gdal;

namespace SiteWatch.Tests.Change.Methods;

/// <summary>Every path that compares two rasters pixel for pixel refuses two CRSs on one geotransform (issue 15).</summary>
public class PairCrsTests
{
    private static RasterDataset InMemory(string crs)
    {
        var raster = RasterDataset.CreateInMemory(new RasterProfile(64, 64, 1, RasterDataType.Float32)
        {
            GeoTransform = GeoTransform.NorthUp(543_000, 4_420_000, 1),
            Crs = crs,
        });
        var data = new float[64 * 64];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (i * 37 % 101) + (i / 64 * 3 % 17);
        }
        raster.Write<float>(1, new RasterWindow(0, 0, 64, 64), data);
        return raster;
    }

    [Fact]
    public void Raster_pair_and_co_registration_refuse_different_crs_and_accept_equivalent_definitions()
    {
        using var zone52 = InMemory("EPSG:32652");
        using var zone51 = InMemory("EPSG:32651");
        using var zone52Proj = InMemory("+proj=utm +zone=52 +datum=WGS84 +units=m +no_defs");

        var pair = Assert.Throws<SiteWatchException>(() => new RasterPair(zone52, zone51));
        Assert.Contains("its CRS EPSG:32651 differs from", pair.Message);
        Assert.Contains("EPSG:32652", pair.Message);
        var coreg = Assert.Throws<SiteWatchException>(() => CoRegistration.Estimate(zone52, zone51, new CoRegistrationOptions()));
        Assert.Contains("its CRS EPSG:32651 differs from", coreg.Message);

        using var same = new RasterPair(zone52, zone52Proj);
        Assert.Equal(64, same.Width);
    }
}
