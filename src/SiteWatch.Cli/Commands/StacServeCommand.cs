using Microsoft.Extensions.Hosting;
using SiteWatch.Server.Stac;

namespace SiteWatch.Cli.Commands;

public sealed class StacServeCommand : Command<StacServeCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<CATALOG>")]
        [Description("A static STAC catalog: its catalog.json or the folder holding it (e.g. demo-output/stac).")]
        public string Catalog { get; init; } = "";

        [CommandOption("--urls <URLS>")]
        [Description("Loopback addresses to listen on, ';'-separated (default http://127.0.0.1:8090).")]
        [DefaultValue("http://127.0.0.1:8090")]
        public string Urls { get; init; } = "http://127.0.0.1:8090";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var app = StacApiServer.Build(settings.Catalog, settings.Urls);
        app.StartAsync(cancellationToken).GetAwaiter().GetResult();
        Console.Error.WriteLine($"sitewatch: STAC API of {settings.Catalog} at {string.Join(", ", app.Urls)} (POST /search; Ctrl+C stops)");
        app.WaitForShutdownAsync(cancellationToken).GetAwaiter().GetResult();
        app.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        return 0;
    }
}
