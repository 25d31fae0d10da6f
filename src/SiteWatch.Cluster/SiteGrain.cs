using Microsoft.Extensions.Logging;
using Orleans.Placement;
using SiteWatch.Core;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Monitoring;

namespace SiteWatch.Cluster;

/// <summary>One site of the cluster, keyed by the site's catalog id.</summary>
public interface ISiteGrain : IGrainWithIntegerKey
{
    /// <summary>Makes sure the site's heartbeat reminder exists (idempotent; any silo may ask).</summary>
    Task EnsureScheduled();
}

/// <summary>
/// Runs a site's monitoring order. A persistent reminder (in PostgreSQL) wakes the grain every heartbeat; each tick
/// asks Core whether a round is due (<see cref="SiteMonitor.RunScheduledAsync"/>) and runs it on the thread pool,
/// off the grain scheduler. Orleans keeps one activation per site, so rounds of a site never overlap; when its silo
/// dies, the reminder fires on another silo and the round that never recorded its end runs again there.
/// </summary>
/// <remarks>Placed by activation count, so sites (and their raster work) spread evenly over the silos.</remarks>
[ActivationCountBasedPlacement]
public sealed class SiteGrain(SiloContext context, IGrainFactory grains, ILogger<SiteGrain> log) : Grain, ISiteGrain, IRemindable
{
    private const string Heartbeat = "monitor";

    public async Task EnsureScheduled()
    {
        if (await Reminders.EnsureAsync(this, Heartbeat, context.Heartbeat))
        {
            log.LogInformation("site {Site}: monitoring scheduled (heartbeat {Heartbeat})", this.GetPrimaryKeyLong(), context.Heartbeat);
        }
    }

    /// <summary>The round running now, if any: a tick returns at once, so no tick waits on a long round and times out.</summary>
    private Task? _round;

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (_round is not { IsCompleted: false })
        {
            _round = RoundAndTidyAsync();
        }
        return Task.CompletedTask;
    }

    private async Task RoundAndTidyAsync()
    {
        var siteId = this.GetPrimaryKeyLong();
        // A long round keeps its activation: idle collection must not start a second one meanwhile.
        DelayDeactivation(TimeSpan.FromHours(12));
        var outcome = await Task.Run(() => RoundAsync(siteId));
        DelayDeactivation(TimeSpan.Zero);
        if (outcome == Outcome.NoOrder && await this.GetReminder(Heartbeat) is { } reminder)
        {
            // The order or the site was removed: the heartbeat stops, and the grain goes idle.
            await this.UnregisterReminder(reminder);
            log.LogInformation("site {Site}: no monitoring order any more; heartbeat stopped", siteId);
            DeactivateOnIdle();
        }
    }

    private enum Outcome { Ran, NotDue, NoOrder, Failed }

    private async Task<Outcome> RoundAsync(long siteId)
    {
        await context.RoundSlots.WaitAsync(context.Stopping);
        try
        {
            using var workspace = Workspace.Open(context.WorkspaceRoot, notice: line => log.LogInformation("{Line}", line), sweep: false);
            if (workspace.Catalog.TryGetMonitor(siteId) is null)
            {
                return Outcome.NoOrder;
            }
            var started = false;
            var report = await SiteMonitor.RunScheduledAsync(workspace, siteId, DateTime.UtcNow, context.Http, line =>
            {
                if (!started)
                {
                    started = true;
                    log.LogInformation("site {Site}: round started on silo {Silo}", siteId, context.SiloName);
                }
                log.LogInformation("site {Site}: {Line}", siteId, line);
            }, context.Stopping);
            if (report is null)
            {
                return Outcome.NotDue;
            }
            log.LogInformation("site {Site}: round ended on silo {Silo}: {Summary}", siteId, context.SiloName, report.Summary);
            if (report.AlertsRaised > 0)
            {
                await ClusterNotices.AlertsStoredAsync(grains, siteId, log);
            }
            return Outcome.Ran;
        }
        catch (SiteWatchException e)
        {
            // Retried with the order's backoff (or at the next heartbeat when even that could not be recorded).
            log.LogWarning("site {Site}: round failed: {Error}", siteId, e.Message);
            return Outcome.Failed;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A bug, not a user's fault: logged whole, and the silo keeps serving its other sites.
            log.LogError(e, "site {Site}: round failed unexpectedly", siteId);
            return Outcome.Failed;
        }
        finally
        {
            context.RoundSlots.Release();
        }
    }
}
