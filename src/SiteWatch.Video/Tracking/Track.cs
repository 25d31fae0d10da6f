using SiteWatch.Video.Geo;

namespace SiteWatch.Video.Tracking;

public enum TrackState
{
    /// <summary>Seen, but not often enough yet to be trusted (no alerts).</summary>
    Tentative,
    /// <summary>Seen in enough detection frames.</summary>
    Confirmed,
    /// <summary>Confirmed, but missed by the latest detections; still predicted and can be found again.</summary>
    Lost,
    /// <summary>Gone: missed for longer than the tracker's maximum age (or a tentative track that was missed).</summary>
    Removed,
}

/// <summary>A ground position of a track at a video time.</summary>
public readonly record struct TrackPoint(long FrameIndex, TimeSpan Time, GeoPoint Position);

/// <summary>One tracked object: its box (Kalman-filtered), class, score and ground history.</summary>
public sealed class Track
{
    private const int ScoreWindow = 10;
    private readonly KalmanBoxFilter _filter;
    private readonly Dictionary<string, int> _classVotes = new(StringComparer.Ordinal);
    private readonly Queue<double> _scores = new();
    private readonly List<TrackPoint> _path = [];

    internal Track(int id, BoxDetection detection, long frameIndex)
    {
        Id = id;
        _filter = new KalmanBoxFilter(detection.Box);
        FirstFrame = frameIndex;
        LastUpdateFrame = frameIndex;
        Record(detection);
    }

    /// <summary>Stable id, unique within one tracker.</summary>
    public int Id { get; }

    public TrackState State { get; internal set; } = TrackState.Tentative;

    /// <summary>Detections matched to this track.</summary>
    public int Hits { get; private set; }

    public long FirstFrame { get; }

    public long LastUpdateFrame { get; private set; }

    /// <summary>The current box: the filter's estimate (predicted between detections).</summary>
    public PixelBox Box => _filter.Box;

    /// <summary>The class most of its detections had.</summary>
    public string ClassName { get; private set; } = "";

    /// <summary>Mean score of its latest detections.</summary>
    public double Score => _scores.Count == 0 ? 0 : _scores.Average();

    /// <summary>The VMTI target id of its detections, when they came from VMTI.</summary>
    public ulong? SourceTargetId { get; private set; }

    /// <summary>Ground position the latest matched detection carried (VMTI location), for the frame it was matched in.</summary>
    public GeoPoint? ReportedLocation { get; private set; }

    /// <summary>Ground positions, one per frame the pipeline could place it in.</summary>
    public IReadOnlyList<TrackPoint> Path => _path;

    /// <summary>Latest ground position, or null.</summary>
    public TrackPoint? LastPoint => _path.Count == 0 ? null : _path[^1];

    /// <summary>Smoothed ground speed in m/s (NaN until it has moved over half a second of history).</summary>
    public double SpeedMps { get; private set; } = double.NaN;

    /// <summary>Smoothed course over ground, degrees from true north, clockwise (NaN like <see cref="SpeedMps"/>).</summary>
    public double HeadingDeg { get; private set; } = double.NaN;

    /// <summary>Ground area of its box (m²) in the latest frame it was placed in; NaN when not measured.</summary>
    public double GroundAreaM2 { get; internal set; } = double.NaN;

    public bool IsActive => State is TrackState.Tentative or TrackState.Confirmed;

    internal int FramesSinceUpdate(long frameIndex) => (int)(frameIndex - LastUpdateFrame);

    internal PixelBox PredictedBox(double frames) => _filter.Peek(frames);

    internal void Predict(double frames) => _filter.Predict(frames);

    internal void Shift(double dx, double dy) => _filter.Shift(dx, dy);

    internal void Update(BoxDetection detection, long frameIndex)
    {
        _filter.Update(detection.Box);
        LastUpdateFrame = frameIndex;
        Record(detection);
    }

    private void Record(BoxDetection detection)
    {
        Hits++;
        _classVotes[detection.ClassName] = _classVotes.GetValueOrDefault(detection.ClassName) + 1;
        // Ties go to the class seen first (the dictionary keeps insertion order until something is removed).
        ClassName = _classVotes.MaxBy(kv => kv.Value).Key;
        _scores.Enqueue(detection.Score);
        if (_scores.Count > ScoreWindow)
        {
            _scores.Dequeue();
        }

        SourceTargetId = detection.SourceTargetId ?? SourceTargetId;
        ReportedLocation = detection.Location;
    }

    /// <summary>Adds a ground position and re-estimates speed and heading over the last two seconds.</summary>
    public void AddGroundPoint(TrackPoint point)
    {
        if (_path.Count > 0 && point.Time <= _path[^1].Time)
        {
            return;
        }

        _path.Add(point);
        EstimateMotion();
    }

    internal void ClearReportedLocation() => ReportedLocation = null;

    private void EstimateMotion()
    {
        // Least-squares velocity over a window: per-frame positions jitter by the ray casting's pixel noise, a fit
        // over a couple of seconds does not.
        const double windowSeconds = 2.0;
        var latest = _path[^1];
        var first = _path.Count - 1;
        while (first > 0 && (latest.Time - _path[first - 1].Time).TotalSeconds <= windowSeconds)
        {
            first--;
        }

        var span = (latest.Time - _path[first].Time).TotalSeconds;
        if (_path.Count - first < 3 || span < 0.5)
        {
            return;
        }

        double st = 0, se = 0, sn = 0, stt = 0, ste = 0, stn = 0;
        var n = _path.Count - first;
        for (var i = first; i < _path.Count; i++)
        {
            var t = (_path[i].Time - latest.Time).TotalSeconds;
            var enu = Wgs84.ToEnu(latest.Position, _path[i].Position);
            st += t;
            se += enu.X;
            sn += enu.Y;
            stt += t * t;
            ste += t * enu.X;
            stn += t * enu.Y;
        }

        var denominator = n * stt - st * st;
        if (denominator <= 0)
        {
            return;
        }

        var ve = (n * ste - st * se) / denominator;
        var vn = (n * stn - st * sn) / denominator;
        SpeedMps = Math.Sqrt(ve * ve + vn * vn);
        var heading = Math.Atan2(ve, vn) * 180 / Math.PI;
        HeadingDeg = heading < 0 ? heading + 360 : heading;
    }

    public override string ToString() => $"track {Id} {State} {ClassName} {Box}";
}
