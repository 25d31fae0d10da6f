using SiteWatch.Core.Catalog;

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

        [CommandOption("--imagery <S3URL>")]
        [Description("Store the scenes' COGs in an S3-compatible bucket (s3://BUCKET/PREFIX) instead of the workspace folder; keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or ~/.aws/credentials.")]
        public string? Imagery { get; init; }

        [CommandOption("--s3-endpoint <URL>")]
        [Description("The S3-compatible server (MinIO, Ceph ...) for --imagery, e.g. http://minio.local:9000; default: AWS.")]
        public string? S3Endpoint { get; init; }

        [CommandOption("--s3-region <REGION>")]
        [Description("The bucket's region for --imagery (default us-east-1).")]
        [DefaultValue("us-east-1")]
        public string S3Region { get; init; } = "us-east-1";

        [CommandOption("--json")]
        [Description("Write the result as JSON.")]
        public bool Json { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var existed = Workspace.Exists(settings.Directory);
        using var workspace = Workspace.Init(settings.Directory, settings.Postgres,
            settings.Imagery is null ? null : new StorageSettings(settings.Imagery, settings.S3Endpoint, settings.S3Region));
        if (settings.Json)
        {
            Output.WriteJson(new { workspace = workspace.Root, catalog = workspace.CatalogLocation, engine = workspace.Catalog.Engine == CatalogEngine.Postgres ? "postgresql" : "sqlite", imagery_store = workspace.Imagery.Location, imagery = workspace.ImageryDirectory, created = !existed });
        }
        else
        {
            AnsiConsole.MarkupLineInterpolated($"{(existed ? "Workspace already exists" : "Created workspace")} [bold]{workspace.Root}[/]");
            AnsiConsole.MarkupLineInterpolated($"  catalog  {workspace.CatalogLocation}");
            AnsiConsole.MarkupLineInterpolated($"  imagery  {workspace.Imagery.Location}");
        }
        return 0;
    }
}
