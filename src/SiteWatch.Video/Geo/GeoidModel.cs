using SiteWatch.Gdal;

namespace SiteWatch.Video.Geo;

/// <summary>Which surface a height is measured from.</summary>
public enum HeightReference
{
    /// <summary>Height above the WGS 84 ellipsoid (HAE): ST 0601 tags 75, 78, 104; GPS heights.</summary>
    Ellipsoid,
    /// <summary>Height above mean sea level, taken as the EGM96 geoid: ST 0601 tags 15, 25; SRTM, DTED.</summary>
    Msl,
}

/// <summary>
/// Geoid undulation N (ellipsoid height = MSL height + N), bilinearly interpolated in a geoid grid read with GDAL,
/// the same grid and the same interpolation PROJ's vgridshift applies for EPSG:4326+5773 to EPSG:4979.
/// The grid is small (EGM96 at 15': 1440 x 721 nodes, 4 MB), so it is read whole, once.
/// </summary>
public sealed class GeoidModel
{
    /// <summary>File names of the EGM96 15' grid PROJ uses: the current CDN name first, then the legacy one.</summary>
    public static readonly IReadOnlyList<string> Egm96FileNames = ["us_nga_egm96_15.tif", "egm96_15.gtx"];

    private static readonly Lazy<(GeoidModel? Model, string? Error)> s_egm96 = new(LoadEgm96);

    private static (GeoidModel?, string?) LoadEgm96()
    {
        if (FindEgm96Grid() is not { } path)
        {
            return (null, "no EGM96 grid (" + string.Join(" / ", Egm96FileNames) + ") in PROJ_DATA, PROJ_LIB or the proj data folders");
        }

        try
        {
            return (Load(path, "EGM96"), null);
        }
        catch (Exception e) when (e is GdalException or DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or IOException)
        {
            // Geolocation must keep working without the grid: the N = 0 stand-in is flagged wherever it is used.
            return (null, $"{path}: could not be read: {e.Message}");
        }
    }

    private readonly float[]? _grid;
    private readonly int _columns;
    private readonly int _rows;
    private readonly GeoTransform _transform;
    private readonly bool _wrapsLongitude;

    private GeoidModel(string name, string? source, float[]? grid, int columns, int rows, GeoTransform transform)
    {
        Name = name;
        Source = source;
        _grid = grid;
        _columns = columns;
        _rows = rows;
        _transform = transform;
        _wrapsLongitude = grid is not null && Math.Abs(columns * transform.PixelWidth - 360) < 1e-6;
    }

    /// <summary>A stand-in with N = 0 everywhere, for when no geoid grid is installed: MSL is then taken as HAE.</summary>
    public static GeoidModel Zero { get; } = new("none (N = 0)", null, null, 0, 0, default);

    /// <summary>EGM96 from PROJ's data directories, or null when the grid is not installed.</summary>
    public static GeoidModel? Egm96 => s_egm96.Value.Model;

    /// <summary>Why <see cref="Egm96"/> is null (not found, or unreadable); null when it loaded.</summary>
    public static string? Egm96Problem => s_egm96.Value.Error;

    /// <summary>EGM96 when installed, else <see cref="Zero"/> (check <see cref="IsApproximate"/>).</summary>
    public static GeoidModel Egm96OrZero => s_egm96.Value.Model ?? Zero;

    public string Name { get; }

    /// <summary>The grid file, or null for <see cref="Zero"/>.</summary>
    public string? Source { get; }

    /// <summary>True for the N = 0 stand-in: MSL/HAE conversions are then wrong by the local undulation (-107..+86 m).</summary>
    public bool IsApproximate => _grid is null;

    /// <summary>Looks for the EGM96 grid where PROJ looks: PROJ_DATA, PROJ_LIB, the user's and the system's proj folders.</summary>
    public static string? FindEgm96Grid()
    {
        var directories = new List<string>();
        foreach (var variable in new[] { "PROJ_DATA", "PROJ_LIB" })
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value)
            {
                directories.AddRange(value.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
            }
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (home.Length > 0)
        {
            directories.Add(Path.Combine(home, ".local", "share", "proj"));
        }

        directories.AddRange(["/usr/share/proj", "/usr/local/share/proj", "/opt/homebrew/share/proj"]);
        foreach (var directory in directories)
        {
            foreach (var name in Egm96FileNames)
            {
                var path = Path.Combine(directory, name);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        return null;
    }

    /// <summary>Loads any GDAL-readable, georeferenced, geographic geoid grid (GTX, GeoTIFF) with undulations in metres.</summary>
    public static GeoidModel Load(string path, string name)
    {
        using var dataset = RasterDataset.Open(path);
        var transform = dataset.GeoTransform ?? throw new GdalException($"{path}: geoid grid has no georeference");
        if (!transform.IsNorthUp)
        {
            throw new GdalException($"{path}: geoid grid is not north-up");
        }

        var grid = dataset.Read<float>(1, new RasterWindow(0, 0, dataset.Width, dataset.Height));
        if (dataset.NoData is { } noData)
        {
            for (var i = 0; i < grid.Length; i++)
            {
                if (grid[i] == (float)noData)
                {
                    grid[i] = float.NaN;
                }
            }
        }

        return new GeoidModel(name, path, grid, dataset.Width, dataset.Height, transform);
    }

    /// <summary>Undulation N in metres at a WGS 84 position (0 for <see cref="Zero"/>).</summary>
    public double Undulation(double latitude, double longitude)
    {
        if (_grid is null)
        {
            return 0;
        }

        // Grid nodes sit at pixel centres in GDAL's pixel-is-area georeference.
        var u = (longitude - _transform.OriginX) / _transform.PixelWidth - 0.5;
        var v = (latitude - _transform.OriginY) / _transform.PixelHeight - 0.5;
        if (_wrapsLongitude)
        {
            u %= _columns;
            if (u < 0)
            {
                u += _columns;
            }
        }
        else
        {
            u = Math.Clamp(u, 0, _columns - 1);
        }

        v = Math.Clamp(v, 0, _rows - 1);
        var c0 = Math.Min((int)u, _columns - 1);
        var r0 = Math.Min((int)v, _rows - 2);
        var fx = u - c0;
        var fy = v - r0;
        var c1 = c0 + 1;
        if (c1 >= _columns)
        {
            c1 = _wrapsLongitude ? 0 : _columns - 1;
        }

        var top = _grid[r0 * _columns + c0] * (1 - fx) + _grid[r0 * _columns + c1] * fx;
        var bottom = _grid[(r0 + 1) * _columns + c0] * (1 - fx) + _grid[(r0 + 1) * _columns + c1] * fx;
        return top * (1 - fy) + bottom * fy;
    }

    /// <summary>Converts a height from <paramref name="reference"/> to height above the ellipsoid.</summary>
    public double ToEllipsoid(double latitude, double longitude, double height, HeightReference reference) =>
        reference == HeightReference.Ellipsoid ? height : height + Undulation(latitude, longitude);

    /// <summary>Converts a height above the ellipsoid to MSL (EGM96).</summary>
    public double ToMsl(double latitude, double longitude, double heightAboveEllipsoid) =>
        heightAboveEllipsoid - Undulation(latitude, longitude);

    public override string ToString() => Source is null ? Name : $"{Name} ({Source})";
}
