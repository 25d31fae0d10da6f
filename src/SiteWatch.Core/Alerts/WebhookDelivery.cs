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
}

/// <summary>What one delivery round did.</summary>
public sealed record DeliveryReport(int Delivered, int Retrying, int Failed, IReadOnlyList<AlertDeliveryRecord> Attempted);

/// <summary>
/// Sends pending alert deliveries (the catalog's outbox) as HTTP POSTs of JSON, signed with HMAC-SHA256 when the
/// webhook has a secret. A refusing, failing or hanging receiver is recorded on the delivery, which stays pending with
/// an exponentially growing wait until its last attempt, then is marked failed. Rows are never deleted.
/// </summary>
public static class WebhookDelivery
{
    public const string SignatureHeader = "X-SiteWatch-Signature";
    public const string DeliveryHeader = "X-SiteWatch-Delivery";

    /// <summary>Attempts every delivery of the site that is due at <paramref name="nowUtc"/>.</summary>
    public static DeliveryReport DeliverDue(SiteCatalog catalog, Site site, IReadOnlyList<WebhookConfig> webhooks, DateTime nowUtc,
        WebhookDeliveryOptions? options = null, CancellationToken cancel = default)
    {
        options ??= new WebhookDeliveryOptions();
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var attempted = new List<AlertDeliveryRecord>();
        foreach (var delivery in catalog.DueDeliveries(site.Id, nowUtc))
        {
            cancel.ThrowIfCancellationRequested();
            var webhook = webhooks.FirstOrDefault(w => w.Url == delivery.TargetUrl);
            AlertDeliveryRecord updated;
            if (webhook is null)
            {
                // Kept as it is: without its configuration (the secret) it cannot be signed; restoring the webhook resumes it.
                updated = delivery with { LastError = "the webhook is no longer in the site's alert rules; add it back to deliver", NextAttemptUtc = nowUtc + options.FirstRetryDelay };
            }
            else
            {
                var body = Payload(site, catalog.GetAlert(delivery.AlertId), delivery);
                var error = Send(http, webhook, delivery, body, options.Timeout, cancel);
                var attempts = delivery.Attempts + 1;
                updated = error is null
                    ? delivery with { State = DeliveryState.Delivered, Attempts = attempts, LastError = null, DeliveredUtc = nowUtc, NextAttemptUtc = nowUtc }
                    : delivery with
                    {
                        State = attempts >= delivery.MaxAttempts ? DeliveryState.Failed : DeliveryState.Pending,
                        Attempts = attempts,
                        LastError = error,
                        NextAttemptUtc = nowUtc + Backoff(attempts, options),
                    };
            }
            catalog.RecordDeliveryAttempt(updated);
            attempted.Add(updated);
        }
        return new DeliveryReport(
            attempted.Count(d => d.State == DeliveryState.Delivered),
            attempted.Count(d => d.State == DeliveryState.Pending),
            attempted.Count(d => d.State == DeliveryState.Failed),
            attempted);
    }

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

    /// <summary>One POST; null on a 2xx answer, else why it failed (one line).</summary>
    private static string? Send(HttpClient http, WebhookConfig webhook, AlertDeliveryRecord delivery, byte[] body, TimeSpan timeout, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(DeliveryHeader, delivery.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (webhook.Secret is { } secret)
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
            return e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message;
        }
    }
}
