using SiteWatch.Core.Catalog;
using SiteWatch.Server.Auth;

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
                api_keys = workspace.Catalog.ListApiKeys(u.Id).Select(k => new { id = k.Id, prefix = k.Prefix, created_utc = k.CreatedUtc, expires_utc = k.ExpiresUtc, revoked_utc = k.RevokedUtc }),
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
                keys.Count == 0 ? "-" : Markup.Escape(string.Join(", ", keys.Select(KeyText))), Output.Date(u.CreatedUtc));
        }
        AnsiConsole.Write(table);
        return 0;
    }

    private static string KeyText(ApiKeyRecord k) =>
        k.RevokedUtc is not null ? $"{k.Prefix}... (revoked)"
        : k.ExpiresUtc is { } e && e <= DateTime.UtcNow ? $"{k.Prefix}... (expired)"
        : k.ExpiresUtc is { } until ? $"{k.Prefix}... (until {Output.Date(until)})"
        : k.Prefix + "...";
}

public sealed class UserKeyCommand : Command<UserKeyCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("The user the key acts as.")]
        public string Name { get; init; } = "";

        [CommandOption("--expires-days <DAYS>")]
        [Description("The key stops working after this many days (default: until revoked).")]
        public double? ExpiresDays { get; init; }

        public override ValidationResult Validate() =>
            ExpiresDays is <= 0 or > 3650 ? ValidationResult.Error($"--expires-days {ExpiresDays}: give a number of days from 1 to 3650") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        workspace.EnsureWritable();
        var user = workspace.Catalog.TryGetUser(settings.Name) ?? throw new SiteWatchException($"no user named '{settings.Name}'");
        DateTime? expires = settings.ExpiresDays is { } days ? DateTime.UtcNow.AddDays(days) : null;
        var key = UserAccounts.NewApiKey(workspace.Catalog, user, expires);
        if (settings.Json)
        {
            Output.WriteJson(new { user = user.Name, role = user.Role, api_key = key, expires_utc = expires });
            return 0;
        }
        AnsiConsole.MarkupLineInterpolated($"New API key for [bold]{user.Name}[/] ({user.Role}); it is shown only now (stored as its SHA-256):");
        Console.Out.WriteLine(key);
        Console.Error.WriteLine("Send it as 'Authorization: Bearer KEY' or 'X-Api-Key: KEY'.");
        return 0;
    }
}

public sealed class UserKeyRevokeCommand : Command<UserKeyRevokeCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("The user whose key is revoked.")]
        public string Name { get; init; } = "";

        [CommandArgument(1, "[KEY]")]
        [Description("The key's id or prefix as 'user list' shows it (sw_xxxxxx), or the whole key.")]
        public string? Key { get; init; }

        [CommandOption("--all")]
        [Description("Revoke every key of the user.")]
        public bool All { get; init; }

        public override ValidationResult Validate() =>
            (Key is not null) == All ? ValidationResult.Error("give the key's id or prefix, or --all (not both)") : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        workspace.EnsureWritable();
        var user = workspace.Catalog.TryGetUser(settings.Name) ?? throw new SiteWatchException($"no user named '{settings.Name}'");
        var key = settings.Key;
        if (key is not null && key.Length > UserAccounts.ApiKeyPrefix.Length + 6 && key.StartsWith(UserAccounts.ApiKeyPrefix, StringComparison.Ordinal))
        {
            // A whole key: its prefix as stored.
            key = key[..(UserAccounts.ApiKeyPrefix.Length + 6)];
        }
        var revoked = workspace.Catalog.RevokeApiKeys(user.Id, settings.All ? null : key);
        if (revoked == 0 && !settings.All)
        {
            throw new SiteWatchException($"user '{user.Name}' has no usable API key '{settings.Key}' (see 'sitewatch user list')");
        }
        if (settings.Json)
        {
            Output.WriteJson(new { user = user.Name, revoked });
            return 0;
        }
        AnsiConsole.MarkupLineInterpolated($"Revoked {revoked} API key(s) of [bold]{user.Name}[/]; they stop working at once, also on a running server.");
        return 0;
    }
}

public sealed class UserDeleteCommand : Command<UserDeleteCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("The user to remove (with their API keys; their sessions end at their next request).")]
        public string Name { get; init; } = "";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        workspace.EnsureWritable();
        var user = workspace.Catalog.TryGetUser(settings.Name) ?? throw new SiteWatchException($"no user named '{settings.Name}'");
        workspace.Catalog.DeleteUser(user.Id);
        if (settings.Json)
        {
            Output.WriteJson(new { deleted = user.Name });
            return 0;
        }
        AnsiConsole.MarkupLineInterpolated($"Removed user [bold]{user.Name}[/] and their API keys.");
        return 0;
    }
}

public sealed class UserPasswordCommand : Command<UserPasswordCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("The user whose password changes; every session they signed in before ends.")]
        public string Name { get; init; } = "";

        [CommandOption("--password-stdin")]
        [Description("Read the new password from the first line of stdin (else one is generated and printed once).")]
        public bool PasswordStdin { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var generated = !settings.PasswordStdin;
        var password = generated
            ? UserAccounts.GeneratePassword()
            : Console.In.ReadLine() ?? throw new SiteWatchException("--password-stdin: stdin is empty");
        using var workspace = settings.OpenWorkspace();
        workspace.EnsureWritable();
        var user = workspace.Catalog.TryGetUser(settings.Name) ?? throw new SiteWatchException($"no user named '{settings.Name}'");
        UserAccounts.SetPassword(workspace.Catalog, user, password);
        if (settings.Json)
        {
            Output.WriteJson(new { user = user.Name, password = generated ? password : null });
            return 0;
        }
        AnsiConsole.MarkupLineInterpolated($"New password for [bold]{user.Name}[/]; their earlier sessions have ended.");
        if (generated)
        {
            Console.Out.WriteLine($"  password  {password}");
        }
        return 0;
    }
}
