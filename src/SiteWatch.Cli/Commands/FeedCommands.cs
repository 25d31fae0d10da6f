using SiteWatch.Core.Catalog;
using SiteWatch.Core.Monitoring;
using SiteWatch.Video.Frames;
using SiteWatch.Video.Watch;

namespace SiteWatch.Cli.Commands;

/// <summary>`sitewatch feed add NAME udp://...`: a site's standing drone feed, watched by the cluster's silos.</summary>
public sealed class FeedAddCommand : Command<FeedAddCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("The feed's name, unique within its site (e.g. ridge-east). Adding a name again replaces that feed's settings; its silo restarts it.")]
        public string Name { get; init; } = "";

        [CommandArgument(1, "<SOURCE>")]
        [Description("The live stream: udp://ADDRESS:PORT (an address of the silos' machines, or a multicast group they join), with ?from= to limit senders as in 'watch'.")]
        public string Source { get; init; } = "";

        [CommandOption("-s|--site <NAME>")]
        [Description("The site whose stored watch zones the feed is watched against and whose catalog keeps its alerts (with the site's webhooks).")]
        public string Site { get; init; } = "";

        [CommandOption("--zones <FILE>")]
        [Description("Store this zones file (GeoJSON, as 'watch --zones' reads it) as the site's watch zones, replacing the stored ones; without it the site must have zones already.")]
        public string? Zones { get; init; }

        [CommandOption("--detector <KIND>")]
        [Description("model (the ONNX detector, the default when one is available) or vmti (the stream's ST 0903 VMTI targets).")]
        public string? Detector { get; init; }

        [CommandOption("--model <FILE>")]
        [Description("ONNX object detector every silo can read (default: the detector shipped with SiteWatch).")]
        public string? Model { get; init; }

        [CommandOption("--every <N>")]
        [Description("Detect on every Nth frame. Default 6 for a model, 1 for vmti.")]
        public int? Every { get; init; }

        [CommandOption("--dem <FILE>")]
        [Description("Terrain model every silo can read (any GDAL raster, heights above MSL).")]
        public string? Dem { get; init; }

        [CommandOption("--cot <URI>")]
        [Description("Also send the feed's alerts as Cursor-on-Target events: udp://HOST:PORT or tcp://HOST:PORT.")]
        public string? Cot { get; init; }

        [CommandOption("--cot-type <TYPE>")]
        [Description("CoT type of alert events. Default a-u-G.")]
        public string CotType { get; init; } = "a-u-G";

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Site))
            {
                return ValidationResult.Error("--site NAME is required");
            }
            if (!VideoSource.IsLive(Source))
            {
                return ValidationResult.Error($"{Source}: a feed is a live stream, udp://ADDRESS:PORT (watch a file with 'sitewatch watch')");
            }
            return WatchChoices.Check(Every, Detector, Model, Cot);
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var site = workspace.Catalog.GetSite(settings.Site);
        string? zones = null;
        if (settings.Zones is { } zonesFile)
        {
            // The same reader `watch --zones` uses: what is stored is what the feed's watch accepts.
            WatchZoneFile.Load(zonesFile);
            zones = File.ReadAllText(zonesFile);
        }
        else if (workspace.Catalog.TryGetWatchZones(site.Id) is null)
        {
            throw new SiteWatchException($"site {site.Name} has no watch zones, which a feed is watched against: give --zones FILE or add zones (POST /api/sites/{site.Id}/zones)");
        }
        // Silos start in other folders (and on other machines): files are named by their full path, and must exist.
        static string? Full(string? path) => path is null ? null
            : File.Exists(path) ? Path.GetFullPath(path) : throw new SiteWatchException($"{path}: file not found");
        var options = new FeedOptions
        {
            Detector = WatchChoices.Detector(settings.Detector),
            Model = Full(settings.Model),
            Every = settings.Every,
            Dem = Full(settings.Dem),
            Cot = settings.Cot is { } cot ? CotSink.ParseEndpoint(cot).GetLeftPart(UriPartial.Authority) : null,
            CotType = settings.CotType,
        };
        var feed = workspace.Catalog.SaveFeed(site.Id, settings.Name.Trim(), settings.Source, options,
            zones is null ? null : (zones, Path.GetFullPath(settings.Zones!)));
        if (workspace.Catalog.Engine == CatalogEngine.Sqlite)
        {
            // Stored all the same, but nothing watches it here: silos need the catalog in PostgreSQL.
            Output.Notice($"this workspace's catalog is SQLite, and silos meet in PostgreSQL (sitewatch init --postgres): on one machine, watch the stream with 'sitewatch watch {Core.Alerts.SecretMask.Text(feed.Source)} --site {site.Name}'");
        }
        if (settings.Json)
        {
            Output.WriteJson(FeedViews.Json(feed, site.Name));
            return 0;
        }
        Output.Notice($"site {site.Name}: feed {feed.Name} (#{feed.Id}) stored: {Core.Alerts.SecretMask.Text(feed.Source)}; the cluster's silos watch it ('sitewatch silo')");
        return 0;
    }
}

/// <summary>`sitewatch feed remove NAME --site S`.</summary>
public sealed class FeedRemoveCommand : Command<FeedRemoveCommand.Settings>
{
    public sealed class Settings : SiteSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("The feed to remove.")]
        public string Name { get; init; } = "";
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var site = workspace.Catalog.GetSite(settings.Site);
        if (!workspace.Catalog.RemoveFeed(site.Id, settings.Name.Trim()))
        {
            throw new SiteWatchException($"site {site.Name} has no feed named '{settings.Name}'");
        }
        Output.Notice($"site {site.Name}: feed {settings.Name} removed; its silo stops watching it at its next heartbeat (alerts and recordings stay)");
        return 0;
    }
}

/// <summary>`sitewatch feed list`: every site's feeds, who watches them, and how their last run went.</summary>
public sealed class FeedListCommand : Command<WorkspaceSettings>
{
    public override int Execute(CommandContext context, WorkspaceSettings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var names = workspace.Catalog.ListSites().ToDictionary(s => s.Id, s => s.Name);
        var feeds = workspace.Catalog.ListFeeds();
        if (settings.Json)
        {
            Output.WriteJson(feeds.Select(f => FeedViews.Json(f, names.GetValueOrDefault(f.SiteId))).ToArray());
            return 0;
        }
        var table = new Table().AddColumns("Site", "Feed", "Source", "Detector", "Watched on", "Since (UTC)", "Last note");
        foreach (var f in feeds)
        {
            table.AddRow(Markup.Escape(names.GetValueOrDefault(f.SiteId) ?? $"#{f.SiteId}"), Markup.Escape(f.Name), Markup.Escape(Core.Alerts.SecretMask.Text(f.Source)),
                f.Options.Detector.ToString().ToLowerInvariant(), Markup.Escape(f.RunningOn ?? "-"), f.StartedUtc is { } t && f.RunningOn is not null ? Output.Date(t) : "-",
                Markup.Escape(f.LastNote ?? "-"));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}

internal static class FeedViews
{
    public static object Json(DroneFeed f, string? site) => new
    {
        id = f.Id,
        site,
        name = f.Name,
        source = Core.Alerts.SecretMask.Text(f.Source),
        detector = f.Options.Detector.ToString().ToLowerInvariant(),
        model = f.Options.Model,
        every = f.Options.Every,
        dem = f.Options.Dem,
        cot = f.Options.Cot,
        updated = f.UpdatedUtc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        running_on = f.RunningOn,
        started = f.StartedUtc?.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        last_note = f.LastNote,
    };
}
