using System.Globalization;
using Microsoft.Extensions.Logging;
using Orleans.Placement;
using SiteWatch.Core;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Monitoring;
using SiteWatch.Video.Watch;

namespace SiteWatch.Cluster;

/// <summary>One drone feed of the cluster, keyed by the feed's catalog id.</summary>
public interface IFeedGrain : IGrainWithIntegerKey
{
    /// <summary>Makes sure the feed's heartbeat reminder exists and its watch runs (idempotent; any silo may ask).</summary>
    Task EnsureWatched();
}

/// <summary>
/// Owns a drone feed's watch pipeline (<see cref="DroneWatch"/>, the workflow `sitewatch watch` runs): started on
/// the thread pool, off the grain scheduler, and kept running. A persistent reminder wakes the grain every heartbeat
/// to restart a watch that ended, restart it with changed settings, or stop it when the feed was removed. When its
/// silo dies the reminder fires on another silo, which starts the watch there; the feed's lock (a PostgreSQL session
/// lock, gone with the dead silo's connection) keeps two silos from watching one feed.
/// </summary>
[ActivationCountBasedPlacement]
public sealed class FeedGrain(SiloContext context, IGrainFactory grains, ILogger<FeedGrain> log) : Grain, IFeedGrain, IRemindable
{
    private const string Heartbeat = "feed";
    private Task? _watch;
    private CancellationTokenSource? _stop;
    private DateTime _watching;

    public async Task EnsureWatched()
    {
        if (await Reminders.EnsureAsync(this, Heartbeat, context.Heartbeat))
        {
            log.LogInformation("feed {Feed}: watch scheduled (heartbeat {Heartbeat})", this.GetPrimaryKeyLong(), context.Heartbeat);
        }
        await TickAsync();
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => TickAsync();

    private async Task TickAsync()
    {
        var feedId = this.GetPrimaryKeyLong();
        DroneFeed? feed;
        try
        {
            feed = await Task.Run(() =>
            {
                using var workspace = Workspace.Open(context.WorkspaceRoot, sweep: false);
                return workspace.Catalog.TryGetFeed(feedId);
            });
        }
        catch (SiteWatchException e)
        {
            // The catalog is unreachable (a restart): a running watch goes on; the next heartbeat looks again.
            log.LogWarning("feed {Feed}: {Error}", feedId, e.Message);
            return;
        }
        if (feed is null)
        {
            await StopAsync();
            if (await this.GetReminder(Heartbeat) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
                log.LogInformation("feed {Feed}: removed; watch stopped", feedId);
            }
            DeactivateOnIdle();
            return;
        }
        if (_watch is { IsCompleted: false } && _watching == feed.UpdatedUtc)
        {
            return;
        }
        // Changed settings restart the watch; one that ended (a fault, the stream's decoder gone) starts again.
        await StopAsync();
        _stop = CancellationTokenSource.CreateLinkedTokenSource(context.Stopping);
        _watching = feed.UpdatedUtc;
        var token = _stop.Token;
        // A watch runs for days: idle collection must not end the activation under it.
        DelayDeactivation(TimeSpan.FromDays(3650));
        _watch = Task.Run(() => WatchAsync(feed, token));
    }

    private async Task StopAsync()
    {
        if (_stop is null)
        {
            return;
        }
        await _stop.CancelAsync();
        try
        {
            await _watch!;
        }
        catch (Exception e)
        {
            log.LogWarning("feed {Feed}: {Error}", this.GetPrimaryKeyLong(), e.Message);
        }
        _stop.Dispose();
        _stop = null;
        DelayDeactivation(TimeSpan.Zero);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await StopAsync();
        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    /// <summary>
    /// Watches the feed under its lock: one run per sortie (a live stream ends after seconds without a datagram), the
    /// next started at once so the next sortie's first frames are not lost; a run that fails leaves the restart to
    /// the next heartbeat.
    /// </summary>
    private async Task WatchAsync(DroneFeed feed, CancellationToken stop)
    {
        using var workspace = Workspace.Open(context.WorkspaceRoot, notice: line => log.LogInformation("feed {Feed}: {Line}", feed.Id, line), sweep: false);
        using var held = workspace.TryLockFeed(feed.Id);
        if (held is null)
        {
            log.LogInformation("feed {Feed}: watched by another silo", feed.Id);
            return;
        }
        var ended = true;
        while (ended && !stop.IsCancellationRequested)
        {
            var started = DateTime.UtcNow;
            string note;
            try
            {
                var site = workspace.Catalog.GetSite(feed.SiteId);
                workspace.Catalog.RecordFeedState(feed.Id, context.SiloName, started, "watching");
                log.LogInformation("feed {Feed}: watch started on silo {Silo}: {Source}", feed.Id, context.SiloName, SecretMask.Text(feed.Source));
                await using var watch = DroneWatch.Open(Request(feed, workspace, site.Name));
                // The factory given at construction: the watch runs off the grain's scheduler, where its own accessors refuse.
                watch.AlertStored = () => _ = ClusterNotices.AlertsStoredAsync(grains, feed.SiteId, log);
                var result = await watch.RunAsync(
                    onAlert: a => log.LogInformation("feed {Feed}: alert {Message}", feed.Id, a.Message),
                    cancel: stop);
                note = string.Create(CultureInfo.InvariantCulture,
                    $"{(stop.IsCancellationRequested ? "stopped" : "stream ended")}: {result.Summary.Frames} frames, {result.Summary.Alerts} alerts");
            }
            catch (SiteWatchException e)
            {
                // Retried at the next heartbeat (a missing model file, a catalog restarting).
                note = $"failed: {e.Message}";
                ended = false;
            }
            catch (OperationCanceledException)
            {
                note = "stopped";
            }
            catch (Exception e)
            {
                note = $"failed unexpectedly: {e.Message}";
                ended = false;
                log.LogError(e, "feed {Feed}: watch failed unexpectedly", feed.Id);
            }
            try
            {
                workspace.Catalog.RecordFeedState(feed.Id, null, started, note);
            }
            catch (SiteWatchException e)
            {
                log.LogWarning("feed {Feed}: {Error}", feed.Id, e.Message);
            }
            log.LogInformation("feed {Feed}: watch ended on silo {Silo}: {Note}", feed.Id, context.SiloName, note);
        }
    }

    private static DroneWatchRequest Request(DroneFeed feed, Workspace workspace, string site) => new()
    {
        Source = feed.Source,
        OutputDirectory = Path.Combine(workspace.Root, FeedFolder, feed.Id.ToString(CultureInfo.InvariantCulture)),
        Workspace = workspace,
        Site = site,
        Detector = feed.Options.Detector,
        ModelPath = feed.Options.Model,
        Every = feed.Options.Every,
        DemPath = feed.Options.Dem,
        Cot = feed.Options.Cot is { } cot ? CotSink.ParseEndpoint(cot) : null,
        CotOptions = new CotOptions { Type = feed.Options.CotType },
        Delivery = WatchDeliveryOptions.FromEnvironment(),
    };

    /// <summary>The workspace folder of the feeds' own outputs (alerts.jsonl, snapshots, the CoT outbox), one folder per feed.</summary>
    public const string FeedFolder = "feeds";
}
