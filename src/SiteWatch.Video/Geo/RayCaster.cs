namespace SiteWatch.Video.Geo;

/// <summary>How a ray ended.</summary>
public enum RayStatus
{
    /// <summary>The ray meets the terrain.</summary>
    Hit,
    /// <summary>The ray climbs above anything the terrain can reach (above the horizon, or into the sky).</summary>
    AboveHorizon,
    /// <summary>The ray went further than the range limit without meeting the terrain.</summary>
    MaxRangeExceeded,
    /// <summary>The sensor itself is below the terrain surface (wrong altitude or datum?).</summary>
    SensorBelowTerrain,
    /// <summary>The ray crossed only places without terrain heights (outside the DEM, no fallback).</summary>
    NoTerrain,
}

/// <summary>
/// Result of intersecting one ray with the terrain. For a hit, <see cref="Point"/> / <see cref="Ecef"/> is the ground
/// point and <see cref="Range"/> its distance from the sensor; otherwise they tell where the march stopped.
/// <see cref="Samples"/> counts terrain look-ups (a cost measure).
/// </summary>
public readonly record struct RayHit(RayStatus Status, GeoPoint Point, Vec3 Ecef, double Range, TerrainSource Source, int Samples)
{
    public bool IsHit => Status == RayStatus.Hit;
}

/// <summary>Limits of ray marching.</summary>
public sealed record RayCastOptions
{
    /// <summary>Rays give up beyond this distance from the sensor (metres).</summary>
    public double MaxRangeMetres { get; init; } = 500_000;

    /// <summary>Bisection stops when the crossing is bracketed this tightly along the ray (metres).</summary>
    public double ToleranceMetres { get; init; } = 1e-3;

    /// <summary>Safety cap on terrain samples per ray.</summary>
    public int MaxSamples { get; init; } = 2_000_000;
}

/// <summary>
/// Intersects rays with terrain: march from the sensor one terrain step (about a DEM pixel) at a time, and refine the
/// first step that ends below the surface by bisection. Stretches of air that the terrain's height bounds prove empty
/// are crossed in one jump; the jump is conservative because the geodetic height along a straight line is convex
/// (it is the distance to a convex body), so the tangent extrapolation used never overshoots.
/// </summary>
public static class RayCaster
{
    public static RayHit Cast(Vec3 origin, Vec3 direction, ITerrain terrain, RayCastOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(terrain);
        options ??= new RayCastOptions();
        var d = direction.Normalized();
        var tolerance = options.ToleranceMetres;
        var ceiling = terrain.Ceiling;
        var samples = 0;
        var sawTerrain = false;

        var t = 0.0;
        var g = Wgs84.FromEcef(origin);
        var s = terrain.Sample(g.Latitude, g.Longitude);
        samples++;
        sawTerrain |= s.HasHeight;
        if (s.HasHeight && g.HeightAboveEllipsoid < s.HeightAboveEllipsoid)
        {
            return new RayHit(RayStatus.SensorBelowTerrain, g, origin, 0, s.Source, samples);
        }

        while (true)
        {
            if (t > options.MaxRangeMetres || samples >= options.MaxSamples)
            {
                return Miss(RayStatus.MaxRangeExceeded);
            }

            var up = Wgs84.Up(g.Latitude, g.Longitude);
            var rate = d.Dot(up); // dh/dt: the height gradient is the ellipsoid normal
            if (rate >= 0 && g.HeightAboveEllipsoid > ceiling)
            {
                return Miss(RayStatus.AboveHorizon);
            }

            var step = terrain.StepMetres(g.Latitude, g.Longitude);
            var bound = terrain.Bound(g.Latitude, g.Longitude);
            var dt = step;
            var above = g.HeightAboveEllipsoid - bound.MaxHeightAboveEllipsoid;
            if (above > tolerance)
            {
                var byHeight = rate < 0 ? above / -rate : double.PositiveInfinity;
                var horizontal = Math.Sqrt(Math.Max(0, 1 - rate * rate));
                // 10 % margin: the ray's slant relative to the local horizontal drifts as the Earth curves beneath it.
                var byRadius = horizontal > 1e-12 ? 0.9 * bound.RadiusMetres / horizontal : double.PositiveInfinity;
                var jump = Math.Min(byHeight, byRadius);
                if (double.IsPositiveInfinity(jump))
                {
                    // Level or climbing, above a bound that holds everywhere: the ray never comes down.
                    return Miss(RayStatus.AboveHorizon);
                }

                dt = Math.Max(jump, step);
            }

            var tNext = t + dt;
            var pNext = origin + tNext * d;
            var gNext = Wgs84.FromEcef(pNext);
            var sNext = terrain.Sample(gNext.Latitude, gNext.Longitude);
            samples++;
            sawTerrain |= sNext.HasHeight;
            if (sNext.HasHeight && gNext.HeightAboveEllipsoid <= sNext.HeightAboveEllipsoid)
            {
                return Refine(t, tNext);
            }

            t = tNext;
            g = gNext;
        }

        RayHit Miss(RayStatus status) =>
            new(status == RayStatus.MaxRangeExceeded && !sawTerrain ? RayStatus.NoTerrain : status, g, origin + t * d, t, TerrainSource.None, samples);

        RayHit Refine(double lo, double hi)
        {
            // Invariant: the ray is above the terrain at lo and on or below it at hi.
            var source = TerrainSource.None;
            while (hi - lo > tolerance)
            {
                var mid = 0.5 * (lo + hi);
                var gm = Wgs84.FromEcef(origin + mid * d);
                var sm = terrain.Sample(gm.Latitude, gm.Longitude);
                samples++;
                if (sm.HasHeight && gm.HeightAboveEllipsoid <= sm.HeightAboveEllipsoid)
                {
                    hi = mid;
                    source = sm.Source;
                }
                else
                {
                    lo = mid;
                }
            }

            var tHit = 0.5 * (lo + hi);
            var ecef = origin + tHit * d;
            var point = Wgs84.FromEcef(ecef);
            if (source == TerrainSource.None)
            {
                source = terrain.Sample(point.Latitude, point.Longitude).Source;
                samples++;
            }

            return new RayHit(RayStatus.Hit, point, ecef, tHit, source, samples);
        }
    }
}
