using SiteWatch.Core.Change;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Ingest;

/// <summary>Settings of <see cref="CloudDetector"/>; the defaults follow the physics, not one scene.</summary>
public sealed record CloudDetectionOptions
{
    /// <summary>Smallest cloud in square metres: one hectare, a cumulus about 110 m across; most roofs are smaller, and larger ones must still pass the shadow tests.</summary>
    public double MinCloudAreaSquareMetres { get; init; } = 10_000;
    /// <summary>A cloud is kept without a matching shadow when it is at least this large (its shadow may lie outside the scene).</summary>
    public double UnconfirmedCloudAreaSquareMetres { get; init; } = 2_000_000;
    /// <summary>
    /// Horizontal shadow displacements searched: cumulus bases lie above about 500 m, which puts their shadows at least
    /// 150 m away with the sun up to 73 degrees high; a building's shadow lies against its walls.
    /// </summary>
    public double MinShadowOffsetMetres { get; init; } = 150;
    public double MaxShadowOffsetMetres { get; init; } = 6_000;
    /// <summary>Largest side of the grid the detector works on; larger scenes are read averaged (bounded memory).</summary>
    public int MaxWorkingSize { get; init; } = 2048;
}

/// <summary>What the detector found: cover fractions of the valid pixels, the shadow shift it matched and why it said no.</summary>
public sealed record CloudDetectionResult(
    double CloudFraction, double ShadowFraction, int CloudObjects, int ConfirmedByShadow,
    double? ShadowOffsetMetres, double? ShadowAzimuthDegrees, string? SkippedBecause)
{
    /// <summary>Luminance inside the best-matching shifted cloud shape over its ring (at most 0.7 confirms a cloud); null when no candidate was found, infinite when no shift passed the shadow tests.</summary>
    public double? ShadowRatio { get; init; }
    /// <summary>Candidate cloud objects (bright, flat, above the clear-sky line, large enough) before the shadow match.</summary>
    public int Candidates { get; init; }

    public bool Found => CloudObjects > 0;
    public double CoverPercent => Math.Round(100 * (CloudFraction + ShadowFraction), 2);
}

/// <summary>
/// Clouds and their shadows in a visible/near-infrared scene that came without a provider mask. Clouds scatter blue,
/// green, red and NIR alike, so they lie above the clear-sky line of blue against red (the haze-optimised transform,
/// Zhang et al. 2002), are bright, grey (Fmask's whiteness, Zhu and Woodcock 2012) and not green. Pale soil and flat
/// roofs pass those tests too; what they lack is a shadow of their own shape hundreds of metres away. So a candidate
/// (at least a hectare, not lined by a ground shadow of its own as a building is) is kept only when one shift (the
/// sun's direction times the cloud's height; searched over every direction and distance, as Fmask searches heights)
/// carries its shape onto ground that is darker throughout, in the NIR and the visible, than lit ground around it on
/// nearly every side. The largest cloud matched fixes the sun's direction for the others. Candidates of 2 km² or more
/// are kept unmatched (their shadow may lie outside the scene). The shifted shapes' dark pixels are the shadows.
/// Mask values: 0 clear, 1 cloud, 2 cloud shadow (non-zero is what change detection leaves out).
/// </summary>
public static class CloudDetector
{
    public const byte Clear = 0, Cloud = 1, Shadow = 2;

    /// <summary>
    /// Clouds are grey: the visible bands within 40 % of their mean (Fmask allows 70 % with thermal and SWIR tests
    /// behind it; without them the stricter bound keeps pale soil out) and NDVI below 0.1 (bare soil is 0.1-0.3).
    /// </summary>
    private const double MaxWhiteness = 0.4, MaxCloudNdvi = 0.1;

