namespace SiteWatch.Video.Geo;

/// <summary>Where a terrain height came from.</summary>
public enum TerrainSource
{
    /// <summary>No height is known here (outside the DEM, no fallback): rays pass through.</summary>
    None,
    /// <summary>Interpolated in the DEM.</summary>
    Dem,
    /// <summary>A flat surface at a constant height (no DEM in use).</summary>
    Constant,
    /// <summary>Outside the DEM's extent: the fallback surface was used.</summary>
    FallbackOutsideDem,
    /// <summary>On DEM voids (nodata): the fallback surface was used.</summary>
    FallbackVoid,
}

/// <summary>A terrain height above the WGS 84 ellipsoid, and where it came from.</summary>
public readonly record struct TerrainSample(double HeightAboveEllipsoid, TerrainSource Source)
{
    public bool HasHeight => Source != TerrainSource.None;
}

/// <summary>
/// An upper bound on the terrain height (HAE) that holds everywhere within <see cref="RadiusMetres"/> (measured on
/// the ground) of the point it was asked for. Ray marching uses it to jump over air it cannot hit.
/// </summary>
public readonly record struct TerrainBound(double MaxHeightAboveEllipsoid, double RadiusMetres);

/// <summary>A terrain surface that rays are intersected with. Implementations need not be thread-safe.</summary>
public interface ITerrain
{
    /// <summary>What the surface is, for messages ("SRTM tile n37e127.hgt (MSL, EGM96)", "flat at 120 m MSL").</summary>
    string Description { get; }

    /// <summary>Height above the ellipsoid at a WGS 84 position.</summary>
    TerrainSample Sample(double latitude, double longitude);

    /// <summary>A height bound valid around a position (see <see cref="TerrainBound"/>).</summary>
    TerrainBound Bound(double latitude, double longitude);

    /// <summary>The highest the terrain can be anywhere (HAE): a ray above it and climbing never lands.</summary>
    double Ceiling { get; }

    /// <summary>Marching step along a ray near a position: about one DEM pixel.</summary>
    double StepMetres(double latitude, double longitude);
}

/// <summary>
/// A flat surface at a constant height, MSL (EGM96, so the ellipsoid height follows the geoid) or above the
/// ellipsoid. Stands in for a DEM: the KLV frame-centre elevation (tag 25) or a height the analyst gives.
/// </summary>
public sealed class ConstantTerrain : ITerrain
{
    // EGM96's steepest slopes are a few 1e-4 (trenches); within BoundRadius the undulation moves by less than BoundMargin.
    private const double BoundRadius = 5_000;
    private const double BoundMargin = 3;
    // Highest EGM96 undulation is about +86 m.
    private const double MaxUndulation = 90;

    private readonly GeoidModel _geoid;

    public ConstantTerrain(double height, HeightReference reference, GeoidModel? geoid = null, string? origin = null)
    {
        if (!double.IsFinite(height))
        {
            throw new ArgumentOutOfRangeException(nameof(height), "The terrain height must be a finite number.");
        }

        Height = height;
        Reference = reference;
        _geoid = reference == HeightReference.Msl ? geoid ?? GeoidModel.Egm96OrZero : GeoidModel.Zero;
        var datum = reference == HeightReference.Ellipsoid ? "HAE"
            : _geoid.IsApproximate ? "MSL, no geoid grid: taken as HAE" : $"MSL, {_geoid.Name}";
        Description = string.Create(CultureInfo.InvariantCulture, $"flat terrain at {height:0.##} m ({datum})")
            + (origin is null ? "" : $", {origin}");
    }

    public double Height { get; }

    public HeightReference Reference { get; }

    public GeoidModel Geoid => _geoid;

    public string Description { get; }

    public double Ceiling => Reference == HeightReference.Ellipsoid ? Height : Height + MaxUndulation;

    public TerrainSample Sample(double latitude, double longitude) =>
        new(_geoid.ToEllipsoid(latitude, longitude, Height, Reference), TerrainSource.Constant);

    public TerrainBound Bound(double latitude, double longitude) =>
        Reference == HeightReference.Ellipsoid || _geoid.IsApproximate
            ? new TerrainBound(Height, double.PositiveInfinity)
            : new TerrainBound(Height + _geoid.Undulation(latitude, longitude) + BoundMargin, BoundRadius);

    // The surface is smooth: a coarse step, then bisection, finds the crossing to the millimetre.
    public double StepMetres(double latitude, double longitude) => 10;

    public override string ToString() => Description;
}
