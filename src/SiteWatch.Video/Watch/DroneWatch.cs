using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Detection;
using SiteWatch.Core.Monitoring;
using SiteWatch.Video.Frames;
using SiteWatch.Video.Geo;

namespace SiteWatch.Video.Watch;

/// <summary>One drone watch, as the command line, a feed of the cluster or the server asks for it.</summary>
public sealed record DroneWatchRequest
{
    /// <summary>An MPEG-TS file with MISB ST 0601 KLV, or udp://ADDRESS:PORT for a live stream.</summary>
    public required string Source { get; init; }

    /// <summary>Where alerts.jsonl, snapshots/, flight.geojson and flight.kml (and the local outbox) go.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>The watch zones; null: the <see cref="Site"/>'s stored zones.</summary>
    public IReadOnlyList<WatchZone>? Zones { get; init; }

    /// <summary>
    /// The workspace of <see cref="Site"/> (not owned). With a site every alert is stored in its catalog (with an
    /// outbox row per webhook of the site's alert rules) and, with <see cref="Record"/>, the flight is kept in it.
    /// </summary>
    public Workspace? Workspace { get; init; }

    public string? Site { get; init; }

    /// <summary>Keep the flight in the site's workspace (recordings/ID: HLS video, frames log, catalog row).</summary>
    public bool Record { get; init; } = true;

    /// <summary>A terrain model (any GDAL raster, heights above MSL); null: each frame's KLV frame-centre elevation as flat ground.</summary>
    public string? DemPath { get; init; }

    public FrameDetectorKind Detector { get; init; } = FrameDetectorKind.Auto;

    /// <summary>The ONNX detector; null: the one shipped with SiteWatch.</summary>
    public string? ModelPath { get; init; }

    public string Device { get; init; } = "cpu";

    /// <summary>Detect on every Nth frame; null: 6 for a model, 1 for VMTI.</summary>
    public int? Every { get; init; }

    /// <summary>Cursor-on-Target endpoint (udp:// or tcp://) every alert is sent to through the local outbox.</summary>
    public Uri? Cot { get; init; }

    public CotOptions CotOptions { get; init; } = new();

    /// <summary>Webhooks every alert is POSTed to through the local outbox.</summary>
    public IReadOnlyList<Uri> Webhooks { get; init; } = [];

    public WatchDeliveryOptions Delivery { get; init; } = new();

    /// <summary>Never skip a detection frame, even when the detector falls behind (reproducible runs on files).</summary>
    public bool WaitForDetections { get; init; }

    /// <summary>Move tracks with the camera from frame to frame (<see cref="WatchOptions.CompensateCameraMotion"/>).</summary>
    public bool CompensateCameraMotion { get; init; } = true;

    /// <summary>Drop person detections lying on another person's shadow (<see cref="WatchOptions.ShadowFilter"/>).</summary>
    public bool ShadowFilter { get; init; }
}

/// <summary>What a watch did: the pipeline's summary, the stream's figures and the recording it kept.</summary>
public sealed record DroneWatchResult(WatchSummary Summary, VideoSourceStats Stream, RecordingRecord? Recording, string? RecordingProblem);

/// <summary>
/// The drone watch workflow: zones, detector, terrain, the alert sinks (site catalog, local outbox for CoT and
/// webhooks), background delivery and the flight recording, set up from one request and run over one source. The
/// command line's `watch` and the cluster's feed grains run it alike; hosts only present what it reports.
/// </summary>
public sealed class DroneWatch : IAsyncDisposable
{
    private readonly DroneWatchRequest _request;
    private readonly LocalOutbox? _outbox;
    private readonly CatalogAlertSink? _catalogSink;
    private readonly List<IAlertSink> _sinks = [];
    private readonly IFrameDetector _detector;
    private readonly DemTerrain? _dem;
    private WatchDelivery? _delivery;

