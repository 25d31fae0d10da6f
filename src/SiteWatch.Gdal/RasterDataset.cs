using System.Runtime.InteropServices;
using SiteWatch.Gdal.Native;

namespace SiteWatch.Gdal;

/// <summary>What a new raster looks like: size, bands, pixel type, georeference.</summary>
public sealed record RasterProfile(int Width, int Height, int BandCount, RasterDataType DataType)
{
    public GeoTransform? GeoTransform { get; init; }
    /// <summary>Any definition <see cref="SpatialReference.FromUserInput"/> accepts, or WKT.</summary>
    public string? Crs { get; init; }
    public double? NoData { get; init; }
    public IReadOnlyList<string>? BandDescriptions { get; init; }

    /// <summary>Uncompressed size of all bands.</summary>
    public long SizeInBytes => (long)Width * Height * BandCount * DataType.SizeInBytes();
}

/// <summary>
/// A raster opened through GDAL, read and written window by window (bands are numbered from 1, as in GDAL and rasterio).
/// Not thread-safe: GDAL datasets may be used by one thread at a time.
/// </summary>
public sealed unsafe class RasterDataset : IDisposable
{
    /// <summary>Largest pixel count per band we accept from a file header; larger claims are corrupt or hostile.</summary>
    public const long MaxPixelsPerBand = 1L << 36;
    /// <summary>Largest band count we accept from a file header.</summary>
    public const int MaxBands = 10_000;

    internal DatasetHandle Handle { get; }

    /// <summary>The path or name the dataset was opened or created with.</summary>
    public string Path { get; }

    internal RasterDataset(DatasetHandle handle, string path)
    {
        Handle = handle;
        Path = path;
        Width = GdalNative.GDALGetRasterXSize(handle);
        Height = GdalNative.GDALGetRasterYSize(handle);
        BandCount = GdalNative.GDALGetRasterCount(handle);
    }

    public int Width { get; }
    public int Height { get; }
    public int BandCount { get; }

    /// <summary>Opens any raster GDAL reads. Throws <see cref="GdalException"/> naming the file and the reason.</summary>
    public static RasterDataset Open(string path, bool update = false) => Open(path, update, allowedDrivers: null);

    /// <summary>
    /// Opens a raster with only the named GDAL drivers (e.g. "GTiff"): files from untrusted sources must not reach
    /// drivers that follow references to other files or URLs (VRT, /vsicurl/). Null allows every driver.
    /// </summary>
    public static RasterDataset Open(string path, bool update, IReadOnlyCollection<string>? allowedDrivers) => Open(path, update, allowedDrivers, streaming: false, decodingThreads: false);

    /// <summary>
    /// Opens a raster read-only for a single pass of whole windows, each read once (change detection's passes): an
    /// uncompressed GeoTIFF is then read straight from the file for each request (GDAL's GTIFF_DIRECT_IO) instead of
    /// through the block cache, which allocates, copies and evicts every block on its way (bench/mad-vs-otb.sh: an
    /// 8-band pass 3-6 times faster, a quarter of the memory). Compressed files are read as usual.
    /// </summary>
    public static RasterDataset OpenForStreaming(string path) => Open(path, update: false, allowedDrivers: null, streaming: true, decodingThreads: false);

    private static RasterDataset Open(string path, bool update, IReadOnlyCollection<string>? allowedDrivers, bool streaming, bool decodingThreads)
    {
        GdalEnvironment.EnsureInitialized();
        if (!File.Exists(path) && !path.StartsWith("/vsi", StringComparison.Ordinal))
        {
            throw new GdalException($"{path}: file not found");
        }
        GdalException.Reset();
        nint raw;
        // In a bucket GDAL would answer whether the file exists from the folder listing it fetched when it opened a
        // neighbour, which misses objects stored since ("not a raster format"): there it opens the object itself, with
        // no listing (no side-car files; COGs need none). Set for this thread and this open only: GDAL's process-wide
        // options are shared state other threads read, and changing one frees the value they may be reading.
        var bucket = path.StartsWith("/vsis3/", StringComparison.Ordinal);
        if (bucket)
        {
            GdalNative.CPLSetThreadLocalConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR");
        }
        // The GTiff driver reads this option when the dataset is opened, so it holds for this dataset only.
        if (streaming)
        {
            GdalNative.CPLSetThreadLocalConfigOption("GTIFF_DIRECT_IO", "YES");
        }
        if (decodingThreads)
        {
            GdalNative.CPLSetThreadLocalConfigOption("GDAL_NUM_THREADS", "ALL_CPUS");
        }
        try
        {
            using var drivers = allowedDrivers is null ? null : new Utf8StringArray(allowedDrivers);
            raw = GdalNative.GDALOpenEx(path, GdalOpenFlags.Raster | GdalOpenFlags.VerboseError | (update ? GdalOpenFlags.Update : GdalOpenFlags.ReadOnly), drivers?.Pointer ?? 0, 0, 0);
        }
        finally
        {
            if (bucket)
            {
                GdalNative.CPLSetThreadLocalConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", null);
            }
            if (streaming)
            {
                GdalNative.CPLSetThreadLocalConfigOption("GTIFF_DIRECT_IO", null);
            }
            if (decodingThreads)
            {
                GdalNative.CPLSetThreadLocalConfigOption("GDAL_NUM_THREADS", null);
            }
        }
        if (raw == 0)
        {
            var last = GdalException.FromLastError(path);
            throw last.GdalMessage is null || last.GdalMessage.Contains("not recognized as", StringComparison.Ordinal)
                ? new GdalException($"{path}: not a raster format GDAL can read") { GdalMessage = last.GdalMessage }
                : last;
        }
        var dataset = new RasterDataset(new DatasetHandle(raw), path);
        try
        {
            dataset.Validate();
        }
        catch
        {
            dataset.Dispose();
            throw;
        }
        return dataset;
    }

