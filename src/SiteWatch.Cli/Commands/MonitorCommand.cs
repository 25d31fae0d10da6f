using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Core.Change.Methods;
using SiteWatch.Core.Monitoring;
using SiteWatch.Core.Workflows;

namespace SiteWatch.Cli.Commands;

/// <summary>`sitewatch monitor --site NAME --stac URL`: new scenes of a site from a STAC source, through the whole pipeline.</summary>
public sealed class MonitorCommand : AsyncCommand<MonitorCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandOption("-s|--site <NAME>")]
        [Description("The site to monitor; its AOI is the search area.")]
        public string Site { get; init; } = "";

        [CommandOption("--stac <URL>")]
        [Description("A STAC API landing page (searched with POST /search), or a static STAC catalog or collection (URL or local path).")]
        public string Stac { get; init; } = "";

        [CommandOption("--collections <LIST>")]
        [Description("Collections to search, separated by commas (default: all).")]
        public string? Collections { get; init; }

        [CommandOption("--cloud <PERCENT>")]
        [Description("Skip scenes whose eo:cloud_cover is above this (0..100).")]
        public double? Cloud { get; init; }

        [CommandOption("--from <DATE>")]
        [Description("Only scenes acquired on or after this date (YYYY-MM-DD).")]
        public string? From { get; init; }

        [CommandOption("--to <DATE>")]
        [Description("Only scenes acquired on or before this date (YYYY-MM-DD).")]
        public string? To { get; init; }

        [CommandOption("--asset <KEY>")]
        [Description("The item asset to ingest (default: the first GeoTIFF with role data, else visual, image or data).")]
        public string? Asset { get; init; }

        [CommandOption("--max-download-mb <MB>")]
        [Description("Largest asset downloaded, in MiB (default 4096).")]
        public long MaxDownloadMb { get; init; } = 4096;

        [CommandOption("--every <MINUTES>")]
        [Description("Search again every this many minutes until stopped (Ctrl+C); default: one round. With --schedule: the cluster's period (at least 0.1).")]
        public double? Every { get; init; }

        [CommandOption("--schedule")]
        [Description("Store this as the site's standing monitoring order, which the cluster's silos run every --every minutes ('sitewatch silo'); runs nothing here.")]
        public bool Schedule { get; init; }

        [CommandOption("--unschedule")]
        [Description("Remove the site's standing monitoring order; the cluster stops monitoring it.")]
        public bool Unschedule { get; init; }

        [CommandOption("--list")]
        [Description("List the workspace's standing monitoring orders with their last round.")]
        public bool List { get; init; }

        [CommandOption("--method <METHOD>")]
        [Description("Change method after each new scene (as 'change detect --method'; default irmad).")]
        public string? Method { get; init; }

        [CommandOption("--no-coregister")]
        [Description("Compare new scenes without co-registering them first.")]
        public bool NoCoregister { get; init; }

        [CommandOption("--no-change")]
        [Description("Do not run change detection against the previous scene.")]
        public bool NoChange { get; init; }

        [CommandOption("--no-detect")]
        [Description("Do not run object detection on new scenes.")]
        public bool NoDetect { get; init; }

        [CommandOption("--no-alerts")]
        [Description("Do not check the site's alert rules after new scenes.")]
        public bool NoAlerts { get; init; }

        public override ValidationResult Validate()
        {
            if (new[] { Schedule, Unschedule, List }.Count(x => x) > 1)
            {
                return ValidationResult.Error("--schedule, --unschedule and --list go one at a time");
            }
            if (List)
            {
                return ValidationResult.Success();
            }
            if (string.IsNullOrWhiteSpace(Site))
            {
                return ValidationResult.Error("--site NAME is required");
            }
            if (Unschedule)
            {
                return ValidationResult.Success();
            }
            if (Schedule && Every is null)
            {
                return ValidationResult.Error("--schedule needs --every MINUTES: how often the cluster searches");
            }
            if (Method is not null)
            {
                try
                {
                    ChangeChoices.ParseMethod(Method);
                }
                catch (SiteWatchException e)
                {
                    return ValidationResult.Error($"--method: {e.Message}");
                }
            }
            if (string.IsNullOrWhiteSpace(Stac))
            {
                return ValidationResult.Error("--stac URL is required (a STAC API or a static catalog)");
            }
            if (Cloud is { } c && !(c is >= 0 and <= 100))
            {
                return ValidationResult.Error("--cloud must lie between 0 and 100");
            }
            if (From is not null && ParseDate(From) is null || To is not null && ParseDate(To) is null)
            {
                return ValidationResult.Error("--from and --to take dates as YYYY-MM-DD");
            }
            if (Every is { } every && !(every >= (Schedule ? 0.1 : 1)))
            {
                return ValidationResult.Error(Schedule ? "--every must be at least 0.1 minute" : "--every must be at least 1 minute");
            }
            if (MaxDownloadMb < 1)
            {
                return ValidationResult.Error("--max-download-mb must be at least 1");
            }
            return ValidationResult.Success();
        }
    }

    private static DateTime? ParseDate(string text) =>
        DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var d) ? d : null;

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        if (settings.List || settings.Unschedule || settings.Schedule)
        {
            return Orders(workspace, settings);
        }
        // The same order a silo runs (--schedule), run here; --to bounds this run only.
        var options = Schedule(settings).ToOptions() with
        {
            ToUtc = settings.To is null ? null : ParseDate(settings.To)!.Value.AddDays(1).AddTicks(-1),
        };
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.UserAgent.ParseAdd($"SiteWatch/{typeof(SiteMonitor).Assembly.GetName().Version}");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var failed = 0;
            while (true)
            {
                var report = await SiteMonitor.RunOnceAsync(workspace, settings.Site, options, http, settings.Json ? null : Output.Notice, stop.Token);
                failed = report.Failed;
                Print(report, settings.Json);
                if (settings.Every is not { } minutes)
                {
                    break;
                }
                try
                {
                    await Task.Delay(TimeSpan.FromMinutes(minutes), stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            // Items that could not be ingested are retried next round; a single round says so with its exit code.
            return failed > 0 ? 1 : 0;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>The flags as a monitoring order; its period is --every (none for a single round).</summary>
    private static MonitorSchedule Schedule(Settings settings) => new()
    {
        Source = settings.Stac,
        Collections = settings.Collections?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [],
        MaxCloudCover = settings.Cloud,
        FromUtc = settings.From is null ? null : ParseDate(settings.From),
        Asset = settings.Asset,
        MaxDownloadBytes = settings.MaxDownloadMb << 20,
        Every = settings.Every is { } minutes ? TimeSpan.FromMinutes(minutes) : TimeSpan.Zero,
        Change = !settings.NoChange,
        Method = settings.Method is null ? null : ChangeChoices.ParseMethod(settings.Method),
        CoRegister = !settings.NoCoregister,
        Detect = !settings.NoDetect,
        Alerts = !settings.NoAlerts,
    };

    /// <summary>Standing orders for the cluster: stored, removed or listed; nothing runs here.</summary>
    private static int Orders(Workspace workspace, Settings settings)
    {
        if (settings.Schedule || settings.Unschedule)
        {
            var site = workspace.Catalog.GetSite(settings.Site);
            if (settings.Unschedule)
            {
                var removed = workspace.Catalog.RemoveMonitor(site.Id);
                Output.Notice(removed ? $"site {site.Name}: monitoring order removed" : $"site {site.Name} had no monitoring order");
                return 0;
            }
            workspace.Catalog.SaveMonitor(site.Id, Schedule(settings));
            Output.Notice($"site {site.Name}: monitoring order stored (every {settings.Every} min from {settings.Stac}); the cluster's silos run it");
            return 0;
        }
        var monitors = workspace.Catalog.ListMonitors();
        var names = workspace.Catalog.ListSites().ToDictionary(s => s.Id, s => s.Name);
        if (settings.Json)
        {
            Output.WriteJson(monitors.Select(m => new
            {
                site = names.GetValueOrDefault(m.SiteId),
                source = m.Schedule.Source,
                collections = m.Schedule.Collections,
                every_minutes = m.Schedule.Every.TotalMinutes,
                updated = m.UpdatedUtc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                last_round = m.LastRoundUtc?.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                last_summary = m.LastSummary,
            }).ToArray());
            return 0;
        }
        var table = new Table().AddColumns("Site", "Source", "Every (min)", "Last round (UTC)", "Last summary");
        foreach (var m in monitors)
        {
            table.AddRow(Markup.Escape(names.GetValueOrDefault(m.SiteId) ?? $"#{m.SiteId}"), Markup.Escape(m.Schedule.Source),
                m.Schedule.Every.TotalMinutes.ToString("0.##", CultureInfo.InvariantCulture),
                m.LastRoundUtc is { } t ? Output.Date(t) : "-", Markup.Escape(m.LastSummary ?? "-"));
        }
        AnsiConsole.Write(table);
        return 0;
    }

    private static void Print(MonitorReport report, bool json)
    {
        if (json)
        {
            Output.WriteJson(new
            {
                site = report.Site,
                source = report.Source,
                items_found = report.ItemsFound,
                new_scenes = report.NewScenes,
                failed = report.Failed,
                alerts_raised = report.AlertsRaised,
                scenes = report.Scenes.Select(s => new
                {
                    item = s.ItemId,
                    source = s.SourceKey,
                    acquired = s.AcquiredUtc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                    scene_id = s.SceneId,
                    @new = s.New,
                    change_run_id = s.ChangeRunId,
                    problem = s.Problem,
                }).ToArray(),
                skipped = report.Skipped,
                notes = report.Notes,
            });
            return;
        }
        var table = new Table().AddColumns("Item", "Acquired (UTC)", "Scene", "State", "Change run");
        foreach (var s in report.Scenes)
        {
            table.AddRow(Markup.Escape(s.ItemId), Output.Date(s.AcquiredUtc), s.SceneId is { } id ? $"#{id}" : "-",
                s.Problem is { } p ? $"[red]failed[/]: {Markup.Escape(p)}" : s.New ? "[green]new[/]" : "stored",
                s.ChangeRunId is { } run ? $"#{run}" : "-");
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"{report.ItemsFound} item(s) found, {report.NewScenes} new scene(s), {report.Failed} failed, {report.AlertsRaised} alert(s) raised.");
        foreach (var line in report.Skipped.Concat(report.Notes))
        {
            AnsiConsole.MarkupLineInterpolated($"[grey]{line}[/]");
        }
    }
}
