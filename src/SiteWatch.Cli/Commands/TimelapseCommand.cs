using SiteWatch.Core.Reports;

namespace SiteWatch.Cli.Commands;

public sealed class TimelapseCommand : Command<TimelapseCommand.Settings>
{
    public sealed class Settings : SitePeriodSettings
    {
        [CommandOption("-o|--out <FILE>")]
        [Description("Output file: .mp4 (H.264) or .gif.")]
        public string? Out { get; init; }

        [CommandOption("--fps <N>")]
        [Description("Scenes per second (default 1).")]
        [DefaultValue(1.0)]
        public double Fps { get; init; } = 1;

        [CommandOption("--size <PX>")]
        [Description("Longest side of the imagery in each frame, pixels (default 1024).")]
        [DefaultValue(1024)]
        public int Size { get; init; } = 1024;

        [CommandOption("--no-outlines")]
        [Description("Do not draw what changed since the scene before (appeared red, removed blue, altered orange; objects of 25 m² or more inside the AOI).")]
        public bool NoOutlines { get; init; }

        protected override ValidationResult ValidateOptions()
        {
            if (string.IsNullOrWhiteSpace(Out))
            {
                return ValidationResult.Error("--out FILE.mp4 or FILE.gif is required");
            }
            return Fps is <= 0 or > 60 || !double.IsFinite(Fps) ? ValidationResult.Error("--fps must be more than 0 and at most 60")
                : Size is < 64 or > 4096 ? ValidationResult.Error("--size must be 64 to 4096 pixels")
                : ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var options = new TimelapseOptions
        {
            From = settings.FromDay,
            To = settings.ToDay,
            FramesPerSecond = settings.Fps,
            Size = settings.Size,
            ChangeOutlines = !settings.NoOutlines,
        };
        var result = Output.WithProgress(settings.Json, "Rendering the timelapse",
            progress => TimelapseWorkflow.Write(workspace, settings.Site, settings.Out!, options, progress, cancellationToken));
        if (settings.Json)
        {
            Output.WriteJson(new
            {
                path = result.Path,
                frames = result.Frames,
                width = result.Width,
                height = result.Height,
                first = MeasuredStatements.Day(result.First),
                last = MeasuredStatements.Day(result.Last),
                outlined_changes = result.OutlinedChanges,
            });
            return 0;
        }
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[green]Timelapse[/] {result.Path}: {result.Frames} scenes {MeasuredStatements.Day(result.First)} to {MeasuredStatements.Day(result.Last)}, {result.Width} x {result.Height} px, {result.OutlinedChanges} change outlines");
        return 0;
    }
}
