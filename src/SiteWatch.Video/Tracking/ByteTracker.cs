namespace SiteWatch.Video.Tracking;

/// <summary>Tracker settings; frame counts are video frames, whatever the detection interval.</summary>
public sealed record TrackerOptions
{
    /// <summary>Detections at or above this score are associated first (ByteTrack's high set).</summary>
    public double HighScore { get; init; } = 0.5;

    /// <summary>Detections between this and <see cref="HighScore"/> only extend confirmed tracks (ByteTrack's second pass).</summary>
    public double LowScore { get; init; } = 0.1;

    /// <summary>An unmatched high-score detection at or above this score starts a track.</summary>
    public double NewTrackScore { get; init; } = 0.6;

    /// <summary>Minimum IoU between a predicted box and a detection in the first pass.</summary>
    public double MatchIoU { get; init; } = 0.2;

    /// <summary>Minimum IoU in the low-score pass (which, unlike the others, never matches by centre distance).</summary>
    public double LowMatchIoU { get; init; } = 0.5;

    /// <summary>
    /// Without overlap, a detection may still match a prediction whose centre is within this many box diagonals
    /// (times the square root of the frames since the track's last detection). Detection every Nth frame lets a small,
    /// fast object move further than its own size between looks.
    /// </summary>
    public double MaxCentreDistance { get; init; } = 1.0;

    /// <summary>Matched detections needed before a track is confirmed.</summary>
    public int ConfirmHits { get; init; } = 2;

    /// <summary>Frames a confirmed track survives without a detection.</summary>
    public int MaxAge { get; init; } = 30;
}

/// <summary>Where a pixel position of one frame appears in a later frame (null where it cannot be said).</summary>
public delegate (double Column, double Row)? ImageMotion(double column, double row);

/// <summary>
/// ByteTrack-style multi-object tracker: Kalman-predicted boxes are matched to high-score detections by IoU, then the
/// remaining confirmed tracks to low-score detections, then tentative tracks; unmatched high-score detections start
/// tracks. <see cref="Step"/> is called once per video frame, with detections only on frames that had detection, so
/// tracks are predicted through the frames in between. Matching is greedy on the best similarity first.
/// </summary>
public sealed class ByteTracker
{
    private readonly List<Track> _tracks = [];
    private long _lastFrame = -1;
    private int _nextId = 1;

