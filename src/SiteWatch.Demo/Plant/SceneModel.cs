using NetTopologySuite.Geometries;

namespace SiteWatch.Demo.Plant;

internal enum FeatureKind
{
    Road,
    RailSpur,
    TunnelEntrance,
    AssemblyHall,
    NewAssemblyBuilding,
    WorkerHousing,
    BridgeCrane,
    MaterialPile,
    Vehicle,
    FreightCar,
}

/// <summary>How a truth object looks: geometry in local plant metres plus material and height.</summary>
internal sealed class SceneFeature
{
    public required FeatureKind Kind { get; init; }

    /// <summary>Footprint in local metres (what the truth footprint is, translated).</summary>
    public required Shape Footprint { get; init; }

    /// <summary>Centre, length (along <see cref="Angle"/>), width and orientation of box-like objects.</summary>
    public double Cx { get; init; }

    public double Cy { get; init; }

    public double Length { get; init; }

    public double Width { get; init; }

    /// <summary>Direction of the long axis, radians counter-clockwise from east.</summary>
    public double Angle { get; init; }

    public double Height { get; init; }

    public Spectrum Primary { get; init; }

    public Spectrum Secondary { get; init; }

    /// <summary>Sub-type: road surface, pile build (0 mound, 1 stack), ...</summary>
    public int Variant { get; init; }

    /// <summary>Radius of piles (metres).</summary>
    public double Radius { get; init; }

    /// <summary>Extra drawn parts (rails of a track, the opening of a tunnel, ...).</summary>
    public IReadOnlyList<Shape> Parts { get; init; } = [];
}

internal sealed record PlacedFeature(TruthObject Truth, SceneFeature Look);

/// <summary>Ground surfaces and terrain of the site that are not truth objects themselves.</summary>
internal sealed class SiteLayout
{
    /// <summary>Local x of the tunnel portal, where the hill foot is pinned.</summary>
    public const double TunnelX = -120;

    public const double TunnelFootY = 262;

    public required Polygon AoiLocal { get; init; }

    /// <summary>Plant ground (compacted earth) inside the fence, south of the hillside.</summary>
    public required Shape Yard { get; init; }

    /// <summary>Fields around the plant.</summary>
    public required Shape Farmland { get; init; }

    public required Shape ParkingApron { get; init; }

    public required Shape LaydownYard { get; init; }

    public required Shape TunnelApron { get; init; }

    /// <summary>Excavated rock face around the tunnel portal.</summary>
    public required Shape TunnelCut { get; init; }

    public required IReadOnlyList<Shape> CraneRunwayRails { get; init; }

    /// <summary>A patch of fields well away from the plant, used to check vegetation phenology.</summary>
    public required Polygon VegetationProbeLocal { get; init; }

    /// <summary>Northing (local) of the foot of the hillside at local easting x.</summary>
    public static double HillFootY(double x) => TunnelFootY + FootWave(x) - FootWave(TunnelX);

    /// <summary>d(HillFootY)/dx.</summary>
    public static double HillFootSlope(double x) => 12.0 / 130 * Math.Cos(x / 130 + 0.7) + 5.0 / 47 * Math.Cos(x / 47);

    private static double FootWave(double x) => 12 * Math.Sin(x / 130 + 0.7) + 5 * Math.Sin(x / 47);
}
