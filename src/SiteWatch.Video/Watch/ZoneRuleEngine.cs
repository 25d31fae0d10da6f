using SiteWatch.Video.Geo;

namespace SiteWatch.Video.Watch;

/// <summary>Where a track is in one frame, as the rule engine needs it.</summary>
public readonly record struct TrackObservation(int TrackId, bool Confirmed, string ClassName, double Score, double GroundAreaM2, GeoPoint Position);

/// <summary>A rule that fired: the zone, the rule, the track and where and when.</summary>
public sealed record RuleHit(WatchZone Zone, ZoneRule Rule, TrackObservation Track, TimeSpan Time);

/// <summary>
/// Evaluates zone rules over tracks frame by frame (video time). Each track's state per zone is debounced: inside /
/// outside changes only after the zone's inertia (consecutive frames), a line side only once the track is
/// hysteresis_m away from it. An enter or cross that happens while a track is still tentative fires when it is
/// confirmed (if still inside / on the new side). One alert per track, zone and rule; after an alert of a zone and
/// rule, others of the same zone and rule within cooldown_seconds are suppressed (counted).
/// </summary>
public sealed class ZoneRuleEngine
{
    private sealed class State
    {
        public bool? Inside;
        public int Streak;
        public TimeSpan InsideSince;
        public bool PendingEnter;
        public int Side; // -1, +1 once established
        public GeoPoint SidePoint;
        public bool PendingCross;
        public readonly HashSet<ZoneRule> Fired = [];
        public readonly HashSet<ZoneRule> FilteredOut = [];
    }

    private readonly Dictionary<(int Track, int Zone), State> _states = [];
    private readonly Dictionary<(int Zone, ZoneRule Rule), TimeSpan> _lastAlert = [];

    public ZoneRuleEngine(IReadOnlyList<WatchZone> zones)
    {
        Zones = zones;
    }

    public IReadOnlyList<WatchZone> Zones { get; }

    /// <summary>Hits held back by a zone's cooldown.</summary>
    public int Suppressed { get; private set; }

    /// <summary>Track, zone and rule combinations held back by a zone's filters (class, score, area).</summary>
    public int Filtered { get; private set; }

    /// <summary>Updates every track's zone state with its position at <paramref name="time"/> and returns what fired.</summary>
    public List<RuleHit> Evaluate(IEnumerable<TrackObservation> tracks, TimeSpan time)
    {
        var hits = new List<RuleHit>();
        foreach (var track in tracks)
        {
            for (var z = 0; z < Zones.Count; z++)
            {
                var zone = Zones[z];
                if (!_states.TryGetValue((track.TrackId, z), out var state))
                {
                    state = new State();
                    _states[(track.TrackId, z)] = state;
                }

                if (zone.HasArea)
                {
                    UpdateArea(zone, z, state, track, time, hits);
                }

                if (zone.IsLine && zone.Rules.Contains(ZoneRule.Cross))
                {
                    UpdateSide(zone, z, state, track, time, hits);
                }
            }
        }

        return hits;
    }

    /// <summary>Forgets a track that ended.</summary>
    public void Forget(int trackId)
    {
        for (var z = 0; z < Zones.Count; z++)
        {
            _states.Remove((trackId, z));
        }
    }

    private void UpdateArea(WatchZone zone, int z, State state, TrackObservation track, TimeSpan time, List<RuleHit> hits)
    {
        var inside = zone.Contains(track.Position.Latitude, track.Position.Longitude);
        if (state.Inside is null)
        {
            // The first observation sets the state at once: a track first seen inside never "entered".
            state.Inside = inside;
            state.InsideSince = time;
        }
        else if (inside != state.Inside)
        {
            state.Streak++;
            if (state.Streak >= zone.Settings.Inertia)
            {
                state.Inside = inside;
                state.Streak = 0;
                state.InsideSince = time;
                state.PendingEnter = inside;
            }
        }
        else
        {
            state.Streak = 0;
        }

        if (state.Inside != true)
        {
            state.PendingEnter = false;
            return;
        }

        if (state.PendingEnter && zone.Rules.Contains(ZoneRule.Enter) && track.Confirmed)
        {
            state.PendingEnter = false;
            Fire(zone, z, ZoneRule.Enter, state, track, time, hits);
        }

        if (zone.Rules.Contains(ZoneRule.Loiter) && track.Confirmed && (time - state.InsideSince).TotalSeconds >= zone.LoiterSeconds)
        {
            Fire(zone, z, ZoneRule.Loiter, state, track, time, hits);
        }
    }

    private void UpdateSide(WatchZone zone, int z, State state, TrackObservation track, TimeSpan time, List<RuleHit> hits)
    {
        var distance = zone.SignedDistanceToLine(track.Position.Latitude, track.Position.Longitude);
        if (Math.Abs(distance) >= zone.Settings.HysteresisMetres)
        {
            var side = Math.Sign(distance);
            // A side change counts only when the path since the last established side crosses the line itself,
            // not when a track walks around one of its ends.
            if (state.Side != 0 && side != state.Side && zone.SegmentCrossesLine(state.SidePoint, track.Position))
            {
                state.PendingCross = true;
            }

            state.Side = side;
            state.SidePoint = track.Position;
        }

        if (state.PendingCross && track.Confirmed)
        {
            state.PendingCross = false;
            Fire(zone, z, ZoneRule.Cross, state, track, time, hits);
        }
    }

    private void Fire(WatchZone zone, int z, ZoneRule rule, State state, TrackObservation track, TimeSpan time, List<RuleHit> hits)
    {
        if (state.Fired.Contains(rule))
        {
            return;
        }

        var settings = zone.Settings;
        if ((settings.Classes.Count > 0 && !settings.Classes.Contains(track.ClassName)) || track.Score < settings.MinScore
            || (settings.MinAreaM2 > 0 && !(track.GroundAreaM2 >= settings.MinAreaM2)))
        {
            // Counted once per track, zone and rule; the track may still pass later (e.g. its score rises).
            if (state.FilteredOut.Add(rule))
            {
                Filtered++;
            }

            return;
        }

        state.Fired.Add(rule);
        if (_lastAlert.TryGetValue((z, rule), out var last) && (time - last).TotalSeconds < settings.CooldownSeconds)
        {
            Suppressed++;
            return;
        }

        _lastAlert[(z, rule)] = time;
        hits.Add(new RuleHit(zone, rule, track, time));
    }
}