    public ByteTracker(TrackerOptions? options = null)
    {
        Options = options ?? new TrackerOptions();
        if (Options.ConfirmHits < 1 || Options.MaxAge < 1 || Options.LowScore > Options.HighScore)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "ConfirmHits and MaxAge must be at least 1 and LowScore at most HighScore.");
        }
    }

    public TrackerOptions Options { get; }

    /// <summary>Tracks still alive (tentative, confirmed or lost).</summary>
    public IReadOnlyList<Track> Tracks => _tracks;

    /// <summary>Tracks ever confirmed.</summary>
    public int ConfirmedCount { get; private set; }

    /// <summary>Tracks removed in the latest step (kept so callers can close them).</summary>
    public IReadOnlyList<Track> Removed { get; private set; } = [];

    /// <summary>
    /// Advances to <paramref name="frameIndex"/> (predicting every track) and, when <paramref name="detections"/> is not
    /// null, associates them. Returns the active (tentative and confirmed) tracks. <paramref name="cameraMotion"/>, when
    /// given, maps a pixel position of the previous step's frame to where the same ground point appears in this one:
    /// every track is first moved with the camera, so a drone's orbit or pan does not read as the objects' own motion
    /// (a new track has no velocity yet, and a small object's association gate is a few pixels).
    /// </summary>
    public IReadOnlyList<Track> Step(long frameIndex, IReadOnlyList<BoxDetection>? detections, ImageMotion? cameraMotion = null)
    {
        var frames = _lastFrame < 0 ? 0 : frameIndex - _lastFrame;
        if (frames < 0)
        {
            throw new ArgumentException($"frame {frameIndex} comes before frame {_lastFrame}", nameof(frameIndex));
        }

        _lastFrame = frameIndex;
        if (cameraMotion is not null)
        {
            foreach (var track in _tracks)
            {
                var box = track.Box;
                if (cameraMotion(box.CentreX, box.CentreY) is { } moved)
                {
                    track.Shift(moved.Column - box.CentreX, moved.Row - box.CentreY);
                }
            }
        }

        if (frames > 0)
        {
            foreach (var track in _tracks)
            {
                track.Predict(frames);
                track.ClearReportedLocation();
            }
        }

        if (detections is not null)
        {
            Associate(frameIndex, detections);
        }

        var removed = new List<Track>();
        foreach (var track in _tracks)
        {
            if (track.State != TrackState.Removed && track.FramesSinceUpdate(frameIndex) > Options.MaxAge)
            {
                track.State = TrackState.Removed;
                removed.Add(track);
            }
        }

        _tracks.RemoveAll(t => t.State == TrackState.Removed);
        Removed = removed;
        return _tracks.Where(t => t.IsActive).ToList();
    }

    private void Associate(long frameIndex, IReadOnlyList<BoxDetection> detections)
    {
        var high = detections.Where(d => d.Score >= Options.HighScore).ToList();
        var low = detections.Where(d => d.Score >= Options.LowScore && d.Score < Options.HighScore).ToList();
        var matched = new HashSet<Track>();

        // The sender's own target ids (VMTI) are trusted over geometry.
        foreach (var detection in detections.Where(d => d.SourceTargetId is not null).ToList())
        {
            var track = _tracks.FirstOrDefault(t => t.SourceTargetId == detection.SourceTargetId && !matched.Contains(t));
            if (track is not null)
            {
                Apply(track, detection, frameIndex, matched);
                high.Remove(detection);
                low.Remove(detection);
            }
        }

        var pool = _tracks.Where(t => t.State is TrackState.Confirmed or TrackState.Lost && !matched.Contains(t)).ToList();
        var leftHigh = Match(pool, high, Options.MatchIoU, frameIndex, matched);
        var tracked = _tracks.Where(t => t.State == TrackState.Confirmed && !matched.Contains(t)).ToList();
        // A low-score detection is evidence only where it overlaps the prediction (occlusion, blur): matched by centre
        // distance, ground clutter beside a vehicle hidden by another drags its track off, and the two tracks swap.
        Match(tracked, low, Options.LowMatchIoU, frameIndex, matched, nearCentres: false);
        var tentative = _tracks.Where(t => t.State == TrackState.Tentative && !matched.Contains(t)).ToList();
        leftHigh = Match(tentative, leftHigh, Options.MatchIoU, frameIndex, matched);

        foreach (var track in _tracks.Where(t => !matched.Contains(t)))
        {
            // A tentative track missed by the next detections was noise (ByteTrack drops it at once).
            track.State = track.State == TrackState.Tentative ? TrackState.Removed : TrackState.Lost;
        }

        foreach (var detection in leftHigh.Where(d => d.Score >= Options.NewTrackScore))
        {
            var track = new Track(_nextId++, detection, frameIndex);
            if (Options.ConfirmHits <= 1)
            {
                Confirm(track);
            }

            _tracks.Add(track);
        }
    }

    private List<BoxDetection> Match(List<Track> tracks, List<BoxDetection> detections, double minIoU, long frameIndex, HashSet<Track> matched, bool nearCentres = true)
    {
        if (tracks.Count == 0 || detections.Count == 0)
        {
            return detections;
        }

        var pairs = new List<(double Similarity, Track Track, BoxDetection Detection)>();
        foreach (var track in tracks)
        {
            var predicted = track.Box;
            var diagonal = Math.Sqrt(predicted.Width * predicted.Width + predicted.Height * predicted.Height);
            var gate = Options.MaxCentreDistance * Math.Sqrt(Math.Max(1, track.FramesSinceUpdate(frameIndex)));
            foreach (var detection in detections)
            {
                var iou = predicted.IoU(detection.Box);
                if (iou >= minIoU)
                {
                    pairs.Add((iou, track, detection));
                    continue;
                }

                if (!nearCentres)
                {
                    continue;
                }

                // Below the IoU gate, near centres still count, ranked below every overlap match.
                var dx = predicted.CentreX - detection.Box.CentreX;
                var dy = predicted.CentreY - detection.Box.CentreY;
                var distance = Math.Sqrt(dx * dx + dy * dy) / Math.Max(1, diagonal);
                if (distance < gate)
                {
                    pairs.Add((minIoU * 0.5 * (1 - distance / gate), track, detection));
                }
            }
        }

        var used = new HashSet<BoxDetection>(ReferenceEqualityComparer.Instance);
        foreach (var (_, track, detection) in pairs.OrderByDescending(p => p.Similarity))
        {
            if (!matched.Contains(track) && !used.Contains(detection))
            {
                Apply(track, detection, frameIndex, matched);
                used.Add(detection);
            }
        }

        return detections.Where(d => !used.Contains(d)).ToList();
    }

    private void Apply(Track track, BoxDetection detection, long frameIndex, HashSet<Track> matched)
    {
        track.Update(detection, frameIndex);
        matched.Add(track);
        if (track.State == TrackState.Lost || (track.State == TrackState.Tentative && track.Hits >= Options.ConfirmHits))
        {
            Confirm(track);
        }
    }

    private void Confirm(Track track)
    {
        if (track.State == TrackState.Tentative)
        {
            ConfirmedCount++;
        }

        track.State = TrackState.Confirmed;
    }
}
