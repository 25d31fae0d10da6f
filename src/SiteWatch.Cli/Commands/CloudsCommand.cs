using SiteWatch.Core.Change;
using SiteWatch.Core.Ingest;
using SiteWatch.Gdal;

namespace SiteWatch.Cli.Commands;

/// <summary>`sitewatch clouds SCENE`: the cloud and shadow mask ingest makes for scenes delivered without one.</summary>
public sealed class CloudsCommand : Command<CloudsCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<SCENE>")]
        [Description("Georeferenced raster with blue and red bands (named, or by wavelength); NIR helps.")]
        public string Scene { get; init; } = "";

        [CommandOption("--out <MASK>")]
        [Description("Write the mask here (GeoTIFF on the scene's grid: 0 clear, 1 cloud, 2 cloud shadow); only when clouds are found.")]
        public string? Out { get; init; }

        [CommandOption("--truth <MASK>")]
        [Description("A reference mask on the same grid (non-zero = cloud or shadow): print precision, recall and IoU.")]
        public string? Truth { get; init; }

        [CommandOption("--min-area <M2>")]
        [Description("Smallest cloud in square metres (default 10000).")]
        public double? MinArea { get; init; }

        [CommandOption("--band-names <NAMES>")]
        [Description("Names of the bands in order, for files that do not name them (e.g. red,green,blue,nir).")]
        public string? BandNames { get; init; }

        [CommandOption("--json")]
        [Description("Write JSON.")]
        public bool Json { get; init; }

        public override ValidationResult Validate() =>
            MinArea is <= 0 ? ValidationResult.Error("--min-area must be positive")
            : Truth is not null && Out is null ? ValidationResult.Error("--truth needs --out (the mask to compare)")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var path = Path.GetFullPath(settings.Scene);
        SpectralBands bands;
        using (var raster = RasterDataset.Open(path))
        {
            var metadata = SceneMetadataReader.Read(raster, path);
            var names = settings.BandNames is { } given ? given.Split(',').Select(n => (string?)n.Trim().ToLowerInvariant()).ToArray() : metadata.Bands.Select(b => (string?)b.Name).ToArray();
            if (names.Length != raster.BandCount)
            {
                throw new SiteWatchException($"{path}: has {raster.BandCount} bands but {names.Length} band names were given");
            }
            bands = SpectralBands.Identify(names, metadata.Bands.Select(b => b.WavelengthMicrometres).ToArray());
        }
        var options = new CloudDetectionOptions();
        if (settings.MinArea is { } area)
        {
            options = options with { MinCloudAreaSquareMetres = area };
        }
        if (settings.Out is { } o && File.Exists(o))
        {
            File.Delete(o);
        }
        var result = CloudDetector.Detect(path, bands, settings.Out, options, cancellationToken);
        var agreement = settings.Truth is { } truth && result.Found ? CloudMaskAgreement.Of(settings.Out!, truth) : null;
        if (settings.Json)
        {
            Output.WriteJson(new
            {
                scene = path,
                cloud_percent = Math.Round(100 * result.CloudFraction, 3),
                shadow_percent = Math.Round(100 * result.ShadowFraction, 3),
                candidates = result.Candidates,
                cloud_objects = result.CloudObjects,
                confirmed_by_shadow = result.ConfirmedByShadow,
                shadow_offset_m = result.ShadowOffsetMetres,
                shadow_azimuth_deg = result.ShadowAzimuthDegrees,
                shadow_ratio = result.ShadowRatio is { } ratio && double.IsFinite(ratio) ? ratio : (double?)null,
                skipped_because = result.SkippedBecause,
                mask = result.Found ? settings.Out : null,
                truth = agreement is null ? null : new { precision = agreement.Precision, recall = agreement.Recall, iou = agreement.IoU },
            });
            return 0;
        }
        if (result.SkippedBecause is { } why)
        {
            AnsiConsole.MarkupLineInterpolated($"No cloud detection: {why}.");
            return 0;
        }
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"Cloud {100 * result.CloudFraction:0.00} %, shadow {100 * result.ShadowFraction:0.00} % of the valid pixels; {result.CloudObjects} cloud object(s) of {result.Candidates} candidate(s), {result.ConfirmedByShadow} confirmed by their shadow{(result.ShadowOffsetMetres is { } d ? $" ({d:0} m towards {result.ShadowAzimuthDegrees:0}°)" : "")}{(result.ShadowRatio is { } r && double.IsFinite(r) ? $"; best shadow match {r:0.00} of its surroundings' light" : "")}.");
        if (result.Found && settings.Out is { } written)
        {
            AnsiConsole.MarkupLineInterpolated($"Mask: {written}");
        }
        if (agreement is not null)
        {
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"Against {settings.Truth}: precision {agreement.Precision:0.000}, recall {agreement.Recall:0.000}, IoU {agreement.IoU:0.000}.");
        }
        return 0;
    }
}
