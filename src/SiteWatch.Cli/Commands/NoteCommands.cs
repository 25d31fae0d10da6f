using SiteWatch.Core.Catalog;
using SiteWatch.Core.Geo;

namespace SiteWatch.Cli.Commands;

public sealed class NoteAddCommand : Command<NoteAddCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandArgument(0, "<TEXT>")]
        [Description("The note (several words are joined with spaces).")]
        public string[] Text { get; init; } = [];

        [CommandOption("-s|--site <NAME>")]
        [Description("The site.")]
        public string Site { get; init; } = "";

        [CommandOption("--date <DATE>")]
        [Description("The day the note is about, YYYY-MM-DD.")]
        public string? Date { get; init; }

        [CommandOption("--source <TEXT>")]
        [Description("Who or what the note cites (the analyst, a press report, a trade record ...).")]
        public string? Source { get; init; }

        [CommandOption("--url <URL>")]
        [Description("Link to the source (http or https).")]
        public string? Url { get; init; }

        [CommandOption("--outline <FILE>")]
        [Description("GeoJSON Polygon (WGS84) of what the note is about, e.g. an existing hall; the site report measures new structures against it.")]
        public string? Outline { get; init; }

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Site) ? ValidationResult.Error("--site NAME is required")
            : Date is null ? ValidationResult.Error("--date YYYY-MM-DD is required")
            : !DateOnly.TryParseExact(Date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _) ? ValidationResult.Error($"--date '{Date}' is not a date (YYYY-MM-DD)")
            : string.IsNullOrWhiteSpace(Source) ? ValidationResult.Error("--source TEXT is required (who or what the note cites)")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var site = workspace.Catalog.GetSite(settings.Site);
        var outline = settings.Outline is { } file ? AoiReader.ReadFile(file) : null;
        var note = workspace.Catalog.AddNote(site.Id, DateOnly.ParseExact(settings.Date!, "yyyy-MM-dd", CultureInfo.InvariantCulture),
            settings.Source!, settings.Url, string.Join(' ', settings.Text), outline);
        if (settings.Json)
        {
            Output.WriteJson(NoteListCommand.View(note));
            return 0;
        }
        AnsiConsole.MarkupLineInterpolated($"Note [bold]{note.Id}[/] added to {site.Name} for {note.Date:yyyy-MM-dd} (source: {note.Source}).");
        return 0;
    }
}

public sealed class NoteListCommand : Command<NoteListCommand.Settings>
{
    public sealed class Settings : SiteSettings;

    internal static object View(SiteNote n) => new
    {
        id = n.Id,
        date = n.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        source = n.Source,
        url = n.Url,
        text = n.Text,
        outline_m2 = n.Outline is { } o ? Math.Round(Measurements.AreaSquareMetres(o), 1) : (double?)null,
    };

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var site = workspace.Catalog.GetSite(settings.Site);
        var notes = workspace.Catalog.ListNotes(site.Id);
        if (settings.Json)
        {
            Output.WriteJson(notes.Select(View).ToArray());
            return 0;
        }
        var table = new Table().Title($"Notes on {Markup.Escape(site.Name)}").AddColumn("Id").AddColumn("Date").AddColumn("Source").AddColumn("Text").AddColumn("Outline m²");
        foreach (var n in notes)
        {
            table.AddRow(n.Id.ToString(CultureInfo.InvariantCulture), n.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                Markup.Escape(n.Url is null ? n.Source : $"{n.Source} ({n.Url})"), Markup.Escape(n.Text),
                n.Outline is { } o ? Measurements.AreaSquareMetres(o).ToString("N0", CultureInfo.InvariantCulture) : "-");
        }
        AnsiConsole.Write(table);
        return 0;
    }
}

public sealed class NoteDeleteCommand : Command<NoteDeleteCommand.Settings>
{
    public sealed class Settings : SiteSettings
    {
        [CommandArgument(0, "<ID>")]
        [Description("The note's id (see 'note list').")]
        public long Id { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var site = workspace.Catalog.GetSite(settings.Site);
        workspace.Catalog.DeleteNote(site, settings.Id);
        AnsiConsole.MarkupLineInterpolated($"Note {settings.Id} deleted from {site.Name}.");
        return 0;
    }
}
