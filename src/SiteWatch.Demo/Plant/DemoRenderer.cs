namespace SiteWatch.Demo.Plant;

/// <summary>
/// Renders one acquisition of a <see cref="DemoPlan"/>: the ground is described in local metres and sampled
/// on the scene's shifted pixel grid (pixel (col,row) centre at OriginX + (col + 0.5 + ShiftX) * Gsd,
/// OriginY - (row + 0.5 + ShiftY) * Gsd) with exact anti-aliased coverage, so misregistration is real
/// sub-pixel geometry. Nuisances are applied in the order a sensor sees them: terrain and objects with
/// their sun shadows, cloud shadows and clouds, optics (PSF), atmosphere and calibration, sensor noise.
/// </summary>
public static class DemoRenderer
{
    private const int Bands = 4;

    public static RenderedScene Render(DemoPlan plan, int acquisitionIndex)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentOutOfRangeException.ThrowIfNegative(acquisitionIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(acquisitionIndex, plan.Acquisitions.Count);

        var acquisition = plan.Acquisitions[acquisitionIndex];
        var conditions = plan.Conditions[acquisitionIndex];
        var ctx = new RenderContext(plan, acquisition);
        var canvas = new SceneCanvas(plan.Width, plan.Height, plan.Gsd, plan.OriginX, plan.OriginY,
            plan.CentreEasting, plan.CentreNorthing, acquisition.ShiftXPixels, acquisition.ShiftYPixels);

        PaintTerrain(canvas, ctx);
        PaintGroundSurfaces(canvas, plan, ctx);
        PaintObjects(canvas, plan, ctx);
        byte[]? cloudMask = conditions.Clouds is null ? null : PaintClouds(canvas, conditions.Clouds);
        ApplyPointSpreadFunction(canvas);
        return Finish(canvas, conditions, acquisition, ctx, cloudMask);
    }

    /// <summary>Per-scene geometry and season derived from the acquisition.</summary>
    private sealed class RenderContext
    {
        public RenderContext(DemoPlan plan, DemoAcquisition acquisition)
        {
            Date = DateOnly.FromDateTime(acquisition.AcquiredUtc);
            double el = acquisition.SunElevationDeg * Math.PI / 180, az = acquisition.SunAzimuthDeg * Math.PI / 180;
            SunX = Math.Sin(az) * Math.Cos(el);
            SunY = Math.Cos(az) * Math.Cos(el);
            SunZ = Math.Sin(el);
            // Shadows point away from the sun; their length per metre of height is 1 / tan(elevation).
            ShadowDx = -Math.Sin(az) / Math.Tan(el);
            ShadowDy = -Math.Cos(az) / Math.Tan(el);
            Grass = Season.Grass(Date);
            Deciduous = Season.Deciduous(Date);
            Haze = (float)acquisition.HazeLevel;
            // Haze adds scattered skylight, so shadows are less deep on hazy days.
            Diffuse = Materials.ShadowDiffuseClear + new Spectrum(0.16f, 0.15f, 0.14f, 0.10f) * Haze;
            Seed = Noise.SubSeed(plan.Seed, 1000);
        }

        public DateOnly Date { get; }

        public double SunX { get; }

        public double SunY { get; }

        public double SunZ { get; }

        public double ShadowDx { get; }

        public double ShadowDy { get; }

        public float Grass { get; }

        public float Deciduous { get; }

        public float Haze { get; }

        public Spectrum Diffuse { get; }

        /// <summary>Texture seed: identical for every scene of a plan, so the ground is the same ground.</summary>
        public uint Seed { get; }

        public Spectrum GrassColour => Spectrum.Lerp(Materials.DryGrass, Materials.GreenGrass, Grass);

        public Spectrum CanopyColour => Spectrum.Lerp(Materials.DeciduousLeafOff, Materials.DeciduousLeafOn, Deciduous);