    /// <summary>Detects clouds in <paramref name="scenePath"/> and writes the mask on the scene's own grid to <paramref name="maskPath"/> when any is found.</summary>
    public static CloudDetectionResult Detect(string scenePath, SpectralBands bands, string? maskPath, CloudDetectionOptions? options = null, CancellationToken cancel = default)
    {
        options ??= new CloudDetectionOptions();
        if (bands.Blue is not { } blueBand || bands.Red is not { } redBand)
        {
            return new CloudDetectionResult(0, 0, 0, 0, null, null, "the scene has no band known as blue and red");
        }
        using var scene = RasterDataset.Open(scenePath);
        var gt = scene.GeoTransform ?? throw new SiteWatchException($"{scenePath}: has no geotransform");
        var factor = Math.Max(1, (int)Math.Ceiling(Math.Max(scene.Width, scene.Height) / (double)options.MaxWorkingSize));
        int w = (scene.Width + factor - 1) / factor, h = (scene.Height + factor - 1) / factor;
        var pixelMetres = Math.Abs(gt.PixelWidth) * factor;
        var full = new RasterWindow(0, 0, scene.Width, scene.Height);
        float[] ReadBand(int index)
        {
            var buffer = new float[w * h];
            if (factor == 1)
            {
                scene.Read<float>(index + 1, full, buffer);
            }
            else
            {
                scene.ReadResampled<float>(index + 1, full, w, h, buffer, Resampling.Average);
            }
            return buffer;
        }
        var blue = ReadBand(blueBand);
        var red = ReadBand(redBand);
        var green = bands.Green is { } g ? ReadBand(g) : null;
        var nir = bands.Nir is { } n ? ReadBand(n) : null;
        cancel.ThrowIfCancellationRequested();

        var nodata = scene.NoData;
        var valid = new bool[w * h];
        var validCount = 0;
        for (var i = 0; i < valid.Length; i++)
        {
            var ok = !float.IsNaN(blue[i]) && !float.IsNaN(red[i]) && (nodata is not { } nd || (blue[i] != nd && red[i] != nd));
            valid[i] = ok;
            validCount += ok ? 1 : 0;
        }
        if (validCount < 1000)
        {
            return new CloudDetectionResult(0, 0, 0, 0, null, null, $"only {validCount} valid pixels");
        }

        // Brightness (mean of the visible bands) and the clear-sky line blue = a + b red, fitted robustly: each round
        // drops the pixels far above the line (haze and cloud) and refits.
        var brightness = new float[w * h];
        for (var i = 0; i < brightness.Length; i++)
        {
            brightness[i] = green is null ? (blue[i] + red[i]) / 2 : (blue[i] + green[i] + red[i]) / 3;
        }
        var (brightMedian, brightSigma) = RobustCentre(brightness, valid);
        var (a, b, sigma) = ClearSkyLine(blue, red, valid, brightness, brightMedian);
        // A clear-sky line as steep as grey (one land cover filling the darker half, or bands that move together)
        // would put grey clouds on it: land is never as blue as it is red, so the slope is kept below 0.9. The
        // spread is floored at 1 % of the median brightness so a uniform scene does not make every speck "above".
        if (b > 0.9)
        {
            a += (b - 0.9) * MeanRed(red, valid);
            b = 0.9;
        }
        var hotThreshold = 3 * Math.Max(sigma, 0.01 * brightMedian);
        var brightThreshold = brightMedian + 3 * brightSigma;

        var candidate = new byte[w * h];
        for (var i = 0; i < candidate.Length; i++)
        {
            if (!valid[i] || blue[i] - (a + b * red[i]) <= hotThreshold || brightness[i] <= brightThreshold)
            {
                continue;
            }
            var mean = brightness[i];
            var whiteness = green is null
                ? (Math.Abs(blue[i] - mean) + Math.Abs(red[i] - mean)) / mean
                : (Math.Abs(blue[i] - mean) + Math.Abs(green[i] - mean) + Math.Abs(red[i] - mean)) / mean;
            var ndvi = nir is null ? 0 : (nir[i] - red[i]) / Math.Max(1e-6f, nir[i] + red[i]);
            if (whiteness < MaxWhiteness && ndvi < MaxCloudNdvi)
            {
                candidate[i] = 1;
            }
        }

        var minPixels = Math.Max(4, (int)(options.MinCloudAreaSquareMetres / (pixelMetres * pixelMetres)));
        var objects = Components(candidate, w, h).Where(o => o.Count >= minPixels && IsCompact(o, w)).ToList();
        if (objects.Count == 0)
        {
            return new CloudDetectionResult(0, 0, 0, 0, null, null, null);
        }

        // A shadow cuts the direct sun and leaves skylight, which is mostly blue: shadows are darkest in the NIR. Dark
        // vegetation is the opposite (dark in red, bright in NIR), so with a NIR band the match looks at NIR alone.
        var luminance = nir ?? brightness;
        // Water is as dark in the NIR as shadow but not in the visible; shadow darkens both (skylight is weaker than the sun everywhere).
        var cloudAll = new bool[w * h];
        foreach (var o in objects)
        {
            foreach (var i in o)
            {
                cloudAll[i] = true;
            }
        }
        // Building shadows reach about 10 m at mid sun (a 12 m hall at 50 degrees): that band outside the outline.
        var adjacent = Math.Max(1, (int)Math.Round(10 / pixelMetres));
        var field = new ShadowField(luminance, brightness, cloudAll, valid, w, h);
        var shapes = objects.Select(o => new ShadowShape(o, w, h, adjacent)).Where(o => !field.CastsAdjacentShadow(o)).OrderByDescending(o => o.Pixels.Count).ToList();

        // Each cloud is matched on its own (clouds float at different heights); the largest one matched gives the
        // sun's direction, and the others must cast theirs the same way (one sun), within 20 degrees.
        var mask = new byte[w * h];
        var kept = 0;
        var confirmed = 0;
        var unconfirmedPixels = (int)(options.UnconfirmedCloudAreaSquareMetres / (pixelMetres * pixelMetres));
        double? sunAzimuth = null, offset = null, bestRatio = null;
        foreach (var shape in shapes)
        {
            var match = BestShift(shape, field, pixelMetres, options, sunAzimuth, cancel);
            bestRatio = bestRatio is { } r ? Math.Min(r, match.Ratio) : match.Ratio;
            var isConfirmed = match.Ratio <= MaxShadowRatio;
            if (isConfirmed && sunAzimuth is null)
            {
                sunAzimuth = Azimuth(match.X, match.Y);
                offset = Math.Round(Math.Sqrt(match.X * match.X + match.Y * match.Y) * pixelMetres, 1);
            }
            if (!isConfirmed && shape.Pixels.Count < unconfirmedPixels)
            {
                continue;
            }
            kept++;
            confirmed += isConfirmed ? 1 : 0;
            foreach (var i in shape.Pixels)
            {
                mask[i] = Cloud;
            }
            if (isConfirmed)
            {
                var ring = field.RingMean(shape, match.X, match.Y);
                foreach (var i in shape.Pixels)
                {
                    int x = i % w + match.X, y = i / w + match.Y;
                    if (x >= 0 && x < w && y >= 0 && y < h && mask[y * w + x] != Cloud && valid[y * w + x] && luminance[y * w + x] < 0.85 * ring)
                    {
                        mask[y * w + x] = Shadow;
                    }
                }
            }
        }
        var ratio = bestRatio ?? double.NaN;
        if (kept == 0)
        {
            return new CloudDetectionResult(0, 0, 0, 0, null, null, null) { ShadowRatio = Math.Round(ratio, 3), Candidates = objects.Count };
        }
        // Soft cloud edges and the penumbra: grow both classes by one working pixel, clouds first.
        Grow(mask, w, h, Cloud);
        Grow(mask, w, h, Shadow);
        int cloudCount = 0, shadowCount = 0;
        for (var i = 0; i < mask.Length; i++)
        {
            if (!valid[i])
            {
                mask[i] = Clear;
            }
            cloudCount += mask[i] == Cloud ? 1 : 0;
            shadowCount += mask[i] == Shadow ? 1 : 0;
        }
        double? azimuth = sunAzimuth is { } az ? Math.Round(az, 1) : null;
        var result = new CloudDetectionResult((double)cloudCount / validCount, (double)shadowCount / validCount, kept, confirmed, offset, azimuth, null)
        {
            ShadowRatio = Math.Round(ratio, 3),
            Candidates = objects.Count,
        };
        if (maskPath is not null)
        {
            WriteMask(scene, mask, w, factor, maskPath, result);
        }
        return result;
    }

