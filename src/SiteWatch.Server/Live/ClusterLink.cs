using SiteWatch.Cluster;

namespace SiteWatch.Server.Live;

/// <summary>
/// The server's place in the cluster (<see cref="ServerSettings.ClusterId"/>): an Orleans client, connected in the
/// background (the server serves before and without it) and again after the cluster went away, subscribed to the
/// cluster's notice board so an alert a silo stores reaches the browsers at once instead of at the next poll.
/// </summary>
internal sealed class ClusterLink(WorkspaceHost host, ServerSettings settings, AlertFeed alerts, ILogger<ClusterLink> log) : BackgroundService, IClusterObserver
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(5);

    /// <summary>The connection while there is one.</summary>
    public ClusterConnection? Connection { get; private set; }

    public Task AlertsStored(long siteId)
    {
        alerts.Wake();
        return Task.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.ClusterId is not { Length: > 0 } clusterId)
        {
            return;
        }
        // A SQLite workspace with a cluster id is refused when the server is built.
        var database = host.Use(w => w.Catalog.PostgresConnectionString)!;
        var told = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await ClusterConnection.ConnectAsync(database, clusterId, stoppingToken);
                var self = connection.Client.CreateObjectReference<IClusterObserver>(this);
                var board = connection.Client.GetGrain<IClusterEventsGrain>(0);
                Connection = connection;
                told = false;
                log.LogInformation("cluster {Cluster}: joined as a client", clusterId);
                try
                {
                    // Renewed well within its life, so a subscription lost with the board's silo comes back soon.
                    while (!stoppingToken.IsCancellationRequested)
                    {
                        await board.Subscribe(self);
                        await Task.Delay(ClusterEventsGrain.SubscriptionLife / 3, stoppingToken);
                    }
                }
                finally
                {
                    Connection = null;
                    connection.Client.DeleteObjectReference<IClusterObserver>(self);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is OrleansException or TimeoutException or Core.SiteWatchException or InvalidOperationException)
            {
                // No silo up yet, or the cluster went away: alerts still arrive by polling the catalog meanwhile.
                if (!told)
                {
                    log.LogWarning("cluster {Cluster}: not connected ({Error}); trying again every {Retry} s", clusterId, e.Message, Retry.TotalSeconds);
                    told = true;
                }
            }
            try
            {
                await Task.Delay(Retry, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
