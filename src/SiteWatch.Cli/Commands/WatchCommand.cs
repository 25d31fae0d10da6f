using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Monitoring;
using SiteWatch.Video.Frames;
using SiteWatch.Video.Watch;

namespace SiteWatch.Cli.Commands;

public sealed class WatchCommand : Command<WatchCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<SOURCE>")]
        [Description("MPEG-TS file with MISB ST 0601 KLV, or udp://ADDRESS:PORT to listen for a live stream: udp://:PORT listens on loopback only; name an address or interface (udp://eth0:5600, udp://0.0.0.0:5600 for all) and limit senders with ?from=10.0.0.5,10.0.1.0/24 (others are dropped and counted).")]
        public string Source { get; init; } = "";

        [CommandOption("--zones <FILE>")]
        [Description("Without it, the --site's stored watch zones (POST /api/sites/{id}/zones). Watch zones: GeoJSON FeatureCollection (WGS84) of Polygon / LineString zones with name, rules (enter, cross, loiter), loiter_seconds, classes, min_score, min_area_m2, cooldown_seconds, buffer_m.")]
        public string? Zones { get; init; }

        [CommandOption("--dem <FILE>")]
        [Description("Terrain model (any GDAL raster, heights above MSL) for ground positions. Without it, each frame's KLV frame-centre elevation is taken as flat ground.")]
        public string? Dem { get; init; }

        [CommandOption("--model <FILE>")]
        [Description("ONNX object detector (YOLO layout; with metadata gsd, frames are resampled to it). Default: the drone detector shipped with SiteWatch (models/sitewatch-drone.onnx, vehicles and people).")]
        public string? Model { get; init; }

        [CommandOption("--detector <KIND>")]
        [Description("model (the ONNX detector, the default when one is available) or vmti (the targets the stream's ST 0903 VMTI sets carry).")]
        public string? Detector { get; init; }

        [CommandOption("--every <N>")]
        [Description("Detect on every Nth frame; tracks are predicted in between. Default 6 for a model, 1 for vmti.")]
        public int? Every { get; init; }

        [CommandOption("--device <DEVICE>")]
        [Description("Where the model runs: cpu (default) or cuda.")]
        public string Device { get; init; } = "cpu";

        [CommandOption("--cot <URI>")]
        [Description("Send alerts as Cursor-on-Target events: udp://HOST:PORT (e.g. udp://239.2.3.1:6969) or tcp://HOST:PORT (TAK Server 8087, ATAK 4242).")]
        public string? Cot { get; init; }

        [CommandOption("--cot-type <TYPE>")]
        [Description("CoT type of alert events. Default a-u-G (unknown ground unit).")]
        public string CotType { get; init; } = "a-u-G";

        [CommandOption("--webhook <URL>")]
        [Description("POST every alert as JSON to this URL (repeatable), with header Idempotency-Key (the alert's stable uid). Alerts are queued in OUT/outbox.db first, retried with backoff in the background (never holding up the video) and what is still pending at the end is kept for the next run or 'sitewatch alerts deliver --outbox OUT/outbox.db'. With SITEWATCH_WEBHOOK_SECRET set in the environment each POST is signed (X-SiteWatch-Signature: sha256=HMAC of the body), as a site's webhooks are.")]
        public string[] Webhooks { get; init; } = [];

        [CommandOption("--delivery-grace <SECONDS>")]
        [Description("At the end, how long pending deliveries still get before the run reports them as pending (kept in the outbox). Default 10.")]
        public double DeliveryGrace { get; init; } = 10;

        [CommandOption("--out <DIR>")]
        [Description("Output folder: alerts.jsonl, snapshots/, flight.geojson, flight.kml. Default ./watch-output.")]
        public string Out { get; init; } = "watch-output";

        [CommandOption("--site <NAME>")]
        [Description("Also keep the flight in this site's workspace (recordings/ID: HLS video with fMP4 segments, frames.jsonl with footprints and tracks, a catalog row the server lists and follows live) and store every alert in the site's catalog (source video, with its snapshot), beside the alerts raised on its scenes, with an outbox row for each webhook of the site's alert rules (signed, sent in the background and by 'sitewatch alerts deliver').")]
        public string? Site { get; init; }

        [CommandOption("-w|--workspace <DIR>")]
        [Description("Workspace for --site (default: $SITEWATCH_WORKSPACE or the current directory).")]
        public string? Workspace { get; init; }

        [CommandOption("--wait-for-detections")]
        [Description("Never skip a detection frame, even when the detector falls behind the stream (reproducible runs on files).")]
        public bool WaitForDetections { get; init; }

        [CommandOption("--no-camera-motion")]
        [Description("Leave tracks at their pixel positions between frames instead of moving them with the camera (from the telemetry: each frame's pose casts a pixel onto the terrain and the next projects it back). Only for telemetry too poor to follow the camera; a drone's orbit then reads as the objects' own motion.")]
        public bool NoCameraMotion { get; init; }

        [CommandOption("--shadow-filter")]
        [Description("Drop person detections lying where another person's shadow falls, by the sun of the KLV's time and position: from a drone a person's shadow is a dot like the person, and tracked as a second person it raises a second alert. Off by default: it can also take a person walking in file just beside the shadow of the one before for that shadow (README).")]
        public bool ShadowFilter { get; init; }

        [CommandOption("--json")]
        [Description("Write the summary and alerts as JSON to stdout.")]
        public bool Json { get; init; }

        public override ValidationResult Validate()
        {
            if (string.IsNullOrEmpty(Zones) && string.IsNullOrEmpty(Site))
            {
                return ValidationResult.Error("--zones ZONES.geojson is required (or --site NAME whose watch zones are stored)");
            }

            if (DeliveryGrace < 0 || double.IsNaN(DeliveryGrace))
            {
                return ValidationResult.Error("--delivery-grace must be 0 or more seconds");
            }

            if (WatchChoices.Check(Every, Detector, Model, Cot) is { Successful: false } invalid)
            {
                return invalid;
            }

            try
            {
                // Malformed endpoints are usage errors (exit 2), caught before any work starts.
                _ = Webhooks.Select(WebhookUrl.Parse).ToList();
            }
            catch (SiteWatchException e)
            {
                return ValidationResult.Error(CliWording.Text(e));
            }

            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        VideoInput.RequireNotEmpty(settings.Source);
        using var workspace = settings.Site is null ? null : Core.Catalog.Workspace.Open(Core.Catalog.Workspace.ResolveDirectory(settings.Workspace), Output.Notice);
        var request = new DroneWatchRequest
        {
            Source = settings.Source,
            OutputDirectory = settings.Out,
            Zones = settings.Zones is { Length: > 0 } zonesFile ? WatchZoneFile.Load(zonesFile) : null,
            Workspace = workspace,
            Site = settings.Site,
            DemPath = settings.Dem,
            Detector = WatchChoices.Detector(settings.Detector),
            ModelPath = settings.Model,
            Device = settings.Device,
            Every = settings.Every,
            Cot = settings.Cot is { } cot ? CotSink.ParseEndpoint(cot) : null,
            CotOptions = new CotOptions { Type = settings.CotType },
            Webhooks = settings.Webhooks.Select(WebhookUrl.Parse).ToList(),
            Delivery = WatchDeliveryOptions.FromEnvironment() with { ShutdownGrace = TimeSpan.FromSeconds(settings.DeliveryGrace) },
            WaitForDetections = settings.WaitForDetections,
            CompensateCameraMotion = !settings.NoCameraMotion,
            ShadowFilter = settings.ShadowFilter,
        };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // First Ctrl+C ends the watch cleanly (exports written); a second one kills the process.
            e.Cancel = !stop.IsCancellationRequested;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return Run(settings, request, stop.Token).GetAwaiter().GetResult();
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static async Task<int> Run(Settings settings, DroneWatchRequest request, CancellationToken cancellationToken)
    {
        await using var watch = DroneWatch.Open(request);
        var live = !settings.Json && Output.Interactive;
        WatchStatus? latest = null;
        var alerts = new List<AlertRecord>();
        void OnAlert(AlertRecord a)
        {
            alerts.Add(a);
            if (!settings.Json)
            {
                AnsiConsole.MarkupLine(Markup.Escape(AlertLine(a)));
            }
        }

        if (!settings.Json)
        {
            AnsiConsole.MarkupLine(Markup.Escape($"Watching {SecretMask.Text(settings.Source)}: {watch.Zones.Count} zone(s), detector {watch.DetectorName} every {watch.Every} frame(s)"));
        }

        DroneWatchResult result;
        if (live)
        {
            result = await AnsiConsole.Status().StartAsync("starting", async ctx =>
            {
                using var timer = new Timer(_ =>
                {
                    if (latest is { } s)
                    {
                        ctx.Status(Markup.Escape(StatusLine(s)));
                    }
                }, null, 500, 500);
                return await watch.RunAsync(s => latest = s, OnAlert, cancellationToken);
            });
        }
        else
        {
            result = await watch.RunAsync(s => latest = s, OnAlert, cancellationToken);
        }

        var (summary, stream) = (result.Summary, result.Stream);
        if (settings.Json)
        {
            Output.WriteJson(new { summary, stream = StreamReport(stream), alerts = alerts.Select(a => AlertJson.Document(a, AlertJson.UnstoredUid(a))).ToList() });
            ReportPending(summary, settings.Site, toStderr: true);
        }
        else
        {
            Print(summary, stream);
            ReportPending(summary, settings.Site, toStderr: false);
        }

        if (result.Recording is { } recording)
        {
            var message = $"recording {recording.Id}: {recording.Directory}" + (result.RecordingProblem is null ? "" : $" ({result.RecordingProblem})");
            if (settings.Json)
            {
                Console.Error.WriteLine(message);
            }
            else
            {
                AnsiConsole.MarkupLine(Markup.Escape(message));
            }
        }

        if (summary.Frames == 0)
        {
            SiteWatchApp.Error($"{settings.Source}: no video frame was decoded ({stream.BytesRead} bytes read, {stream.KlvPackets} KLV packets, {stream.TsErrors} TS errors)");
            return SiteWatchApp.Failure;
        }

        return 0;
    }

    /// <summary>Says where undelivered alerts are kept and how to send them, so a shutdown never loses one silently.</summary>
    private static void ReportPending(WatchSummary summary, string? site, bool toStderr)
    {
        foreach (var place in summary.Sinks.Where(r => r.Pending > 0 && r.KeptIn is not null).GroupBy(r => r.KeptIn!))
        {
            var how = place.Key.EndsWith(LocalOutbox.FileName, StringComparison.Ordinal)
                ? $"sitewatch alerts deliver --outbox {place.Key} (or watch again with the same --out)"
                : $"sitewatch alerts deliver --site {site}";
            var line = $"{place.Sum(r => r.Pending)} alert deliveries pending, kept in {place.Key}: send them with {how}";
            if (toStderr)
            {
                Console.Error.WriteLine(line);
            }
            else
            {
                AnsiConsole.MarkupLine(Markup.Escape("note: " + line));
            }
        }
    }

    private static object StreamReport(VideoSourceStats stats) => new
    {
        stats.Frames,
        stats.FramesWithoutTelemetry,
        stats.ListeningOn,
        stats.Datagrams,
        stats.ForeignDatagrams,
        stats.KlvPackets,
        stats.KlvProblems,
        stats.TsErrors,
        ts_problems = stats.TsErrorList.Take(20).Select(e => e.ToString()).ToList(),
        stats.DecoderExitCode,
    };

    private static string StatusLine(WatchStatus s) => string.Create(CultureInfo.InvariantCulture,
        $"{s.VideoSeconds:0.0} s video, {s.Frames} frames, {s.FramesPerSecond:0.0} fps, latency {(s.MedianLatencyMs is { } l ? $"{l:0} ms" : "-")}, tracks {s.ActiveTracks} ({s.ConfirmedTracks} confirmed), alerts {s.Alerts}");

    private static string AlertLine(AlertRecord alert)
    {
        var a = alert.Track!;
        return string.Create(CultureInfo.InvariantCulture,
            $"ALERT {a.VideoSeconds,7:0.00} s  {alert.Kind,-6} {a.Zone}: {a.ClassName} track {a.TrackId} (score {a.Score:0.00}) at {a.Latitude:0.000000}, {a.Longitude:0.000000}{(a.SpeedMps is { } v ? $", {v:0.0} m/s" : "")}, latency {a.LatencyMs:0} ms");
    }

    private static void Print(WatchSummary s, VideoSourceStats stream)
    {
        var table = new Table().AddColumn("").AddColumn("");
        table.HideHeaders();
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        var inv = CultureInfo.InvariantCulture;
        Row("video", string.Create(inv, $"{s.Frames} frames, {s.VideoSeconds:0.0} s in {s.WallSeconds:0.0} s wall ({s.FramesPerSecond:0.0} fps)"));
        Row("processing", string.Create(inv, $"{s.ProcessingSecondsPerVideoSecond:0.000} s per video second (detection {s.DetectionSecondsPerVideoSecond:0.000} s)"));
        Row("detection", string.Create(inv, $"{s.Detector} every {s.DetectEvery}: {s.DetectionFrames} frames, {s.Detections} detections, {s.DetectionFramesDropped} dropped (detector busy)"));
        Row("ground", s.Terrain);
        var camera = s.CameraMotionCompensated ? "moved with the camera between frames" : "not moved with the camera (--no-camera-motion)";
        Row("tracks", string.Create(inv, $"{s.ConfirmedTracks} confirmed; detections associated from score {s.TrackHighScore:0.##}, tracks started from {s.NewTrackScore:0.##} ({s.TrackGatesFrom}); {camera}"));
        Row("shadows", s.ShadowsDropped is { } dropped
            ? string.Create(inv, $"{dropped} person detections dropped as another person's shadow; {s.ShadowFilterNote}")
            : "every person detection tracked (--shadow-filter drops those lying on another person's shadow)");
        Row("alerts", $"{s.Alerts} ({s.AlertsSuppressedByCooldown} held back by cooldown, {s.AlertsHeldBackByFilters} by filters)");
        Row("latency", s.MedianLatencyMs is { } m ? string.Create(inv, $"median {m:0} ms, p95 {s.P95LatencyMs:0} ms (frame arrival -> alert)") : "no alerts");
        foreach (var sink in s.Sinks)
        {
            Row(SecretMask.Text(sink.Name), SinkReportText.Describe(sink) + (sink.Problems.Count > 0 ? ": " + SecretMask.Text(sink.Problems[^1]) : ""));
        }

        Row("stream", $"{stream.KlvPackets} KLV packets, {stream.KlvProblems} KLV problems, {stream.TsErrors} TS errors, {s.FramesWithoutTelemetry} frames without telemetry, {s.FramesUnplaced} track positions not placed");
        if (stream.ListeningOn is { } on)
        {
            Row("udp", $"listening on {on}: {stream.Datagrams} datagrams, {stream.ForeignDatagrams} from other senders dropped");
        }

        Row("footprints", $"{s.FootprintsKept} kept (one per second)");
        Row("output", $"{s.OutputDirectory}: alerts.jsonl, snapshots/, flight.geojson, flight.kml");
        AnsiConsole.Write(table);
        foreach (var note in s.Notes)
        {
            AnsiConsole.MarkupLine(Markup.Escape($"note: {note}"));
        }

        foreach (var problem in s.Problems.Concat(stream.TsErrorList.Take(10).Select(e => e.ToString())))
        {
            AnsiConsole.MarkupLine(Markup.Escape($"problem: {problem}"));
        }

        if (s.ProblemCount > s.Problems.Count)
        {
            AnsiConsole.MarkupLine(Markup.Escape($"... {s.ProblemCount - s.Problems.Count} more frame problems"));
        }
    }
}

/// <summary>The detection and CoT options `watch` and `feed add` share: checked, and parsed into types, in one place.</summary>
internal static class WatchChoices
{
    public static ValidationResult Check(int? every, string? detector, string? model, string? cot)
    {
        if (every is < 1)
        {
            return ValidationResult.Error("--every must be at least 1");
        }
        if (detector is not (null or "model" or "vmti"))
        {
            return ValidationResult.Error($"--detector {detector}: use model or vmti");
        }
        if (detector == "vmti" && model is not null)
        {
            return ValidationResult.Error("--model and --detector vmti exclude each other");
        }
        try
        {
            // A malformed endpoint is a usage error (exit 2), caught before any work starts.
            _ = cot is null ? null : CotSink.ParseEndpoint(cot);
        }
        catch (SiteWatchException e)
        {
            return ValidationResult.Error(CliWording.Text(e));
        }
        return ValidationResult.Success();
    }

    public static FrameDetectorKind Detector(string? detector) => detector switch
    {
        "vmti" => FrameDetectorKind.Vmti,
        "model" => FrameDetectorKind.Model,
        _ => FrameDetectorKind.Auto,
    };
}
