using SiteWatch.Video.Klv;

namespace SiteWatch.Cli.Commands;

public sealed class KlvDumpCommand : Command<KlvDumpCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<FILE>")]
        [Description("MPEG-TS file (.ts/.m2ts/.mts, or any stream with a sync byte every 188 bytes) or raw KLV packets (.bin).")]
        public string File { get; init; } = "";

        [CommandOption("--json")]
        [Description("A JSON array, one object per packet: time, key, name, items (tag, name, value, units).")]
        public bool Json { get; init; }

        [CommandOption("--csv")]
        [Description("One row per value, with dotted tag paths for nested sets.")]
        public bool Csv { get; init; }

        public override ValidationResult Validate() =>
            Json && Csv ? ValidationResult.Error("choose one of --json and --csv") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!System.IO.File.Exists(settings.File))
        {
            throw new Core.SiteWatchException($"{settings.File}: file not found");
        }
        using var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
        var summary = settings.Json ? KlvDump.WriteJson(settings.File, output)
            : settings.Csv ? KlvDump.WriteCsv(settings.File, output)
            : KlvDump.WriteText(settings.File, output);
        output.Flush();
        // Problems never stop the dump; they are counted here, on stderr, so stdout stays machine-readable.
        Console.Error.WriteLine($"{settings.File}: {summary}");
        return summary.Packets > 0 ? 0 : 1;
    }
}
