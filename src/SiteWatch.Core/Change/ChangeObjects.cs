using NetTopologySuite.Algorithm.Locate;
using NetTopologySuite.Geometries;
using NetTopologySuite.IO;
using SiteWatch.Core.Geo;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Change;

/// <summary>What happened at a change object, judged from the spectral evidence of both dates.</summary>
public static class ChangeKind
{
    /// <summary>Something now stands out from its surroundings that did not before (new roof, vehicle, pile ...).</summary>
    public const string Appeared = "appeared";
    /// <summary>Something that stood out from its surroundings is gone (crane taken down, pile used up ...).</summary>
    public const string Removed = "removed";
    /// <summary>The place changed but stands out about as much as before (resurfacing, repainting ...).</summary>
    public const string Altered = "altered";
    /// <summary>
    /// Change of or within vegetation, green on the later date (NDVI above <see cref="ChangeObjectOptions.VegetationNdvi"/>):
    /// growth, seasonal green-up, mowing, a crop, pasture where forest was; not a structure. Clearing to bare ground or
    /// building on green land (green before, not after) keeps its structural kind.
    /// </summary>
    public const string Vegetation = "vegetation";

    public static IReadOnlyList<string> All { get; } = [Appeared, Removed, Altered, Vegetation];
}

/// <summary>One connected region of change, measured.</summary>
public sealed record ChangeObject
{
    public required int Id { get; init; }
    /// <summary>Outline in the scenes' map CRS (pixel edges).</summary>
    public required Geometry Footprint { get; init; }
    public required Geometry FootprintWgs84 { get; init; }
    public required double AreaSquareMetres { get; init; }
    public required double PerimeterMetres { get; init; }
    public required double CentroidLon { get; init; }
    public required double CentroidLat { get; init; }
    public required int PixelCount { get; init; }
    public required double MeanMagnitude { get; init; }
    /// <summary>0 at the detection threshold, towards 1 far above it: 1 - exp(-2 (mean magnitude / threshold - 1)).</summary>
    public required double Confidence { get; init; }
    public required string Kind { get; init; }
    /// <summary>Dark and not vegetated on the date where the object stands out: most likely a cast shadow.</summary>
    public required bool Shadow { get; init; }
    /// <summary>Mean visible reflectance inside, before and after (scene units).</summary>
    public required double BrightnessBefore { get; init; }
    public required double BrightnessAfter { get; init; }
    public double? NdviBefore { get; init; }
    public double? NdviAfter { get; init; }
    /// <summary>
    /// Mean green leaf index (2G - R - B) / (2G + R + B) inside (Louhaichi, Borman and Johnson, Geocarto International
    /// 16(1), 2001), before and after: greenness from visible bands alone, where a scene has no NIR band.
    /// </summary>
    public double? GreenLeafIndexBefore { get; init; }
    public double? GreenLeafIndexAfter { get; init; }
    /// <summary>How much the inside stands out from a ring around it (relative brightness difference + NDVI difference).</summary>
    public required double ContrastBefore { get; init; }
    public required double ContrastAfter { get; init; }
}

public sealed record ChangeObjectOptions
{
    /// <summary>Smaller objects are dropped. Null: 4 pixels.</summary>
    public double? MinAreaSquareMetres { get; init; }
    /// <summary>Width of the ring of surroundings an object is compared with, in pixels.</summary>
    public int RingPixels { get; init; } = 3;
    /// <summary>How much more an object must stand out on one date than the other to count as appeared or removed.</summary>
    public double ContrastRatio { get; init; } = 1.5;

    /// <summary>
    /// Mean NDVI on the later date above which a change object is <see cref="ChangeKind.Vegetation"/>. The materials
    /// structures are made of stay below it on every sensor (roofs, concrete and asphalt about 0 to 0.15, bare soil
    /// and gravel up to about 0.25), while green leaves reflect NIR strongly (0.3 and above is the usual cut between
    /// sparse and green vegetation); so a place green after the change has grown or greened, not been built on.
    /// </summary>
    public double VegetationNdvi { get; init; } = 0.3;
}