    private static (double A, double B, double Sigma) ClearSkyLine(float[] blue, float[] red, bool[] valid, float[] brightness, double brightMedian)
    {
        // The line is fitted to the darker half of the scene (clear unless clouds cover more than half of it, when a
        // scene is rarely worth keeping): a large cloud among the fitted pixels would tilt the line towards itself.
        // Every 4th such pixel is plenty for three numbers.
        var use = new List<int>();
        for (var i = 0; i < valid.Length; i += 4)
        {
            if (valid[i] && brightness[i] <= brightMedian)
            {
                use.Add(i);
            }
        }
        double a = 0, b = 1, sigma = double.MaxValue;
        var keep = use;
        for (var round = 0; round < 4; round++)
        {
            double sx = 0, sy = 0, sxx = 0, sxy = 0;
            foreach (var i in keep)
            {
                sx += red[i];
                sy += blue[i];
                sxx += (double)red[i] * red[i];
                sxy += (double)red[i] * blue[i];
            }
            var n = keep.Count;
            var denominator = n * sxx - sx * sx;
            b = denominator > 0 ? (n * sxy - sx * sy) / denominator : 0;
            a = (sy - b * sx) / n;
            var residuals = use.Select(i => blue[i] - (a + b * red[i])).ToArray();
            Array.Sort(residuals);
            var median = residuals[residuals.Length / 2];
            var deviations = residuals.Select(r => Math.Abs(r - median)).ToArray();
            Array.Sort(deviations);
            sigma = Math.Max(1e-6, 1.4826 * deviations[deviations.Length / 2]);
            var (ca, cb, cs) = (a, b, sigma);
            keep = use.Where(i => blue[i] - (ca + cb * red[i]) - median < 2 * cs).ToList();
        }
        return (a, b, sigma);
    }

