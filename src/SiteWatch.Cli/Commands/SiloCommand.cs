using System.Net;
using SiteWatch.Cluster;

namespace SiteWatch.Cli.Commands;

public sealed class SiloCommand : AsyncCommand<SiloCommand.Settings>
{
    public sealed class Settings : WorkspaceSettings
    {
        [CommandOption("--name <NAME>")]
        [Description("This silo's name in logs (default: silo-PORT).")]
        public string? Name { get; init; }

        [CommandOption("--silo-port <PORT>")]
        [Description("Port other silos reach this one on (default 11111).")]
        [DefaultValue(11111)]
        public int SiloPort { get; init; } = 11111;

        [CommandOption("--gateway-port <PORT>")]
        [Description("Port clients reach the cluster on (default 30000).")]
        [DefaultValue(30000)]
        public int GatewayPort { get; init; } = 30000;

        [CommandOption("--advertise <IP>")]
        [Description("Address other silos reach this one at (default: this machine's; 127.0.0.1 for silos of one machine).")]
        public string? Advertise { get; init; }

        [CommandOption("--heartbeat <SECONDS>")]
        [Description("How often each monitored site asks whether a round is due (default 60; 1 to 3600).")]
        [DefaultValue(60.0)]
        public double Heartbeat { get; init; } = 60;

        [CommandOption("--rounds <N>")]
        [Description("Monitoring rounds this silo runs at once (default: half the cores, at least 1); raster work is CPU-bound.")]
        public int? Rounds { get; init; }

        [CommandOption("--cluster-id <ID>")]
        [Description("Silos with the same id form one cluster (default sitewatch).")]
        [DefaultValue("sitewatch")]
        public string ClusterId { get; init; } = "sitewatch";

        public override Spectre.Console.ValidationResult Validate()
        {
            if (SiloPort is < 1 or > 65535 || GatewayPort is < 1 or > 65535 || SiloPort == GatewayPort)
            {
                return Spectre.Console.ValidationResult.Error("--silo-port and --gateway-port must be two different ports from 1 to 65535");
            }
            if (Advertise is not null && !IPAddress.TryParse(Advertise, out _))
            {
                return Spectre.Console.ValidationResult.Error($"--advertise '{Advertise}' is not an IP address");
            }
            if (Rounds is < 1 or > 256)
            {
                return Spectre.Console.ValidationResult.Error("--rounds must lie between 1 and 256");
            }
            if (!(Heartbeat is >= 1 and <= 3600))
            {
                return Spectre.Console.ValidationResult.Error("--heartbeat must lie between 1 and 3600 seconds");
            }
            return Spectre.Console.ValidationResult.Success();
        }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var options = new SiloSettings
        {
            WorkspaceRoot = Core.Catalog.Workspace.ResolveDirectory(settings.Workspace),
            Name = settings.Name ?? $"silo-{settings.SiloPort}",
            SiloPort = settings.SiloPort,
            GatewayPort = settings.GatewayPort,
            Advertise = settings.Advertise is null ? null : IPAddress.Parse(settings.Advertise),
            Heartbeat = TimeSpan.FromSeconds(settings.Heartbeat),
            ClusterId = settings.ClusterId,
            Rounds = settings.Rounds ?? Math.Max(1, Environment.ProcessorCount / 2),
        };
        Output.Notice($"silo {options.Name}: joining cluster '{options.ClusterId}' of {options.WorkspaceRoot} (silo port {options.SiloPort}, gateway {options.GatewayPort}); Ctrl+C stops");
        await SiloHost.RunAsync(options, cancellationToken);
        return 0;
    }
}
