using SiteWatch.Gdal;

namespace SiteWatch.Core.Change;

/// <summary>
/// Two co-gridded rasters (same size and geotransform), read window by window as float band planes together with a
/// validity mask, so every change method streams over scenes of any size in bounded memory.
/// </summary>
public sealed class RasterPair : IDisposable
{
    private readonly bool _owns;
    private readonly int[] _beforeBands;
    private readonly int[] _afterBands;

    /// <param name="beforeBands">1-based bands of BEFORE to use, in order (default: all).</param>
    /// <param name="afterBands">The matching bands of AFTER (default: the same numbers).</param>
    public RasterPair(RasterDataset before, RasterDataset after, IReadOnlyList<int>? beforeBands = null, IReadOnlyList<int>? afterBands = null, bool ownsRasters = false)
    {
        Before = before;
        After = after;
        _owns = ownsRasters;
        if (before.Width != after.Width || before.Height != after.Height)
        {
            throw new SiteWatchException($"{after.Path}: is {after.Width} x {after.Height} pixels but {before.Path} is {before.Width} x {before.Height}; the two scenes must share one grid (ingest both into one site, or co-register first)");
        }
        RequireSameGeoreference(before, after, "the two scenes must share one grid (ingest both into one site, or warp one onto the other's grid)");
        if (beforeBands is null && afterBands is null && before.BandCount != after.BandCount)
        {
            throw new SiteWatchException($"{after.Path}: has {after.BandCount} bands but {before.Path} has {before.BandCount}; give a band mapping for each scene (e.g. 1,2,3,4)");
        }
        _beforeBands = (beforeBands ?? Enumerable.Range(1, before.BandCount).ToArray()).ToArray();
        _afterBands = (afterBands ?? _beforeBands).ToArray();
        if (_beforeBands.Length != _afterBands.Length || _beforeBands.Length == 0)
        {
            throw new SiteWatchException("the band mapping must name as many bands of each scene, at least one");
        }
        foreach (var (raster, bands) in new[] { (before, _beforeBands), (after, _afterBands) })
        {
            foreach (var b in bands)
            {
                if (b < 1 || b > raster.BandCount)
                {
                    throw new SiteWatchException($"{raster.Path}: has no band {b} (it has {raster.BandCount})");
                }
            }
        }
        BeforeNoData = before.NoData;
        AfterNoData = after.NoData;
    }

    public static RasterPair Open(string beforePath, string afterPath, IReadOnlyList<int>? beforeBands = null, IReadOnlyList<int>? afterBands = null)
    {
        RasterDataset? before = null;
        RasterDataset? after = null;
        try
        {
            before = RasterDataset.OpenForStreaming(beforePath);
            after = RasterDataset.OpenForStreaming(afterPath);
            return new RasterPair(before, after, beforeBands, afterBands, ownsRasters: true);
        }
        catch (GdalException e)
        {
            before?.Dispose();
            after?.Dispose();
            throw new SiteWatchException(e.Message, e);
        }
        catch
        {
            before?.Dispose();
            after?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Where both rasters are georeferenced, they must be on one grid: the same CRS (GDAL's IsSame, so equivalent
    /// definitions written differently agree) and the same geotransform. Rasters without georeference (a BMP truth mask)
    /// are compared pixel for pixel, as given.
    /// </summary>
    /// <param name="advice">What the user should do, ending the message.</param>
    public static void RequireSameGeoreference(RasterDataset first, RasterDataset second, string advice)
    {
        RequireSameCrs(first, second, advice);
        if (first.GeoTransform is { } ga && second.GeoTransform is { } gb && !SameGrid(ga, gb))
        {
            throw new SiteWatchException($"{second.Path}: its geotransform differs from {first.Path}'s; {advice}");
        }
    }

    /// <summary>Where both rasters carry a CRS, it must be the same one (GDAL's IsSame: equivalent definitions agree).</summary>
    public static void RequireSameCrs(RasterDataset first, RasterDataset second, string advice)
    {
        if (first.CrsWkt is null || second.CrsWkt is null)
        {
            return;
        }
        using var a = first.OpenCrs()!;
        using var b = second.OpenCrs()!;
        if (!a.IsSame(b))
        {
            throw new SiteWatchException($"{second.Path}: its CRS {b} differs from {first.Path}'s {a}; {advice}");
        }
    }

    private static bool SameGrid(GeoTransform a, GeoTransform b)
    {
        var tolerance = Math.Abs(a.PixelWidth) * 1e-3;
        return Math.Abs(a.OriginX - b.OriginX) < tolerance && Math.Abs(a.OriginY - b.OriginY) < tolerance
            && Math.Abs(a.PixelWidth - b.PixelWidth) < tolerance * 1e-2 && Math.Abs(a.PixelHeight - b.PixelHeight) < tolerance * 1e-2;
    }

    public RasterDataset Before { get; }
    public RasterDataset After { get; }
    public int Width => Before.Width;
    public int Height => Before.Height;
    public int BandCount => _beforeBands.Length;
    public double? BeforeNoData { get; }
    public double? AfterNoData { get; }

    /// <summary>The band number (1-based) of BEFORE at a position of the pair's band order.</summary>
    public int BeforeBand(int position) => _beforeBands[position];

    /// <summary>The band number (1-based) of AFTER at a position of the pair's band order.</summary>
    public int AfterBand(int position) => _afterBands[position];

    /// <summary>Optional extra mask (e.g. clouds): a byte raster on the same grid, non-zero = exclude.</summary>
    public RasterDataset? ExclusionMask { get; init; }

    /// <summary>Windows of at most blockSize x blockSize covering the grid, row by row.</summary>
    public IEnumerable<RasterWindow> Windows(int blockSize = 512) => RasterWindow.Tile(Width, Height, blockSize, blockSize);

    /// <summary>
    /// Reads one window: band-sequential planes (plane b at [b * n, (b + 1) * n), n = window pixels) for both dates,
    /// and valid[i] = 1 where every used band of both dates holds data (not nodata, not NaN, not excluded).
    /// Buffers must hold at least BandCount * n floats and n bytes.
    /// </summary>
    public void Read(RasterWindow window, Span<float> before, Span<float> after, Span<byte> valid)
    {
        var n = (int)window.PixelCount;
        valid[..n].Fill(1);
        Before.ReadMasked(_beforeBands, window, before, valid);
        After.ReadMasked(_afterBands, window, after, valid);
        ExclusionMask?.ExcludeMasked(1, window, valid[..n]);
    }

    /// <summary>A raster profile on this pair's grid (CRS and geotransform of BEFORE).</summary>
    public RasterProfile Profile(int bands, RasterDataType type, double? noData) => new(Width, Height, bands, type)
    {
        GeoTransform = Before.GeoTransform,
        Crs = Before.CrsWkt,
        NoData = noData,
    };

    public void Dispose()
    {
        if (_owns)
        {
            Before.Dispose();
            After.Dispose();
        }
    }
}
