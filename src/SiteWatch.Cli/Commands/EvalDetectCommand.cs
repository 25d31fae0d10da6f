using SiteWatch.Core.Detection;

namespace SiteWatch.Cli.Commands;

public sealed class EvalDetectCommand : Command<EvalDetectCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--predicted <GEOJSON>")]
        [Description("Detections as a GeoJSON FeatureCollection with a 'class' (and 'score') property, e.g. from 'detect file --out'.")]
        public string? Predicted { get; init; }

        [CommandOption("--truth <GEOJSON>")]
        [Description("Reference objects with a 'class' property; 'appeared_on'/'removed_on' dates are honoured with --date. The demo's ground_truth.geojson maps onto the default model's classes.")]
        public string? Truth { get; init; }

        [CommandOption("--date <DATE>")]
        [Description("Acquisition date (YYYY-MM-DD): only reference objects present that day count.")]
        public string? Date { get; init; }

        [CommandOption("--iou <IOU>")]
        [Description("Intersection over union a detection needs to match a reference object (default 0.3).")]
        [DefaultValue(0.3)]
        public double Iou { get; init; } = 0.3;

        [CommandOption("--raw-classes")]
        [Description("Compare the truth's class names as they are instead of mapping the demo's classes onto the default model's.")]
        public bool RawClasses { get; init; }

        [CommandOption("--outline")]
        [Description("Match against the references' outlines even when every detection is an axis-aligned box (by default such detections are matched with the references' bounding boxes).")]
        public bool Outline { get; init; }

        [CommandOption("--json")]
        [Description("Write the figures as JSON.")]
        public bool Json { get; init; }

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Predicted) || string.IsNullOrWhiteSpace(Truth))
            {
                return ValidationResult.Error("--predicted GEOJSON and --truth GEOJSON are required");
            }
            if (Iou is <= 0 or > 1)
            {
                return ValidationResult.Error("--iou must be in (0, 1]");
            }
            return Date is not null && !DateOnly.TryParseExact(Date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
                ? ValidationResult.Error($"--date '{Date}' is not a date (YYYY-MM-DD)")
                : ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        DateOnly? date = settings.Date is null ? null : DateOnly.ParseExact(settings.Date, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var predicted = DetectionEvaluator.ReadDetections(settings.Predicted!);
        var truth = DetectionEvaluator.ReadTruth(settings.Truth!, date, settings.RawClasses ? (c, _) => c : null);
        bool axisAligned = !settings.Outline && DetectionEvaluator.AllAxisAligned(settings.Predicted!);
        var classes = DetectionEvaluator.Evaluate(predicted, truth, settings.Iou, axisAligned);
        if (settings.Json)
        {
            Output.WriteJson(new
            {
                date = settings.Date,
                iou = settings.Iou,
                compared_with = axisAligned ? "bounding boxes" : "outlines",
                classes = classes.Select(c => new
                {
                    @class = c.ClassName, truth = c.TruthCount, predicted = c.PredictedCount, true_positives = c.TruePositives,
                    false_positives = c.FalsePositives, false_negatives = c.FalseNegatives,
                    precision = NullIfNaN(c.Precision), recall = NullIfNaN(c.Recall), f1 = c.F1,
                }),
            });
            return SiteWatchApp.Success;
        }
        var table = new Table().AddColumns("Class", "Truth", "Detected", "TP", "FP", "FN", "Precision", "Recall", "F1");
        foreach (var c in classes)
        {
            table.AddRow(c.ClassName, Num(c.TruthCount), Num(c.PredictedCount), Num(c.TruePositives), Num(c.FalsePositives), Num(c.FalseNegatives),
                Ratio(c.Precision), Ratio(c.Recall), Ratio(c.F1));
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"[grey]Matched at IoU >= {settings.Iou:0.##} against the references' {(axisAligned ? "bounding boxes (axis-aligned detections)" : "outlines")}.[/]");
        return SiteWatchApp.Success;
    }

    private static double? NullIfNaN(double v) => double.IsNaN(v) ? null : v;

    private static string Num(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Ratio(double v) => double.IsNaN(v) ? "-" : v.ToString("F3", CultureInfo.InvariantCulture);
}
