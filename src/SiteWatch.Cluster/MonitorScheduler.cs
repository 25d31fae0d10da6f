using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SiteWatch.Core;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Cluster;

/// <summary>
/// Every silo reads the catalog's monitoring orders each heartbeat and asks the site grains of new or changed orders
/// to make sure their reminder exists. Reminders persist, so this only matters for orders added since; removed
/// orders stop on their grain's next tick.
/// </summary>
public sealed class MonitorScheduler(IGrainFactory grains, SiloContext context, ILogger<MonitorScheduler> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seen = new Dictionary<long, DateTime>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                IReadOnlyList<Core.Monitoring.StoredMonitor> monitors;
                using (var workspace = Workspace.Open(context.WorkspaceRoot, sweep: false))
                {
                    monitors = workspace.Catalog.ListMonitors();
                }
                foreach (var monitor in monitors.Where(m => !seen.TryGetValue(m.SiteId, out var updated) || updated != m.UpdatedUtc))
                {
                    await grains.GetGrain<ISiteGrain>(monitor.SiteId).EnsureScheduled();
                    seen[monitor.SiteId] = monitor.UpdatedUtc;
                }
            }
            catch (Exception e) when (e is SiteWatchException or OrleansException or TimeoutException)
            {
                log.LogWarning("monitoring orders: {Error}; tried again in {Heartbeat}", e.Message, context.Heartbeat);
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
