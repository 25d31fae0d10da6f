using SiteWatch.Demo.Plant;
using SiteWatch.Core.Reports;
using SiteWatch.Core.Workflows;
using SiteWatch.Video.Watch;
using SiteWatch.Demo;
using SiteWatch.Demo.Flight;

namespace SiteWatch.Cli.Commands;

public sealed class DemoCommand : Command<DemoCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("-o|--out <DIR>")]
        [Description("Where to write scenes, ground truth and the demo workspace.")]
        [DefaultValue("demo-output")]
        public string Out { get; init; } = "demo-output";

        [CommandOption("--seed <N>")]
        [Description("Random seed of the synthetic site (same seed, same scenes).")]
        [DefaultValue(42)]
        public int Seed { get; init; } = 42;

        [CommandOption("--no-drone")]
        [Description("Skip the drone part (a simulated border flight, watched for zone alerts).")]
        public bool NoDrone { get; init; }

        [CommandOption("--json")]
        [Description("Write the summary as JSON.")]
        public bool Json { get; init; }

        [CommandOption("--serve")]
        [Description("Then serve the demo workspace (sitewatch serve) with a demo admin whose password is generated and printed.")]
        public bool Serve { get; init; }

        [CommandOption("--urls <URLS>")]
        [Description("With --serve: addresses to listen on (default http://127.0.0.1:8080).")]
        public string? Urls { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var options = new DemoOptions(settings.Out, settings.Seed);
        DemoResult result;
        if (settings.Json || !Output.Interactive)
        {
            if (!settings.Json)
            {
                AnsiConsole.MarkupLine("Rendering the synthetic plant time series and ingesting it ...");
            }
            result = DemoWorkflow.Run(options, null, cancellationToken);
        }
        else
        {
            result = AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var tasks = new Dictionary<string, ProgressTask>();
                    return DemoWorkflow.Run(options, new Core.SyncProgress<(string Stage, double Fraction)>(stage =>
                    {
                        if (!tasks.TryGetValue(stage.Stage, out var task))
                        {
                            task = tasks[stage.Stage] = ctx.AddTask(stage.Stage, maxValue: 1.0);
                        }
                        task.Value = stage.Fraction;
                    }), cancellationToken);
                });
        }

        var plan = result.Plan;
        var dates = plan.Acquisitions.Select(a => DateOnly.FromDateTime(a.AcquiredUtc)).ToArray();
        var hall = plan.Objects.Single(o => o.Class == TruthClasses.AssemblyHall);
        var building = plan.Objects.Single(o => o.Class == TruthClasses.NewAssemblyBuilding);
        var crane = plan.Objects.Single(o => o.Class == TruthClasses.BridgeCrane);
        var ratio = building.AreaSquareMetres / hall.AreaSquareMetres;

        var drone = settings.NoDrone ? null : RunDrone(Path.Combine(result.OutputDirectory, "drone"), settings.Json, cancellationToken);
        if (settings.Json)
        {
            Output.WriteJson(new
            {
                drone = drone is null ? null : DroneJson(drone),
                output = result.OutputDirectory,
                workspace = result.WorkspaceDirectory,
                scenes_directory = result.ScenesDirectory,
                aoi = result.AoiPath,
                ground_truth = result.GroundTruthPath,
                site = Views.Site(result.Site, result.Scenes),
                change = new
                {
                    runs = result.Change.Series.Append(result.Change.Overall).Select(r => new
                    {
                        before = DateOnly.FromDateTime(r.Run.Before.AcquiredUtc),
                        after = DateOnly.FromDateTime(r.Run.After.AcquiredUtc),
                        directory = r.Run.Directory,
                        summary = r.Run.Summary,
                        truth_mask = r.TruthMaskPath,
                        accuracy = new { precision = r.Accuracy.Precision, recall = r.Accuracy.Recall, f1 = r.Accuracy.F1, kappa = r.Accuracy.Kappa, iou = r.Accuracy.IoU },
                        accuracy_without_vegetation = new { precision = r.StructureAccuracy.Precision, recall = r.StructureAccuracy.Recall, f1 = r.StructureAccuracy.F1, kappa = r.StructureAccuracy.Kappa, iou = r.StructureAccuracy.IoU },
                    }).ToArray(),
                    new_building_m2 = result.Change.NewBuildingOutline?.Area,
                    new_building_to_hall_ratio = result.Change.NewBuildingRatio,
                    new_building_iou_with_truth = result.Change.NewBuildingIoU,
                    crane_removal = result.Change.CraneRemoval is { } removal ? new { area_m2 = removal.AreaSquareMetres, lat = removal.CentroidLat, lon = removal.CentroidLon } : null,
                },
                activity = ActivityCommand.ActivityView(result.Activity.Timeline, result.Activity.PlotPath),
                detection_note = result.Activity.DetectionNote,
                detection_accuracy = result.Activity.DetectionChecks.Select(c => new
                {
                    date = c.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    cloudy = c.Cloudy,
                    classes = c.Classes.Select(a => new { @class = a.ClassName, truth = a.TruthCount, detected = a.PredictedCount, matched = a.TruePositives }),
                }),
                alert_rules = result.Activity.RulesPath,
                report = new { html = result.Products.Report.HtmlPath, pdf = result.Products.Report.PdfPath, pages = result.Products.Report.Pages, findings = result.Products.Report.Report.Findings.Count },
                timelapse = new { path = result.Products.Timelapse.Path, frames = result.Products.Timelapse.Frames },
                geopackage = new { path = result.Products.GeoPackage.Path, layers = result.Products.GeoPackage.Layers.Select(l => new { kind = l.Kind, features = l.Features }) },
                alerts = result.Activity.Alerts.Raised.OrderBy(a => a.ObservedUtc).Select(a => AlertsListCommand.AlertView(a, [])).ToArray(),
                truth = new
                {
                    assembly_hall_m2 = Math.Round(hall.AreaSquareMetres, 1),
                    new_building_m2 = Math.Round(building.AreaSquareMetres, 1),
                    new_building_to_hall_ratio = Math.Round(ratio, 4),
                    crane_removed_on = crane.RemovedOn,
                    per_date = dates.Select(d => new
                    {
                        date = d,
                        new_building_stage = building.StageOn(d),
                        worker_housing = plan.CountOn(TruthClasses.WorkerHousing, d),
                        crane_present = crane.IsPresentOn(d),
                        material_piles = plan.CountOn(TruthClasses.MaterialPile, d),
                        vehicles = plan.CountOn(TruthClasses.Vehicle, d),
                        freight_cars = plan.CountOn(TruthClasses.FreightCar, d),
                    }).ToArray(),
                },
            });
            ServeDemo(settings, result.WorkspaceDirectory, cancellationToken);
            return 0;
        }

        var c = result.Site.Aoi.Centroid;
        AnsiConsole.Write(new Rule($"[bold]SiteWatch demo[/]: site [bold]{Markup.Escape(result.Site.Name)}[/]").LeftJustified());
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"Synthetic industrial plant near Hamhung ({c.Y:0.####}N {c.X:0.####}E), grid EPSG:{result.Site.CrsEpsg} at {result.Site.Gsd:0.##} m, seed {settings.Seed}");

        var scenes = new Table().Title("Scenes in the catalog").AddColumns("Id", "Acquired (UTC)", "Sensor", "Delivered as", "Sun elev.", "True shift (px)", "Cloud %", "Valid");
        for (var i = 0; i < result.Scenes.Count; i++)
        {
            var s = result.Scenes[i];
            var a = plan.Acquisitions.FirstOrDefault(x => x.AcquiredUtc == s.AcquiredUtc) ?? plan.Acquisitions[i];
            scenes.AddRow(
                s.Id.ToString(CultureInfo.InvariantCulture), Output.Date(s.AcquiredUtc), Markup.Escape(s.Sensor),
                Markup.Escape(Path.GetFileName(s.SourcePath) + (s.AcquiredFrom == "STAC item" ? " + STAC" : "")),
                a.SunElevationDeg.ToString("0.0°", CultureInfo.InvariantCulture),
                FormattableString.Invariant($"{a.ShiftXPixels:+0.00;-0.00}, {a.ShiftYPixels:+0.00;-0.00}"),
                s.CloudCoverPercent?.ToString("0.#", CultureInfo.InvariantCulture) ?? "-",
                s.ValidFraction.ToString("P0", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(scenes);

        var truth = new Table().Title("Ground truth per date").AddColumns("Date", "New building", "Housing blocks", "Crane", "Material piles", "Vehicles", "Freight cars");
        foreach (var d in dates)
        {
            truth.AddRow(
                d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                building.StageOn(d) ?? "-",
                plan.CountOn(TruthClasses.WorkerHousing, d).ToString(CultureInfo.InvariantCulture),
                crane.IsPresentOn(d) ? "present" : "[yellow]removed[/]",
                plan.CountOn(TruthClasses.MaterialPile, d).ToString(CultureInfo.InvariantCulture),
                plan.CountOn(TruthClasses.Vehicle, d).ToString(CultureInfo.InvariantCulture),
                plan.CountOn(TruthClasses.FreightCar, d).ToString(CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(truth);
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"New assembly building: {building.AreaSquareMetres:N0} m² = [bold]{ratio:P1}[/] of the existing hall ({hall.AreaSquareMetres:N0} m²).");
        if (crane.RemovedOn is { } removed)
        {
            var before = dates.Last(d => d < removed);
            var after = dates.First(d => d >= removed);
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"Bridge crane in front of the tunnel entrance: present on {before:yyyy-MM-dd}, gone on {after:yyyy-MM-dd} (removed {removed:yyyy-MM-dd}).");
        }
        PrintChange(result.Change);
        PrintActivity(result.Activity);
        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLineInterpolated($"Outputs in [bold]{result.OutputDirectory}[/]:");
        AnsiConsole.MarkupLineInterpolated($"  scenes as delivered  {result.ScenesDirectory}");
        AnsiConsole.MarkupLineInterpolated($"  ground truth         {result.GroundTruthPath}");
        AnsiConsole.MarkupLineInterpolated($"  AOI                  {result.AoiPath}");
        AnsiConsole.MarkupLineInterpolated($"  change runs          {Path.Combine(result.WorkspaceDirectory, "changes")}  (quicklook.png, changes.geojson, change_mask.tif per pair)");
        AnsiConsole.MarkupLineInterpolated($"  activity plot        {result.Activity.PlotPath}");
        AnsiConsole.MarkupLineInterpolated($"  site report          {result.Products.Report.PdfPath}  ({result.Products.Report.Pages} pages; same content in {Path.GetFileName(result.Products.Report.HtmlPath)})");
        AnsiConsole.MarkupLineInterpolated($"  timelapse            {result.Products.Timelapse.Path}  ({result.Products.Timelapse.Frames} scenes, changes outlined)");
        AnsiConsole.MarkupLineInterpolated($"  GeoPackage           {result.Products.GeoPackage.Path}  ({string.Join(", ", result.Products.GeoPackage.Layers.Select(l => $"{l.Kind} {l.Features}"))})");
        AnsiConsole.MarkupLineInterpolated($"  alert rules          {result.Activity.RulesPath}  (try: sitewatch alerts --site {result.Site.Name} -w {result.WorkspaceDirectory})");
        AnsiConsole.MarkupLineInterpolated($"  workspace            {result.WorkspaceDirectory}  (try: sitewatch scene list --site {result.Site.Name} -w {result.WorkspaceDirectory})");
        if (drone is not null)
        {
            PrintDrone(drone);
        }

        ServeDemo(settings, result.WorkspaceDirectory, cancellationToken);
        return 0;
    }

    /// <summary>--serve: a demo admin with a fresh generated password (printed once), then the server until Ctrl+C.</summary>
    private static void ServeDemo(Settings settings, string workspaceDirectory, CancellationToken cancellationToken)
    {
        if (!settings.Serve)
        {
            return;
        }
        var password = SiteWatch.Server.Auth.UserAccounts.GeneratePassword();
        using (var workspace = Core.Catalog.Workspace.Open(workspaceDirectory, Output.Notice))
        {
            SiteWatch.Server.Auth.UserAccounts.SetOrAdd(workspace.Catalog, "demo-admin", Core.Catalog.UserRoles.Admin, password);
        }
        var urls = settings.Urls ?? ServeCommand.DefaultUrls;
        ServeCommand.Serve(workspaceDirectory, urls, cancellationToken,
            $"Serving the demo at {urls.Split(';')[0]}  (API docs: {urls.Split(';')[0]}/docs)\n  login  demo-admin\n  password  {password}");
    }

    private static void PrintActivity(DemoActivityReport activity)
    {
        if (activity.DetectionNote is { } note)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]note:[/] {note}");
        }
        ActivityCommand.Print(activity.Timeline);
        PrintDetectionChecks(activity.DetectionChecks);
        var raised = activity.Alerts.Raised.OrderBy(a => a.ObservedUtc).ToList();
        var table = new Table().Title($"Alerts raised ({raised.Count})").AddColumns("Observed", "Severity", "Rule", "Message");
        foreach (var a in raised)
        {
            table.AddRow(a.ObservedUtc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), a.Severity, Markup.Escape(a.RuleName), Markup.Escape(a.Message));
        }
        AnsiConsole.Write(table);
    }

    /// <summary>Detected / true count per class and date, then precision and recall per class over all dates.</summary>
    private static void PrintDetectionChecks(IReadOnlyList<DemoDetectionCheck> checks)
    {
        if (checks.Count == 0)
        {
            return;
        }
        var classes = checks.SelectMany(c => c.Classes.Select(a => a.ClassName)).Distinct().Order().ToList();
        var table = new Table().Title("Object counts: detected / truth (matched at IoU 0.3)").AddColumn("Date");
        foreach (var c in classes)
        {
            table.AddColumn(new TableColumn(c).RightAligned());
        }
        foreach (var check in checks)
        {
            var row = new List<string> { check.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + (check.Cloudy ? " (cloud)" : "") };
            foreach (var c in classes)
            {
                var a = check.Classes.FirstOrDefault(x => x.ClassName == c);
                row.Add(a is null ? "0 / 0" : FormattableString.Invariant($"{a.PredictedCount} / {a.TruthCount} ({a.TruePositives})"));
            }
            table.AddRow(row.ToArray());
        }
        var totals = new List<string> { "precision / recall" };
        foreach (var c in classes)
        {
            var all = checks.SelectMany(x => x.Classes).Where(x => x.ClassName == c).ToList();
            int truth = all.Sum(x => x.TruthCount), found = all.Sum(x => x.PredictedCount), tp = all.Sum(x => x.TruePositives);
            totals.Add(FormattableString.Invariant($"{(found == 0 ? "-" : (tp / (double)found).ToString("0.00", CultureInfo.InvariantCulture))} / {(truth == 0 ? "-" : (tp / (double)truth).ToString("0.00", CultureInfo.InvariantCulture))}"));
        }
        table.AddRow(totals.ToArray());
        AnsiConsole.Write(table);
    }

    private static DroneDemoResult RunDrone(string directory, bool quiet, CancellationToken cancellationToken)
    {
        var options = new DroneDemoOptions(directory);
        if (quiet || !Output.Interactive)
        {
            if (!quiet)
            {
                AnsiConsole.MarkupLine("Simulating a border flight and watching it ...");
            }

            return DroneDemo.RunAsync(options, null, cancellationToken).GetAwaiter().GetResult();
        }

        return AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                return DroneDemo.RunAsync(options, new Core.SyncProgress<(string Stage, double Fraction)>(stage =>
                {
                    if (!tasks.TryGetValue(stage.Stage, out var task))
                    {
                        task = tasks[stage.Stage] = ctx.AddTask(stage.Stage, maxValue: 1.0);
                    }

                    task.Value = stage.Fraction;
                }), cancellationToken).GetAwaiter().GetResult();
            });
    }

    private static object DroneJson(DroneDemoResult drone) => new
    {
        directory = drone.Directory,
        flight = drone.TsPath,
        zones = drone.ZonesPath,
        detector = drone.Watch.Detector,
        summary = drone.Summary,
        events = drone.Comparison.Events.Select(e => new
        {
            object_id = e.ObjectId,
            @class = e.ObjectClass,
            zone = e.Zone,
            truth_s = e.TruthSeconds,
            must_be_seen = e.MustBeSeen,
            alert = e.Alert?.Track is { } a ? new { id = a.AlertId, rule = e.Alert.Kind, track_id = a.TrackId, video_s = a.VideoSeconds, a.Latitude, a.Longitude } : null,
            peer_alert_s = drone.Peer is { } p ? PeerEvent(p, e)?.Alert?.Track?.VideoSeconds : null,
        }),
        must_be_seen = drone.Comparison.Events.Count(e => e.MustBeSeen),
        must_be_seen_alerted = drone.Comparison.Events.Count(e => e.MustBeSeen && e.Alert is not null),
        unanswered_alerts = drone.Comparison.UnansweredAlerts.Select(a => a.Track!.AlertId),
        alerts_match_truth = drone.Comparison.AlertsMatchTruth,
        position_error_median_m = Math.Round(drone.Comparison.MedianPositionErrorMetres, 2),
        position_error_p95_m = Math.Round(drone.Comparison.P95PositionErrorMetres, 2),
        footprint_corner_error_max_m = Math.Round(drone.Comparison.MaxFootprintCornerErrorMetres, 2),
        peer = drone.Peer is { } peer ? new
        {
            detector = peer.Detector,
            summary = peer.Summary,
            must_be_seen_alerted = peer.Comparison.Events.Count(e => e.MustBeSeen && e.Alert is not null),
            unanswered_alerts = peer.Comparison.UnansweredAlerts.Select(a => a.Track!.AlertId),
            alerts_match_truth = peer.Comparison.AlertsMatchTruth,
        } : null,
    };

    /// <summary>The peer's reading of the same truth event (both comparisons list the truth's events).</summary>
    private static TruthEvent? PeerEvent(DroneDemoWatch peer, TruthEvent e) =>
        peer.Comparison.Events.FirstOrDefault(p => p.ObjectId == e.ObjectId && p.Zone == e.Zone && p.TruthSeconds == e.TruthSeconds);

    private static void PrintDrone(DroneDemoResult drone)
    {
        var inv = CultureInfo.InvariantCulture;
        var s = drone.Summary;
        var peer = drone.Peer;
        AnsiConsole.WriteLine();
        AnsiConsole.Write(new Rule("[bold]Drone part[/]: a simulated border flight, watched").LeftJustified());
        var finder = peer is null ? "the stream's VMTI boxes" : $"the drone detector {s.Detector} (no VMTI)";
        var every = s.DetectEvery == 1 ? "every frame" : string.Create(inv, $"one frame in {s.DetectEvery}");
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(inv,
            $"{s.Frames} frames ({s.VideoSeconds:0.0} s, {drone.Truth.Width} x {drone.Truth.Height}) watched in {s.WallSeconds:0.0} s; objects found on {every} by {finder}; {s.ConfirmedTracks} tracks; ground positions on the DEM (our own ray casting)")));
        var table = new Table().Title("Truth events next to the alerts").AddColumns("Truth (s)", "Object", "Zone", "Must be seen", "Alert (s)", "Delay (s)", "Track");
        if (peer is not null)
        {
            table.AddColumn("VMTI peer (s)");
        }
        string Cell(TruthEvent e) => e.Alert?.Track?.VideoSeconds.ToString("0.00", inv) ?? (e.MustBeSeen ? "[red]missed[/]" : "-");
        foreach (var e in drone.Comparison.Events)
        {
            var row = new List<string>
            {
                e.TruthSeconds.ToString("0.00", inv), $"{e.ObjectClass} {e.ObjectId}", Markup.Escape(e.Zone), e.MustBeSeen ? "yes" : "no (leaves the view or grazes)",
                Cell(e), e.Alert?.Track is { } a ? (a.VideoSeconds - e.TruthSeconds).ToString("+0.00", inv) : "", e.Alert?.Track?.TrackId.ToString(inv) ?? "",
            };
            if (peer is not null)
            {
                row.Add(PeerEvent(peer, e) is { } p ? Cell(p) : "-");
            }
            table.AddRow(row.ToArray());
        }

        foreach (var a in drone.Comparison.UnansweredAlerts.Select(u => u.Track!))
        {
            table.AddRow(new[] { "-", "-", Markup.Escape(a.Zone), "-", $"[yellow]{a.VideoSeconds.ToString("0.00", inv)}[/]", "false alert", a.TrackId.ToString(inv) }
                .Concat(peer is null ? [] : ["-"]).ToArray());
        }

        AnsiConsole.Write(table);
        var c = drone.Comparison;
        int Alerted(TruthComparisonResult r) => r.Events.Count(e => e.MustBeSeen && e.Alert is not null);
        var must = c.Events.Count(e => e.MustBeSeen);
        var peerText = peer is null ? "" : string.Create(inv, $" (the VMTI peer on the same video: {Alerted(peer.Comparison)} of {must}, {peer.Comparison.UnansweredAlerts.Count} false)");
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(inv, $"Must-see events alerted: {Alerted(c)} of {must}, {c.UnansweredAlerts.Count} false alerts{peerText}.")));
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(inv,
            $"Track positions vs truth: median {c.MedianPositionErrorMetres:0.0} m, p95 {c.P95PositionErrorMetres:0.0} m (box bottom centre vs object centre); footprint corners within {c.MaxFootprintCornerErrorMetres:0.0} m; latency median {s.MedianLatencyMs:0} ms.")));
        AnsiConsole.MarkupLineInterpolated($"  flight, truth, DEM   {drone.Directory}  (flight.ts, truth.json, dem.tif, zones.geojson)");
        AnsiConsole.MarkupLineInterpolated($"  watch output         {s.OutputDirectory}  (alerts.jsonl, snapshots/, flight.geojson, flight.kml)");
        if (peer is not null)
        {
            AnsiConsole.MarkupLineInterpolated($"  VMTI peer's watch    {peer.Summary.OutputDirectory}");
        }
    }

    private static void PrintChange(DemoChangeReport change)
    {
        var table = new Table().Title("Change detection (IR-MAD, co-registered) against the ground truth")
            .AddColumns("Before", "After", "Shift fixed (px)", "Appeared", "Removed", "Altered", "Vegetation", "Truth objects +/-/~", "Precision", "Recall", "F1", "Kappa", "Kappa w/o vegetation");
        foreach (var r in change.Series.Append(change.Overall))
        {
            var s = r.Run.Summary;
            string Kind(string kind) => s.TryGetProperty(kind, out var k) ? FormattableString.Invariant($"{k.GetProperty("count").GetInt32()}: {k.GetProperty("area_m2").GetDouble():N0} m²") : "-";
            var shift = s.TryGetProperty("registration", out var reg)
                ? FormattableString.Invariant($"{reg.GetProperty("shift_px")[0].GetDouble():+0.00;-0.00}, {reg.GetProperty("shift_px")[1].GetDouble():+0.00;-0.00}")
                : "-";
            var a = r.Accuracy;
            table.AddRow(r.Run.Before.AcquiredUtc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), r.Run.After.AcquiredUtc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                shift, Kind("appeared"), Kind("removed"), Kind("altered"), Kind("vegetation"), $"{r.TruthAppeared}/{r.TruthRemoved}/{r.TruthAltered}",
                a.Precision.ToString("0.00", CultureInfo.InvariantCulture), a.Recall.ToString("0.00", CultureInfo.InvariantCulture),
                a.F1.ToString("0.00", CultureInfo.InvariantCulture), a.Kappa.ToString("0.00", CultureInfo.InvariantCulture),
                r.StructureAccuracy.Kappa.ToString("0.00", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        if (change.NewBuildingOutline is { } outline)
        {
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"Measured new assembly building (largest new structure {change.Overall.Run.Before.AcquiredUtc:yyyy-MM-dd} -> {change.Overall.Run.After.AcquiredUtc:yyyy-MM-dd}, outline of its pieces): [bold]{MeasuredStatements.AreaRelation(outline.Area, change.HallAreaSquareMetres, "the hall")}[/], hall from the analyst's outline; truth {change.TruthRatio:P1}, footprint IoU with truth {change.NewBuildingIoU:0.00}");
        }
        else
        {
            AnsiConsole.MarkupLine("[yellow]No new structure was found from the first scene to the last.[/]");
        }
        if (change.CraneRemoval is { } c && change.CranePair is { } p)
        {
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"Crane removal detected: {MeasuredStatements.Removed("crane", DateOnly.FromDateTime(p.Run.Before.AcquiredUtc), DateOnly.FromDateTime(p.Run.After.AcquiredUtc), c.AreaSquareMetres, c.CentroidLat, c.CentroidLon)} (removed change object {c.Id})");
        }
        else
        {
            AnsiConsole.MarkupLine("[yellow]The crane's removal was not detected.[/]");
        }
    }
}
