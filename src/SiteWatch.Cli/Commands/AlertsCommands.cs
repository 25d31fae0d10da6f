using System.Text.Json;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Cli.Commands;

public sealed class AlertsListCommand : Command<SiteSettings>
{
    public override int Execute(CommandContext context, SiteSettings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var site = workspace.Catalog.GetSite(settings.Site);
        var alerts = workspace.Catalog.ListAlerts(site.Id);
        var deliveries = workspace.Catalog.ListDeliveries(site.Id).ToLookup(d => d.AlertId ?? 0);
        if (settings.Json)
        {
            Output.WriteJson(alerts.Select(a => AlertView(a, deliveries[a.Id])).ToArray());
            return 0;
        }
        AlertsOutput.PrintAlerts(site, alerts, deliveries);
        return 0;
    }

    internal static object AlertView(AlertRecord a, IEnumerable<OutboxRow> deliveries) => new
    {
        id = a.Id,
        source = a.Source,
        rule = a.RuleName,
        kind = a.Kind,
        severity = a.Severity,
        observed_utc = a.ObservedUtc,
        raised_utc = a.RaisedUtc,
        message = a.Message,
        acknowledged = a.Acknowledged,
        evidence = JsonDocument.Parse(a.Evidence).RootElement,
        geometry = a.GeometryGeoJson is null ? (JsonElement?)null : JsonDocument.Parse(a.GeometryGeoJson).RootElement,
        deliveries = deliveries.Select(DeliveryView).ToArray(),
    };

    /// <summary>An outbox row, a site's or a watch's own: where to, how it went (payload left out).</summary>
    internal static object DeliveryView(OutboxRow d) => new
    {
        id = d.Id,
        alert_id = d.AlertId,
        alert_uid = d.AlertUid,
        target = SecretMask.Url(d.Target),
        state = d.State,
        attempts = d.Attempts,
        max_attempts = d.MaxAttempts,
        next_attempt_utc = d.State == DeliveryState.Pending ? d.NextAttemptUtc : (DateTime?)null,
        last_error = d.LastError is null ? null : SecretMask.Text(d.LastError),
        delivered_utc = d.DeliveredUtc,
    };
}

public sealed class AlertsRulesCommand : Command<AlertsRulesCommand.Settings>
{
    public sealed class Settings : SiteSettings
    {
        [CommandOption("-f|--file <RULES.json>")]
        // Descriptions are console markup: brackets are doubled to be shown as written.
        [Description("Rules file: {\"rules\": [[...]], \"webhooks\": [[...]]}; comments allowed. Without it, shows the stored rules.")]
        public string? File { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var site = workspace.Catalog.GetSite(settings.Site);
        var rules = settings.File is { } file ? AlertWorkflow.StoreRules(workspace, site.Name, file) : AlertWorkflow.LoadRules(workspace, site);
        if (settings.Json)
        {
            Output.WriteJson(new
            {
                site = site.Name,
                stored_from = workspace.Catalog.TryGetAlertRules(site.Id)?.SourcePath is { } from ? SecretMask.Text(from) : null,
                rules = rules.Rules.Select(r => new { name = r.Name, kind = r.Kind, severity = r.Severity, description = AlertRuleSet.Describe(r) }).ToArray(),
                webhooks = rules.Webhooks.Select(w => new { url = SecretMask.Url(w.Url), signed = w.Secret is not null, max_attempts = w.MaxAttempts }).ToArray(),
            });
            return 0;
        }
        var table = new Table().Title($"Alert rules of {Markup.Escape(site.Name)}").AddColumns("#", "Name", "Kind", "Severity", "Fires when");
        for (var i = 0; i < rules.Rules.Count; i++)
        {
            var r = rules.Rules[i];
            table.AddRow(i.ToString(CultureInfo.InvariantCulture), Markup.Escape(r.Name), r.Kind, r.Severity, Markup.Escape(AlertRuleSet.Describe(r)));
        }
        AnsiConsole.Write(table);
        foreach (var w in rules.Webhooks)
        {
            AnsiConsole.MarkupLineInterpolated($"webhook {SecretMask.Url(w.Url)} ({(w.Secret is null ? "unsigned" : "HMAC-signed")}, up to {w.MaxAttempts} attempts)");
        }
        if (settings.File is not null)
        {
            AnsiConsole.MarkupLineInterpolated($"Stored. Evaluate with: sitewatch alerts check --site {site.Name}");
        }
        return 0;
    }
}

public sealed class AlertsCheckCommand : Command<SiteSettings>
{
    public override int Execute(CommandContext context, SiteSettings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var result = Output.WithProgress(settings.Json, "Checking alert rules",
            progress => AlertWorkflow.Check(workspace, settings.Site, DateTime.UtcNow, null, progress, cancellationToken));
        var site = result.Timeline.Site;
        if (settings.Json)
        {
            var deliveries = workspace.Catalog.ListDeliveries(site.Id).ToLookup(d => d.AlertId ?? 0);
            Output.WriteJson(new
            {
                site = site.Name,
                raised = result.Raised.Select(a => AlertsListCommand.AlertView(a, deliveries[a.Id])).ToArray(),
                already_stored = result.AlreadyStored,
                delivery = AlertsOutput.ReportView(result.Delivery),
                notes = result.Timeline.Notes,
            });
            return 0;
        }
        AlertsOutput.PrintRaised(site, result);
        return 0;
    }
}

public sealed class AlertsDeliverCommand : Command<AlertsDeliverCommand.Settings>
{
    public sealed class Settings : SiteSettings
    {
        [CommandOption("--outbox <FILE>")]
        [Description("Send what a watch left pending in its outbox file (OUT/outbox.db: --webhook and --cot deliveries) instead of a site's deliveries; webhook POSTs are signed with SITEWATCH_WEBHOOK_SECRET when it is set.")]
        public string? Outbox { get; init; }

