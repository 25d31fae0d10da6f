using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Gdal;
using SkiaSharp;

namespace SiteWatch.Server.Tiles;

/// <summary>An XYZ tile address in Web Mercator (EPSG:3857).</summary>
public readonly record struct TileAddress(int Z, int X, int Y)
{
    public const int MaxZoom = 24;
    public const int Size = 256;
    private const double Half = 20037508.342789244;

    /// <summary>Parses z/x/y from the route, naming the field that is out of range.</summary>
    public static TileAddress Parse(string z, string x, string y)
    {
        var zoom = Part(z, "z", MaxZoom);
        var max = (1 << zoom) - 1;
        return new TileAddress(zoom, Part(x, "x", max), Part(y, "y", max));
    }

    private static int Part(string text, string name, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v <= max
            ? v
            : throw HttpProblem.BadRequest($"tile coordinate '{name}': '{Paging.Truncate(text)}' is not a whole number from 0 to {max}");

    public MapExtent Bounds
    {
        get
        {
            var span = 2 * Half / (1 << Z);
            return new MapExtent(-Half + X * span, Half - (Y + 1) * span, -Half + (X + 1) * span, Half - Y * span);
        }
    }
}

/// <summary>
/// Renders map tiles from a scene's stored COG on the fly: a warped virtual raster onto the tile's 256 x 256 Web
/// Mercator grid (GDAL reads only the window and overview level it needs), chosen bands stretched between the
/// scene's 2nd and 98th percentiles, nodata transparent. Tiles are cached in memory up to a byte bound, and at most
/// a fixed number render at once.
/// </summary>
public sealed class TileRenderer : IDisposable
{
    private readonly MemoryCache _cache;
    private readonly SemaphoreSlim _gdal;
    private readonly ConcurrentDictionary<string, Lazy<SceneRendering>> _scenes = new();
    private readonly ConcurrentDictionary<string, Lazy<ChangeRendering>> _changes = new();

    public TileRenderer(ServerSettings settings)
    {
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = Math.Max(1, settings.TileCacheMegabytes) * 1024L * 1024L });
        _gdal = new SemaphoreSlim(settings.MaxConcurrentTiles > 0 ? settings.MaxConcurrentTiles : Environment.ProcessorCount);
    }

    /// <summary>The tile format from the route's extension: png or webp, else 400 naming it.</summary>
    public static string Format(string format) => format is "png" or "webp"
        ? format
        : throw HttpProblem.BadRequest($"tile format '{Paging.Truncate(format)}': use png or webp");

    public static string ContentType(string format) => format == "webp" ? "image/webp" : "image/png";

    /// <summary>Band numbers (1-based) from ?bands=3,2,1, else true colour from the scene's band names.</summary>
    public static int[] Bands(Scene scene, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            var spectral = SpectralBands.Identify(scene.Bands.Select(b => (string?)b.Name).ToList(), scene.Bands.Select(b => b.WavelengthMicrometres).ToList());
            var (r, g, b) = spectral.TrueColour;
            return [r + 1, g + 1, b + 1];
        }
        var parts = text.Split(',');
        var bands = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out bands[i]) || bands[i] < 1 || bands[i] > scene.Bands.Count)
            {
                throw HttpProblem.BadRequest($"query parameter 'bands': '{Paging.Truncate(text)}' must be 1 or 3 band numbers from 1 to {scene.Bands.Count}, comma-separated");
            }
        }
        return bands.Length switch
        {
            1 => [bands[0], bands[0], bands[0]],
            3 => bands,
            _ => throw HttpProblem.BadRequest($"query parameter 'bands': '{Paging.Truncate(text)}' must be 1 or 3 band numbers from 1 to {scene.Bands.Count}, comma-separated"),
        };
    }

    /// <summary>A strong ETag for the tile: the stored file's identity, the address, bands and format (no rendering needed).</summary>
    public static string ETag(Scene scene, TileAddress tile, int[] bands, string format) => StrongTag(Key(scene, tile, bands, format));

    private static string StrongTag(string key) => "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..32] + "\"";

    private static string Key(Scene scene, TileAddress tile, int[] bands, string format) =>
        $"{scene.Id}/{scene.FileSha256 ?? scene.IngestedUtc.Ticks.ToString(CultureInfo.InvariantCulture)}/{tile.Z}/{tile.X}/{tile.Y}/{string.Join(',', bands)}/{format}";

    public Task<byte[]> RenderAsync(Scene scene, string file, TileAddress tile, int[] bands, string format, CancellationToken cancel) =>
        CachedAsync(Key(scene, tile, bands, format), () =>
        {
            var rendering = _scenes.GetOrAdd($"{scene.Id}/{scene.FileSha256}", _ => new Lazy<SceneRendering>(() => SceneRendering.Read(file), LazyThreadSafetyMode.PublicationOnly)).Value;
            return Render(rendering, file, tile, bands, format);
        }, cancel);

    /// <summary>A tile from the memory cache, else rendered with at most the configured number of GDAL renders at once.</summary>
    private async Task<byte[]> CachedAsync(string key, Func<byte[]> render, CancellationToken cancel)
    {
        if (_cache.TryGetValue(key, out byte[]? cached) && cached is not null)
        {
            return cached;
        }
        await _gdal.WaitAsync(cancel);
        byte[] bytes;
        try
        {
            bytes = render();
        }
        finally
        {
            _gdal.Release();
        }
        _cache.Set(key, bytes, new MemoryCacheEntryOptions { Size = bytes.Length + key.Length * 2 + 64 });
        return bytes;
    }

    private static byte[] Render(SceneRendering scene, string file, TileAddress tile, int[] bands, string format)
    {
        const int n = TileAddress.Size;
        var rgba = new byte[n * n * 4];
        if (!tile.Bounds.Intersect(scene.MercatorBounds).IsEmpty)
        {
            var nodata = scene.NoData ?? 0;
            var planes = Warped(file, tile, bands, new WarpTarget { Resampling = Resampling.Bilinear, NoData = nodata });
            var valid = new bool[n * n];
            for (var p = 0; p < n * n; p++)
            {
                // A pixel is transparent where every used band holds nodata (outside the scene or its valid area).
                valid[p] = planes[0][p] != nodata || planes[1][p] != nodata || planes[2][p] != nodata;
            }
            for (var i = 0; i < 3; i++)
            {
                var (low, high) = scene.Stretch[bands[i] - 1];
                var scale = high > low ? 255.0 / (high - low) : 0;
                var plane = planes[i];
                for (var p = 0; p < n * n; p++)
                {
                    if (valid[p])
                    {
                        rgba[p * 4 + i] = (byte)Math.Clamp((plane[p] - low) * scale, 0, 255);
                    }
                }
            }
            for (var p = 0; p < n * n; p++)
            {
                rgba[p * 4 + 3] = valid[p] ? (byte)255 : (byte)0;
            }
        }
        return Encode(rgba, format);
    }

    /// <summary>
    /// The given bands of <paramref name="file"/> warped onto the tile's 256 x 256 Web Mercator grid through a virtual
    /// raster: GDAL reads only the window and overview level the tile needs.
    /// </summary>
    private static float[][] Warped(string file, TileAddress tile, IReadOnlyList<int> bands, WarpTarget style)
    {
        const int n = TileAddress.Size;
        using var source = RasterDataset.Open(file);
        using var warped = Warper.Warp(source, "", style with
        {
            Crs = "EPSG:3857",
            Extent = tile.Bounds,
            Size = (n, n),
            WorkingMemoryMegabytes = 16,
        }, "VRT");
        return bands.Select(b => warped.Read<float>(b, new RasterWindow(0, 0, n, n))).ToArray();
    }

    /// <summary>A change run's magnitude or mask as a coloured, see-through tile (see <see cref="ChangeTileStyle"/>).</summary>
    public Task<byte[]> RenderChangeAsync(ChangeRunRecord run, string file, ChangeLayer layer, TileAddress tile, string format, CancellationToken cancel) =>
        CachedAsync(ChangeKey(run, layer, tile, format), () =>
        {
            const int n = TileAddress.Size;
            var rendering = ChangeStyleOf(run, file, layer);
            var rgba = new byte[n * n * 4];
            if (!tile.Bounds.Intersect(rendering.MercatorBounds).IsEmpty)
            {
                if (layer == ChangeLayer.Mask)
                {
                    // The mask's own nodata (255, not compared) is drawn, so it is read as a value; only the area
                    // outside the raster gets the tile's nodata.
                    var plane = Warped(file, tile, [1], new WarpTarget { Resampling = Resampling.Nearest, NoData = ChangeTileStyle.MaskOutside, IgnoreSourceNoData = true })[0];
                    ChangeTileStyle.PaintMask(plane, rgba);
                }
                else
                {
                    var plane = Warped(file, tile, [1], new WarpTarget { Resampling = Resampling.Bilinear, NoData = double.NaN })[0];
                    ChangeTileStyle.PaintMagnitude(plane, rendering.Threshold, rendering.Top, rgba);
                }
            }
            return Encode(rgba, format);
        }, cancel);

    /// <summary>The legend of a change layer: its colours and the values they stand for in this run.</summary>
    public object ChangeLegend(ChangeRunRecord run, string file, ChangeLayer layer)
    {
        var rendering = ChangeStyleOf(run, file, layer);
        return ChangeTileStyle.Legend(layer, rendering.Threshold, rendering.Top, run.Method);
    }

    public static string ChangeETag(ChangeRunRecord run, ChangeLayer layer, TileAddress tile, string format) => StrongTag(ChangeKey(run, layer, tile, format));

    private static string ChangeKey(ChangeRunRecord run, ChangeLayer layer, TileAddress tile, string format) =>
        $"change/{run.Id}/{run.CreatedUtc.Ticks}/{ChangeTileStyle.Name(layer)}/{tile.Z}/{tile.X}/{tile.Y}/{format}";

    private ChangeRendering ChangeStyleOf(ChangeRunRecord run, string file, ChangeLayer layer) =>
        _changes.GetOrAdd($"{run.Id}/{run.CreatedUtc.Ticks}/{ChangeTileStyle.Name(layer)}",
            _ => new Lazy<ChangeRendering>(() => ChangeRendering.Read(file, layer, ThresholdOf(run)), LazyThreadSafetyMode.PublicationOnly)).Value;

    /// <summary>The threshold the run applied, from its summary; NaN when the summary does not hold one.</summary>
    private static double ThresholdOf(ChangeRunRecord run)
    {
        using var summary = System.Text.Json.JsonDocument.Parse(run.Summary);
        return summary.RootElement.TryGetProperty("threshold", out var t) && t.ValueKind == System.Text.Json.JsonValueKind.Number ? t.GetDouble() : double.NaN;
    }

    private static byte[] Encode(byte[] rgba, string format)
    {
        const int n = TileAddress.Size;
        var info = new SKImageInfo(n, n, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var image = SKImage.FromPixelCopy(info, rgba, n * 4) ?? throw new InvalidOperationException("SkiaSharp could not wrap the tile");
        using var data = image.Encode(format == "webp" ? SKEncodedImageFormat.Webp : SKEncodedImageFormat.Png, format == "webp" ? 90 : 100)
            ?? throw new HttpProblem(StatusCodes.Status415UnsupportedMediaType, $"this build cannot encode {format} tiles");
        return data.ToArray();
    }

    public void Dispose()
    {
        _cache.Dispose();
        _gdal.Dispose();
    }

    /// <summary>What rendering a scene needs once: its Web Mercator bounds, nodata and per-band stretch.</summary>
    private sealed record SceneRendering(MapExtent MercatorBounds, double? NoData, (double Low, double High)[] Stretch)
    {
        /// <summary>Reads bounds and the 2-98 % stretch of every band from an overview-sized read (at most 1024 px a side).</summary>
        public static SceneRendering Read(string file)
        {
            using var raster = RasterDataset.Open(file);
            var nodata = raster.NoData;
            var scale = Math.Max(1.0, Math.Max(raster.Width, raster.Height) / 1024.0);
            int w = Math.Max(1, (int)(raster.Width / scale)), h = Math.Max(1, (int)(raster.Height / scale));
            var buffer = new float[w * h];
            var stretch = new (double, double)[raster.BandCount];
            for (var b = 1; b <= raster.BandCount; b++)
            {
                raster.ReadDecimated<float>(b, new RasterWindow(0, 0, raster.Width, raster.Height), w, h, buffer);
                var values = buffer.Where(v => float.IsFinite(v) && (nodata is not { } nd || v != nd)).ToArray();
                Array.Sort(values);
                stretch[b - 1] = values.Length == 0 ? (0, 1) : (values[(int)(0.02 * (values.Length - 1))], values[(int)(0.98 * (values.Length - 1))]);
            }
            return new SceneRendering(MercatorOf(raster), nodata, stretch);
        }
    }

    /// <summary>A raster's bounds in Web Mercator (edges sampled, so a rotated or curved outline is covered).</summary>
    internal static MapExtent MercatorOf(RasterDataset raster)
    {
        using var crs = raster.OpenCrs() ?? throw new GdalException($"{raster.Path}: has no coordinate reference system");
        using var mercator = SpatialReference.FromEpsg(3857);
        using var transform = new CoordinateTransform(crs, mercator);
        var b = raster.Bounds;
        double minX = double.MaxValue, minY = double.MaxValue, maxX = double.MinValue, maxY = double.MinValue;
        for (var i = 0; i <= 8; i++)
        {
            foreach (var (x, y) in new[] { (b.MinX + b.Width * i / 8, b.MinY), (b.MinX + b.Width * i / 8, b.MaxY), (b.MinX, b.MinY + b.Height * i / 8), (b.MaxX, b.MinY + b.Height * i / 8) })
            {
                var (mx, my) = transform.Transform(x, y);
                minX = Math.Min(minX, mx); maxX = Math.Max(maxX, mx);
                minY = Math.Min(minY, my); maxY = Math.Max(maxY, my);
            }
        }
        return new MapExtent(minX, minY, maxX, maxY);
    }

    /// <summary>What drawing a change layer needs once: its Web Mercator bounds, the run's threshold and the ramp's top.</summary>
    private sealed record ChangeRendering(MapExtent MercatorBounds, double Threshold, double Top)
    {
        /// <summary>The ramp tops out at the 99th percentile of the magnitude (an overview-sized read), never below the threshold.</summary>
        public static ChangeRendering Read(string file, ChangeLayer layer, double threshold)
        {
            using var raster = RasterDataset.Open(file);
            if (layer == ChangeLayer.Mask)
            {
                return new ChangeRendering(MercatorOf(raster), threshold, 1);
            }
            var scale = Math.Max(1.0, Math.Max(raster.Width, raster.Height) / 1024.0);
            int w = Math.Max(1, (int)(raster.Width / scale)), h = Math.Max(1, (int)(raster.Height / scale));
            var buffer = new float[w * h];
            raster.ReadDecimated<float>(1, new RasterWindow(0, 0, raster.Width, raster.Height), w, h, buffer);
            var values = buffer.Where(float.IsFinite).ToArray();
            Array.Sort(values);
            double p99 = values.Length == 0 ? 0 : values[(int)(0.99 * (values.Length - 1))];
            // Runs record their threshold in the summary; without one, only the top percent is drawn strongly.
            var top = double.IsFinite(threshold) ? Math.Max(p99, threshold * 1.25) : p99;
            top = top > 0 ? top : 1;
            threshold = double.IsFinite(threshold) ? threshold : top;
            return new ChangeRendering(MercatorOf(raster), threshold, top);
        }
    }
}
