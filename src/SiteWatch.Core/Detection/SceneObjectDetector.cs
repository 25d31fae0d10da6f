using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.ML.OnnxRuntime;
using NetTopologySuite.Geometries;
using NetTopologySuite.Geometries.Prepared;
using SiteWatch.Core.Geo;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Detection;

/// <summary>Settings of a whole-scene detection run.</summary>
public sealed record SceneDetectionOptions
{
    public DetectorOptions Detector { get; init; } = new();

    /// <summary>Overlap of neighbouring tiles as a fraction of the tile (0 .. 0.9).</summary>
    public double TileOverlap { get; init; } = 0.2;

    /// <summary>Only tiles meeting this polygon run, and only detections centred inside it are kept; in the raster's CRS.</summary>
    public Geometry? Aoi { get; init; }

    /// <summary>
    /// Two same-class detections of which one covers more than this share of the other (intersection over the
    /// smaller) are one object cut by a tile seam.
    /// </summary>
    public double SeamOverlap { get; init; } = 0.5;

    /// <summary>
    /// Two same-class detections of which one covers more than this share of the other (intersection over the
    /// smaller) are one object boxed twice, wherever they lie; null: only NMS's IoU decides. Seen from above, objects of
    /// one class stand beside each other, not on top of each other. NMS's IoU misses such duplicates on small objects:
    /// two boxes of an 8-pixel vehicle two pixels apart overlap by IoU 0.4 and both survive.
    /// </summary>
    public double? DuplicateOverlap { get; init; }

    /// <summary>
    /// Resample tiles to the model's ground sample distance when the model states one and the scene's differs by
    /// more than <see cref="GsdTolerance"/>. Off: tiles are read at the scene's own resolution.
    /// </summary>
    public bool ResampleToModelGsd { get; init; } = true;

    /// <summary>
    /// Relative GSD difference below which tiles are read as they are: YOLO models train with random scaling of
    /// +-50 % (Ultralytics' default), so they hold small differences, and resampling costs a blur for nothing.
    /// </summary>
    public double GsdTolerance { get; init; } = 0.2;

    public void Validate()
    {
        Detector.Validate();
        if (!(TileOverlap is >= 0 and <= 0.9))
        {
            throw new SiteWatchException($"tile overlap {TileOverlap} must lie between 0 and 0.9");
        }
        if (DuplicateOverlap is { } d && !(d is >= 0 and <= 1))
        {
            throw new SiteWatchException($"duplicate overlap {d} must lie between 0 and 1");
        }
    }
}

/// <summary>
/// SAHI-style sliding-window detection over a whole GDAL raster: tiles of the model's input size with overlap, read
/// window by window (memory holds one tile, never the scene), detections merged across seams, restricted to an AOI,
/// and georeferenced through the raster's geotransform into its CRS and WGS84.
/// </summary>
public static class SceneObjectDetector
{
    /// <summary>Pixels from an inner tile edge within which a detection counts as cut by that edge.</summary>
    internal const double EdgeMargin = 2;