    private static double MeanRed(float[] red, bool[] valid)
    {
        double sum = 0;
        var n = 0;
        for (var i = 0; i < red.Length; i++)
        {
            if (valid[i])
            {
                sum += red[i];
                n++;
            }
        }
        return n == 0 ? 0 : sum / n;
    }

    private static (double Median, double Sigma) RobustCentre(float[] values, bool[] valid)
    {
        var sample = Sample(values, valid);
        Array.Sort(sample);
        var median = sample[sample.Length / 2];
        var deviations = sample.Select(v => Math.Abs(v - median)).ToArray();
        Array.Sort(deviations);
        return (median, Math.Max(1e-6, 1.4826 * deviations[deviations.Length / 2]));
    }

    private static float[] Sample(float[] values, bool[] valid)
    {
        var step = Math.Max(1, values.Length / 200_000);
        var sample = new List<float>();
        for (var i = 0; i < values.Length; i += step)
        {
            if (valid[i])
            {
                sample.Add(values[i]);
            }
        }
        return [.. sample];
    }

    /// <summary>
    /// Cumulus are heaps, not ribbons: after peeling an eighth of its size off the outline, at least 30 % of a cloud
    /// is left (a disc keeps about 60 %, a 1:5 rectangle 40 %); a pale shoreline or a road verge is gone.
    /// </summary>
    private static bool IsCompact(List<int> pixels, int w)
    {
        int minX = int.MaxValue, minY = int.MaxValue, maxX = 0, maxY = 0;
        foreach (var i in pixels)
        {
            int x = i % w, y = i / w;
            minX = Math.Min(minX, x);
            minY = Math.Min(minY, y);
            maxX = Math.Max(maxX, x);
            maxY = Math.Max(maxY, y);
        }
        int bw = maxX - minX + 3, bh = maxY - minY + 3;
        var inside = new bool[bw * bh];
        foreach (var i in pixels)
        {
            inside[(i / w - minY + 1) * bw + i % w - minX + 1] = true;
        }
        var peel = Math.Max(1, (int)Math.Round(Math.Sqrt(pixels.Count) / 8));
        var next = new bool[inside.Length];
        for (var round = 0; round < peel; round++)
        {
            Array.Clear(next);
            for (var y = 1; y < bh - 1; y++)
            {
                for (var x = 1; x < bw - 1; x++)
                {
                    var k = y * bw + x;
                    next[k] = inside[k] && inside[k - 1] && inside[k + 1] && inside[k - bw] && inside[k + bw];
                }
            }
            (inside, next) = (next, inside);
        }
        return inside.Count(v => v) >= 0.3 * pixels.Count;
    }

