namespace SiteWatch.Cli;

/// <summary>
/// The command line's words for the engine's problems: the input at fault as its option (--crs), the remedy as the
/// command to run. The engine itself names no command or option (the server words the same problems its own way).
/// </summary>
internal static class CliWording
{
    public static string Text(Exception e) => e is SiteWatchException s ? Text(s) : e.Message;

    public static string Text(SiteWatchException e)
    {
        var text = e.Parameter is { } parameter ? $"--{parameter} {e.Message}" : e.Message;
        return e.Next is { } next ? $"{text} ({Remedy(next)})" : text;
    }

    private static string Remedy(NextStep next) => next.Kind switch
    {
        NextStepKind.AddScenes => $"run 'sitewatch scene add FILE --site {next.Target}'",
        NextStepKind.DetectObjects => $"run 'sitewatch detect --site {next.Target}' with --model",
        NextStepKind.DetectChangeSeries => $"run 'sitewatch change --site {next.Target} --series'",
        NextStepKind.RedoChange => $"run 'sitewatch change --site {next.Target} --force'",
        NextStepKind.StoreAlertRules => $"run 'sitewatch alerts rules --site {next.Target} --file rules.json'",
        NextStepKind.CreateWorkspace => $"run 'sitewatch init {next.Target}' or pass --workspace",
        NextStepKind.ListNotes => $"see 'sitewatch note list --site {next.Target}'",
        NextStepKind.GiveModel => "pass --model PATH",
        NextStepKind.GiveCrs => "pass --crs EPSG:NNNN",
        NextStepKind.AddSite => "add one with 'sitewatch site add NAME --aoi FILE'",
        NextStepKind.CheckWorkspace => "run 'sitewatch check'",
        NextStepKind.GiveDate => "give one with --date YYYY-MM-DD",
        _ => next.Kind.ToString(),
    };
}
