using System.Data.Common;
using System.Globalization;
using SiteWatch.Core.Alerts;

namespace SiteWatch.Core.Catalog;

/// <summary>
/// Alert rules, alerts and their outbox (schema v4 with the detection runs table, claims v5, the shared outbox table v13).
/// </summary>
public sealed partial class SiteCatalog : IOutboxDatabase
{
    /// <summary>
    /// Schema v13: the outbox. Deliveries were rows of alert_deliveries, rendered at each attempt; they become rows of
    /// the one outbox table every alert store has (<see cref="OutboxTable"/>), payload rendered once, ids, states,
    /// attempts and errors kept, and alert_deliveries is dropped in the same transaction.
    /// </summary>
    private void CreateVersion13Outbox(DbTransaction tx)
    {
        Execute(OutboxTable.Create(Engine == CatalogEngine.Postgres), tx);
        if (!TableExists("alert_deliveries", tx))
        {
            return;
        }
        var alerts = new Dictionary<long, AlertRecord>();
        using (var read = Command("SELECT * FROM alerts", tx))
        {
            foreach (var alert in ReadAll(read, ReadAlert))
            {
                alerts[alert.Id] = alert;
            }
        }
        var sites = new Dictionary<long, string>();
        using (var read = Command("SELECT id, name FROM sites", tx))
        {
            foreach (var (id, name) in ReadAll(read, r => (r.ReadInt64(0), r.GetString(1))))
            {
                sites[id] = name;
            }
        }
        using (var read = Command("SELECT * FROM alert_deliveries ORDER BY id", tx))
        {
            foreach (var d in ReadAll(read, r => (Id: r.ReadInt64(r.GetOrdinal("id")), AlertId: r.ReadInt64(r.GetOrdinal("alert_id")),
                         Target: r.GetString(r.GetOrdinal("target_url")), State: r.GetString(r.GetOrdinal("state")),
                         Attempts: r.ReadInt32(r.GetOrdinal("attempts")), Max: r.ReadInt32(r.GetOrdinal("max_attempts")),
                         Next: r.GetString(r.GetOrdinal("next_attempt_utc")),
                         Error: r.IsDBNull(r.GetOrdinal("last_error")) ? null : r.GetString(r.GetOrdinal("last_error")),
                         Delivered: r.IsDBNull(r.GetOrdinal("delivered_utc")) ? null : r.GetString(r.GetOrdinal("delivered_utc")))))
            {
                var alert = alerts[d.AlertId];
                var uid = WebhookDelivery.Uid(alert.SiteId, alert);
                OutboxTable.Enqueue(this, tx, alert.SiteId, alert.Id, uid, d.Target, WebhookDelivery.Payload(sites[alert.SiteId], alert, uid),
                    d.Max, alert.RaisedUtc, id: d.Id);
                using var state = Command("""
                    UPDATE outbox SET state = @state, attempts = @attempts, next_attempt_utc = @next, last_error = @error, delivered_utc = @delivered
                    WHERE id = @id
                    """, tx);
                state.Bind("id", d.Id);
                state.Bind("state", d.State);
                state.Bind("attempts", d.Attempts);
                state.Bind("next", d.Next);
                state.Bind("error", d.Error);
                state.Bind("delivered", d.Delivered);
                Run(state.ExecuteNonQuery);
            }
        }
        if (Engine == CatalogEngine.Postgres)
        {
            // Rows came with their ids: the identity continues above them.
            Execute("SELECT setval(pg_get_serial_sequence('outbox', 'id'), GREATEST((SELECT max(id) FROM outbox), 1))", tx);
        }
        Execute("DROP TABLE alert_deliveries", tx);
    }

    private bool TableExists(string table, DbTransaction tx)
    {
        using var command = Command(Engine == CatalogEngine.Postgres
            ? "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = @t"
            : "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = @t", tx);
        command.Bind("t", table);
        return Convert.ToInt64(Run(command.ExecuteScalar), CultureInfo.InvariantCulture) > 0;
    }

    /// <summary>
    /// Schema v5 (alerts): deliveries can be claimed by one delivering process at a time (claimed_by, lease_until_utc);
    /// an expired lease is free again. Additive only. Catalogs upgraded from before v4 never had deliveries: v4 no
    /// longer creates their table, and v13 gives them the outbox directly.
    /// </summary>
    private void CreateVersion5Alerts(DbTransaction tx)
    {
        if (TableExists("alert_deliveries", tx))
        {
            Execute("""
                ALTER TABLE alert_deliveries ADD COLUMN claimed_by TEXT;
                ALTER TABLE alert_deliveries ADD COLUMN lease_until_utc TEXT;
                """, tx);
        }
    }

