using SkiaSharp;

namespace SiteWatch.Video.Watch;

/// <summary>PNG snapshots of frame crops, encoded with SkiaSharp (the library Core draws its pictures with).</summary>
public static class PngEncoder
{
    /// <summary>Encodes a crop of a BGR24 frame (clipped to the frame); throws when the crop is empty.</summary>
    public static byte[] EncodeBgr24Crop(ReadOnlySpan<byte> bgr24, int width, int height, int left, int top, int cropWidth, int cropHeight)
    {
        var x0 = Math.Clamp(left, 0, width);
        var y0 = Math.Clamp(top, 0, height);
        var x1 = Math.Clamp(left + cropWidth, 0, width);
        var y1 = Math.Clamp(top + cropHeight, 0, height);
        if (x1 <= x0 || y1 <= y0)
        {
            throw new ArgumentException("the crop lies outside the frame");
        }

        if (bgr24.Length < width * height * 3)
        {
            throw new ArgumentException($"a {width} x {height} BGR24 frame needs {width * height * 3} bytes, got {bgr24.Length}");
        }

        int w = x1 - x0, h = y1 - y0;
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Bgra8888, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        for (var y = 0; y < h; y++)
        {
            var source = bgr24.Slice(((y0 + y) * width + x0) * 3, 3 * w);
            var row = pixels.Slice(y * bitmap.RowBytes, 4 * w);
            for (var x = 0; x < w; x++)
            {
                row[4 * x] = source[3 * x];
                row[4 * x + 1] = source[3 * x + 1];
                row[4 * x + 2] = source[3 * x + 2];
                row[4 * x + 3] = 255;
            }
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
