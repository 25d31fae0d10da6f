namespace SiteWatch.Tests.Catalog;

/// <summary>
/// How catalogs before schema 13 kept alert deliveries, for upgrade tests: the alert_deliveries table (schema 4;
/// with the claim columns from schema 5), filled from a current catalog's outbox, which it replaces.
/// </summary>
internal static class LegacyDeliveries
{
    public static string FromOutbox(bool withClaims) => $"""
        CREATE TABLE alert_deliveries (
            id INTEGER PRIMARY KEY,
            alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
            target_url TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL,
            next_attempt_utc TEXT NOT NULL,
            last_error TEXT,
            delivered_utc TEXT,{(withClaims ? "\n    claimed_by TEXT,\n    lease_until_utc TEXT," : "")}
            UNIQUE (alert_id, target_url)
        );
        INSERT INTO alert_deliveries (id, alert_id, target_url, state, attempts, max_attempts, next_attempt_utc, last_error, delivered_utc)
            SELECT id, alert_id, target, state, attempts, max_attempts, next_attempt_utc, last_error, delivered_utc FROM outbox;
        DROP TABLE outbox;
        """;
}
