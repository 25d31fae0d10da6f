namespace SiteWatch.Demo.Plant;

// Paints are structs used through generic constraints so the JIT inlines them into the raster loop.
// All textures are functions of local ground position, never of pixel position, so that misregistration
// shifts them exactly like the shapes.

/// <summary>Uniform colour, optionally semi-opaque (lattice members, thin structures).</summary>
internal readonly struct SolidPaint(Spectrum colour, float opacity = 1f) : IPaint
{
    public void Apply(SceneCanvas canvas, int index, double x, double y, float coverage) =>
        canvas.Blend(index, colour, coverage * opacity);
}

/// <summary>Colour modulated by smooth noise (roads, ballast, slabs).</summary>
internal readonly struct TexturedPaint(Spectrum colour, float amplitude, double scale, float fineAmplitude, uint seed) : IPaint
{
    public void Apply(SceneCanvas canvas, int index, double x, double y, float coverage)
    {
        float k = 1f + amplitude * Noise.Fbm(x / scale, y / scale, seed, 2) + fineAmplitude * Noise.Value(x / 1.1, y / 1.1, seed ^ 0x2545F491u);
        canvas.Blend(index, colour * k, coverage);
    }
}

/// <summary>Compacted earth of the plant grounds with sparse seasonal weeds.</summary>
internal readonly struct YardPaint(Spectrum weeds, uint seed) : IPaint
{
    public void Apply(SceneCanvas canvas, int index, double x, double y, float coverage)
    {
        float t = Noise.Fbm(x / 14, y / 14, seed, 3);
        float w = Noise.Fbm(x / 35, y / 35, seed + 1, 2);
        float f = Noise.Value(x / 1.3, y / 1.3, seed + 2);
        float cover = Math.Clamp(0.10f + 0.45f * w, 0f, 0.55f);
        var soil = Materials.Yard * (1f + 0.10f * t + 0.05f * f);
        canvas.Blend(index, Spectrum.Lerp(soil, weeds, cover), coverage);
    }
}

/// <summary>
/// Fields on a slightly rotated parcel grid with earth dykes; each parcel draws a crop (rice, maize,
/// vegetables, fallow) whose calendar sets its greenness and, for rice, its flooding.
/// </summary>
internal readonly struct FarmPaint(int dayOfYear, Spectrum grass, uint seed) : IPaint
{
    private const double ParcelU = 48;
    private const double ParcelV = 105;
    private const double Cos = 0.99254615; // 7 degrees
    private const double Sin = 0.12186934;

    public void Apply(SceneCanvas canvas, int index, double x, double y, float coverage)
    {
        double u = x * Cos + y * Sin + 1000, v = -x * Sin + y * Cos + 1000;
        double fu = Math.Floor(u / ParcelU), fv = Math.Floor(v / ParcelV);
        double du = u - fu * ParcelU, dv = v - fv * ParcelV;
        float grain = Noise.Value(x / 5.5, y / 5.5, seed);
        Spectrum s;
        if (du < 1.6 || dv < 1.6)
        {
            // Earth dyke / footpath between parcels, grassy.
            s = Spectrum.Lerp(Materials.SoilDry, grass, 0.55f) * (1f + 0.08f * grain);
        }
        else
        {
            uint h = Noise.Hash((int)fu, (int)fv, seed);
            int kind = (int)(h % 100);
            int doy = dayOfYear + (int)((h >> 8) & 15) - 7; // farmers do not all plant on the same day
            float tone = 0.86f + 0.28f * ((h >> 16) & 255) / 255f;
            float green, water = 0, straw;
            if (kind < 45)
            {
                green = Season.RiceGreen(doy);
                water = Season.RiceWater(doy);
                straw = doy > 270 ? 0.6f : 0.15f;
            }
            else if (kind < 75)
            {
                green = Season.MaizeGreen(doy);
                straw = doy > 250 ? 0.7f : 0.1f;
            }
            else if (kind < 85)
            {
                green = Season.VegetableGreen(doy);
                straw = 0.05f;
            }
            else
            {
                green = 0.85f * Season.GrassAt(doy);
                straw = 0.4f;
            }

            var bare = Spectrum.Lerp(Spectrum.Lerp(Materials.SoilMoist, Materials.SoilDry, 0.5f) * tone, Materials.Straw, straw);
            bare = Spectrum.Lerp(bare, Materials.Water, water);
            s = Spectrum.Lerp(bare, Materials.GreenCrop, green * (0.92f + 0.08f * grain)) * (1f + 0.05f * grain);
        }

        canvas.Blend(index, s, coverage);
    }
}

/// <summary>
/// A feature's place on the ground: its centre and the direction of its long axis, and a point in its own axes.
/// </summary>
internal readonly record struct Placement(double Cx, double Cy, double Cos, double Sin)
{
    public static Placement Of(SceneFeature look) => new(look.Cx, look.Cy, Math.Cos(look.Angle), Math.Sin(look.Angle));

    /// <summary>Along the long axis (u) and across it (v), metres from the centre.</summary>
    public (double U, double V) Local(double x, double y)
    {
        double dx = x - Cx, dy = y - Cy;
        return (dx * Cos + dy * Sin, -dx * Sin + dy * Cos);
    }
}

