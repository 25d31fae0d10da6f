using System.Globalization;
using SiteWatch.Gdal.Native;

namespace SiteWatch.Gdal;

/// <summary>OGR field types SiteWatch writes (OGRFieldType values); other types read back as text.</summary>
public enum VectorFieldType
{
    Integer = 0,
    Real = 2,
    String = 4,
    Date = 9,
    DateTime = 11,
    Integer64 = 12,
}

/// <summary>OGR geometry types (OGRwkbGeometryType, 2D).</summary>
public enum VectorGeometryType
{
    Unknown = 0,
    Point = 1,
    LineString = 2,
    Polygon = 3,
    MultiPoint = 4,
    MultiLineString = 5,
    MultiPolygon = 6,
    GeometryCollection = 7,
}

/// <summary>An attribute column of a vector layer.</summary>
public sealed record VectorField(string Name, VectorFieldType Type);

/// <summary>
/// One feature: a geometry as OGC WKB (null for none), attribute values by field name, and an optional OGR style
/// string (drivers that know styles, e.g. LIBKML, turn it into their own). Values are long, int, double, string,
/// bool (stored as 0/1), DateTime (UTC unless unspecified), DateTimeOffset, DateOnly or null.
/// </summary>
public sealed record VectorFeature
{
    /// <summary>The feature id the driver gave it on reading; -1 for a feature to be written.</summary>
    public long Id { get; init; } = -1;
    public byte[]? Wkb { get; init; }
    public IReadOnlyDictionary<string, object?> Values { get; init; } = new Dictionary<string, object?>();
    public string? Style { get; init; }
}

/// <summary>
/// A vector dataset opened or created through GDAL (GeoPackage, KML/LIBKML, GeoJSON, CSV, FlatGeobuf ...). Writing
/// drivers often write only when the dataset is closed: call <see cref="Close"/> to learn whether that worked.
/// </summary>
public sealed unsafe class VectorDataset : IDisposable
{
    internal DatasetHandle Handle { get; }

    private VectorDataset(DatasetHandle handle, string path)
    {
        Handle = handle;
        Path = path;
    }

    public string Path { get; }

    public string Driver => GdalNative.Utf8(GdalNative.GDALGetDriverShortName(GdalNative.GDALGetDatasetDriver(Live))) ?? "";

    /// <summary>Creates a new vector dataset with a GDAL driver that can create vectors ("GPKG", "LIBKML", "GeoJSON", "CSV", "FlatGeobuf" ...).</summary>
    public static VectorDataset Create(string path, string driver, IReadOnlyCollection<string>? options = null)
    {
        GdalEnvironment.EnsureInitialized();
        var handle = GdalNative.GDALGetDriverByName(driver);
        if (handle == 0)
        {
            throw new GdalException($"GDAL has no '{driver}' driver in this build (see 'ogrinfo --formats')");
        }
        using var creation = new Utf8StringArray(options);
        GdalException.Reset();
        // Vector datasets have no raster size or bands: GDALCreate with 0 x 0 x 0 and GDT_Unknown.
        var raw = GdalNative.GDALCreate(handle, path, 0, 0, 0, RasterDataType.Unknown, creation.Pointer);
        if (raw == 0)
        {
            throw GdalException.FromLastError($"{path}: could not create a {driver} dataset");
        }
        return new VectorDataset(new DatasetHandle(raw), path);
    }

