using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Utilities;

namespace SiteWatch.Cluster;

/// <summary>What a client of the cluster (the web server) is told as it happens.</summary>
public interface IClusterObserver : IGrainObserver
{
    /// <summary>A silo stored new alerts of a site in the catalog (read them there: the catalog is the record).</summary>
    [OneWay]
    Task AlertsStored(long siteId);
}

/// <summary>
/// The cluster's notice board (one grain, key 0): silos say when they stored alerts, subscribed clients hear it at
/// once. Subscriptions lapse after <see cref="SubscriptionLife"/> unless renewed, so a client that went away is
/// forgotten, and when the board's silo dies the clients' next renewal subscribes them on its new activation.
/// </summary>
public interface IClusterEventsGrain : IGrainWithIntegerKey
{
    Task Subscribe(IClusterObserver observer);
    Task Unsubscribe(IClusterObserver observer);
    Task AlertsStored(long siteId);
}

public sealed class ClusterEventsGrain(ILogger<ClusterEventsGrain> log) : Grain, IClusterEventsGrain
{
    /// <summary>How long a subscription lasts without renewal; clients renew at a third of it.</summary>
    public static readonly TimeSpan SubscriptionLife = TimeSpan.FromMinutes(1);

    private readonly ObserverManager<IClusterObserver> _observers = new(SubscriptionLife, log);

    public Task Subscribe(IClusterObserver observer)
    {
        _observers.Subscribe(observer, observer);
        return Task.CompletedTask;
    }

    public Task Unsubscribe(IClusterObserver observer)
    {
        _observers.Unsubscribe(observer);
        return Task.CompletedTask;
    }

    public Task AlertsStored(long siteId) => _observers.Notify(o => o.AlertsStored(siteId));
}

/// <summary>How silos post to the notice board: never failing the work that stored the alerts.</summary>
public static class ClusterNotices
{
    public static async Task AlertsStoredAsync(IGrainFactory grains, long siteId, ILogger log)
    {
        try
        {
            await grains.GetGrain<IClusterEventsGrain>(0).AlertsStored(siteId);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            // Clients also poll the catalog, so a lost notice only delays an alert's way to the page.
            log.LogWarning("site {Site}: could not tell clients of new alerts: {Error}", siteId, e.Message);
        }
    }
}
