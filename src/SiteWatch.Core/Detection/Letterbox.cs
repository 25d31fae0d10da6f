namespace SiteWatch.Core.Detection;

/// <summary>
/// Ultralytics' letterbox: the image is resized by one factor (aspect kept) to fit the model input and centred on a
/// 114/255 grey canvas. <see cref="ToImage"/> maps model-input pixels back to the image's.
/// </summary>
internal readonly record struct Letterbox(double Scale, int PadLeft, int PadTop, int ResizedWidth, int ResizedHeight, int InputWidth, int InputHeight)
{
    public const float PadValue = 114f / 255f;

    public bool IsIdentity => Scale == 1 && PadLeft == 0 && PadTop == 0 && ResizedWidth == InputWidth && ResizedHeight == InputHeight;

    public static Letterbox For(int width, int height, int inputWidth, int inputHeight)
    {
        if (width == inputWidth && height == inputHeight)
        {
            return new Letterbox(1, 0, 0, width, height, inputWidth, inputHeight);
        }
        var scale = Math.Min(inputWidth / (double)width, inputHeight / (double)height);
        var rw = Math.Clamp((int)Math.Round(width * scale), 1, inputWidth);
        var rh = Math.Clamp((int)Math.Round(height * scale), 1, inputHeight);
        // Ultralytics rounds the two half-paddings as round(d - 0.1) and round(d + 0.1).
        var left = (int)Math.Round((inputWidth - rw) / 2.0 - 0.1);
        var top = (int)Math.Round((inputHeight - rh) / 2.0 - 0.1);
        return new Letterbox(scale, left, top, rw, rh, inputWidth, inputHeight);
    }

    /// <summary>Model-input point to image point.</summary>
    public (double X, double Y) ToImage(double x, double y) => ((x - PadLeft) / Scale, (y - PadTop) / Scale);

    /// <summary>The model's input tensor (3 planes of InputWidth x InputHeight) from the image's 3 planes.</summary>
    public float[] Apply(ReadOnlySpan<float> chw, int width, int height)
    {
        var plane = InputWidth * InputHeight;
        var input = new float[3 * plane];
        if (IsIdentity)
        {
            chw.CopyTo(input);
            return input;
        }
        input.AsSpan().Fill(PadValue);
        // Bilinear resampling with pixel centres aligned (OpenCV's INTER_LINEAR).
        var sx = width / (double)ResizedWidth;
        var sy = height / (double)ResizedHeight;
        for (var c = 0; c < 3; c++)
        {
            var src = chw.Slice(c * width * height, width * height);
            var dst = input.AsSpan(c * plane, plane);
            for (var r = 0; r < ResizedHeight; r++)
            {
                var fy = Math.Clamp((r + 0.5) * sy - 0.5, 0, height - 1);
                var y0 = (int)fy;
                var y1 = Math.Min(y0 + 1, height - 1);
                var wy = (float)(fy - y0);
                var row = dst.Slice((r + PadTop) * InputWidth + PadLeft, ResizedWidth);
                for (var k = 0; k < ResizedWidth; k++)
                {
                    var fx = Math.Clamp((k + 0.5) * sx - 0.5, 0, width - 1);
                    var x0 = (int)fx;
                    var x1 = Math.Min(x0 + 1, width - 1);
                    var wx = (float)(fx - x0);
                    var top = src[y0 * width + x0] + (src[y0 * width + x1] - src[y0 * width + x0]) * wx;
                    var bottom = src[y1 * width + x0] + (src[y1 * width + x1] - src[y1 * width + x0]) * wx;
                    row[k] = top + (bottom - top) * wy;
                }
            }
        }
        return input;
    }
}