    /// <summary>8-connected components of the non-zero pixels, each as its pixel indices.</summary>
    private static List<List<int>> Components(byte[] mask, int w, int h)
    {
        var label = new bool[mask.Length];
        var components = new List<List<int>>();
        var stack = new Stack<int>();
        for (var start = 0; start < mask.Length; start++)
        {
            if (mask[start] == 0 || label[start])
            {
                continue;
            }
            var component = new List<int>();
            label[start] = true;
            stack.Push(start);
            while (stack.Count > 0)
            {
                var i = stack.Pop();
                component.Add(i);
                int x = i % w, y = i / w;
                for (var dy = -1; dy <= 1; dy++)
                {
                    for (var dx = -1; dx <= 1; dx++)
                    {
                        int nx = x + dx, ny = y + dy;
                        if (nx < 0 || ny < 0 || nx >= w || ny >= h)
                        {
                            continue;
                        }
                        var j = ny * w + nx;
                        if (mask[j] != 0 && !label[j])
                        {
                            label[j] = true;
                            stack.Push(j);
                        }
                    }
                }
            }
            components.Add(component);
        }
        return components;
    }

    /// <summary>
    /// A shadow darkens whatever ground it falls on, with the cloud's outline: the luminance inside the shifted shape
    /// against a ring just outside it. Over uniform ground the ratio is about 1 wherever the shape lands (a dark
    /// forest is dark in the ring too); under an opaque cloud the NIR keeps only skylight, 0.1-0.4 of its light. 0.7 leaves room for thin clouds and penumbra.
    /// </summary>
    private const double MaxShadowRatio = 0.7;

    /// <summary>The visible bands must darken too (skylight is bluer than sunlight, so less than in the NIR).</summary>
    private const double MaxVisibleShadowRatio = 0.8;

    /// <summary>
    /// In a shadow what is left is skylight, whose share falls smoothly from blue to NIR: the NIR keeps well over a
    /// third of the visible bands' fraction. Water over land absorbs the NIR almost entirely (a twentieth of the
    /// visible's over vegetation, a quarter over soil), so a lake is not taken for a cloud's shadow.
    /// </summary>
    private const double MinNirToVisibleShadow = 0.35;

    /// <summary>Sides of the eight around a shadow that may touch another shadow or dark ground.</summary>
    private const int MaxUnlitSides = 1;

    /// <summary>An object's pixels and the ring around it (3 px or a tenth of its size), as offsets from its own position.</summary>
    private sealed class ShadowShape
    {
        public ShadowShape(List<int> pixels, int w, int h, int adjacent)
        {
            Pixels = pixels;
            var inside = new HashSet<int>(pixels);
            var near = new Dictionary<int, int>();
            // The ring starts a gap away from the outline: a soft cloud's shadow has a penumbra as wide as its soft edge.
            var side = Math.Sqrt(pixels.Count);
            var gap = Math.Clamp((int)Math.Round(side / 10), 2, 30);
            var width = Math.Clamp((int)Math.Round(side / 8), 3, 40);
            var ring = new HashSet<int>();
            // A ring sampled along the boundary: every boundary pixel's neighbours out to the ring width.
            foreach (var i in pixels)
            {
                int x = i % w, y = i / w;
                if (inside.Contains(i - 1) && inside.Contains(i + 1) && inside.Contains(i - w) && inside.Contains(i + w))
                {
                    continue;
                }
                for (var dy = -adjacent; dy <= adjacent; dy++)
                {
                    for (var dx = -adjacent; dx <= adjacent; dx++)
                    {
                        int nx = x + dx, ny = y + dy;
                        if ((dx != 0 || dy != 0) && nx >= 0 && ny >= 0 && nx < w && ny < h && !inside.Contains(ny * w + nx))
                        {
                            near.TryAdd(ny * w + nx, 0);
                        }
                    }
                }
                var outer = gap + width;
                var stride = Math.Max(1, outer / 4);
                for (var dy = -outer; dy <= outer; dy += stride)
                {
                    for (var dx = -outer; dx <= outer; dx += stride)
                    {
                        int nx = x + dx, ny = y + dy;
                        if (Math.Max(Math.Abs(dx), Math.Abs(dy)) > gap && nx >= 0 && ny >= 0 && nx < w && ny < h && !inside.Contains(ny * w + nx))
                        {
                            ring.Add(ny * w + nx);
                        }
                    }
                }
            }
            var step = Math.Max(1, pixels.Count / 3000);
            Inside = pixels.Where((_, k) => k % step == 0).ToArray();
            var ringStep = Math.Max(1, ring.Count / 3000);
            Ring = ring.Where((_, k) => k % ringStep == 0).ToArray();
            // Each ring pixel's side of the object (eight sectors around its centre).
            double cx = pixels.Average(i => i % w), cy = pixels.Average(i => i / w);
            RingSector = Ring.Select(i => (int)Math.Round((Math.Atan2(i / w - cy, i % w - cx) + Math.PI) / (Math.PI / 4)) % 8).ToArray();
            // Each near pixel's side of the object, as the ring's.
            Near = near.Keys.Select(i => (i, (int)Math.Round((Math.Atan2(i / w - cy, i % w - cx) + Math.PI) / (Math.PI / 4)) % 8)).ToArray();
        }