/// <summary>Vectorises a change mask into measured, classified change objects.</summary>
public static class ChangeObjectExtractor
{
    public static IReadOnlyList<ChangeObject> Extract(RasterPair pair, string maskPath, string magnitudePath, double threshold,
        SpectralBands bands, ChangeObjectOptions options, CancellationToken cancel = default)
    {
        using var mask = RasterDataset.Open(maskPath);
        using var magnitude = RasterDataset.Open(magnitudePath);
        var gt = pair.Before.GeoTransform ?? throw new SiteWatchException($"{pair.Before.Path}: has no georeference; change objects need map coordinates");
        var pixelArea = Math.Abs(gt.PixelWidth * gt.PixelHeight);
        var minArea = options.MinAreaSquareMetres ?? 4 * pixelArea;

        // Only value 1 (changed) becomes objects; nodata (255) is blanked first through a one-band in-memory copy.
        using var changed = RasterDataset.CreateInMemory(new RasterProfile(mask.Width, mask.Height, 1, RasterDataType.Byte) { GeoTransform = gt, Crs = pair.Before.CrsWkt });
        foreach (var w in mask.BlockWindows())
        {
            var block = mask.Read<byte>(1, w);
            for (var i = 0; i < block.Length; i++)
            {
                block[i] = block[i] == 1 ? (byte)1 : (byte)0;
            }
            changed.Write<byte>(1, w, block);
        }
        var regions = Polygonizer.Polygonize(changed, cancel: cancel);

        using var crs = pair.Before.OpenCrs() ?? throw new SiteWatchException($"{pair.Before.Path}: has no CRS");
        using var wgs84 = SpatialReference.Wgs84();
        using var toWgs84 = new CoordinateTransform(crs, wgs84);
        var reader = new WKBReader();
        var objects = new List<ChangeObject>();
        foreach (var region in regions)
        {
            cancel.ThrowIfCancellationRequested();
            var footprint = reader.Read(region.Wkb);
            if (!footprint.IsValid)
            {
                // 8-connected regions can touch themselves at a corner, which OGC validity forbids; overlays need valid input.
                footprint = NetTopologySuite.Geometries.Utilities.GeometryFixer.Fix(footprint);
            }
            if (footprint.Area < minArea)
            {
                continue;
            }
            var evidence = Measure(pair, magnitude, footprint, gt, bands, options.RingPixels);
            if (evidence.Pixels == 0)
            {
                continue;
            }
            var kind = evidence.ContrastAfter > options.ContrastRatio * evidence.ContrastBefore + 0.05 ? ChangeKind.Appeared
                : evidence.ContrastBefore > options.ContrastRatio * evidence.ContrastAfter + 0.05 ? ChangeKind.Removed
                : ChangeKind.Altered;
            // A shadow is dark against its ring and not vegetation on the date it stands out.
            var (inside, ring, ndvi) = kind == ChangeKind.Removed
                ? (evidence.BrightnessBefore, evidence.RingBrightnessBefore, evidence.NdviBefore)
                : (evidence.BrightnessAfter, evidence.RingBrightnessAfter, evidence.NdviAfter);
            var shadow = kind != ChangeKind.Altered && inside < 0.6 * ring && (ndvi ?? 0) < 0.3;
            if (evidence.NdviAfter > options.VegetationNdvi)
            {
                (kind, shadow) = (ChangeKind.Vegetation, false);
            }
            var centroid = footprint.Centroid;
            var (lon, lat) = toWgs84.Transform(centroid.X, centroid.Y);
            var wgs84Footprint = GeometryProjection.Transform(footprint, toWgs84, 4326);
            objects.Add(new ChangeObject
            {
                Id = objects.Count + 1,
                Footprint = footprint,
                FootprintWgs84 = wgs84Footprint,
                // A pair in degrees (change detect on geographic files) is measured on the ground, not in square degrees.
                AreaSquareMetres = crs.IsProjected ? footprint.Area * Math.Pow(crs.LinearUnitMetres, 2) : Measurements.AreaSquareMetres(wgs84Footprint),
                PerimeterMetres = crs.IsProjected ? footprint.Length * crs.LinearUnitMetres : Measurements.PerimeterMetres(wgs84Footprint),
                CentroidLon = lon,
                CentroidLat = lat,
                PixelCount = evidence.Pixels,
                MeanMagnitude = evidence.MeanMagnitude,
                Confidence = threshold > 0 ? Math.Clamp(1 - Math.Exp(-2 * (evidence.MeanMagnitude / threshold - 1)), 0, 1) : 1,
                Kind = kind,
                Shadow = shadow,
                BrightnessBefore = evidence.BrightnessBefore,
                BrightnessAfter = evidence.BrightnessAfter,
                NdviBefore = evidence.NdviBefore,
                NdviAfter = evidence.NdviAfter,
                GreenLeafIndexBefore = evidence.GliBefore,
                GreenLeafIndexAfter = evidence.GliAfter,
                ContrastBefore = evidence.ContrastBefore,
                ContrastAfter = evidence.ContrastAfter,
            });
        }
        return objects.OrderByDescending(o => o.AreaSquareMetres).Select((o, i) => o with { Id = i + 1 }).ToList();
    }

    private sealed record Evidence(int Pixels, double MeanMagnitude, double BrightnessBefore, double BrightnessAfter, double RingBrightnessBefore,
        double RingBrightnessAfter, double? NdviBefore, double? NdviAfter, double ContrastBefore, double ContrastAfter, double? GliBefore, double? GliAfter);

