namespace SiteWatch.Demo.Plant;

/// <summary>Surface reflectance (0..1) in the four delivered bands: blue, green, red, near infrared.</summary>
internal readonly struct Spectrum
{
    public readonly float B;
    public readonly float G;
    public readonly float R;
    public readonly float N;

    public Spectrum(float b, float g, float r, float n)
    {
        B = b;
        G = g;
        R = r;
        N = n;
    }

    public static Spectrum operator *(Spectrum s, float k) => new(s.B * k, s.G * k, s.R * k, s.N * k);

    public static Spectrum operator +(Spectrum a, Spectrum b) => new(a.B + b.B, a.G + b.G, a.R + b.R, a.N + b.N);

    public static Spectrum Lerp(Spectrum a, Spectrum b, float t) =>
        new(a.B + (b.B - a.B) * t, a.G + (b.G - a.G) * t, a.R + (b.R - a.R) * t, a.N + (b.N - a.N) * t);

    public Spectrum Times(Spectrum k) => new(B * k.B, G * k.G, R * k.R, N * k.N);
}

/// <summary>
/// Representative surface reflectances (blue 0.49, green 0.56, red 0.665, NIR 0.842 um), taken from the
/// typical ranges of spectral libraries so that indices such as NDVI behave like real imagery.
/// </summary>
internal static class Materials
{
    public static readonly Spectrum GreenGrass = new(0.032f, 0.075f, 0.038f, 0.40f);
    public static readonly Spectrum DryGrass = new(0.070f, 0.095f, 0.128f, 0.230f);
    public static readonly Spectrum SoilDry = new(0.078f, 0.108f, 0.150f, 0.215f);
    public static readonly Spectrum SoilMoist = new(0.052f, 0.072f, 0.098f, 0.150f);
    public static readonly Spectrum Straw = new(0.085f, 0.115f, 0.155f, 0.250f);
    public static readonly Spectrum GreenCrop = new(0.028f, 0.070f, 0.032f, 0.46f);
    public static readonly Spectrum Water = new(0.060f, 0.066f, 0.045f, 0.030f);
    public static readonly Spectrum DeciduousLeafOn = new(0.026f, 0.058f, 0.030f, 0.38f);
    public static readonly Spectrum DeciduousLeafOff = new(0.058f, 0.072f, 0.088f, 0.170f);
    public static readonly Spectrum Conifer = new(0.024f, 0.044f, 0.028f, 0.235f);
    public static readonly Spectrum Rock = new(0.135f, 0.155f, 0.175f, 0.215f);
    public static readonly Spectrum Yard = new(0.118f, 0.140f, 0.165f, 0.205f);
    public static readonly Spectrum Gravel = new(0.135f, 0.150f, 0.165f, 0.190f);
    public static readonly Spectrum ConcreteOld = new(0.190f, 0.205f, 0.220f, 0.245f);
    public static readonly Spectrum ConcreteFresh = new(0.270f, 0.290f, 0.305f, 0.325f);
    public static readonly Spectrum Asphalt = new(0.062f, 0.072f, 0.082f, 0.098f);
    public static readonly Spectrum ClearedSoil = new(0.105f, 0.135f, 0.180f, 0.235f);
    public static readonly Spectrum Ballast = new(0.105f, 0.112f, 0.122f, 0.140f);
    public static readonly Spectrum RailSteel = new(0.190f, 0.195f, 0.205f, 0.215f);
    public static readonly Spectrum RoofWeathered = new(0.255f, 0.272f, 0.285f, 0.300f);
    public static readonly Spectrum RoofNew = new(0.380f, 0.400f, 0.410f, 0.425f);
    public static readonly Spectrum Skylight = new(0.150f, 0.165f, 0.170f, 0.180f);
    public static readonly Spectrum PrimerSteel = new(0.060f, 0.068f, 0.135f, 0.190f);
    public static readonly Spectrum CraneYellow = new(0.085f, 0.310f, 0.420f, 0.460f);
    public static readonly Spectrum TunnelVoid = new(0.012f, 0.013f, 0.014f, 0.018f);
    public static readonly Spectrum RustSteel = new(0.058f, 0.064f, 0.095f, 0.135f);
    public static readonly Spectrum CarInteriorDark = new(0.028f, 0.030f, 0.034f, 0.042f);
    public static readonly Spectrum Coal = new(0.030f, 0.031f, 0.033f, 0.038f);
    public static readonly Spectrum Cloud = new(0.640f, 0.650f, 0.655f, 0.640f);

