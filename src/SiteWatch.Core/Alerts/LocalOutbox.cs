using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Core.Alerts;

/// <summary>One alert to one destination in a <see cref="LocalOutbox"/>: the payload as it is sent, and how sending went.</summary>
public sealed record OutboxItem : IOutboxRow<OutboxItem>
{
    public required long Id { get; init; }
    /// <summary>The alert's stable id (<see cref="AlertIdentity"/>): the idempotency key of every attempt.</summary>
    public required string AlertUid { get; init; }
    /// <summary>Where it goes: an http(s) URL, or udp:// / tcp:// for Cursor-on-Target.</summary>
    public required string Target { get; init; }
    public required byte[] Payload { get; init; }
    /// <summary><see cref="DeliveryState"/>.</summary>
    public required string State { get; init; }
    public required int Attempts { get; init; }
    public required int MaxAttempts { get; init; }
    public required DateTime NextAttemptUtc { get; init; }
    public string? LastError { get; init; }
    public DateTime? DeliveredUtc { get; init; }

    public OutboxItem With(string state, int attempts, string? lastError, DateTime? deliveredUtc, DateTime nextAttemptUtc) =>
        this with { State = state, Attempts = attempts, LastError = lastError, DeliveredUtc = deliveredUtc, NextAttemptUtc = nextAttemptUtc };
}

/// <summary>Counts of an outbox's rows by state, per target.</summary>
public sealed record OutboxCounts(string Target, int Pending, int Delivered, int Failed);

/// <summary>
/// A durable delivery queue in one SQLite file (e.g. outbox.db in a watch's output folder), for alerts that have no
/// site catalog: each alert is written with one row per destination before anything is sent, rows are claimed
/// (one process sends a row, an expired lease frees it), retried with backoff and never deleted. A later watch into
/// the same folder, or <c>sitewatch alerts deliver --outbox FILE</c>, sends what is still pending.
/// Thread-safe: calls are serialised on one connection.
/// </summary>
public sealed class LocalOutbox : IOutboxStore<OutboxItem>, IDisposable
{
    public const string FileName = "outbox.db";
    private const int SchemaVersion = 1;
    private readonly SqliteConnection _connection;
    private readonly object _gate = new();

