using SiteWatch.Core.Exports;

namespace SiteWatch.Cli.Commands;

public sealed class ExportCommand : Command<ExportCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandOption("-s|--site <NAME>")]
        [Description("The site.")]
        public string Site { get; init; } = "";

        [CommandOption("-f|--format <FORMAT>")]
        [Description("gpkg (one layer per kind), kml or kmz (TimeStamp/TimeSpan per feature for Google Earth's time slider), geojson, csv (geometry as WKT), fgb (FlatGeobuf), or stac (a STAC catalog of the scenes and change runs).")]
        public string Format { get; init; } = "";

        [CommandOption("--what <KINDS>")]
        [Description("Comma-separated kinds: aoi, scenes (footprints with date, sensor, GSD, cloud cover), changes, detections, alerts, zones, tracks, footprints (default: aoi, scenes, changes, detections, alerts, zones where the site has them; tracks and drone footprints are not stored in a workspace).")]
        public string? What { get; init; }

        [CommandOption("--from <DATE>")]
        [Description("Only what lies on or after this date (YYYY-MM-DD): scenes acquired, change runs with both scenes, detections and alerts observed.")]
        public string? From { get; init; }

        [CommandOption("--to <DATE>")]
        [Description("Only what lies on or before this date (YYYY-MM-DD, the whole day).")]
        public string? To { get; init; }

        [CommandOption("-o|--out <PATH>")]
        [Description("Destination: a file for gpkg/kml/kmz (and for geojson/csv/fgb with one kind), else a folder with one file per kind (default: SITE.EXT or SITE-FORMAT/ here).")]
        public string? Out { get; init; }

        [CommandOption("--overwrite")]
        [Description("Replace an existing destination (only once the new export is complete).")]
        public bool Overwrite { get; init; }

        [CommandOption("--copy-assets")]
        [Description("stac: copy the stored files beside their items (a self-contained catalog) instead of linking into the workspace.")]
        public bool CopyAssets { get; init; }

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Site) ? ValidationResult.Error("--site NAME is required")
            : string.IsNullOrWhiteSpace(Format) ? ValidationResult.Error("--format is required (gpkg, kml, kmz, geojson, csv, fgb or stac)")
            : From is not null && ParseDate(From) is null || To is not null && ParseDate(To) is null ? ValidationResult.Error("--from and --to take dates as YYYY-MM-DD")
            : ValidationResult.Success();

        internal static DateTime? ParseDate(string text) =>
            DateTime.TryParseExact(text.Trim(), "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var d)
                ? DateTime.SpecifyKind(d, DateTimeKind.Utc) : null;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var format = ExportFormat.Parse(settings.Format);
        var what = settings.What is null ? null : ExportKind.ParseList(settings.What);
        if (settings.CopyAssets && format != ExportFormat.Stac)
        {
            throw new Core.SiteWatchException("--copy-assets applies only to --format stac");
        }
        using var workspace = settings.OpenWorkspace();
        var result = SiteExportWorkflow.Run(workspace, settings.Site, new ExportOptions
        {
            Format = format,
            What = what,
            OutputPath = settings.Out,
            Overwrite = settings.Overwrite,
            CopyAssets = settings.CopyAssets,
            FromUtc = settings.From is null ? null : Settings.ParseDate(settings.From),
            ToUtc = settings.To is null ? null : Settings.ParseDate(settings.To)!.Value.AddDays(1).AddTicks(-1),
        }, cancellationToken);
        if (settings.Json)
        {
            Output.WriteJson(View(result));
            return 0;
        }
        Print(result);
        return 0;
    }

    internal static object View(ExportResult r) => new
    {
        path = r.Path,
        format = r.Format.Name,
        folder = r.IsDirectory,
        layers = r.Layers.Select(l => new { kind = l.Kind, features = l.Features, file = l.File }).ToArray(),
        stac = r.Stac is { } s ? new { catalog = s.CatalogFile, scene_items = s.SceneItems, change_items = s.ChangeItems, assets_copied = s.AssetsCopied } : null,
        notes = r.Notes,
    };

    internal static void Print(ExportResult r)
    {
        if (r.Stac is { } stac)
        {
            AnsiConsole.MarkupLineInterpolated($"STAC catalog [bold]{stac.CatalogFile}[/]: {stac.SceneItems} scene item(s), {stac.ChangeItems} change run item(s); assets {(stac.AssetsCopied ? "copied beside their items" : "linked into the workspace")}");
            return;
        }
        var table = new Table().Title($"Export {r.Format.Name}: {Markup.Escape(r.Path)}").AddColumns("Layer", "Features", "File");
        foreach (var l in r.Layers)
        {
            table.AddRow(l.Kind, l.Features.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(l.File));
        }
        AnsiConsole.Write(table);
        foreach (var note in r.Notes)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]note:[/] {note}");
        }
    }
}