        /// <summary>Pixels right outside the outline with the sector (of eight) of their direction.</summary>
        public (int Pixel, int Sector)[] Near { get; }
        public List<int> Pixels { get; }
        public int[] Inside { get; }
        public int[] Ring { get; }
        public int[] RingSector { get; }
    }

    private sealed class ShadowField(float[] luminance, float[] visible, bool[] cloud, bool[] valid, int w, int h)
    {
        /// <summary>Mean luminance of the given pixels shifted, on valid clear ground; NaN when too few land there.</summary>
        public (double Sum, int Count) Sum(int[] pixels, int shiftX, int shiftY) => Sum(luminance, pixels, shiftX, shiftY);

        private (double Sum, int Count) Sum(float[] values, int[] pixels, int shiftX, int shiftY)
        {
            double sum = 0;
            var count = 0;
            foreach (var i in pixels)
            {
                int x = i % w + shiftX, y = i / w + shiftY;
                if (x < 0 || x >= w || y < 0 || y >= h)
                {
                    continue;
                }
                var j = y * w + x;
                if (valid[j] && !cloud[j])
                {
                    sum += values[j];
                    count++;
                }
            }
            return (sum, count);
        }

        /// <summary>
        /// Whether some side of the object is lined with shadow on the ground: a roof's own shadow lies against its
        /// walls, while a cloud's falls hundreds of metres away (its outline is edged by its own thinning haze).
        /// </summary>
        public bool CastsAdjacentShadow(ShadowShape shape)
        {
            Span<double> near = stackalloc double[8];
            Span<int> nearCount = stackalloc int[8];
            Span<double> far = stackalloc double[8];
            Span<int> farCount = stackalloc int[8];
            foreach (var (i, sector) in shape.Near)
            {
                if (valid[i] && !cloud[i])
                {
                    near[sector] += luminance[i];
                    nearCount[sector]++;
                }
            }
            for (var k = 0; k < shape.Ring.Length; k++)
            {
                var i = shape.Ring[k];
                if (valid[i] && !cloud[i])
                {
                    far[shape.RingSector[k]] += luminance[i];
                    farCount[shape.RingSector[k]]++;
                }
            }
            // A strip hugging one side, darker than the ground just beyond it on that side (a belt of trees or a lake
            // beside a cloud is dark out there too).
            for (var k = 0; k < 8; k++)
            {
                if (nearCount[k] >= 10 && farCount[k] >= 5 && near[k] / nearCount[k] < 0.7 * far[k] / farCount[k])
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>
        /// A shadow is cast on lit ground, so it is darker than the ring on every side; a lake or a dark field that the
        /// shape happens to overlap goes on past the outline on some side.
        /// </summary>
        private bool LitAllAround(ShadowShape shape, int shiftX, int shiftY, double insideMean)
        {
            Span<double> sums = stackalloc double[8];
            Span<int> counts = stackalloc int[8];
            for (var k = 0; k < shape.Ring.Length; k++)
            {
                var i = shape.Ring[k];
                int x = i % w + shiftX, y = i / w + shiftY;
                if (x < 0 || x >= w || y < 0 || y >= h)
                {
                    continue;
                }
                var j = y * w + x;
                if (valid[j] && !cloud[j])
                {
                    sums[shape.RingSector[k]] += luminance[j];
                    counts[shape.RingSector[k]]++;
                }
            }
            var unlit = 0;
            for (var k = 0; k < 8; k++)
            {
                unlit += counts[k] >= 5 && insideMean > 0.85 * sums[k] / counts[k] ? 1 : 0;
            }
            // One side may touch another shadow or dark ground.
            return unlit <= MaxUnlitSides;
        }

        public double RingMean(ShadowShape shape, int shiftX, int shiftY)
        {
            var (sum, count) = Sum(shape.Ring, shiftX, shiftY);
            return count == 0 ? double.NaN : sum / count;
        }

        /// <summary>
        /// Inside over ring luminance of the shape shifted. NaN unless half of it and half of its ring land on
        /// clear ground in the scene, and unless it is dark throughout (nine pixels in ten): the shadow of a cloud's opaque
        /// core darkens everything under it, while a dark patch of forest or a lake that happens to overlap the shape
        /// leaves part of it as bright as the ring.
        /// </summary>
        public double Ratio(ShadowShape shape, int shiftX, int shiftY)
        {
            var (ring, m) = Sum(luminance, shape.Ring, shiftX, shiftY);
            if (m < shape.Ring.Length / 2 || ring <= 0)
            {
                return double.NaN;
            }
            var ringMean = ring / m;
            double inside = 0;
            int n = 0, darker = 0;
            foreach (var i in shape.Inside)
            {
                int x = i % w + shiftX, y = i / w + shiftY;
                if (x < 0 || x >= w || y < 0 || y >= h)
                {
                    continue;
                }
                var j = y * w + x;
                if (valid[j] && !cloud[j])
                {
                    inside += luminance[j];
                    n++;
                    darker += luminance[j] < 0.9 * ringMean ? 1 : 0;
                }
            }
            if (n < shape.Inside.Length / 2 || darker < 0.9 * n || !LitAllAround(shape, shiftX, shiftY, inside / n))
            {
                return double.NaN;
            }
            if (!ReferenceEquals(luminance, visible))
            {
                var (visibleInside, vn) = Sum(visible, shape.Inside, shiftX, shiftY);
                var (visibleRing, vm) = Sum(visible, shape.Ring, shiftX, shiftY);
                if (vn == 0 || vm == 0 || visibleRing <= 0)
                {
                    return double.NaN;
                }
                var visibleRatio = visibleInside / vn / (visibleRing / vm);
                if (visibleRatio > MaxVisibleShadowRatio || inside / n / ringMean < MinNirToVisibleShadow * visibleRatio)
                {
                    return double.NaN;
                }
            }
            return inside / n / ringMean;
        }
    }

    /// <summary>The direction a shift points to, degrees clockwise from north (+x east, +y south in rows).</summary>
    private static double Azimuth(int shiftX, int shiftY) => (Math.Atan2(shiftX, -shiftY) * 180 / Math.PI + 360) % 360;

    /// <summary>
    /// The shift (direction every 3 degrees, or within 20 degrees of the sun's when it is known; distance from the
    /// minimum offset outwards in 4 % steps) that puts the cloud's shape darkest against its ring.
    /// </summary>
    private static (int X, int Y, double Ratio) BestShift(ShadowShape shape, ShadowField field, double pixelMetres, CloudDetectionOptions options, double? sunAzimuth, CancellationToken cancel)
    {
        var minStep = Math.Max(2, (int)Math.Round(options.MinShadowOffsetMetres / pixelMetres));
        var maxStep = (int)Math.Round(options.MaxShadowOffsetMetres / pixelMetres);
        (int X, int Y, double Ratio) best = (0, 0, double.PositiveInfinity);
        var (from, to) = sunAzimuth is { } sun ? ((int)Math.Round(sun) - 20, (int)Math.Round(sun) + 20) : (0, 357);
        for (var azimuth = from; azimuth <= to; azimuth += 3)
        {
            cancel.ThrowIfCancellationRequested();
            var radians = azimuth * Math.PI / 180;
            var previous = (X: int.MinValue, Y: int.MinValue);
            for (var distance = minStep; distance <= maxStep; distance += Math.Max(1, distance / 25))
            {
                var sx = (int)Math.Round(Math.Sin(radians) * distance);
                var sy = (int)Math.Round(-Math.Cos(radians) * distance);
                if ((sx, sy) == previous)
                {
                    continue;
                }
                previous = (sx, sy);
                var ratio = field.Ratio(shape, sx, sy);
                if (ratio < best.Ratio)
                {
                    best = (sx, sy, ratio);
                }
            }
        }
        return best;
    }

    private static void Grow(byte[] mask, int w, int h, byte value)
    {
        var source = (byte[])mask.Clone();
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                if (source[y * w + x] != Clear)
                {
                    continue;
                }
                for (var d = 0; d < 8; d++)
                {
                    int nx = x + Dx[d], ny = y + Dy[d];
                    if (nx >= 0 && ny >= 0 && nx < w && ny < h && source[ny * w + nx] == value)
                    {
                        mask[y * w + x] = value;
                        break;
                    }
                }
            }
        }
    }

