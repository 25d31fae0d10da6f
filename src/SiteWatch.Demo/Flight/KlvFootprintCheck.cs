using System.Globalization;
using System.Text;
using SiteWatch.Video.Geo;

namespace SiteWatch.Demo.Flight;

/// <summary>One KLV corner against ours.</summary>
public sealed record CornerAgreement(int Corner, string Name, LatLon Klv, GeoPoint? Ours, double? DistanceMetres, string? Reason);

/// <summary>How the footprint we compute agrees with the one the KLV reports.</summary>
public sealed record KlvFootprintComparison
{
    /// <summary>KLV frame centre (tags 23/24), when present.</summary>
    public LatLon? KlvCentre { get; init; }

    /// <summary>Our centre-ray ground point, when the centre ray met the ground.</summary>
    public GeoPoint? OurCentre { get; init; }

    /// <summary>Distance between the two centres (metres).</summary>
    public double? CentreDistanceMetres { get; init; }

    /// <summary>Tag 21 slant range and ours (sensor to the centre-ray ground point).</summary>
    public double? KlvSlantRange { get; init; }
    public double? OurSlantRange { get; init; }

    /// <summary>Distance from the sensor's ground position to the KLV frame centre (metres): a sanity scale.</summary>
    public double? SensorToKlvCentreMetres { get; init; }

    /// <summary>"full (tags 82-89)", "offsets (tags 26-33 from 23/24)", or null without KLV corners.</summary>
    public string? CornerSource { get; init; }

    public IReadOnlyList<CornerAgreement> Corners { get; init; } = [];

    /// <summary>The largest corner distance among corners both sides have.</summary>
    public double? MaxCornerDistanceMetres => Corners.Max(c => c.DistanceMetres);

    public override string ToString()
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"centre: KLV {KlvCentre?.ToString() ?? "-"} ours {OurCentre?.ToString() ?? "-"} distance {Format(CentreDistanceMetres)}");
        sb.Append(inv, $"; slant range KLV {Format(KlvSlantRange)} ours {Format(OurSlantRange)}; sensor to KLV centre {Format(SensorToKlvCentreMetres)}");
        if (CornerSource is not null)
        {
            sb.Append(inv, $"; corners ({CornerSource}):");
            foreach (var c in Corners)
            {
                sb.Append(inv, $" {c.Corner} {c.Name} {(c.DistanceMetres is { } d ? Format(d) : c.Reason)};");
            }
        }

        return sb.ToString();

        static string Format(double? metres) => metres is { } m ? string.Create(CultureInfo.InvariantCulture, $"{m:0.0} m") : "-";
    }
}

/// <summary>Compares a footprint with the frame centre and corners the KLV carries.</summary>
public static class KlvFootprintCheck
{
    private static readonly string[] s_names = ["upper-left", "upper-right", "lower-right", "lower-left"];

    public static KlvFootprintComparison Compare(FrameFootprint footprint, CameraPose pose)
    {
        ArgumentNullException.ThrowIfNull(footprint);
        ArgumentNullException.ThrowIfNull(pose);
        GeoPoint? ourCentre = footprint.Centre.IsHit ? footprint.Centre.Point : null;
        var corners = new List<CornerAgreement>();
        var klvCorners = pose.KlvCorners;
        if (klvCorners is not null)
        {
            for (var k = 0; k < 4; k++)
            {
                var theirs = klvCorners[k];
                var ours = footprint.Corners[k];
                corners.Add(ours.IsHit
                    ? new CornerAgreement(k + 1, s_names[k], theirs, ours.Point, Wgs84.Distance(theirs.Latitude, theirs.Longitude, ours.Point.Latitude, ours.Point.Longitude), null)
                    : new CornerAgreement(k + 1, s_names[k], theirs, null, null, $"our ray {Reason(ours.Hit.Status)}"));
            }
        }

        return new KlvFootprintComparison
        {
            KlvCentre = pose.FrameCenter,
            OurCentre = ourCentre,
            CentreDistanceMetres = pose.FrameCenter is { } c && ourCentre is { } o ? Wgs84.Distance(c.Latitude, c.Longitude, o.Latitude, o.Longitude) : null,
            KlvSlantRange = pose.SlantRange,
            OurSlantRange = footprint.Centre.IsHit ? footprint.Centre.Hit.Range : null,
            SensorToKlvCentreMetres = pose.FrameCenter is { } fc ? Wgs84.Distance(pose.SensorLatitude, pose.SensorLongitude, fc.Latitude, fc.Longitude) : null,
            CornerSource = klvCorners is null ? null : pose.CornersFull is not null ? "full (tags 82-89)" : "offsets (tags 26-33 from 23/24)",
            Corners = corners,
        };
    }

    private static string Reason(RayStatus status) => status switch
    {
        RayStatus.AboveHorizon => "points above the horizon",
        RayStatus.MaxRangeExceeded => "passes the range limit",
        RayStatus.SensorBelowTerrain => "starts below the terrain",
        RayStatus.NoTerrain => "crosses no terrain",
        _ => "does not meet the ground",
    };
}
