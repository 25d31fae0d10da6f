using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Core.Alerts;

/// <summary>
/// The outbox of alerts that no site catalog keeps (a watch without a site), in one SQLite file (outbox.db in the
/// watch's output folder): the same table and statements as a catalog's outbox (<see cref="OutboxTable"/>), rows
/// written before anything is sent, claimed, retried with backoff and never deleted. A later watch into the same
/// folder, or <c>sitewatch alerts deliver --outbox FILE</c>, sends what is still pending.
/// Thread-safe: calls are serialised on one connection.
/// </summary>
public sealed class LocalOutbox : IOutboxStore, IOutboxDatabase, IDisposable
{
    public const string FileName = "outbox.db";

    /// <summary>1: the first table; 2: the shared outbox table (site and alert columns, empty here).</summary>
    private const int SchemaVersion = 2;
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
        create.CommandText = (current == 1 ? "ALTER TABLE outbox ADD COLUMN site_id INTEGER; ALTER TABLE outbox ADD COLUMN alert_id INTEGER;\n" : "")
            + OutboxTable.Create(postgres: false) + $"\nPRAGMA user_version = {SchemaVersion};";
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
        var added = items.Count(item => OutboxTable.Enqueue(this, tx, null, null, alertUid, item.Target, item.Payload, maxAttempts, nowUtc));
        tx.Commit();
        return added;
    });

    public OutboxRow? ClaimNext(DateTime nowUtc, string claimer, DateTime leaseUntilUtc, IReadOnlyCollection<long> skip) =>
        Run(() => OutboxTable.ClaimNext(this, null, nowUtc, claimer, leaseUntilUtc, skip));

    public bool Record(OutboxRow updated, string claimer, int claimedAttempts) => Run(() => OutboxTable.Record(this, updated, claimer, claimedAttempts));

    public void Release(long id, string claimer) => Run(() => { OutboxTable.Release(this, id, claimer); return 0; });

    /// <summary>Every row, oldest first.</summary>
    public IReadOnlyList<OutboxRow> List() => Run(() => OutboxTable.List(this, null));

    /// <summary>Rows by state for each target.</summary>
    public IReadOnlyList<OutboxCounts> Counts() => Run(() => OutboxTable.Counts(this, null));

    DbCommand IOutboxDatabase.OutboxCommand(string sql, DbTransaction? tx)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = (SqliteTransaction?)tx;
        return command;
    }

    T IOutboxDatabase.RunOutbox<T>(Func<T> action) => Run(action);

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
    public delegate Task<string?> Sender(OutboxRow row, CancellationToken cancel);

    /// <summary>
    /// Claims, sends and records every due row once. <paramref name="nowUtc"/> is when the round starts; claims and
    /// outcomes are stamped with the time they happen (<see cref="WebhookDeliveryOptions.Clock"/>).
    /// </summary>
    public static Task<DeliveryRoundResult> DeliverDueAsync(LocalOutbox outbox, Sender send, DateTime nowUtc, WebhookDeliveryOptions? options = null,
        CancellationToken cancel = default) =>
        DeliveryRound.RunAsync(outbox, async (row, token) => await send(row, token).ConfigureAwait(false) is { } error ? SendOutcome.Failed(error) : SendOutcome.Sent,
            nowUtc, options ?? new WebhookDeliveryOptions(), cancel);
}
