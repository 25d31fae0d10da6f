using SiteWatch.Core.Detection;
using SiteWatch.Core.Geo;

namespace SiteWatch.Cli.Commands;

/// <summary>`sitewatch detect file SCENE`: objects in one raster, no workspace needed.</summary>
public sealed class DetectFileCommand : Command<DetectFileCommand.Settings>
{
    public sealed class Settings : DetectorSettings
    {
        [CommandArgument(0, "<SCENE>")]
        [Description("Georeferenced raster (GeoTIFF or anything GDAL reads) with red, green and blue bands (or the bands the model's side-car names).")]
        public string Scene { get; init; } = "";

        [CommandOption("--aoi <GEOJSON>")]
        [Description("Only search inside this polygon (GeoJSON, WGS84); detections centred outside it are dropped.")]
        public string? Aoi { get; init; }

        [CommandOption("-o|--out <GEOJSON>")]
        [Description("Write the detections as a GeoJSON FeatureCollection (WGS84) with class, score, area_m2, orientation_deg.")]
        public string? Out { get; init; }

        [CommandOption("--iou <T>")]
        [Description("Overlap (IoU) above which the weaker of two same-class detections is dropped (0..1). Default 0.45.")]
        public double Iou { get; init; } = 0.45;

        [CommandOption("--tile-overlap <F>")]
        [Description("Overlap of neighbouring tiles as a fraction of the tile (0..0.9). Default 0.2.")]
        public double TileOverlap { get; init; } = 0.2;

        protected override ValidationResult ValidateOptions() =>
            !(Iou is >= 0 and <= 1) ? ValidationResult.Error("--iou must lie between 0 and 1")
            : !(TileOverlap is >= 0 and <= 0.9) ? ValidationResult.Error("--tile-overlap must lie between 0 and 0.9")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var modelPath = settings.Model ?? DetectorModel.DefaultModelPath
            ?? throw new SiteWatchException($"no model given and this build has no default detector (models/{DetectorModel.DefaultModelFileName}); pass --model MODEL.onnx");
        if (!File.Exists(settings.Scene))
        {
            throw new SiteWatchException($"{settings.Scene}: file not found");
        }
        using var model = DetectorModel.Load(modelPath);
        var options = new SceneDetectionOptions
        {
            Detector = new DetectorOptions
            {
                ScoreThreshold = settings.Score ?? model.ScoreThreshold,
                IouThreshold = settings.Iou,
                Device = settings.Device,
                ClassMap = settings.ParsedClassMap,
            },
            TileOverlap = settings.TileOverlap,
            ResampleToModelGsd = !settings.NoResample,
            Aoi = settings.Aoi is { } aoi ? SceneObjectDetector.AoiInRasterCrs(settings.Scene, AoiReader.ReadFile(aoi)) : null,
        };
        var result = Output.WithProgress(settings.Json, $"Detecting objects in {Path.GetFileName(settings.Scene)}",
            progress => SceneObjectDetector.Detect(settings.Scene, model, options, progress, cancellationToken));
        if (settings.Out is { } outPath)
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(outPath));
            if (directory is not null)
            {
                Directory.CreateDirectory(directory);
            }
            result.WriteGeoJson(outPath);
        }
        if (settings.Json)
        {
            Output.WriteJson(new
            {
                Scene = result.RasterPath,
                Model = result.ModelPath,
                Task = model.Task.ToString().ToLowerInvariant(),
                result.Crs,
                Detections = result.Detections.Count,
                Counts = result.CountsByClass,
                result.TilesRun,
                result.TilesSkipped,
                ScannedKm2 = Math.Round(result.ScannedSquareKilometres, 6),
                SceneGsd = result.SceneGsd is { } sg ? Math.Round(sg, 4) : (double?)null,
                ModelGsd = result.ModelGsd,
                ResampleFactor = Math.Round(result.ResampleFactor, 4),
                InferenceSeconds = Math.Round(result.InferenceSeconds, 3),
                TotalSeconds = Math.Round(result.TotalSeconds, 3),
                Out = settings.Out is null ? null : Path.GetFullPath(settings.Out),
            });
            return 0;
        }
        var table = new Table().AddColumns("Class", "Count");
        table.Columns[1].RightAligned();
        foreach (var (name, count) in result.CountsByClass)
        {
            table.AddRow(Markup.Escape(name), count.ToString("N0", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        if (result.ResampleFactor != 1)
        {
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"Scene at {result.SceneGsd:0.###} m per pixel read at the model's {result.ModelGsd:0.###} m (x{1 / result.ResampleFactor:0.###})");
        }
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"{result.Detections.Count} objects in {result.ScannedSquareKilometres:0.###} km² ({result.TilesRun} tiles{(result.TilesSkipped > 0 ? $", {result.TilesSkipped} outside the AOI skipped" : "")}); {result.TotalSeconds:0.0} s, of which inference {result.InferenceSeconds:0.0} s");
        if (settings.Out is not null)
        {
            AnsiConsole.MarkupLineInterpolated($"Detections in [bold]{Path.GetFullPath(settings.Out)}[/]");
        }
        return 0;
    }
}