        /// <summary>Brightness factor of a plane facing horizontal direction (nx, ny) with the given pitch.</summary>
        public float Facet(double nx, double ny, double pitchDeg)
        {
            double p = pitchDeg * Math.PI / 180;
            double cosi = nx * Math.Sin(p) * SunX + ny * Math.Sin(p) * SunY + Math.Cos(p) * SunZ;
            // Reflectance products are normalised for flat ground; keep a diffuse share on tilted facets.
            return (float)Math.Clamp(0.2 + 0.8 * Math.Max(cosi, 0) / SunZ, 0.25, 1.6);
        }
    }

    private static void PaintTerrain(SceneCanvas c, RenderContext ctx)
    {
        int w = c.Width, h = c.Height;
        var xs = new double[w];
        var foot = new double[w];
        var footSlope = new double[w];
        for (int col = 0; col < w; col++)
        {
            xs[col] = c.LocalX(col);
            foot[col] = SiteLayout.HillFootY(xs[col]);
            footSlope[col] = SiteLayout.HillFootSlope(xs[col]);
        }

        uint s = ctx.Seed;
        var grass = ctx.GrassColour;
        var canopy = ctx.CanopyColour;
        var clearing = Spectrum.Lerp(Materials.Rock, grass, 0.55f);
        double sunX = ctx.SunX, sunY = ctx.SunY, sunZ = ctx.SunZ;
        const double treeHeight = 8;
        double tsx = ctx.ShadowDx * treeHeight, tsy = ctx.ShadowDy * treeHeight;
        var diffuse = ctx.Diffuse;
        for (int row = 0; row < h; row++)
        {
            double y = c.LocalY(row);
            int i = row * w;
            for (int col = 0; col < w; col++, i++)
            {
                double x = xs[col];
                double above = y - foot[col];
                float hillT = Noise.SmoothStep(-4f, 26f, (float)above);
                Spectrum refl = default;
                float f = Noise.Value(x / 1.9, y / 1.9, s + 4);
                if (hillT < 1f)
                {
                    float m = Noise.Fbm(x / 380, y / 380, s + 1, 2);
                    float v = Noise.Fbm(x / 75, y / 75, s + 2, 3);
                    float t = Noise.Fbm(x / 16, y / 16, s + 3, 2);
                    float cover = Math.Clamp(0.62f + 0.9f * v + 0.35f * m, 0.04f, 0.97f);
                    var soil = Spectrum.Lerp(Materials.SoilDry, Materials.SoilMoist, Math.Clamp(0.45f + 0.8f * m, 0f, 1f)) * (1f + 0.16f * t + 0.06f * f);
                    refl = Spectrum.Lerp(soil, grass * (1f + 0.10f * f + 0.08f * t), cover);

                    // Scattered trees and shrubs, denser where vegetation is dense, with their shadows.
                    float crown = Noise.Value(x / 4.2, y / 4.2, s + 5) + 0.5f * v - 0.55f;
                    if (crown > 0)
                    {
                        refl = Spectrum.Lerp(refl, canopy * (0.8f + 0.35f * f), Noise.SmoothStep(0f, 0.12f, crown));
                    }
                    else
                    {
                        float shading = Noise.Value((x - tsx) / 4.2, (y - tsy) / 4.2, s + 5) + 0.5f * v - 0.55f;
                        if (shading > 0)
                        {
                            refl = refl.Times(Spectrum.Lerp(new Spectrum(1, 1, 1, 1), diffuse, Noise.SmoothStep(0f, 0.12f, shading)));
                        }
                    }
                }

                if (hillT > 0f)
                {
                    // Concave hillside rising ~170 m north of the foot line, with ridges and gullies.
                    double ap = Math.Max(above, 0);
                    double dEdy = 170.0 / 260.0 * Math.Exp(-ap / 260.0) * (above > 0 ? 1 : 0.2);
                    double ex = -dEdy * footSlope[col], ey = dEdy;
                    double reliefAmp = 45 * Math.Min(1.0, ap / 60.0 + 0.05);
                    float r0 = Noise.Fbm(x / 110, y / 110, s + 6, 3);
                    float rx = Noise.Fbm((x + 2) / 110, y / 110, s + 6, 3);
                    float ry = Noise.Fbm(x / 110, (y + 2) / 110, s + 6, 3);
                    ex += reliefAmp * (rx - r0) / 2;
                    ey += reliefAmp * (ry - r0) / 2;
                    double norm = Math.Sqrt(ex * ex + ey * ey + 1);
                    double cosi = (-ex * sunX - ey * sunY + sunZ) / norm;
                    float illum = (float)Math.Min(1.7, 0.25 + 0.75 * Math.Max(cosi, 0) / sunZ);

                    float crownTex = Noise.Value(x / 3.2, y / 3.2, s + 7);
                    float conifer = Math.Clamp(0.5f + 1.3f * Noise.Fbm(x / 150, y / 150, s + 8, 2), 0f, 1f);
                    var forest = Spectrum.Lerp(canopy, Materials.Conifer, conifer) * (0.72f + 0.22f * crownTex + 0.06f * f);
                    // Occasional rocky clearings.
                    float gap = Noise.Fbm(x / 40, y / 40, s + 9, 3);
                    forest = Spectrum.Lerp(forest, clearing * (1f + 0.1f * f), Noise.SmoothStep(0.6f, 0.75f, gap));
                    // The first metres above the foot are scree and scrub rather than closed forest.
                    forest = Spectrum.Lerp(clearing, forest, Noise.SmoothStep(0f, 20f, (float)above));
                    refl = Spectrum.Lerp(refl, forest * illum, hillT);
                }

                c.Set(i, refl);
            }
        }
    }

