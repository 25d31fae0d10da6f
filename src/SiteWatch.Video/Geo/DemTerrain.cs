using SiteWatch.Gdal;

namespace SiteWatch.Video.Geo;

/// <summary>How a DEM is read.</summary>
public sealed record DemOptions
{
    /// <summary>What the DEM's heights are measured from. SRTM, DTED and most national DEMs are MSL (EGM96 for SRTM).</summary>
    public HeightReference VerticalDatum { get; init; } = HeightReference.Msl;

    /// <summary>Geoid for MSL heights; null means EGM96 when installed, else N = 0 (reported in <see cref="DemTerrain.Notes"/>).</summary>
    public GeoidModel? Geoid { get; init; }

    /// <summary>Surface used outside the DEM and on its voids; null leaves those places without terrain.</summary>
    public ITerrain? Fallback { get; init; }

    public int Band { get; init; } = 1;

    /// <summary>Side of the square windows the DEM is read in (pixels).</summary>
    public int TileSize { get; init; } = 256;

    /// <summary>Windows kept in memory (least recently used are dropped): 64 of 256 x 256 is about 17 MB.</summary>
    public int MaxCachedTiles { get; init; } = 64;
}

/// <summary>
/// Terrain from any GDAL-readable DEM (GeoTIFF, DTED, SRTM .hgt, ...) in any CRS. Heights are bilinearly interpolated
/// between pixel centres and converted to ellipsoid heights on load. The DEM is read in windows around the places
/// rays go through, never whole, and the windows are cached. Not thread-safe (a GDAL dataset is single-threaded).
/// </summary>
public sealed class DemTerrain : ITerrain, IDemBacked, IDisposable
{
    // Highest terrain on Earth (8849 m MSL) plus the highest geoid undulation, rounded up.
    private const double EarthCeiling = 9_000;

    private readonly RasterDataset _dataset;
    private readonly GeoTransform _transform;
    private readonly CoordinateTransform? _toDem;
    private readonly CoordinateTransform? _fromDem;
    private readonly DemOptions _options;
    private readonly GeoidModel _geoid;
    private readonly ITerrain? _fallback;
    private readonly int _tileSize;
    private readonly int _width;
    private readonly int _height;
    private readonly double? _noData;
    private readonly bool _wrapLongitude;
    private readonly double _step;
    private readonly Dictionary<long, Tile> _tiles = [];
    private readonly LinkedList<Tile> _recency = new();
    private readonly List<string> _notes = [];
    private Tile? _lastTile;
    private double _highestLoaded = double.NegativeInfinity;

    private DemTerrain(RasterDataset dataset, GeoTransform transform, CoordinateTransform? toDem, CoordinateTransform? fromDem,
        DemOptions options, GeoidModel geoid, string crsName)
    {
        _dataset = dataset;
        _transform = transform;
        _toDem = toDem;
        _fromDem = fromDem;
        _options = options;
        _geoid = geoid;
        _fallback = options.Fallback;
        _tileSize = options.TileSize;
        _width = dataset.Width;
        _height = dataset.Height;
        _noData = dataset.NoDataOf(options.Band);
        // A geographic DEM spanning the globe is addressed modulo 360 degrees of longitude.
        _wrapLongitude = toDem is null && Math.Abs(Math.Abs(transform.PixelWidth) * _width - 360) < Math.Abs(transform.PixelWidth);
        Path = dataset.Path;
        Crs = crsName;
        var centre = PixelToGeodetic(_width / 2.0, _height / 2.0) ?? (0, 0);
        var (gx, gy) = GroundPixelSize(_width / 2.0 - 0.5, _height / 2.0 - 0.5, 1);
        _step = Math.Max(0.5, Math.Min(gx, gy));
        CentreLatitude = centre.Latitude;
        CentreLongitude = centre.Longitude;
        var datum = options.VerticalDatum == HeightReference.Ellipsoid ? "HAE"
            : geoid.IsApproximate ? "MSL, no geoid grid: taken as HAE" : $"MSL, {geoid.Name}";
        DemDescription = string.Create(CultureInfo.InvariantCulture,
            $"DEM {System.IO.Path.GetFileName(Path)} ({_width} x {_height}, {crsName}, ~{_step:0.#} m pixels, {datum})");
    }

