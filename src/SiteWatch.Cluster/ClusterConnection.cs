using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Runtime;

namespace SiteWatch.Cluster;

/// <summary>One silo of the cluster as a client sees it.</summary>
public sealed record SiloView(string Name, string Address, string Status, DateTime StartedUtc, DateTime LastAliveUtc);

/// <summary>
/// A client's link to the cluster (the web server's): an Orleans client in a host of its own, so the process that
/// holds it starts and serves whether or not a silo is up, and connects (or reconnects) when one is.
/// </summary>
public sealed class ClusterConnection : IAsyncDisposable
{
    /// <summary>Every silo and client of SiteWatch is of this Orleans service.</summary>
    public const string ServiceId = "sitewatch";

    private readonly IHost _host;

    private ClusterConnection(IHost host, string clusterId)
    {
        _host = host;
        ClusterId = clusterId;
        Client = host.Services.GetRequiredService<IClusterClient>();
    }

    public IClusterClient Client { get; }
    public string ClusterId { get; }

    /// <summary>Connects through the gateways the cluster's membership table (in the catalog's PostgreSQL) lists; throws when none answers.</summary>
    public static async Task<ClusterConnection> ConnectAsync(string connectionString, string clusterId, CancellationToken cancel)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = ServiceId;
            });
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            });
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancel);
            return new ClusterConnection(host, clusterId);
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>The silos the cluster's membership lists as active.</summary>
    public async Task<IReadOnlyList<SiloView>> SilosAsync()
    {
        var hosts = await Client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
        return hosts.Select(h => new SiloView(h.SiloName, h.SiloAddress.Endpoint.ToString(), h.Status.ToString().ToLowerInvariant(),
            h.StartTime.ToUniversalTime(), h.IAmAliveTime.ToUniversalTime())).OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is OrleansException or OperationCanceledException)
        {
            // A cluster already gone: nothing to close politely.
        }
        _host.Dispose();
    }
}