    private static void PaintGroundSurfaces(SceneCanvas c, DemoPlan plan, RenderContext ctx)
    {
        var layout = plan.Layout;
        uint s = ctx.Seed;
        c.Fill(layout.Farmland, new FarmPaint(ctx.Date.DayOfYear, ctx.GrassColour, s + 20));
        c.Fill(layout.Yard, new YardPaint(ctx.GrassColour, s + 21));
        c.Fill(layout.ParkingApron, new TexturedPaint(Materials.ConcreteOld * 0.92f, 0.07f, 9, 0.03f, s + 22));
        c.Fill(layout.LaydownYard, new TexturedPaint(Materials.Gravel, 0.09f, 7, 0.05f, s + 23));
        c.Fill(layout.TunnelCut, new TexturedPaint(Spectrum.Lerp(Materials.Rock, Materials.SoilDry, 0.35f), 0.22f, 4, 0.10f, s + 24));
        c.Fill(layout.TunnelApron, new TexturedPaint(Materials.Gravel * 1.05f, 0.07f, 8, 0.04f, s + 25));

        foreach (var (truth, look) in plan.Features)
        {
            if (!truth.IsPresentOn(ctx.Date))
            {
                continue;
            }

            switch (look.Kind)
            {
                case FeatureKind.Road:
                    c.Fill(look.Footprint, new TexturedPaint(look.Primary, look.Variant == 2 ? 0.10f : 0.05f, 10, 0.03f, s + 30));
                    break;
                case FeatureKind.RailSpur:
                    c.Fill(look.Footprint, new TexturedPaint(look.Primary, 0.08f, 3, 0.08f, s + 31));
                    foreach (var rail in look.Parts)
                    {
                        c.Fill(rail, new SolidPaint(look.Secondary));
                    }

                    break;
                case FeatureKind.TunnelEntrance:
                    for (int k = 1; k < look.Parts.Count; k++)
                    {
                        c.Fill(look.Parts[k], new TexturedPaint(look.Primary, 0.05f, 4, 0.03f, s + 32));
                    }

                    c.Fill(look.Parts[0], new SolidPaint(look.Secondary));
                    break;
            }
        }

        foreach (var rail in layout.CraneRunwayRails)
        {
            c.Fill(rail, new SolidPaint(Materials.RailSteel));
        }

        // Construction sites: cleared ground, then concrete slabs.
        foreach (var (truth, look) in plan.Features)
        {
            string? stage = truth.StageOn(ctx.Date);
            if (stage is null)
            {
                continue;
            }

            if (look.Kind == FeatureKind.NewAssemblyBuilding)
            {
                var site = Shape.Box(look.Cx, look.Cy, look.Length + 16, look.Width + 16, look.Angle);
                c.Fill(site, new TexturedPaint(Materials.ClearedSoil, 0.10f, 6, 0.05f, s + 33));
                if (stage != "cleared")
                {
                    c.Fill(look.Footprint, new TexturedPaint(Materials.ConcreteFresh, 0.04f, 12, 0.02f, s + 34));
                }
            }
            else if (look.Kind == FeatureKind.WorkerHousing && stage != "roof")
            {
                var slab = Shape.Box(look.Cx, look.Cy, look.Length + 1, look.Width + 1, look.Angle);
                c.Fill(slab, new TexturedPaint(Materials.ConcreteFresh * 0.95f, 0.04f, 8, 0.02f, s + 35));
            }
        }
    }