    /// <summary>Opens any vector dataset GDAL reads; <paramref name="openOptions"/> are driver open options (e.g. CSV's AUTODETECT_TYPE=YES).</summary>
    public static VectorDataset Open(string path, bool update = false, IReadOnlyCollection<string>? openOptions = null)
    {
        GdalEnvironment.EnsureInitialized();
        if (!File.Exists(path) && !Directory.Exists(path) && !path.StartsWith("/vsi", StringComparison.Ordinal))
        {
            throw new GdalException($"{path}: file not found");
        }
        using var options = new Utf8StringArray(openOptions);
        GdalException.Reset();
        var raw = GdalNative.GDALOpenEx(path, GdalOpenFlags.Vector | GdalOpenFlags.VerboseError | (update ? GdalOpenFlags.Update : GdalOpenFlags.ReadOnly), 0, options.Pointer, 0);
        if (raw == 0)
        {
            var last = GdalException.FromLastError(path);
            throw last.GdalMessage is null || last.GdalMessage.Contains("not recognized as", StringComparison.Ordinal)
                ? new GdalException($"{path}: not a vector format GDAL can read") { GdalMessage = last.GdalMessage }
                : last;
        }
        return new VectorDataset(new DatasetHandle(raw), path);
    }

    internal DatasetHandle Live => Handle.IsClosed ? throw new ObjectDisposedException(Path, $"{Path}: the vector dataset is closed") : Handle;

    public IReadOnlyList<VectorLayer> Layers
    {
        get
        {
            var count = GdalNative.GDALDatasetGetLayerCount(Live);
            var layers = new List<VectorLayer>(count);
            for (var i = 0; i < count; i++)
            {
                layers.Add(new VectorLayer(this, GdalNative.GDALDatasetGetLayer(Live, i)));
            }
            return layers;
        }
    }

    public VectorLayer Layer(string name)
    {
        var raw = GdalNative.GDALDatasetGetLayerByName(Live, name);
        return raw == 0
            ? throw new GdalException($"{Path}: has no layer '{name}' (layers: {string.Join(", ", Layers.Select(l => l.Name))})")
            : new VectorLayer(this, raw);
    }

    /// <summary>Creates a layer with its attribute fields (in this order); <paramref name="crs"/> null for none.</summary>
    public VectorLayer CreateLayer(string name, SpatialReference? crs, VectorGeometryType geometryType, IReadOnlyList<VectorField> fields,
        IReadOnlyCollection<string>? options = null)
    {
        using var layerOptions = new Utf8StringArray(options);
        GdalException.Reset();
        var raw = crs is null
            ? GdalNative.GDALDatasetCreateLayer(Live, name, 0, (int)geometryType, layerOptions.Pointer)
            : GdalNative.GDALDatasetCreateLayer(Live, name, crs.Handle, (int)geometryType, layerOptions.Pointer);
        GC.KeepAlive(crs);
        if (raw == 0)
        {
            throw GdalException.FromLastError($"{Path}: could not create layer '{name}'");
        }
        foreach (var field in fields)
        {
            var definition = GdalNative.OGR_Fld_Create(field.Name, (int)field.Type);
            try
            {
                GdalException.Reset();
                if (GdalNative.OGR_L_CreateField(raw, definition, 1) != OgrErr.None)
                {
                    throw GdalException.FromLastError($"{Path}: layer '{name}': could not create field '{field.Name}'");
                }
            }
            finally
            {
                GdalNative.OGR_Fld_Destroy(definition);
            }
        }
        return new VectorLayer(this, raw);
    }

    /// <summary>
    /// Closes the dataset, which is when many drivers write (KML, KMZ, GeoJSON, FlatGeobuf's index); throws when the
    /// driver reported a failure while doing so, so a half-written file is never taken for a finished one.
    /// </summary>
    public void Close()
    {
        if (Handle.IsClosed)
        {
            return;
        }
        GdalException.Reset();
        Handle.Dispose();
        if (GdalNative.CPLGetLastErrorType() >= CplErr.Failure)
        {
            throw GdalException.FromLastError($"{Path}: writing failed when the dataset was closed");
        }
    }

    public void Dispose() => Handle.Dispose();

    /// <summary>
    /// Sets GDAL configuration options for this thread until disposed, restoring the previous values (e.g. the LIBKML
    /// driver's LIBKML_TIMESTAMP_FIELD, which it reads while writing and when a file is read back).
    /// </summary>
    public static IDisposable ThreadConfig(params (string Key, string? Value)[] options)
    {
        GdalEnvironment.EnsureInitialized();
        var previous = options.Select(o => (o.Key, Value: GdalNative.Utf8(GdalNative.CPLGetConfigOption(o.Key, null)))).ToArray();
        foreach (var (key, value) in options)
        {
            GdalNative.CPLSetThreadLocalConfigOption(key, value);
        }
        return new Restore(previous);
    }