        public override ValidationResult Validate() =>
            Outbox is null ? base.Validate()
            : string.IsNullOrWhiteSpace(Site) ? ValidationResult.Success() : ValidationResult.Error("--outbox and --site exclude each other");
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (settings.Outbox is { } file)
        {
            return DeliverOutbox(file, settings.Json, cancellationToken);
        }
        using var workspace = settings.OpenWorkspace();
        var report = AlertWorkflow.Deliver(workspace, settings.Site, DateTime.UtcNow, null, cancellationToken);
        if (settings.Json)
        {
            Output.WriteJson(AlertsOutput.ReportView(report));
            return 0;
        }
        AlertsOutput.PrintDelivery(report);
        return 0;
    }

    private static int DeliverOutbox(string file, bool json, CancellationToken cancel)
    {
        using var outbox = LocalOutbox.Open(file, create: false);
        var options = SiteWatch.Video.Watch.WatchDeliveryOptions.FromEnvironment();
        var sender = new SiteWatch.Video.Watch.OutboxSender(options);
        DeliveryRoundResult report;
        try
        {
            report = OutboxDelivery.DeliverDueAsync(outbox, sender.SendAsync, DateTime.UtcNow, options.Retry, cancel).GetAwaiter().GetResult();
        }
        finally
        {
            sender.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        var counts = outbox.Counts();
        if (json)
        {
            var view = AlertsOutput.ReportView(report);
            view["outbox"] = outbox.Path;
            view["targets"] = Views.Element(counts.Select(c => new { target = SecretMask.Url(c.Target), pending = c.Pending, delivered = c.Delivered, failed = c.Failed }).ToArray());
            Output.WriteJson(view);
            return 0;
        }
        AnsiConsole.MarkupLineInterpolated($"{outbox.Path}:");
        AlertsOutput.PrintDelivery(report);
        foreach (var c in counts)
        {
            AnsiConsole.MarkupLineInterpolated($"  {SecretMask.Url(c.Target)}: {c.Delivered} delivered, {c.Pending} pending, {c.Failed} failed");
        }
        return 0;
    }
}

public sealed class AlertsAckCommand : Command<AlertsAckCommand.Settings>
{
    public sealed class Settings : SiteSettings
    {
        [CommandArgument(0, "<ID>")]
        [Description("Alert id (from 'alerts list').")]
        public long Id { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var workspace = settings.OpenWorkspace();
        var site = workspace.Catalog.GetSite(settings.Site);
        workspace.EnsureWritable();
        workspace.Catalog.AcknowledgeAlert(site.Id, settings.Id);
        if (settings.Json)
        {
            Output.WriteJson(new { id = settings.Id, acknowledged = true });
        }
        else
        {
            AnsiConsole.MarkupLineInterpolated($"Alert {settings.Id} acknowledged.");
        }
        return 0;
    }
}

internal static class AlertsOutput
{
    /// <summary>What a delivery round did, the same for a site's outbox and a watch's own.</summary>
    public static Dictionary<string, object?> ReportView(DeliveryRoundResult r) => new()
    {
        ["delivered"] = r.Delivered,
        ["retrying"] = r.Retrying,
        ["failed"] = r.Failed,
        ["attempts"] = r.Attempted.Select(AlertsListCommand.DeliveryView).ToArray(),
        ["dropped"] = r.Dropped,
    };