    private static void PaintObjects(SceneCanvas c, DemoPlan plan, RenderContext ctx)
    {
        var present = plan.Features.Where(f => f.Truth.IsPresentOn(ctx.Date)).ToList();
        double sx = ctx.ShadowDx, sy = ctx.ShadowDy;

        // Low objects first: their own shadows darken the ground, then they are drawn over them.
        var low = present.Where(f => f.Look.Kind is FeatureKind.MaterialPile or FeatureKind.Vehicle or FeatureKind.FreightCar).ToList();
        foreach (var (_, look) in low)
        {
            // A mound's shadow is shorter than its peak height suggests: use ~60% of it.
            double h = look.Kind == FeatureKind.MaterialPile && look.Variant == 0 ? 0.6 * look.Height : look.Height;
            c.AddShadow(look.Footprint.ShadowOfPrism(0, h, sx, sy), look.Footprint);
        }

        c.ApplyShadows(ctx.Diffuse);
        foreach (var (_, look) in low)
        {
            DrawLowObject(c, look, ctx);
        }

        // Tall structures: their shadows also fall on the low objects.
        var tall = present.Where(f => f.Look.Kind is FeatureKind.AssemblyHall or FeatureKind.NewAssemblyBuilding
            or FeatureKind.WorkerHousing or FeatureKind.BridgeCrane).ToList();
        foreach (var (truth, look) in tall)
        {
            AddTallShadows(c, look, truth.StageOn(ctx.Date), sx, sy);
        }

        c.ApplyShadows(ctx.Diffuse);
        foreach (var (truth, look) in tall.OrderBy(f => f.Look.Height))
        {
            DrawTallObject(c, look, truth.StageOn(ctx.Date), ctx);
        }
    }

    private static void DrawLowObject(SceneCanvas c, SceneFeature look, RenderContext ctx)
    {
        var at = Placement.Of(look);
        switch (look.Kind)
        {
            case FeatureKind.MaterialPile:
                c.Fill(look.Footprint, new PilePaint
                {
                    At = at,
                    Radius = look.Radius,
                    Stacked = look.Variant == 1,
                    Colour = look.Primary,
                    SunX = ctx.SunX,
                    SunY = ctx.SunY,
                    SunZ = ctx.SunZ,
                    Seed = ctx.Seed + 40,
                });
                break;
            case FeatureKind.Vehicle:
                c.Fill(look.Footprint, new VehiclePaint
                {
                    At = at,
                    HalfLength = look.Length / 2,
                    Cab = look.Primary,
                    Bed = look.Secondary,
                });
                break;
            case FeatureKind.FreightCar:
                c.Fill(look.Footprint, new FreightCarPaint
                {
                    At = at,
                    HalfLength = look.Length / 2,
                    HalfWidth = look.Width / 2,
                    Rim = look.Primary,
                    Load = look.Secondary,
                });
                break;
        }
    }

