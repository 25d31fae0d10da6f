using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SiteWatch.Core;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Cluster;

/// <summary>
/// Every silo reads the catalog's standing work each heartbeat (sites' monitoring orders, drone feeds) and asks the
/// grains of new or changed items to make sure their reminder exists. Reminders persist, so this only matters for
/// items added since; removed ones stop on their grain's next tick.
/// </summary>
public sealed class WorkScheduler(IGrainFactory grains, SiloContext context, ILogger<WorkScheduler> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seenMonitors = new Dictionary<long, DateTime>();
        var seenFeeds = new Dictionary<long, DateTime>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                IReadOnlyList<Core.Monitoring.StoredMonitor> monitors;
                IReadOnlyList<Core.Monitoring.DroneFeed> feeds;
                using (var workspace = Workspace.Open(context.WorkspaceRoot, sweep: false))
                {
                    monitors = workspace.Catalog.ListMonitors();
                    feeds = workspace.Catalog.ListFeeds();
                }
                foreach (var monitor in monitors.Where(m => !seenMonitors.TryGetValue(m.SiteId, out var updated) || updated != m.UpdatedUtc))
                {
                    await grains.GetGrain<ISiteGrain>(monitor.SiteId).EnsureScheduled();
                    seenMonitors[monitor.SiteId] = monitor.UpdatedUtc;
                }
                foreach (var feed in feeds.Where(f => !seenFeeds.TryGetValue(f.Id, out var updated) || updated != f.UpdatedUtc))
                {
                    await grains.GetGrain<IFeedGrain>(feed.Id).EnsureWatched();
                    seenFeeds[feed.Id] = feed.UpdatedUtc;
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever one pass met (the catalog or the reminder table restarting, a grain call that failed in a
                // way Orleans cannot even carry back), the next heartbeat tries again: a background service that
                // throws stops its silo.
                log.LogWarning("standing work: {Error}; tried again in {Heartbeat}", e is SiteWatchException or OrleansException or TimeoutException
                    ? e.Message : $"{e.GetType().Name}: {e.Message}", context.Heartbeat);
            }
            try
            {
                await Task.Delay(context.Heartbeat, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