    private static readonly int[] Dx = [-1, 0, 1, -1, 1, -1, 0, 1];
    private static readonly int[] Dy = [-1, -1, -1, 0, 0, 1, 1, 1];

    /// <summary>The mask on the scene's full grid (each working pixel repeated factor x factor times), written in rows.</summary>
    private static void WriteMask(RasterDataset scene, byte[] mask, int w, int factor, string path, CloudDetectionResult result)
    {
        var profile = new RasterProfile(scene.Width, scene.Height, 1, RasterDataType.Byte)
        {
            GeoTransform = scene.GeoTransform,
            Crs = scene.CrsWkt,
            BandDescriptions = ["cloud (1) and cloud shadow (2)"],
        };
        using (var output = RasterDataset.Create(path, profile, "GTiff", ["TILED=YES", "COMPRESS=DEFLATE"]))
        {
            output.SetMetadataItem("SITEWATCH_CLOUD_MASK", "detected (SiteWatch CloudDetector: clear-sky line, whiteness, shadow match)");
            output.SetMetadataItem("SITEWATCH_CLOUD_PERCENT", (100 * result.CloudFraction).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture));
            output.SetMetadataItem("SITEWATCH_SHADOW_PERCENT", (100 * result.ShadowFraction).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture));
            var row = new byte[scene.Width];
            for (var y = 0; y < scene.Height; y++)
            {
                var source = (y / factor) * w;
                for (var x = 0; x < scene.Width; x++)
                {
                    row[x] = mask[source + x / factor];
                }
                output.Write<byte>(1, new RasterWindow(0, y, scene.Width, 1), row);
            }
        }
    }
}