    private void Validate()
    {
        if (BandCount <= 0)
        {
            throw new GdalException($"{Path}: holds no raster bands");
        }
        if (BandCount > MaxBands)
        {
            throw new GdalException($"{Path}: header declares {BandCount} bands, more than the {MaxBands} allowed; the file is corrupt or hostile");
        }
        if (Width <= 0 || Height <= 0 || (long)Width * Height > MaxPixelsPerBand)
        {
            throw new GdalException($"{Path}: header declares {Width} x {Height} pixels, beyond the limit of {MaxPixelsPerBand:N0} pixels per band; the file is corrupt or hostile");
        }
        for (var b = 1; b <= BandCount; b++)
        {
            if (DataTypeOf(b) is RasterDataType.Unknown || (int)DataTypeOf(b) is >= 8 and <= 11)
            {
                throw new GdalException($"{Path}: band {b} has a complex or unknown pixel type, which SiteWatch does not handle");
            }
        }
    }

    /// <summary>Creates a raster with GDAL's GTiff driver (tiled, DEFLATE-compressed by default) or any other creatable driver.</summary>
    public static RasterDataset Create(string path, RasterProfile profile, string driver = "GTiff", IReadOnlyCollection<string>? creationOptions = null)
    {
        GdalEnvironment.EnsureInitialized();
        if (profile.Width <= 0 || profile.Height <= 0 || profile.BandCount <= 0)
        {
            throw new ArgumentException($"Cannot create a {profile.Width} x {profile.Height} raster with {profile.BandCount} bands.");
        }
        var driverHandle = GdalNative.GDALGetDriverByName(driver);
        if (driverHandle == 0)
        {
            throw new GdalException($"GDAL has no '{driver}' driver");
        }
        creationOptions ??= driver == "GTiff" ? DefaultGeoTiffOptions(profile) : [];
        using var options = new Utf8StringArray(creationOptions);
        GdalException.Reset();
        var raw = GdalNative.GDALCreate(driverHandle, path, profile.Width, profile.Height, profile.BandCount, profile.DataType, options.Pointer);
        if (raw == 0)
        {
            throw GdalException.FromLastError($"{path}: could not create raster");
        }
        var dataset = new RasterDataset(new DatasetHandle(raw), path);
        try
        {
            dataset.ApplyProfile(profile);
        }
        catch
        {
            dataset.Dispose();
            throw;
        }
        return dataset;
    }

    /// <summary>An in-memory raster (GDAL MEM driver).</summary>
    public static RasterDataset CreateInMemory(RasterProfile profile) => Create("", profile, "MEM", []);

