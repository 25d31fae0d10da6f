using System.Text;
using System.Text.Json;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Video.Watch;

/// <summary>How a watch delivers its alerts: timeouts, backoff and attempts of the persistent outboxes.</summary>
public sealed record WatchDeliveryOptions
{
    /// <summary>Per attempt timeout, backoff (first delay, cap), claim lease.</summary>
    public WebhookDeliveryOptions Retry { get; init; } = new()
    {
        Timeout = TimeSpan.FromSeconds(5),
        FirstRetryDelay = TimeSpan.FromSeconds(1),
        MaxRetryDelay = TimeSpan.FromMinutes(1),
    };

    /// <summary>Attempts of an outbox row before it is marked failed (the first backoffs are seconds, then a minute each).</summary>
    public int MaxAttempts { get; init; } = 100;

    /// <summary>How often the loop looks for due rows when nothing woke it.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>At shutdown, how long pending rows still get (what is left stays in the outbox for later).</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan CotConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long writing one CoT event to a TCP receiver may take before the attempt counts as failed.</summary>
    public TimeSpan CotSendTimeout { get; init; } = CotSink.DefaultSendTimeout;

    /// <summary>
    /// Signs every webhook POST of the local outbox as the site outbox does (X-SiteWatch-Signature, HMAC-SHA256 of the
    /// body), so a receiver checks both alike; null sends unsigned. Never stored in the outbox.
    /// </summary>
    public string? WebhookSecret { get; init; }

    /// <summary>The environment variable the command line reads <see cref="WebhookSecret"/> from (a secret on the command line shows in process lists).</summary>
    public const string WebhookSecretVariable = "SITEWATCH_WEBHOOK_SECRET";

    /// <summary>Options with the webhook secret from <see cref="WebhookSecretVariable"/>, when it is set.</summary>
    public static WatchDeliveryOptions FromEnvironment() => new()
    {
        WebhookSecret = Environment.GetEnvironmentVariable(WebhookSecretVariable) is { Length: > 0 } secret ? secret : null,
    };
}

/// <summary>
/// Stores each alert in a <see cref="LocalOutbox"/> (one row per destination: webhook URL or CoT endpoint, the
/// payload rendered as it will be sent), durably and before anything is sent; <see cref="WatchDelivery"/> sends it.
/// </summary>
public sealed class OutboxAlertSink : IAlertSink
{
    private readonly LocalOutbox _outbox;
    private readonly IReadOnlyList<string> _targets;
    private readonly CotOptions _cot;
    private readonly int _maxAttempts;

    public OutboxAlertSink(LocalOutbox outbox, IReadOnlyList<string> targets, CotOptions? cot = null, int maxAttempts = 100)
    {
        _outbox = outbox;
        _targets = targets;
        _cot = cot ?? new CotOptions();
        _maxAttempts = maxAttempts;
    }

    public string Name => $"queued in {_outbox.Path}";

    /// <summary>Called after an alert was written, to wake the delivery loop.</summary>
    public Action? OnStored { get; init; }

    public Task DeliverAsync(AlertRecord alert, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var uid = AlertJson.UnstoredUid(alert);
        // Webhooks get the payload every SiteWatch alert has (the site's own webhooks too), the snapshot named by
        // its path in the watch's output folder.
        var items = _targets.Select(t => (t, IsCot(t)
            ? Encoding.UTF8.GetBytes(CotEvent.ToXml(alert, _cot))
            : WebhookDelivery.Payload(null, alert, uid))).ToList();
        _outbox.Enqueue(uid, items, _maxAttempts, DateTime.UtcNow);
        OnStored?.Invoke();
        return Task.CompletedTask;
    }

    internal static bool IsCot(string target) =>
        target.StartsWith("udp://", StringComparison.OrdinalIgnoreCase) || target.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// Sends local outbox rows: http(s) targets as a JSON POST with Idempotency-Key (the alert's uid), CoT targets as
/// events over UDP or one TCP connection per endpoint (reconnected on the next attempt when it dropped).
/// </summary>
public sealed class OutboxSender : IAsyncDisposable
{
    private readonly HttpClient _http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly Dictionary<string, CotSink> _cot = [];
    private readonly WatchDeliveryOptions _options;

    public OutboxSender(WatchDeliveryOptions? options = null) => _options = options ?? new WatchDeliveryOptions();

