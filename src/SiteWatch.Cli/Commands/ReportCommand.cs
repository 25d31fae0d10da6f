using SiteWatch.Core.Reports;

namespace SiteWatch.Cli.Commands;

public sealed class ReportCommand : Command<ReportCommand.Settings>
{
    public sealed class Settings : SitePeriodSettings
    {
        [CommandOption("-o|--out <DIR>")]
        [Description("Folder for the report's HTML and PDF (created if missing; default: the current directory).")]
        public string Out { get; init; } = ".";

        [CommandOption("--paper <SIZE>")]
        [Description("PDF paper size: a4 (default) or letter.")]
        public string Paper { get; init; } = "a4";

        [CommandOption("--max-findings <N>")]
        [Description("At most this many change objects get a before/after section, largest first (default 12).")]
        [DefaultValue(12)]
        public int MaxFindings { get; init; } = 12;

        [CommandOption("--min-area <M2>")]
        [Description("Smallest change object reported as a finding, m² (default 50).")]
        [DefaultValue(50.0)]
        public double MinArea { get; init; } = 50;

        protected override ValidationResult ValidateOptions() =>
            Paper.ToLowerInvariant() is not ("a4" or "letter") ? ValidationResult.Error($"--paper '{Paper}' is not a4 or letter")
                : MaxFindings < 0 ? ValidationResult.Error("--max-findings must not be negative")
                : !(MinArea >= 0 && double.IsFinite(MinArea)) ? ValidationResult.Error("--min-area must be a non-negative number of m²")
                : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var options = new ReportOptions
        {
            From = settings.FromDay,
            To = settings.ToDay,
            Paper = settings.Paper.Equals("letter", StringComparison.OrdinalIgnoreCase) ? PaperSize.Letter : PaperSize.A4,
            MaxFindings = settings.MaxFindings,
            MinFindingSquareMetres = settings.MinArea,
        };
        var result = SiteReportWorkflow.Write(workspace, settings.Site, options, settings.Out, DateTime.UtcNow);
        foreach (var caveat in result.Report.Caveats.Concat(result.Substitutions))
        {
            Output.Notice(caveat);
        }
        if (settings.Json)
        {
            Output.WriteJson(new
            {
                site = result.Report.Site.Name,
                from = MeasuredStatements.Day(result.Report.From),
                to = MeasuredStatements.Day(result.Report.To),
                html = result.HtmlPath,
                pdf = result.PdfPath,
                pages = result.Pages,
                scenes = result.Report.Scenes.Count,
                findings = result.Report.Findings.Select(f => new { number = f.Number, kind = f.Kind, area_m2 = Math.Round(f.AreaSquareMetres, 1), statement = f.Statement }).ToArray(),
                alerts = result.Report.Alerts.Count,
                caveats = result.Report.Caveats,
                glyph_substitutions = result.Substitutions,
            });
            return 0;
        }
        AnsiConsole.MarkupLineInterpolated($"Report on [bold]{result.Report.Site.Name}[/], {result.Report.Period}: {result.Report.Findings.Count} finding(s), {result.Report.Alerts.Count} alert(s), {result.Pages} PDF page(s).");
        AnsiConsole.MarkupLineInterpolated($"HTML: [bold]{result.HtmlPath}[/]");
        AnsiConsole.MarkupLineInterpolated($"PDF:  [bold]{result.PdfPath}[/]");
        return 0;
    }
}
