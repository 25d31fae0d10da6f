using SiteWatch.Core.Activity;

namespace SiteWatch.Cli.Commands;

public sealed class ActivityCommand : Command<ActivityCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandOption("-s|--site <NAME>")]
        [Description("The site.")]
        public string Site { get; init; } = "";

        [CommandOption("--png <FILE>")]
        [Description("Also plot the timeline to this PNG (one panel per class, change areas, activity index).")]
        public string? Png { get; init; }

        [CommandOption("--baseline <N>")]
        [Description("How many previous dates make each date's baseline (default 3).")]
        [DefaultValue(3)]
        public int Baseline { get; init; } = 3;

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Site) ? ValidationResult.Error("--site NAME is required")
            : Baseline < 1 ? ValidationResult.Error("--baseline must be at least 1 date")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var site = workspace.Catalog.GetSite(settings.Site);
        var timeline = ActivityTimeline.Build(workspace.Catalog, site, new ActivityOptions { Baseline = settings.Baseline });
        if (settings.Png is { } png)
        {
            ActivityPlot.Write(png, timeline);
        }
        if (settings.Json)
        {
            Output.WriteJson(ActivityView(timeline, settings.Png is null ? null : Path.GetFullPath(settings.Png)));
            return 0;
        }
        Print(timeline);
        if (settings.Png is not null)
        {
            AnsiConsole.MarkupLineInterpolated($"Plot: [bold]{Path.GetFullPath(settings.Png)}[/]");
        }
        return 0;
    }

    internal static object ActivityView(ActivityTimeline t, string? png) => new
    {
        site = t.Site.Name,
        model = t.ModelName,
        model_sha256 = t.ModelSha256,
        baseline_dates = t.Baseline,
        classes = t.Classes,
        dates = t.Dates.Select(d => new
        {
            date = ActivityTimeline.Label(d.Date),
            scene_id = d.Scene.Id,
            counts = d.Counts,
            change_area_m2 = d.ChangeAreaSquareMetres,
            appeared_area_m2 = d.AppearedAreaSquareMetres,
            change_run = d.Change?.Directory,
            z_scores = d.ZScores.ToDictionary(z => z.Key, z => Math.Round(z.Value, 3)),
            activity_index = d.Index is { } i ? Math.Round(i, 3) : (double?)null,
        }).ToArray(),
        notes = t.Notes,
        png,
    };

    internal static void Print(ActivityTimeline t)
    {
        var table = new Table().Title($"Activity at {Markup.Escape(t.Site.Name)}" + (t.ModelName is null ? "" : $" (model {Markup.Escape(t.ModelName)})"))
            .AddColumn("Date");
        foreach (var c in t.Classes)
        {
            table.AddColumn(new TableColumn(Markup.Escape(c)).RightAligned());
        }
        table.AddColumn(new TableColumn("Change m²").RightAligned()).AddColumn(new TableColumn("Appeared m²").RightAligned())
            .AddColumn(new TableColumn($"Index (z, {t.Baseline} prev.)").RightAligned());
        foreach (var d in t.Dates)
        {
            var cells = new List<string> { ActivityTimeline.Label(d.Date) };
            cells.AddRange(t.Classes.Select(c => d.Counts is { } k ? k[c].ToString(CultureInfo.InvariantCulture) : "-"));
            cells.Add(d.ChangeAreaSquareMetres?.ToString("N0", CultureInfo.InvariantCulture) ?? "-");
            cells.Add(d.AppearedAreaSquareMetres?.ToString("N0", CultureInfo.InvariantCulture) ?? "-");
            cells.Add(d.Index is { } i ? (i >= 2 ? string.Create(CultureInfo.InvariantCulture, $"[bold red]{i:+0.00;-0.00}[/]") : i.ToString("+0.00;-0.00", CultureInfo.InvariantCulture)) : "-");
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
        foreach (var note in t.Notes)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]note:[/] {note}");
        }
    }
}
