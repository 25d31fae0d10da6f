using SiteWatch.Core.Catalog;
using SiteWatch.Video.Geo;
using SiteWatch.Video.Watch;

namespace SiteWatch.Demo.Flight;

/// <summary>One truth event (a border crossing or a yard entry) and the alert that answered it, if any.</summary>
public sealed record TruthEvent(int ObjectId, string ObjectClass, string Zone, double TruthSeconds, bool MustBeSeen, AlertRecord? Alert);

/// <summary>How a watch run compares with a simulated flight's truth.</summary>
public sealed record TruthComparisonResult(
    IReadOnlyList<TruthEvent> Events,
    IReadOnlyList<AlertRecord> UnansweredAlerts,
    IReadOnlyDictionary<int, int> TrackFollows,
    double MedianPositionErrorMetres,
    double P95PositionErrorMetres,
    double MaxFootprintCornerErrorMetres)
{
    /// <summary>Every event that had to be seen was alerted and every alert answers an event.</summary>
    public bool AlertsMatchTruth => Events.All(e => !e.MustBeSeen || e.Alert is not null) && UnansweredAlerts.Count == 0;
}

/// <summary>
/// Scores a watch run against the simulator's truth. A track follows the truth object nearest its ground positions
/// most often; position errors are its distances to that object. An event must be seen when its object is in view
/// from half a second before it until it is hysteresis metres past the line plus <see cref="PositionSlackMetres"/>
/// (what the position error can delay), the video lasts that long, and, for an area zone, the object gets at least
/// that slack deep inside within that time (a path that only grazes a corner may be placed outside). An alert answers
/// an event of the object its track follows, in the same zone, within that window; it may also come up to the slack's
/// worth of travel early, as a position error can put a track over the line before the object's centre is (a
/// detector's box edge leads the body it bounds).
/// </summary>
public static class TruthComparison
{
    public const double PositionSlackMetres = 5;

    public static TruthComparisonResult Compare(FlightTruth truth, FlightRecord record, IReadOnlyList<WatchZone> zones, string borderZone = "border", string yardZone = "checkpoint yard")
    {
        var hysteresisMetres = zones.FirstOrDefault(z => z.Name == borderZone)?.Settings.HysteresisMetres ?? 0;
        var errors = new List<double>();
        var follows = new Dictionary<int, int>();
        foreach (var track in record.Tracks)
        {
            var nearest = track.Path.Where(p => p.FrameIndex < truth.Frames.Count)
                .Select(p => Nearest(truth.Frames[(int)p.FrameIndex], p.Position)).Where(n => n.Id >= 0).ToList();
            if (nearest.Count == 0)
            {
                continue;
            }

            var id = nearest.GroupBy(n => n.Id).MaxBy(g => g.Count())!.Key;
            follows[track.Id] = id;
            errors.AddRange(nearest.Where(n => n.Id == id).Select(n => n.Distance));
        }

        errors.Sort();
        var corners = new List<double>();
        foreach (var footprint in record.Footprints.Where(f => f.FrameIndex < truth.Frames.Count && f.Ring.Count > 0))
        {
            foreach (var corner in truth.Frames[(int)footprint.FrameIndex].Footprint.OfType<double[]>())
            {
                corners.Add(footprint.Ring.Min(v => Wgs84.Distance(v.Latitude, v.Longitude, corner[1], corner[0])));
            }
        }

        var end = truth.Frames.Count == 0 ? 0 : truth.Frames[^1].Time;
        bool InView(int id, double from, double to) =>
            end >= to && truth.Frames.Where(f => f.Time >= from && f.Time <= to).All(f => f.Objects.Any(o => o.Id == id && o.Box is not null));
        var raw = truth.Objects.SelectMany(o => o.BorderCrossings.Select(c => (Object: o, Zone: borderZone, c.Time))
            .Concat(o.ZoneEntries.Select(t => (Object: o, Zone: yardZone, Time: t)))).OrderBy(e => e.Time).ToList();
        var unanswered = new List<AlertRecord>(record.Alerts);
        var events = new List<TruthEvent>();
        foreach (var (obj, zone, time) in raw)
        {
            var window = (hysteresisMetres + PositionSlackMetres) / Math.Max(0.5, obj.SpeedMps) + 0.5;
            var early = PositionSlackMetres / Math.Max(0.5, obj.SpeedMps);
            var alert = unanswered.FirstOrDefault(a => a.Track!.Zone == zone && follows.GetValueOrDefault(a.Track.TrackId, -1) == obj.Id
                && a.Track.VideoSeconds >= time - early && a.Track.VideoSeconds <= time + window);
            if (alert is not null)
            {
                unanswered.Remove(alert);
            }

            var area = zones.FirstOrDefault(z => z.Name == zone && !z.IsLine);
            var deepEnough = area is null || truth.Frames.Where(f => f.Time >= time && f.Time <= time + window)
                .SelectMany(f => f.Objects.Where(o => o.Id == obj.Id)).Any(o => Deep(area, o.Latitude, o.Longitude));
            events.Add(new TruthEvent(obj.Id, obj.Class, zone, time, InView(obj.Id, time - 0.5, time + window) && deepEnough, alert));
        }

        return new TruthComparisonResult(events, unanswered, follows,
            errors.Count == 0 ? double.NaN : errors[errors.Count / 2],
            errors.Count == 0 ? double.NaN : errors[(int)(0.95 * (errors.Count - 1))],
            corners.Count == 0 ? double.NaN : corners.Max());
    }

    /// <summary>The point and the points <see cref="PositionSlackMetres"/> around it in eight directions are all inside.</summary>
    private static bool Deep(WatchZone zone, double latitude, double longitude)
    {
        var centre = new GeoPoint(latitude, longitude, 0);
        return zone.Contains(latitude, longitude) && Enumerable.Range(0, 8).All(k =>
        {
            var a = k * Math.PI / 4;
            var p = Wgs84.FromEnu(centre, new Vec3(PositionSlackMetres * Math.Sin(a), PositionSlackMetres * Math.Cos(a), 0));
            return zone.Contains(p.Latitude, p.Longitude);
        });
    }

    private static (int Id, double Distance) Nearest(FrameTruth frame, GeoPoint position) =>
        frame.Objects.Count == 0 ? (-1, double.NaN)
            : frame.Objects.Select(o => (o.Id, Distance: Wgs84.Distance(o.Latitude, o.Longitude, position.Latitude, position.Longitude))).MinBy(o => o.Distance);
}
