using NetTopologySuite.Geometries;

namespace SiteWatch.Demo.Plant;

/// <summary>
/// The synthetic demo site: a georeferenced monthly series of 4-band scenes of an industrial plant near
/// Hamhung (UTM 52N), with the complete ground truth of what is where and what changed between scenes.
/// Build it with <see cref="PlantScenario.Build"/> and render scenes with <see cref="DemoRenderer.Render"/>.
/// </summary>
public sealed class DemoPlan
{
    public const int Epsg = 32652;

    internal DemoPlan(int seed, double gsd, double originX, double originY, int width, int height,
        double centreEasting, double centreNorthing, Polygon aoiUtm,
        IReadOnlyList<DemoAcquisition> acquisitions, IReadOnlyList<TruthObject> objects,
        IReadOnlyList<TruthChange> changes, SiteLayout layout, IReadOnlyList<PlacedFeature> features,
        IReadOnlyList<SceneConditions> conditions)
    {
        Seed = seed;
        Gsd = gsd;
        OriginX = originX;
        OriginY = originY;
        Width = width;
        Height = height;
        CentreEasting = centreEasting;
        CentreNorthing = centreNorthing;
        AoiUtm = aoiUtm;
        Acquisitions = acquisitions;
        Objects = objects;
        Changes = changes;
        Layout = layout;
        Features = features;
        Conditions = conditions;
    }

    /// <summary>Seed the plan was built from; the renderer derives its noise from it.</summary>
    public int Seed { get; }

    /// <summary>Metres per pixel of the delivered scenes.</summary>
    public double Gsd { get; }

    /// <summary>UTM easting of the upper-left corner of the nominal scene grid.</summary>
    public double OriginX { get; }

    /// <summary>UTM northing of the upper-left corner of the nominal scene grid.</summary>
    public double OriginY { get; }

    public int Width { get; }

    public int Height { get; }

    /// <summary>UTM easting of the plant centre, the origin of the scenario's local metre grid.</summary>
    public double CentreEasting { get; }

    /// <summary>UTM northing of the plant centre.</summary>
    public double CentreNorthing { get; }

    /// <summary>Site AOI: the plant fence, at least 100 m inside the scene extent.</summary>
    public Polygon AoiUtm { get; }

    /// <summary>Chronological, roughly monthly acquisitions.</summary>
    public IReadOnlyList<DemoAcquisition> Acquisitions { get; }

    public IReadOnlyList<TruthObject> Objects { get; }

    /// <summary>Changes per consecutive acquisition pair, in pair order then object order.</summary>
    public IReadOnlyList<TruthChange> Changes { get; }

    public string[] BandNames => ["blue", "green", "red", "nir"];

    public double[] BandWavelengthsMicrometres => [0.49, 0.56, 0.665, 0.842];

    /// <summary>Nominal scene extent (claimed georeference) as a UTM envelope.</summary>
    public Envelope SceneExtentUtm => new(OriginX, OriginX + Width * Gsd, OriginY - Height * Gsd, OriginY);

    /// <summary>Affine geotransform in GDAL order: origin x, pixel width, 0, origin y, 0, -pixel height.</summary>
    public double[] GeoTransform => [OriginX, Gsd, 0, OriginY, 0, -Gsd];

    internal SiteLayout Layout { get; }

    internal IReadOnlyList<PlacedFeature> Features { get; }

    internal IReadOnlyList<SceneConditions> Conditions { get; }

    public DateOnly AcquisitionDate(int index) => DateOnly.FromDateTime(Acquisitions[index].AcquiredUtc);

    /// <summary>Objects standing on <paramref name="date"/>.</summary>
    public IReadOnlyList<TruthObject> ObjectsPresentOn(DateOnly date) =>
        Objects.Where(o => o.IsPresentOn(date)).ToList();

    /// <summary>How many objects of <paramref name="objectClass"/> stand on <paramref name="date"/>.</summary>
    public int CountOn(string objectClass, DateOnly date) =>
        Objects.Count(o => o.Class == objectClass && o.IsPresentOn(date));

    /// <summary>Changes between acquisition <paramref name="afterIndex"/> - 1 and <paramref name="afterIndex"/>.</summary>
    public IReadOnlyList<TruthChange> ChangesBefore(int afterIndex)
    {
        var after = AcquisitionDate(afterIndex);
        return Changes.Where(c => c.After == after).ToList();
    }

    /// <summary>Expected pixel position (fractional column, row; 0,0 = upper-left corner of pixel 0,0) of a
    /// UTM point in acquisition <paramref name="index"/>, accounting for its true misregistration.</summary>
    public (double Col, double Row) TruePixelOf(double easting, double northing, int index)
    {
        var a = Acquisitions[index];
        return ((easting - OriginX) / Gsd - a.ShiftXPixels, (OriginY - northing) / Gsd - a.ShiftYPixels);
    }
}

