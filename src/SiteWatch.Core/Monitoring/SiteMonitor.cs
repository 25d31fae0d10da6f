using System.Globalization;
using System.Text.Json.Nodes;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Ingest;
using SiteWatch.Core.Workflows;

namespace SiteWatch.Core.Monitoring;

/// <summary>How a site is monitored: where to search, what to download, which steps follow each new scene.</summary>
public sealed record MonitorOptions
{
    /// <summary>A STAC API landing page, or a static catalog / collection (URL or local path).</summary>
    public required string Source { get; init; }
    public IReadOnlyList<string> Collections { get; init; } = [];
    public double? MaxCloudCover { get; init; }
    /// <summary>Only scenes acquired from this time on; null: every date (items already stored are known by their id and skipped).</summary>
    public DateTime? FromUtc { get; init; }
    public DateTime? ToUtc { get; init; }
    /// <summary>The asset to ingest; null: the first GeoTIFF with role data (else named visual, image or data).</summary>
    public string? Asset { get; init; }
    /// <summary>Largest asset downloaded, in bytes.</summary>
    public long MaxDownloadBytes { get; init; } = 4L << 30;
    public bool Change { get; init; } = true;
    public SiteChangeOptions ChangeOptions { get; init; } = new();
    public bool Detect { get; init; } = true;
    public SiteDetectionOptions DetectionOptions { get; init; } = new();
    public bool Alerts { get; init; } = true;
    public int MaxItems { get; init; } = 2000;
}

/// <summary>What happened to one found item.</summary>
public sealed record MonitoredScene(string ItemId, string SourceKey, DateTime AcquiredUtc, long? SceneId, bool New, long? ChangeRunId, string? Problem);

/// <summary>One monitoring round of a site.</summary>
public sealed record MonitorReport(string Site, string Source, int ItemsFound, IReadOnlyList<MonitoredScene> Scenes, IReadOnlyList<string> Skipped,
    int AlertsRaised, IReadOnlyList<string> Notes)
{
    public int NewScenes => Scenes.Count(s => s.New);
    public int Failed => Scenes.Count(s => s.Problem is not null);

    /// <summary>One line for logs and the stored order's last round.</summary>
    public string Summary => $"{ItemsFound} item(s) found, {NewScenes} new scene(s), {Failed} failed, {AlertsRaised} alert(s) raised";
}

/// <summary>
/// The whole pipeline for the new scenes of a site, once per scene: search the STAC source over the site's AOI, and
/// for each item not yet in the catalog (known by its collection and id, recorded as the scene's source) download its
/// asset (and cloud mask), ingest it with the item's metadata, detect change against the scene before it, run
/// detection, and check the site's alert rules, which raise alerts and queue their deliveries. Every step is the
/// same workflow the CLI runs and is idempotent, and one monitor works on a site at a time (a workspace lock), so a
/// round repeated, interrupted or run twice at once ingests nothing twice.
/// </summary>
public static class SiteMonitor
{
    public static async Task<MonitorReport> RunOnceAsync(Workspace workspace, string siteName, MonitorOptions options, HttpClient http,
        Action<string>? log = null, CancellationToken cancel = default)
    {
        var site = workspace.Catalog.GetSite(siteName);
        workspace.EnsureWritable();
        using var held = workspace.Lock($"monitor-{site.Id}", $"monitoring of site {site.Name}", cancel);
        var known = workspace.Catalog.ListScenes(site.Id);
        var notes = new List<string>();
        var query = new StacQuery
        {
            Aoi = site.Aoi,
            FromUtc = options.FromUtc,
            ToUtc = options.ToUtc,
            Collections = options.Collections,
            MaxCloudCover = options.MaxCloudCover,
            MaxItems = options.MaxItems,
        };
        var search = await new StacSource(http, log).SearchAsync(options.Source, query, cancel);
        log?.Invoke($"{search.Items.Count} item(s) over {site.Name} in {search.Pages} page(s) of {options.Source}");

        var results = new List<MonitoredScene>();
        var ingestor = new SceneIngestor(workspace);
        foreach (var item in search.Items)
        {
            cancel.ThrowIfCancellationRequested();
            if (known.FirstOrDefault(s => s.SourcePath == item.SourceKey) is { } existing)
            {
                results.Add(new MonitoredScene(item.Id, item.SourceKey, item.AcquiredUtc, existing.Id, New: false, null, null));
                continue;
            }
            try
            {
                var scene = await IngestAsync(workspace, ingestor, site, item, options, http, log, cancel);
                log?.Invoke($"{item.Id}: scene #{scene.Scene.Id} of {scene.Scene.AcquiredUtc:yyyy-MM-dd}{(scene.AlreadyPresent ? " (the same file was already stored)" : "")}");
                long? changeRun = null;
                if (options.Change)
                {
                    var scenes = workspace.Catalog.ListScenes(site.Id);
                    var index = scenes.ToList().FindIndex(s => s.Id == scene.Scene.Id);
                    if (index > 0)
                    {
                        var change = SiteChangeWorkflow.RunPair(workspace, site, scenes[index - 1], scenes[index], options.ChangeOptions, cancel: cancel);
                        changeRun = change.Record.Id;
                        log?.Invoke($"{item.Id}: change run #{change.Record.Id} against {scenes[index - 1].AcquiredUtc:yyyy-MM-dd}{(change.Reused ? " (stored)" : "")}");
                    }
                    if (index >= 0 && index + 1 < scenes.Count)
                    {
                        // A scene that arrives after later ones (a retried item, an archive backfilled) is also the
                        // "before" of the scene that follows it; the older pair that skipped it stays stored.
                        var next = SiteChangeWorkflow.RunPair(workspace, site, scenes[index], scenes[index + 1], options.ChangeOptions, cancel: cancel);
                        log?.Invoke($"{item.Id}: change run #{next.Record.Id} of {scenes[index + 1].AcquiredUtc:yyyy-MM-dd} against it{(next.Reused ? " (stored)" : "")}");
                    }
                }
                results.Add(new MonitoredScene(item.Id, item.SourceKey, item.AcquiredUtc, scene.Scene.Id, New: !scene.AlreadyPresent, changeRun, null));
            }
            catch (SiteWatchException e)
            {
                // One bad item (a broken download, a scene off the AOI) must not stop the others; it is tried again next round.
                log?.Invoke($"{item.Id}: {e.Message}");
                results.Add(new MonitoredScene(item.Id, item.SourceKey, item.AcquiredUtc, null, New: false, null, e.Message));
            }
        }

        var alerts = 0;
        if (results.Any(r => r.New))
        {
            if (options.Detect)
            {
                var detection = SiteDetectionWorkflow.Run(workspace, site.Name, options.DetectionOptions, cancel: cancel);
                log?.Invoke($"detection: {detection.Scenes.Count(s => !s.Reused)} scene(s) run with {detection.ModelName}");
            }
            if (options.Alerts)
            {
                if (workspace.Catalog.TryGetAlertRules(site.Id) is null)
                {
                    notes.Add($"site {site.Name} has no alert rules; no alerts were checked");
                }
                else
                {
                    var check = AlertWorkflow.Check(workspace, site.Name, DateTime.UtcNow, cancel: cancel);
                    alerts = check.Raised.Count;
                    log?.Invoke($"alerts: {check.Raised.Count} raised, {check.AlreadyStored} already stored");
                }
            }
        }
        return new MonitorReport(site.Name, options.Source, search.Items.Count, results, search.Skipped, alerts, notes);
    }

