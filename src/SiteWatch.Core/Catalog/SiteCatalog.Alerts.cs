using System.Globalization;
using System.Text.Json;
using System.Data.Common;

namespace SiteWatch.Core.Catalog;

/// <summary>Alert rules, alerts and their webhook deliveries (schema v4 with the detection runs table, claims v5).</summary>
public sealed partial class SiteCatalog
{
    /// <summary>
    /// Schema v5 (alerts): outbox rows can be claimed by one delivering process at a time (claimed_by, lease_until_utc);
    /// an expired lease is free again. Additive only.
    /// </summary>
    private void CreateVersion5Alerts(DbTransaction tx)
    {
        Execute("""
            ALTER TABLE alert_deliveries ADD COLUMN claimed_by TEXT;
            ALTER TABLE alert_deliveries ADD COLUMN lease_until_utc TEXT;
            """, tx);
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
            CREATE TABLE alert_deliveries (
                id INTEGER PRIMARY KEY,
                alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
                target_url TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL,
                next_attempt_utc TEXT NOT NULL,
                last_error TEXT,
                delivered_utc TEXT,
                UNIQUE (alert_id, target_url)
            );
            CREATE INDEX deliveries_due ON alert_deliveries(state, next_attempt_utc);
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
    /// Records an alert, its deliveries (the outbox: written in the same transaction, so an alert is never stored
    /// without them) and moves its staged chip into place in the same step. Returns null, changing nothing, when the
    /// same alert (site and key) is already stored.
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
            var id = Convert.ToInt64(inserted, CultureInfo.InvariantCulture);
            stored = true;
            foreach (var target in targets.DistinctBy(t => t.Url))
            {
                using var delivery = Command("""
                    INSERT INTO alert_deliveries (alert_id, target_url, state, attempts, max_attempts, next_attempt_utc)
                    VALUES (@alert, @url, 'pending', 0, @max, @next)
                    """, tx);
                delivery.Bind("alert", id);
                delivery.Bind("url", target.Url);
                delivery.Bind("max", target.MaxAttempts);
                delivery.Bind("next", Iso(draft.RaisedUtc));
                Run(delivery.ExecuteNonQuery);
            }
            return draft with { Id = id };
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

    /// <summary>Every delivery of a site's alerts, oldest alert first.</summary>
    public IReadOnlyList<AlertDeliveryRecord> ListDeliveries(long siteId)
    {
        using var command = Command("""
            SELECT d.* FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
            WHERE a.site_id = @s ORDER BY d.alert_id, d.id
            """);
        command.Bind("s", siteId);
        return ReadAll(command, ReadDelivery);
    }

    /// <summary>Pending deliveries of a site whose next attempt is due at <paramref name="nowUtc"/> (claimed ones included).</summary>
    public IReadOnlyList<AlertDeliveryRecord> DueDeliveries(long siteId, DateTime nowUtc)
    {
        using var command = Command("""
            SELECT d.* FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
            WHERE a.site_id = @s AND d.state = 'pending' AND d.next_attempt_utc <= @now ORDER BY d.next_attempt_utc, d.id
            """);
        command.Bind("s", siteId);
        command.Bind("now", Iso(nowUtc));
        return ReadAll(command, ReadDelivery);
    }

    /// <summary>
    /// Claims the site's next due, unclaimed (or lease expired) delivery for <paramref name="claimer"/> until
    /// <paramref name="leaseUntilUtc"/>, in one statement: two processes never get the same row. Rows whose id is in
    /// <paramref name="skip"/> (already attempted in this round) are left alone. Null when nothing is due.
    /// </summary>
    public AlertDeliveryRecord? ClaimNextDelivery(long siteId, DateTime nowUtc, string claimer, DateTime leaseUntilUtc, IReadOnlyCollection<long>? skip = null)
    {
        // Ids inlined from typed longs (no injection), the same SQL on both engines. The lease is checked again on the
        // row being updated: PostgreSQL re-reads a row another claimer changed meanwhile, and then leaves it alone.
        var skipped = skip is { Count: > 0 } ? $"AND d.id NOT IN ({string.Join(",", skip.Select(id => id.ToString(CultureInfo.InvariantCulture)))})" : "";
        using var command = Command($"""
            UPDATE alert_deliveries SET claimed_by = @me, lease_until_utc = @until
            WHERE id = (
                SELECT d.id FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
                WHERE a.site_id = @s AND d.state = 'pending' AND d.next_attempt_utc <= @now
                  AND (d.lease_until_utc IS NULL OR d.lease_until_utc <= @now)
                  {skipped}
                ORDER BY d.next_attempt_utc, d.id LIMIT 1)
              AND (lease_until_utc IS NULL OR lease_until_utc <= @now)
            RETURNING *
            """);
        command.Bind("s", siteId);
        command.Bind("now", Iso(nowUtc));
        command.Bind("me", claimer);
        command.Bind("until", Iso(leaseUntilUtc));
        return ReadAll(command, ReadDelivery).FirstOrDefault();
    }

    /// <summary>Gives a claimed delivery back untouched (e.g. the sender was stopped mid-attempt).</summary>
    public void ReleaseDelivery(long id, string claimer)
    {
        using var command = Command("UPDATE alert_deliveries SET claimed_by = NULL, lease_until_utc = NULL WHERE id = @id AND claimed_by = @me");
        command.Bind("id", id);
        command.Bind("me", claimer);
        Run(command.ExecuteNonQuery);
    }

    /// <summary>How many of a site's deliveries are in each state.</summary>
    public IReadOnlyDictionary<string, int> DeliveryCounts(long siteId)
    {
        using var command = Command("""
            SELECT d.state, COUNT(*) FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id WHERE a.site_id = @s GROUP BY d.state
            """);
        command.Bind("s", siteId);
        return ReadAll(command, r => (r.GetString(0), r.ReadInt32(1))).ToDictionary(p => p.Item1, p => p.Item2);
    }

    /// <summary>
    /// Records the outcome of one delivery attempt and releases its claim (the row is updated, never deleted), only
    /// while <paramref name="claimer"/> still holds the claim it made when the row had <paramref name="claimedAttempts"/>
    /// attempts. False, changing nothing, when that claim ran out and another sender took the row over (whether or not
    /// it has recorded yet): the newer outcome stands.
    /// </summary>
    public bool RecordDeliveryAttempt(AlertDeliveryRecord updated, string claimer, int claimedAttempts)
    {
        using var command = Command("""
            UPDATE alert_deliveries SET state = @state, attempts = @attempts, next_attempt_utc = @next, last_error = @error, delivered_utc = @delivered,
                claimed_by = NULL, lease_until_utc = NULL
            WHERE id = @id AND claimed_by = @me AND attempts = @claimed
            """);
        command.Bind("id", updated.Id);
        command.Bind("state", updated.State);
        command.Bind("attempts", updated.Attempts);
        command.Bind("next", Iso(updated.NextAttemptUtc));
        command.Bind("error", updated.LastError);
        command.Bind("delivered", updated.DeliveredUtc is { } d ? Iso(d) : DBNull.Value);
        command.Bind("me", claimer);
        command.Bind("claimed", claimedAttempts);
        return Run(command.ExecuteNonQuery) == 1;
    }

    private AlertDeliveryRecord ReadDelivery(DbDataReader r) => new()
    {
        Id = r.ReadInt64(r.GetOrdinal("id")),
        AlertId = r.ReadInt64(r.GetOrdinal("alert_id")),
        TargetUrl = r.GetString(r.GetOrdinal("target_url")),
        State = r.GetString(r.GetOrdinal("state")),
        Attempts = r.ReadInt32(r.GetOrdinal("attempts")),
        MaxAttempts = r.ReadInt32(r.GetOrdinal("max_attempts")),
        NextAttemptUtc = ParseIso(r.GetString(r.GetOrdinal("next_attempt_utc"))),
        LastError = r.IsDBNull(r.GetOrdinal("last_error")) ? null : r.GetString(r.GetOrdinal("last_error")),
        DeliveredUtc = r.IsDBNull(r.GetOrdinal("delivered_utc")) ? null : ParseIso(r.GetString(r.GetOrdinal("delivered_utc"))),
    };

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