    private sealed class Restore((string Key, string? Value)[] previous) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done)
            {
                return;
            }
            _done = true;
            foreach (var (key, value) in previous)
            {
                GdalNative.CPLSetThreadLocalConfigOption(key, value);
            }
        }
    }
}

/// <summary>A layer of a <see cref="VectorDataset"/>; valid while its dataset is open.</summary>
public sealed unsafe class VectorLayer
{
    private const int TzUtc = 100;
    private readonly VectorDataset _dataset;
    private readonly nint _layer;
    private Dictionary<string, int>? _writeIndex;

    internal VectorLayer(VectorDataset dataset, nint layer)
    {
        _dataset = dataset;
        _layer = layer;
    }

    private nint Live
    {
        get
        {
            _ = _dataset.Live;
            return _layer;
        }
    }

    public string Name => GdalNative.Utf8(GdalNative.OGR_L_GetName(Live)) ?? "";

    /// <summary>The layer's declared geometry type, flattened to 2D.</summary>
    public VectorGeometryType GeometryType => (VectorGeometryType)GdalNative.OGR_GT_Flatten(GdalNative.OGR_L_GetGeomType(Live));

    public IReadOnlyList<VectorField> Fields
    {
        get
        {
            var definition = GdalNative.OGR_L_GetLayerDefn(Live);
            var count = GdalNative.OGR_FD_GetFieldCount(definition);
            var fields = new List<VectorField>(count);
            for (var i = 0; i < count; i++)
            {
                var column = GdalNative.OGR_FD_GetFieldDefn(definition, i);
                fields.Add(new VectorField(GdalNative.Utf8(GdalNative.OGR_Fld_GetNameRef(column)) ?? "", (VectorFieldType)GdalNative.OGR_Fld_GetType(column)));
            }
            return fields;
        }
    }

    /// <summary>Number of features (counted by reading when the driver cannot tell otherwise).</summary>
    public long FeatureCount => GdalNative.OGR_L_GetFeatureCount(Live, 1);