    /// <summary>
    /// One round of a site's stored monitoring order (<see cref="MonitorSchedule"/>) when it is due: its last round
    /// ended <see cref="MonitorSchedule.Every"/> ago or more, the order changed since, or no round ever ended. A round
    /// that was interrupted (its process killed) never recorded its end, so whoever asks next runs it again, and the
    /// catalog's idempotence makes the repeat ingest only what the interrupted one had not committed. Null when the
    /// site has no order (any more), the round is not due, or another process runs it now (whose end is then read
    /// here, under the same lock, before anything is started twice).
    /// </summary>
    public static async Task<MonitorReport?> RunScheduledAsync(Workspace workspace, long siteId, DateTime nowUtc, HttpClient http,
        Action<string>? log = null, CancellationToken cancel = default)
    {
        using var round = workspace.TryLockMonitorRound(siteId);
        if (round is null)
        {
            return null;
        }
        if (workspace.Catalog.TryGetMonitor(siteId) is not { } monitor || workspace.Catalog.TryGetSiteById(siteId) is not { } site)
        {
            return null;
        }
        if (nowUtc < monitor.NextRoundUtc)
        {
            return null;
        }
        MonitorReport report;
        try
        {
            report = await RunOnceAsync(workspace, site.Name, monitor.Schedule.ToOptions(), http, log, cancel);
        }
        catch (SiteWatchException e)
        {
            // The source or the catalog failed the whole round: retried with the same backoff as failed items.
            try
            {
                workspace.Catalog.RecordMonitorRound(siteId, DateTime.UtcNow, $"failed: {e.Message}", failed: true);
            }
            catch (SiteWatchException)
            {
                // The catalog itself is away: the round stays unrecorded and runs at the next heartbeat.
            }
            throw;
        }
        workspace.Catalog.RecordMonitorRound(siteId, DateTime.UtcNow, report.Summary, failed: report.Failed > 0);
        return report;
    }

