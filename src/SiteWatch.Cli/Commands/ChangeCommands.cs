using SiteWatch.Core.Change;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Cli.Commands;

/// <summary>Options shared by every change command.</summary>
public class ChangeMethodSettings : CommandSettings
{
    [CommandOption("-m|--method <NAME>")]
    [Description("irmad (default), mad, cva, pcakmeans, deepcva, objects (segments of true-colour pairs: very-high-resolution RGB), model (the shipped learned change model, or --model).")]
    public string Method { get; init; } = "irmad";

    [CommandOption("--model <ONNX>")]
    [Description("A learned bi-temporal change model (ONNX: before and after in, change probability out; side-car MODEL.json for bands, scale, threshold, tile). Implies --method model.")]
    public string? Model { get; init; }

    [CommandOption("--threshold <NAME>")]
    [Description("auto (per method), otsu, kmeans, chi2, otsu-chi2 (MAD, IR-MAD, objects), model (a change model's own).")]
    public string Threshold { get; init; } = "auto";

    [CommandOption("--significance <P>")]
    [Description("Significance level of the chi-square test (MAD, IR-MAD, objects). Default 0.01.")]
    public double Significance { get; init; } = 0.01;

    [CommandOption("--segment-size <METRES>")]
    [Description("Method objects: the side of its segments on the ground, in metres. Default 8.")]
    public double SegmentSize { get; init; } = 8;

    [CommandOption("--min-area <M2>")]
    [Description("Drop change objects smaller than this many square metres (default: 4 pixels).")]
    public double? MinArea { get; init; }

    [CommandOption("--morphology <NAME>")]
    [Description("Clean-up of the change mask: area (default: drop specks, fill pinholes), openclose (3x3), none.")]
    public string Morphology { get; init; } = "area";

    [CommandOption("--json")]
    [Description("Write the summary as JSON.")]
    public bool Json { get; init; }

    /// <summary>The typed options for the engine: the names given are parsed here, at the edge, and nowhere inside.</summary>
    public ChangeDetectionOptions Detection() => new()
    {
        Method = Model is null ? ChangeChoices.ParseMethod(Method) : ChangeMethodKind.Model,
        ModelPath = Model is null ? null : Path.GetFullPath(Model),
        Threshold = ChangeChoices.ParseThreshold(Threshold),
        Significance = Significance,
        SegmentMetres = SegmentSize,
        Morphology = ChangeChoices.ParseCleanup(Morphology),
    };

    public override ValidationResult Validate()
    {
        if (!(Significance > 0 && Significance < 1))
        {
            return ValidationResult.Error("--significance must lie between 0 and 1");
        }
        if (!(SegmentSize is > 0 and < 10_000))
        {
            return ValidationResult.Error("--segment-size must be a positive number of metres");
        }
        if (MinArea is { } a && !(a >= 0))
        {
            return ValidationResult.Error("--min-area must be zero or more square metres");
        }
        ChangeMethodKind method;
        try
        {
            method = ChangeChoices.ParseMethod(Method);
            ChangeChoices.ParseThreshold(Threshold);
            ChangeChoices.ParseCleanup(Morphology);
        }
        catch (SiteWatchException e)
        {
            return ValidationResult.Error(CliWording.Text(e));
        }
        if (Model is not null && method is not (ChangeMethodKind.IrMad or ChangeMethodKind.Model))
        {
            return ValidationResult.Error($"--model runs the learned model; it excludes --method {Method}");
        }
        if (Model is not null && !File.Exists(Model))
        {
            return ValidationResult.Error($"--model {Model}: file not found");
        }
        return ValidationResult.Success();
    }
}

public sealed class ChangeDetectCommand : Command<ChangeDetectCommand.Settings>
{
    public sealed class Settings : ChangeMethodSettings
    {
        [CommandArgument(0, "<BEFORE>")]
        [Description("Earlier raster; its grid is the output grid.")]
        public string Before { get; init; } = "";

        [CommandArgument(1, "<AFTER>")]
        [Description("Later raster on the same grid (same size and geotransform).")]
        public string After { get; init; } = "";