/// <summary>One scene of the series.</summary>
/// <param name="Index">Position in the series (0-based).</param>
/// <param name="AcquiredUtc">Acquisition time (UTC kind).</param>
/// <param name="Sensor">Fictitious sensor name; two sensors with slightly different calibration alternate.</param>
/// <param name="SunElevationDeg">Solar elevation at the site at acquisition time.</param>
/// <param name="SunAzimuthDeg">Solar azimuth, degrees clockwise from north.</param>
/// <param name="HazeLevel">0 (clear) .. 1 (very hazy); drives path radiance and contrast loss.</param>
/// <param name="ShiftXPixels">True misregistration: pixel (col,row) shows the ground at col + 0.5 + ShiftX, so a
/// positive value moves the content towards lower column numbers.</param>
/// <param name="ShiftYPixels">Same along rows: positive moves the content up (towards lower row numbers).</param>
/// <param name="CloudCoverPercent">Percent of the AOI under cloud (opacity above 0.1), null when clear.</param>
public sealed record DemoAcquisition(int Index, DateTime AcquiredUtc, string Sensor,
    double SunElevationDeg, double SunAzimuthDeg, double HazeLevel,
    double ShiftXPixels, double ShiftYPixels,
    double? CloudCoverPercent);

/// <summary>A ground-truth object. Present on date d when AppearedOn &lt;= d (or null) and RemovedOn &gt; d (or null).</summary>
/// <param name="Id">Stable identifier.</param>
/// <param name="Class">One of <see cref="TruthClasses"/>.</param>
/// <param name="FootprintUtm">Footprint in EPSG:32652 (shadows are not part of it).</param>
/// <param name="AppearedOn">First day it stands, null when it predates the series.</param>
/// <param name="RemovedOn">First day it is gone, null when it stays.</param>
/// <param name="Stages">Construction stages in order, each from its date on; empty for objects without stages.</param>
public sealed record TruthObject(string Id, string Class, Geometry FootprintUtm,
    DateOnly? AppearedOn, DateOnly? RemovedOn, IReadOnlyList<TruthStage> Stages)
{
    /// <summary>Height above ground of the tallest part, metres (drives its shadow).</summary>
    public double HeightMetres { get; init; }

    public double AreaSquareMetres => FootprintUtm.Area;

    public bool IsPresentOn(DateOnly date) =>
        (AppearedOn is null || AppearedOn.Value <= date) && (RemovedOn is null || RemovedOn.Value > date);

    /// <summary>Construction stage on <paramref name="date"/>; null when absent or without stages.</summary>
    public string? StageOn(DateOnly date)
    {
        if (!IsPresentOn(date))
        {
            return null;
        }

        string? stage = null;
        foreach (var s in Stages)
        {
            if (s.From <= date)
            {
                stage = s.Stage;
            }
        }

        return stage;
    }
}

public sealed record TruthStage(DateOnly From, string Stage);

/// <summary>What changed for one object between two consecutive acquisitions.</summary>
/// <param name="Kind">One of <see cref="ChangeKinds"/>.</param>
public sealed record TruthChange(DateOnly Before, DateOnly After, string ObjectId, string Class, string Kind,
    Geometry FootprintUtm, double AreaSquareMetres);

/// <summary>Object classes of the demo truth.</summary>
public static class TruthClasses
{
    public const string AssemblyHall = "assembly_hall";
    public const string NewAssemblyBuilding = "new_assembly_building";
    public const string WorkerHousing = "worker_housing";
    public const string BridgeCrane = "bridge_crane";
    public const string TunnelEntrance = "tunnel_entrance";
    public const string MaterialPile = "material_pile";
    public const string Vehicle = "vehicle";
    public const string FreightCar = "freight_car";
    public const string RailSpur = "rail_spur";
    public const string Road = "road";

    public static IReadOnlyList<string> All { get; } =
    [
        AssemblyHall, NewAssemblyBuilding, WorkerHousing, BridgeCrane, TunnelEntrance,
        MaterialPile, Vehicle, FreightCar, RailSpur, Road,
    ];
}

public static class ChangeKinds
{
    public const string Appeared = "appeared";
    public const string Removed = "removed";
    public const string Altered = "altered";
}

/// <summary>One rendered scene: band-sequential surface reflectance x 10000 (0 is never used: it is nodata).</summary>
public sealed class RenderedScene
{
    public int Width;
    public int Height;

    /// <summary>Blue, green, red, NIR planes of Width * Height values, row-major.</summary>
    public ushort[][] Bands = [];

    /// <summary>1 = cloud or cloud shadow, 0 = clear; null when the scene is cloud-free.</summary>
    public byte[]? CloudMask;

    public ushort Value(int band, int col, int row) => Bands[band][row * Width + col];
}