    /// <summary>Writes one feature; values whose name is not a field of the layer are an error, not silently dropped.</summary>
    public void Add(VectorFeature feature)
    {
        ArgumentNullException.ThrowIfNull(feature);
        using var handle = new FeatureHandle(GdalNative.OGR_F_Create(GdalNative.OGR_L_GetLayerDefn(Live)));
        if (handle.IsInvalid)
        {
            throw new GdalException($"{_dataset.Path}: layer '{Name}': could not allocate a feature");
        }
        _writeIndex ??= Fields.Select((f, i) => (f.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        foreach (var (name, value) in feature.Values)
        {
            if (!_writeIndex.TryGetValue(name, out var index))
            {
                throw new GdalException($"{_dataset.Path}: layer '{Name}' has no field '{name}'");
            }
            SetField(handle, index, name, value);
        }
        if (feature.Wkb is { } wkb)
        {
            using var geometry = VectorGeometry.FromWkb(wkb);
            GdalException.Reset();
            if (GdalNative.OGR_F_SetGeometry(handle, geometry) != OgrErr.None)
            {
                throw GdalException.FromLastError($"{_dataset.Path}: layer '{Name}': could not set a feature's geometry");
            }
        }
        if (feature.Style is { } style)
        {
            GdalNative.OGR_F_SetStyleString(handle, style);
        }
        GdalException.Reset();
        if (GdalNative.OGR_L_CreateFeature(Live, handle) != OgrErr.None)
        {
            throw GdalException.FromLastError($"{_dataset.Path}: layer '{Name}': could not write a feature");
        }
    }

    /// <summary>Writes features in one transaction where the driver has them (GeoPackage: one commit, not one per feature); all or none.</summary>
    public int AddRange(IEnumerable<VectorFeature> features)
    {
        var transaction = GdalNative.GDALDatasetStartTransaction(_dataset.Live, 0) == OgrErr.None;
        var count = 0;
        try
        {
            foreach (var feature in features)
            {
                Add(feature);
                count++;
            }
            if (transaction)
            {
                GdalException.Reset();
                if (GdalNative.GDALDatasetCommitTransaction(_dataset.Live) != OgrErr.None)
                {
                    throw GdalException.FromLastError($"{_dataset.Path}: layer '{Name}': could not commit its features");
                }
                transaction = false;
            }
            return count;
        }
        finally
        {
            if (transaction)
            {
                GdalNative.GDALDatasetRollbackTransaction(_dataset.Live);
            }
        }
    }

    /// <summary>Reads every feature: values typed by their field type, dates as DateTime, geometry as 2D ISO WKB.</summary>
    public IEnumerable<VectorFeature> Features()
    {
        var fields = Fields;
        GdalNative.OGR_L_ResetReading(Live);
        while (true)
        {
            var raw = GdalNative.OGR_L_GetNextFeature(Live);
            if (raw == 0)
            {
                yield break;
            }
            using var handle = new FeatureHandle(raw);
            yield return Read(handle, fields);
        }
    }

    private static VectorFeature Read(FeatureHandle handle, IReadOnlyList<VectorField> fields)
    {
        var values = new Dictionary<string, object?>(fields.Count, StringComparer.Ordinal);
        for (var i = 0; i < fields.Count; i++)
        {
            values[fields[i].Name] = GdalNative.OGR_F_IsFieldSetAndNotNull(handle, i) == 0 ? null : fields[i].Type switch
            {
                VectorFieldType.Integer or VectorFieldType.Integer64 => GdalNative.OGR_F_GetFieldAsInteger64(handle, i),
                VectorFieldType.Real => GdalNative.OGR_F_GetFieldAsDouble(handle, i),
                VectorFieldType.Date or VectorFieldType.DateTime => ReadDate(handle, i),
                _ => GdalNative.Utf8(GdalNative.OGR_F_GetFieldAsString(handle, i)),
            };
        }
        byte[]? wkb = null;
        var geometry = GdalNative.OGR_F_GetGeometryRef(handle);
        if (geometry != 0)
        {
            // KML geometries come back with Z = 0; everything SiteWatch writes is 2D.
            GdalNative.OGR_G_FlattenTo2D(geometry);
            wkb = new byte[GdalNative.OGR_G_WkbSize(geometry)];
            fixed (byte* p = wkb)
            {
                GdalNative.OGR_G_ExportToIsoWkb(geometry, 1, p);
            }
        }
        return new VectorFeature
        {
            Id = GdalNative.OGR_F_GetFID(handle),
            Wkb = wkb,
            Values = values,
            Style = GdalNative.Utf8(GdalNative.OGR_F_GetStyleString(handle)),
        };
    }

    private static object? ReadDate(FeatureHandle handle, int index)
    {
        int year, month, day, hour, minute, tz;
        float second;
        if (GdalNative.OGR_F_GetFieldAsDateTimeEx(handle, index, &year, &month, &day, &hour, &minute, &second, &tz) == 0)
        {
            return GdalNative.Utf8(GdalNative.OGR_F_GetFieldAsString(handle, index));
        }
        var whole = (int)Math.Floor(second);
        var milliseconds = (int)Math.Round((second - whole) * 1000);
        // tz: 0 unknown, 1 local time, 100 UTC, 100 + n quarter hours east of UTC.
        var local = new DateTime(year, month, day, hour, minute, Math.Min(whole, 59), tz >= 100 ? DateTimeKind.Utc : DateTimeKind.Unspecified).AddMilliseconds(milliseconds);
        return tz >= 100 ? local.AddMinutes(-15 * (tz - TzUtc)) : local;
    }

    private void SetField(FeatureHandle handle, int index, string name, object? value)
    {
        switch (value)
        {
            case null:
                GdalNative.OGR_F_SetFieldNull(handle, index);
                break;
            case bool b:
                GdalNative.OGR_F_SetFieldInteger64(handle, index, b ? 1 : 0);
                break;
            case int or long or short or byte or uint:
                GdalNative.OGR_F_SetFieldInteger64(handle, index, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case double or float or decimal:
                GdalNative.OGR_F_SetFieldDouble(handle, index, Convert.ToDouble(value, CultureInfo.InvariantCulture));
                break;
            case string s:
                GdalNative.OGR_F_SetFieldString(handle, index, s);
                break;
            case DateTime t:
                SetDateTime(handle, index, t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : t, TzUtc);
                break;
            case DateTimeOffset o:
                SetDateTime(handle, index, o.UtcDateTime, TzUtc);
                break;
            case DateOnly d:
                GdalNative.OGR_F_SetFieldDateTimeEx(handle, index, d.Year, d.Month, d.Day, 0, 0, 0, 0);
                break;
            default:
                throw new ArgumentException($"layer '{Name}', field '{name}': a {value.GetType().Name} cannot be written to a vector field", nameof(value));
        }
    }

    private static void SetDateTime(FeatureHandle handle, int index, DateTime utc, int tz) =>
        GdalNative.OGR_F_SetFieldDateTimeEx(handle, index, utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute,
            utc.Second + utc.Millisecond / 1000f, tz);
}

/// <summary>OGR's geometry parsers: WKB and WKT in, as GDAL itself reads them.</summary>
public static unsafe class VectorGeometry
{
    internal static GeometryHandle FromWkb(byte[] wkb)
    {
        GdalEnvironment.EnsureInitialized();
        nint geometry = 0;
        GdalException.Reset();
        OgrErr err;
        fixed (byte* p = wkb)
        {
            err = GdalNative.OGR_G_CreateFromWkb(p, 0, &geometry, wkb.Length);
        }
        if (err != OgrErr.None || geometry == 0)
        {
            throw GdalException.FromLastError($"not a valid WKB geometry ({wkb.Length} bytes, OGR error {err})");
        }
        return new GeometryHandle(geometry);
    }

    /// <summary>ISO WKB (little-endian) of a WKT geometry, parsed by OGR.</summary>
    public static byte[] WkbFromWkt(string wkt)
    {
        GdalEnvironment.EnsureInitialized();
        var text = System.Runtime.InteropServices.Marshal.StringToCoTaskMemUTF8(wkt);
        try
        {
            var cursor = text;
            nint geometry = 0;
            GdalException.Reset();
            var err = GdalNative.OGR_G_CreateFromWkt(&cursor, 0, &geometry);
            if (err != OgrErr.None || geometry == 0)
            {
                throw GdalException.FromLastError($"not a valid WKT geometry (OGR error {err}): {(wkt.Length > 60 ? wkt[..60] + "..." : wkt)}");
            }
            using var handle = new GeometryHandle(geometry);
            var wkb = new byte[GdalNative.OGR_G_WkbSize(geometry)];
            fixed (byte* p = wkb)
            {
                GdalNative.OGR_G_ExportToIsoWkb(geometry, 1, p);
            }
            return wkb;
        }
        finally
        {
            System.Runtime.InteropServices.Marshal.ZeroFreeCoTaskMemUTF8(text);
        }
    }

    /// <summary>ISO WKT of a WKB geometry, written by OGR.</summary>
    public static string WktFromWkb(byte[] wkb)
    {
        using var geometry = FromWkb(wkb);
        nint text = 0;
        GdalException.Reset();
        var err = GdalNative.OGR_G_ExportToIsoWkt(geometry, &text);
        try
        {
            if (err != OgrErr.None || text == 0)
            {
                throw GdalException.FromLastError($"could not write a geometry as WKT (OGR error {err})");
            }
            return GdalNative.Utf8(text) ?? "";
        }
        finally
        {
            GdalNative.VSIFree(text);
        }
    }
}
