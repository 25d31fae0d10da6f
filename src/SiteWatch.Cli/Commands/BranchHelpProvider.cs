using Spectre.Console.Cli.Help;
using Spectre.Console.Rendering;

namespace SiteWatch.Cli.Commands;

/// <summary>
/// Spectre's help, except that a branch with a default command (`change`, `detect`, `alerts`) lists the options of
/// that command: `sitewatch change --site ...` runs it, so `sitewatch change --help` must say what it takes.
/// </summary>
public sealed class BranchHelpProvider(ICommandAppSettings settings) : HelpProvider(settings)
{
    public override IEnumerable<IRenderable> GetOptions(ICommandModel model, ICommandInfo? command) =>
        command is { IsBranch: true, DefaultCommand: { } defaultCommand }
            ? base.GetOptions(model, defaultCommand)
            : base.GetOptions(model, command);
}
