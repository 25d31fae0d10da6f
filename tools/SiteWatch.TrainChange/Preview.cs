using SkiaSharp;

namespace SiteWatch.TrainChange;

/// <summary>Training samples as pictures, to look at what the model is taught: BEFORE | AFTER | AFTER with the change label in red.</summary>
internal static class Preview
{
    public static void Write(PairSample sample, string path)
    {
        int t = sample.Tile, n = t * t;
        using var bitmap = new SKBitmap(3 * t + 8, t);
        bitmap.Erase(SKColors.White);
        for (int y = 0; y < t; y++)
        {
            for (int x = 0; x < t; x++)
            {
                int i = y * t + x;
                byte V(int k) => (byte)Math.Clamp(sample.Input[k * n + i] * 255, 0, 255);
                bitmap.SetPixel(x, y, new SKColor(V(0), V(1), V(2)));
                bitmap.SetPixel(t + 4 + x, y, new SKColor(V(3), V(4), V(5)));
                var after = new SKColor(V(3), V(4), V(5));
                if (sample.Weight[i] == 0)
                {
                    after = new SKColor(0, 0, 160);
                }
                else if (sample.Label[i] > 0.5f)
                {
                    after = new SKColor(255, (byte)(after.Green / 3), (byte)(after.Blue / 3));
                }
                bitmap.SetPixel(2 * t + 8 + x, y, after);
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }
}