    private void CreateVersion4(DbTransaction tx)
    {
        Execute("""
            CREATE TABLE detection_runs (
                id INTEGER PRIMARY KEY,
                site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
                scene_id INTEGER NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
                model_sha256 TEXT NOT NULL,
                model_name TEXT NOT NULL,
                parameters TEXT NOT NULL,
                parameters_sha256 TEXT NOT NULL,
                counts TEXT NOT NULL,
                detections_file TEXT NOT NULL,
                created_utc TEXT NOT NULL,
                UNIQUE (scene_id, parameters_sha256)
            );
            CREATE TABLE alert_rules (
                site_id INTEGER PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
                rules_json TEXT NOT NULL,
                source_path TEXT NOT NULL,
                stored_utc TEXT NOT NULL
            );
            CREATE TABLE alerts (
                id INTEGER PRIMARY KEY,
                site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
                source TEXT NOT NULL CHECK (source IN ('scene', 'video')),
                rule_name TEXT NOT NULL,
                kind TEXT NOT NULL,
                raised_utc TEXT NOT NULL,
                observed_utc TEXT NOT NULL,
                severity TEXT NOT NULL,
                message TEXT NOT NULL,
                evidence TEXT NOT NULL,
                geometry_geojson TEXT,
                acknowledged INTEGER NOT NULL DEFAULT 0,
                alert_key TEXT NOT NULL,
                UNIQUE (site_id, alert_key)
            );
            CREATE INDEX alerts_by_site_time ON alerts(site_id, observed_utc);
            """, tx);
    }

    /// <summary>Stores (or replaces) a site's alert rules file, as written.</summary>
    public void SaveAlertRules(long siteId, string json, string sourcePath)
    {
        using var command = Command("""
            INSERT INTO alert_rules (site_id, rules_json, source_path, stored_utc) VALUES (@s, @json, @path, @now)
            ON CONFLICT (site_id) DO UPDATE SET rules_json = excluded.rules_json, source_path = excluded.source_path, stored_utc = excluded.stored_utc
            """);
        command.Bind("s", siteId);
        command.Bind("json", json);
        command.Bind("path", sourcePath);
        command.Bind("now", Iso(DateTime.UtcNow));
        Run(command.ExecuteNonQuery);
    }

    public StoredAlertRules? TryGetAlertRules(long siteId)
    {
        using var command = Command("SELECT * FROM alert_rules WHERE site_id = @s");
        command.Bind("s", siteId);
        return ReadAll(command, r => new StoredAlertRules(
            r.ReadInt64(r.GetOrdinal("site_id")), r.GetString(r.GetOrdinal("rules_json")),
            r.GetString(r.GetOrdinal("source_path")), ParseIso(r.GetString(r.GetOrdinal("stored_utc"))))).FirstOrDefault();
    }

    public bool AlertExists(long siteId, string key)
    {
        using var command = Command("SELECT 1 FROM alerts WHERE site_id = @s AND alert_key = @k");
        command.Bind("s", siteId);
        command.Bind("k", key);
        return Run(command.ExecuteScalar) is not null;
    }

