using SiteWatch.Gdal.Native;

namespace SiteWatch.Gdal;

/// <summary>A polygon of connected pixels sharing one value, as OGC WKB in the raster's map coordinates.</summary>
public sealed record PixelRegion(int Value, byte[] Wkb);

/// <summary>Turns classified rasters into polygons with GDAL's polygonizer (exact pixel-edge outlines).</summary>
public static unsafe class Polygonizer
{
    /// <summary>
    /// Polygons of every connected region of non-zero pixels of a band (zero is background), 8-connected by default.
    /// GDAL reads the band line by line; the polygons themselves are held in memory, so their number bounds memory.
    /// </summary>
    public static List<PixelRegion> Polygonize(RasterDataset raster, int band = 1, bool eightConnected = true, IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        GdalEnvironment.EnsureInitialized();
        using var bandHandle = BandHandle.Of(raster.Handle, band) ?? throw new GdalException($"{raster.Path}: has no band {band}");
        var driver = GdalNative.OGRGetDriverByName("Memory");
        if (driver == 0)
        {
            throw new GdalException("GDAL has no OGR 'Memory' driver");
        }
        GdalException.Reset();
        var dataSource = GdalNative.OGR_Dr_CreateDataSource(driver, "regions", 0);
        if (dataSource == 0)
        {
            throw GdalException.FromLastError("Could not create an in-memory vector data source");
        }
        try
        {
            const int wkbPolygon = 3;
            const int oftInteger = 0;
            var layer = GdalNative.OGR_DS_CreateLayer(dataSource, "regions", 0, wkbPolygon, 0);
            var field = GdalNative.OGR_Fld_Create("value", oftInteger);
            GdalNative.OGR_L_CreateField(layer, field, 1);
            GdalNative.OGR_Fld_Destroy(field);
            using var options = new Utf8StringArray(eightConnected ? ["8CONNECTED=8"] : []);
            using var nativeProgress = new NativeProgress(progress, cancel);
            GdalException.Reset();
            // The band masks itself: zero pixels are skipped, so only foreground regions become polygons.
            var err = GdalNative.GDALPolygonize(bandHandle, bandHandle, layer, 0, options.Pointer, nativeProgress.Function, nativeProgress.Argument);
            cancel.ThrowIfCancellationRequested();
            GdalException.ThrowIfFailed(err, $"{raster.Path}: could not polygonize band {band}");

            var regions = new List<PixelRegion>();
            GdalNative.OGR_L_ResetReading(layer);
            nint feature;
            while ((feature = GdalNative.OGR_L_GetNextFeature(layer)) != 0)
            {
                try
                {
                    var geometry = GdalNative.OGR_F_GetGeometryRef(feature);
                    if (geometry == 0)
                    {
                        continue;
                    }
                    var wkb = new byte[GdalNative.OGR_G_WkbSize(geometry)];
                    fixed (byte* p = wkb)
                    {
                        GdalNative.OGR_G_ExportToWkb(geometry, 1, p);
                    }
                    regions.Add(new PixelRegion(GdalNative.OGR_F_GetFieldAsInteger(feature, 0), wkb));
                }
                finally
                {
                    GdalNative.OGR_F_Destroy(feature);
                }
            }
            return regions;
        }
        finally
        {
            GdalNative.OGR_DS_Destroy(dataSource);
        }
    }
}
