using System.Globalization;
using SiteWatch.Core.Change;
using SiteWatch.Gdal;
using SiteWatch.Core.Change.Methods;

// MAD benchmark driver, run by bench/mad-vs-otb.sh next to Orfeo ToolBox on the same pair.
//   make-pair A B SIZE       two SIZE x SIZE x 4-band uint16 tiled GeoTIFFs: B = A with another gain/offset, noise
//                            and changed rectangles
//   mad A B OUT [METHOD]     one MAD iteration (or METHOD, e.g. irmad) (ChangeDetector, method mad), writing OUT (chi2, no-change probability,
//                            MAD variates) and OUT.mask.tif
//   correlate OURS OTB N     |correlation| of each of our MAD variates (bands 3..N+2) with its best-matching OTB band
switch (args.FirstOrDefault())
{
    case "make-pair":
        MakePair(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture));
        return 0;
    case "mad":
        using (var pair = RasterPair.Open(args[1], args[2]))
        {
            var method = args.Length > 4 ? args[4] : "mad";
            var result = ChangeDetector.Detect(pair, new ChangeDetectionOptions { Method = ChangeChoices.ParseMethod(method), Threshold = ThresholdRule.ChiSquare, Morphology = MaskCleanup.None }, args[3], args[3] + ".mask.tif");
            Console.Error.WriteLine($"MAD: {result.ChangedPixels} changed of {result.ValidPixels}; rho {string.Join(", ", result.CanonicalCorrelations.Select(r => r.ToString("0.0000", CultureInfo.InvariantCulture)))}");
        }
        return 0;
    case "correlate":
        Correlate(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture));
        return 0;
    default:
        Console.Error.WriteLine("usage: MadBench make-pair A B SIZE | mad A B OUT [METHOD] | correlate OURS OTB N");
        return 2;
}

static void MakePair(string a, string b, int size)
{
    var options = new[] { "TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "COMPRESS=NONE", "BIGTIFF=YES", "INTERLEAVE=PIXEL" };
    var profile = new RasterProfile(size, size, 4, RasterDataType.UInt16) { GeoTransform = GeoTransform.NorthUp(375_000, 4_425_000, 1), Crs = "EPSG:32652" };
    using var ra = RasterDataset.Create(a, profile, creationOptions: options);
    using var rb = RasterDataset.Create(b, profile, creationOptions: options);
    var random = new Random(7);
    var blockA = new ushort[512 * 512];
    var blockB = new ushort[512 * 512];
    foreach (var w in RasterWindow.Tile(size, size, 512, 512))
    {
        for (var band = 0; band < 4; band++)
        {
            for (var r = 0; r < w.Height; r++)
            {
                for (var c = 0; c < w.Width; c++)
                {
                    var x = w.Column + c;
                    var y = w.Row + r;
                    // Correlated bands with texture; B is a radiometric transform of A plus noise, except in changed rectangles.
                    var field = 1500 + 500 * Math.Sin(x / 53.0 + band) * Math.Cos(y / 71.0) + 200 * band + random.Next(-50, 51);
                    var changed = (x / 300 + y / 220) % 11 == 0;
                    var after = changed ? 4000 - 0.5 * field : (0.8 + 0.05 * band) * field + 120 + random.Next(-40, 41);
                    blockA[r * w.Width + c] = (ushort)Math.Clamp(field, 1, 60000);
                    blockB[r * w.Width + c] = (ushort)Math.Clamp(after, 1, 60000);
                }
            }
            ra.Write<ushort>(band + 1, w, blockA.AsSpan(0, (int)w.PixelCount));
            rb.Write<ushort>(band + 1, w, blockB.AsSpan(0, (int)w.PixelCount));
        }
    }
}

static void Correlate(string ours, string otb, int n)
{
    using var a = RasterDataset.Open(ours);
    using var b = RasterDataset.Open(otb);
    // Sums over a regular subsample (every 7th row) are enough for a correlation to 4 decimals.
    var sums = new double[n, b.BandCount, 5];
    var bufA = new float[a.Width];
    var bufB = new float[b.Width];
    var rowsA = new float[n][];
    for (var row = 0; row < a.Height; row += 7)
    {
        var w = new RasterWindow(0, row, a.Width, 1);
        for (var i = 0; i < n; i++)
        {
            rowsA[i] = a.Read<float>(3 + i, w);
        }
        for (var j = 1; j <= b.BandCount; j++)
        {
            b.Read<float>(j, w, bufB);
            for (var i = 0; i < n; i++)
            {
                var ra = rowsA[i];
                for (var k = 0; k < ra.Length; k++)
                {
                    double x = ra[k], y = bufB[k];
                    if (!double.IsFinite(x) || !double.IsFinite(y))
                    {
                        continue;
                    }
                    sums[i, j - 1, 0] += x; sums[i, j - 1, 1] += y; sums[i, j - 1, 2] += x * x; sums[i, j - 1, 3] += y * y; sums[i, j - 1, 4] += x * y;
                }
            }
        }
    }
    var count = (double)((a.Height + 6) / 7) * a.Width;
    for (var i = 0; i < n; i++)
    {
        var best = 0.0;
        var bestBand = 0;
        for (var j = 0; j < b.BandCount; j++)
        {
            var mx = sums[i, j, 0] / count; var my = sums[i, j, 1] / count;
            var cov = sums[i, j, 4] / count - mx * my;
            var vx = sums[i, j, 2] / count - mx * mx; var vy = sums[i, j, 3] / count - my * my;
            var r = Math.Abs(cov / Math.Sqrt(vx * vy));
            if (r > best)
            {
                best = r;
                bestBand = j + 1;
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"MAD{i + 1}: |r| = {best:0.0000} with OTB band {bestBand}"));
    }
}