    private DroneWatch(DroneWatchRequest request, IReadOnlyList<WatchZone> zones, IFrameDetector detector, DemTerrain? dem, LocalOutbox? outbox, CatalogAlertSink? catalogSink)
    {
        _request = request;
        Zones = zones;
        _detector = detector;
        _dem = dem;
        _outbox = outbox;
        _catalogSink = catalogSink;
        Every = request.Every ?? (detector is VmtiFrameDetector ? 1 : 6);
    }

    /// <summary>Called after an alert was stored in the site's catalog (a cluster tells its clients).</summary>
    public Action? AlertStored { get; set; }

    public IReadOnlyList<WatchZone> Zones { get; }
    public string DetectorName => _detector.Name;
    public int Every { get; }
    public bool Live => VideoSource.IsLive(_request.Source);

    /// <summary>How alerts name the video: the live URL, or the file's full path.</summary>
    private static string SourceName(string source) => VideoSource.IsLive(source) ? source : Path.GetFullPath(source);

    /// <summary>Checks the request and opens what the watch needs; nothing is written to a catalog yet.</summary>
    public static DroneWatch Open(DroneWatchRequest request)
    {
        if (!VideoSource.IsLive(request.Source) && !File.Exists(request.Source))
        {
            throw new SiteWatchException($"{request.Source}: file not found");
        }
        if (request.Site is not null && request.Workspace is null)
        {
            throw new ArgumentException("a site needs its workspace", nameof(request));
        }
        if (request.Every is < 1)
        {
            throw SiteWatchException.About("every", $"{request.Every}: detect on every Nth frame, N at least 1");
        }
        var zones = request.Zones ?? SiteZones(request.Workspace ?? throw SiteWatchException.About("zones", "no watch zones: give a zones file or a site whose zones are stored"), request.Site!);
        var targets = new List<string>();
        if (request.Cot is { } cot)
        {
            targets.Add(cot.GetLeftPart(UriPartial.Authority));
        }
        targets.AddRange(request.Webhooks.Select(w => w.ToString()));

        var disposables = new List<IDisposable>();
        try
        {
            var detector = CreateDetector(request);
            disposables.Add(detector);
            DemTerrain? dem = null;
            if (request.DemPath is { } demPath)
            {
                dem = File.Exists(demPath) ? DemTerrain.Open(demPath) : throw new SiteWatchException($"{demPath}: file not found");
                disposables.Add(dem);
            }
            Directory.CreateDirectory(request.OutputDirectory);
            // The local outbox: alerts for CoT and webhooks are written here before they are sent, and stay until delivered.
            var outboxPath = Path.Combine(request.OutputDirectory, LocalOutbox.FileName);
            var outbox = targets.Count > 0 || File.Exists(outboxPath) ? LocalOutbox.Open(outboxPath) : null;
            if (outbox is not null)
            {
                disposables.Add(outbox);
            }
            var watch = new DroneWatch(request, zones, detector, dem, outbox,
                request.Site is { } site ? new CatalogAlertSink(request.Workspace!, site) : null);
            watch.Wire(targets);
            return watch;
        }
        catch
        {
            disposables.ForEach(d => d.Dispose());
            throw;
        }
    }

    private void Wire(List<string> targets)
    {
        if (_catalogSink is not null)
        {
            _catalogSink.OnStored = () =>
            {
                _delivery?.Wake();
                AlertStored?.Invoke();
            };
            _sinks.Add(_catalogSink);
        }
        if (_outbox is not null && targets.Count > 0)
        {
            _sinks.Add(new OutboxAlertSink(_outbox, targets, _request.CotOptions, _request.Delivery.MaxAttempts) { OnStored = () => _delivery?.Wake() });
        }
        if (_outbox is not null || _catalogSink is { Webhooks.Count: > 0 })
        {
            _delivery = new WatchDelivery(_outbox, _catalogSink is { Webhooks.Count: > 0 } ? _request.Workspace!.Catalog.OpenAnotherConnection() : null,
                _catalogSink?.Site, _catalogSink?.Webhooks, _request.Delivery);
            _delivery.Start();
        }
    }

