using System.ComponentModel;
using SiteWatch.Core.Catalog;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SiteWatch.Cli.Commands;

public sealed class InitCommand : Command<InitCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<DIR>")]
        [Description("Directory of the new workspace (created if missing).")]
        public string Directory { get; init; } = "";

        [CommandOption("--postgres <CONNSTRING>")]
        [Description("Keep the catalog in this PostgreSQL database (with PostGIS) instead of a SQLite file, e.g. \"Host=db;Port=5432;Database=sitewatch;Username=sitewatch\"; the password goes in ~/.pgpass or PGPASSWORD.")]
        public string? Postgres { get; init; }

        [CommandOption("--json")]
        [Description("Write the result as JSON.")]
        public bool Json { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var existed = Workspace.Exists(settings.Directory);
        using var workspace = Workspace.Init(settings.Directory, settings.Postgres);
        if (settings.Json)
        {
            Output.WriteJson(new { workspace = workspace.Root, catalog = workspace.CatalogLocation, engine = workspace.Catalog.Engine == CatalogEngine.Postgres ? "postgresql" : "sqlite", imagery = workspace.ImageryDirectory, created = !existed });
        }
        else
        {
            AnsiConsole.MarkupLineInterpolated($"{(existed ? "Workspace already exists" : "Created workspace")} [bold]{workspace.Root}[/]");
            AnsiConsole.MarkupLineInterpolated($"  catalog  {workspace.CatalogLocation}");
            AnsiConsole.MarkupLineInterpolated($"  imagery  {workspace.ImageryDirectory}");
        }
        return 0;
    }
}