    /// <summary>
    /// GTiff creation options for block-wise work: 512 x 512 tiles, BigTIFF when needed, and compression with a
    /// predictor: DEFLATE for integer imagery (compresses well, read everywhere); ZSTD level 1 for floating-point
    /// products, whose noisy mantissas DEFLATE shrinks by under 10 % at four times ZSTD's cost (bench/mad-vs-otb.sh).
    /// Floating-point products are band-interleaved: they are read back one band at a time (thresholds, quicklooks), and
    /// a pixel-interleaved block would decompress every band to read one (a third of MAD's run time went there).
    /// Blocks are compressed on GDAL's worker threads (NUM_THREADS) while the caller computes the next ones.
    /// </summary>
    public static IReadOnlyCollection<string> DefaultGeoTiffOptions(RasterProfile profile) =>
        profile.DataType is RasterDataType.Float32 or RasterDataType.Float64
            ? ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "COMPRESS=ZSTD", "ZSTD_LEVEL=1", "PREDICTOR=3", "BIGTIFF=IF_SAFER", "INTERLEAVE=BAND", "NUM_THREADS=ALL_CPUS"]
            : ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "COMPRESS=DEFLATE", "PREDICTOR=2", "BIGTIFF=IF_SAFER",
               profile.BandCount > 1 ? "INTERLEAVE=PIXEL" : "INTERLEAVE=BAND", "NUM_THREADS=ALL_CPUS"];

    private void ApplyProfile(RasterProfile profile)
    {
        if (profile.GeoTransform is { } gt)
        {
            GeoTransform = gt;
        }
        if (profile.Crs is { } crs)
        {
            using var srs = SpatialReference.FromUserInput(crs);
            SetCrs(srs);
        }
        for (var b = 1; b <= BandCount; b++)
        {
            if (profile.NoData is { } nodata)
            {
                using var bandHandle = Band(b);
                GdalException.ThrowIfFailed(GdalNative.GDALSetRasterNoDataValue(bandHandle, nodata), $"{Path}: could not set nodata");
            }
            if (profile.BandDescriptions is { } names && b <= names.Count)
            {
                SetBandDescription(b, names[b - 1]);
            }
        }
    }

    public string Driver => GdalNative.Utf8(GdalNative.GDALGetDriverShortName(GdalNative.GDALGetDatasetDriver(Handle))) ?? "";

    /// <summary>Every file the dataset is made of (e.g. the .hdr of an ENVI raster).</summary>
    public IReadOnlyList<string> Files
    {
        get
        {
            var list = GdalNative.GDALGetFileList(Handle);
            try
            {
                return GdalNative.ReadStringList(list);
            }
            finally
            {
                GdalNative.CSLDestroy(list);
            }
        }
    }

    /// <summary>The pixel type of band 1 (the usual case: all bands share one type).</summary>
    public RasterDataType DataType => DataTypeOf(1);

    public RasterDataType DataTypeOf(int band)
    {
        using var bandHandle = Band(band);
        return GdalNative.GDALGetRasterDataType(bandHandle);
    }

    /// <summary>Band 1's nodata value, if any.</summary>
    public double? NoData => NoDataOf(1);

    public double? NoDataOf(int band)
    {
        int has;
        using var bandHandle = Band(band);
        var value = GdalNative.GDALGetRasterNoDataValue(bandHandle, &has);
        return has != 0 ? value : null;
    }

    public (int Width, int Height) BlockSize
    {
        get
        {
            int x, y;
            using var bandHandle = Band(1);
            GdalNative.GDALGetBlockSize(bandHandle, &x, &y);
            return (x, y);
        }
    }

    /// <summary>Reads a whole overview level of a band (level 0 is the largest overview), converting to T.</summary>
    public T[] ReadOverview<T>(int band, int level) where T : unmanaged
    {
        if (band < 1 || band > BandCount)
        {
            throw new ArgumentOutOfRangeException(nameof(band), $"{Path}: band {band} does not exist (the raster has {BandCount})");
        }
        using var overview = BandHandle.OverviewOf(Handle, band, level)
            ?? throw new ArgumentOutOfRangeException(nameof(level), $"{Path}: has {OverviewCount} overview levels, not a level {level}");
        var width = GdalNative.GDALGetRasterBandXSize(overview);
        var height = GdalNative.GDALGetRasterBandYSize(overview);
        var values = new T[(long)width * height];
        GdalException.Reset();
        fixed (T* p = values)
        {
            var err = GdalNative.GDALRasterIO(overview, GdalRWFlag.Read, 0, 0, width, height, p, width, height, RasterDataTypes.Of<T>(), 0, 0);
            GdalException.ThrowIfFailed(err, $"{Path}: could not read band {band} overview {level}");
        }
        return values;
    }

    /// <summary>The size of an overview level (level 0 is the largest overview).</summary>
    public (int Width, int Height) OverviewSize(int level)
    {
        using var overview = BandHandle.OverviewOf(Handle, 1, level)
            ?? throw new ArgumentOutOfRangeException(nameof(level), $"{Path}: has {OverviewCount} overview levels, not a level {level}");
        return (GdalNative.GDALGetRasterBandXSize(overview), GdalNative.GDALGetRasterBandYSize(overview));
    }

    /// <summary>GDAL's mask flags for a band (GMF_ALL_VALID 1, GMF_PER_DATASET 2, GMF_ALPHA 4, GMF_NODATA 8).</summary>
    internal int MaskFlagsOf(int band)
    {
        using var bandHandle = Band(band);
        return GdalNative.GDALGetMaskFlags(bandHandle);
    }

    internal bool HasColorTable(int band)
    {
        using var bandHandle = Band(band);
        return GdalNative.GDALGetRasterColorTable(bandHandle) != 0;
    }

    /// <summary>GDAL's VRT description of this raster: every band read from this dataset's file, with its georeference and metadata.</summary>
    internal string ToVrtXml()
    {
        var driver = GdalNative.GDALGetDriverByName("VRT");
        GdalException.Reset();
        var raw = GdalNative.GDALCreateCopy(driver, "", Handle, 0, 0, 0, 0);
        if (raw == 0)
        {
            throw GdalException.FromLastError($"{Path}: could not describe as VRT");
        }
        using var vrt = new RasterDataset(new DatasetHandle(raw), "");
        var xml = GdalNative.ReadStringList(GdalNative.GDALGetMetadata(vrt.Handle, "xml:VRT"));
        return xml.Count == 1 ? xml[0] : throw new GdalException($"{Path}: GDAL gave no VRT description");
    }

    /// <summary>Opens a VRT from its XML text (one SiteWatch wrote itself: a user's VRT is opened as a file, with the driver list the caller allows).</summary>
    internal static RasterDataset OpenVrtXml(string xml)
    {
        GdalEnvironment.EnsureInitialized();
        using var drivers = new Utf8StringArray(["VRT"]);
        GdalException.Reset();
        var raw = GdalNative.GDALOpenEx(xml, GdalOpenFlags.Raster | GdalOpenFlags.VerboseError | GdalOpenFlags.ReadOnly, drivers.Pointer, 0, 0);
        return raw == 0 ? throw GdalException.FromLastError("virtual raster") : new RasterDataset(new DatasetHandle(raw), "virtual raster");
    }

    public int OverviewCount
    {
        get
        {
            using var bandHandle = Band(1);
            return GdalNative.GDALGetOverviewCount(bandHandle);
        }
    }

    /// <summary>
    /// The geotransform, or null when the raster carries no georeference. A georeference no pixel can be placed with
    /// (a NaN or infinite term, zero pixel size: a singular matrix) is a <see cref="GdalException"/> naming the file.
    /// </summary>
    public GeoTransform? GeoTransform
    {
        get
        {
            var values = stackalloc double[6];
            if (GdalNative.GDALGetGeoTransform(Handle, values) != CplErr.None)
            {
                return null;
            }
            var gt = Gdal.GeoTransform.FromArray(new ReadOnlySpan<double>(values, 6));
            // GDAL reports the identity transform for rasters it has no georeference for.
            if (gt == new GeoTransform(0, 1, 0, 0, 0, 1))
            {
                return null;
            }
            var determinant = gt.PixelWidth * gt.PixelHeight - gt.RowRotation * gt.ColumnRotation;
            var finite = IsFinite(new ReadOnlySpan<double>(values, 6));
            if (!finite || determinant == 0 || !double.IsFinite(determinant))
            {
                throw new GdalException(FormattableString.Invariant(
                    $"{Path}: invalid georeference: its geotransform ({string.Join(", ", gt.ToArray())}) {(finite ? "has a zero pixel size" : "is not finite")}; fix it or remove it (gdal_edit.py -a_ullr or -unsetgt)"));
            }
            return gt;
        }
        set
        {
            if (value is not { } gt)
            {
                throw new ArgumentNullException(nameof(value));
            }
            var values = stackalloc double[6];
            gt.ToArray().CopyTo(new Span<double>(values, 6));
            GdalException.Reset();
            GdalException.ThrowIfFailed(GdalNative.GDALSetGeoTransform(Handle, values), $"{Path}: could not set the geotransform");
        }
    }

    private static bool IsFinite(ReadOnlySpan<double> values)
    {
        foreach (var v in values)
        {
            if (!double.IsFinite(v))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The CRS as WKT, or null when none is set.</summary>
    public string? CrsWkt
    {
        get
        {
            var wkt = GdalNative.Utf8(GdalNative.GDALGetProjectionRef(Handle));
            return string.IsNullOrWhiteSpace(wkt) ? null : wkt;
        }
    }

    /// <summary>The CRS (caller disposes), or null when none is set.</summary>
    public SpatialReference? OpenCrs() => CrsWkt is { } wkt ? SpatialReference.FromUserInput(wkt) : null;

    public void SetCrs(SpatialReference crs)
    {
        GdalException.Reset();
        GdalException.ThrowIfFailed(GdalNative.GDALSetProjection(Handle, crs.Wkt), $"{Path}: could not set the coordinate reference system");
    }

    /// <summary>Map extent of the whole raster (north-up rasters; rotated ones give the bounding box of their corners).</summary>
    public MapExtent Bounds
    {
        get
        {
            var gt = GeoTransform ?? throw new GdalException($"{Path}: has no georeference");
            Span<(double X, double Y)> corners = [gt.PixelToMap(0, 0), gt.PixelToMap(Width, 0), gt.PixelToMap(0, Height), gt.PixelToMap(Width, Height)];
            double minX = double.MaxValue, minY = double.MaxValue, maxX = double.MinValue, maxY = double.MinValue;
            foreach (var (x, y) in corners)
            {
                minX = Math.Min(minX, x); maxX = Math.Max(maxX, x);
                minY = Math.Min(minY, y); maxY = Math.Max(maxY, y);
            }
            return new MapExtent(minX, minY, maxX, maxY);
        }
    }

    public string? BandDescription(int band)
    {
        using var bandHandle = Band(band);
        var text = GdalNative.Utf8(GdalNative.GDALGetBandDescription(bandHandle));
        return string.IsNullOrEmpty(text) ? null : text;
    }

    /// <summary>GDAL's colour interpretation of a band by name ("Red", "Green", "Blue", "Gray", "Undefined", ...).</summary>
    public string ColourInterpretation(int band)
    {
        using var bandHandle = Band(band);
        return GdalNative.Utf8(GdalNative.GDALGetColorInterpretationName(GdalNative.GDALGetRasterColorInterpretation(bandHandle))) ?? "Undefined";
    }

    public void SetBandDescription(int band, string description)
    {
        using var bandHandle = Band(band);
        GdalNative.GDALSetBandDescription(bandHandle, description);
    }

    /// <summary>A metadata item of the dataset (band 0) or of a band, in the default or a named domain (e.g. "ENVI").</summary>
    public string? GetMetadataItem(string name, string? domain = null, int band = 0)
    {
        if (band == 0)
        {
            return GdalNative.Utf8(GdalNative.GDALGetMetadataItem(Handle, name, domain));
        }
        using var bandHandle = Band(band);
        return GdalNative.Utf8(GdalNative.GDALGetBandMetadataItem(bandHandle, name, domain));
    }

    public void SetMetadataItem(string name, string value, string? domain = null, int band = 0)
    {
        GdalException.Reset();
        CplErr err;
        if (band == 0)
        {
            err = GdalNative.GDALSetMetadataItem(Handle, name, value, domain);
        }
        else
        {
            using var bandHandle = Band(band);
            err = GdalNative.GDALSetBandMetadataItem(bandHandle, name, value, domain);
        }
        GdalException.ThrowIfFailed(err, $"{Path}: could not set metadata {name}");
    }

    /// <summary>All KEY=VALUE metadata of a domain.</summary>
    public IReadOnlyDictionary<string, string> GetMetadata(string? domain = null, int band = 0)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        using var bandHandle = band == 0 ? null : Band(band);
        var list = bandHandle is null ? GdalNative.GDALGetMetadata(Handle, domain) : GdalNative.GDALGetBandMetadata(bandHandle, domain);
        foreach (var item in GdalNative.ReadStringList(list))
        {
            var eq = item.IndexOf('=');
            if (eq > 0)
            {
                result[item[..eq]] = item[(eq + 1)..];
            }
        }
        return result;
    }

    /// <summary>A band's handle, which keeps this dataset open until it is disposed.</summary>
    internal BandHandle Band(int band)
    {
        if (band < 1 || band > BandCount)
        {
            throw new ArgumentOutOfRangeException(nameof(band), $"{Path}: band {band} does not exist (the raster has {BandCount})");
        }
        return BandHandle.Of(Handle, band) ?? throw new GdalException($"{Path}: has no band {band}");
    }

    private void CheckWindow(RasterWindow w)
    {
        if (w.Width <= 0 || w.Height <= 0 || w.Column < 0 || w.Row < 0 || w.Column + w.Width > Width || w.Row + w.Height > Height)
        {
            throw new ArgumentOutOfRangeException(nameof(w), $"{Path}: window {w} lies outside the {Width} x {Height} raster");
        }
    }

    /// <summary>Reads a window of one band into a buffer of at least window.Width * window.Height pixels, converting to T.</summary>
    public void Read<T>(int band, RasterWindow window, Span<T> buffer) where T : unmanaged
    {
        CheckWindow(window);
        if (buffer.Length < window.PixelCount)
        {
            throw new ArgumentException($"Buffer of {buffer.Length} pixels is smaller than window {window}.");
        }
        using var bandHandle = Band(band);
        GdalException.Reset();
        fixed (T* p = buffer)
        {
            var err = GdalNative.GDALRasterIO(bandHandle, GdalRWFlag.Read, window.Column, window.Row, window.Width, window.Height, p,
                window.Width, window.Height, RasterDataTypes.Of<T>(), 0, 0);
            GdalException.ThrowIfFailed(err, $"{Path}: could not read band {band} window {window}");
        }
    }

    /// <summary>
    /// Reads a window of several bands in one call, band after band into <paramref name="buffer"/> (band i of
    /// <paramref name="bands"/> at [i * n, (i + 1) * n), n = window pixels). One dataset-level read lets GDAL take each
    /// pixel-interleaved block once for all bands instead of once per band.
    /// </summary>
    public void Read<T>(ReadOnlySpan<int> bands, RasterWindow window, Span<T> buffer) where T : unmanaged
    {
        fixed (T* p = buffer)
        {
            DatasetIO(GdalRWFlag.Read, bands, window, p, buffer.Length, RasterDataTypes.Of<T>(), sizeof(T));
        }
    }

    /// <summary>Rows <see cref="ReadIntoMemory"/> reads in one call, at most (it checks for cancellation between calls).</summary>
    private const long MemoryCopyStripBytes = 64 << 20;

    /// <summary>
    /// Copies a window of some bands (all of one pixel type) into a new in-memory raster, band i of
    /// <paramref name="bands"/> becoming band i + 1, with the window's georeference, nodata and band descriptions: for
    /// work that reads the same pixels many times, such as tiled detection's overlapping tiles. The pixels are read
    /// straight into the raster's memory, and a compressed, pixel-interleaved GeoTIFF is decompressed on every core
    /// (GDAL's multi-threaded GTiff reader, through a handle of its own) instead of block by block on the calling
    /// thread. Band-separate GeoTIFFs are read on one thread: GDAL 3.6 crashes reading those band by band in
    /// multi-threaded mode (GDAL #7963).
    /// </summary>
    public RasterDataset ReadIntoMemory(IReadOnlyList<int> bands, RasterWindow window, CancellationToken cancel = default)
    {
        CheckWindow(window);
        if (bands.Count == 0)
        {
            throw new ArgumentException("No bands to copy.", nameof(bands));
        }
        foreach (var band in bands)
        {
            if (band < 1 || band > BandCount)
            {
                throw new ArgumentOutOfRangeException(nameof(bands), $"{Path} has bands 1 to {BandCount}, not {band}.");
            }
        }
        var type = DataTypeOf(bands[0]);
        if (bands.Any(b => DataTypeOf(b) != type))
        {
            throw new ArgumentException($"{Path}: bands {string.Join(", ", bands)} are not all of one pixel type.", nameof(bands));
        }
        var size = type.SizeInBytes();
        var plane = window.PixelCount * size;
        if (plane > int.MaxValue)
        {
            throw new ArgumentException($"{Path}: window {window} holds more than 2 GB a band, too much to copy into memory.", nameof(window));
        }
        var copy = CreateInMemory(window.Width, window.Height, bands.Count, type, (nuint)(plane * bands.Count), $"in-memory copy of {Path}");
        try
        {
            if (GeoTransform is { } gt)
            {
                copy.GeoTransform = gt.ForWindow(window);
            }
            if (CrsWkt is { } wkt)
            {
                using var crs = SpatialReference.FromUserInput(wkt);
                copy.SetCrs(crs);
            }
            for (var i = 0; i < bands.Count; i++)
            {
                if (NoDataOf(bands[i]) is { } nodata)
                {
                    using var bandHandle = copy.Band(i + 1);
                    GdalException.ThrowIfFailed(GdalNative.GDALSetRasterNoDataValue(bandHandle, nodata), $"{copy.Path}: could not set nodata");
                }
                if (BandDescription(bands[i]) is { } description)
                {
                    copy.SetBandDescription(i + 1, description);
                }
            }
            var parallel = Driver == "GTiff" && GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") is not null
                && (BandCount == 1 || GetMetadataItem("INTERLEAVE", "IMAGE_STRUCTURE") == "PIXEL");
            using var threaded = parallel ? Open(Path, update: false, allowedDrivers: ["GTiff"], streaming: false, decodingThreads: true) : null;
            var from = threaded ?? this;
            var (_, blockHeight) = BlockSize;
            blockHeight = Math.Clamp(blockHeight, 1, window.Height);
            var rows = (int)Math.Clamp(MemoryCopyStripBytes / (window.Width * (long)bands.Count * size) / blockHeight * blockHeight, blockHeight, window.Height);
            var map = bands.ToArray();
            GdalException.Reset();
            fixed (int* bandMap = map)
            {
                for (var r = 0; r < window.Height; r += rows)
                {
                    cancel.ThrowIfCancellationRequested();
                    var height = Math.Min(rows, window.Height - r);
                    // Band i's rows go to its own plane of the copy's memory: band space is a whole plane.
                    var target = (byte*)copy._pixels + (long)r * window.Width * size;
                    var err = GdalNative.GDALDatasetRasterIO(from.Handle, GdalRWFlag.Read, window.Column, window.Row + r, window.Width, height,
                        target, window.Width, height, type, map.Length, bandMap, size, size * window.Width, (int)plane);
                    if (err >= CplErr.Failure && threaded is not null)
                    {
                        // GDAL reports a block its threads could not decode on those threads, not this one: read the
                        // strip again here, so the error (if it stays) carries GDAL's own message.
                        GdalException.Reset();
                        err = GdalNative.GDALDatasetRasterIO(Handle, GdalRWFlag.Read, window.Column, window.Row + r, window.Width, height,
                            target, window.Width, height, type, map.Length, bandMap, size, size * window.Width, (int)plane);
                    }
                    GdalException.ThrowIfFailed(err, $"{Path}: could not read bands {string.Join(", ", map)} window {window}");
                }
            }
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    // The memory of a raster made by the CreateInMemory overload below (bands one plane after another), else null.
    private byte* _pixels;

    /// <summary>An in-memory raster over one block of native memory the dataset owns, band after band, uninitialised.</summary>
    private static RasterDataset CreateInMemory(int width, int height, int bandCount, RasterDataType type, nuint bytes, string name)
    {
        GdalEnvironment.EnsureInitialized();
        var pixels = (byte*)NativeMemory.Alloc(bytes);
        GdalException.Reset();
        var raw = GdalNative.GDALCreate(GdalNative.GDALGetDriverByName("MEM"), "", width, height, 0, type, 0);
        if (raw == 0)
        {
            NativeMemory.Free(pixels);
            throw GdalException.FromLastError($"{name}: could not create raster");
        }
        var handle = new DatasetHandle(raw, pixels);
        var size = type.SizeInBytes();
        for (var b = 0; b < bandCount; b++)
        {
            using var options = new Utf8StringArray([
                FormattableString.Invariant($"DATAPOINTER=0x{(nuint)(pixels + (long)b * width * height * size):x}"),
                FormattableString.Invariant($"PIXELOFFSET={size}"),
                FormattableString.Invariant($"LINEOFFSET={(long)width * size}")]);
            if (GdalNative.GDALAddBand(raw, type, options.Pointer) != CplErr.None)
            {
                var error = GdalException.FromLastError($"{name}: could not create band {b + 1}");
                handle.Dispose();
                throw error;
            }
        }
        return new RasterDataset(handle, name) { _pixels = pixels };
    }

    /// <summary>
    /// The masked read every analysis starts from: a window of one band as floats into <paramref name="buffer"/>, and
    /// <paramref name="valid"/> (one byte per window pixel) cleared wherever the value is the band's nodata or NaN.
    /// Pixels already marked invalid stay so, so reading several bands into one validity mask ANDs them.
    /// </summary>
    public void ReadMasked(int band, RasterWindow window, Span<float> buffer, Span<byte> valid)
    {
        var n = (int)window.PixelCount;
        if (valid.Length < n)
        {
            throw new ArgumentException($"Validity buffer of {valid.Length} pixels is smaller than window {window}.");
        }
        Read<float>(band, window, buffer);
        ClearInvalid(buffer[..n], NoDataOf(band), valid[..n]);
    }

    /// <summary>
    /// <see cref="ReadMasked(int, RasterWindow, Span{float}, Span{byte})"/> for several bands in one dataset-level read
    /// (see <see cref="Read{T}(ReadOnlySpan{int}, RasterWindow, Span{T})"/>): band i of <paramref name="bands"/> at
    /// [i * n, (i + 1) * n), and <paramref name="valid"/> cleared wherever any of them holds its nodata or NaN.
    /// </summary>
    public void ReadMasked(ReadOnlySpan<int> bands, RasterWindow window, Span<float> buffer, Span<byte> valid)
    {
        var n = (int)window.PixelCount;
        if (valid.Length < n)
        {
            throw new ArgumentException($"Validity buffer of {valid.Length} pixels is smaller than window {window}.");
        }
        Read<float>(bands, window, buffer);
        for (var i = 0; i < bands.Length; i++)
        {
            ClearInvalid(buffer.Slice(i * n, n), NoDataOf(bands[i]), valid[..n]);
        }
    }

    /// <summary>Clears <paramref name="valid"/> where a value is NaN or <paramref name="noData"/>; whole vectors with neither are skipped.</summary>
    private static void ClearInvalid(ReadOnlySpan<float> values, double? noData, Span<byte> valid)
    {
        var hasNoData = noData is { } v && !double.IsNaN(v);
        var nd = hasNoData ? (float)noData!.Value : float.NaN;
        var i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var width = System.Numerics.Vector<float>.Count;
            var ndv = new System.Numerics.Vector<float>(nd);
            for (; i <= values.Length - width; i += width)
            {
                var x = new System.Numerics.Vector<float>(values.Slice(i, width));
                // NaN is the one value unequal to itself; an unset nodata is NaN, equal to nothing.
                var bad = ~System.Numerics.Vector.Equals(x, x) | System.Numerics.Vector.Equals(x, ndv);
                if (bad == System.Numerics.Vector<int>.Zero)
                {
                    continue;
                }
                for (var k = i; k < i + width; k++)
                {
                    if (float.IsNaN(values[k]) || values[k] == nd)
                    {
                        valid[k] = 0;
                    }
                }
            }
        }
        for (; i < values.Length; i++)
        {
            if (float.IsNaN(values[i]) || values[i] == nd)
            {
                valid[i] = 0;
            }
        }
    }

    /// <summary>
    /// Reads a window of a mask band (non-zero: excluded, e.g. cloud) and clears <paramref name="valid"/> (one byte
    /// per pixel of the window, 1 valid) wherever the mask is set; the scratch comes from the shared pool.
    /// </summary>
    public void ExcludeMasked(int band, RasterWindow window, Span<byte> valid)
    {
        var n = (int)window.PixelCount;
        var scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(n);
        try
        {
            var mask = scratch.AsSpan(0, n);
            Read<byte>(band, window, mask);
            for (var i = 0; i < n; i++)
            {
                if (mask[i] != 0)
                {
                    valid[i] = 0;
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    public T[] Read<T>(int band, RasterWindow window) where T : unmanaged
    {
        var data = new T[window.PixelCount];
        Read<T>(band, window, data);
        return data;
    }

    /// <summary>
    /// Reads a window of one band scaled to bufferWidth x bufferHeight pixels (nearest sampling, from overviews when
    /// the file has them): how previews of large scenes are made without reading every pixel.
    /// </summary>
    public void ReadDecimated<T>(int band, RasterWindow window, int bufferWidth, int bufferHeight, Span<T> buffer) where T : unmanaged
    {
        CheckWindow(window);
        if (bufferWidth <= 0 || bufferHeight <= 0 || buffer.Length < (long)bufferWidth * bufferHeight)
        {
            throw new ArgumentException($"Buffer of {buffer.Length} pixels cannot hold {bufferWidth} x {bufferHeight}.");
        }
        if (_pixels is not null && bufferWidth <= window.Width && bufferHeight <= window.Height && RasterDataTypes.Of<T>() == DataTypeOf(band))
        {
            DecimateInMemory(band, window, bufferWidth, bufferHeight, buffer);
            return;
        }
        using var bandHandle = Band(band);
        GdalException.Reset();
        fixed (T* p = buffer)
        {
            var err = GdalNative.GDALRasterIO(bandHandle, GdalRWFlag.Read, window.Column, window.Row, window.Width, window.Height, p,
                bufferWidth, bufferHeight, RasterDataTypes.Of<T>(), 0, 0);
            GdalException.ThrowIfFailed(err, $"{Path}: could not read band {band} window {window}");
        }
    }

    /// <summary>
    /// <see cref="ReadDecimated"/> on an in-memory copy, picked straight from its memory: the pixels GDAL's nearest
    /// neighbour subsampling picks (GDALRasterBand::IRasterIO: the source row and column of output pixel i at
    /// (i + 0.5) x step + 1e-10, truncated, the columns stepped by whole pixels when the step is whole and by repeated
    /// addition when not), without GDAL's per-line block lookups (a 1024-pixel sample of a 2048-pixel band: 5-8 ms).
    /// </summary>
    private void DecimateInMemory<T>(int band, RasterWindow window, int bufferWidth, int bufferHeight, Span<T> buffer) where T : unmanaged
    {
        const double Eps = 1e-10;
        var plane = (T*)(_pixels + (long)(band - 1) * Width * Height * sizeof(T));
        var stepX = window.Width / (double)bufferWidth;
        var stepY = window.Height / (double)bufferHeight;
        var startX = 0.5 * stepX + window.Column + Eps;
        var wholeStep = (int)stepX;
        for (var j = 0; j < bufferHeight; j++)
        {
            var y = (int)Math.Min(Math.Max(0.0, (j + 0.5) * stepY + window.Row + Eps), Height - 1);
            var row = plane + (long)y * Width;
            var output = buffer.Slice(j * bufferWidth, bufferWidth);
            if (wholeStep == stepX)
            {
                var x = (int)startX;
                for (var i = 0; i < output.Length; i++, x += wholeStep)
                {
                    output[i] = row[x];
                }
            }
            else
            {
                var sourceX = startX;
                for (var i = 0; i < output.Length; i++, sourceX += stepX)
                {
                    output[i] = row[(int)Math.Min(Math.Max(0.0, sourceX), Width - 1)];
                }
            }
        }
    }

    /// <summary>
    /// Reads a window of one band resampled to bufferWidth x bufferHeight pixels with <paramref name="resampling"/>
    /// (GDALRasterIOEx): average when shrinking keeps small objects' energy where nearest would drop pixels, bilinear
    /// when enlarging avoids blocky edges. GDAL uses overviews when shrinking and the file has them.
    /// </summary>
    public void ReadResampled<T>(int band, RasterWindow window, int bufferWidth, int bufferHeight, Span<T> buffer, Resampling resampling) where T : unmanaged
    {
        CheckWindow(window);
        if (bufferWidth <= 0 || bufferHeight <= 0 || buffer.Length < (long)bufferWidth * bufferHeight)
        {
            throw new ArgumentException($"Buffer of {buffer.Length} pixels cannot hold {bufferWidth} x {bufferHeight}.");
        }
        using var bandHandle = Band(band);
        // GDALRIOResampleAlg's values.
        var algorithm = resampling switch
        {
            Resampling.Nearest => 0,
            Resampling.Bilinear => 1,
            Resampling.Cubic => 2,
            Resampling.CubicSpline => 3,
            Resampling.Lanczos => 4,
            Resampling.Average => 5,
            Resampling.Mode => 6,
            _ => throw new ArgumentOutOfRangeException(nameof(resampling)),
        };
        var extra = new RasterIOExtraArg { Version = 1, ResampleAlg = algorithm };
        GdalException.Reset();
        fixed (T* p = buffer)
        {
            var err = GdalNative.GDALRasterIOEx(bandHandle, GdalRWFlag.Read, window.Column, window.Row, window.Width, window.Height, p,
                bufferWidth, bufferHeight, RasterDataTypes.Of<T>(), 0, 0, &extra);
            GdalException.ThrowIfFailed(err, $"{Path}: could not read band {band} window {window}");
        }
    }

    /// <summary>
    /// Writes one whole block of a band in its own data type straight to the driver (GDALWriteBlock): no copy into
    /// the block cache and no flush of it later, which for a raster written once, block by block, is most of the cost
    /// of writing (bench/mad-vs-otb.sh). Edge blocks are padded to the full block size. Only for a raster whose blocks
    /// have not been read or written through the cache, as that copy would not be updated.
    /// </summary>
    /// <param name="scratch">At least one block of values, used to pad edge blocks.</param>
    public void WriteBlock<T>(int band, RasterWindow window, ReadOnlySpan<T> data, Span<T> scratch) where T : unmanaged
    {
        CheckWindow(window);
        var (bw, bh) = BlockSize;
        if (window.Column % bw != 0 || window.Row % bh != 0 || window.Width != Math.Min(bw, Width - window.Column) || window.Height != Math.Min(bh, Height - window.Row))
        {
            throw new ArgumentException($"Window {window} is not one block of {Path} ({bw} x {bh}).");
        }
        if (RasterDataTypes.Of<T>() != DataTypeOf(band))
        {
            throw new ArgumentException($"{Path} band {band} holds {DataTypeOf(band)}, not {typeof(T).Name}.");
        }
        if (data.Length < window.PixelCount)
        {
            throw new ArgumentException($"Buffer of {data.Length} pixels is smaller than window {window}.");
        }
        if (scratch.Length < bw * bh)
        {
            throw new ArgumentException($"Scratch of {scratch.Length} values is smaller than one block ({bw} x {bh}).");
        }
        var block = data;
        if (window.Width != bw || window.Height != bh)
        {
            scratch[..(bw * bh)].Clear();
            for (var r = 0; r < window.Height; r++)
            {
                data.Slice(r * window.Width, window.Width).CopyTo(scratch.Slice(r * bw, window.Width));
            }
            block = scratch;
        }
        using var bandHandle = Band(band);
        GdalException.Reset();
        fixed (T* p = block)
        {
            GdalException.ThrowIfFailed(GdalNative.GDALWriteBlock(bandHandle, window.Column / bw, window.Row / bh, p), $"{Path}: could not write band {band} block {window}");
        }
    }

    /// <summary>Writes a window of one band from a buffer of window.Width * window.Height pixels, converting from T.</summary>
    public void Write<T>(int band, RasterWindow window, ReadOnlySpan<T> data) where T : unmanaged
    {
        CheckWindow(window);
        if (data.Length < window.PixelCount)
        {
            throw new ArgumentException($"Buffer of {data.Length} pixels is smaller than window {window}.");
        }
        using var bandHandle = Band(band);
        GdalException.Reset();
        fixed (T* p = data)
        {
            var err = GdalNative.GDALRasterIO(bandHandle, GdalRWFlag.Write, window.Column, window.Row, window.Width, window.Height, p,
                window.Width, window.Height, RasterDataTypes.Of<T>(), 0, 0);
            GdalException.ThrowIfFailed(err, $"{Path}: could not write band {band} window {window}");
        }
    }

    /// <summary>
    /// Writes a window of several bands in one call from <paramref name="data"/> laid out as <see cref="Read{T}(ReadOnlySpan{int}, RasterWindow, Span{T})"/>
    /// reads it (band after band): a pixel-interleaved block is then written once for all bands.
    /// </summary>
    public void Write<T>(ReadOnlySpan<int> bands, RasterWindow window, ReadOnlySpan<T> data) where T : unmanaged
    {
        fixed (T* p = data)
        {
            DatasetIO(GdalRWFlag.Write, bands, window, p, data.Length, RasterDataTypes.Of<T>(), sizeof(T));
        }
    }

    // Several bands of a window in one dataset-level call, laid out band after band in the buffer.
    private void DatasetIO(GdalRWFlag direction, ReadOnlySpan<int> bands, RasterWindow window, void* buffer, int length, RasterDataType type, int size)
    {
        CheckWindow(window);
        var n = window.PixelCount;
        if (length < n * bands.Length)
        {
            throw new ArgumentException($"Buffer of {length} values is smaller than {bands.Length} bands of window {window}.");
        }
        foreach (var band in bands)
        {
            if (band < 1 || band > BandCount)
            {
                throw new ArgumentOutOfRangeException(nameof(bands), $"{Path} has bands 1 to {BandCount}, not {band}.");
            }
        }
        GdalException.Reset();
        fixed (int* map = bands)
        {
            var err = GdalNative.GDALDatasetRasterIO(Handle, direction, window.Column, window.Row, window.Width, window.Height, buffer,
                window.Width, window.Height, type, bands.Length, map, size, size * window.Width, checked((int)(size * n)));
            var verb = direction == GdalRWFlag.Read ? "read" : "write";
            GdalException.ThrowIfFailed(err, $"{Path}: could not {verb} bands {string.Join(", ", bands.ToArray())} window {window}");
        }
    }

    /// <summary>
    /// Windows covering the raster, aligned to its natural blocks (grouped so each window is at least ~256 pixels a side,
    /// which keeps strip-organised files from being read one line at a time).
    /// </summary>
    public IEnumerable<RasterWindow> BlockWindows(int minimumSide = 256)
    {
        var (bw, bh) = BlockSize;
        bw = Math.Max(1, bw);
        bh = Math.Max(1, bh);
        var w = bw * Math.Max(1, (int)Math.Ceiling(minimumSide / (double)bw));
        var h = bh * Math.Max(1, (int)Math.Ceiling(minimumSide / (double)bh));
        return RasterWindow.Tile(Width, Height, Math.Min(w, Width), Math.Min(h, Height));
    }

    /// <summary>
    /// Builds overviews (reduced-resolution copies) at the given decimation factors, e.g. 2, 4, 8; inside a GeoTIFF
    /// opened for update, else in a side-car .ovr file.
    /// </summary>
    public void BuildOverviews(IReadOnlyList<int> factors, string resampling = "AVERAGE", IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        if (factors.Count == 0 || factors.Any(f => f < 2))
        {
            throw new ArgumentException("Overview factors must be 2 or more.", nameof(factors));
        }
        var levels = factors.ToArray();
        using var nativeProgress = new NativeProgress(progress, cancel);
        GdalException.Reset();
        fixed (int* p = levels)
        {
            var err = GdalNative.GDALBuildOverviews(Handle, resampling, levels.Length, p, 0, null, nativeProgress.Function, nativeProgress.Argument);
            cancel.ThrowIfCancellationRequested();
            GdalException.ThrowIfFailed(err, $"{Path}: could not build overviews");
        }
    }

    /// <summary>Writes pending changes to disk.</summary>
    public void Flush()
    {
        GdalException.Reset();
        GdalNative.GDALFlushCache(Handle);
        if (GdalNative.CPLGetLastErrorType() >= CplErr.Failure)
        {
            throw GdalException.FromLastError($"{Path}: could not write pending data");
        }
    }

    /// <summary>
    /// Copies this raster to a Cloud Optimized GeoTIFF (tiled, compressed, with overviews). The COG driver only
    /// supports CreateCopy, so writers build their raster elsewhere (MEM or a temporary GTiff) and copy it here.
    /// </summary>
    public void CopyToCog(string path, CogOptions? options = null, IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        options ??= new CogOptions();
        // The COG driver computes overviews into a temporary GTiff beside the target before it copies everything into
        // the final layout, and compresses that file with ZSTD at its default level 9: a third of the copy's CPU time
        // for a file read once and deleted (bench/raster-io.sh). Written uncompressed it costs disk (a third of the
        // raster's uncompressed size, transiently) but no memory; the output is identical. Scoped to this thread and
        // call; a value the user set (GDAL config or environment) wins.
        var overrideTmp = GdalNative.CPLGetConfigOption("COG_TMP_COMPRESSION", null) == 0;
        if (overrideTmp)
        {
            GdalNative.CPLSetThreadLocalConfigOption("COG_TMP_COMPRESSION", "NONE");
        }
        try
        {
            CopyTo(path, "COG", options.ToCreationOptions(DataType), progress, cancel);
        }
        finally
        {
            if (overrideTmp)
            {
                GdalNative.CPLSetThreadLocalConfigOption("COG_TMP_COMPRESSION", null);
            }
        }
    }

    /// <summary>CreateCopy into any driver GDAL has.</summary>
    public void CopyTo(string path, string driver, IReadOnlyCollection<string> creationOptions, IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        var driverHandle = GdalNative.GDALGetDriverByName(driver);
        if (driverHandle == 0)
        {
            throw new GdalException($"GDAL has no '{driver}' driver");
        }
        using var options = new Utf8StringArray(creationOptions);
        using var nativeProgress = new NativeProgress(progress, cancel);
        GdalException.Reset();
        var raw = GdalNative.GDALCreateCopy(driverHandle, path, Handle, 0, options.Pointer, nativeProgress.Function, nativeProgress.Argument);
        if (raw == 0)
        {
            cancel.ThrowIfCancellationRequested();
            throw GdalException.FromLastError($"{path}: could not write {driver}");
        }
        GdalException.Reset();
        GdalNative.GDALClose(raw);
        if (GdalNative.CPLGetLastErrorType() >= CplErr.Failure)
        {
            throw GdalException.FromLastError($"{path}: could not finish writing {driver}");
        }
    }

    public void Dispose() => Handle.Dispose();
}

/// <summary>How Cloud Optimized GeoTIFFs are written.</summary>
public sealed record CogOptions
{
    public string Compression { get; init; } = "DEFLATE";
    public int BlockSize { get; init; } = 512;
    /// <summary>Resampling for overviews: AVERAGE suits imagery, NEAREST masks and classes.</summary>
    public string OverviewResampling { get; init; } = "AVERAGE";
    public bool Overviews { get; init; } = true;

    public IReadOnlyCollection<string> ToCreationOptions(RasterDataType type) =>
    [
        $"COMPRESS={Compression}", $"BLOCKSIZE={BlockSize}", $"OVERVIEW_RESAMPLING={OverviewResampling}",
        $"RESAMPLING={OverviewResampling}", Overviews ? "OVERVIEWS=AUTO" : "OVERVIEWS=NONE",
        type is RasterDataType.Float32 or RasterDataType.Float64 ? "PREDICTOR=FLOATING_POINT" : "PREDICTOR=YES",
        "BIGTIFF=IF_SAFER", "NUM_THREADS=ALL_CPUS",
    ];
}
