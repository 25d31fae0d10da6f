using SiteWatch.Gdal.Native;

namespace SiteWatch.Gdal;

/// <summary>A coordinate reference system. Axis order is always traditional GIS order (x/easting/longitude first).</summary>
public sealed unsafe class SpatialReference : IDisposable
{
    internal SpatialReferenceHandle Handle { get; }

    private SpatialReference(SpatialReferenceHandle handle)
    {
        Handle = handle;
        GdalNative.OSRSetAxisMappingStrategy(Handle, OsrAxisMappingStrategy.TraditionalGisOrder);
    }

    private static SpatialReferenceHandle NewEmpty()
    {
        GdalEnvironment.EnsureInitialized();
        var raw = GdalNative.OSRNewSpatialReference(null);
        if (raw == 0)
        {
            throw GdalException.FromLastError("Could not allocate a spatial reference");
        }
        return new SpatialReferenceHandle(raw);
    }

    /// <summary>Any definition GDAL understands: "EPSG:32652", WKT, PROJ strings, "WGS84", a .prj file path ...</summary>
    public static SpatialReference FromUserInput(string definition)
    {
        var handle = NewEmpty();
        GdalException.Reset();
        if (GdalNative.OSRSetFromUserInput(handle, definition) != 0)
        {
            handle.Dispose();
            var shown = definition.Length > 80 ? definition[..80] + "..." : definition;
            throw GdalException.FromLastError($"Unknown coordinate reference system '{shown}'");
        }
        return new SpatialReference(handle);
    }

    public static SpatialReference FromEpsg(int code)
    {
        var handle = NewEmpty();
        GdalException.Reset();
        if (GdalNative.OSRImportFromEPSG(handle, code) != 0)
        {
            handle.Dispose();
            throw GdalException.FromLastError($"Unknown coordinate reference system EPSG:{code}");
        }
        return new SpatialReference(handle);
    }

    public static SpatialReference Wgs84() => FromEpsg(4326);

    /// <summary>EPSG code of the WGS 84 / UTM zone containing a longitude/latitude.</summary>
    public static int UtmEpsgFor(double longitude, double latitude)
    {
        if (longitude is < -180 or > 180 || latitude is < -80 or > 84)
        {
            throw new ArgumentOutOfRangeException(nameof(latitude), FormattableString.Invariant(
                $"({longitude}, {latitude}) is outside the UTM domain (longitude -180..180, latitude -80..84)."));
        }
        var zone = Math.Min(60, (int)Math.Floor((longitude + 180) / 6) + 1);
        return latitude >= 0 ? 32600 + zone : 32700 + zone;
    }

    public string Wkt
    {
        get
        {
            nint text = 0;
            GdalException.Reset();
            var err = GdalNative.OSRExportToWkt(Handle, &text);
            try
            {
                if (err != 0)
                {
                    throw GdalException.FromLastError("Could not export the coordinate reference system as WKT");
                }
                return GdalNative.Utf8(text) ?? "";
            }
            finally
            {
                GdalNative.VSIFree(text);
            }
        }
    }

    public string Name => GdalNative.Utf8(GdalNative.OSRGetName(Handle)) ?? "unnamed";
    public bool IsProjected => GdalNative.OSRIsProjected(Handle) != 0;
    public bool IsGeographic => GdalNative.OSRIsGeographic(Handle) != 0;

    /// <summary>Size of the linear unit in metres (1 for metre-based projected systems).</summary>
    public double LinearUnitMetres
    {
        get
        {
            nint name = 0;
            return GdalNative.OSRGetLinearUnits(Handle, &name);
        }
    }