        [CommandOption("-o|--out <DIR>")]
        [Description("Output folder for change_magnitude.tif, change_mask.tif, changes.geojson, quicklook.png, summary.json.")]
        public string? Out { get; init; }

        [CommandOption("--bands <LIST>")]
        [Description("Bands to use, e.g. 1,2,3,4 (same for both), or 1,2,3,4:2,3,4,5 (BEFORE:AFTER).")]
        public string? Bands { get; init; }

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Out))
            {
                return ValidationResult.Error("--out DIR is required");
            }
            if (Bands is not null && ParseBands(Bands) is null)
            {
                return ValidationResult.Error($"--bands '{Bands}' is not a band list like 1,2,3 or 1,2,3:2,3,4");
            }
            return base.Validate();
        }
    }

    internal static (int[] Before, int[] After)? ParseBands(string text)
    {
        static int[]? List(string s)
        {
            var parts = s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var values = new int[parts.Length];
            for (var i = 0; i < parts.Length; i++)
            {
                if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]) || values[i] < 1)
                {
                    return null;
                }
            }
            return values.Length > 0 ? values : null;
        }
        var sides = text.Split(':');
        var before = List(sides[0]);
        var after = sides.Length == 2 ? List(sides[1]) : sides.Length == 1 ? before : null;
        return before is null || after is null || before.Length != after.Length ? null : (before, after);
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var bands = settings.Bands is null ? null : ParseBands(settings.Bands);
        using var pair = RasterPair.Open(settings.Before, settings.After, bands?.Before, bands?.After);
        // Band names and wavelengths as ingest reads them (band descriptions, STAC, ENVI header ...) say which band is red or NIR.
        var described = Core.Ingest.SceneMetadataReader.Read(pair.Before, Path.GetFullPath(settings.Before)).Bands;
        var spectral = SpectralBands.Identify(
            Enumerable.Range(0, pair.BandCount).Select(i => (string?)described[pair.BeforeBand(i) - 1].Name).ToArray(),
            Enumerable.Range(0, pair.BandCount).Select(i => described[pair.BeforeBand(i) - 1].WavelengthMicrometres).ToArray());
        var options = new ChangeRunOptions
        {
            Detection = settings.Detection(),
            MinAreaSquareMetres = settings.MinArea,
            BeforeLabel = Path.GetFileName(settings.Before),
            AfterLabel = Path.GetFileName(settings.After),
            Title = $"{settings.Method} change: {Path.GetFileName(settings.Before)} -> {Path.GetFileName(settings.After)}",
        };
        var outcome = Output.WithProgress(settings.Json, $"Detecting change ({settings.Method})",
            progress => ChangeOutputs.WriteAtomically(settings.Out!, staging => ChangePipeline.Run(pair, spectral, options, staging, null, progress, cancellationToken)));
        ChangeOutputs.Print(outcome, settings.Json, settings.Out!);
        return 0;
    }
}

