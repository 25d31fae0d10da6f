using System.Diagnostics;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Video.Frames;
using SiteWatch.Video.Geo;
using SiteWatch.Video.Klv;
using SiteWatch.Video.Tracking;

namespace SiteWatch.Video.Watch;

/// <summary>Settings of a watch run.</summary>
public sealed record WatchOptions
{
    /// <summary>Folder for alerts.jsonl, snapshots/, flight.geojson and flight.kml.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Run the detector on every Nth frame; tracks are predicted in between.</summary>
    public int DetectEvery { get; init; } = 6;

    /// <summary>Tracker settings; null picks defaults with a maximum age of at least five detection intervals.</summary>
    public TrackerOptions? Tracker { get; init; }

    /// <summary>Terrain for ground positions; null: a flat surface at each frame's KLV frame-centre elevation.</summary>
    public DemTerrain? Dem { get; init; }

    public GeolocationOptions Geolocation { get; init; } = new() { SegmentsPerEdge = 2 };

    /// <summary>How often a frame footprint is kept for the export (video time).</summary>
    public TimeSpan FootprintInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A frame without telemetry borrows the previous pose for this long (video time), then goes unplaced.</summary>
    public TimeSpan TelemetryHold { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Wait for every detection instead of running it beside the frame loop (and dropping detection frames while the
    /// detector is busy). Reproducible runs (tests, benchmarks against truth) want this; live streams do not.
    /// </summary>
    public bool WaitForDetections { get; init; }

    /// <summary>
    /// Move tracks with the camera between frames, from each frame's telemetry (a pixel of the previous frame is cast
    /// onto the terrain and projected into the next), and bring detections that finished frames late to the frame they
    /// are applied in. Off: tracks keep their pixel positions and the camera's motion reads as the objects' own.
    /// </summary>
    public bool CompensateCameraMotion { get; init; } = true;

    /// <summary>
    /// Drop person detections lying where another person's shadow falls, by the sun of the KLV's time and place
    /// (<see cref="Watch.ShadowFilter"/>). Off by default: on simulated flights it removed some second alerts
    /// for a group, but cost a group member's own alert now and then (README, "Drone detector on flights it never saw").
    /// </summary>
    public bool ShadowFilter { get; init; }

    /// <summary>Stream problems listed in the summary (the rest are only counted).</summary>
    public int MaxListedProblems { get; init; } = 50;

    /// <summary>
    /// The recording's identity for alert keys (<see cref="RecordingIdentity.OfFile"/>), so watching it again raises
    /// alerts with the same keys. Null for a live stream: keys then use each frame's KLV sensor time (the time on
    /// the ground), or this run's start where a frame has none.
    /// </summary>
    public string? RecordingId { get; init; }

    /// <summary>How alerts name the video (its evidence's "video"): the file's full path or the live URL.</summary>
    public string Source { get; init; } = "video";

    /// <summary>Waits at shutdown for the stores (catalog, outbox) to take queued alerts.</summary>
    public TimeSpan SinkGrace { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>What the run is doing, for a status line.</summary>
public sealed record WatchStatus(long Frames, double VideoSeconds, double FramesPerSecond, double? MedianLatencyMs, int ActiveTracks, int ConfirmedTracks, int Alerts);

/// <summary>Figures of a finished run.</summary>
public sealed record WatchSummary
{
    public required string Detector { get; init; }
    public required int DetectEvery { get; init; }
    public required string Terrain { get; init; }
    public required long Frames { get; init; }
    public required double VideoSeconds { get; init; }
    public required double WallSeconds { get; init; }
    public required double FramesPerSecond { get; init; }

    /// <summary>Time the frame loop spent working (not waiting for frames) per second of video; below 1 keeps up.</summary>
    public required double ProcessingSecondsPerVideoSecond { get; init; }

    /// <summary>Detector time per second of video (on its own worker unless detections are awaited).</summary>
    public required double DetectionSecondsPerVideoSecond { get; init; }

    public required long DetectionFrames { get; init; }
    public required long DetectionFramesDropped { get; init; }

    /// <summary>The tracker's gates: detections from this score are associated first, and from the other start tracks.</summary>
    public required double TrackHighScore { get; init; }
    public required double NewTrackScore { get; init; }

    /// <summary>Where the gates came from: the detector's model, the caller, or the tracker's defaults.</summary>
    public required string TrackGatesFrom { get; init; }

    /// <summary>Tracks were moved with the camera between frames (<see cref="WatchOptions.CompensateCameraMotion"/>).</summary>
    public required bool CameraMotionCompensated { get; init; }

    /// <summary>Person detections dropped as another person's shadow (<see cref="WatchOptions.ShadowFilter"/>); null when the filter was off.</summary>
    public long? ShadowsDropped { get; init; }

    /// <summary>What the shadow filter saw: the sun of the last frame it knew it for, or why it could not work; null when off.</summary>
    public string? ShadowFilterNote { get; init; }
    public required long Detections { get; init; }
    public required int ConfirmedTracks { get; init; }
    public required int Alerts { get; init; }
    public required int AlertsSuppressedByCooldown { get; init; }
    public required int AlertsHeldBackByFilters { get; init; }
    public double? MedianLatencyMs { get; init; }
    public double? P95LatencyMs { get; init; }
    public required long FramesWithoutTelemetry { get; init; }
    public required long FramesUnplaced { get; init; }
    public required int FootprintsKept { get; init; }
    public required IReadOnlyList<string> Notes { get; init; }
    public required IReadOnlyList<string> Problems { get; init; }
    public required long ProblemCount { get; init; }
    public required IReadOnlyList<SinkReport> Sinks { get; init; }
    public required string OutputDirectory { get; init; }
}

/// <summary>
/// The live watch loop: frames -> detection every Nth frame (VMTI or a neural detector on a worker) -> tracker ->
/// ground positions (ray through each box's bottom centre onto the DEM, or onto the frame-centre elevation) -> zone
/// rules -> alerts (alerts.jsonl and snapshots at once; CoT and webhooks in the background). Frames are processed in
/// order on the caller's thread; nothing here blocks on a network.
/// </summary>
public sealed class WatchPipeline : IAsyncDisposable
{
    private readonly IFrameDetector _detector;
    private readonly string _gatesFrom;
    private readonly WatchOptions _options;
    private readonly ByteTracker _tracker;
    private readonly ShadowFilter? _shadows;
    private readonly ZoneRuleEngine _rules;
    private readonly AlertDispatcher _dispatcher;
    private readonly WatchDelivery? _delivery;
    private readonly StreamWriter _alertLog;
    private readonly string _snapshotDirectory;
    private readonly string _runId = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture);
    private readonly List<double> _latencies = [];
    private readonly List<string> _problems = [];
    private readonly HashSet<string> _notes = [];
    private readonly Stopwatch _wall = new();
    private readonly Stopwatch _busy = new();

    private Task<(long Frame, IReadOnlyList<BoxDetection> Detections, TimeSpan Elapsed)>? _pendingDetection;
    private FrameGeolocator? _pendingPose;
    private FrameGeolocator? _geolocator;
    private FrameGeolocator? _trackedWith;
    private TimeSpan _geolocatorTime;
    private TimeSpan _lastFootprint = TimeSpan.MinValue;
    private TimeSpan _videoTime;
    private long _frames, _detectionFrames, _detectionDrops, _detections, _withoutTelemetry, _unplaced, _problemCount;
    private int _alertCount;
    private string _terrain = "";
    private TimeSpan _lastStatus;
    private TimeSpan _detectionElapsed;

    /// <param name="delivery">Sends what the sinks stored (outbox, catalog) in the background; its report joins the summary. Not owned.</param>
    public WatchPipeline(IReadOnlyList<WatchZone> zones, IFrameDetector detector, WatchOptions options, IEnumerable<IAlertSink>? sinks = null,
        WatchDelivery? delivery = null)
    {
        if (options.DetectEvery < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "DetectEvery must be at least 1.");
        }

        _detector = detector;
        _options = options;
        var tracker = new TrackerOptions { MaxAge = Math.Max(30, 5 * options.DetectEvery) };
        _gatesFrom = options.Tracker is not null ? "the caller's tracker settings" : "ByteTrack's defaults";
        if (options.Tracker is null && detector.TrackerGates is { } gates)
        {
            tracker = tracker with { HighScore = gates.High, NewTrackScore = gates.NewTrack };
            _gatesFrom = "the detector's model";
        }
        _tracker = new ByteTracker(options.Tracker ?? tracker);
        _shadows = options.ShadowFilter ? new ShadowFilter(_tracker.Options.HighScore) : null;
        _rules = new ZoneRuleEngine(zones);
        Record = new FlightRecord { Zones = zones };
        Directory.CreateDirectory(options.OutputDirectory);
        _snapshotDirectory = Path.Combine(options.OutputDirectory, "snapshots");
        Directory.CreateDirectory(_snapshotDirectory);
        // Appended, never rewritten: alerts of earlier runs into the same folder are kept.
        _alertLog = new StreamWriter(new FileStream(Path.Combine(options.OutputDirectory, "alerts.jsonl"), FileMode.Append, FileAccess.Write, FileShare.Read));
        _dispatcher = new AlertDispatcher(sinks ?? []);
        _delivery = delivery;
    }

    /// <summary>Footprints, tracks and alerts so far.</summary>
    public FlightRecord Record { get; }

    /// <summary>Called with a status about twice a second of video.</summary>
    public Action<WatchStatus>? OnStatus { get; init; }

    /// <summary>Called for every alert as it is raised (after it is stored).</summary>
    public Action<AlertRecord>? OnAlert { get; init; }

    /// <summary>Called after every frame with what the watch made of it (a recording's frames log).</summary>
    public Action<FrameReport>? OnFrame { get; init; }

    /// <summary>Runs over a frame sequence to its end (or cancellation) and writes the exports.</summary>
    public async Task<WatchSummary> RunAsync(IAsyncEnumerable<VideoFrame> frames, CancellationToken cancellationToken = default)
    {
        try
        {
            await foreach (var frame in frames.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                await ProcessAsync(frame).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C on a live stream: finish with what was seen.
        }

        return await FinishAsync().ConfigureAwait(false);
    }

    /// <summary>Processes one frame (frames must come in order).</summary>
    public async Task ProcessAsync(VideoFrame frame)
    {
        _wall.Start();
        _busy.Start();
        _frames++;
        _videoTime = frame.Time;
        if (_frames == 1 && St0601.PrecisionTime(frame.Telemetry) is { } start)
        {
            Record.StartTime = start - frame.Time;
        }

        UpdateGeolocator(frame);
        var detections = await DetectAsync(frame).ConfigureAwait(false);
        if (detections is not null && _shadows is not null)
        {
            detections = _shadows.Apply(detections, St0601.PrecisionTime(frame.Telemetry), _geolocator, frame.Width, frame.Height);
        }

        var active = _tracker.Step(frame.Index, detections, CameraMotion(_trackedWith, _geolocator));
        _trackedWith = _geolocator;
        var observations = new List<TrackObservation>(active.Count);
        foreach (var track in active)
        {
            if (Place(track, frame) is { } position)
            {
                observations.Add(new TrackObservation(track.Id, track.State == TrackState.Confirmed, track.ClassName, track.Score, track.GroundAreaM2, position));
            }
        }

        var alertsBefore = Record.Alerts.Count;
        foreach (var hit in _rules.Evaluate(observations, frame.Time))
        {
            Raise(hit, frame, active.First(t => t.Id == hit.Track.TrackId));
        }

        foreach (var ended in _tracker.Removed)
        {
            _rules.Forget(ended.Id);
            Keep(ended);
        }

        var footprintsBefore = Record.Footprints.Count;
        KeepFootprint(frame);
        if (OnFrame is not null)
        {
            var placed = observations.ToDictionary(o => o.TrackId, o => o.Position);
            OnFrame(new FrameReport(frame,
                Record.Footprints.Count > footprintsBefore ? Record.Footprints[^1] : null,
                active.Select(t => new FrameTrack(t.Id, t.ClassName, t.Score, t.State == TrackState.Confirmed, t.Box,
                    placed.TryGetValue(t.Id, out var p) ? p : null)).ToList(),
                Record.Alerts.Count > alertsBefore ? Record.Alerts[alertsBefore..] : []));
        }

        _busy.Stop();
        if (OnStatus is not null && (frame.Time - _lastStatus).TotalSeconds >= 0.5)
        {
            _lastStatus = frame.Time;
            OnStatus(Status());
        }
    }

    private void UpdateGeolocator(VideoFrame frame)
    {
        string? why = null;
        if (frame.Telemetry is null)
        {
            _withoutTelemetry++;
            why = "no telemetry";
        }
        else if (!CameraPose.TryFromKlv(frame.Telemetry, frame.Width, frame.Height, out var pose, out var error))
        {
            why = $"telemetry without a usable camera pose ({error})";
        }
        else
        {
            _geolocator = FrameGeolocator.ForFrame(pose, _options.Dem, _options.Geolocation);
            _geolocatorTime = frame.Time;
            if (_terrain.Length == 0)
            {
                _terrain = _geolocator.Terrain is ConstantTerrain flat ? $"no DEM: ground positions on {flat.Description}" : $"DEM: {_geolocator.Terrain.Description}";
            }

            return;
        }

        var held = _geolocator is not null && frame.Time - _geolocatorTime <= _options.TelemetryHold;
        Problem(frame, held ? $"{why}; the previous pose is used" : $"{why}; objects are not placed");
        if (!held)
        {
            _geolocator = null;
        }
    }

    /// <summary>Where a ground point seen at a pixel of one frame's pose appears under another's; null when either is unknown or they are the same.</summary>
    private ImageMotion? CameraMotion(FrameGeolocator? from, FrameGeolocator? to)
    {
        if (!_options.CompensateCameraMotion || from is null || to is null || ReferenceEquals(from, to))
        {
            return null;
        }

        return (column, row) =>
        {
            var hit = from.PixelToGround(column, row);
            return hit.IsHit ? to.Project(hit.Point) : null;
        };
    }

    private async Task<IReadOnlyList<BoxDetection>?> DetectAsync(VideoFrame frame)
    {
        IReadOnlyList<BoxDetection>? result = null;
        if (_pendingDetection is { IsCompleted: true } done)
        {
            // A detection that ran beside the loop: applied at the frame where it is ready, its boxes moved with the
            // camera from the frame they were found in.
            var (_, detections, elapsed) = await done.ConfigureAwait(false);
            _pendingDetection = null;
            _detectionElapsed += elapsed;
            result = CameraMotion(_pendingPose, _geolocator) is { } motion ? detections.Select(d => Moved(d, motion)).ToList() : detections;
        }

        if (frame.Index % _options.DetectEvery != 0)
        {
            return result;
        }

        if (_detector.IsCheap || _options.WaitForDetections)
        {
            _detectionFrames++;
            var clock = Stopwatch.StartNew();
            var detections = _detector.Detect(frame, FrameGsd(frame));
            _detectionElapsed += clock.Elapsed;
            _detections += detections.Count;
            return detections;
        }

        if (_pendingDetection is not null)
        {
            // The detector is still on an earlier frame: skip this one rather than fall behind the stream.
            _detectionDrops++;
            return result;
        }

        _detectionFrames++;
        var gsd = FrameGsd(frame); // read here, in the frame loop: the geolocator moves on with the next frame
        _pendingPose = _geolocator;
        _pendingDetection = Task.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            var detections = _detector.Detect(frame, gsd);
            Interlocked.Add(ref _detections, detections.Count);
            return (frame.Index, detections, clock.Elapsed);
        });
        return result;
    }

    private static BoxDetection Moved(BoxDetection detection, ImageMotion motion)
    {
        var box = detection.Box;
        return motion(box.CentreX, box.CentreY) is { } moved
            ? detection with { Box = box with { CentreX = moved.Column, CentreY = moved.Row } }
            : detection;
    }

    /// <summary>Ground metres per pixel at the frame centre for a detector that resamples to it; null for a cheap one (VMTI).</summary>
    private double? FrameGsd(VideoFrame frame) =>
        _detector.IsCheap ? null : _geolocator?.GroundSampleDistance(frame.Width / 2.0, frame.Height / 2.0);

    private GeoPoint? Place(Track track, VideoFrame frame)
    {
        GeoPoint? position = track.ReportedLocation;
        if (position is null && _geolocator is not null)
        {
            var (column, row) = track.Box.BottomCentre;
            var hit = _geolocator.PixelToGround(column, row);
            position = hit.IsHit ? hit.Point : null;
        }

        if (position is null)
        {
            _unplaced++;
            return null;
        }

        if (_geolocator is not null && track.LastUpdateFrame == frame.Index)
        {
            track.GroundAreaM2 = GroundArea(track.Box);
        }

        track.AddGroundPoint(new TrackPoint(frame.Index, frame.Time, position.Value));
        return position;
    }

    /// <summary>Area on the ground of a box's four corners (shoelace in local east/north metres); NaN if a ray misses.</summary>
    private double GroundArea(PixelBox box)
    {
        Span<(double E, double N)> corners = stackalloc (double, double)[4];
        (double C, double R)[] pixels = [(box.Left, box.Top), (box.Right, box.Top), (box.Right, box.Bottom), (box.Left, box.Bottom)];
        GeoPoint? origin = null;
        for (var i = 0; i < 4; i++)
        {
            var hit = _geolocator!.PixelToGround(pixels[i].C, pixels[i].R);
            if (!hit.IsHit)
            {
                return double.NaN;
            }

            origin ??= hit.Point;
            var enu = Wgs84.ToEnu(origin.Value, hit.Point);
            corners[i] = (enu.X, enu.Y);
        }

        var twice = 0.0;
        for (var i = 0; i < 4; i++)
        {
            var (e0, n0) = corners[i];
            var (e1, n1) = corners[(i + 1) % 4];
            twice += e0 * n1 - e1 * n0;
        }

        return Math.Abs(twice) / 2;
    }

    private void Raise(RuleHit hit, VideoFrame frame, Track track)
    {
        var now = DateTimeOffset.UtcNow;
        var id = string.Create(CultureInfo.InvariantCulture, $"{_runId}-{++_alertCount:0000}");
        var box = track.Box;
        byte[]? png = null;
        string? snapshot = null;
        if (frame.Bgr24.Length >= frame.Width * frame.Height * 3)
        {
            // The box with half its size around it (at least 64 px), so the analyst sees the object in its setting.
            var size = Math.Max(64, 2 * Math.Max(box.Width, box.Height));
            try
            {
                png = PngEncoder.EncodeBgr24Crop(frame.Bgr24, frame.Width, frame.Height, (int)(box.CentreX - size / 2), (int)(box.CentreY - size / 2), (int)size, (int)size);
                snapshot = $"snapshots/{id}.png";
                File.WriteAllBytes(Path.Combine(_options.OutputDirectory, snapshot), png);
            }
            catch (ArgumentException)
            {
                // The predicted box left the frame: the alert stands without a snapshot.
                png = null;
            }
        }

        var sensorTime = St0601.PrecisionTime(frame.Telemetry) ?? Record.Absolute(frame.Time);
        var latency = (DateTimeOffset.UtcNow - frame.ArrivedAt).TotalMilliseconds;
        var key = AlertKey(hit, frame, track);
        var alert = new TrackEvidence
        {
            Video = _options.Source,
            AlertId = id,
            AlertUid = AlertIdentity.Uid("video", key),
            Zone = hit.Zone.Name,
            TrackId = track.Id,
            ClassName = track.ClassName,
            Score = Math.Round(track.Score, 3),
            Latitude = hit.Track.Position.Latitude,
            Longitude = hit.Track.Position.Longitude,
            HeightAboveEllipsoid = Math.Round(hit.Track.Position.HeightAboveEllipsoid, 1),
            SpeedMps = double.IsNaN(track.SpeedMps) ? null : Math.Round(track.SpeedMps, 2),
            HeadingDeg = double.IsNaN(track.HeadingDeg) ? null : Math.Round(track.HeadingDeg, 1),
            FrameIndex = frame.Index,
            VideoSeconds = Math.Round(frame.Time.TotalSeconds, 3),
            SensorTime = sensorTime,
            LatencyMs = Math.Round(latency, 1),
            Box = [Math.Round(box.Left, 1), Math.Round(box.Top, 1), Math.Round(box.Width, 1), Math.Round(box.Height, 1)],
            Chip = snapshot,
            ChipPng = png,
        }.ToAlert(siteId: 0, hit.Rule.Name(), now, key);
        _alertLog.WriteLine(AlertJson.Document(alert, AlertJson.UnstoredUid(alert)).ToJsonString());
        _alertLog.Flush();
        _latencies.Add(latency);
        Record.Alerts.Add(alert);
        _dispatcher.Publish(alert);
        OnAlert?.Invoke(alert);
    }

    /// <summary>
    /// What was alerted, independent of the run: recording (content hash) + zone + rule + track + media time (the
    /// frame's PTS, else its index); for a live stream the frame's KLV sensor time stands for the media time.
    /// </summary>
    private string AlertKey(RuleHit hit, VideoFrame frame, Track track)
    {
        var inv = CultureInfo.InvariantCulture;
        var what = string.Create(inv, $"{hit.Zone.Name}|{hit.Rule.ToString().ToLowerInvariant()}|track {track.Id}");
        if (_options.RecordingId is { } recording)
        {
            var media = frame.Pts90k is { } pts ? string.Create(inv, $"pts {pts}") : string.Create(inv, $"frame {frame.Index}");
            return $"{recording}|{what}|{media}";
        }

        return St0601.PrecisionTime(frame.Telemetry) is { } sensor
            ? string.Create(inv, $"live|{what}|{sensor:yyyy-MM-ddTHH:mm:ss.ffffffZ}")
            : string.Create(inv, $"run {_runId}|{what}|frame {frame.Index}");
    }

    private void Keep(Track track)
    {
        if (track.Hits >= _tracker.Options.ConfirmHits && track.Path.Count >= 2)
        {
            Record.Tracks.Add(new TrackRecord(track.Id, track.ClassName, track.Score, track.Path));
        }
    }

    private void KeepFootprint(VideoFrame frame)
    {
        if (_geolocator is null || (_lastFootprint != TimeSpan.MinValue && frame.Time - _lastFootprint < _options.FootprintInterval))
        {
            return;
        }

        var footprint = _geolocator.ComputeFootprint();
        foreach (var warning in footprint.Warnings)
        {
            _notes.Add(warning.Message);
        }

        if (footprint.Polygon.Count >= 4)
        {
            _lastFootprint = frame.Time;
            Record.Footprints.Add(new FootprintSample(frame.Index, frame.Time, Record.Absolute(frame.Time), footprint.Polygon));
        }
    }

    private void Problem(VideoFrame frame, string what)
    {
        _problemCount++;
        if (_problems.Count < _options.MaxListedProblems)
        {
            _problems.Add(string.Create(CultureInfo.InvariantCulture, $"frame {frame.Index} ({frame.Time.TotalSeconds:0.000} s): {what}"));
        }
    }

    private WatchStatus Status() => new(_frames, _videoTime.TotalSeconds, _wall.Elapsed.TotalSeconds > 0 ? _frames / _wall.Elapsed.TotalSeconds : 0,
        Percentile(0.5), _tracker.Tracks.Count(t => t.IsActive), _tracker.ConfirmedCount, _alertCount);

    private double? Percentile(double p)
    {
        if (_latencies.Count == 0)
        {
            return null;
        }

        var sorted = _latencies.Order().ToList();
        var rank = p * (sorted.Count - 1);
        var low = (int)Math.Floor(rank);
        var high = Math.Min(sorted.Count - 1, low + 1);
        return Math.Round(sorted[low] + (rank - low) * (sorted[high] - sorted[low]), 1);
    }

    private async Task<WatchSummary> FinishAsync()
    {
        if (_pendingDetection is not null)
        {
            await _pendingDetection.ConfigureAwait(false);
            _pendingDetection = null;
        }

        _wall.Stop();
        foreach (var track in _tracker.Tracks)
        {
            Keep(track);
        }

        FlightExport.WriteGeoJson(Record, Path.Combine(_options.OutputDirectory, "flight.geojson"));
        FlightExport.WriteKml(Record, Path.Combine(_options.OutputDirectory, "flight.kml"));
        var sinks = await _dispatcher.CompleteAsync(_options.SinkGrace).ConfigureAwait(false);
        if (_delivery is not null)
        {
            // Everything is stored by now: the delivery loop gets its last chance, then says what is left.
            sinks = [.. sinks, .. await _delivery.CompleteAsync().ConfigureAwait(false)];
        }
        // The video lasts until the end of its last frame; with at least one frame interval it is never zero.
        var videoSeconds = _frames == 0 ? 0 : _videoTime.TotalSeconds + _videoTime.TotalSeconds / Math.Max(1, _frames - 1);
        return new WatchSummary
        {
            Detector = _detector.Name,
            DetectEvery = _options.DetectEvery,
            Terrain = _terrain.Length > 0 ? _terrain : "no frame had a usable camera pose: nothing was placed",
            Frames = _frames,
            VideoSeconds = Math.Round(videoSeconds, 3),
            WallSeconds = Math.Round(_wall.Elapsed.TotalSeconds, 3),
            FramesPerSecond = _wall.Elapsed.TotalSeconds > 0 ? Math.Round(_frames / _wall.Elapsed.TotalSeconds, 1) : 0,
            ProcessingSecondsPerVideoSecond = videoSeconds > 0 ? Math.Round(_busy.Elapsed.TotalSeconds / videoSeconds, 3) : 0,
            DetectionSecondsPerVideoSecond = videoSeconds > 0 ? Math.Round(_detectionElapsed.TotalSeconds / videoSeconds, 3) : 0,
            DetectionFrames = _detectionFrames,
            DetectionFramesDropped = _detectionDrops,
            TrackHighScore = _tracker.Options.HighScore,
            NewTrackScore = _tracker.Options.NewTrackScore,
            TrackGatesFrom = _gatesFrom,
            CameraMotionCompensated = _options.CompensateCameraMotion,
            ShadowsDropped = _shadows?.Dropped,
            ShadowFilterNote = _shadows is null ? null : ShadowNote(_shadows),
            Detections = _detections,
            ConfirmedTracks = _tracker.ConfirmedCount,
            Alerts = _alertCount,
            AlertsSuppressedByCooldown = _rules.Suppressed,
            AlertsHeldBackByFilters = _rules.Filtered,
            MedianLatencyMs = Percentile(0.5),
            P95LatencyMs = Percentile(0.95),
            FramesWithoutTelemetry = _withoutTelemetry,
            FramesUnplaced = _unplaced,
            FootprintsKept = Record.Footprints.Count,
            Notes = _notes.Order(StringComparer.Ordinal).ToList(),
            Problems = _problems,
            ProblemCount = _problemCount,
            Sinks = sinks,
            OutputDirectory = _options.OutputDirectory,
        };
    }

    private static string ShadowNote(ShadowFilter filter)
    {
        var inv = CultureInfo.InvariantCulture;
        var sun = filter.LastSun is { } s
            ? string.Create(inv, $"sun at azimuth {s.AzimuthDeg:0}, {s.ElevationDeg:0} degrees high (KLV time and place)")
            : "sun unknown";
        return filter.FramesFiltered > 0
            ? string.Create(inv, $"{sun}; {filter.FramesFiltered} detection frames with two or more people searched for shadows")
              + (filter.NotFilteredBecause is { } why ? $"; others not ({why})" : "")
            : $"{sun}; no frame searched for shadows" + (filter.NotFilteredBecause is { } reason ? $" ({reason})" : " (never two people in one frame)");
    }

    public async ValueTask DisposeAsync()
    {
        if (_pendingDetection is not null)
        {
            try
            {
                await _pendingDetection.ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Disposal after a failed run: the run already reported its error.
            }
        }

        await _dispatcher.DisposeAsync().ConfigureAwait(false);
        await _alertLog.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>One active track in a frame: its box in the image and, where it could be placed, its ground position.</summary>
public sealed record FrameTrack(int Id, string ClassName, double Score, bool Confirmed, PixelBox Box, GeoPoint? Position);

/// <summary>What a watch made of one frame: the footprint when one was kept, the active tracks, the alerts raised.</summary>
public sealed record FrameReport(VideoFrame Frame, FootprintSample? Footprint, IReadOnlyList<FrameTrack> Tracks, IReadOnlyList<AlertRecord> Alerts);
