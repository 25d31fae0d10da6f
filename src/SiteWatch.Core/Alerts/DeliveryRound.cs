using SiteWatch.Core.Catalog;

namespace SiteWatch.Core.Alerts;

/// <summary>The bookkeeping of one alert to one destination, whichever outbox keeps it (a site's catalog, a local file).</summary>
public interface IOutboxRow<TRow> where TRow : IOutboxRow<TRow>
{
    long Id { get; }
    /// <summary>Where it goes (a webhook URL, a CoT endpoint).</summary>
    string Target { get; }
    /// <summary><see cref="DeliveryState"/>.</summary>
    string State { get; }
    int Attempts { get; }
    int MaxAttempts { get; }
    DateTime? DeliveredUtc { get; }

    /// <summary>The row with another state, attempt count, error and next attempt.</summary>
    TRow With(string state, int attempts, string? lastError, DateTime? deliveredUtc, DateTime nextAttemptUtc);
}

/// <summary>
/// An outbox as a delivery round sees it: the next due row claimed in one step (a lease keeps other senders off it;
/// an expired lease frees it), each outcome recorded only while its claim still stands, a claim given back untouched.
/// </summary>
public interface IOutboxStore<TRow>
{
    TRow? ClaimNext(DateTime nowUtc, string claimer, DateTime leaseUntilUtc, IReadOnlyCollection<long> skip);
    bool Record(TRow updated, string claimer, int claimedAttempts);
    void Release(long id, string claimer);
}

/// <summary>How one send went: delivered, failed (an attempt), or put off without counting as an attempt.</summary>
public readonly record struct SendOutcome(string? Error, bool PutOff = false)
{
    public static readonly SendOutcome Sent = new(null);

    public static SendOutcome Failed(string error) => new(error);

    /// <summary>Not sent and not an attempt (e.g. the destination's settings are gone): tried again after the first backoff.</summary>
    public static SendOutcome PutOffBecause(string reason) => new(reason, PutOff: true);
}

/// <summary>What one round did: the rows it recorded, and the outcomes it could not record (claim taken over).</summary>
public sealed record DeliveryRoundResult<TRow>(IReadOnlyList<TRow> Attempted, IReadOnlyList<string> Dropped);

/// <summary>
/// The one delivery loop of every outbox: claim the next due row, send it, record the outcome (delivered; pending with
/// an exponential backoff; failed after its last attempt), each row at most once per round. Webhooks of a site's
/// catalog and the local outbox's webhooks and CoT events go through it alike.
/// </summary>
public static class DeliveryRound
{
    public static async Task<DeliveryRoundResult<TRow>> RunAsync<TRow>(IOutboxStore<TRow> store, Func<TRow, CancellationToken, Task<SendOutcome>> send,
        Func<TRow, string> describe, DateTime nowUtc, WebhookDeliveryOptions options, CancellationToken cancel)
        where TRow : class, IOutboxRow<TRow>
    {
        var attempted = new List<TRow>();
        var dropped = new List<string>();
        var seen = new List<long>();
        var lease = LeaseOf(options);
        // A round of slow receivers runs for minutes: each claim gets its lease from the time it is claimed (a lease
        // from the round's start could already have run out, and another process would send the row too).
        var clock = new RoundClock(nowUtc, options.Clock);
        while (!cancel.IsCancellationRequested)
        {
            var claimedAt = clock.Now;
            if (store.ClaimNext(claimedAt, options.Claimer, claimedAt + lease, seen) is not { } row)
            {
                break;
            }
            seen.Add(row.Id);
            SendOutcome outcome;
            try
            {
                outcome = await send(row, cancel).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                // Stopped mid-attempt: the row stays pending, free for the next round or process.
                store.Release(row.Id, options.Claimer);
                throw;
            }
            var updated = After(row, outcome, clock.Now, options);
            if (!store.Record(updated, options.Claimer, row.Attempts))
            {
                dropped.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{describe(row)}: outcome not recorded: its claim ran out at {claimedAt + lease:yyyy-MM-ddTHH:mm:ss}Z and another sender took the delivery over"));
                continue;
            }
            attempted.Add(updated);
        }
        return new DeliveryRoundResult<TRow>(attempted, dropped);
    }

    /// <summary>A row after one send at <paramref name="atUtc"/>.</summary>
    private static TRow After<TRow>(TRow row, SendOutcome outcome, DateTime atUtc, WebhookDeliveryOptions options) where TRow : IOutboxRow<TRow>
    {
        if (outcome.PutOff)
        {
            return row.With(row.State, row.Attempts, outcome.Error, row.DeliveredUtc, atUtc + options.FirstRetryDelay);
        }
        var attempts = row.Attempts + 1;
        return outcome.Error is not { } error
            ? row.With(DeliveryState.Delivered, attempts, null, atUtc, atUtc)
            : row.With(attempts >= row.MaxAttempts ? DeliveryState.Failed : DeliveryState.Pending, attempts, SecretMask.Text(error), null,
                atUtc + WebhookDelivery.Backoff(attempts, options));
    }

    /// <summary>How long a claim is held: the lease, and never less than one attempt's timeout plus a margin.</summary>
    private static TimeSpan LeaseOf(WebhookDeliveryOptions options) => options.Lease > options.Timeout ? options.Lease : options.Timeout + options.Lease;

    /// <summary>The time inside a round: its start plus what the clock says has elapsed since.</summary>
    private sealed class RoundClock(DateTime startUtc, TimeProvider clock)
    {
        private readonly long _started = clock.GetTimestamp();

        public DateTime Now => startUtc + clock.GetElapsedTime(_started);
    }
}
