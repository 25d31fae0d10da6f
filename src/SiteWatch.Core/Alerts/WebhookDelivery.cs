using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Core.Alerts;

public sealed record WebhookDeliveryOptions
{
    /// <summary>How long a receiver may take to answer before the attempt counts as failed.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Wait after the first failed attempt; doubled after each further one.</summary>
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromHours(6);
    /// <summary>
    /// How long a claimed delivery stays reserved for the process that claimed it; after that another process may take
    /// it (the claimer died). Longer than <see cref="Timeout"/>.
    /// </summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(2);
    /// <summary>Who claims deliveries (process id and a random part unless given).</summary>
    public string Claimer { get; init; } = DefaultClaimer;
    /// <summary>
    /// Measures how long a round has run: each claim and outcome is stamped with the round's start time plus the time
    /// elapsed since (tests freeze or advance it).
    /// </summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>This process: host, pid and a random part (a pid is reused after a restart).</summary>
    public static readonly string DefaultClaimer = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
}

/// <summary>What one delivery round did.</summary>
public sealed record DeliveryReport(int Delivered, int Retrying, int Failed, IReadOnlyList<AlertDeliveryRecord> Attempted)
{
    /// <summary>
    /// Outcomes not recorded, one line each: the attempt outlived its claim and another sender took the delivery over
    /// (its outcome stands; a receiver may have got the alert twice, with the same idempotency key).
    /// </summary>
    public IReadOnlyList<string> Dropped { get; init; } = [];
}

/// <summary>The time inside a delivery round: its start plus what the clock says has elapsed since.</summary>
internal sealed class RoundClock(DateTime startUtc, TimeProvider clock)
{
    private readonly long _started = clock.GetTimestamp();

    public DateTime Now => startUtc + clock.GetElapsedTime(_started);
}

/// <summary>
/// Sends pending alert deliveries (the catalog's outbox) as HTTP POSTs of JSON, signed with HMAC-SHA256 when the
/// webhook has a secret. A refusing, failing or hanging receiver is recorded on the delivery, which stays pending with
/// an exponentially growing wait until its last attempt, then is marked failed. Rows are never deleted.
/// </summary>
public static class WebhookDelivery
{
    public const string SignatureHeader = "X-SiteWatch-Signature";
    public const string DeliveryHeader = "X-SiteWatch-Delivery";

