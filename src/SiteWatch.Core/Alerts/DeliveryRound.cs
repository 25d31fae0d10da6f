using SiteWatch.Core.Catalog;

namespace SiteWatch.Core.Alerts;

/// <summary>
/// An outbox as a delivery round sees it (a site's rows in its catalog, a watch's own file): the next due row claimed
/// in one step, each outcome recorded only while its claim still stands, a claim given back untouched.
/// </summary>
public interface IOutboxStore
{
    OutboxRow? ClaimNext(DateTime nowUtc, string claimer, DateTime leaseUntilUtc, IReadOnlyCollection<long> skip);
    bool Record(OutboxRow updated, string claimer, int claimedAttempts);
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

/// <summary>
/// What one round did: the rows it recorded, and the outcomes it could not record, one line each (the attempt outlived
/// its claim and another sender took the row over; its outcome stands, and a receiver may have got the alert twice,
/// with the same idempotency key).
/// </summary>
public sealed record DeliveryRoundResult(IReadOnlyList<OutboxRow> Attempted, IReadOnlyList<string> Dropped)
{
    public int Delivered => Attempted.Count(i => i.State == DeliveryState.Delivered);
    public int Retrying => Attempted.Count(i => i.State == DeliveryState.Pending);
    public int Failed => Attempted.Count(i => i.State == DeliveryState.Failed);
}

/// <summary>
/// The one delivery loop of every outbox: claim the next due row, send it, record the outcome (delivered; pending with
/// an exponential backoff; failed after its last attempt), each row at most once per round. Webhooks of a site's
/// catalog and the local outbox's webhooks and CoT events go through it alike.
/// </summary>
public static class DeliveryRound
{
    public static async Task<DeliveryRoundResult> RunAsync(IOutboxStore store, Func<OutboxRow, CancellationToken, Task<SendOutcome>> send,
        DateTime nowUtc, WebhookDeliveryOptions options, CancellationToken cancel)
    {
        var attempted = new List<OutboxRow>();
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
                    $"{SecretMask.Url(row.Target)}: delivery {row.Id} ({row.AlertUid}): outcome not recorded: its claim ran out at {claimedAt + lease:yyyy-MM-ddTHH:mm:ss}Z and another sender took the delivery over"));
                continue;
            }
            attempted.Add(updated);
        }
        return new DeliveryRoundResult(attempted, dropped);
    }

    /// <summary>A row after one send at <paramref name="atUtc"/>.</summary>
    private static OutboxRow After(OutboxRow row, SendOutcome outcome, DateTime atUtc, WebhookDeliveryOptions options)
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