    private LocalOutbox(SqliteConnection connection, string path)
    {
        _connection = connection;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Opens (creating when <paramref name="create"/>) the outbox file.</summary>
    public static LocalOutbox Open(string path, bool create = true)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!create && !File.Exists(full))
        {
            throw new SiteWatchException($"{full}: no such outbox file");
        }
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = create ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        try
        {
            connection.Open();
            var outbox = new LocalOutbox(connection, full);
            outbox.Migrate();
            return outbox;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new SiteWatchException($"{full}: cannot open the outbox: {e.Message}", e);
        }
    }

    private void Migrate()
    {
        using var version = _connection.CreateCommand();
        version.CommandText = "PRAGMA user_version";
        var current = Convert.ToInt32(version.ExecuteScalar(), CultureInfo.InvariantCulture);
        if (current > SchemaVersion)
        {
            throw new SiteWatchException($"{Path}: outbox schema {current} is newer than this SiteWatch understands ({SchemaVersion}); upgrade SiteWatch");
        }
        if (current == SchemaVersion)
        {
            return;
        }
        using var tx = _connection.BeginTransaction();
        using var create = _connection.CreateCommand();
        create.Transaction = tx;
        create.CommandText = $"""
            CREATE TABLE IF NOT EXISTS outbox (
                id INTEGER PRIMARY KEY,
                alert_uid TEXT NOT NULL,
                target TEXT NOT NULL,
                payload BLOB NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL,
                next_attempt_utc TEXT NOT NULL,
                last_error TEXT,
                delivered_utc TEXT,
                claimed_by TEXT,
                lease_until_utc TEXT,
                created_utc TEXT NOT NULL,
                UNIQUE (alert_uid, target)
            );
            CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_attempt_utc);
            PRAGMA user_version = {SchemaVersion};
            """;
        create.ExecuteNonQuery();
        tx.Commit();
    }

    /// <summary>
    /// Writes an alert's rows (one per target) in one transaction; an alert already queued for a target is left as
    /// it is (the same recording watched again sends nothing twice). Returns the rows added.
    /// </summary>
    public int Enqueue(string alertUid, IEnumerable<(string Target, byte[] Payload)> items, int maxAttempts, DateTime nowUtc) => Run(() =>
    {
        using var tx = _connection.BeginTransaction();
        var added = 0;
        foreach (var (target, payload) in items)
        {
            using var insert = Command("""
                INSERT INTO outbox (alert_uid, target, payload, state, attempts, max_attempts, next_attempt_utc, created_utc)
                VALUES ($uid, $target, $payload, 'pending', 0, $max, $now, $now) ON CONFLICT (alert_uid, target) DO NOTHING
                """, tx);
            insert.Parameters.AddWithValue("$uid", alertUid);
            insert.Parameters.AddWithValue("$target", target);
            insert.Parameters.AddWithValue("$payload", payload);
            insert.Parameters.AddWithValue("$max", Math.Max(1, maxAttempts));
            insert.Parameters.AddWithValue("$now", Iso(nowUtc));
            added += insert.ExecuteNonQuery();
        }
        tx.Commit();
        return added;
    });

    /// <summary>
    /// Claims the next due, unclaimed (or lease expired) row in one statement; rows in <paramref name="skip"/> are left
    /// alone. Null when nothing is due.
    /// </summary>
    public OutboxItem? ClaimNext(DateTime nowUtc, string claimer, DateTime leaseUntilUtc, IReadOnlyCollection<long>? skip = null) => Run(() =>
    {
        using var command = Command("""
            UPDATE outbox SET claimed_by = $me, lease_until_utc = $until
            WHERE id = (
                SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_utc <= $now
                  AND (lease_until_utc IS NULL OR lease_until_utc <= $now)
                  AND id NOT IN (SELECT value FROM json_each($skip))
                ORDER BY next_attempt_utc, id LIMIT 1)
            RETURNING *
            """);
        command.Parameters.AddWithValue("$now", Iso(nowUtc));
        command.Parameters.AddWithValue("$me", claimer);
        command.Parameters.AddWithValue("$until", Iso(leaseUntilUtc));
        command.Parameters.AddWithValue("$skip", JsonSerializer.Serialize(skip ?? []));
        using var reader = command.ExecuteReader();
        return reader.Read() ? Read(reader) : null;
    });

    /// <summary>
    /// Records one attempt's outcome and releases the claim, only while <paramref name="claimer"/> still holds the claim
    /// it made when the row had <paramref name="claimedAttempts"/> attempts. False, changing nothing, when that claim
    /// ran out and another sender took the row over: the newer outcome stands.
    /// </summary>
    public bool Record(OutboxItem updated, string claimer, int claimedAttempts) => Run(() =>
    {
        using var command = Command("""
            UPDATE outbox SET state = $state, attempts = $attempts, next_attempt_utc = $next, last_error = $error, delivered_utc = $delivered,
                claimed_by = NULL, lease_until_utc = NULL
            WHERE id = $id AND claimed_by = $me AND attempts = $claimed
            """);
        command.Parameters.AddWithValue("$id", updated.Id);
        command.Parameters.AddWithValue("$state", updated.State);
        command.Parameters.AddWithValue("$attempts", updated.Attempts);
        command.Parameters.AddWithValue("$next", Iso(updated.NextAttemptUtc));
        command.Parameters.AddWithValue("$error", (object?)updated.LastError ?? DBNull.Value);
        command.Parameters.AddWithValue("$delivered", updated.DeliveredUtc is { } d ? Iso(d) : DBNull.Value);
        command.Parameters.AddWithValue("$me", claimer);
        command.Parameters.AddWithValue("$claimed", claimedAttempts);
        return command.ExecuteNonQuery() == 1;
    });

    /// <summary>Gives a claimed row back untouched (the sender was stopped mid-attempt).</summary>
    public void Release(long id, string claimer) => Run(() =>
    {
        using var command = Command("UPDATE outbox SET claimed_by = NULL, lease_until_utc = NULL WHERE id = $id AND claimed_by = $me");
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$me", claimer);
        return command.ExecuteNonQuery();
    });

    /// <summary>Every row, oldest first.</summary>
    public IReadOnlyList<OutboxItem> List() => Run(() =>
    {
        using var command = Command("SELECT * FROM outbox ORDER BY id");
        using var reader = command.ExecuteReader();
        var list = new List<OutboxItem>();
        while (reader.Read())
        {
            list.Add(Read(reader));
        }
        return list;
    });

    /// <summary>Rows by state for each target.</summary>
    public IReadOnlyList<OutboxCounts> Counts() => Run(() =>
    {
        using var command = Command("""
            SELECT target, SUM(state = 'pending'), SUM(state = 'delivered'), SUM(state = 'failed') FROM outbox GROUP BY target ORDER BY MIN(id)
            """);
        using var reader = command.ExecuteReader();
        var list = new List<OutboxCounts>();
        while (reader.Read())
        {
            list.Add(new OutboxCounts(reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3)));
        }
        return list;
    });

    private static OutboxItem Read(SqliteDataReader r) => new()
    {
        Id = r.GetInt64(r.GetOrdinal("id")),
        AlertUid = r.GetString(r.GetOrdinal("alert_uid")),
        Target = r.GetString(r.GetOrdinal("target")),
        Payload = (byte[])r["payload"],
        State = r.GetString(r.GetOrdinal("state")),
        Attempts = r.GetInt32(r.GetOrdinal("attempts")),
        MaxAttempts = r.GetInt32(r.GetOrdinal("max_attempts")),
        NextAttemptUtc = ParseIso(r.GetString(r.GetOrdinal("next_attempt_utc"))),
        LastError = r.IsDBNull(r.GetOrdinal("last_error")) ? null : r.GetString(r.GetOrdinal("last_error")),
        DeliveredUtc = r.IsDBNull(r.GetOrdinal("delivered_utc")) ? null : ParseIso(r.GetString(r.GetOrdinal("delivered_utc"))),
    };

    private SqliteCommand Command(string sql, SqliteTransaction? tx = null)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = tx;
        return command;
    }

    private T Run<T>(Func<T> action)
    {
        lock (_gate)
        {
            try
            {
                return action();
            }
            catch (SqliteException e)
            {
                var reason = e.SqliteErrorCode switch
                {
                    8 => "the outbox is read-only",
                    5 or 6 => "the outbox is locked by another process",
                    11 or 26 => "the outbox file is corrupt or not a SQLite database",
                    13 => "the disk is full",
                    _ => e.Message,
                };
                throw new SiteWatchException($"{Path}: {reason}", e);
            }
        }
    }

    private static string Iso(DateTime utc) => utc.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static DateTime ParseIso(string text) =>
        DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    public void Dispose()
    {
        lock (_gate)
        {
            _connection.Dispose();
        }
    }
}

