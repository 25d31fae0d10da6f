using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using SiteWatch.Cli;
using Spectre.Console.Cli;

namespace SiteWatch.Tests.Cli;

/// <summary>
/// Every command's help lists every option its settings declare, inherited ones included (a branch's shared settings
/// once went missing from `change detect --help`), and the root help lists each command once.
/// </summary>
public partial class HelpTests
{
    /// <summary>Each runnable command path (a branch's default command runs at the branch's path) and its settings type.</summary>
    private static List<(string[] Path, Type Settings)> Commands()
    {
        var (code, xml, err) = CliTests.Run(null, "cli", "xmldoc");
        Assert.True(code == 0, err);
        var model = XDocument.Parse(xml);
        var assembly = typeof(SiteWatchApp).Assembly;
        var result = new List<(string[], Type)>();
        foreach (var command in model.Descendants("Command").Where(c => c.Attribute("ClrType") is not null))
        {
            var path = command.AncestorsAndSelf("Command").Reverse()
                .Select(c => (string)c.Attribute("Name")!)
                .Where(n => n != "__default_command")
                .ToArray();
            if (path.FirstOrDefault() == "cli")
            {
                continue; // Spectre's own diagnostics branch
            }

            var settingsName = Regex.Replace((string)command.Attribute("Settings")!, @"\s+", "");
            var settings = assembly.GetType(settingsName) ?? throw new InvalidOperationException($"no type {settingsName}");
            result.Add((path, settings));
        }

        return result;
    }

    /// <summary>Long option names declared on the settings type and every base type.</summary>
    private static IEnumerable<string> DeclaredOptions(Type settings) =>
        settings.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => p.GetCustomAttribute<CommandOptionAttribute>())
            .Where(a => a is { IsHidden: false })
            .SelectMany(a => a!.LongNames.Select(n => "--" + n));

    [Fact]
    public void Every_commands_help_lists_every_option_its_settings_declare_including_inherited_ones()
    {
        var commands = Commands();
        Assert.Contains(commands, c => c.Path.SequenceEqual(["change", "detect"]));
        Assert.Contains(commands, c => c.Path.SequenceEqual(["change"]));
        var faults = new List<string>();
        foreach (var (path, settings) in commands)
        {
            var (code, help, err) = CliTests.Run(null, [.. path, "--help"]);
            Assert.True(code == 0, $"{string.Join(' ', path)} --help: {err}");
            var optionsSection = help[(help.IndexOf("OPTIONS:", StringComparison.Ordinal) + 1)..];
            var commandsAt = optionsSection.IndexOf("COMMANDS:", StringComparison.Ordinal);
            if (commandsAt >= 0)
            {
                optionsSection = optionsSection[..commandsAt];
            }

            var listed = OptionName().Matches(optionsSection).Select(m => m.Value).ToHashSet();
            foreach (var option in DeclaredOptions(settings))
            {
                if (!listed.Contains(option))
                {
                    faults.Add($"sitewatch {string.Join(' ', path)} --help does not list {option} ({settings.Name})");
                }
            }
        }

        Assert.True(faults.Count == 0, string.Join(Environment.NewLine, faults));
    }

    [Fact]
    public void Root_help_lists_each_command_once()
    {
        var (code, help, _) = CliTests.Run(null, "--help");
        Assert.Equal(0, code);
        var section = help[help.IndexOf("COMMANDS:", StringComparison.Ordinal)..];
        // Command lines are indented four spaces; wrapped descriptions further.
        var names = section.Split('\n').Skip(1)
            .Select(l => CommandLine().Match(l))
            .Where(m => m.Success)
            .Select(m => m.Groups[1].Value)
            .ToList();
        Assert.Contains("detect", names);
        Assert.Contains("change", names);
        Assert.Empty(names.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key));
    }

    [GeneratedRegex(@"^    (\S+)")]
    private static partial Regex CommandLine();

    [GeneratedRegex(@"--[a-z][a-z0-9-]*")]
    private static partial Regex OptionName();
}