    private static void AddTallShadows(SceneCanvas c, SceneFeature look, string? stage, double sx, double sy)
    {
        switch (look.Kind)
        {
            case FeatureKind.AssemblyHall:
                c.AddShadow(look.Footprint.ShadowOfPrism(0, look.Height, sx, sy), look.Footprint);
                break;
            case FeatureKind.BridgeCrane:
                foreach (var (part, h0, h1, _) in CraneParts(look))
                {
                    c.AddShadow(part.ShadowOfPrism(h0, h1, sx, sy), h0 == 0 ? part : null);
                }

                break;
            case FeatureKind.WorkerHousing:
                if (stage == "walls")
                {
                    foreach (var wall in WallParts(look))
                    {
                        c.AddShadow(wall.ShadowOfPrism(0, look.Height - 1.5, sx, sy), wall);
                    }
                }
                else if (stage == "roof")
                {
                    c.AddShadow(look.Footprint.ShadowOfPrism(0, look.Height, sx, sy), look.Footprint);
                }

                break;
            case FeatureKind.NewAssemblyBuilding:
                if (stage is "frame" or "roofing")
                {
                    // Open frame: columns cast lines from the ground, trusses and panels cast displaced bands.
                    foreach (var (part, h0, h1, _, _) in FrameParts(look, stage == "roofing"))
                    {
                        c.AddShadow(part.ShadowOfPrism(h0, h1, sx, sy), h0 == 0 ? part : null);
                    }
                }
                else if (stage == "roof")
                {
                    c.AddShadow(look.Footprint.ShadowOfPrism(0, look.Height, sx, sy), look.Footprint);
                }

                break;
        }
    }

    private static void DrawTallObject(SceneCanvas c, SceneFeature look, string? stage, RenderContext ctx)
    {
        switch (look.Kind)
        {
            case FeatureKind.AssemblyHall:
                c.Fill(look.Footprint, Roof(look, ctx, pitchDeg: 6, skylightPeriod: 12, ventPeriod: 18, weathering: 0.09f));
                break;
            case FeatureKind.BridgeCrane:
                foreach (var (part, _, _, colour) in CraneParts(look).OrderBy(p => p.H1))
                {
                    c.Fill(part, new SolidPaint(colour));
                }

                // The trolley on the girder is darker machinery.
                c.Fill(Shape.Box(look.Cx + 6, look.Cy, 3.5, 3.0, look.Angle), new SolidPaint(look.Secondary * 1.3f));
                break;
            case FeatureKind.WorkerHousing:
                if (stage == "walls")
                {
                    foreach (var wall in WallParts(look))
                    {
                        c.Fill(wall, new SolidPaint(look.Secondary * 1.15f));
                    }
                }
                else if (stage == "roof")
                {
                    c.Fill(look.Footprint, Roof(look, ctx, pitchDeg: 22, skylightPeriod: 0, ventPeriod: 0, weathering: 0.03f));
                }

                break;
            case FeatureKind.NewAssemblyBuilding:
                if (stage is "frame" or "roofing")
                {
                    foreach (var (part, _, _, opacity, isRoof) in FrameParts(look, stage == "roofing"))
                    {
                        if (isRoof)
                        {
                            c.Fill(part, Roof(look, ctx, pitchDeg: 5, skylightPeriod: 0, ventPeriod: 0, weathering: 0f));
                        }
                        else
                        {
                            c.Fill(part, new SolidPaint(look.Secondary, opacity));
                        }
                    }
                }
                else if (stage == "roof")
                {
                    c.Fill(look.Footprint, Roof(look, ctx, pitchDeg: 5, skylightPeriod: 16, ventPeriod: 24, weathering: 0.02f));
                }

                break;
        }
    }