/// <summary>One round over a <see cref="LocalOutbox"/>: every due row claimed, sent and recorded once.</summary>
public static class OutboxDelivery
{
    /// <summary>Sends one row; returns null when it got there, else why not (one line).</summary>
    public delegate Task<string?> Sender(OutboxItem item, CancellationToken cancel);

    /// <summary>
    /// Claims, sends and records every due row once. <paramref name="nowUtc"/> is when the round starts; claims and
    /// outcomes are stamped with the time they happen (<see cref="WebhookDeliveryOptions.Clock"/>).
    /// </summary>
    public static async Task<OutboxRoundReport> DeliverDueAsync(LocalOutbox outbox, Sender send, DateTime nowUtc, WebhookDeliveryOptions? options = null,
        CancellationToken cancel = default)
    {
        var round = await DeliveryRound.RunAsync(outbox, async (item, token) => await send(item, token).ConfigureAwait(false) is { } error ? SendOutcome.Failed(error) : SendOutcome.Sent,
            item => $"{SecretMask.Url(item.Target)}: row {item.Id} ({item.AlertUid})", nowUtc, options ?? new WebhookDeliveryOptions(), cancel).ConfigureAwait(false);
        return new OutboxRoundReport(round.Attempted) { Dropped = round.Dropped };
    }
}

/// <summary>What one round over a local outbox did (<see cref="Dropped"/>: as in <see cref="DeliveryReport.Dropped"/>).</summary>
public sealed record OutboxRoundReport(IReadOnlyList<OutboxItem> Attempted)
{
    public IReadOnlyList<string> Dropped { get; init; } = [];

    public int Delivered => Attempted.Count(i => i.State == DeliveryState.Delivered);
    public int Retrying => Attempted.Count(i => i.State == DeliveryState.Pending);
    public int Failed => Attempted.Count(i => i.State == DeliveryState.Failed);
}
