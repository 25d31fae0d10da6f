namespace SiteWatch.Demo.Plant;

/// <summary>
/// Low cumulus over part of the site: a few Gaussian envelopes modulated by fractal noise and passed
/// through a soft threshold, giving bright clumped clouds with frayed semi-transparent edges. The shadow
/// is the same field displaced away from the sun by cloud height / tan(elevation).
/// Coordinates are local plant metres.
/// </summary>
internal sealed class CloudField
{
    /// <summary>Opacity above which a pixel counts as cloud (and is flagged in the cloud mask).</summary>
    public const float MaskThreshold = 0.1f;

    private readonly (double X, double Y, double Sigma, double Weight)[] _cells;
    private readonly uint _seed;

    public CloudField((double X, double Y, double Sigma, double Weight)[] cells, uint seed,
        double shadowDx, double shadowDy)
    {
        _cells = cells;
        _seed = seed;
        ShadowDx = shadowDx;
        ShadowDy = shadowDy;
        MinX = cells.Min(c => c.X - 3 * c.Sigma);
        MaxX = cells.Max(c => c.X + 3 * c.Sigma);
        MinY = cells.Min(c => c.Y - 3 * c.Sigma);
        MaxY = cells.Max(c => c.Y + 3 * c.Sigma);
    }

    /// <summary>Ground displacement of the cloud shadow (metres, east and north).</summary>
    public double ShadowDx { get; }

    public double ShadowDy { get; }

    // Beyond 3 sigma of every cell the envelope is too weak to pass the threshold.
    public double MinX { get; }

    public double MaxX { get; }

    public double MinY { get; }

    public double MaxY { get; }

    /// <summary>Cloud opacity 0..~0.97 at a local point.</summary>
    public float Opacity(double x, double y)
    {
        if (x < MinX || x > MaxX || y < MinY || y > MaxY)
        {
            return 0;
        }

        double envelope = 0;
        foreach (var (cx, cy, sigma, weight) in _cells)
        {
            double dx = x - cx, dy = y - cy;
            envelope += weight * Math.Exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
        }

        if (envelope < 0.08)
        {
            return 0;
        }

        float turbulence = Noise.Fbm(x / 95.0, y / 95.0, _seed, 5);
        float density = (float)envelope * (0.85f + 0.9f * turbulence) - 0.32f;
        return 0.97f * Noise.SmoothStep(0f, 0.38f, density);
    }

    /// <summary>Opacity of the cloud shadowing the local ground point.</summary>
    public float ShadowOpacity(double x, double y) => Opacity(x - ShadowDx, y - ShadowDy);

    /// <summary>Thickness-driven brightness variation of the cloud top (lumpy cumulus).</summary>
    public float Brightness(double x, double y) => 0.9f + 0.12f * Noise.Fbm(x / 30.0, y / 30.0, _seed ^ 0x5bd1e995u, 3);
}

/// <summary>Per-acquisition radiometric conditions beyond what <see cref="DemoAcquisition"/> exposes.</summary>
/// <param name="Gain">Per-band calibration gain of the sensor for this scene.</param>
/// <param name="Offset">Per-band calibration offset (reflectance).</param>
/// <param name="NoiseSigma">Per-band Gaussian sensor noise (reflectance).</param>
/// <param name="Clouds">Cloud field, null when clear.</param>
/// <param name="NoiseSeed">Seed of the sensor-noise stream.</param>
internal sealed record SceneConditions(Spectrum Gain, Spectrum Offset, Spectrum NoiseSigma, CloudField? Clouds, ulong NoiseSeed);
