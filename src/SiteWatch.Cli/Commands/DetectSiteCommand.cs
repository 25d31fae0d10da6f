using SiteWatch.Core.Catalog;
using SiteWatch.Core.Detection;
using SiteWatch.Core.Workflows;

namespace SiteWatch.Cli.Commands;

/// <summary>`sitewatch detect --site NAME`: objects on every scene of a site not yet processed with the model and parameters.</summary>
public sealed class DetectSiteCommand : Command<DetectSiteCommand.Settings>
{
    public sealed class Settings : DetectorSettings
    {
        [CommandOption("-s|--site <NAME>")]
        [Description("The site whose scenes to run on.")]
        public string Site { get; init; } = "";

        [CommandOption("-w|--workspace <DIR>")]
        [Description(WorkspaceSettings.WorkspaceHelp)]
        public string? Workspace { get; init; }

        [CommandOption("--force")]
        [Description("Run again on scenes already done with this model and parameters, replacing their detections.")]
        public bool Force { get; init; }

        public Workspace OpenWorkspace() => WorkspaceSettings.Open(Workspace);

        protected override ValidationResult ValidateOptions() =>
            string.IsNullOrWhiteSpace(Site) ? ValidationResult.Error("--site NAME is required") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var options = new SiteDetectionOptions
        {
            ModelPath = settings.Model,
            ScoreThreshold = settings.Score,
            Device = settings.Device,
            Force = settings.Force,
            ClassMap = settings.ParsedClassMap,
            ResampleToModelGsd = !settings.NoResample,
        };
        var result = Run(workspace, settings.Site, options, settings.Json, cancellationToken);
        if (settings.Json)
        {
            Output.WriteJson(new
            {
                site = result.Site.Name,
                model = result.ModelName,
                model_path = result.ModelPath,
                classes = result.Classes,
                scenes = result.Scenes.Select(s => new
                {
                    scene_id = s.Scene.Id,
                    date = s.Scene.AcquiredUtc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    reused = s.Reused,
                    counts = s.Record.Counts,
                    detections_file = s.Record.DetectionsFile,
                    seconds = s.Detections is { } d ? Math.Round(d.TotalSeconds, 2) : (double?)null,
                    scanned_km2 = s.Detections is { } d2 ? Math.Round(d2.ScannedSquareKilometres, 4) : (double?)null,
                }).ToArray(),
            });
            return 0;
        }
        Print(result);
        return 0;
    }

    /// <summary>Runs with one progress bar per scene on a terminal.</summary>
    internal static SiteDetectionResult Run(Core.Catalog.Workspace workspace, string site, SiteDetectionOptions options, bool quiet, CancellationToken cancel)
    {
        if (quiet || !Output.Interactive)
        {
            return SiteDetectionWorkflow.Run(workspace, site, options, null, cancel);
        }
        var scenes = workspace.Catalog.ListScenes(workspace.Catalog.GetSite(site).Id);
        return AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var tasks = scenes.Select(s => ctx.AddTask($"detect {s.AcquiredUtc:yyyy-MM-dd} (scene {s.Id})", autoStart: false, maxValue: 1.0)).ToList();
                return SiteDetectionWorkflow.Run(workspace, site, options, new Core.SyncProgress<(int Scene, int Scenes, double Fraction)>(p =>
                {
                    if (p.Scene < tasks.Count)
                    {
                        tasks[p.Scene].StartTask();
                        tasks[p.Scene].Value = p.Fraction;
                    }
                }), cancel);
            });
    }

    internal static void Print(SiteDetectionResult result)
    {
        var table = new Table().Title($"Objects at {Markup.Escape(result.Site.Name)} (model {Markup.Escape(result.ModelName)})").AddColumns("Date", "Scene");
        foreach (var c in result.Classes)
        {
            table.AddColumn(new TableColumn(Markup.Escape(c)).RightAligned());
        }
        table.AddColumn("Run");
        foreach (var s in result.Scenes)
        {
            var cells = new List<string> { s.Scene.AcquiredUtc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), s.Scene.Id.ToString(CultureInfo.InvariantCulture) };
            cells.AddRange(result.Classes.Select(c => s.Record.Counts.GetValueOrDefault(c).ToString(CultureInfo.InvariantCulture)));
            cells.Add(s.Detections is { } d ? string.Create(CultureInfo.InvariantCulture, $"{d.TotalSeconds:0.0} s") : "cached");
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
    }
}
