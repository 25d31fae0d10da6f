using SiteWatch.Core.Detection;

namespace SiteWatch.Cli.Commands;

/// <summary>
/// The options of the detector that <c>detect file</c> and <c>detect --site</c> share, each worded and checked once. A
/// site run adds the workspace (<see cref="DetectSiteCommand.Settings"/>), a file run its raster and outputs.
/// </summary>
public abstract class DetectorSettings : CommandSettings
{
    [CommandOption("-m|--model <ONNX>")]
    [Description("Ultralytics YOLO detect or OBB model exported to ONNX (default: the built-in models/sitewatch-objects.onnx).")]
    public string? Model { get; init; }

    [CommandOption("--score <S>")]
    [Description("Lowest score kept (0..1). Default: the model's own threshold, else 0.25.")]
    public float? Score { get; init; }

    [CommandOption("--device <NAME>")]
    [Description("cpu (default) or cuda (needs a GPU and ONNX Runtime's CUDA execution provider).")]
    [DefaultValue("cpu")]
    public string Device { get; init; } = "cpu";

    [CommandOption("--class-map <MAP>")]
    [Description("Report model classes under other names: MODEL_CLASS=NAME pairs separated by commas (small-vehicle=vehicle,large-vehicle=vehicle); an empty NAME drops the class. Applied before NMS, over the model side-car's class_map.")]
    public string? ClassMap { get; init; }

    [CommandOption("--no-resample")]
    [Description("Read tiles at the scene's own resolution even when the model states another GSD (default: tiles are resampled to the model's GSD when the two differ by more than 20 %).")]
    public bool NoResample { get; init; }

    [CommandOption("--json")]
    [Description("Write machine-readable JSON to stdout instead of tables.")]
    public bool Json { get; init; }

    /// <summary>The parsed --class-map (checked in Validate).</summary>
    public IReadOnlyDictionary<string, string>? ParsedClassMap => ClassMap is null ? null : ClassMapping.Parse(ClassMap);

    /// <summary>The detector's options, then the command's own (<see cref="ValidateOptions"/>).</summary>
    public sealed override ValidationResult Validate()
    {
        if (Score is { } s && !(s is >= 0 and <= 1))
        {
            return ValidationResult.Error("--score must lie between 0 and 1");
        }
        if (Device is not ("cpu" or "cuda"))
        {
            return ValidationResult.Error($"--device '{Device}': use cpu or cuda");
        }
        if (ClassMap is not null)
        {
            try
            {
                _ = ClassMapping.Parse(ClassMap);
            }
            catch (SiteWatchException e)
            {
                return ValidationResult.Error($"--class-map: {e.Message}");
            }
        }
        return ValidateOptions();
    }

    protected abstract ValidationResult ValidateOptions();
}
