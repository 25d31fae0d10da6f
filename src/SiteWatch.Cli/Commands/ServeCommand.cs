using Microsoft.Extensions.Hosting;
using SiteWatch.Server;

namespace SiteWatch.Cli.Commands;

public sealed class ServeCommand : Command<ServeCommand.Settings>
{
    public const string DefaultUrls = "http://127.0.0.1:8080";

    public sealed class Settings : WorkspaceSettings
    {
        [CommandOption("--urls <URLS>")]
        [Description("Addresses to listen on, ';'-separated (default http://127.0.0.1:8080; ASPNETCORE_URLS or Kestrel settings also work).")]
        public string? Urls { get; init; }

        [CommandOption("--cluster <ID>")]
        [Description("Join the SiteWatch cluster of this id (the silos' --cluster-id, usually sitewatch) as a client: alerts the silos store reach browsers at once, and /api/cluster lists the silos. Needs the workspace's catalog in PostgreSQL. Same as Server:ClusterId.")]
        public string? Cluster { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var root = Core.Catalog.Workspace.ResolveDirectory(settings.Workspace);
        Serve(root, settings.Urls, cancellationToken, cluster: settings.Cluster);
        return 0;
    }

    /// <summary>
    /// The built web UI: web/dist of the source tree this binary was built in (found upwards from the binary), or a
    /// wwwroot folder beside it (a published copy). Null when there is none.
    /// </summary>
    internal static string? FindWebUi(string start)
    {
        var beside = Path.Combine(start, "wwwroot");
        if (File.Exists(Path.Combine(beside, "index.html")))
        {
            return beside;
        }
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var dist = Path.Combine(dir.FullName, "web", "dist");
            if (File.Exists(Path.Combine(dist, "index.html")))
            {
                return dist;
            }
        }
        return null;
    }

    /// <summary>Serves the workspace until Ctrl+C or SIGTERM (requests in flight finish; background jobs are cancelled).</summary>
    internal static void Serve(string workspace, string? urls, CancellationToken cancellationToken, string? banner = null, string? cluster = null)
    {
        var app = ServerApp.Build(new ServeOptions(workspace, urls ?? (Environment.GetEnvironmentVariable("ASPNETCORE_URLS") is { Length: > 0 } ? null : DefaultUrls))
        {
            DefaultWebRoot = FindWebUi(AppContext.BaseDirectory),
            Settings = cluster is null ? new Dictionary<string, string?>() : new Dictionary<string, string?> { ["Server:ClusterId"] = cluster },
        });
        var users = app.Services.GetService(typeof(WorkspaceHost)) is WorkspaceHost host ? host.Use(w => w.Catalog.ListUsers().Count) : 0;
        app.StartAsync(cancellationToken).GetAwaiter().GetResult();
        var webUi = app.Services.GetService(typeof(ServerSettings)) is ServerSettings { WebRoot: not null } ? "web UI at /, " : "";
        Console.Error.WriteLine($"sitewatch: serving {workspace} at {string.Join(", ", app.Urls)} ({webUi}API docs at /docs; Ctrl+C stops)");
        if (banner is not null)
        {
            AnsiConsole.WriteLine(banner);
        }
        if (users == 0)
        {
            Output.Notice("the workspace has no users yet, so nobody can sign in; create one with 'sitewatch user add NAME --role admin'");
        }
        if (app.Services.GetService(typeof(ServerSettings)) is ServerSettings { WebRoot: null })
        {
            Output.Notice("no web UI found (build it with 'npm ci && npm run build' in web/, or set Server:WebRoot); the API is served alone");
        }
        app.WaitForShutdownAsync(cancellationToken).GetAwaiter().GetResult();
        app.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        ((IAsyncDisposable)app).DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
