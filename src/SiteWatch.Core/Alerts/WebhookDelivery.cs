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

/// <summary>
/// Sends a site's outbox rows as HTTP POSTs of JSON, signed with HMAC-SHA256 when the webhook has a secret. A refusing,
/// failing or hanging receiver is recorded on the row, which stays pending with an exponentially growing wait until its
/// last attempt, then is marked failed. Rows are never deleted.
/// </summary>
public static class WebhookDelivery
{
    public const string SignatureHeader = "X-SiteWatch-Signature";
    /// <summary>The outbox row: the same on every attempt of one alert to one receiver.</summary>
    public const string DeliveryHeader = "X-SiteWatch-Delivery";
    /// <summary>Which attempt of that row this is, from 1.</summary>
    public const string AttemptHeader = "X-SiteWatch-Attempt";

    /// <summary>
    /// Attempts every row of the site that is due, one at a time, each claimed first (so another process delivering at
    /// the same time never sends it too). Each is attempted at most once per call. <paramref name="nowUtc"/> is when
    /// the round starts; claims and outcomes are stamped with the time they happen (<see cref="WebhookDeliveryOptions.Clock"/>).
    /// </summary>
    public static DeliveryRoundResult DeliverDue(SiteCatalog catalog, Site site, IReadOnlyList<WebhookConfig> webhooks, DateTime nowUtc,
        WebhookDeliveryOptions? options = null, CancellationToken cancel = default)
    {
        options ??= new WebhookDeliveryOptions();
        using var http = new HttpClient { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        Task<SendOutcome> Send(OutboxRow row, CancellationToken token)
        {
            if (webhooks.FirstOrDefault(w => w.Url == row.Target) is not { } webhook)
            {
                // Kept as it is: without its configuration (the secret) it cannot be signed; restoring the webhook resumes it.
                return Task.FromResult(SendOutcome.PutOffBecause("the webhook is no longer in the site's alert rules; add it back to deliver"));
            }
            var error = Post(http, webhook.Url, webhook.Secret, row, options.Timeout, token);
            return Task.FromResult(error is null ? SendOutcome.Sent : SendOutcome.Failed(error));
        }
        return DeliveryRound.RunAsync(new SiteOutbox(catalog, site.Id), Send, nowUtc, options, cancel).GetAwaiter().GetResult();
    }

    /// <summary>A site's rows of its catalog's outbox, as a delivery round claims and records them.</summary>
    private sealed class SiteOutbox(SiteCatalog catalog, long siteId) : IOutboxStore
    {
        public OutboxRow? ClaimNext(DateTime nowUtc, string claimer, DateTime leaseUntilUtc, IReadOnlyCollection<long> skip) =>
            catalog.ClaimNextDelivery(siteId, nowUtc, claimer, leaseUntilUtc, skip);

        public bool Record(OutboxRow updated, string claimer, int claimedAttempts) => catalog.RecordDeliveryAttempt(updated, claimer, claimedAttempts);

        public void Release(long id, string claimer) => catalog.ReleaseDelivery(id, claimer);
    }

    /// <summary>The stable id of a site's alert (payload <c>alert.uid</c>, header <c>Idempotency-Key</c>).</summary>
    public static string Uid(long siteId, AlertRecord alert) => AlertIdentity.Uid($"site:{siteId}", alert.Key);

    /// <summary>The wait after the given number of failed attempts: first delay · 2^(attempts-1), capped.</summary>
    public static TimeSpan Backoff(int attempts, WebhookDeliveryOptions options)
    {
        var seconds = options.FirstRetryDelay.TotalSeconds * Math.Pow(2, Math.Max(0, attempts - 1));
        return TimeSpan.FromSeconds(Math.Min(seconds, options.MaxRetryDelay.TotalSeconds));
    }

    /// <summary>"sha256=" and the hex HMAC-SHA256 of the body under the secret, as the receiver recomputes it.</summary>
    public static string Signature(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>
    /// The one webhook payload of every alert, scene or video, stored in a site or not: a receiver parses one shape.
    /// It is rendered once, when the alert is queued, and sent as it is on every attempt (the headers say which row and
    /// attempt). The site is null for a watch outside a workspace, and so is the alert's id.
    /// </summary>
    public static byte[] Payload(string? site, AlertRecord alert, string uid) =>
        JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["site"] = site,
            ["alert"] = AlertJson.Document(alert, uid),
        });

    /// <summary>
    /// One POST of an outbox row's payload to <paramref name="url"/> with the alert's idempotency key, the row and the
    /// attempt, and a signature when there is a secret; null on a 2xx answer, else why it failed (one line, credentials
    /// masked). Hanging past <paramref name="timeout"/>, a refused or dropped connection and any non-2xx answer are failures.
    /// </summary>
    public static string? Post(HttpClient http, string url, string? secret, OutboxRow row, TimeSpan timeout, CancellationToken cancel)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(row.Payload) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(DeliveryHeader, row.Id.ToString(inv));
        request.Headers.Add(AttemptHeader, (row.Attempts + 1).ToString(inv));
        request.Headers.Add(AlertIdentity.IdempotencyHeader, row.AlertUid);
        if (secret is not null)
        {
            request.Headers.Add(SignatureHeader, Signature(secret, row.Payload));
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