/// <summary>Agreement of a cloud mask with a reference mask (non-zero = cloud or shadow in both), over the reference's grid.</summary>
public sealed record CloudMaskAgreement(double Precision, double Recall, double IoU, long Predicted, long Reference)
{
    public static CloudMaskAgreement Of(string predictedPath, string referencePath)
    {
        using var predicted = RasterDataset.Open(predictedPath);
        using var reference = RasterDataset.Open(referencePath);
        if (predicted.Width != reference.Width || predicted.Height != reference.Height)
        {
            throw new SiteWatchException($"{predictedPath} is {predicted.Width} x {predicted.Height} but {referencePath} is {reference.Width} x {reference.Height}; compare masks on one grid");
        }
        long both = 0, onlyPredicted = 0, onlyReference = 0;
        var p = new byte[predicted.Width];
        var r = new byte[predicted.Width];
        for (var y = 0; y < predicted.Height; y++)
        {
            var row = new RasterWindow(0, y, predicted.Width, 1);
            predicted.Read<byte>(1, row, p);
            reference.Read<byte>(1, row, r);
            for (var x = 0; x < p.Length; x++)
            {
                bool a = p[x] != 0, b = r[x] != 0;
                both += a && b ? 1 : 0;
                onlyPredicted += a && !b ? 1 : 0;
                onlyReference += !a && b ? 1 : 0;
            }
        }
        static double Ratio(long n, long d) => d == 0 ? double.NaN : (double)n / d;
        return new CloudMaskAgreement(Ratio(both, both + onlyPredicted), Ratio(both, both + onlyReference), Ratio(both, both + onlyPredicted + onlyReference),
            both + onlyPredicted, both + onlyReference);
    }
}