    /// <summary>
    /// Runs the watch to the end of the file, or until <paramref name="cancel"/> for a live stream (the exports are
    /// written either way), and reports.
    /// </summary>
    public async Task<DroneWatchResult> RunAsync(Action<WatchStatus>? onStatus = null, Action<AlertRecord>? onAlert = null, CancellationToken cancel = default)
    {
        var live = Live;
        // Alerts are keyed by the recording's content, so watching it again stores and sends nothing twice.
        var recording = live ? null : RecordingIdentity.OfFile(_request.Source);
        await using var recorder = _catalogSink is null || !_request.Record ? null
            : FlightRecorder.Start(_request.Workspace!, _catalogSink.Site, live ? _request.Source : Path.GetFullPath(_request.Source), live, recording);
        try
        {
            WatchSummary summary;
            VideoSourceStats stream;
            await using (var source = VideoSource.Open(_request.Source, recorder is null ? null : new VideoSourceOptions { Copy = recorder.CopyAsync }))
            {
                var options = new WatchOptions
                {
                    OutputDirectory = _request.OutputDirectory,
                    DetectEvery = Every,
                    Dem = _dem,
                    WaitForDetections = _request.WaitForDetections,
                    CompensateCameraMotion = _request.CompensateCameraMotion,
                    ShadowFilter = _request.ShadowFilter,
                    RecordingId = recording,
                    Source = SourceName(_request.Source),
                };
                await using (var pipeline = new WatchPipeline(Zones, _detector, options, _sinks, _delivery)
                {
                    OnStatus = onStatus,
                    OnFrame = recorder is null ? null : recorder.Frame,
                    OnAlert = onAlert,
                })
                {
                    summary = await pipeline.RunAsync(source.ReadFramesAsync(cancel), cancel).ConfigureAwait(false);
                }
                stream = source.Stats;
            }
            stream.RequireData(_request.Source);
            string? problem = null;
            if (recorder is not null)
            {
                problem = await recorder.FinishAsync(cancel.IsCancellationRequested ? "stopped before the end of the video" : null).ConfigureAwait(false);
            }
            return new DroneWatchResult(summary, stream, recorder?.Recording, problem);
        }
        catch (Exception e) when (recorder is not null)
        {
            await recorder.FinishAsync($"failed: {e.Message}").ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The watch zones stored for a site (by the server's zones routes), read as a zones file is.</summary>
    private static IReadOnlyList<WatchZone> SiteZones(Workspace workspace, string siteName)
    {
        var site = workspace.Catalog.TryGetSite(siteName) ?? throw new SiteWatchException($"no site named '{siteName}'");
        var stored = workspace.Catalog.TryGetWatchZones(site.Id);
        var zones = stored is null ? [] : WatchZoneFile.Parse(stored.GeoJson, $"site {siteName}: stored watch zones");
        return zones.Count > 0 ? zones : throw new SiteWatchException($"site {siteName} has no watch zones: give a zones file or add zones (POST /api/sites/{site.Id}/zones)");
    }

    private static IFrameDetector CreateDetector(DroneWatchRequest request)
    {
        if (request.Detector == FrameDetectorKind.Vmti)
        {
            return new VmtiFrameDetector();
        }
        // Video frames get the drone model: the default scene detector learned 0.9 m satellite views.
        var path = request.ModelPath ?? DetectorModel.DroneModelPath;
        if (path is null)
        {
            if (request.Detector == FrameDetectorKind.Model)
            {
                throw new SiteWatchException($"no model given and this build has no default drone detector (models/{DetectorModel.DroneModelFileName}); give a model or use the VMTI detector");
            }
            return new VmtiFrameDetector();
        }
        if (!File.Exists(path))
        {
            throw new SiteWatchException($"{path}: file not found");
        }
        var options = new DetectorOptions { ScoreThreshold = 0.1f, Device = request.Device };
        options.Validate();
        var model = DetectorModel.Load(path);
        model.Prepare(request.Device);
        return new OnnxFrameDetector(model, options);
    }

    public async ValueTask DisposeAsync()
    {
        if (_delivery is not null)
        {
            await _delivery.DisposeAsync().ConfigureAwait(false);
        }
        _outbox?.Dispose();
        _detector.Dispose();
        _dem?.Dispose();
    }
}