    /// <summary>
    /// Attempts every delivery of the site that is due, one at a time, each claimed first (so another process delivering
    /// at the same time never sends it too). Each is attempted at most once per call. <paramref name="nowUtc"/> is when
    /// the round starts; claims and outcomes are stamped with the time they happen (<see cref="WebhookDeliveryOptions.Clock"/>).
    /// </summary>
    public static DeliveryReport DeliverDue(SiteCatalog catalog, Site site, IReadOnlyList<WebhookConfig> webhooks, DateTime nowUtc,
        WebhookDeliveryOptions? options = null, CancellationToken cancel = default)
    {
        options ??= new WebhookDeliveryOptions();
        using var http = new HttpClient { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        var attempted = new List<AlertDeliveryRecord>();
        var dropped = new List<string>();
        var seen = new List<long>();
        var lease = LeaseOf(options);
        // A round of slow receivers runs for minutes: each claim gets its lease from the time it is claimed (a lease
        // from the round's start could already have run out, and another process would send the row too).
        var clock = new RoundClock(nowUtc, options.Clock);
        while (!cancel.IsCancellationRequested)
        {
            var claimedAt = clock.Now;
            if (catalog.ClaimNextDelivery(site.Id, claimedAt, options.Claimer, claimedAt + lease, seen) is not { } delivery)
            {
                break;
            }
            seen.Add(delivery.Id);
            var webhook = webhooks.FirstOrDefault(w => w.Url == delivery.TargetUrl);
            AlertDeliveryRecord updated;
            if (webhook is null)
            {
                // Kept as it is: without its configuration (the secret) it cannot be signed; restoring the webhook resumes it.
                updated = delivery with { LastError = "the webhook is no longer in the site's alert rules; add it back to deliver", NextAttemptUtc = clock.Now + options.FirstRetryDelay };
            }
            else
            {
                string? error;
                try
                {
                    var alert = catalog.GetAlert(delivery.AlertId);
                    var body = Payload(site, alert, delivery);
                    error = Post(http, webhook.Url, webhook.Secret, Uid(site, alert), delivery.Id, body, options.Timeout, cancel);
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    // Stopped mid-attempt: the delivery stays pending, free for the next round or process.
                    catalog.ReleaseDelivery(delivery.Id, options.Claimer);
                    throw;
                }
                updated = Outcome(delivery, error, clock.Now, options);
            }
            if (!catalog.RecordDeliveryAttempt(updated, options.Claimer, delivery.Attempts))
            {
                dropped.Add(DroppedText($"{SecretMask.Url(delivery.TargetUrl)}: delivery {delivery.Id} (alert {delivery.AlertId})", claimedAt + lease));
                continue;
            }
            attempted.Add(updated);
        }
        return new DeliveryReport(
            attempted.Count(d => d.State == DeliveryState.Delivered),
            attempted.Count(d => d.State == DeliveryState.Pending),
            attempted.Count(d => d.State == DeliveryState.Failed),
            attempted) { Dropped = dropped };
    }

    /// <summary>How long a claim is held: the lease, and never less than one attempt's timeout plus a margin.</summary>
    internal static TimeSpan LeaseOf(WebhookDeliveryOptions options) => options.Lease > options.Timeout ? options.Lease : options.Timeout + options.Lease;

    /// <summary>The line reported for an outcome that came after its claim was taken over.</summary>
    internal static string DroppedText(string what, DateTime leaseUntilUtc) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{what}: outcome not recorded: its claim ran out at {leaseUntilUtc:yyyy-MM-ddTHH:mm:ss}Z and another sender took the delivery over");

    /// <summary>A delivery after one attempt at <paramref name="atUtc"/>: delivered, or retried after its backoff, or failed after the last attempt.</summary>
    internal static AlertDeliveryRecord Outcome(AlertDeliveryRecord delivery, string? error, DateTime atUtc, WebhookDeliveryOptions options)
    {
        var attempts = delivery.Attempts + 1;
        return error is null
            ? delivery with { State = DeliveryState.Delivered, Attempts = attempts, LastError = null, DeliveredUtc = atUtc, NextAttemptUtc = atUtc }
            : delivery with
            {
                State = attempts >= delivery.MaxAttempts ? DeliveryState.Failed : DeliveryState.Pending,
                Attempts = attempts,
                LastError = SecretMask.Text(error),
                NextAttemptUtc = atUtc + Backoff(attempts, options),
            };
    }

    /// <summary>The stable id of a site's alert (payload <c>alert.uid</c>, header <c>Idempotency-Key</c>).</summary>
    public static string Uid(Site site, AlertRecord alert) => AlertIdentity.Uid($"site:{site.Id}", alert.Key);

    /// <summary>The wait after the given number of failed attempts: first delay · 2^(attempts-1), capped.</summary>
    public static TimeSpan Backoff(int attempts, WebhookDeliveryOptions options)
    {
        var seconds = options.FirstRetryDelay.TotalSeconds * Math.Pow(2, Math.Max(0, attempts - 1));
        return TimeSpan.FromSeconds(Math.Min(seconds, options.MaxRetryDelay.TotalSeconds));
    }

    /// <summary>"sha256=" and the hex HMAC-SHA256 of the body under the secret, as the receiver recomputes it.</summary>
    public static string Signature(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>The JSON sent for an alert: the alert, its evidence and geometry as JSON objects, and which delivery this is.</summary>
    public static byte[] Payload(Site site, AlertRecord alert, AlertDeliveryRecord delivery)
    {
        using var evidence = JsonDocument.Parse(alert.Evidence);
        using var geometry = alert.GeometryGeoJson is null ? null : JsonDocument.Parse(alert.GeometryGeoJson);
        return JsonSerializer.SerializeToUtf8Bytes(new
        {
            site = site.Name,
            alert = new
            {
                id = alert.Id,
                uid = Uid(site, alert),
                source = alert.Source,
                rule = alert.RuleName,
                kind = alert.Kind,
                severity = alert.Severity,
                message = alert.Message,
                observed_utc = alert.ObservedUtc,
                raised_utc = alert.RaisedUtc,
                geometry = geometry?.RootElement,
                evidence = evidence.RootElement,
            },
            delivery = new { id = delivery.Id, attempt = delivery.Attempts + 1 },
        });
    }

    /// <summary>
    /// One POST of a JSON body with its idempotency key (and delivery id, and signature when there is a secret);
    /// null on a 2xx answer, else why it failed (one line, credentials masked). Hanging past
    /// <paramref name="timeout"/>, a refused or dropped connection and any non-2xx answer are failures.
    /// </summary>
    public static string? Post(HttpClient http, string url, string? secret, string idempotencyKey, long deliveryId, byte[] body, TimeSpan timeout, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(DeliveryHeader, deliveryId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(AlertIdentity.IdempotencyHeader, idempotencyKey);
        if (secret is not null)
        {
            request.Headers.Add(SignatureHeader, Signature(secret, body));
        }
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeoutSource.CancelAfter(timeout);
        try
        {
            using var response = http.Send(request, HttpCompletionOption.ResponseHeadersRead, timeoutSource.Token);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return $"no answer within {timeout.TotalSeconds:0.#} s";
        }
        catch (HttpRequestException e)
        {
            return SecretMask.Text(e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message);
        }
    }
}
