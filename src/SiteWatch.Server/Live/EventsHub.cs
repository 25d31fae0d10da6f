using Microsoft.AspNetCore.SignalR;
using SiteWatch.Server.Endpoints;
using SiteWatch.Server.Jobs;

namespace SiteWatch.Server.Live;

/// <summary>
/// Live events for browsers and scripts (SignalR, /hubs/events; signed-in users only, like every route): a client
/// follows sites and receives "alert" (an alert stored by any process: `watch --site`, `alerts check`, a job) and
/// "job" (state and progress of background jobs on that site).
/// </summary>
public sealed class EventsHub(WorkspaceHost host) : Hub
{
    public const string Path = "/hubs/events";

    public static string SiteGroup(long siteId) => $"site-{siteId}";

    /// <summary>Starts sending this connection the events of a site; an unknown site is an error the caller sees.</summary>
    public async Task FollowSite(long siteId)
    {
        if (host.Use(w => w.Catalog.TryGetSiteById(siteId)) is null)
        {
            throw new HubException($"no site with id {siteId}");
        }
        await Groups.AddToGroupAsync(Context.ConnectionId, SiteGroup(siteId));
    }

    public Task UnfollowSite(long siteId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, SiteGroup(siteId));
}

/// <summary>
/// Pushes alerts as they are stored. Other processes write the catalog too, so the feed reads what is new since the
/// last alert it pushed (the alert id grows), every <see cref="ServerSettings.LivePollSeconds"/>, and at once when
/// woken (a silo of the cluster said it stored alerts).
/// </summary>
internal sealed class AlertFeed(WorkspaceHost host, IHubContext<EventsHub> hub, ServerSettings settings, ILogger<AlertFeed> logger) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>Looks now rather than at the next poll.</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken: one look reads everything new.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var last = host.Use(w => w.Catalog.LastAlertId());
        var poll = TimeSpan.FromSeconds(Math.Max(0.1, settings.LivePollSeconds));
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await _wake.WaitAsync(poll, stoppingToken);
                try
                {
                    foreach (var alert in host.Use(w => w.Catalog.AlertsAfter(last)))
                    {
                        await hub.Clients.Group(EventsHub.SiteGroup(alert.SiteId)).SendAsync("alert", Views.Alert(alert), stoppingToken);
                        last = alert.Id;
                    }
                }
                catch (Core.SiteWatchException e)
                {
                    // A busy or damaged catalog: the next look tries again; the feed never stops the server.
                    logger.LogWarning("live alert feed: {Message}", e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _wake.Dispose();
    }
}

/// <summary>Job state and progress for followers of the job's site; progress at most every half second per job.</summary>
internal sealed class JobEvents(IHubContext<EventsHub> hub)
{
    private readonly Dictionary<string, DateTime> _lastProgress = [];
    private readonly Lock _gate = new();

    public void Changed(Job job, bool progressOnly = false)
    {
        if (progressOnly)
        {
            lock (_gate)
            {
                var now = DateTime.UtcNow;
                if (_lastProgress.TryGetValue(job.Id, out var at) && now - at < TimeSpan.FromMilliseconds(500))
                {
                    return;
                }
                _lastProgress[job.Id] = now;
            }
        }
        else if (job.FinishedUtc is not null)
        {
            lock (_gate)
            {
                _lastProgress.Remove(job.Id);
            }
        }
        // Fire and forget: a slow client never holds up the job.
        _ = hub.Clients.Group(EventsHub.SiteGroup(job.SiteId)).SendAsync("job", job.View());
    }
}
