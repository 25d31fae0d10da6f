namespace SiteWatch.Training;

/// <summary>The eight flips and rotations of a square tile, as training augmentation (transform 0 is the identity).</summary>
internal static class Dihedral
{
    /// <summary>Source pixel of destination pixel (x, y) under transform t (bit 0: flip x, 1: flip y, 2: transpose).</summary>
    public static (int X, int Y) Inverse(int t, int x, int y, int tile)
    {
        if ((t & 4) != 0)
        {
            (x, y) = (y, x);
        }
        if ((t & 2) != 0)
        {
            y = tile - 1 - y;
        }
        if ((t & 1) != 0)
        {
            x = tile - 1 - x;
        }
        return (x, y);
    }

    /// <summary>Writes the transformed <paramref name="source"/> plane (tile x tile) to <paramref name="destination"/>.</summary>
    public static void Apply(int t, int tile, ReadOnlySpan<float> source, Span<float> destination)
    {
        for (int y = 0; y < tile; y++)
        {
            for (int x = 0; x < tile; x++)
            {
                var (sx, sy) = Inverse(t, x, y, tile);
                destination[y * tile + x] = source[sy * tile + sx];
            }
        }
    }
}