    /// <summary>Opens a DEM. Throws <see cref="GdalException"/> when it cannot be read or has no georeference.</summary>
    public static DemTerrain Open(string path, DemOptions? options = null)
    {
        options ??= new DemOptions();
        if (options.TileSize < 16 || options.MaxCachedTiles < 4)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "TileSize must be at least 16 and MaxCachedTiles at least 4.");
        }

        var dataset = RasterDataset.Open(path);
        CoordinateTransform? toDem = null;
        CoordinateTransform? fromDem = null;
        try
        {
            if (dataset.Width < 2 || dataset.Height < 2)
            {
                throw new GdalException($"{path}: a DEM needs at least 2 x 2 pixels to interpolate");
            }

            if (options.Band < 1 || options.Band > dataset.BandCount)
            {
                throw new GdalException($"{path}: has no band {options.Band}");
            }

            var transform = dataset.GeoTransform ?? throw new GdalException($"{path}: the DEM has no georeference");
            var notes = new List<string>();
            string crsName;
            using (var wgs84 = SpatialReference.Wgs84())
            {
                using var crs = dataset.OpenCrs();
                if (crs is null)
                {
                    notes.Add("the DEM declares no CRS; its coordinates are taken as WGS 84 longitude/latitude");
                    crsName = "no CRS, taken as EPSG:4326";
                }
                else
                {
                    crsName = crs.ToString();
                    if (!(crs.IsGeographic && crs.IsSame(wgs84)))
                    {
                        // Exact datum and projection handling goes through PROJ; only plain WGS 84 degrees skip it.
                        toDem = new CoordinateTransform(wgs84, crs);
                        fromDem = new CoordinateTransform(crs, wgs84);
                    }

                    CheckVerticalDatum(crs.Wkt, options.VerticalDatum, notes);
                }
            }

            var geoid = options.VerticalDatum == HeightReference.Msl ? options.Geoid ?? GeoidModel.Egm96OrZero : GeoidModel.Zero;
            if (options.VerticalDatum == HeightReference.Msl && geoid.IsApproximate)
            {
                notes.Add("no EGM96 grid found (looked in PROJ_DATA, PROJ_LIB, /usr/share/proj): DEM MSL heights are used as ellipsoid heights, off by the local geoid undulation (-107..+86 m)");
            }

            var terrain = new DemTerrain(dataset, transform, toDem, fromDem, options, geoid, crsName);
            terrain._notes.AddRange(notes);
            return terrain;
        }
        catch
        {
            toDem?.Dispose();
            fromDem?.Dispose();
            dataset.Dispose();
            throw;
        }
    }

    private static void CheckVerticalDatum(string wkt, HeightReference declared, List<string> notes)
    {
        // GTIFF_REPORT_COMPD_CS=YES makes GDAL report a compound CRS when the file carries a vertical one.
        if (!wkt.Contains("VERTCRS", StringComparison.Ordinal) && !wkt.Contains("VERT_CS", StringComparison.Ordinal))
        {
            return;
        }

        var upper = wkt.ToUpperInvariant();
        if (upper.Contains("EGM2008", StringComparison.Ordinal) || upper.Contains("EGM08", StringComparison.Ordinal))
        {
            notes.Add("the DEM declares EGM2008 heights; they are converted with EGM96 (the two differ by under ~1 m almost everywhere)");
        }
        else if (upper.Contains("EGM96", StringComparison.Ordinal) && declared == HeightReference.Ellipsoid)
        {
            notes.Add("the DEM declares EGM96 (MSL) heights but was opened as ellipsoid heights");
        }
        else if (upper.Contains("ELLIPSOID", StringComparison.Ordinal) && declared == HeightReference.Msl)
        {
            notes.Add("the DEM declares ellipsoidal heights but was opened as MSL heights");
        }
    }

    public string Path { get; }

    /// <summary>The DEM's CRS ("EPSG:4326", "EPSG:32652", ...).</summary>
    public string Crs { get; }

    public string Description => _fallback is null ? DemDescription : $"{DemDescription}; outside it and on voids: {_fallback.Description}";

    /// <summary>The DEM alone, without its fallback.</summary>
    public string DemDescription { get; }

    public double CentreLatitude { get; }

    public double CentreLongitude { get; }

    /// <summary>True when the DEM's MSL heights are used as ellipsoid heights because no geoid grid is installed.</summary>
    public bool UsesApproximateGeoid => _options.VerticalDatum == HeightReference.Msl && _geoid.IsApproximate;

    /// <summary>What the caller should know about this DEM (missing geoid, undeclared CRS, datum mismatch, read errors).</summary>
    public IReadOnlyList<string> Notes => _notes;

    public ITerrain? Fallback => _fallback;

    DemTerrain IDemBacked.Dem => this;

    /// <summary>Windows read from the file so far.</summary>
    public int TilesRead { get; private set; }

    /// <summary>Pixels read from the file so far.</summary>
    public long PixelsRead { get; private set; }

    public int Width => _width;

    public int Height => _height;

    public double Ceiling => CeilingWith(_fallback);

    // Earth's highest terrain, unless the DEM (a synthetic one, or one in the wrong units) has shown higher values.
    private double CeilingWith(ITerrain? fallback) => Math.Max(Math.Max(EarthCeiling, _highestLoaded), fallback?.Ceiling ?? double.MinValue);

    public double StepMetres(double latitude, double longitude) => _step;

    /// <summary>True when the position falls inside the DEM's extent (voids included).</summary>
    public bool Covers(double latitude, double longitude) => TryMap(latitude, longitude, out var x, out var y) && Inside(x, y);

    public TerrainSample Sample(double latitude, double longitude) => Sample(latitude, longitude, _fallback);

    public TerrainBound Bound(double latitude, double longitude) => Bound(latitude, longitude, _fallback);

    /// <summary>
    /// This DEM with another surface outside it and on its voids (typically the frame's own flat-terrain estimate),
    /// sharing this DEM's window cache. The view is as single-threaded as the DEM.
    /// </summary>
    public ITerrain WithFallback(ITerrain? fallback) => fallback == _fallback ? this : new View(this, fallback);

    internal TerrainSample Sample(double latitude, double longitude, ITerrain? fallback)
    {
        if (!TryMap(latitude, longitude, out var x, out var y) || !Inside(x, y))
        {
            return FallbackSample(latitude, longitude, TerrainSource.FallbackOutsideDem, fallback);
        }

        // Heights live at pixel centres: index space u, v puts pixel (i, j)'s value at integer (i, j).
        var u = x - 0.5;
        var v = y - 0.5;
        var i0 = Math.Clamp((int)Math.Floor(u), 0, _width - 2);
        var j0 = Math.Clamp((int)Math.Floor(v), 0, _height - 2);
        var fx = Math.Clamp(u - i0, 0, 1);
        var fy = Math.Clamp(v - j0, 0, 1);
        // Tile (tx, ty) holds columns tx*T-1 .. (tx+1)*T, so both neighbours of i0 are in tile (i0 + 1) / T.
        var tile = GetTile((i0 + 1) / _tileSize, (j0 + 1) / _tileSize);
        var heights = tile.Heights!;
        var li = i0 - tile.Col0;
        var lj = j0 - tile.Row0;
        var stride = tile.Columns;
        var h00 = heights[lj * stride + li];
        var h10 = heights[lj * stride + li + 1];
        var h01 = heights[(lj + 1) * stride + li];
        var h11 = heights[(lj + 1) * stride + li + 1];
        var w00 = (1 - fx) * (1 - fy);
        var w10 = fx * (1 - fy);
        var w01 = (1 - fx) * fy;
        var w11 = fx * fy;
        if (!float.IsNaN(h00) && !float.IsNaN(h10) && !float.IsNaN(h01) && !float.IsNaN(h11))
        {
            return new TerrainSample(h00 * w00 + h10 * w10 + h01 * w01 + h11 * w11, TerrainSource.Dem);
        }

        // Next to a void: interpolate among the valid neighbours only; inside a void, fall back.
        double sum = 0, weight = 0;
        Accumulate(h00, w00, ref sum, ref weight);
        Accumulate(h10, w10, ref sum, ref weight);
        Accumulate(h01, w01, ref sum, ref weight);
        Accumulate(h11, w11, ref sum, ref weight);
        return weight > 0.25 ? new TerrainSample(sum / weight, TerrainSource.Dem) : FallbackSample(latitude, longitude, TerrainSource.FallbackVoid, fallback);
    }

    private static void Accumulate(float h, double w, ref double sum, ref double weight)
    {
        if (!float.IsNaN(h))
        {
            sum += h * w;
            weight += w;
        }
    }

    private static TerrainSample FallbackSample(double latitude, double longitude, TerrainSource source, ITerrain? fallback)
    {
        if (fallback is null)
        {
            return new TerrainSample(double.NegativeInfinity, TerrainSource.None);
        }

        var sample = fallback.Sample(latitude, longitude);
        return sample.HasHeight ? sample with { Source = source } : sample;
    }

    internal TerrainBound Bound(double latitude, double longitude, ITerrain? fallback)
    {
        if (!TryMap(latitude, longitude, out var x, out var y))
        {
            // Outside the CRS's domain: no promise beyond one step.
            return new TerrainBound(CeilingWith(fallback), 0);
        }

        var tx = (int)Math.Floor(x / _tileSize);
        var ty = (int)Math.Floor(y / _tileSize);
        var tile = GetTile(tx, ty);
        var dx = Math.Min(x - tx * (double)_tileSize, (tx + 1) * (double)_tileSize - x);
        var dy = Math.Min(y - ty * (double)_tileSize, (ty + 1) * (double)_tileSize - y);
        var radius = Math.Max(0, Math.Min(dx * tile.GroundPixelX, dy * tile.GroundPixelY));
        var max = tile.MaxHeight;
        if (tile.NeedsFallback && fallback is not null)
        {
            var bound = fallback.Bound(latitude, longitude);
            max = Math.Max(max, bound.MaxHeightAboveEllipsoid);
            radius = Math.Min(radius, bound.RadiusMetres);
        }

        // A tile without any height (outside the DEM, no fallback) cannot be hit: any finite bound far below works.
        return new TerrainBound(double.IsNegativeInfinity(max) ? -20_000 : max, radius);
    }

    private bool Inside(double x, double y) => x >= 0 && x < _width && y >= 0 && y < _height;

    private bool TryMap(double latitude, double longitude, out double x, out double y)
    {
        double mx = longitude, my = latitude;
        if (_toDem is not null)
        {
            try
            {
                (mx, my) = _toDem.Transform(longitude, latitude);
            }
            catch (GdalException)
            {
                x = y = double.NaN;
                return false;
            }
        }

        (x, y) = _transform.MapToPixel(mx, my);
        if (_wrapLongitude && (x < 0 || x >= _width))
        {
            var (x2, _) = _transform.MapToPixel(mx + (x < 0 ? 360 : -360), my);
            x = x2;
        }
        else if (_toDem is null && (x < 0 || x >= _width))
        {
            // DEMs on 0..360 longitudes (or just across the antimeridian) still match.
            foreach (var shift in new[] { 360.0, -360.0 })
            {
                var (x2, _) = _transform.MapToPixel(mx + shift, my);
                if (x2 >= 0 && x2 < _width)
                {
                    x = x2;
                    break;
                }
            }
        }

        return double.IsFinite(x) && double.IsFinite(y);
    }

    private (double Latitude, double Longitude)? PixelToGeodetic(double x, double y)
    {
        var (mx, my) = _transform.PixelToMap(x, y);
        if (_fromDem is null)
        {
            return (my, mx);
        }

        try
        {
            var (lon, lat) = _fromDem.Transform(mx, my);
            return (lat, lon);
        }
        catch (GdalException)
        {
            return null;
        }
    }

    /// <summary>
    /// Lower bounds of the ground metres per pixel along columns and rows over a span of pixels starting at (x0, y0):
    /// the shortest edge chord of the span (a chord is shorter than its arc), with a 2 % margin for non-uniformity.
    /// </summary>
    private (double X, double Y) GroundPixelSize(double x0, double y0, double span)
    {
        var c00 = PixelToGeodetic(x0, y0);
        var c10 = PixelToGeodetic(x0 + span, y0);
        var c01 = PixelToGeodetic(x0, y0 + span);
        var c11 = PixelToGeodetic(x0 + span, y0 + span);
        if (c00 is null || c10 is null || c01 is null || c11 is null)
        {
            return (0, 0);
        }

        var gx = Math.Min(Chord(c00.Value, c10.Value), Chord(c01.Value, c11.Value)) / span;
        var gy = Math.Min(Chord(c00.Value, c01.Value), Chord(c10.Value, c11.Value)) / span;
        return (0.98 * gx, 0.98 * gy);
    }

    private static double Chord((double Latitude, double Longitude) a, (double Latitude, double Longitude) b) =>
        (Wgs84.ToEcef(a.Latitude, a.Longitude, 0) - Wgs84.ToEcef(b.Latitude, b.Longitude, 0)).Length;

    private Tile GetTile(int tx, int ty)
    {
        if (_lastTile is { } last && last.Tx == tx && last.Ty == ty)
        {
            return last;
        }

        var key = ((long)tx << 32) ^ (uint)ty;
        if (_tiles.TryGetValue(key, out var tile))
        {
            _recency.Remove(tile.Node);
            _recency.AddFirst(tile.Node);
        }
        else
        {
            tile = LoadTile(tx, ty);
            _tiles[key] = tile;
            _recency.AddFirst(tile.Node);
            while (_tiles.Count > _options.MaxCachedTiles && _recency.Last is { } oldest)
            {
                _recency.RemoveLast();
                _tiles.Remove(((long)oldest.Value.Tx << 32) ^ (uint)oldest.Value.Ty);
            }
        }

        _lastTile = tile;
        return tile;
    }

    private Tile LoadTile(int tx, int ty)
    {
        var t = _tileSize;
        var tile = new Tile(tx, ty);
        tile.Node = new LinkedListNode<Tile>(tile);
        (tile.GroundPixelX, tile.GroundPixelY) = GroundPixelSize((double)tx * t, (double)ty * t, t);
        var regionX0 = (long)tx * t;
        var regionY0 = (long)ty * t;
        var overlaps = regionX0 < _width && regionX0 + t > 0 && regionY0 < _height && regionY0 + t > 0;
        tile.NeedsFallback = !overlaps || regionX0 < 0 || regionY0 < 0 || regionX0 + t > _width || regionY0 + t > _height;
        tile.MaxHeight = double.NegativeInfinity;
        if (!overlaps)
        {
            return tile;
        }

        // One pixel of overlap on each side so every bilinear cell of the region is inside one tile.
        var c0 = (int)Math.Max(0, regionX0 - 1);
        var r0 = (int)Math.Max(0, regionY0 - 1);
        var c1 = (int)Math.Min(_width - 1, regionX0 + t);
        var r1 = (int)Math.Min(_height - 1, regionY0 + t);
        var window = new RasterWindow(c0, r0, c1 - c0 + 1, r1 - r0 + 1);
        var heights = new float[window.PixelCount];
        tile.Col0 = c0;
        tile.Row0 = r0;
        tile.Columns = window.Width;
        tile.Heights = heights;
        try
        {
            _dataset.Read<float>(_options.Band, window, heights);
            TilesRead++;
            PixelsRead += window.PixelCount;
        }
        catch (GdalException e)
        {
            // A damaged block must not stop a footprint: its pixels become voids and the fallback covers them.
            Array.Fill(heights, float.NaN);
            if (_notes.Count < 50)
            {
                _notes.Add($"could not read DEM window {window}; treated as void: {e.Message}");
            }
        }

        var convert = _options.VerticalDatum == HeightReference.Msl && !_geoid.IsApproximate;
        var lats = convert ? new double[heights.Length] : null;
        var lons = convert ? new double[heights.Length] : null;
        if (convert)
        {
            for (var j = 0; j < window.Height; j++)
            {
                for (var i = 0; i < window.Width; i++)
                {
                    var (mx, my) = _transform.PixelToMap(c0 + i + 0.5, r0 + j + 0.5);
                    lons![j * window.Width + i] = mx;
                    lats![j * window.Width + i] = my;
                }
            }

            if (_fromDem is not null)
            {
                try
                {
                    _fromDem.Transform(lons, lats);
                }
                catch (GdalException e)
                {
                    convert = false;
                    _notes.Add($"could not convert DEM window {window} to WGS 84 for the geoid; its heights are left as MSL: {e.Message}");
                }
            }
        }

        var anyVoid = false;
        for (var k = 0; k < heights.Length; k++)
        {
            var h = heights[k];
            if (float.IsNaN(h) || (_noData is { } nd && h == (float)nd))
            {
                heights[k] = float.NaN;
                anyVoid = true;
                continue;
            }

            if (convert)
            {
                h += (float)_geoid.Undulation(lats![k], lons![k]);
                heights[k] = h;
            }

            tile.MaxHeight = Math.Max(tile.MaxHeight, h);
        }

        tile.NeedsFallback |= anyVoid;
        _highestLoaded = Math.Max(_highestLoaded, tile.MaxHeight);
        return tile;
    }

    public void Dispose()
    {
        _toDem?.Dispose();
        _fromDem?.Dispose();
        _dataset.Dispose();
    }

    public override string ToString() => Description;

    private sealed class View(DemTerrain dem, ITerrain? fallback) : ITerrain, IDemBacked
    {
        public DemTerrain Dem => dem;
        public ITerrain? Fallback => fallback;
        public string Description => fallback is null ? dem.DemDescription : $"{dem.DemDescription}; outside it and on voids: {fallback.Description}";
        public double Ceiling => dem.CeilingWith(fallback);
        public TerrainSample Sample(double latitude, double longitude) => dem.Sample(latitude, longitude, fallback);
        public TerrainBound Bound(double latitude, double longitude) => dem.Bound(latitude, longitude, fallback);
        public double StepMetres(double latitude, double longitude) => dem.StepMetres(latitude, longitude);
        public override string ToString() => Description;
    }

    private sealed class Tile(int tx, int ty)
    {
        public int Tx { get; } = tx;
        public int Ty { get; } = ty;
        public int Col0 { get; set; }
        public int Row0 { get; set; }
        public int Columns { get; set; }
        public float[]? Heights { get; set; }
        public double MaxHeight { get; set; }
        public bool NeedsFallback { get; set; }
        public double GroundPixelX { get; set; }
        public double GroundPixelY { get; set; }
        public LinkedListNode<Tile> Node { get; set; } = null!;
    }
}

/// <summary>A terrain that reads a DEM (the DEM itself or a view of it with another fallback).</summary>
public interface IDemBacked
{
    DemTerrain Dem { get; }

    ITerrain? Fallback { get; }
}
