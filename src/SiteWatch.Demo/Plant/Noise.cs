namespace SiteWatch.Demo.Plant;

/// <summary>
/// Stateless hash-based value noise: every texture is a pure function of (position, seed), so the same
/// ground point looks the same in every scene no matter how the sampling grid is shifted.
/// </summary>
internal static class Noise
{
    public static uint Hash(int x, int y, uint seed)
    {
        unchecked
        {
            // lowbias32 finaliser (Chris Wellons): cheap and well mixed, good enough for textures.
            uint h = seed ^ ((uint)x * 0x8DA6B343u) ^ ((uint)y * 0xD8163841u);
            h ^= h >> 16;
            h *= 0x7FEB352Du;
            h ^= h >> 15;
            h *= 0x846CA68Bu;
            h ^= h >> 16;
            return h;
        }
    }

    private static float Lattice(int x, int y, uint seed) => (Hash(x, y, seed) >> 8) * (2f / 16777216f) - 1f;

    /// <summary>Smooth value noise in [-1, 1] with unit lattice spacing.</summary>
    public static float Value(double x, double y, uint seed)
    {
        double fx = Math.Floor(x), fy = Math.Floor(y);
        int ix = (int)fx, iy = (int)fy;
        float tx = (float)(x - fx), ty = (float)(y - fy);
        tx = tx * tx * (3f - 2f * tx);
        ty = ty * ty * (3f - 2f * ty);
        float a = Lattice(ix, iy, seed), b = Lattice(ix + 1, iy, seed);
        float c = Lattice(ix, iy + 1, seed), d = Lattice(ix + 1, iy + 1, seed);
        float top = a + (b - a) * tx;
        float bottom = c + (d - c) * tx;
        return top + (bottom - top) * ty;
    }

    /// <summary>
    /// Fractal sum of <paramref name="octaves"/> octaves, scaled so that most values fall in [-1, 1]
    /// (standard deviation about 0.35).
    /// </summary>
    public static float Fbm(double x, double y, uint seed, int octaves)
    {
        float sum = 0, amp = 1, norm = 0;
        for (int o = 0; o < octaves; o++)
        {
            sum += amp * Value(x, y, unchecked(seed + (uint)o * 0x9E3779B9u));
            norm += amp;
            amp *= 0.5f;
            // Rotate by ~37 degrees while doubling frequency so lattice artefacts of octaves do not align.
            double nx = 1.6 * x - 1.2 * y + 17.31;
            double ny = 1.2 * x + 1.6 * y - 9.13;
            x = nx;
            y = ny;
        }

        return 1.45f * sum / norm;
    }

    public static float SmoothStep(float edge0, float edge1, float x)
    {
        float t = Math.Clamp((x - edge0) / (edge1 - edge0), 0f, 1f);
        return t * t * (3f - 2f * t);
    }

    /// <summary>Derives an independent 32-bit seed for a named sub-stream.</summary>
    public static uint SubSeed(int seed, int stream) => Hash(seed, stream, 0xA511E9B3u);

    /// <summary>Derives an independent <see cref="Random"/> for a named sub-stream of the scenario.</summary>
    public static Random SubRandom(int seed, int stream) => new((int)(SubSeed(seed, stream) & 0x7FFFFFFF));
}

/// <summary>SplitMix64: tiny deterministic generator for per-scene sensor noise.</summary>
internal struct SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    public ulong Next()
    {
        unchecked
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>Uniform in (0, 1).</summary>
    public double NextDouble() => ((Next() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