    public static void PrintAlerts(Site site, IReadOnlyList<AlertRecord> alerts, ILookup<long, OutboxRow> deliveries)
    {
        if (alerts.Count == 0)
        {
            AnsiConsole.MarkupLineInterpolated($"No alerts at {site.Name}. Store rules with 'sitewatch alerts rules --site {site.Name} --file rules.json', then run 'sitewatch alerts check --site {site.Name}'.");
            return;
        }
        var table = new Table().Title($"Alerts at {Markup.Escape(site.Name)}").AddColumns("Id", "Observed", "Severity", "Rule", "Message", "Delivery");
        foreach (var a in alerts)
        {
            var ds = deliveries[a.Id].ToList();
            var delivery = ds.Count == 0 ? "-" : string.Join(", ", ds.GroupBy(d => d.State).Select(g => $"{g.Count()} {g.Key}"));
            var severity = a.Severity switch { "critical" => "[bold red]critical[/]", "warning" => "[yellow]warning[/]", _ => a.Severity };
            table.AddRow(a.Id.ToString(CultureInfo.InvariantCulture) + (a.Acknowledged ? " ✓" : ""), Output.Date(a.ObservedUtc), severity,
                Markup.Escape(a.RuleName), Markup.Escape(a.Message), Markup.Escape(delivery));
        }
        AnsiConsole.Write(table);
    }

    public static void PrintRaised(Site site, AlertCheckResult result)
    {
        AnsiConsole.MarkupLineInterpolated($"{result.Raised.Count} new alert(s) at {site.Name}; {result.AlreadyStored} already stored.");
        foreach (var a in result.Raised.OrderBy(a => a.ObservedUtc))
        {
            AnsiConsole.MarkupLineInterpolated($"  [bold]{a.ObservedUtc:yyyy-MM-dd}[/] {a.RuleName}: {a.Message}");
        }
        foreach (var note in result.Timeline.Notes)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]note:[/] {note}");
        }
        PrintDelivery(result.Delivery);
    }

    public static void PrintDelivery(DeliveryRoundResult r)
    {
        if (r.Attempted.Count == 0)
        {
            AnsiConsole.MarkupLine("No deliveries due.");
            return;
        }
        AnsiConsole.MarkupLineInterpolated($"Deliveries: {r.Delivered} delivered, {r.Retrying} to retry, {r.Failed} failed for good.");
        foreach (var d in r.Attempted.Where(d => d.State != DeliveryState.Delivered))
        {
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"  alert {(d.AlertId is { } id ? id.ToString(CultureInfo.InvariantCulture) : d.AlertUid)} -> {SecretMask.Url(d.Target)}: {SecretMask.Text(d.LastError)} (attempt {d.Attempts} of {d.MaxAttempts}{(d.State == DeliveryState.Pending ? $", next at {d.NextAttemptUtc:yyyy-MM-dd HH:mm:ss}Z" : ", failed")})");
        }
    }
}
