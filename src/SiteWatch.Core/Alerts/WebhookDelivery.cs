using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
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
        Task<SendOutcome> Send(AlertDeliveryRecord delivery, CancellationToken token)
        {
            if (webhooks.FirstOrDefault(w => w.Url == delivery.TargetUrl) is not { } webhook)
            {
                // Kept as it is: without its configuration (the secret) it cannot be signed; restoring the webhook resumes it.
                return Task.FromResult(SendOutcome.PutOffBecause("the webhook is no longer in the site's alert rules; add it back to deliver"));
            }
            var alert = catalog.GetAlert(delivery.AlertId);
            var error = Post(http, webhook.Url, webhook.Secret, Uid(site, alert), delivery.Id, Payload(site, alert, delivery), options.Timeout, token);
            return Task.FromResult(error is null ? SendOutcome.Sent : SendOutcome.Failed(error));
        }
        var round = DeliveryRound.RunAsync(new SiteDeliveries(catalog, site.Id), Send,
            d => $"{SecretMask.Url(d.TargetUrl)}: delivery {d.Id} (alert {d.AlertId})", nowUtc, options, cancel).GetAwaiter().GetResult();
        var attempted = round.Attempted;
        return new DeliveryReport(
            attempted.Count(d => d.State == DeliveryState.Delivered),
            attempted.Count(d => d.State == DeliveryState.Pending),
            attempted.Count(d => d.State == DeliveryState.Failed),
            attempted) { Dropped = round.Dropped };
    }

    /// <summary>A site's deliveries in its catalog, as a delivery round claims and records them.</summary>
    private sealed class SiteDeliveries(SiteCatalog catalog, long siteId) : IOutboxStore<AlertDeliveryRecord>
    {
        public AlertDeliveryRecord? ClaimNext(DateTime nowUtc, string claimer, DateTime leaseUntilUtc, IReadOnlyCollection<long> skip) =>
            catalog.ClaimNextDelivery(siteId, nowUtc, claimer, leaseUntilUtc, skip);

        public bool Record(AlertDeliveryRecord updated, string claimer, int claimedAttempts) => catalog.RecordDeliveryAttempt(updated, claimer, claimedAttempts);

        public void Release(long id, string claimer) => catalog.ReleaseDelivery(id, claimer);
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
    public static byte[] Payload(Site site, AlertRecord alert, AlertDeliveryRecord delivery) =>
        Payload(site.Name, alert, Uid(site, alert), new DeliveryInfo(delivery.Id, delivery.Attempts + 1));

    /// <summary>Which delivery of an alert a payload is: the outbox row and the attempt.</summary>
    public sealed record DeliveryInfo(long Id, int Attempt);

    /// <summary>
    /// The one webhook payload of every alert, scene or video, stored in a site or not: a receiver parses one shape.
    /// What a payload does not have is null: the site and the alert's id for a watch outside a workspace, the delivery
    /// where the payload is rendered once for every attempt (the watch outbox; its Idempotency-Key header and the uid
    /// still identify the alert).
    /// </summary>
    public static byte[] Payload(string? site, AlertRecord alert, string uid, DeliveryInfo? delivery) =>
        JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["site"] = site,
            ["alert"] = AlertJson.Document(alert, uid),
            ["delivery"] = delivery is null ? null : new JsonObject { ["id"] = delivery.Id, ["attempt"] = delivery.Attempt },
        });

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
