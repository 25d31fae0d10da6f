namespace SiteWatch.Core.Detection;

/// <summary>
/// Turns an Ultralytics output tensor [1, 4 + C (+1), N] into candidate detections: per anchor the best class, kept
/// when its score reaches the threshold, box mapped from model-input pixels to image pixels.
/// </summary>
internal static class YoloDecoder
{
    public static List<PixelDetection> Decode(ReadOnlySpan<float> output, int anchors, IReadOnlyList<string> names, DetectorTask task, float scoreThreshold,
        Letterbox box, int imageWidth, int imageHeight)
    {
        var classes = names.Count;
        var channels = 4 + classes + (task == DetectorTask.Obb ? 1 : 0);
        if (output.Length != channels * anchors)
        {
            throw new ArgumentException($"Output holds {output.Length} values, not {channels} x {anchors}.", nameof(output));
        }
        // Channel k of anchor j is at k * N + j (channels-first, as exported).
        float At(ReadOnlySpan<float> o, int k, int j) => o[k * anchors + j];
        var result = new List<PixelDetection>();
        for (var j = 0; j < anchors; j++)
        {
            var best = 0;
            var score = At(output, 4, j);
            for (var c = 1; c < classes; c++)
            {
                var s = At(output, 4 + c, j);
                if (s > score)
                {
                    (best, score) = (c, s);
                }
            }
            if (!(score >= scoreThreshold))
            {
                continue;
            }
            var (cx, cy) = box.ToImage(At(output, 0, j), At(output, 1, j));
            double w = At(output, 2, j) / box.Scale, h = At(output, 3, j) / box.Scale;
            if (!(w > 0 && h > 0) || !double.IsFinite(cx) || !double.IsFinite(cy))
            {
                continue;
            }
            double angle = 0;
            if (task == DetectorTask.Obb)
            {
                angle = At(output, 4 + classes, j);
                // Ultralytics' regularize_rboxes: the longer side is the width, the angle in [0, pi).
                if (h > w)
                {
                    (w, h) = (h, w);
                    angle += Math.PI / 2;
                }
                angle %= Math.PI;
                if (angle < 0)
                {
                    angle += Math.PI;
                }
            }
            else
            {
                // Axis-aligned boxes are clipped to the image, as Ultralytics' scale_boxes does.
                var x0 = Math.Clamp(cx - w / 2, 0, imageWidth);
                var x1 = Math.Clamp(cx + w / 2, 0, imageWidth);
                var y0 = Math.Clamp(cy - h / 2, 0, imageHeight);
                var y1 = Math.Clamp(cy + h / 2, 0, imageHeight);
                if (x1 <= x0 || y1 <= y0)
                {
                    continue;
                }
                (cx, cy, w, h) = ((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0);
            }
            result.Add(new PixelDetection(best, names[best], score, cx, cy, w, h, angle));
        }
        return result;
    }
}