/// <summary>Writing and printing change results.</summary>
internal static class ChangeOutputs
{
    /// <summary>Builds the outputs in a hidden folder beside the target and moves them in only when all are written.</summary>
    public static ChangeRunOutcome WriteAtomically(string outDirectory, Func<string, ChangeRunOutcome> run)
    {
        var target = Path.GetFullPath(outDirectory);
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.partial");
        try
        {
            var outcome = run(staging);
            Directory.CreateDirectory(target);
            foreach (var file in Directory.GetFiles(staging))
            {
                File.Move(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
            }
            return outcome with { Files = new ChangeRunFiles(target) };
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    public static void Print(ChangeRunOutcome outcome, bool json, string? directory)
    {
        if (json)
        {
            Console.Out.WriteLine(outcome.Summary.GetRawText());
            return;
        }
        var d = outcome.Detection;
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[bold]{d.Method}[/] with {d.ThresholdMethod} threshold {d.Threshold:0.###}: {d.ChangedPixels:N0} of {d.ValidPixels:N0} valid pixels changed ({d.ChangedFraction:P2}); {outcome.Objects.Count} change objects");
        if (d.ThresholdReason is { } why)
        {
            AnsiConsole.MarkupLineInterpolated($"[grey]Threshold: {why}.[/]");
        }
        if (outcome.Objects.Count > 0)
        {
            var table = new Table().AddColumns("Id", "Kind", "Area (m²)", "Lat", "Lon", "Confidence");
            foreach (var o in outcome.Objects.Take(15))
            {
                table.AddRow(o.Id.ToString(CultureInfo.InvariantCulture), o.Kind + (o.Shadow ? " (shadow)" : ""),
                    o.AreaSquareMetres.ToString("N1", CultureInfo.InvariantCulture), o.CentroidLat.ToString("0.00000", CultureInfo.InvariantCulture),
                    o.CentroidLon.ToString("0.00000", CultureInfo.InvariantCulture), o.Confidence.ToString("0.00", CultureInfo.InvariantCulture));
            }
            AnsiConsole.Write(table);
            if (outcome.Objects.Count > 15)
            {
                AnsiConsole.MarkupLineInterpolated($"... and {outcome.Objects.Count - 15} smaller objects (all in changes.geojson)");
            }
        }
        AnsiConsole.MarkupLineInterpolated($"Outputs in [bold]{directory ?? outcome.Files.Directory}[/]: change_magnitude.tif, change_mask.tif, changes.geojson, quicklook.png, summary.json");
    }
}

public sealed class ChangeSiteCommand : Command<ChangeSiteCommand.Settings>
{
    public sealed class Settings : ChangeMethodSettings
    {
        [CommandOption("-w|--workspace <DIR>")]
        [Description("Workspace directory (default: $SITEWATCH_WORKSPACE, else the current directory).")]
        public string? Workspace { get; init; }

        [CommandOption("-s|--site <NAME>")]
        [Description("Site whose scenes to compare.")]
        public string? Site { get; init; }

        [CommandOption("--before <SCENE>")]
        [Description("The earlier scene: its acquisition date (YYYY-MM-DD), date and time (YYYY-MM-DDTHH:MM:SS, UTC, when a day has two scenes) or id (#ID).")]
        public string? Before { get; init; }

        [CommandOption("--after <SCENE>")]
        [Description("The later scene: a date, date and time, or id (#ID), as for --before.")]
        public string? After { get; init; }

        [CommandOption("--series")]
        [Description("Compare every consecutive pair of the site's scenes.")]
        public bool Series { get; init; }

        [CommandOption("--no-coregister")]
        [Description("Compare the scenes as stored, without co-registering AFTER onto BEFORE.")]
        public bool NoCoRegister { get; init; }

        [CommandOption("--no-normalise")]
        [Description("Skip IR-MAD radiometric normalisation (only applied for cva, pcakmeans, deepcva).")]
        public bool NoNormalise { get; init; }

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Site))
            {
                return ValidationResult.Error("--site NAME is required (or use 'change detect BEFORE AFTER --out DIR' on two files)");
            }
            if (Series == (Before is not null || After is not null) || (!Series && (Before is null || After is null)))
            {
                return ValidationResult.Error("give either --before DATE and --after DATE, or --series");
            }
            return base.Validate();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = Core.Catalog.Workspace.Open(Core.Catalog.Workspace.ResolveDirectory(settings.Workspace), Output.Notice);
        var options = new Core.Workflows.SiteChangeOptions
        {
            Detection = settings.Detection(),
            MinAreaSquareMetres = settings.MinArea,
            CoRegister = !settings.NoCoRegister,
            Normalise = !settings.NoNormalise,
        };
        var results = settings.Series
            ? Output.WithProgress(settings.Json, $"Change series ({settings.Method})", progress =>
                Core.Workflows.SiteChangeWorkflow.RunSeries(workspace, settings.Site!, options,
                    new SyncProgress<(int Pair, int Pairs, double Fraction)>(p => progress.Report((p.Pair - 1 + p.Fraction) / p.Pairs)), cancellationToken))
            : [Output.WithProgress(settings.Json, $"Change {settings.Before} -> {settings.After} ({settings.Method})", progress =>
                Core.Workflows.SiteChangeWorkflow.Run(workspace, settings.Site!, settings.Before!, settings.After!, options, progress, cancellationToken))];
        if (settings.Json)
        {
            Output.WriteJson(results.Select(r => new
            {
                run = r.Record.Id,
                reused = r.Reused,
                directory = r.Directory,
                summary = r.Summary,
            }).ToArray());
            return 0;
        }
        var table = new Table().AddColumns("Run", "Before", "After", "Method", "Changed", "Appeared (m²)", "Removed (m²)", "Altered (m²)", "Objects", "Registration", "");
        foreach (var r in results)
        {
            var s = r.Summary;
            string Area(string kind) => s.TryGetProperty(kind, out var k) ? $"{k.GetProperty("count").GetInt32()} / {k.GetProperty("area_m2").GetDouble():N0}" : "-";
            var registration = s.TryGetProperty("registration", out var reg)
                ? FormattableString.Invariant($"{reg.GetProperty("shift_px")[0].GetDouble():+0.00;-0.00},{reg.GetProperty("shift_px")[1].GetDouble():+0.00;-0.00} px{(reg.GetProperty("reliable").GetBoolean() ? "" : " [yellow]unreliable[/]")}")
                : "off";
            table.AddRow(
                r.Record.Id.ToString(CultureInfo.InvariantCulture),
                r.Before.AcquiredUtc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                r.After.AcquiredUtc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                r.Record.Method,
                s.GetProperty("changed_fraction").GetDouble().ToString("P2", CultureInfo.InvariantCulture),
                Area("appeared"), Area("removed"), Area("altered"),
                s.GetProperty("objects").GetInt32().ToString(CultureInfo.InvariantCulture),
                registration,
                r.Reused ? "reused" : "new");
        }
        AnsiConsole.Write(table);
        foreach (var r in results)
        {
            AnsiConsole.MarkupLineInterpolated($"  {r.Before.AcquiredUtc:yyyy-MM-dd} -> {r.After.AcquiredUtc:yyyy-MM-dd}: {r.Directory}");
        }
        return 0;
    }
}

public sealed class EvalChangeCommand : Command<EvalChangeCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--predicted <MASK>")]
        [Description("Predicted change mask (1 = changed, 0 = unchanged, 255 = nodata), e.g. change_mask.tif.")]
        public string? Predicted { get; init; }

        [CommandOption("--reference <REF>")]
        [Description("Reference of changed pixels (non-zero = changed), any raster GDAL reads (TIFF, BMP, PNG ...).")]
        public string? Reference { get; init; }

        [CommandOption("--unchanged <REF2>")]
        [Description("Reference of unchanged pixels; pixels in neither reference are then left out.")]
        public string? Unchanged { get; init; }

        [CommandOption("--json")]
        [Description("Write the figures as JSON.")]
        public bool Json { get; init; }

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Predicted) || string.IsNullOrWhiteSpace(Reference)
                ? ValidationResult.Error("--predicted MASK and --reference REF are required")
                : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var a = ChangeEvaluator.Evaluate(settings.Predicted!, settings.Reference!, settings.Unchanged);
        if (settings.Json)
        {
            Output.WriteJson(new
            {
                overall_accuracy = a.OverallAccuracy, kappa = a.Kappa, precision = a.Precision, recall = a.Recall, f1 = a.F1, iou = a.IoU,
                false_alarm_rate = a.FalseAlarmRate,
                true_positives = a.TruePositives, false_positives = a.FalsePositives, true_negatives = a.TrueNegatives, false_negatives = a.FalseNegatives,
                unlabelled = a.Unlabelled, prediction_nodata = a.PredictionNoData,
            });
            return 0;
        }
        var table = new Table().AddColumns("OA", "Kappa", "Precision", "Recall", "F1", "IoU", "TP", "FP", "TN", "FN");
        table.AddRow(F(a.OverallAccuracy), F(a.Kappa), F(a.Precision), F(a.Recall), F(a.F1), F(a.IoU),
            N(a.TruePositives), N(a.FalsePositives), N(a.TrueNegatives), N(a.FalseNegatives));
        AnsiConsole.Write(table);
        if (a.Unlabelled > 0)
        {
            AnsiConsole.MarkupLineInterpolated($"{a.Unlabelled:N0} pixels in neither reference were left out.");
        }
        return 0;
    }

    private static string F(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
}
