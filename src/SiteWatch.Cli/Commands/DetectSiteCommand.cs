using System.ComponentModel;
using System.Globalization;
using SiteWatch.Core;
using SiteWatch.Core.Detection;
using SiteWatch.Core.Workflows;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SiteWatch.Cli.Commands;

/// <summary>`sitewatch detect --site NAME`: objects on every scene of a site not yet processed with the model and parameters.</summary>
public sealed class DetectSiteCommand : Command<DetectSiteCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandOption("-s|--site <NAME>")]
        [Description("The site whose scenes to run on.")]
        public string Site { get; init; } = "";

        [CommandOption("--model <PATH>")]
        [Description("YOLO / YOLO-OBB ONNX model (default: the detector shipped with SiteWatch).")]
        public string? Model { get; init; }

        [CommandOption("--score <P>")]
        [Description("Score threshold, 0..1 (default: the model's own, else 0.25).")]
        public float? Score { get; init; }

        [CommandOption("--device <NAME>")]
        [Description("cpu (default) or cuda.")]
        [DefaultValue("cpu")]
        public string Device { get; init; } = "cpu";

        [CommandOption("--class-map <MAP>")]
        [Description("Report model classes under other names: MODEL_CLASS=NAME pairs separated by commas (small-vehicle=vehicle,large-vehicle=vehicle); an empty NAME drops the class. Applied before NMS, over the model side-car's class_map.")]
        public string? ClassMap { get; init; }

        [CommandOption("--no-resample")]
        [Description("Read tiles at the scene's own resolution even when the model states another GSD (default: tiles are resampled to the model's GSD when the two differ by more than 20 %).")]
        public bool NoResample { get; init; }

        /// <summary>The parsed --class-map (checked in Validate).</summary>
        public IReadOnlyDictionary<string, string>? ParsedClassMap => ClassMap is null ? null : ClassMapping.Parse(ClassMap);

        [CommandOption("--force")]
        [Description("Run again on scenes already done with this model and parameters, replacing their detections.")]
        public bool Force { get; init; }

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Site))
            {
                return ValidationResult.Error("--site NAME is required");
            }
            if (Score is { } score && !(score is > 0 and < 1))
            {
                return ValidationResult.Error("--score must lie between 0 and 1");
            }
            if (Device is not ("cpu" or "cuda"))
            {
                return ValidationResult.Error($"--device '{Device}': use cpu or cuda");
            }
            if (ClassMap is not null)
            {
                try
                {
                    _ = ClassMapping.Parse(ClassMap);
                }
                catch (SiteWatchException e)
                {
                    return ValidationResult.Error($"--class-map: {e.Message}");
                }
            }
            return ValidationResult.Success();
        }
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