    /// <summary>The EPSG code, when the definition carries one or GDAL can identify one with confidence.</summary>
    public int? Epsg
    {
        get
        {
            if (ReadEpsg(Handle) is { } direct)
            {
                return direct;
            }
            // ESRI-flavoured WKT (e.g. from ENVI headers) carries no authority; ask GDAL for a match. 70 is what GDAL gives
            // an equivalent definition under another name (gdalsrsinfo -e reports the same); lower is only a guess.
            int count = 0;
            int* confidences = null;
            var matches = GdalNative.OSRFindMatches(Handle, 0, &count, &confidences);
            try
            {
                for (var i = 0; i < count; i++)
                {
                    if (confidences[i] < 70)
                    {
                        continue;
                    }
                    var candidate = ((nint*)matches)[i];
                    using var clone = new SpatialReferenceHandle(GdalNative.OSRClone(candidate));
                    if (ReadEpsg(clone) is { } code)
                    {
                        return code;
                    }
                }
                return null;
            }
            finally
            {
                if (matches != 0)
                {
                    GdalNative.OSRFreeSRSArray(matches);
                }
                if (confidences != null)
                {
                    GdalNative.VSIFree((nint)confidences);
                }
            }
        }
    }

    private static int? ReadEpsg(SpatialReferenceHandle handle)
    {
        var authority = GdalNative.Utf8(GdalNative.OSRGetAuthorityName(handle, null));
        var code = GdalNative.Utf8(GdalNative.OSRGetAuthorityCode(handle, null));
        return authority == "EPSG" && int.TryParse(code, out var value) ? value : null;
    }

    /// <summary>
    /// Where the CRS is meant to be used (longitude/latitude degrees, west may exceed east across the antimeridian),
    /// from its definition or the EPSG database; null when unknown.
    /// </summary>
    public (double West, double South, double East, double North)? AreaOfUse
    {
        get
        {
            double west, south, east, north;
            nint name = 0;
            if (GdalNative.OSRGetAreaOfUse(Handle, &west, &south, &east, &north, &name) == 0 || west == -1000)
            {
                return null;
            }
            return (west, south, east, north);
        }
    }

    /// <summary>"EPSG:nnnn" when known, else the name.</summary>
    public override string ToString() => Epsg is { } code ? $"EPSG:{code}" : Name;

    public bool IsSame(SpatialReference other) => GdalNative.OSRIsSame(Handle, other.Handle) != 0;

    public void Dispose() => Handle.Dispose();
}

/// <summary>Transforms coordinates between two reference systems (x/longitude first on both sides).</summary>
public sealed unsafe class CoordinateTransform : IDisposable
{
    private readonly CoordinateTransformationHandle _handle;

    public CoordinateTransform(SpatialReference source, SpatialReference target)
    {
        GdalException.Reset();
        var raw = GdalNative.OCTNewCoordinateTransformation(source.Handle, target.Handle);
        if (raw == 0)
        {
            throw GdalException.FromLastError($"No transformation from {source} to {target}");
        }
        _handle = new CoordinateTransformationHandle(raw);
        Source = source.ToString();
        Target = target.ToString();
    }

    public string Source { get; }
    public string Target { get; }

    public (double X, double Y) Transform(double x, double y)
    {
        double z = 0;
        GdalException.Reset();
        if (GdalNative.OCTTransform(_handle, 1, &x, &y, &z) == 0 || double.IsInfinity(x) || double.IsInfinity(y))
        {
            throw GdalException.FromLastError(FormattableString.Invariant($"Could not transform ({x}, {y}) from {Source} to {Target}"));
        }
        return (x, y);
    }

    /// <summary>Transforms arrays of points in place.</summary>
    public void Transform(Span<double> xs, Span<double> ys)
    {
        if (xs.Length != ys.Length)
        {
            throw new ArgumentException("x and y arrays differ in length.");
        }
        if (xs.IsEmpty)
        {
            return;
        }
        GdalException.Reset();
        fixed (double* px = xs)
        fixed (double* py = ys)
        {
            if (GdalNative.OCTTransform(_handle, xs.Length, px, py, null) == 0)
            {
                throw GdalException.FromLastError($"Could not transform {xs.Length} points from {Source} to {Target}");
            }
        }
    }

    public void Dispose() => _handle.Dispose();
}