    /// <summary>Statistics of the pixels inside the footprint and in a ring around it, read from a window around the object.</summary>
    private static Evidence Measure(RasterPair pair, RasterDataset magnitude, Geometry footprint, GeoTransform gt, SpectralBands bands, int ringPixels)
    {
        var env = footprint.EnvelopeInternal;
        var (c0, r0) = gt.MapToPixel(env.MinX, env.MaxY);
        var (c1, r1) = gt.MapToPixel(env.MaxX, env.MinY);
        var col = Math.Max(0, (int)Math.Floor(Math.Min(c0, c1)) - ringPixels);
        var row = Math.Max(0, (int)Math.Floor(Math.Min(r0, r1)) - ringPixels);
        var colEnd = Math.Min(pair.Width, (int)Math.Ceiling(Math.Max(c0, c1)) + ringPixels);
        var rowEnd = Math.Min(pair.Height, (int)Math.Ceiling(Math.Max(r0, r1)) + ringPixels);
        var window = new RasterWindow(col, row, colEnd - col, rowEnd - row);
        var n = (int)window.PixelCount;
        var before = new float[pair.BandCount * n];
        var after = new float[pair.BandCount * n];
        var valid = new byte[n];
        pair.Read(window, before, after, valid);
        var mag = magnitude.Read<float>(1, window);

        var inside = new IndexedPointInAreaLocator(footprint);
        var ringArea = footprint.Buffer(ringPixels * Math.Abs(gt.PixelWidth));
        var around = new IndexedPointInAreaLocator(ringArea);
        var acc = new Accumulator[2];
        double magnitudeSum = 0;
        for (var r = 0; r < window.Height; r++)
        {
            for (var c = 0; c < window.Width; c++)
            {
                var i = r * window.Width + c;
                if (valid[i] == 0)
                {
                    continue;
                }
                var (x, y) = gt.PixelToMap(window.Column + c + 0.5, window.Row + r + 0.5);
                var point = new Coordinate(x, y);
                int which;
                if (inside.Locate(point) != Location.Exterior)
                {
                    which = 0;
                    if (float.IsFinite(mag[i]))
                    {
                        magnitudeSum += mag[i];
                    }
                }
                else if (around.Locate(point) != Location.Exterior)
                {
                    which = 1;
                }
                else
                {
                    continue;
                }
                acc[which].Add(before, after, i, n, bands);
            }
        }
        var inner = acc[0];
        var ring = acc[1];
        double Contrast(double bIn, double bRing, double? nIn, double? nRing) =>
            Math.Abs(bIn - bRing) / Math.Max(Math.Abs(bRing), 1e-6) + (nIn is { } a && nRing is { } b ? Math.Abs(a - b) : 0);
        return new Evidence(inner.Count, inner.Count > 0 ? magnitudeSum / inner.Count : 0,
            inner.Brightness(0), inner.Brightness(1), ring.Brightness(0), ring.Brightness(1), inner.Ndvi(0), inner.Ndvi(1),
            Contrast(inner.Brightness(0), ring.Brightness(0), inner.Ndvi(0), ring.Ndvi(0)),
            Contrast(inner.Brightness(1), ring.Brightness(1), inner.Ndvi(1), ring.Ndvi(1)),
            inner.GreenLeafIndex(0), inner.GreenLeafIndex(1));
    }

    /// <summary>Sums of brightness and NDVI for one group of pixels, per date (0 = before, 1 = after).</summary>
    private struct Accumulator
    {
        private double _brightness0, _brightness1, _ndvi0, _ndvi1, _gli0, _gli1;
        private int _ndviCount, _gliCount;
        public int Count;

        public void Add(float[] before, float[] after, int i, int n, SpectralBands bands)
        {
            Count++;
            var visible = bands.Visible;
            double b0 = 0, b1 = 0;
            foreach (var b in visible)
            {
                b0 += before[b * n + i];
                b1 += after[b * n + i];
            }
            _brightness0 += b0 / visible.Count;
            _brightness1 += b1 / visible.Count;
            if (bands is { Red: { } red, Nir: { } nir })
            {
                _ndvi0 += Ndvi(before[red * n + i], before[nir * n + i]);
                _ndvi1 += Ndvi(after[red * n + i], after[nir * n + i]);
                _ndviCount++;
            }
            if (bands is { Red: { } r, Green: { } g, Blue: { } b2 })
            {
                _gli0 += Gli(before[r * n + i], before[g * n + i], before[b2 * n + i]);
                _gli1 += Gli(after[r * n + i], after[g * n + i], after[b2 * n + i]);
                _gliCount++;
            }
        }

        private static double Gli(float red, float green, float blue) =>
            2 * green + red + blue > 0 ? (2 * green - red - blue) / (2 * green + red + blue) : 0;

        private static double Ndvi(float red, float nir) => nir + red > 0 ? (nir - red) / (nir + red) : 0;

        public readonly double Brightness(int date) => Count == 0 ? 0 : (date == 0 ? _brightness0 : _brightness1) / Count;

        public readonly double? Ndvi(int date) => _ndviCount == 0 ? null : (date == 0 ? _ndvi0 : _ndvi1) / _ndviCount;

        public readonly double? GreenLeafIndex(int date) => _gliCount == 0 ? null : (date == 0 ? _gli0 : _gli1) / _gliCount;
    }
}
