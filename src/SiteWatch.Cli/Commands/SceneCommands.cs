using SiteWatch.Core.Catalog;
using SiteWatch.Core.Ingest;
using SiteWatch.Gdal;

namespace SiteWatch.Cli.Commands;

public sealed class SceneAddCommand : Command<SceneAddCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandArgument(0, "<FILE>")]
        [Description("Raster files GDAL reads (GeoTIFF, COG, ENVI, JPEG2000, PNG + world file ...).")]
        public string[] Files { get; init; } = [];

        [CommandOption("-s|--site <NAME>")]
        [Description("Site to add the scenes to.")]
        public string? Site { get; init; }

        [CommandOption("--date <YYYY-MM-DD>")]
        [Description("Acquisition date or time (UTC), overriding the files' metadata.")]
        public string? Date { get; init; }

        [CommandOption("--sensor <NAME>")]
        [Description("Sensor name, overriding the files' metadata.")]
        public string? Sensor { get; init; }

        [CommandOption("--resampling <METHOD>")]
        [Description("nearest, bilinear (default), cubic, cubicspline, lanczos, average.")]
        [DefaultValue(Resampling.Bilinear)]
        public Resampling Resampling { get; init; } = Resampling.Bilinear;

        [CommandOption("--band-names <NAMES>")]
        [Description("Names of the bands in order, for files that do not name them (e.g. red,green,blue,nir for NAIP): NDVI, true colour and cloud detection need them.")]
        public string? BandNames { get; init; }

        [CommandOption("--no-cloud-detect")]
        [Description("Do not search scenes delivered without a cloud mask for clouds and cloud shadows.")]
        public bool NoCloudDetect { get; init; }

        public override ValidationResult Validate()
        {
            if (BandNames is not null && BandNames.Split(',').Any(string.IsNullOrWhiteSpace))
            {
                return ValidationResult.Error($"--band-names '{BandNames}' has an empty name (give them comma-separated, e.g. red,green,blue,nir)");
            }
            if (string.IsNullOrWhiteSpace(Site))
            {
                return ValidationResult.Error("--site NAME is required");
            }
            if (Date is not null && !SceneMetadataReader.TryTime(Date, out _))
            {
                return ValidationResult.Error($"--date '{Date}' is not a date (use YYYY-MM-DD or an ISO 8601 time)");
            }
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var site = workspace.Catalog.GetSite(settings.Site!);
        DateTime? date = settings.Date is null ? null : (SceneMetadataReader.TryTime(settings.Date, out var d) ? d : null);
        var options = new IngestOptions
        {
            AcquiredUtc = date,
            Sensor = settings.Sensor,
            Resampling = settings.Resampling,
            BandNames = settings.BandNames?.Split(',').Select(n => n.Trim()).ToList(),
            DetectClouds = !settings.NoCloudDetect,
        };
        var ingestor = new SceneIngestor(workspace);
        var results = new List<object>();
        var failures = 0;
        foreach (var file in settings.Files)
        {
            try
            {
                var result = Output.WithProgress(settings.Json, $"Ingesting {Path.GetFileName(file)}",
                    progress => ingestor.Ingest(site.Name, file, options, progress, cancellationToken));
                results.Add(new
                {
                    file,
                    status = result.AlreadyPresent ? "already-present" : "added",
                    scene = Views.Scene(result.Scene),
                    cloud_detection = result.Clouds is { } found ? new
                    {
                        cloud_percent = Math.Round(100 * found.CloudFraction, 3),
                        shadow_percent = Math.Round(100 * found.ShadowFraction, 3),
                        cloud_objects = found.CloudObjects,
                        confirmed_by_shadow = found.ConfirmedByShadow,
                        skipped_because = found.SkippedBecause,
                    } : null,
                });
                if (!settings.Json)
                {
                    var s = result.Scene;
                    if (result.AlreadyPresent)
                    {
                        AnsiConsole.MarkupLineInterpolated($"[yellow]=[/] {file}: already in the catalog as scene {s.Id} ({s.AcquiredUtc:yyyy-MM-dd}); nothing to do");
                    }
                    else
                    {
                        AnsiConsole.MarkupLineInterpolated($"[green]+[/] {file}: scene {s.Id}, {s.AcquiredUtc:yyyy-MM-dd} ({s.AcquiredFrom}), {s.Bands.Count} bands {s.DataType}, {s.Width} x {s.Height} px, {s.ValidFraction:P0} valid -> {s.File}");
                        if (result.Clouds is { Found: true } c)
                        {
                            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"  clouds found (no provider mask): {100 * c.CloudFraction:0.0} % cloud, {100 * c.ShadowFraction:0.0} % shadow -> {s.CloudMaskFile}");
                        }
                        else if (result.Clouds is { SkippedBecause: { } why })
                        {
                            AnsiConsole.MarkupLineInterpolated($"  no cloud detection: {why}");
                        }
                    }
                }
            }
            catch (Exception e) when (e is SiteWatchException or GdalException)
            {
                failures++;
                results.Add(new { file, status = "failed", error = CliWording.Text(e) });
                SiteWatchApp.Error(CliWording.Text(e));
            }
        }
        if (settings.Json)
        {
            Output.WriteJson(results);
        }
        return failures == 0 ? 0 : 1;
    }
}