    private static RoofPaint Roof(SceneFeature look, RenderContext ctx, double pitchDeg, double skylightPeriod,
        double ventPeriod, float weathering)
    {
        double cos = Math.Cos(look.Angle), sin = Math.Sin(look.Angle);
        return new RoofPaint
        {
            At = Placement.Of(look),
            HalfLength = look.Length / 2,
            HalfWidth = look.Width / 2,
            Colour = look.Primary,
            Skylight = look.Kind == FeatureKind.AssemblyHall ? look.Secondary : Materials.Skylight,
            // +v side faces (-sin, cos) of the long axis, the -v side the opposite way.
            LitLeft = ctx.Facet(-sin, cos, pitchDeg),
            LitRight = ctx.Facet(sin, -cos, pitchDeg),
            SkylightPeriod = skylightPeriod,
            SkylightWidth = 1.8,
            VentPeriod = ventPeriod,
            Weathering = weathering,
            Seed = ctx.Seed + 50,
        };
    }

    /// <summary>Bridge crane parts with their height ranges: girder, end carriages and four legs.</summary>
    private static (Shape Part, double H0, double H1, Spectrum Colour)[] CraneParts(SceneFeature look)
    {
        double half = look.Length / 2 - 1, legOffset = look.Width / 2 - 0.6;
        double cos = Math.Cos(look.Angle), sin = Math.Sin(look.Angle);
        (double X, double Y) At(double u, double v) => (look.Cx + u * cos - v * sin, look.Cy + u * sin + v * cos);
        var parts = new List<(Shape, double, double, Spectrum)>
        {
            (Shape.Box(look.Cx, look.Cy, look.Length - 0.5, 2.4, look.Angle), look.Height - 1.6, look.Height, look.Primary),
        };
        foreach (int side in new[] { -1, 1 })
        {
            var (ex, ey) = At(side * half, 0);
            parts.Add((Shape.Box(ex, ey, 1.6, look.Width, look.Angle), 0, 1.3, look.Secondary));
            foreach (int end in new[] { -1, 1 })
            {
                var (lx, ly) = At(side * half, end * legOffset);
                parts.Add((Shape.Box(lx, ly, 0.9, 0.9, look.Angle), 0, look.Height - 1.6, look.Primary * 0.9f));
            }
        }

        return [.. parts];
    }

    /// <summary>Outer walls (and one cross wall) of a housing block under construction.</summary>
    private static Shape[] WallParts(SceneFeature look)
    {
        double hl = look.Length / 2, hw = look.Width / 2, t = 0.4;
        double cos = Math.Cos(look.Angle), sin = Math.Sin(look.Angle);
        (double X, double Y) At(double u, double v) => (look.Cx + u * cos - v * sin, look.Cy + u * sin + v * cos);
        var north = At(0, hw - t / 2);
        var south = At(0, -hw + t / 2);
        var east = At(hl - t / 2, 0);
        var west = At(-hl + t / 2, 0);
        var middle = At(0, 0);
        return
        [
            Shape.Box(north.X, north.Y, look.Length, t, look.Angle),
            Shape.Box(south.X, south.Y, look.Length, t, look.Angle),
            Shape.Box(east.X, east.Y, t, look.Width, look.Angle),
            Shape.Box(west.X, west.Y, t, look.Width, look.Angle),
            Shape.Box(middle.X, middle.Y, t, look.Width, look.Angle),
        ];
    }

