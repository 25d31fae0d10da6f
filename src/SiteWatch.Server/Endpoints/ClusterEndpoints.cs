using System.Globalization;
using SiteWatch.Core.Alerts;
using SiteWatch.Server.Live;

namespace SiteWatch.Server.Endpoints;

/// <summary>
/// GET /api/cluster: the standing work of the workspace (drone feeds, monitoring orders) with who runs it and how it
/// last went, and, when the server is a client of the cluster, the silos its membership lists as active.
/// </summary>
internal static class ClusterEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/api/cluster", async (WorkspaceHost host, ServerSettings settings, ClusterLink link) =>
        {
            var (sites, feeds, monitors) = host.Use(w => (w.Catalog.ListSites().ToDictionary(s => s.Id, s => s.Name), w.Catalog.ListFeeds(), w.Catalog.ListMonitors()));
            IReadOnlyList<Cluster.SiloView>? silos = null;
            string? problem = null;
            if (link.Connection is { } connection)
            {
                try
                {
                    silos = await connection.SilosAsync();
                }
                catch (Exception e) when (e is OrleansException or TimeoutException)
                {
                    problem = e.Message;
                }
            }
            return Results.Json(new
            {
                cluster_id = settings.ClusterId,
                connected = silos is not null,
                problem,
                silos = silos?.Select(s => new { name = s.Name, address = s.Address, status = s.Status, started = Iso(s.StartedUtc), last_alive = Iso(s.LastAliveUtc) }),
                feeds = feeds.Select(f => new
                {
                    id = f.Id,
                    site_id = f.SiteId,
                    site = sites.GetValueOrDefault(f.SiteId),
                    name = f.Name,
                    source = SecretMask.Text(f.Source),
                    detector = f.Options.Detector.ToString().ToLowerInvariant(),
                    running_on = f.RunningOn,
                    started = f.StartedUtc is { } t ? Iso(t) : null,
                    last_note = f.LastNote,
                }),
                monitors = monitors.Select(m => new
                {
                    site_id = m.SiteId,
                    site = sites.GetValueOrDefault(m.SiteId),
                    source = m.Schedule.Source,
                    every_minutes = m.Schedule.Every.TotalMinutes,
                    last_round = m.LastRoundUtc is { } t ? Iso(t) : null,
                    last_summary = m.LastSummary,
                }),
            }, ServerApp.Json);
        }).WithTags("cluster").WithSummary("Standing work (drone feeds, monitoring orders) and the cluster's active silos");
    }

    private static string Iso(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
