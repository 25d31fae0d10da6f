using System.Text.Json;
using SiteWatch.Video.Watch;

namespace SiteWatch.Cli.Commands;

/// <summary>Prints the JSON schema of a file SiteWatch reads, for editors and validators.</summary>
public sealed class SchemaCommand : Command<SchemaCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<KIND>")]
        [Description("Which file: zones (watch zones, as 'watch --zones' and the server read them) or rules (a site's alert rules, as 'alerts rules --file' reads them).")]
        public string Kind { get; init; } = "";

        [CommandOption("-o|--out <FILE>")]
        [Description("Write the schema to this file instead of stdout.")]
        public string? Out { get; init; }

        public override Spectre.Console.ValidationResult Validate() => Kind is "zones" or "rules"
            ? Spectre.Console.ValidationResult.Success()
            : Spectre.Console.ValidationResult.Error($"schema '{Kind}': the schemas are: zones, rules");
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var schema = settings.Kind == "rules" ? Core.Alerts.AlertRuleSchema.Generate() : ZoneSchema.Generate();
        var text = schema.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        if (settings.Out is { } path)
        {
            File.WriteAllText(path, text + Environment.NewLine);
        }
        else
        {
            Console.Out.WriteLine(text);
        }
        return 0;
    }
}
