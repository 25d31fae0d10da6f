using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Ingest;

namespace SiteWatch.Video.Watch;

/// <summary>
/// Stores watch alerts in a site's catalog beside the alerts raised on its scenes (source "video"), with the snapshot
/// moved into the workspace in the same step as the row, and one outbox row per webhook of the site's alert rules
/// written in the same transaction (sent by <see cref="WatchDelivery"/> or 'sitewatch alerts deliver', signed, with
/// backoff). The key is the alert's recording-based key (content hash, zone, rule, track, media time), so watching
/// the same recording again stores nothing twice.
/// </summary>
public sealed class CatalogAlertSink : IAlertSink
{
    private readonly Workspace _workspace;
    private readonly Site _site;
    private readonly IReadOnlyList<DeliveryTarget> _targets;

    public CatalogAlertSink(Workspace workspace, string siteName)
    {
        _workspace = workspace;
        _site = workspace.Catalog.GetSite(siteName);
        workspace.EnsureWritable();
        Webhooks = workspace.Catalog.TryGetAlertRules(_site.Id) is { } stored
            ? AlertRuleSet.Parse(stored.Json, $"alert rules of site {_site.Name} (from {stored.SourcePath})").Webhooks
            : [];
        _targets = Webhooks.Select(w => new DeliveryTarget(w.Url, w.MaxAttempts)).ToList();
    }

    /// <summary>The site's webhooks (from its stored alert rules) every stored alert gets an outbox row for.</summary>
    public IReadOnlyList<WebhookConfig> Webhooks { get; }

    public Site Site => _site;

    /// <summary>Called after an alert was stored, to wake the delivery loop.</summary>
    public Action? OnStored { get; set; }

    public string Name => $"catalog {_workspace.Root} site {_site.Name}";

    /// <summary>Alerts stored by this sink (not counting ones already in the catalog).</summary>
    public int Stored { get; private set; }

    public Task DeliverAsync(AlertRecord alert, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var track = alert.Track ?? throw new ArgumentException($"alert {alert.Key}: not a video alert", nameof(alert));
        string? chipRelative = null;
        (string Staged, string Final)? chip = null;
        if (track.ChipPng is { } png)
        {
            chipRelative = Path.Combine(Workspace.SiteFolder("alerts", _site), $"video_{SceneIngestor.Slug(track.AlertId)}_{alert.RaisedUtc:yyyyMMddHHmmssfff}.png");
            var staged = _workspace.NewStagingPath(".png");
            File.WriteAllBytes(staged, png);
            chip = (staged, _workspace.Resolve(chipRelative));
        }
        var draft = alert.WithTrack(track with { Chip = chipRelative }) with { SiteId = _site.Id };
        try
        {
            if (_workspace.Catalog.CommitAlert(draft, _targets, chip) is not null)
            {
                Stored++;
                OnStored?.Invoke();
            }
        }
        finally
        {
            if (chip is { } c && File.Exists(c.Staged))
            {
                File.Delete(c.Staged); // already stored: the staged copy is not needed
            }
        }
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
