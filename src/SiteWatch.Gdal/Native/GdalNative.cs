using System.Reflection;
using System.Runtime.InteropServices;

namespace SiteWatch.Gdal.Native;

/// <summary>
/// P/Invoke declarations for the parts of GDAL's C API that SiteWatch uses.
/// Raw handles appear only here and in the SafeHandle types; everything public goes through them.
/// </summary>
internal static unsafe partial class GdalNative
{
    internal const string Lib = "gdal";

    // Debian ships libgdal.so.32 (GDAL 3.6); newer distributions bump the soname. No dev symlink is required.
    private static readonly string[] Candidates =
    [
        "libgdal.so.32", "libgdal.so.33", "libgdal.so.34", "libgdal.so.35", "libgdal.so.36", "libgdal.so.37",
        "libgdal.so.31", "libgdal.so.30", "libgdal.so", "libgdal.dylib", "gdal.dll",
    ];

    private static nint s_library;

    // Runs before the first P/Invoke of this class, so the resolver is in place when "gdal" is first bound.
    static GdalNative() => NativeLibrary.SetDllImportResolver(typeof(GdalNative).Assembly, Resolve);

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Lib)
        {
            return 0;
        }
        if (s_library != 0)
        {
            return s_library;
        }
        foreach (var candidate in Candidates)
        {
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle))
            {
                s_library = handle;
                return handle;
            }
        }
        throw new DllNotFoundException(
            "GDAL's shared library was not found (tried " + string.Join(", ", Candidates) +
            "). Install it with: apt-get install -y libgdal32 gdal-bin");
    }

    internal static nint LibraryHandle
    {
        get
        {
            if (s_library == 0)
            {
                Resolve(Lib, typeof(GdalNative).Assembly, null);
            }
            return s_library;
        }
    }

    // ---- driver manager, errors, config ----
    [LibraryImport(Lib)] internal static partial void GDALAllRegister();
    [LibraryImport(Lib)] internal static partial nint GDALVersionInfo([MarshalAs(UnmanagedType.LPUTF8Str)] string request);
    [LibraryImport(Lib)] internal static partial void CPLErrorReset();
    [LibraryImport(Lib)] internal static partial CplErr CPLGetLastErrorType();
    [LibraryImport(Lib)] internal static partial int CPLGetLastErrorNo();
    [LibraryImport(Lib)] internal static partial nint CPLGetLastErrorMsg();
    [LibraryImport(Lib)] internal static partial nint CPLSetErrorHandler(nint handler);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial void CPLSetConfigOption(string key, string? value);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial void CPLSetThreadLocalConfigOption(string key, string? value);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial nint CPLGetConfigOption(string key, string? defaultValue);
    [LibraryImport(Lib)] internal static partial void VSIFree(nint ptr);
    [LibraryImport(Lib)] internal static partial void CSLDestroy(nint list);

    // ---- drivers and datasets ----
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial nint GDALGetDriverByName(string name);
    [LibraryImport(Lib)] internal static partial nint GDALGetDriverShortName(nint driver);
    [LibraryImport(Lib)] internal static partial nint GDALGetDatasetDriver(DatasetHandle dataset);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint GDALOpenEx(string path, GdalOpenFlags flags, nint allowedDrivers, nint openOptions, nint siblingFiles);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint GDALCreate(nint driver, string path, int xSize, int ySize, int bands, RasterDataType type, nint options);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint GDALCreateCopy(nint driver, string path, DatasetHandle source, int strict, nint options, nint progress, nint progressArg);
    [LibraryImport(Lib)] internal static partial void GDALClose(nint dataset);
    [LibraryImport(Lib)] internal static partial CplErr GDALAddBand(nint dataset, RasterDataType type, nint options);
    [LibraryImport(Lib)] internal static partial void GDALFlushCache(DatasetHandle dataset);
    [LibraryImport(Lib)] internal static partial int GDALGetRasterXSize(DatasetHandle dataset);
    [LibraryImport(Lib)] internal static partial int GDALGetRasterYSize(DatasetHandle dataset);
    [LibraryImport(Lib)] internal static partial int GDALGetRasterCount(DatasetHandle dataset);
    [LibraryImport(Lib)] internal static partial nint GDALGetRasterBand(DatasetHandle dataset, int band);
    [LibraryImport(Lib)] internal static partial CplErr GDALGetGeoTransform(DatasetHandle dataset, double* transform);
    [LibraryImport(Lib)] internal static partial CplErr GDALSetGeoTransform(DatasetHandle dataset, double* transform);
    [LibraryImport(Lib)] internal static partial nint GDALGetProjectionRef(DatasetHandle dataset);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial CplErr GDALSetProjection(DatasetHandle dataset, string wkt);
    [LibraryImport(Lib)] internal static partial nint GDALGetFileList(DatasetHandle dataset);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial CplErr GDALBuildOverviews(DatasetHandle dataset, string resampling, int overviewCount, int* overviews, int bandCount, int* bands, nint progress, nint progressArg);

    // ---- metadata (datasets and bands are both GDALMajorObjectH) ----
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial nint GDALGetMetadataItem(DatasetHandle dataset, string name, string? domain);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial CplErr GDALSetMetadataItem(DatasetHandle dataset, string name, string value, string? domain);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial nint GDALGetMetadata(DatasetHandle dataset, string? domain);
    // GDALMajorObject calls on a band, through its handle (which keeps the dataset open during the call).
    [LibraryImport(Lib, EntryPoint = "GDALGetMetadataItem", StringMarshalling = StringMarshalling.Utf8)] internal static partial nint GDALGetBandMetadataItem(BandHandle band, string name, string? domain);
    [LibraryImport(Lib, EntryPoint = "GDALSetMetadataItem", StringMarshalling = StringMarshalling.Utf8)] internal static partial CplErr GDALSetBandMetadataItem(BandHandle band, string name, string value, string? domain);
    [LibraryImport(Lib, EntryPoint = "GDALGetMetadata", StringMarshalling = StringMarshalling.Utf8)] internal static partial nint GDALGetBandMetadata(BandHandle band, string? domain);
    [LibraryImport(Lib, EntryPoint = "GDALGetDescription")] internal static partial nint GDALGetBandDescription(BandHandle band);
    [LibraryImport(Lib, EntryPoint = "GDALSetDescription", StringMarshalling = StringMarshalling.Utf8)] internal static partial void GDALSetBandDescription(BandHandle band, string description);

    // ---- bands ----
    [LibraryImport(Lib)] internal static partial RasterDataType GDALGetRasterDataType(BandHandle band);
    [LibraryImport(Lib)] internal static partial int GDALGetRasterColorInterpretation(BandHandle band);
    [LibraryImport(Lib)] internal static partial nint GDALGetColorInterpretationName(int interpretation);
    [LibraryImport(Lib)] internal static partial void GDALGetBlockSize(BandHandle band, int* xBlock, int* yBlock);
    [LibraryImport(Lib)] internal static partial double GDALGetRasterNoDataValue(BandHandle band, int* hasValue);
    [LibraryImport(Lib)] internal static partial CplErr GDALSetRasterNoDataValue(BandHandle band, double value);
    [LibraryImport(Lib)] internal static partial int GDALGetOverviewCount(BandHandle band);
    [LibraryImport(Lib)] internal static partial int GDALGetMaskFlags(BandHandle band);
    [LibraryImport(Lib)] internal static partial nint GDALGetOverview(nint band, int index);
    [LibraryImport(Lib)] internal static partial int GDALGetRasterBandXSize(BandHandle band);
    [LibraryImport(Lib)] internal static partial int GDALGetRasterBandYSize(BandHandle band);
    [LibraryImport(Lib)] internal static partial nint GDALGetRasterColorTable(BandHandle band);
    [LibraryImport(Lib)]
    internal static partial CplErr GDALRasterIO(BandHandle band, GdalRWFlag rwFlag, int xOff, int yOff, int xSize, int ySize,
        void* data, int bufXSize, int bufYSize, RasterDataType bufType, int pixelSpace, int lineSpace);
    [LibraryImport(Lib)] internal static partial CplErr GDALWriteBlock(BandHandle band, int xBlock, int yBlock, void* data);
    [LibraryImport(Lib)]
    internal static partial CplErr GDALDatasetRasterIO(DatasetHandle dataset, GdalRWFlag rwFlag, int xOff, int yOff, int xSize, int ySize,
        void* data, int bufXSize, int bufYSize, RasterDataType bufType, int bandCount, int* bandMap, int pixelSpace, int lineSpace, int bandSpace);
    [LibraryImport(Lib)]
    internal static partial CplErr GDALRasterIOEx(BandHandle band, GdalRWFlag rwFlag, int xOff, int yOff, int xSize, int ySize,
        void* data, int bufXSize, int bufYSize, RasterDataType bufType, long pixelSpace, long lineSpace, RasterIOExtraArg* extra);

    // ---- utilities (gdal_utils.h): the same code path as gdalwarp ----
    [LibraryImport(Lib)] internal static partial nint GDALWarpAppOptionsNew(nint argv, nint binaryOptions);
    [LibraryImport(Lib)] internal static partial void GDALWarpAppOptionsFree(nint options);
    [LibraryImport(Lib)] internal static partial void GDALWarpAppOptionsSetProgress(nint options, nint progress, nint progressArg);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint GDALWarp(string destination, nint destinationDataset, int sourceCount, nint* sources, nint options, int* usageError);

    // ---- spatial references and coordinate transformation ----
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial nint OSRNewSpatialReference(string? wkt);
    [LibraryImport(Lib)] internal static partial void OSRDestroySpatialReference(nint srs);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial int OSRSetFromUserInput(SpatialReferenceHandle srs, string definition);
    [LibraryImport(Lib)] internal static partial int OSRImportFromEPSG(SpatialReferenceHandle srs, int code);
    [LibraryImport(Lib)] internal static partial int OSRExportToWkt(SpatialReferenceHandle srs, nint* wkt);
    [LibraryImport(Lib)] internal static partial int OSRAutoIdentifyEPSG(SpatialReferenceHandle srs);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial nint OSRGetAuthorityCode(SpatialReferenceHandle srs, string? targetKey);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial nint OSRGetAuthorityName(SpatialReferenceHandle srs, string? targetKey);
    [LibraryImport(Lib)] internal static partial nint OSRFindMatches(SpatialReferenceHandle srs, nint options, int* entries, int** confidences);
    [LibraryImport(Lib)] internal static partial void OSRFreeSRSArray(nint list);
    [LibraryImport(Lib)] internal static partial nint OSRClone(nint srs);
    [LibraryImport(Lib)] internal static partial void OSRSetAxisMappingStrategy(SpatialReferenceHandle srs, OsrAxisMappingStrategy strategy);
    [LibraryImport(Lib)] internal static partial int OSRIsSame(SpatialReferenceHandle a, SpatialReferenceHandle b);
    [LibraryImport(Lib)] internal static partial int OSRIsProjected(SpatialReferenceHandle srs);
    [LibraryImport(Lib)] internal static partial int OSRIsGeographic(SpatialReferenceHandle srs);
    [LibraryImport(Lib)] internal static partial double OSRGetLinearUnits(SpatialReferenceHandle srs, nint* name);
    [LibraryImport(Lib)] internal static partial nint OSRGetName(SpatialReferenceHandle srs);
    [LibraryImport(Lib)] internal static partial int OSRGetAreaOfUse(SpatialReferenceHandle srs, double* west, double* south, double* east, double* north, nint* name);
    [LibraryImport(Lib)] internal static partial nint OCTNewCoordinateTransformation(SpatialReferenceHandle source, SpatialReferenceHandle target);
    [LibraryImport(Lib)] internal static partial void OCTDestroyCoordinateTransformation(nint transform);
    [LibraryImport(Lib)] internal static partial int OCTTransform(CoordinateTransformationHandle transform, int count, double* x, double* y, double* z);

    // ---- OGR, for polygonising rasters into an in-memory layer ----
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial nint OGRGetDriverByName(string name);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial nint OGR_Dr_CreateDataSource(nint driver, string name, nint options);
    [LibraryImport(Lib)] internal static partial void OGR_DS_Destroy(nint dataSource);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial nint OGR_DS_CreateLayer(nint dataSource, string name, nint srs, int geometryType, nint options);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial nint OGR_Fld_Create(string name, int type);
    [LibraryImport(Lib)] internal static partial void OGR_Fld_Destroy(nint field);
    [LibraryImport(Lib)] internal static partial OgrErr OGR_L_CreateField(nint layer, nint field, int approxOk);
    [LibraryImport(Lib)] internal static partial void OGR_L_ResetReading(nint layer);
    [LibraryImport(Lib)] internal static partial nint OGR_L_GetNextFeature(nint layer);
    [LibraryImport(Lib)] internal static partial void OGR_F_Destroy(nint feature);
    [LibraryImport(Lib)] internal static partial int OGR_F_GetFieldAsInteger(nint feature, int index);
    [LibraryImport(Lib)] internal static partial nint OGR_F_GetGeometryRef(nint feature);
    [LibraryImport(Lib)] internal static partial int OGR_G_WkbSize(nint geometry);
    [LibraryImport(Lib)] internal static partial OgrErr OGR_G_ExportToWkb(nint geometry, int byteOrder, byte* buffer);
    [LibraryImport(Lib)] internal static partial CplErr GDALPolygonize(BandHandle band, BandHandle maskBand, nint layer, int fieldIndex, nint options, nint progress, nint progressArg);

    internal static string? Utf8(nint ptr) => ptr == 0 ? null : Marshal.PtrToStringUTF8(ptr);

    /// <summary>Reads a GDAL string list (NULL-terminated char**) without freeing it.</summary>
    internal static List<string> ReadStringList(nint list)
    {
        var result = new List<string>();
        if (list == 0)
        {
            return result;
        }
        for (var i = 0; ; i++)
        {
            var item = Marshal.ReadIntPtr(list, i * IntPtr.Size);
            if (item == 0)
            {
                break;
            }
            result.Add(Marshal.PtrToStringUTF8(item) ?? "");
        }
        return result;
    }
}

