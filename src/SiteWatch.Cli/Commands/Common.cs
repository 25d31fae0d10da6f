using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Cli.Commands;

/// <summary>Options every workspace command takes.</summary>
public class WorkspaceSettings : CommandSettings
{
    public const string WorkspaceHelp = "Workspace directory (default: $SITEWATCH_WORKSPACE, else the current directory).";

    [CommandOption("-w|--workspace <DIR>")]
    [Description(WorkspaceHelp)]
    public string? Workspace { get; init; }

    [CommandOption("--json")]
    [Description("Write machine-readable JSON to stdout instead of tables.")]
    public bool Json { get; init; }

    public Workspace OpenWorkspace() => Open(Workspace);

    /// <summary>The workspace a command names (--workspace), else $SITEWATCH_WORKSPACE's, else the current directory's.</summary>
    public static Workspace Open(string? directory) => Core.Catalog.Workspace.Open(Core.Catalog.Workspace.ResolveDirectory(directory), Output.Notice);
}

/// <summary>A command on one site of the workspace: the site must be named.</summary>
public class SiteSettings : WorkspaceSettings
{
    [CommandOption("-s|--site <NAME>")]
    [Description("The site.")]
    public string Site { get; init; } = "";

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Site) ? ValidationResult.Error("--site NAME is required") : ValidationResult.Success();
}

/// <summary>A site and a period of it (`report`, `timelapse`): the dates checked once here, handed on as days.</summary>
public class SitePeriodSettings : SiteSettings
{
    [CommandOption("--from <DATE>")]
    [Description("First day of the period, YYYY-MM-DD (default: the site's first scene).")]
    public string? From { get; init; }

    [CommandOption("--to <DATE>")]
    [Description("Last day of the period, YYYY-MM-DD (default: the site's last scene).")]
    public string? To { get; init; }

    public DateOnly? FromDay => Day(From);
    public DateOnly? ToDay => Day(To);

    private static DateOnly? Day(string? text) =>
        text is not null && DateOnly.TryParseExact(text, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var day) ? day : null;

    /// <summary>The site is named and the dates are dates; then the command's own options (<see cref="ValidateOptions"/>).</summary>
    public sealed override ValidationResult Validate()
    {
        if (base.Validate() is { Successful: false } missing)
        {
            return missing;
        }
        foreach (var (option, value) in new[] { ("--from", From), ("--to", To) })
        {
            if (value is not null && Day(value) is null)
            {
                return ValidationResult.Error($"{option} '{value}' is not a date (YYYY-MM-DD)");
            }
        }
        return ValidateOptions();
    }

    /// <summary>The command's own options, checked once the site and period are.</summary>
    protected virtual ValidationResult ValidateOptions() => ValidationResult.Success();
}

/// <summary>Console output: tables for people, JSON for machines, progress bars only on a terminal.</summary>
internal static class Output
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>What the workspace tells the person running the command (waits, quarantined files): stderr, so --json stays clean.</summary>
    public static void Notice(string message) => Console.Error.WriteLine($"sitewatch: {message}");

    public static void WriteJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Json));

    public static bool Interactive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs work with a progress bar per task on a terminal, silently otherwise (and always under --json).</summary>
    public static T WithProgress<T>(bool quiet, string title, Func<IProgress<double>, T> work)
    {
        if (quiet || !Interactive)
        {
            return work(new Progress<double>(_ => { }));
        }
        return AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: 1.0);
                var result = work(new Core.SyncProgress<double>(p => task.Value = p));
                task.Value = 1.0;
                return result;
            });
    }

    public static string Date(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);
}
