namespace SiteWatch.Cli.Commands;

public sealed class CheckCommand : Command<CheckCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandOption("--no-hash")]
        [Description("Check that every stored file exists, without reading it to compare its SHA-256 (fast).")]
        public bool NoHash { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var report = Output.WithProgress(settings.Json, "Checking workspace", progress =>
            Core.Catalog.WorkspaceCheck.Run(workspace, verifyHashes: !settings.NoHash, progress, cancellationToken));
        if (settings.Json)
        {
            Output.WriteJson(new
            {
                workspace = workspace.Root,
                healthy = report.Healthy,
                report.Sites,
                report.Scenes,
                change_runs = report.ChangeRuns,
                detection_runs = report.DetectionRuns,
                report.Alerts,
                files_verified = report.FilesVerified,
                files_without_hash = report.FilesWithoutHash,
                problems = report.Problems.Select(p => new { kind = p.Kind, where = p.Where, detail = p.Detail }),
            });
        }
        else
        {
            AnsiConsole.MarkupLineInterpolated($"Workspace [bold]{workspace.Root}[/]: {report.Sites} site(s), {report.Scenes} scene(s), {report.ChangeRuns} change run(s), {report.DetectionRuns} detection run(s), {report.Alerts} alert(s)");
            AnsiConsole.MarkupLineInterpolated($"SQLite integrity: {(report.Problems.Any(p => p.Kind == "database") ? "[red]damaged[/]" : "ok")}; stored files verified by SHA-256: {report.FilesVerified}{(report.FilesWithoutHash > 0 ? $" ({report.FilesWithoutHash} stored before hashes were recorded: existence only)" : "")}");
            if (report.Healthy)
            {
                AnsiConsole.MarkupLine("[green]No problems found.[/]");
            }
            else
            {
                var table = new Table().AddColumns("Problem", "Where", "Detail");
                foreach (var p in report.Problems)
                {
                    table.AddRow(Markup.Escape(p.Kind), Markup.Escape(p.Where), Markup.Escape(p.Detail));
                }
                AnsiConsole.Write(table);
            }
        }
        if (!report.Healthy)
        {
            Console.Error.WriteLine($"sitewatch: {workspace.Root}: {report.Problems.Count} problem(s) found");
        }
        return report.Healthy ? 0 : 1;
    }
}
