using SiteWatch.Core.Ingest;
using SiteWatch.Core.Workflows;

namespace SiteWatch.Cli.Commands;

public sealed class SiteAddCommand : Command<SiteAddCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("Site name (unique in the workspace).")]
        public string Name { get; init; } = "";

        [CommandOption("--aoi <FILE>")]
        [Description("Area of interest: GeoJSON Polygon/MultiPolygon (Feature, FeatureCollection or geometry) in WGS84.")]
        public string? Aoi { get; init; }

        [CommandOption("--gsd <METRES>")]
        [Description("Ground sample distance of the analysis grid. Default: the first scene's pixel size.")]
        public double? Gsd { get; init; }

        [CommandOption("--crs <CRS>")]
        [Description("Grid CRS (projected, metres), e.g. EPSG:32651. Default: UTM zone of the AOI centroid.")]
        public string? Crs { get; init; }

        [CommandOption("--tag <TAG>")]
        [Description("A tag (repeatable).")]
        public string[] Tags { get; init; } = [];

        [CommandOption("--notes <TEXT>")]
        [Description("Free-text notes.")]
        public string? Notes { get; init; }

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Aoi))
            {
                return ValidationResult.Error("--aoi FILE is required");
            }
            if (Gsd is { } g && !(g > 0 && double.IsFinite(g)))
            {
                return ValidationResult.Error("--gsd must be a positive number of metres");
            }
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var site = SiteSetup.AddSite(workspace, settings.Name, settings.Aoi!, settings.Gsd, settings.Crs, settings.Tags, settings.Notes);
        if (settings.Json)
        {
            Output.WriteJson(Views.Site(site));
            return 0;
        }
        var area = Core.Geo.GeometryProjection.Transform(site.Aoi, 4326, site.CrsEpsg).Area;
        AnsiConsole.MarkupLineInterpolated($"Added site [bold]{site.Name}[/] (id {site.Id}): grid EPSG:{site.CrsEpsg}, {(site.Gsd is { } g ? g.ToString("0.###", CultureInfo.InvariantCulture) + " m" : "GSD from the first scene")}, AOI {area / 1e6:0.###} km²");
        return 0;
    }
}

public sealed class SiteListCommand : Command<WorkspaceSettings>
{
    public override int Execute(CommandContext context, WorkspaceSettings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var sites = workspace.Catalog.ListSites();
        if (settings.Json)
        {
            Output.WriteJson(sites.Select(s => Views.Site(s, workspace.Catalog.ListScenes(s.Id))).ToArray());
            return 0;
        }
        if (sites.Count == 0)
        {
            AnsiConsole.MarkupLine("No sites yet. Add one with [bold]sitewatch site add NAME --aoi AOI.geojson[/].");
            return 0;
        }
        var table = new Table().AddColumns("Id", "Name", "Grid", "GSD (m)", "Scenes", "First", "Last", "Tags");
        foreach (var site in sites)
        {
            var scenes = workspace.Catalog.ListScenes(site.Id);
            table.AddRow(
                site.Id.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(site.Name),
                $"EPSG:{site.CrsEpsg}",
                site.Gsd?.ToString("0.###", CultureInfo.InvariantCulture) ?? "-",
                scenes.Count.ToString(CultureInfo.InvariantCulture),
                scenes.Count > 0 ? scenes[0].AcquiredUtc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : "-",
                scenes.Count > 0 ? scenes[^1].AcquiredUtc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : "-",
                Markup.Escape(string.Join(", ", site.Tags)));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}

public sealed class SiteShowCommand : Command<SiteShowCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("Site name.")]
        public string Name { get; init; } = "";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var site = workspace.Catalog.GetSite(settings.Name);
        var scenes = workspace.Catalog.ListScenes(site.Id);
        if (settings.Json)
        {
            Output.WriteJson(Views.Site(site, scenes));
            return 0;
        }
        var grid = site.Gsd is { } gsd ? SiteGrid.For(site, gsd, site.AnchorX, site.AnchorY) : null;
        var env = site.Aoi.EnvelopeInternal;
        var info = new Grid().AddColumn().AddColumn();
        info.AddRow("[bold]Site[/]", Markup.Escape($"{site.Name} (id {site.Id})"));
        info.AddRow("AOI bbox", FormattableString.Invariant($"{env.MinX:0.#####}, {env.MinY:0.#####} .. {env.MaxX:0.#####}, {env.MaxY:0.#####} (lon/lat)"));
        info.AddRow("Grid", grid is null
            ? $"EPSG:{site.CrsEpsg}, GSD set by the first scene"
            : FormattableString.Invariant($"EPSG:{site.CrsEpsg}, {grid.Gsd:0.###} m, {grid.Width} x {grid.Height} px, origin ({grid.Extent.MinX:0.##}, {grid.Extent.MaxY:0.##})"));
        info.AddRow("Grid CRS", Markup.Escape(site.GridReason ?? $"EPSG:{site.CrsEpsg}: provisional, the UTM zone of the AOI's centroid; the first scene keeps its own projected CRS instead when it suits the AOI"));
        info.AddRow("Tags", Markup.Escape(string.Join(", ", site.Tags)));
        info.AddRow("Notes", Markup.Escape(site.Notes ?? ""));
        info.AddRow("Created", Output.Date(site.CreatedUtc));
        AnsiConsole.Write(info);
        SceneListCommand.WriteTable(scenes);
        return 0;
    }
}
