using System.Diagnostics;
using SiteWatch.Gdal;

// Raster I/O benchmark driver, run by bench/raster-io.sh next to gdal_translate on the same file.
//   make-input PATH SIZE   writes a SIZE x SIZE x 4-band uint16 COG with image-like content
//   copy IN OUT            reads IN block by block through SiteWatch.Gdal and writes OUT as COG (CogWriter: the
//                          route for pixels we compute; every overview is computed from the written pixels)
//   translate IN OUT       copies IN to OUT as COG the way SiteWatch stores an existing raster (ingest,
//                          co-registration): RasterDataset.CopyToCog, GDAL's COG driver reading the source itself
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: RasterIoBench make-input PATH [SIZE] | copy IN OUT | translate IN OUT");
    return 2;
}
var watch = Stopwatch.StartNew();
switch (args[0])
{
    case "make-input":
        MakeInput(args[1], args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 10_000);
        break;
    case "copy":
        Copy(args[1], args[2]);
        break;
    case "translate":
        using (var source = RasterDataset.Open(args[1]))
        {
            source.CopyToCog(args[2], new CogOptions());
        }
        break;
    default:
        Console.Error.WriteLine($"unknown command {args[0]}");
        return 2;
}
Console.Error.WriteLine($"{args[0]}: {watch.Elapsed.TotalSeconds:0.00} s");
return 0;

static void MakeInput(string path, int size)
{
    var profile = new RasterProfile(size, size, 4, RasterDataType.UInt16) { GeoTransform = GeoTransform.NorthUp(375_000, 4_425_000, 0.5), Crs = "EPSG:32652", NoData = 0 };
    using var writer = new CogWriter(path, profile);
    var random = new Random(1);
    foreach (var w in RasterWindow.Tile(size, size, 512, 512))
    {
        var block = new ushort[w.PixelCount];
        for (var b = 1; b <= 4; b++)
        {
            for (var r = 0; r < w.Height; r++)
            {
                for (var c = 0; c < w.Width; c++)
                {
                    var x = w.Column + c;
                    var y = w.Row + r;
                    // Smooth fields plus rectangles plus noise: compresses like imagery, not like zeros or white noise.
                    var field = 1500 + 400 * Math.Sin(x / 97.0) * Math.Cos(y / 131.0) + 300 * b;
                    var roof = (x / 180 + y / 140) % 7 == 0 ? 3000 : 0;
                    block[r * w.Width + c] = (ushort)Math.Clamp(field + roof + random.Next(-60, 61), 1, 10000);
                }
            }
            writer.Raster.Write<ushort>(b, w, block);
        }
    }
    writer.Commit();
}

static void Copy(string input, string output)
{
    using var source = RasterDataset.Open(input);
    var profile = new RasterProfile(source.Width, source.Height, source.BandCount, source.DataType)
    {
        GeoTransform = source.GeoTransform,
        Crs = source.CrsWkt,
        NoData = source.NoData,
    };
    var start = Stopwatch.GetTimestamp();
    using var writer = new CogWriter(output, profile);
    var buffer = new ushort[source.BlockSize.Width * source.BlockSize.Height];
    foreach (var w in source.BlockWindows(minimumSide: 1))
    {
        var span = buffer.AsSpan(0, (int)w.PixelCount);
        for (var b = 1; b <= source.BandCount; b++)
        {
            source.Read<ushort>(b, w, span);
            writer.Raster.Write<ushort>(b, w, span);
        }
    }
    Console.Error.WriteLine($"blocks copied: {Stopwatch.GetElapsedTime(start).TotalSeconds:0.00} s");
    writer.Commit();
}