    public static SceneDetections Detect(string rasterPath, DetectorModel model, SceneDetectionOptions options, IProgress<double>? progress = null, CancellationToken ct = default)
    {
        options.Validate();
        var total = Stopwatch.StartNew();
        if (!File.Exists(rasterPath))
        {
            throw new SiteWatchException($"{rasterPath}: file not found");
        }
        using var raster = RasterDataset.Open(rasterPath);
        var transform = raster.GeoTransform ?? throw new SiteWatchException($"{rasterPath}: has no geotransform; detections cannot be placed on the ground");
        using var crs = raster.OpenCrs() ?? throw new SiteWatchException($"{rasterPath}: has no coordinate reference system; detections cannot be placed on the ground");
        model.Prepare(options.Detector.Device);
        var bandNumbers = SceneBands.Identify(raster, model.Bands);

        var srid = crs.Epsg ?? 0;
        var factory = new GeometryFactory(new PrecisionModel(), srid);
        var aoi = options.Aoi is { } a ? PreparedGeometryFactory.Prepare(a) : null;
        var (tileW, tileH) = (model.InputWidth, model.InputHeight);
        var sceneGsd = GroundSampleDistance(raster, transform, crs);
        var scale = ResampleScale(model.GroundSampleDistance, sceneGsd, options);
        // A tile covers the ground of one model input: tileW x tileH model pixels are tileW x scale scene pixels.
        var (windowW, windowH) = (Math.Max(1, (int)Math.Round(tileW * scale)), Math.Max(1, (int)Math.Round(tileH * scale)));
        var tiles = Tiles(raster.Width, raster.Height, windowW, windowH, options.TileOverlap)
            .Where(t => aoi is null || aoi.Intersects(MapPolygon(factory, transform, t.Column, t.Row, t.Width, t.Height)))
            .Select(t => new DetectionTile(t, BufferSize(t.Width, windowW, tileW, scale), BufferSize(t.Height, windowH, tileH, scale)))
            .ToList();
        var allTiles = Tiles(raster.Width, raster.Height, windowW, windowH, options.TileOverlap).Count();

        using var pixels = ReadIntoMemory(raster, bandNumbers, tiles, scale, ct);
        var bands = Scaling(raster, bandNumbers, model.Scaling, pixels);
        var source = pixels?.Raster ?? raster;
        var origin = pixels?.Window ?? new RasterWindow(0, 0, raster.Width, raster.Height);

        var found = new List<SeamCandidate>();
        double inference = 0;
        var noData = bands.BandNumbers.Select(source.NoDataOf).ToArray();
        // Two stages overlap: a reader thread reads, scales and lays out tile i + 1 (GDAL window reads into reused
        // input tensors) while this thread runs the model on tile i and decodes it. The raster is only touched by the
        // reader until it has finished (GDAL datasets are single-threaded).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var inputs = new TileInput[Math.Min(3, Math.Max(1, tiles.Count))];
        var free = Channel.CreateBounded<TileInput>(inputs.Length);
        var ready = Channel.CreateBounded<(int Index, TileInput Input)>(inputs.Length);
        Task? reader = null;
        try
        {
            for (var k = 0; k < inputs.Length; k++)
            {
                inputs[k] = new TileInput(model, tileW, tileH);
                free.Writer.TryWrite(inputs[k]);
            }
            reader = Task.Run(() => ReadTiles(source, origin, bands, noData, tiles, tileW, tileH, free.Reader, ready.Writer, stop.Token), stop.Token);
            using var runOptions = new RunOptions();
            for (var i = 0; i < tiles.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                if (!ready.Reader.TryRead(out var item))
                {
                    item = ready.Reader.ReadAsync(stop.Token).AsTask().GetAwaiter().GetResult();
                }
                var tile = tiles[item.Index];
                var t = tile.Source;
                var tileDetections = model.DetectInput(item.Input.Value, runOptions, options.Detector, out var seconds);
                free.Writer.TryWrite(item.Input);
                inference += seconds;
                var (sx, sy) = (t.Width / (double)tile.BufferWidth, t.Height / (double)tile.BufferHeight);
                foreach (var d in tileDetections)
                {
                    // Detections centred on the padding beyond the raster's edge see no image.
                    if (d.CentreX >= tile.BufferWidth || d.CentreY >= tile.BufferHeight)
                    {
                        continue;
                    }
                    var cut = CutByTileEdge(d, tile, raster.Width, raster.Height);
                    var inScene = d with { CentreX = t.Column + d.CentreX * sx, CentreY = t.Row + d.CentreY * sy, Width = d.Width * sx, Height = d.Height * sy };
                    found.Add(new SeamCandidate(inScene, cut));
                }
                progress?.Report((i + 1) / (double)tiles.Count);
            }
            reader.GetAwaiter().GetResult();
        }
        catch (ChannelClosedException e)
        {
            ct.ThrowIfCancellationRequested();
            if (e.InnerException is not null)
            {
                // The reader failed: its own exception (a GDAL read error) is the one to report.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            }
            throw;
        }
        finally
        {
            stop.Cancel();
            try
            {
                reader?.Wait(CancellationToken.None);
            }
            catch (AggregateException)
            {
                // Already reported through the channel, or cancelled by the stop above.
            }
            foreach (var input in inputs)
            {
                input?.Dispose();
            }
        }
        ct.ThrowIfCancellationRequested();

        var merged = MergeAcrossSeams(found, options.Detector.IouThreshold, options.SeamOverlap, options.DuplicateOverlap);
        using var wgs84 = SpatialReference.Wgs84();
        using var toWgs84 = new CoordinateTransform(crs, wgs84);
        var metresPerUnit = crs.IsProjected ? crs.LinearUnitMetres : (double?)null;
        var detections = new List<GeoDetection>();
        foreach (var d in merged)
        {
            var (x, y) = transform.PixelToMap(d.CentreX, d.CentreY);
            var centre = factory.CreatePoint(new Coordinate(x, y));
            if (aoi is not null && !aoi.Covers(centre))
            {
                continue;
            }
            detections.Add(Georeference(d, factory, transform, toWgs84, metresPerUnit));
        }
        var counts = model.Classes(options.Detector).Names.ToDictionary(n => n, n => detections.Count(d => d.ClassName == n), StringComparer.Ordinal);
        var scanned = ScannedArea(raster, factory, transform, options.Aoi, toWgs84, metresPerUnit);
        return new SceneDetections(Path.GetFullPath(rasterPath), model.ModelPath, crs.ToString(), detections.OrderByDescending(d => d.Score).ToList(), counts,
            tiles.Count, allTiles - tiles.Count, scanned / 1e6, inference, total.Elapsed.TotalSeconds)
        {
            SceneGsd = sceneGsd,
            ModelGsd = model.GroundSampleDistance,
            ResampleFactor = scale,
        };
    }

    /// <summary>Most bytes of scene pixels <see cref="ReadIntoMemory"/> copies into memory.</summary>
    internal const long InMemoryLimitBytes = 256L << 20;

    /// <summary>The scene's pixels under the tiles, in memory: <see cref="Window"/> of the scene, the model's bands numbered as in the copy.</summary>
    private sealed record ScenePixels(RasterDataset Raster, RasterWindow Window, int[] BandNumbers) : IDisposable
    {
        public void Dispose() => Raster.Dispose();
    }

    /// <summary>
    /// A compressed GeoTIFF's pixels under the tiles, decompressed on every core into memory before the model runs,
    /// when the model's bands fit in <see cref="InMemoryLimitBytes"/>; else null. Without it each block is decompressed
    /// on one core, first for the percentile stretch and then, beside ONNX Runtime on the same two cores, for the tiles
    /// (again for every overlapping tile once the block cache has let the block go).
    /// </summary>
    private static ScenePixels? ReadIntoMemory(RasterDataset raster, int[] bandNumbers, List<DetectionTile> tiles, double scale, CancellationToken ct)
    {
        if (tiles.Count == 0 || raster.Driver != "GTiff" || raster.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") is null)
        {
            return null;
        }
        // A shrinking read of a file with overviews is served from them; the copy has none, and the tiles would differ.
        if (scale > 1 && raster.OverviewCount > 0)
        {
            return null;
        }
        var distinct = bandNumbers.Distinct().ToArray();
        var type = raster.DataTypeOf(distinct[0]);
        if (distinct.Any(b => raster.DataTypeOf(b) != type))
        {
            return null;
        }
        var (left, top) = (tiles.Min(t => t.Source.Column), tiles.Min(t => t.Source.Row));
        var (right, bottom) = (tiles.Max(t => t.Source.Column + t.Source.Width), tiles.Max(t => t.Source.Row + t.Source.Height));
        var window = new RasterWindow(left, top, right - left, bottom - top);
        if (window.PixelCount * distinct.Length * type.SizeInBytes() > InMemoryLimitBytes)
        {
            return null;
        }
        var copy = raster.ReadIntoMemory(distinct, window, ct);
        return new ScenePixels(copy, window, [.. bandNumbers.Select(b => Array.IndexOf(distinct, b) + 1)]);
    }

    /// <summary>
    /// The bands' scaling, numbered as the tiles are read: measured on the copy in memory when it is the whole scene
    /// and the file has no overviews (GDAL samples both the same way, and the copy is already decompressed), else on the
    /// file (its overviews make the sample cheap).
    /// </summary>
    private static SceneBands Scaling(RasterDataset raster, int[] bandNumbers, InputScaling scaling, ScenePixels? pixels)
    {
        if (pixels is null)
        {
            return SceneBands.Measure(raster, bandNumbers, scaling);
        }
        if (pixels.Window == new RasterWindow(0, 0, raster.Width, raster.Height) && raster.OverviewCount == 0)
        {
            return SceneBands.Measure(pixels.Raster, pixels.BandNumbers, scaling);
        }
        return SceneBands.Measure(raster, bandNumbers, scaling) with { BandNumbers = pixels.BandNumbers };
    }

    /// <summary>A tile: its window of scene pixels and the model-input pixels it is read into (top left of the input).</summary>
    internal readonly record struct DetectionTile(RasterWindow Source, int BufferWidth, int BufferHeight);

    /// <summary>Model pixels for a tile side of <paramref name="side"/> scene pixels (a full window fills the model's input).</summary>
    private static int BufferSize(int side, int window, int input, double scale) =>
        side == window ? input : Math.Clamp((int)Math.Round(side / scale), 1, input);

    /// <summary>
    /// Scene pixels per model pixel: the model's GSD over the scene's when the model states one, resampling is on and
    /// the two differ by more than the tolerance; else 1.
    /// </summary>
    public static double ResampleScale(double? modelGsd, double? sceneGsd, SceneDetectionOptions options)
    {
        if (!options.ResampleToModelGsd || modelGsd is not { } m || sceneGsd is not { } s || s <= 0)
        {
            return 1;
        }
        var scale = m / s;
        return Math.Abs(scale - 1) <= options.GsdTolerance ? 1 : scale;
    }

    /// <summary>
    /// Metres per pixel of a raster: the geometric mean of the pixel's two sides, in the CRS's linear unit for a
    /// projected CRS, or through the local radius of the WGS84 ellipsoid at the raster's centre for a geographic one.
    /// </summary>
    internal static double? GroundSampleDistance(RasterDataset raster, GeoTransform transform, SpatialReference crs)
    {
        var (w, h) = (Math.Sqrt(transform.PixelWidth * transform.PixelWidth + transform.ColumnRotation * transform.ColumnRotation),
            Math.Sqrt(transform.PixelHeight * transform.PixelHeight + transform.RowRotation * transform.RowRotation));
        if (crs.IsProjected)
        {
            return Math.Sqrt(w * h) * crs.LinearUnitMetres;
        }
        if (!crs.IsGeographic)
        {
            return null;
        }
        var (_, lat) = transform.PixelToMap(raster.Width / 2.0, raster.Height / 2.0);
        var phi = lat * Math.PI / 180;
        const double a = 6378137.0, e2 = 0.00669437999014;
        var sin2 = Math.Sin(phi) * Math.Sin(phi);
        var n = a / Math.Sqrt(1 - e2 * sin2); // prime vertical radius
        var m = a * (1 - e2) / Math.Pow(1 - e2 * sin2, 1.5); // meridian radius
        var metresPerDegreeX = Math.PI / 180 * n * Math.Cos(phi);
        var metresPerDegreeY = Math.PI / 180 * m;
        return Math.Sqrt(w * metresPerDegreeX * h * metresPerDegreeY);
    }

    /// <summary>A reusable model input: the pixel buffer and the tensor over it.</summary>
    private sealed class TileInput : IDisposable
    {
        public TileInput(DetectorModel model, int width, int height)
        {
            Buffer = new float[3 * width * height];
            Value = model.CreateInput(Buffer);
        }

        public float[] Buffer { get; }
        public OrtValue Value { get; }
        public void Dispose() => Value.Dispose();
    }

    /// <summary>
    /// The reader stage: each tile's three bands read, scaled to 0..1 and laid out as the model's input (a tile
    /// smaller than the input, at a raster smaller than a tile, sits top left on the letterbox grey).
    /// </summary>
    private static void ReadTiles(RasterDataset raster, RasterWindow origin, SceneBands bands, double?[] noData, List<DetectionTile> tiles, int tileW, int tileH,
        ChannelReader<TileInput> free, ChannelWriter<(int, TileInput)> ready, CancellationToken stop)
    {
        Exception? failure = null;
        try
        {
            var plane = tileW * tileH;
            var scratch = Array.Empty<float>();
            for (var i = 0; i < tiles.Count; i++)
            {
                if (!free.TryRead(out var input))
                {
                    input = free.ReadAsync(stop).AsTask().GetAwaiter().GetResult();
                }
                var (t, bw, bh) = tiles[i];
                t = t with { Column = t.Column - origin.Column, Row = t.Row - origin.Row };
                var resampled = bw != t.Width || bh != t.Height;
                var tile = input.Buffer.AsSpan();
                var full = bw == tileW && bh == tileH;
                if (!full)
                {
                    tile.Fill(Letterbox.PadValue);
                    if (scratch.Length == 0)
                    {
                        scratch = new float[plane];
                    }
                }
                for (var c = 0; c < 3; c++)
                {
                    // A full tile is read straight into its plane; a smaller one through the scratch plane.
                    var window = full ? tile.Slice(c * plane, plane) : scratch.AsSpan(0, bw * bh);
                    if (resampled)
                    {
                        // Shrinking averages (a small object keeps its contrast); enlarging interpolates.
                        raster.ReadResampled(bands.BandNumbers[c], t, bw, bh, window, bw < t.Width ? Resampling.Average : Resampling.Bilinear);
                    }
                    else
                    {
                        raster.Read(bands.BandNumbers[c], t, window);
                    }
                    bands.Scale(c, window, noData[c]);
                    if (!full)
                    {
                        for (var r = 0; r < bh; r++)
                        {
                            window.Slice(r * bw, bw).CopyTo(tile.Slice(c * plane + r * tileW, bw));
                        }
                    }
                }
                if (!ready.TryWrite((i, input)))
                {
                    ready.WriteAsync((i, input), stop).AsTask().GetAwaiter().GetResult();
                }
            }
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            ready.TryComplete(failure is OperationCanceledException ? null : failure);
        }
    }

    /// <summary>A WGS84 area of interest (as <see cref="AoiReader"/> reads it) in the CRS of a raster, for <see cref="SceneDetectionOptions.Aoi"/>.</summary>
    public static Geometry AoiInRasterCrs(string rasterPath, Geometry wgs84Aoi)
    {
        using var raster = RasterDataset.Open(rasterPath);
        using var crs = raster.OpenCrs() ?? throw new SiteWatchException($"{rasterPath}: has no coordinate reference system; the AOI cannot be placed on it");
        using var wgs84 = SpatialReference.Wgs84();
        using var transform = new CoordinateTransform(wgs84, crs);
        return GeometryProjection.Transform(wgs84Aoi, transform, crs.Epsg ?? 0);
    }

    /// <summary>
    /// Tile windows covering a width x height raster: steps of (1 - overlap) x tile, the last tile of each row and
    /// column moved back to end at the raster's edge; a raster smaller than a tile is one (padded) tile.
    /// </summary>
    public static IEnumerable<RasterWindow> Tiles(int width, int height, int tileWidth, int tileHeight, double overlap)
    {
        var xs = Starts(width, tileWidth, overlap);
        var ys = Starts(height, tileHeight, overlap);
        foreach (var y in ys)
        {
            foreach (var x in xs)
            {
                yield return new RasterWindow(x, y, Math.Min(tileWidth, width - x), Math.Min(tileHeight, height - y));
            }
        }
    }

    private static List<int> Starts(int size, int tile, double overlap)
    {
        if (size <= tile)
        {
            return [0];
        }
        var step = Math.Max(1, (int)Math.Round(tile * (1 - overlap)));
        var starts = new List<int>();
        for (var s = 0; s + tile < size; s += step)
        {
            starts.Add(s);
        }
        starts.Add(size - tile);
        return starts;
    }

    /// <summary>A detection in raster pixels, and whether a tile edge inside the raster cut it.</summary>
    internal readonly record struct SeamCandidate(PixelDetection Detection, bool CutByEdge);

    /// <summary>Whether a detection in a tile's model pixels touches an edge of the tile that lies inside the raster.</summary>
    internal static bool CutByTileEdge(PixelDetection d, DetectionTile tile, int rasterWidth, int rasterHeight)
    {
        var (minX, minY, maxX, maxY) = d.Extent();
        var t = tile.Source;
        return (t.Column > 0 && minX <= EdgeMargin)
            || (t.Row > 0 && minY <= EdgeMargin)
            || (t.Column + t.Width < rasterWidth && maxX >= tile.BufferWidth - EdgeMargin)
            || (t.Row + t.Height < rasterHeight && maxY >= tile.BufferHeight - EdgeMargin);
    }

    /// <summary>
    /// Merges the detections of overlapping tiles in one greedy pass per class, uncut detections first, best score
    /// first: a later detection overlapping a kept one by more than <paramref name="iouThreshold"/> (IoU) is a
    /// duplicate of the same object seen by two tiles; a later detection cut by a tile edge that mostly lies inside a
    /// kept one (intersection over the smaller above <paramref name="seamOverlap"/>) is the same object seen partly.
    /// An uncut detection absorbs it; two cut ones are joined (their enclosing box for axis-aligned detections, the
    /// larger for rotated ones). With <paramref name="duplicateOverlap"/>, any later detection lying inside a kept one
    /// by more than that share of the smaller is a duplicate too.
    /// </summary>
    internal static List<PixelDetection> MergeAcrossSeams(IReadOnlyList<SeamCandidate> candidates, double iouThreshold, double seamOverlap, double? duplicateOverlap = null)
    {
        var merged = new List<PixelDetection>();
        foreach (var group in candidates.GroupBy(c => c.Detection.ClassId))
        {
            var ordered = group.OrderBy(c => c.CutByEdge).ThenByDescending(c => c.Detection.Score).ToList();
            var kept = ordered.Select(c => c.Detection).ToArray();
            var gone = new bool[ordered.Count];
            for (var i = 0; i < ordered.Count; i++)
            {
                if (gone[i])
                {
                    continue;
                }
                for (var j = i + 1; j < ordered.Count; j++)
                {
                    if (gone[j])
                    {
                        continue;
                    }
                    var other = ordered[j].Detection;
                    if (ordered[j].CutByEdge && BoxOverlap.IoSmaller(kept[i], other) > seamOverlap)
                    {
                        if (ordered[i].CutByEdge)
                        {
                            kept[i] = Join(kept[i], other);
                        }
                        gone[j] = true;
                    }
                    else if (BoxOverlap.IoU(kept[i], other) > iouThreshold
                        || (duplicateOverlap is { } d && BoxOverlap.IoSmaller(kept[i], other) > d))
                    {
                        gone[j] = true;
                    }
                }
                merged.Add(kept[i]);
            }
        }
        return [.. merged.OrderByDescending(d => d.Score)];
    }

    private static PixelDetection Join(PixelDetection a, PixelDetection b)
    {
        var score = Math.Max(a.Score, b.Score);
        if (a.AngleRadians != 0 || b.AngleRadians != 0)
        {
            return (a.Area >= b.Area ? a : b) with { Score = score };
        }
        var (ea, eb) = (a.Extent(), b.Extent());
        double x0 = Math.Min(ea.MinX, eb.MinX), y0 = Math.Min(ea.MinY, eb.MinY), x1 = Math.Max(ea.MaxX, eb.MaxX), y1 = Math.Max(ea.MaxY, eb.MaxY);
        return a with { Score = score, CentreX = (x0 + x1) / 2, CentreY = (y0 + y1) / 2, Width = x1 - x0, Height = y1 - y0 };
    }

    private static GeoDetection Georeference(PixelDetection d, GeometryFactory factory, GeoTransform transform, CoordinateTransform toWgs84, double? metresPerUnit)
    {
        var corners = d.Corners();
        var ring = new Coordinate[5];
        for (var k = 0; k < 4; k++)
        {
            var (x, y) = transform.PixelToMap(corners[k].X, corners[k].Y);
            ring[k] = new Coordinate(x, y);
        }
        ring[4] = ring[0].Copy();
        var map = factory.CreatePolygon(ring);
        if (!map.Shell.IsCCW)
        {
            map = (Polygon)map.Reverse(); // RFC 7946: exterior rings counter-clockwise
        }
        var wgs84 = (Polygon)GeometryProjection.Transform(map, toWgs84, 4326);
        var area = metresPerUnit is { } m ? map.Area * m * m : Measurements.AreaSquareMetres(wgs84);
        // The long axis: the width axis, or the height axis of an upright box taller than wide.
        var angle = d.AngleRadians + (d.Height > d.Width ? Math.PI / 2 : 0);
        var (dx, dy) = (Math.Cos(angle), Math.Sin(angle));
        var mx = transform.PixelWidth * dx + transform.RowRotation * dy;
        var my = transform.ColumnRotation * dx + transform.PixelHeight * dy;
        var azimuth = Math.Atan2(mx, my) * 180 / Math.PI; // clockwise from grid north
        azimuth = ((azimuth % 180) + 180) % 180;
        var (cx, cy) = transform.PixelToMap(d.CentreX, d.CentreY);
        return new GeoDetection(d.ClassName, d.Score, map, wgs84, area, azimuth, cx, cy, d);
    }

    private static Polygon MapPolygon(GeometryFactory factory, GeoTransform transform, double column, double row, double width, double height)
    {
        var ring = new[] { (column, row), (column + width, row), (column + width, row + height), (column, row + height), (column, row) }
            .Select(p => transform.PixelToMap(p.Item1, p.Item2))
            .Select(p => new Coordinate(p.X, p.Y))
            .ToArray();
        return factory.CreatePolygon(ring);
    }

    private static double ScannedArea(RasterDataset raster, GeometryFactory factory, GeoTransform transform, Geometry? aoi, CoordinateTransform toWgs84, double? metresPerUnit)
    {
        Geometry footprint = MapPolygon(factory, transform, 0, 0, raster.Width, raster.Height);
        if (aoi is not null)
        {
            footprint = footprint.Intersection(aoi);
        }
        return metresPerUnit is { } m ? footprint.Area * m * m : Measurements.AreaSquareMetres(GeometryProjection.Transform(footprint, toWgs84, 4326));
    }
}