/// <summary>
/// Pitched metal or tile roof on an oriented rectangle: the two slopes are lit according to the sun,
/// with optional skylight bands across the roof, ridge ventilators and weathering blotches.
/// </summary>
internal struct RoofPaint : IPaint
{
    public Placement At;
    public double HalfLength;
    public double HalfWidth;
    public Spectrum Colour;
    public Spectrum Skylight;
    public float LitLeft;      // slope on the +v side
    public float LitRight;     // slope on the -v side
    public double SkylightPeriod;
    public double SkylightWidth;
    public double VentPeriod;
    public float Weathering;
    public uint Seed;

    public readonly void Apply(SceneCanvas canvas, int index, double x, double y, float coverage)
    {
        var (u, v) = At.Local(x, y);
        var s = Colour;
        if (Weathering > 0)
        {
            s *= 1f + Weathering * Noise.Fbm(x / 22, y / 22, Seed, 2);
        }

        double along = u + HalfLength;
        if (SkylightPeriod > 0 && Math.Abs(v) > 2.5 && Math.Abs(v) < HalfWidth - 2.5
            && along > 4 && along < 2 * HalfLength - 4 && along % SkylightPeriod < SkylightWidth)
        {
            s = Skylight;
        }

        float lit = v >= 0 ? LitLeft : LitRight;
        if (Math.Abs(v) < 0.45)
        {
            lit = 0.5f * (LitLeft + LitRight) * 0.92f; // ridge cap
        }
        else if (VentPeriod > 0 && Math.Abs(v) < 1.4 && along > 6 && along % VentPeriod < 1.6)
        {
            s = Materials.RustSteel;
        }

        canvas.Blend(index, s * lit, coverage);
    }
}

/// <summary>Material pile: conical mounds shaded by the sun, or flat stacks with striations.</summary>
internal struct PilePaint : IPaint
{
    public Placement At;
    public double Radius;
    public bool Stacked;
    public Spectrum Colour;
    public double SunX;   // unit vector towards the sun
    public double SunY;
    public double SunZ;
    public uint Seed;

    public readonly void Apply(SceneCanvas canvas, int index, double x, double y, float coverage)
    {
        double dx = x - At.Cx, dy = y - At.Cy;
        float shade;
        float grain;
        if (!Stacked)
        {
            double rho = Math.Sqrt(dx * dx + dy * dy);
            double r = rho / Radius;
            // Flanks near the angle of repose (~33 deg), flattening towards the crest.
            double slope = 0.55 * Math.Clamp((r - 0.15) / 0.35, 0, 1);
            double nz = Math.Sqrt(1 - slope * slope);
            double nx = rho > 1e-6 ? dx / rho * slope : 0, ny = rho > 1e-6 ? dy / rho * slope : 0;
            double cosi = nx * SunX + ny * SunY + nz * SunZ;
            shade = (float)Math.Clamp(0.25 + 0.75 * Math.Max(cosi, 0) / SunZ, 0.3, 1.5);
            grain = 1f + 0.12f * Noise.Value(x / 0.9, y / 0.9, Seed);
        }
        else
        {
            double w = At.Local(x, y).V;
            shade = 1f + 0.10f * (float)Math.Sin(2 * Math.PI * w / 1.15);
            grain = 1f + 0.10f * Noise.Value(x / 1.6, y / 1.6, Seed);
        }

        canvas.Blend(index, Colour * (shade * grain), coverage);
    }
}

/// <summary>Truck seen from above: windscreen, cab roof, then the cargo bed.</summary>
internal struct VehiclePaint : IPaint
{
    public Placement At;
    public double HalfLength;
    public Spectrum Cab;
    public Spectrum Bed;

    public readonly void Apply(SceneCanvas canvas, int index, double x, double y, float coverage)
    {
        double u = At.Local(x, y).U;
        Spectrum s;
        if (u > HalfLength - 0.55)
        {
            s = Materials.CarInteriorDark; // windscreen glass
        }
        else if (u > HalfLength - 1.8)
        {
            s = Cab;
        }
        else if (u > HalfLength - 2.05)
        {
            s = Bed * 0.6f; // gap between cab and body
        }
        else
        {
            s = Bed;
        }

        canvas.Blend(index, s, coverage);
    }
}

/// <summary>Open-top freight car: rusty rim walls around a dark (empty or coal-loaded) interior.</summary>
internal struct FreightCarPaint : IPaint
{
    public Placement At;
    public double HalfLength;
    public double HalfWidth;
    public Spectrum Rim;
    public Spectrum Load;

    public readonly void Apply(SceneCanvas canvas, int index, double x, double y, float coverage)
    {
        var (u, v) = At.Local(x, y);
        bool interior = Math.Abs(u) < HalfLength - 0.3 && Math.Abs(v) < HalfWidth - 0.25;
        canvas.Blend(index, interior ? Load : Rim, coverage);
    }
}