/// <summary>GDALRasterIOExtraArg, version 1 (GDAL 3.6; later versions only append fields and accept version 1).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RasterIOExtraArg
{
    public int Version;
    public int ResampleAlg;
    public nint Progress;
    public nint ProgressData;
    public int FloatingPointWindowValidity;
    public double XOff;
    public double YOff;
    public double XSize;
    public double YSize;
}

/// <summary>GDAL's CPLErr: how bad the last error was (Failure and Fatal mean the call failed).</summary>
internal enum CplErr
{
    None = 0,
    Debug = 1,
    Warning = 2,
    Failure = 3,
    Fatal = 4,
}

/// <summary>GDALRWFlag: the direction of a RasterIO call.</summary>
internal enum GdalRWFlag
{
    Read = 0,
    Write = 1,
}

/// <summary>GDAL_OF_* flags of GDALOpenEx.</summary>
[Flags]
internal enum GdalOpenFlags : uint
{
    ReadOnly = 0x00,
    Update = 0x01,
    Raster = 0x02,
    Vector = 0x04,
    VerboseError = 0x40,
}

/// <summary>OSRAxisMappingStrategy: how coordinates map to a CRS's axes.</summary>
internal enum OsrAxisMappingStrategy
{
    /// <summary>Longitude/easting first, whatever the CRS's authority says (what GIS files hold).</summary>
    TraditionalGisOrder = 0,
    AuthorityCompliant = 1,
    Custom = 2,
}

/// <summary>OGRErr: the outcome of an OGR call.</summary>
internal enum OgrErr
{
    None = 0,
    NotEnoughData = 1,
    NotEnoughMemory = 2,
    UnsupportedGeometryType = 3,
    UnsupportedOperation = 4,
    CorruptData = 5,
    Failure = 6,
    UnsupportedSrs = 7,
    InvalidHandle = 8,
    NonExistingFeature = 9,
}