    public async Task<string?> SendAsync(OutboxRow item, CancellationToken cancel)
    {
        if (!OutboxAlertSink.IsCot(item.Target))
        {
            return await Task.Run(() => WebhookDelivery.Post(_http, item.Target, _options.WebhookSecret, item, _options.Retry.Timeout, cancel), cancel)
                .ConfigureAwait(false);
        }

        if (!_cot.TryGetValue(item.Target, out var sink))
        {
            _cot[item.Target] = sink = new CotSink(CotSink.ParseEndpoint(item.Target), connectTimeout: _options.CotConnectTimeout, sendTimeout: _options.CotSendTimeout);
        }

        try
        {
            await sink.SendAsync(item.Payload, cancel).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            // The sink's message repeats its name; the report names the target already.
            return e.InnerException?.Message ?? e.Message;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        foreach (var sink in _cot.Values)
        {
            await sink.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// The background delivery of a watch: a loop that sends what is due in the local outbox (--webhook, --cot) and in
/// the site catalog's outbox (the site's webhooks, signed), woken when an alert is stored and otherwise polling, with
/// backoff per row. At shutdown pending rows get a grace period; whatever is left stays pending in its outbox (a
/// later watch into the same folder, or 'sitewatch alerts deliver', sends it) and is reported as pending.
/// </summary>
public sealed class WatchDelivery : IAsyncDisposable
{
    private const int MaxProblems = 20;
    private readonly LocalOutbox? _outbox;
    private readonly SiteCatalog? _catalog;
    private readonly Site? _site;
    private readonly IReadOnlyList<WebhookConfig> _siteWebhooks;
    private readonly WatchDeliveryOptions _options;
    private readonly OutboxSender _sender;
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, int> _delivered = [];
    private readonly List<string> _problems = [];
    private TaskCompletionSource _round = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;

    /// <param name="outbox">The local outbox (not owned), or null.</param>
    /// <param name="catalog">A connection of its own to the site's catalog (owned: disposed with this), or null.</param>
    public WatchDelivery(LocalOutbox? outbox, SiteCatalog? catalog, Site? site, IReadOnlyList<WebhookConfig>? siteWebhooks, WatchDeliveryOptions? options = null)
    {
        _outbox = outbox;
        _catalog = catalog;
        _site = site;
        _siteWebhooks = siteWebhooks ?? [];
        _options = options ?? new WatchDeliveryOptions();
        _sender = new OutboxSender(_options);
    }

    /// <summary>Starts the loop; it first sends what earlier runs left pending.</summary>
    public void Start() => _loop ??= Task.Run(() => LoopAsync(_stop.Token));

    /// <summary>Something was stored: look now instead of at the next poll.</summary>
    public void Wake() => _wake.Release();

    private async Task LoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await RoundAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (SiteWatchException e)
            {
                // A locked or full catalog/outbox: nothing is lost (the rows stay pending); try again at the next round.
                Problem(e.Message);
            }
            finally
            {
                Interlocked.Exchange(ref _round, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }

            try
            {
                await _wake.WaitAsync(_options.PollInterval, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RoundAsync(CancellationToken stop)
    {
        if (_outbox is not null)
        {
            var report = await OutboxDelivery.DeliverDueAsync(_outbox, _sender.SendAsync, DateTime.UtcNow, _options.Retry, stop).ConfigureAwait(false);
            foreach (var item in report.Attempted)
            {
                Count(item.Target, item.State, item.AlertUid, item.LastError);
            }
            report.Dropped.ToList().ForEach(Problem);
        }

        if (_catalog is not null && _site is not null && _siteWebhooks.Count > 0)
        {
            var report = await Task.Run(() => WebhookDelivery.DeliverDue(_catalog, _site, _siteWebhooks, DateTime.UtcNow, _options.Retry, stop), stop).ConfigureAwait(false);
            foreach (var d in report.Attempted)
            {
                Count(d.Target, d.State, $"site alert {d.AlertId}", d.LastError);
            }
            report.Dropped.ToList().ForEach(Problem);
        }
    }

    private void Count(string target, string state, string what, string? error)
    {
        lock (_problems)
        {
            if (state == DeliveryState.Delivered)
            {
                _delivered[target] = _delivered.GetValueOrDefault(target) + 1;
            }
            else if (error is not null && _problems.Count < MaxProblems)
            {
                _problems.Add($"{SecretMask.Url(target)}: {what}: {SecretMask.Text(error)}");
            }
        }
    }

    private void Problem(string text)
    {
        lock (_problems)
        {
            if (_problems.Count < MaxProblems)
            {
                _problems.Add(SecretMask.Text(text));
            }
        }
    }

    private int PendingCount() =>
        (_outbox?.Counts().Sum(c => c.Pending) ?? 0)
        + (_catalog is not null && _site is not null && _siteWebhooks.Count > 0 ? _catalog.DeliveryCounts(_site.Id).GetValueOrDefault(DeliveryState.Pending) : 0);

    /// <summary>
    /// Gives pending rows up to the shutdown grace, stops the loop (an attempt in flight is given back, still pending)
    /// and reports per destination: delivered by this run, and pending / failed in the outbox.
    /// </summary>
    public async Task<IReadOnlyList<SinkReport>> CompleteAsync()
    {
        Start();
        var deadline = DateTime.UtcNow + _options.ShutdownGrace;
        while (PendingCount() > 0 && DateTime.UtcNow < deadline)
        {
            var round = Volatile.Read(ref _round).Task;
            Wake();
            var left = deadline - DateTime.UtcNow;
            await Task.WhenAny(round, Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero)).ConfigureAwait(false);
            if (round.IsCompleted && PendingCount() > 0)
            {
                // Nothing more is due right now: wait for the next backoff to end, within the grace.
                var pause = deadline - DateTime.UtcNow;
                await Task.Delay(pause < _options.PollInterval ? (pause > TimeSpan.Zero ? pause : TimeSpan.Zero) : _options.PollInterval).ConfigureAwait(false);
            }
        }

        await StopAsync().ConfigureAwait(false);
        return Reports();
    }

    private async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
    }

    /// <summary>Per destination: delivered by this run; pending and failed as the outboxes hold them now.</summary>
    public IReadOnlyList<SinkReport> Reports()
    {
        var reports = new List<SinkReport>();
        List<string> problems;
        lock (_problems)
        {
            problems = [.. _problems];
        }

        if (_outbox is not null)
        {
            foreach (var c in _outbox.Counts())
            {
                var name = (OutboxAlertSink.IsCot(c.Target) ? "cot " : "webhook ") + SecretMask.Url(c.Target);
                reports.Add(Report(name, c.Target, c.Pending, c.Failed, problems, _outbox.Path));
            }
        }

        if (_catalog is not null && _site is not null)
        {
            var rows = _catalog.ListDeliveries(_site.Id).Where(d => d.State != DeliveryState.Delivered).ToLookup(d => d.Target);
            foreach (var hook in _siteWebhooks)
            {
                var left = rows[hook.Url].ToList();
                reports.Add(Report($"site {_site.Name} webhook {SecretMask.Url(hook.Url)}", hook.Url,
                    left.Count(d => d.State == DeliveryState.Pending), left.Count(d => d.State == DeliveryState.Failed), problems, _catalog.Location));
            }
        }

        return reports;
    }

    private SinkReport Report(string name, string target, int pending, int failed, List<string> problems, string keptIn)
    {
        int delivered;
        lock (_problems)
        {
            delivered = _delivered.GetValueOrDefault(target);
        }

        var masked = SecretMask.Url(target) + ":";
        return new SinkReport(name, delivered, pending + failed, problems.Where(p => p.StartsWith(masked, StringComparison.Ordinal)).Select(p => p[masked.Length..].TrimStart()).ToList())
        {
            Pending = pending,
            Failed = failed,
            KeptIn = keptIn,
        };
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _sender.DisposeAsync().ConfigureAwait(false);
        _catalog?.Dispose();
        _stop.Dispose();
        _wake.Dispose();
    }
}

/// <summary>Pending counts, for the summary line of a report.</summary>
public static class SinkReportText
{
    public static string Describe(SinkReport r) => r.KeptIn is null
        ? string.Create(CultureInfo.InvariantCulture, $"{r.Delivered} delivered, {r.Undelivered} undelivered")
        : string.Create(CultureInfo.InvariantCulture, $"{r.Delivered} delivered by this run, {r.Pending} pending, {r.Failed} failed (kept in {r.KeptIn})");
}
