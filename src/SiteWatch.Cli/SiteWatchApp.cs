using SiteWatch.Cli.Commands;
using SiteWatch.Gdal;
using SiteWatch.Video;
using SiteWatch.Video.Klv;

namespace SiteWatch.Cli;

/// <summary>
/// The `sitewatch` command tree. Exit codes: 0 success, 1 failure (a one-line error naming the file and the problem),
/// 2 usage error, 70 internal error (a bug: one line plus the path of a crash log with the stack trace).
/// </summary>
public static class SiteWatchApp
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;

    /// <summary>An unexpected exception, i.e. a bug (EX_SOFTWARE of sysexits.h); its details go to a crash log.</summary>
    public const int InternalError = 70;

    private static int _unhandledHookInstalled;

    public static int Run(string[] args)
    {
        if (Interlocked.Exchange(ref _unhandledHookInstalled, 1) == 0)
        {
            AppDomain.CurrentDomain.UnhandledException += OnUnhandled;
        }
        if (Console.IsOutputRedirected)
        {
            // Logs and pipes have no width; Spectre's 80-column default would wrap every table.
            AnsiConsole.Profile.Width = 160;
        }
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("sitewatch");
            config.PropagateExceptions();
            config.UseStrictParsing();
            config.SetHelpProvider(new BranchHelpProvider(config.Settings));
            config.AddCommand<InitCommand>("init")
                .WithDescription("Create a workspace: a SQLite catalog plus an imagery store.")
                .WithExample("init", "./plant");
            config.AddCommand<CheckCommand>("check")
                .WithDescription("Verify a workspace: SQLite integrity, every row readable, every stored file present with its recorded SHA-256, no orphaned files.")
                .WithExample("check", "-w", "./plant")
                .WithExample("check", "--no-hash", "--json");
            config.AddBranch("site", site =>
            {
                site.SetDescription("Sites under watch: an area of interest and its analysis grid.");
                site.AddCommand<SiteAddCommand>("add").WithDescription("Add a site from a GeoJSON AOI (WGS84).")
                    .WithExample("site", "add", "hamhung", "--aoi", "aoi.geojson", "--gsd", "1");
                site.AddCommand<SiteListCommand>("list").WithDescription("List sites.");
                site.AddCommand<SiteShowCommand>("show").WithDescription("Show one site with its grid and scenes.");
            });
            config.AddBranch("scene", scene =>
            {
                scene.SetDescription("Scenes: georeferenced images of a site, stored on its grid as COGs.");
                scene.AddCommand<SceneAddCommand>("add").WithDescription("Ingest raster files into a site (clip, reproject, store as COG).")
                    .WithExample("scene", "add", "2024-05.tif", "2024-06.tif", "--site", "hamhung");
                scene.AddCommand<SceneListCommand>("list").WithDescription("List a site's scenes in time order.");
                scene.AddCommand<SceneShowCommand>("show").WithDescription("Show one scene.");
            });
            config.AddBranch("change", change =>
            {
                change.SetDescription("Change detection: on a site's scenes (--site, --before/--after or --series), or on two files (detect).");
                change.SetDefaultCommand<ChangeSiteCommand>();
                change.AddCommand<ChangeDetectCommand>("detect").WithDescription("Detect change between two rasters on one grid; no workspace needed.")
                    .WithExample("change", "detect", "2000TM", "2003TM", "--out", "taizhou-change");
                change.AddExample("change", "--site", "hamhung", "--before", "2024-03-14", "--after", "2024-10-15");
                change.AddExample("change", "--site", "hamhung", "--series", "--method", "irmad");
            });
            config.AddBranch("detect", detect =>
            {
                detect.SetDescription("Object detection (YOLO / YOLO-OBB ONNX models) on a site's scenes; counts per class are stored per scene and model.");
                detect.SetDefaultCommand<DetectSiteCommand>();
                detect.AddExample("detect", "--site", "hamhung");
                detect.AddExample("detect", "--site", "hamhung", "--model", "dota-yolo11n-obb.onnx", "--score", "0.3", "--json");
                detect.AddCommand<DetectFileCommand>("file").WithDescription("Detect objects in one georeferenced raster; no workspace needed.")
                    .WithExample("detect", "file", "scene.tif", "--model", "yolo11n-obb.onnx", "--out", "detections.geojson")
                    .WithExample("detect", "file", "scene.tif", "--aoi", "aoi.geojson", "--score", "0.4", "--json");
            });
            config.AddCommand<MonitorCommand>("monitor")
                .WithDescription("Find a site's new scenes in a STAC API or catalog and run each through ingest, change, detection and alerts, once.")
                .WithExample("monitor", "--site", "plant", "--stac", "https://stac.example.org", "--collections", "naip", "--cloud", "20");
            config.AddCommand<ActivityCommand>("activity")
                .WithDescription("A site's activity per date: object counts per class, change areas, and an activity index against a trailing baseline.")
                .WithExample("activity", "--site", "hamhung", "--png", "activity.png")
                .WithExample("activity", "--site", "hamhung", "--baseline", "4", "--json");
            config.AddCommand<ExportCommand>("export")
                .WithDescription("Export a site's results through GDAL/OGR (GeoPackage, KML/KMZ with time, GeoJSON, CSV with WKT, FlatGeobuf) or as a STAC catalog.")
                .WithExample("export", "--site", "hamhung", "--format", "gpkg", "--out", "hamhung.gpkg")
                .WithExample("export", "--site", "hamhung", "--format", "kmz", "--what", "changes,alerts")
                .WithExample("export", "--site", "hamhung", "--format", "stac", "--out", "hamhung-stac");
            config.AddBranch("alerts", alerts =>
            {
                alerts.SetDescription("Alert rules per site, the alerts they raise (with evidence), and their webhook deliveries.");
                alerts.SetDefaultCommand<AlertsListCommand>();
                alerts.AddCommand<AlertsListCommand>("list").WithDescription("List a site's alerts with their delivery state.")
                    .WithExample("alerts", "list", "--site", "hamhung", "--json");
                alerts.AddCommand<AlertsRulesCommand>("rules").WithDescription("Validate and store a site's rules file (or show the stored rules).")
                    .WithExample("alerts", "rules", "--site", "hamhung", "--file", "rules.json");
                alerts.AddCommand<AlertsCheckCommand>("check").WithDescription("Evaluate the rules over every date; store new alerts with evidence and chips; deliver.")
                    .WithExample("alerts", "check", "--site", "hamhung");
                alerts.AddCommand<AlertsDeliverCommand>("deliver").WithDescription("Send pending webhook deliveries that are due (retried with backoff, never dropped).")
                    .WithExample("alerts", "deliver", "--site", "hamhung");
                alerts.AddCommand<AlertsAckCommand>("ack").WithDescription("Mark an alert as seen.")
                    .WithExample("alerts", "ack", "12", "--site", "hamhung");
                alerts.AddExample("alerts", "--site", "hamhung");
            });
            config.AddBranch("eval", eval =>
            {
                eval.SetDescription("Accuracy of results against references.");
                eval.AddCommand<EvalChangeCommand>("change").WithDescription("Overall accuracy, kappa, precision, recall, F1 and IoU of a change mask.")
                    .WithExample("eval", "change", "--predicted", "change_mask.tif", "--reference", "change.bmp", "--unchanged", "unchanged.bmp");
                eval.AddCommand<EvalDetectCommand>("detect").WithDescription("Precision, recall and F1 per class of detections against reference objects.")
                    .WithExample("eval", "detect", "--predicted", "detections.geojson", "--truth", "ground_truth.geojson", "--date", "2024-06-14");
            });
            config.AddBranch("klv", klv =>
            {
                klv.SetDescription("MISB KLV metadata (ST 0601 with nested ST 0102 / 0903 sets) from drone video.");
                klv.AddCommand<KlvDumpCommand>("dump").WithDescription("Decode every KLV packet of an MPEG-TS file or raw KLV file, with times, values and units.")
                    .WithExample("klv", "dump", "flight.ts", "--json");
            });
            config.AddBranch("video", video =>
            {
                video.SetDescription("Drone video: MPEG-TS with MISB KLV, from a file or live UDP.");
                video.AddCommand<VideoInfoCommand>("info")
                    .WithDescription("Decode a stream with ffmpeg and summarise it: frames, size, rate, telemetry per frame, KLV and TS errors.")
                    .WithExample("video", "info", "flight.ts")
                    .WithExample("video", "info", "udp://127.0.0.1:5600", "--json");
            });
            config.AddCommand<WatchCommand>("watch")
                .WithDescription("Watch drone video live: detect and track objects, place them on the ground, raise zone alerts (CoT, webhooks, alerts.jsonl), export GeoJSON/KML.")
                .WithExample("watch", "flight.ts", "--zones", "zones.geojson", "--dem", "dem.tif", "--cot", "udp://127.0.0.1:6969")
                .WithExample("watch", "udp://127.0.0.1:5600", "--zones", "zones.geojson", "--detector", "vmti", "--webhook", "http://127.0.0.1:8080/alerts", "--out", "watch-out")
                .WithExample("watch", "flight.ts", "--zones", "zones.geojson", "--model", "yolo.onnx", "--every", "6", "--json");
            config.AddBranch("simulate", simulate =>
            {
                simulate.SetDescription("Synthetic test data with ground truth.");
                simulate.AddCommand<SimulateFlightCommand>("flight")
                    .WithDescription("Render a drone flight over mountains crossing a border: H.264 MPEG-TS with ST 0601 KLV per frame, truth.json, dem.tif, zones.geojson.")
                    .WithExample("simulate", "flight", "--out", "flight", "--seconds", "20")
                    .WithExample("simulate", "flight", "--size", "640x360", "--vmti", "--udp", "127.0.0.1:5600");
            });
            config.AddCommand<CloudsCommand>("clouds")
                .WithDescription("Find clouds and their shadows in a scene delivered without a cloud mask (what scene add does for such scenes).")
                .WithExample("clouds", "scene.tif", "--out", "clouds.tif");
            config.AddCommand<SchemaCommand>("schema")
                .WithDescription("Print the JSON schema of a file SiteWatch reads (zones, rules): every property with its meaning, default and bounds.")
                .WithExample("schema", "zones", "--out", "zones.schema.json");
            config.AddCommand<InfoCommand>("info")
                .WithDescription("Describe any raster GDAL reads: size, bands, types, nodata, georeference, CRS.")
                .WithExample("info", "scene.tif", "--json");
            config.AddBranch("stac", stac =>
            {
                stac.SetDescription("STAC tools.");
                stac.AddCommand<StacServeCommand>("serve")
                    .WithDescription("Serve a static STAC catalog on disk (the demo's, an archive) as a STAC API on loopback for monitors and silos: item search, collections, assets with ranges.")
                    .WithExample("stac", "serve", "demo-output/stac", "--urls", "http://127.0.0.1:8090");
            });
            config.AddBranch("feed", feed =>
            {
                feed.SetDescription("Sites' standing drone feeds: live streams the cluster's silos watch around the clock against the site's stored zones.");
                feed.SetDefaultCommand<FeedListCommand>();
                feed.AddCommand<FeedAddCommand>("add").WithDescription("Store (or replace) a site's live feed; a silo starts watching it within a heartbeat.")
                    .WithExample("feed", "add", "ridge-east", "udp://239.10.0.1:5600", "--site", "border", "--detector", "vmti", "--cot", "udp://239.2.3.1:6969");
                feed.AddCommand<FeedRemoveCommand>("remove").WithDescription("Remove a feed; its silo stops watching it.")
                    .WithExample("feed", "remove", "ridge-east", "--site", "border");
                feed.AddCommand<FeedListCommand>("list").WithDescription("List the feeds, the silo watching each and how its last run went.")
                    .WithExample("feed", "list", "--json");
            });
            config.AddCommand<SiloCommand>("silo")
                .WithDescription("Run a silo of the SiteWatch cluster: sites' standing monitoring orders (monitor --schedule) and drone feeds (feed add) run on whichever silo holds them; membership and reminders in the workspace's PostgreSQL.")
                .WithExample("silo", "-w", "./national", "--silo-port", "11111", "--gateway-port", "30000");
            config.AddCommand<ServeCommand>("serve")
                .WithDescription("Serve the workspace over HTTP: REST API (docs at /docs), map tiles from the stored COGs, background jobs; users sign in (see 'user').")
                .WithExample("serve", "-w", "./plant", "--urls", "http://127.0.0.1:8080");
            config.AddBranch("user", user =>
            {
                user.SetDescription("Users of 'sitewatch serve': viewer, analyst or admin; passwords and API keys stored hashed.");
                user.AddCommand<UserAddCommand>("add").WithDescription("Add a user (a password is generated and printed once unless --password-stdin).")
                    .WithExample("user", "add", "alice", "--role", "admin");
                user.AddCommand<UserListCommand>("list").WithDescription("List users and their API key prefixes.");
                user.AddBranch("key", key =>
                {
                    key.SetDescription("Make a new API key for a user (shown once), or revoke keys ('key revoke').");
                    key.SetDefaultCommand<UserKeyCommand>();
                    key.AddExample("user", "key", "alice", "--expires-days", "90");
                    key.AddCommand<UserKeyRevokeCommand>("revoke").WithDescription("Revoke an API key of a user (by id or prefix, or --all); it stops working at once.")
                        .WithExample("user", "key", "revoke", "alice", "sw_AbC12x");
                });
                user.AddCommand<UserPasswordCommand>("password").WithDescription("Set a user's password (generated and printed once unless --password-stdin); ends their sessions.")
                    .WithExample("user", "password", "alice", "--password-stdin");
                user.AddCommand<UserDeleteCommand>("delete").WithDescription("Remove a user and their API keys; their sessions end at once.")
                    .WithExample("user", "delete", "bob");
            });
            config.AddBranch("note", note =>
            {
                note.SetDescription("The analyst's dated notes on a site, with their sources; the site report's timeline cites them.");
                note.AddCommand<NoteAddCommand>("add").WithDescription("Add a dated note with its source (and link, and an outline to measure against).")
                    .WithExample("note", "add", "--site", "hamhung", "--date", "2024-07-02", "--source", "Press report", "--url", "https://example.org/a", "Hall extension announced");
                note.AddCommand<NoteListCommand>("list").WithDescription("List a site's notes in date order.");
                note.AddCommand<NoteDeleteCommand>("delete").WithDescription("Delete one of a site's notes by id.");
            });
            config.AddCommand<TimelapseCommand>("timelapse")
                .WithDescription("Write a site's scenes in date order as an MP4 or GIF: date, attribution, scale bar, north arrow, AOI and what changed since the scene before (ffmpeg encodes).")
                .WithExample("timelapse", "--site", "hamhung", "--out", "hamhung.mp4")
                .WithExample("timelapse", "--site", "hamhung", "--out", "hamhung.gif", "--fps", "2", "--size", "640");
            config.AddCommand<ReportCommand>("report")
                .WithDescription("Write a site's report as self-contained HTML and PDF: overview map, scenes, before/after evidence of each significant change, activity charts, alerts, timeline with notes, methods and provenance.")
                .WithExample("report", "--site", "hamhung", "--out", "reports")
                .WithExample("report", "--site", "hamhung", "--from", "2024-03-01", "--to", "2024-10-31", "--paper", "letter");
            config.AddCommand<DemoCommand>("demo")
                .WithDescription("Generate the built-in demo site (a synthetic plant near Hamhung) and ingest it into a workspace; then simulate a drone border flight and watch it for zone alerts.")
                .WithExample("demo", "--out", "./demo-output");
        });

        return Guard(() => app.Run(args), args, Console.Error);
    }

    /// <summary>
    /// The one error boundary: runs the command and turns every exception into one line on <paramref name="error"/> and
    /// an exit code, so no stack trace ever reaches the user. Expected failures (bad input, missing files, GDAL, video and
    /// KLV errors, I/O and permissions) exit 1, parse errors 2; anything else is a bug: a short line plus the path of a
    /// crash log with the details (<see cref="CrashLog"/>), exit 70.
    /// </summary>
    internal static int Guard(Func<int> run, IReadOnlyList<string> args, TextWriter error, string? crashDirectory = null)
    {
        try
        {
            return run();
        }
        catch (Exception thrown)
        {
            var e = Unwrap(thrown);
            switch (e)
            {
                case CommandAppException:
                    // Parse and configuration errors: the user typed something we cannot run.
                    Error(error, e.Message);
                    AnsiConsole.Console.Profile.Out.Writer.Flush();
                    error.WriteLine("Run 'sitewatch --help' (or 'sitewatch COMMAND --help') for usage.");
                    return Usage;
                case SiteWatchException or GdalException or KlvFormatException:
                case IOException or UnauthorizedAccessException or OperationCanceledException:
                    Error(error, CliWording.Text(e));
                    return Failure;
                case DllNotFoundException:
                    Error(error, $"a native library is missing ({e.Message}); run ./scripts/bootstrap.sh or install GDAL, ffmpeg and the packages README.md lists");
                    return Failure;
                default:
                    var log = CrashLog.Write(thrown, args, crashDirectory);
                    var where = log is null ? "no crash log could be written" : $"details in {log}";
                    Error(error, $"internal error ({e.GetType().Name}: {FirstLine(e.Message)}); this is a bug in SiteWatch, please report it; {where}");
                    return InternalError;
            }
        }
    }

    /// <summary>The exception that says what happened: through the wrappers tasks and reflection put around it.</summary>
    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            switch (e)
            {
                case AggregateException { InnerExceptions.Count: 1 } aggregate:
                    e = aggregate.InnerExceptions[0];
                    continue;
                case System.Reflection.TargetInvocationException { InnerException: { } inner }:
                    e = inner;
                    continue;
                case TypeInitializationException { InnerException: { } inner }:
                    e = inner;
                    continue;
                default:
                    return e;
            }
        }
    }

    private static string FirstLine(string message)
    {
        var line = message.ReplaceLineEndings("\n").Split("\n")[0].Trim();
        return line.Length > 200 ? line[..200] + "..." : line;
    }

    /// <summary>Exceptions on threads other than the command's (timers, background delivery) end the process the same way.</summary>
    private static void OnUnhandled(object? sender, UnhandledExceptionEventArgs args)
    {
        if (args.ExceptionObject is Exception e)
        {
            var log = CrashLog.Write(e, Environment.GetCommandLineArgs().Skip(1).ToArray(), null);
            Error(Console.Error, $"internal error ({e.GetType().Name}: {FirstLine(e.Message)}); this is a bug in SiteWatch, please report it; "
                + (log is null ? "no crash log could be written" : $"details in {log}"));
            Console.Error.Flush();
            Environment.Exit(InternalError);
        }
    }

    /// <summary>One line on stderr, so JSON on stdout stays parseable.</summary>
    public static void Error(string message) => Error(Console.Error, message);

    private static void Error(TextWriter error, string message) => error.WriteLine($"error: {message.ReplaceLineEndings(" ")}");
}