    /// <summary>
    /// Steel frame of the new building: portal trusses across the span every 8 m, eave and ridge members,
    /// columns; in the roofing stage the western part already carries roof panels (opacity 1).
    /// </summary>
    private static List<(Shape Part, double H0, double H1, float Opacity, bool IsRoof)> FrameParts(SceneFeature look, bool roofing)
    {
        double hl = look.Length / 2, hw = look.Width / 2, h = look.Height;
        double cos = Math.Cos(look.Angle), sin = Math.Sin(look.Angle);
        (double X, double Y) At(double u, double v) => (look.Cx + u * cos - v * sin, look.Cy + u * sin + v * cos);
        var parts = new List<(Shape, double, double, float, bool)>();
        const double bay = 8;
        int bays = (int)Math.Round(look.Length / bay);
        for (int k = 0; k <= bays; k++)
        {
            double u = -hl + Math.Min(k * bay, look.Length - 0.25) + (k == 0 ? 0.25 : 0);
            var (tx, ty) = At(u, 0);
            // Lattice trusses: open web, so only part of each pixel is steel.
            parts.Add((Shape.Box(tx, ty, 0.6, look.Width, look.Angle), h - 1.8, h, 0.75f, false));
            foreach (int side in new[] { -1, 1 })
            {
                var (cx, cy) = At(u, side * (hw - 0.3));
                parts.Add((Shape.Box(cx, cy, 0.7, 0.7, look.Angle), 0, h - 1.8, 1f, false));
            }
        }

        foreach (double v in new[] { -hw + 0.2, 0, hw - 0.2 })
        {
            var (px, py) = At(0, v);
            parts.Add((Shape.Box(px, py, look.Length, 0.4, look.Angle), h - 0.6, h, 0.9f, false));
        }

        if (roofing)
        {
            // Roof sheets laid from the west end over ~45% of the length.
            double covered = 0.45 * look.Length;
            var (rx, ry) = At(-hl + covered / 2, 0);
            parts.Add((Shape.Box(rx, ry, covered, look.Width, look.Angle), h - 0.3, h, 1f, true));
        }

        return parts;
    }

    /// <summary>Cloud shadows (displaced away from the sun) then soft white clouds; returns the cloud mask.</summary>
    private static byte[] PaintClouds(SceneCanvas c, CloudField clouds)
    {
        int w = c.Width, h = c.Height;
        var mask = new byte[w * h];
        // Pixel window covering the clouds and their shadows.
        double minX = Math.Min(clouds.MinX, clouds.MinX + clouds.ShadowDx), maxX = Math.Max(clouds.MaxX, clouds.MaxX + clouds.ShadowDx);
        double minY = Math.Min(clouds.MinY, clouds.MinY + clouds.ShadowDy), maxY = Math.Max(clouds.MaxY, clouds.MaxY + clouds.ShadowDy);
        int c0 = Math.Clamp((int)Math.Floor(c.PixelX(minX)) - 1, 0, w), c1 = Math.Clamp((int)Math.Ceiling(c.PixelX(maxX)) + 1, 0, w);
        int r0 = Math.Clamp((int)Math.Floor(c.PixelY(maxY)) - 1, 0, h), r1 = Math.Clamp((int)Math.Ceiling(c.PixelY(minY)) + 1, 0, h);
        // Under a cloud the ground still gets skylight and light scattered off neighbouring clouds.
        var shadowFloor = new Spectrum(0.52f, 0.45f, 0.41f, 0.38f);
        var cloudWhite = Materials.Cloud;
        for (int row = r0; row < r1; row++)
        {
            double y = c.LocalY(row);
            for (int col = c0; col < c1; col++)
            {
                double x = c.LocalX(col);
                int i = row * w + col;
                float shade = clouds.ShadowOpacity(x, y);
                float cover = clouds.Opacity(x, y);
                if (shade > 0)
                {
                    c.B[i] *= 1f - shade * (1f - shadowFloor.B);
                    c.G[i] *= 1f - shade * (1f - shadowFloor.G);
                    c.R[i] *= 1f - shade * (1f - shadowFloor.R);
                    c.N[i] *= 1f - shade * (1f - shadowFloor.N);
                }

                if (cover > 0)
                {
                    c.Blend(i, cloudWhite * clouds.Brightness(x, y), cover);
                }

                if (cover > CloudField.MaskThreshold || shade > CloudField.MaskThreshold)
                {
                    mask[i] = 1;
                }
            }
        }

        return mask;
    }

