using SiteWatch.Gdal;

namespace SiteWatch.Cli.Commands;

public sealed class InfoCommand : Command<InfoCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<FILE>")]
        [Description("Raster file.")]
        public string File { get; init; } = "";

        [CommandOption("--json")]
        [Description("Write JSON.")]
        public bool Json { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var raster = RasterDataset.Open(settings.File);
        using var crs = raster.OpenCrs();
        var gt = raster.GeoTransform;
        var info = new
        {
            file = Path.GetFullPath(settings.File),
            driver = raster.Driver,
            width = raster.Width,
            height = raster.Height,
            band_count = raster.BandCount,
            block_size = new[] { raster.BlockSize.Width, raster.BlockSize.Height },
            overviews = raster.OverviewCount,
            geotransform = gt?.ToArray(),
            crs = crs?.ToString(),
            epsg = crs?.Epsg,
            crs_wkt = crs?.Wkt,
            bounds = gt is null ? null : new[] { raster.Bounds.MinX, raster.Bounds.MinY, raster.Bounds.MaxX, raster.Bounds.MaxY },
            bands = Enumerable.Range(1, raster.BandCount).Select(b => new
            {
                band = b,
                data_type = raster.DataTypeOf(b).GdalName(),
                nodata = raster.NoDataOf(b),
                description = raster.BandDescription(b),
            }).ToArray(),
            files = raster.Files,
        };
        if (settings.Json)
        {
            Output.WriteJson(info);
            return 0;
        }
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]File[/]", Markup.Escape(info.file));
        grid.AddRow("Driver", Markup.Escape(info.driver));
        grid.AddRow("Size", $"{info.width} x {info.height}, {info.band_count} band(s), blocks {info.block_size[0]}x{info.block_size[1]}, {info.overviews} overview(s)");
        grid.AddRow("CRS", Markup.Escape(info.crs ?? "none"));
        grid.AddRow("Pixel size", gt is { } g ? FormattableString.Invariant($"{g.PixelWidth:0.######} x {-g.PixelHeight:0.######}") : "not georeferenced");
        grid.AddRow("Bounds", info.bounds is { } b ? string.Join(", ", b.Select(v => v.ToString("0.###", CultureInfo.InvariantCulture))) : "-");
        AnsiConsole.Write(grid);
        var table = new Table().AddColumns("Band", "Type", "NoData", "Description");
        foreach (var band in info.bands)
        {
            table.AddRow(band.band.ToString(CultureInfo.InvariantCulture), band.data_type,
                band.nodata?.ToString(CultureInfo.InvariantCulture) ?? "-", Markup.Escape(band.description ?? ""));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}
