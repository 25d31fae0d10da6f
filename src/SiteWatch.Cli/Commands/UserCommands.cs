using System.ComponentModel;
using SiteWatch.Core;
using SiteWatch.Core.Catalog;
using SiteWatch.Server.Auth;
using Spectre.Console;
using Spectre.Console.Cli;

namespace SiteWatch.Cli.Commands;

public sealed class UserAddCommand : Command<UserAddCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("User name (no spaces).")]
        public string Name { get; init; } = "";

        [CommandOption("--role <ROLE>")]
        [Description("viewer (read), analyst (also create sites, upload scenes, run analyses) or admin (also users).")]
        [DefaultValue("viewer")]
        public string Role { get; init; } = "viewer";

        [CommandOption("--password-stdin")]
        [Description("Read the password from the first line of stdin (else one is generated and printed once).")]
        public bool PasswordStdin { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        string password;
        var generated = false;
        if (settings.PasswordStdin)
        {
            password = Console.In.ReadLine() ?? throw new SiteWatchException("--password-stdin: stdin is empty");
        }
        else
        {
            password = UserAccounts.GeneratePassword();
            generated = true;
        }
        using var workspace = settings.OpenWorkspace();
        workspace.EnsureWritable();
        var user = UserAccounts.Add(workspace.Catalog, settings.Name, settings.Role, password);
        if (settings.Json)
        {
            Output.WriteJson(new { id = user.Id, name = user.Name, role = user.Role, password = generated ? password : null });
            return 0;
        }
        AnsiConsole.MarkupLineInterpolated($"Added user [bold]{user.Name}[/] ({user.Role})");
        if (generated)
        {
            // Shown once; only its hash is stored.
            Console.Out.WriteLine($"  password  {password}");
        }
        return 0;
    }
}

public sealed class UserListCommand : Command<WorkspaceSettings>
{
    public override int Execute(CommandContext context, WorkspaceSettings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var users = workspace.Catalog.ListUsers();
        if (settings.Json)
        {
            Output.WriteJson(users.Select(u => new
            {
                id = u.Id,
                name = u.Name,
                role = u.Role,
                created_utc = u.CreatedUtc,
                api_keys = workspace.Catalog.ListApiKeys(u.Id).Select(k => new { prefix = k.Prefix, created_utc = k.CreatedUtc }),
            }).ToArray());
            return 0;
        }
        if (users.Count == 0)
        {
            AnsiConsole.MarkupLine("No users yet. Add one with [bold]sitewatch user add NAME --role admin[/].");
            return 0;
        }
        var table = new Table().AddColumns("Id", "Name", "Role", "API keys", "Created");
        foreach (var u in users)
        {
            var keys = workspace.Catalog.ListApiKeys(u.Id);
            table.AddRow(u.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(u.Name), u.Role,
                keys.Count == 0 ? "-" : Markup.Escape(string.Join(", ", keys.Select(k => k.Prefix + "..."))), Output.Date(u.CreatedUtc));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}

public sealed class UserKeyCommand : Command<UserKeyCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("The user the key acts as.")]
        public string Name { get; init; } = "";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        workspace.EnsureWritable();
        var user = workspace.Catalog.TryGetUser(settings.Name) ?? throw new SiteWatchException($"no user named '{settings.Name}'");
        var key = UserAccounts.NewApiKey(workspace.Catalog, user);
        if (settings.Json)
        {
            Output.WriteJson(new { user = user.Name, role = user.Role, api_key = key });
            return 0;
        }
        AnsiConsole.MarkupLineInterpolated($"New API key for [bold]{user.Name}[/] ({user.Role}); it is shown only now (stored as its SHA-256):");
        Console.Out.WriteLine(key);
        Console.Error.WriteLine("Send it as 'Authorization: Bearer KEY' or 'X-Api-Key: KEY'.");
        return 0;
    }
}
