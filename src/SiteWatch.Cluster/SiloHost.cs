using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using SiteWatch.Core;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Cluster;

/// <summary>How one silo joins the cluster.</summary>
public sealed record SiloSettings
{
    public required string WorkspaceRoot { get; init; }
    public required string Name { get; init; }
    public int SiloPort { get; init; } = 11111;
    public int GatewayPort { get; init; } = 30000;
    /// <summary>The address other silos reach this one at; null: this machine's own (Orleans picks it).</summary>
    public IPAddress? Advertise { get; init; }
    /// <summary>How often each site's reminder asks whether a round is due.</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>Silos of one cluster share it; two clusters on one database keep apart by it.</summary>
    public string ClusterId { get; init; } = "sitewatch";

    /// <summary>Rounds this silo runs at once (raster work is CPU-bound); default half the cores, at least one.</summary>
    public int Rounds { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);
}

/// <summary>
/// A silo of the SiteWatch cluster: Orleans with ADO.NET membership and reminders in the workspace's PostgreSQL
/// catalog database, a grain per monitored site and per drone feed, and the same Core and Video workflows the CLI runs.
/// </summary>
public static class SiloHost
{
    public static async Task RunAsync(SiloSettings options, CancellationToken cancel)
    {
        string connection;
        // The silo sweeps once, at its start; its rounds open the workspace without the walk over the store.
        using (var workspace = Workspace.Open(options.WorkspaceRoot))
        {
            connection = workspace.Catalog.PostgresConnectionString
                ?? throw new SiteWatchException($"{workspace.Root}: a silo needs the workspace's catalog in PostgreSQL (sitewatch init --postgres), where the silos meet; this one is SQLite");
        }
        OrleansSchema.Install(connection);

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = ClusterConnection.ServiceId;
            });
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connection;
            });
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connection;
            });
            if (options.Advertise is { } address)
            {
                silo.ConfigureEndpoints(address, options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(address));
            }
            else
            {
                silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort);
            }
            silo.Configure<SiloOptions>(o => o.SiloName = options.Name);
            silo.Configure<ReminderOptions>(o =>
            {
                o.MinimumReminderPeriod = options.Heartbeat < o.MinimumReminderPeriod ? options.Heartbeat : o.MinimumReminderPeriod;
                // A silo that dies hands its sites to the others; they read their new reminders this often at the latest.
                o.RefreshReminderListPeriod = options.Heartbeat * 2;
            });
        });
        // Spare pool threads for Orleans' timers beside the rounds' blocking raster work.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 4 * Environment.ProcessorCount + options.Rounds), io);
        var context = new SiloContext(Path.GetFullPath(options.WorkspaceRoot), options.Name, options.Heartbeat, options.Rounds, cancel);
        builder.Services.AddSingleton(context);
        builder.Services.AddHostedService<WorkScheduler>();
        using var host = builder.Build();
        try
        {
            await host.RunAsync(cancel);
        }
        finally
        {
            context.Dispose();
        }
    }
}