    /// <summary>
    /// Records an alert, its outbox rows (one per webhook, the payload rendered once for the stored alert; written in
    /// the same transaction, so an alert is never stored without them) and moves its staged chip into place in the same
    /// step. Returns null, changing nothing, when the same alert (site and key) is already stored.
    /// </summary>
    public AlertRecord? CommitAlert(AlertRecord draft, IReadOnlyList<DeliveryTarget> targets, (string Staged, string Final)? chip = null)
    {
        if (AlertExists(draft.SiteId, draft.Key))
        {
            return null;
        }
        var stored = false;
        return CommitWithMove<AlertRecord?>(tx =>
        {
            // Another process may store the same alert between the look-up and here: the key decides, atomically.
            using var insert = Command("""
                INSERT INTO alerts (site_id, source, rule_name, kind, raised_utc, observed_utc, severity, message, evidence, geometry_geojson, acknowledged, alert_key)
                VALUES (@site, @source, @rule, @kind, @raised, @observed, @severity, @message, @evidence, @geometry, @ack, @key)
                ON CONFLICT (site_id, alert_key) DO NOTHING RETURNING id
                """, tx);
            insert.Bind("site", draft.SiteId);
            insert.Bind("source", draft.Source);
            insert.Bind("rule", draft.RuleName);
            insert.Bind("kind", draft.Kind);
            insert.Bind("raised", Iso(draft.RaisedUtc));
            insert.Bind("observed", Iso(draft.ObservedUtc));
            insert.Bind("severity", draft.Severity);
            insert.Bind("message", draft.Message);
            insert.Bind("evidence", draft.Evidence);
            insert.Bind("geometry", draft.GeometryGeoJson);
            insert.Bind("ack", draft.Acknowledged ? 1 : 0);
            insert.Bind("key", draft.Key);
            if (Run(insert.ExecuteScalar) is not { } inserted)
            {
                return null;
            }
            var alert = draft with { Id = Convert.ToInt64(inserted, CultureInfo.InvariantCulture) };
            stored = true;
            var uid = WebhookDelivery.Uid(alert.SiteId, alert);
            if (targets.Count > 0)
            {
                using var site = Command("SELECT name FROM sites WHERE id = @id", tx);
                site.Bind("id", alert.SiteId);
                var payload = WebhookDelivery.Payload((string)Run(site.ExecuteScalar)!, alert, uid);
                foreach (var target in targets.DistinctBy(t => t.Url))
                {
                    OutboxTable.Enqueue(this, tx, alert.SiteId, alert.Id, uid, target.Url, payload, target.MaxAttempts, draft.RaisedUtc);
                }
            }
            return alert;
        },
        move: () =>
        {
            if (stored && chip is { } c)
            {
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(c.Final)!);
                File.Move(c.Staged, c.Final, overwrite: true);
            }
        },
        undoMove: () =>
        {
            if (stored && chip is { } c)
            {
                File.Delete(c.Final);
            }
        });
    }

    /// <summary>A site's alerts, newest observation first.</summary>
    public IReadOnlyList<AlertRecord> ListAlerts(long siteId)
    {
        using var command = Command("SELECT * FROM alerts WHERE site_id = @s ORDER BY observed_utc DESC, id DESC");
        command.Bind("s", siteId);
        return ReadAll(command, ReadAlert);
    }

    public AlertRecord GetAlert(long id)
    {
        using var command = Command("SELECT * FROM alerts WHERE id = @id");
        command.Bind("id", id);
        return ReadAll(command, ReadAlert).FirstOrDefault() ?? throw new SiteWatchException($"no alert with id {id}");
    }

    /// <summary>Marks an alert as seen by an analyst; it stays stored.</summary>
    public void AcknowledgeAlert(long siteId, long id)
    {
        using var command = Command("UPDATE alerts SET acknowledged = 1 WHERE id = @id AND site_id = @s");
        command.Bind("id", id);
        command.Bind("s", siteId);
        if (Run(command.ExecuteNonQuery) != 1)
        {
            throw new SiteWatchException($"no alert with id {id} at site {siteId}");
        }
    }

    private AlertRecord ReadAlert(DbDataReader r)
    {
        var alert = ReadAlertRow(r);
        return alert.Source == AlertSource.Video ? alert with { Track = Alerts.TrackEvidence.TryParse(alert.Evidence) } : alert;
    }

    private AlertRecord ReadAlertRow(DbDataReader r) => new()
    {
        Id = r.ReadInt64(r.GetOrdinal("id")),
        SiteId = r.ReadInt64(r.GetOrdinal("site_id")),
        Source = r.GetString(r.GetOrdinal("source")),
        RuleName = r.GetString(r.GetOrdinal("rule_name")),
        Kind = r.GetString(r.GetOrdinal("kind")),
        RaisedUtc = ParseIso(r.GetString(r.GetOrdinal("raised_utc"))),
        ObservedUtc = ParseIso(r.GetString(r.GetOrdinal("observed_utc"))),
        Severity = r.GetString(r.GetOrdinal("severity")),
        Message = r.GetString(r.GetOrdinal("message")),
        Evidence = r.GetString(r.GetOrdinal("evidence")),
        GeometryGeoJson = r.IsDBNull(r.GetOrdinal("geometry_geojson")) ? null : r.GetString(r.GetOrdinal("geometry_geojson")),
        Acknowledged = r.ReadInt64(r.GetOrdinal("acknowledged")) != 0,
        Key = r.GetString(r.GetOrdinal("alert_key")),
    };

    /// <summary>Every outbox row of a site's alerts, oldest first.</summary>
    public IReadOnlyList<OutboxRow> ListDeliveries(long siteId) => OutboxTable.List(this, siteId);

    /// <summary>
    /// Claims the site's next due, unclaimed (or lease expired) outbox row for <paramref name="claimer"/> until
    /// <paramref name="leaseUntilUtc"/> (<see cref="OutboxTable.ClaimNext"/>). Null when nothing is due.
    /// </summary>
    public OutboxRow? ClaimNextDelivery(long siteId, DateTime nowUtc, string claimer, DateTime leaseUntilUtc, IReadOnlyCollection<long>? skip = null) =>
        OutboxTable.ClaimNext(this, siteId, nowUtc, claimer, leaseUntilUtc, skip);

    /// <summary>Gives a claimed row back untouched (e.g. the sender was stopped mid-attempt).</summary>
    public void ReleaseDelivery(long id, string claimer) => OutboxTable.Release(this, id, claimer);

    /// <summary>How many of a site's outbox rows are in each state.</summary>
    public IReadOnlyDictionary<string, int> DeliveryCounts(long siteId)
    {
        var counts = OutboxTable.Counts(this, siteId);
        return new Dictionary<string, int>
        {
            [DeliveryState.Pending] = counts.Sum(c => c.Pending),
            [DeliveryState.Delivered] = counts.Sum(c => c.Delivered),
            [DeliveryState.Failed] = counts.Sum(c => c.Failed),
        };
    }

    /// <summary>Records the outcome of one attempt (<see cref="OutboxTable.Record"/>): false when the claim was taken over.</summary>
    public bool RecordDeliveryAttempt(OutboxRow updated, string claimer, int claimedAttempts) => OutboxTable.Record(this, updated, claimer, claimedAttempts);

    DbCommand IOutboxDatabase.OutboxCommand(string sql, DbTransaction? tx) => Command(sql, tx);

    T IOutboxDatabase.RunOutbox<T>(Func<T> action) => Run(action);

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An orphaned file without a row is harmless.
        }
    }
}