    /// <summary>Downloads the item's asset (and cloud mask) into staging with the item's JSON beside it, then ingests it.</summary>
    private static async Task<IngestResult> IngestAsync(Workspace workspace, SceneIngestor ingestor, Site site, StacFoundItem item, MonitorOptions options,
        HttpClient http, Action<string>? log, CancellationToken cancel)
    {
        var asset = ChooseAsset(item, options.Asset);
        var staged = new List<string>();
        try
        {
            var data = await FetchAsync(workspace, asset, options.MaxDownloadBytes, http, staged, cancel);
            var json = (JsonObject)item.Json.DeepClone();
            var assets = new JsonObject { [asset.Key] = WithHref(item.Json["assets"]?[asset.Key], Path.GetFileName(data)) };
            if (item.Assets.FirstOrDefault(a => a.Roles.Any(r => r.StartsWith("cloud", StringComparison.OrdinalIgnoreCase))) is { } mask)
            {
                var maskFile = await FetchAsync(workspace, mask, options.MaxDownloadBytes, http, staged, cancel);
                assets[mask.Key] = WithHref(item.Json["assets"]?[mask.Key], Path.GetFileName(maskFile));
            }
            json["assets"] = assets;
            var itemFile = data + ".json";
            File.WriteAllText(itemFile, json.ToJsonString());
            staged.Add(itemFile);
            return ingestor.Ingest(site.Name, data, new IngestOptions { SourceLabel = item.SourceKey }, cancel: cancel);
        }
        finally
        {
            foreach (var file in staged)
            {
                if (File.Exists(file))
                {
                    File.Delete(file);
                }
            }
        }
    }

    private static JsonNode WithHref(JsonNode? asset, string href)
    {
        var copy = asset?.DeepClone() as JsonObject ?? [];
        copy["href"] = href;
        return copy;
    }

    internal static StacAssetRef ChooseAsset(StacFoundItem item, string? key)
    {
        if (key is not null)
        {
            return item.Assets.FirstOrDefault(a => a.Key == key)
                ?? throw new SiteWatchException($"{item.Id}: no asset '{key}' (it has {string.Join(", ", item.Assets.Select(a => a.Key))})");
        }
        static bool IsTiff(StacAssetRef a) => a.MediaType?.StartsWith("image/tiff", StringComparison.OrdinalIgnoreCase) == true
            || a.Href.AbsolutePath.EndsWith(".tif", StringComparison.OrdinalIgnoreCase) || a.Href.AbsolutePath.EndsWith(".tiff", StringComparison.OrdinalIgnoreCase);
        return item.Assets.FirstOrDefault(a => IsTiff(a) && a.Roles.Contains("data"))
            ?? item.Assets.FirstOrDefault(a => IsTiff(a) && a.Key is "visual" or "image" or "data")
            ?? throw new SiteWatchException($"{item.Id}: no GeoTIFF data asset among {string.Join(", ", item.Assets.Select(a => a.Key))}; name the asset to ingest");
    }

    /// <summary>A local file as it is (a static catalog on disk), or an HTTP download streamed to staging under a size limit.</summary>
    private static async Task<string> FetchAsync(Workspace workspace, StacAssetRef asset, long maxBytes, HttpClient http, List<string> staged, CancellationToken cancel)
    {
        var extension = Path.GetExtension(asset.Href.AbsolutePath) is { Length: > 1 and <= 8 } e ? e : ".tif";
        var target = workspace.NewStagingPath(extension);
        staged.Add(target);
        if (asset.Href.IsFile)
        {
            if (!File.Exists(asset.Href.LocalPath))
            {
                throw new SiteWatchException($"asset {asset.Key}: {asset.Href.LocalPath} does not exist");
            }
            File.Copy(asset.Href.LocalPath, target);
            return target;
        }
        if (asset.Href.Scheme is not ("http" or "https"))
        {
            throw new SiteWatchException($"asset {asset.Key}: {asset.Href} is neither http(s) nor a file");
        }
        try
        {
            using var response = await http.GetAsync(asset.Href, HttpCompletionOption.ResponseHeadersRead, cancel);
            if (!response.IsSuccessStatusCode)
            {
                throw new SiteWatchException($"asset {asset.Key}: GET {asset.Href}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            }
            if (response.Content.Headers.ContentLength > maxBytes)
            {
                throw new SiteWatchException(string.Create(CultureInfo.InvariantCulture,
                    $"asset {asset.Key}: {asset.Href} is {response.Content.Headers.ContentLength:N0} bytes, above the {maxBytes:N0}-byte limit"));
            }
            await using var source = await response.Content.ReadAsStreamAsync(cancel);
            await using var file = File.Create(target);
            var buffer = new byte[1 << 16];
            long total = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, cancel)) > 0)
            {
                total += read;
                if (total > maxBytes)
                {
                    throw new SiteWatchException(string.Create(CultureInfo.InvariantCulture, $"asset {asset.Key}: {asset.Href} is above the {maxBytes:N0}-byte limit"));
                }
                await file.WriteAsync(buffer.AsMemory(0, read), cancel);
            }
            if (response.Content.Headers.ContentLength is { } expected && expected != total)
            {
                throw new SiteWatchException($"asset {asset.Key}: {asset.Href} ended after {total:N0} of {expected:N0} bytes");
            }
        }
        catch (HttpRequestException ex)
        {
            throw new SiteWatchException($"asset {asset.Key}: GET {asset.Href}: {ex.Message}");
        }
        return target;
    }
}