public sealed class SceneListCommand : Command<SceneListCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandOption("-s|--site <NAME>")]
        [Description("Site whose scenes to list.")]
        public string? Site { get; init; }

        public override ValidationResult Validate() =>
            string.IsNullOrWhiteSpace(Site) ? ValidationResult.Error("--site NAME is required") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var site = workspace.Catalog.GetSite(settings.Site!);
        var scenes = workspace.Catalog.ListScenes(site.Id);
        if (settings.Json)
        {
            Output.WriteJson(scenes.Select(Views.Scene).ToArray());
            return 0;
        }
        WriteTable(scenes);
        return 0;
    }

    /// <summary>Short band names in full; long vendor descriptions would swamp the table.</summary>
    private static string BandSummary(IReadOnlyList<SceneBand> bands)
    {
        var names = string.Join(",", bands.Select(b => b.Name));
        return names.Length <= 28 ? names : $"{bands.Count} bands";
    }

    internal static void WriteTable(IReadOnlyList<Scene> scenes)
    {
        if (scenes.Count == 0)
        {
            AnsiConsole.MarkupLine("No scenes yet. Add some with [bold]sitewatch scene add FILE... --site NAME[/].");
            return;
        }
        var table = new Table().AddColumns("Id", "Acquired (UTC)", "Sensor", "Bands", "Cloud %", "Valid", "Size", "File");
        foreach (var s in scenes)
        {
            table.AddRow(
                s.Id.ToString(CultureInfo.InvariantCulture),
                Output.Date(s.AcquiredUtc),
                Markup.Escape(s.Sensor),
                Markup.Escape(BandSummary(s.Bands)),
                s.CloudCoverPercent?.ToString("0.#", CultureInfo.InvariantCulture) ?? "-",
                s.ValidFraction.ToString("P0", CultureInfo.InvariantCulture),
                $"{s.Width}x{s.Height}",
                Markup.Escape(s.File));
        }
        AnsiConsole.Write(table);
    }
}

public sealed class SceneShowCommand : Command<SceneShowCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandArgument(0, "<ID>")]
        [Description("Scene id (see 'scene list').")]
        public long Id { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var scene = workspace.Catalog.GetScene(settings.Id);
        if (settings.Json)
        {
            Output.WriteJson(Views.Scene(scene));
            return 0;
        }
        var site = workspace.Catalog.GetSite(scene.SiteId);
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]Scene[/]", $"{scene.Id} of site {Markup.Escape(site.Name)}");
        grid.AddRow("Acquired", $"{Output.Date(scene.AcquiredUtc)} UTC (from {Markup.Escape(scene.AcquiredFrom)})");
        grid.AddRow("Sensor", Markup.Escape(scene.Sensor));
        grid.AddRow("Bands", Markup.Escape(string.Join(", ", scene.Bands.Select(b =>
            b.WavelengthMicrometres is { } w ? FormattableString.Invariant($"{b.Name} ({w:0.###} µm)") : b.Name))));
        grid.AddRow("Cloud cover", (scene.CloudCoverPercent is { } c ? FormattableString.Invariant($"{c:0.#} %") : "unknown")
            + (scene.CloudMaskFile is { } m ? Markup.Escape($", mask {m}") : ""));
        grid.AddRow("Stored", Markup.Escape($"{scene.File} ({scene.Width} x {scene.Height} {scene.DataType}, {scene.ValidFraction:P1} valid)"));
        grid.AddRow("Source", Markup.Escape($"{scene.SourcePath} (sha256 {scene.SourceSha256[..16]}...)"));
        AnsiConsole.Write(grid);
        return 0;
    }
}
