namespace SiteWatch.Core.Detection;

/// <summary>
/// Resizes float image planes with a separable triangle (bilinear) filter widened by the reduction factor when
/// shrinking, as Pillow's antialiased BILINEAR does: enlarging interpolates between the two nearest pixels, shrinking
/// averages every source pixel under the output pixel, so a frame brought to a model's coarser GSD does not alias
/// its fine texture into speckles the model has never seen.
/// </summary>
public static class PlaneResampler
{
    /// <summary>
    /// Resizes <paramref name="planes"/> planes of <paramref name="width"/> x <paramref name="height"/> values in
    /// <paramref name="source"/> to <paramref name="newWidth"/> x <paramref name="newHeight"/> in
    /// <paramref name="destination"/>, pixel centres aligned.
    /// </summary>
    public static void Resize(ReadOnlySpan<float> source, int width, int height, int planes, Span<float> destination, int newWidth, int newHeight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(newWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(newHeight, 1);
        if (source.Length < (long)planes * width * height || destination.Length < (long)planes * newWidth * newHeight)
        {
            throw new ArgumentException($"Expected {planes} planes of {width} x {height} in and {newWidth} x {newHeight} out.");
        }
        var columns = Weights(width, newWidth);
        var rows = Weights(height, newHeight);
        // Rows first into a scratch of newWidth x height per plane, then columns of that.
        var scratch = new float[newWidth * height];
        for (var p = 0; p < planes; p++)
        {
            var src = source.Slice(p * width * height, width * height);
            for (var y = 0; y < height; y++)
            {
                var line = src.Slice(y * width, width);
                var output = scratch.AsSpan(y * newWidth, newWidth);
                for (var x = 0; x < newWidth; x++)
                {
                    var (first, weights) = columns[x];
                    var sum = 0f;
                    for (var k = 0; k < weights.Length; k++)
                    {
                        sum += weights[k] * line[first + k];
                    }
                    output[x] = sum;
                }
            }
            var dst = destination.Slice(p * newWidth * newHeight, newWidth * newHeight);
            for (var y = 0; y < newHeight; y++)
            {
                var (first, weights) = rows[y];
                var output = dst.Slice(y * newWidth, newWidth);
                output.Clear();
                for (var k = 0; k < weights.Length; k++)
                {
                    var w = weights[k];
                    var input = scratch.AsSpan((first + k) * newWidth, newWidth);
                    for (var x = 0; x < newWidth; x++)
                    {
                        output[x] += w * input[x];
                    }
                }
            }
        }
    }

    /// <summary>For each output index: the first source index and the normalised weights from there.</summary>
    private static (int First, float[] Weights)[] Weights(int size, int newSize)
    {
        var scale = size / (double)newSize;
        var support = Math.Max(1, scale); // the triangle's half-width in source pixels
        var result = new (int, float[])[newSize];
        for (var i = 0; i < newSize; i++)
        {
            var centre = (i + 0.5) * scale;
            var first = Math.Max(0, (int)Math.Floor(centre - support));
            var last = Math.Min(size - 1, (int)Math.Ceiling(centre + support));
            var weights = new float[last - first + 1];
            var total = 0.0;
            for (var j = first; j <= last; j++)
            {
                var w = Math.Max(0, 1 - Math.Abs(j + 0.5 - centre) / support);
                weights[j - first] = (float)w;
                total += w;
            }
            if (total <= 0)
            {
                // Only at the very edge: the nearest source pixel.
                var nearest = Math.Clamp((int)centre, 0, size - 1);
                result[i] = (nearest, [1f]);
                continue;
            }
            for (var k = 0; k < weights.Length; k++)
            {
                weights[k] = (float)(weights[k] / total);
            }
            result[i] = (first, weights);
        }
        return result;
    }
}