    /// <summary>Optics and detector: a small separable [0.2 0.6 0.2] blur, so edges are not razor-sharp.</summary>
    private static void ApplyPointSpreadFunction(SceneCanvas c)
    {
        int w = c.Width, h = c.Height;
        var tmp = new float[w * h];
        foreach (var band in new[] { c.B, c.G, c.R, c.N })
        {
            for (int row = 0; row < h; row++)
            {
                int i0 = row * w;
                tmp[i0] = 0.8f * band[i0] + 0.2f * band[i0 + 1];
                for (int i = i0 + 1; i < i0 + w - 1; i++)
                {
                    tmp[i] = 0.2f * (band[i - 1] + band[i + 1]) + 0.6f * band[i];
                }

                tmp[i0 + w - 1] = 0.8f * band[i0 + w - 1] + 0.2f * band[i0 + w - 2];
            }

            for (int row = 0; row < h; row++)
            {
                int up = row == 0 ? 0 : (row - 1) * w, here = row * w, down = row == h - 1 ? here : (row + 1) * w;
                for (int col = 0; col < w; col++)
                {
                    band[here + col] = 0.2f * (tmp[up + col] + tmp[down + col]) + 0.6f * tmp[here + col];
                }
            }
        }
    }

    /// <summary>Atmosphere (transmittance loss and path radiance, stronger in blue), calibration, noise, quantisation.</summary>
    private static RenderedScene Finish(SceneCanvas c, SceneConditions conditions, DemoAcquisition acquisition,
        RenderContext ctx, byte[]? cloudMask)
    {
        int w = c.Width, h = c.Height, n = w * h;
        var output = new ushort[Bands][];
        for (int b = 0; b < Bands; b++)
        {
            output[b] = new ushort[n];
        }

        // Gaussian deviates from a table indexed by a fast generator: far cheaper than Box-Muller per sample.
        var rng = new SplitMix64(conditions.NoiseSeed);
        const int tableBits = 12;
        var gauss = new float[1 << tableBits];
        for (int k = 0; k < gauss.Length; k += 2)
        {
            double u1 = rng.NextDouble(), u2 = rng.NextDouble();
            double r = Math.Sqrt(-2 * Math.Log(u1));
            gauss[k] = (float)(r * Math.Cos(2 * Math.PI * u2));
            gauss[k + 1] = (float)(r * Math.Sin(2 * Math.PI * u2));
        }

        ReadOnlySpan<float> extinction = [0.20f, 0.15f, 0.11f, 0.07f];
        ReadOnlySpan<float> pathRadiance = [0.110f, 0.075f, 0.048f, 0.022f];
        var planes = new[] { c.B, c.G, c.R, c.N };
        Span<float> gain = [conditions.Gain.B, conditions.Gain.G, conditions.Gain.R, conditions.Gain.N];
        Span<float> offset = [conditions.Offset.B, conditions.Offset.G, conditions.Offset.R, conditions.Offset.N];
        Span<float> sigma = [conditions.NoiseSigma.B, conditions.NoiseSigma.G, conditions.NoiseSigma.R, conditions.NoiseSigma.N];
        float haze = (float)acquisition.HazeLevel;
        uint hazeSeed = ctx.Seed + (uint)acquisition.Index * 7919u;
        const int mask = (1 << tableBits) - 1;
        for (int row = 0; row < h; row++)
        {
            double y = c.LocalY(row);
            for (int col = 0; col < w; col++)
            {
                int i = row * w + col;
                // Haze thickness varies slowly across the scene.
                float hz = haze * (1f + 0.35f * Noise.Value(c.LocalX(col) / 650, y / 650, hazeSeed));
                ulong bits = rng.Next();
                for (int b = 0; b < Bands; b++)
                {
                    float surface = planes[b][i];
                    float toa = (1f - hz * extinction[b]) * surface + hz * pathRadiance[b];
                    float value = gain[b] * toa + offset[b] + sigma[b] * gauss[(int)(bits >> (b * tableBits)) & mask];
                    float dn = MathF.Round(value * 10000f);
                    output[b][i] = (ushort)Math.Clamp(dn, 1f, 20000f);
                }
            }
        }

        return new RenderedScene { Width = w, Height = h, Bands = output, CloudMask = cloudMask };
    }
}