    // Diffuse (sky) share of irradiance per band: what is left inside a shadow; skylight is bluer.
    public static readonly Spectrum ShadowDiffuseClear = new(0.40f, 0.31f, 0.26f, 0.21f);

    // Roof paints typical of workers' housing blocks.
    public static readonly Spectrum[] HousingRoofs =
    [
        new(0.175f, 0.150f, 0.105f, 0.250f), // blue painted sheet
        new(0.065f, 0.075f, 0.160f, 0.235f), // red-brown tile
        new(0.185f, 0.195f, 0.205f, 0.225f), // grey cement sheet
        new(0.060f, 0.118f, 0.082f, 0.215f), // green painted sheet
    ];

    // Vehicle paints: white, grey, olive, blue, red, yellow, dark.
    public static readonly Spectrum[] VehiclePaints =
    [
        new(0.440f, 0.450f, 0.455f, 0.450f),
        new(0.190f, 0.195f, 0.200f, 0.215f),
        new(0.052f, 0.072f, 0.064f, 0.175f),
        new(0.140f, 0.085f, 0.050f, 0.160f),
        new(0.050f, 0.052f, 0.260f, 0.300f),
        new(0.075f, 0.300f, 0.390f, 0.430f),
        new(0.040f, 0.042f, 0.045f, 0.055f),
        new(0.100f, 0.150f, 0.110f, 0.200f),
    ];
}

/// <summary>Phenology: green fraction of vegetation through the year at ~40N (Korean peninsula).</summary>
internal static class Season
{
    // (day of year, green fraction) for natural grass; leaf-out in April-May, senescence in October.
    private static readonly (int Doy, float Value)[] _grass =
    [
        (1, 0.03f), (60, 0.04f), (80, 0.08f), (105, 0.28f), (135, 0.64f), (165, 0.88f), (195, 1.0f),
        (230, 0.95f), (258, 0.70f), (288, 0.33f), (318, 0.10f), (366, 0.03f),
    ];

    private static readonly (int Doy, float Value)[] _deciduous =
    [
        (1, 0.0f), (95, 0.0f), (115, 0.25f), (140, 0.80f), (165, 1.0f), (245, 1.0f), (275, 0.70f),
        (295, 0.30f), (315, 0.05f), (366, 0.0f),
    ];

    // Crop calendars: green fraction and, for rice, standing-water fraction.
    private static readonly (int Doy, float Value)[] _riceGreen =
    [
        (1, 0.02f), (130, 0.02f), (150, 0.12f), (170, 0.40f), (190, 0.82f), (215, 0.96f), (245, 0.85f),
        (265, 0.45f), (282, 0.12f), (366, 0.02f),
    ];

    private static readonly (int Doy, float Value)[] _riceWater =
    [
        (1, 0.0f), (125, 0.0f), (138, 0.85f), (160, 0.70f), (185, 0.25f), (210, 0.05f), (240, 0.0f), (366, 0.0f),
    ];

    private static readonly (int Doy, float Value)[] _maizeGreen =
    [
        (1, 0.0f), (125, 0.0f), (150, 0.18f), (175, 0.58f), (200, 0.93f), (235, 0.90f), (258, 0.55f),
        (278, 0.22f), (300, 0.08f), (366, 0.0f),
    ];

    private static readonly (int Doy, float Value)[] _vegetableGreen =
    [
        (1, 0.02f), (85, 0.05f), (110, 0.25f), (140, 0.62f), (180, 0.72f), (215, 0.50f), (250, 0.70f),
        (285, 0.50f), (310, 0.15f), (366, 0.02f),
    ];

    public static float Grass(DateOnly d) => Interpolate(_grass, d.DayOfYear);

    public static float Deciduous(DateOnly d) => Interpolate(_deciduous, d.DayOfYear);

    public static float RiceGreen(int doy) => Interpolate(_riceGreen, doy);

    public static float RiceWater(int doy) => Interpolate(_riceWater, doy);

    public static float MaizeGreen(int doy) => Interpolate(_maizeGreen, doy);

    public static float VegetableGreen(int doy) => Interpolate(_vegetableGreen, doy);

    public static float GrassAt(int doy) => Interpolate(_grass, doy);

    private static float Interpolate((int Doy, float Value)[] table, int doy)
    {
        doy = Math.Clamp(doy, table[0].Doy, table[^1].Doy);
        for (int i = 1; i < table.Length; i++)
        {
            if (doy <= table[i].Doy)
            {
                var (d0, v0) = table[i - 1];
                var (d1, v1) = table[i];
                return v0 + (v1 - v0) * (doy - d0) / (d1 - d0);
            }
        }

        return table[^1].Value;
    }
}
