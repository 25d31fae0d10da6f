using System.Data.Common;
using SiteWatch.Core.Monitoring;

namespace SiteWatch.Core.Catalog;

/// <summary>Sites' standing monitoring orders and alerts by time across sites (schema v11), which the cluster's site grains run.</summary>
public sealed partial class SiteCatalog
{
    private void CreateVersion11Monitors(DbTransaction tx) => Execute("""
        CREATE TABLE IF NOT EXISTS site_monitors (
            site_id INTEGER PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
            schedule TEXT NOT NULL,
            every_s INTEGER NOT NULL,
            updated_utc TEXT NOT NULL,
            last_round_utc TEXT,
            last_summary TEXT,
            failed_rounds INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts(observed_utc);
        """, tx);

    /// <summary>Stores (or replaces) a site's monitoring order.</summary>
    public void SaveMonitor(long siteId, MonitorSchedule schedule)
    {
        using var command = Command("""
            INSERT INTO site_monitors (site_id, schedule, every_s, updated_utc) VALUES (@s, @schedule, @every, @now)
            ON CONFLICT (site_id) DO UPDATE SET schedule = excluded.schedule, every_s = excluded.every_s, updated_utc = excluded.updated_utc
            """);
        command.Bind("s", siteId);
        command.Bind("schedule", schedule.ToJson());
        command.Bind("every", (long)schedule.Every.TotalSeconds);
        command.Bind("now", Iso(DateTime.UtcNow));
        Run(command.ExecuteNonQuery);
    }

    /// <summary>Ends a site's monitoring order; false when it had none.</summary>
    public bool RemoveMonitor(long siteId)
    {
        using var command = Command("DELETE FROM site_monitors WHERE site_id = @s");
        command.Bind("s", siteId);
        return Run(command.ExecuteNonQuery) == 1;
    }

    public IReadOnlyList<StoredMonitor> ListMonitors()
    {
        using var command = Command("SELECT * FROM site_monitors ORDER BY site_id");
        return ReadAll(command, ReadMonitor);
    }

    public StoredMonitor? TryGetMonitor(long siteId)
    {
        using var command = Command("SELECT * FROM site_monitors WHERE site_id = @s");
        command.Bind("s", siteId);
        return ReadAll(command, ReadMonitor).FirstOrDefault();
    }

    /// <summary>
    /// Notes when a round ended and what it did (one line), for `sitewatch monitor --list` and the server; a round
    /// with failures counts towards the retry backoff (<see cref="StoredMonitor.NextRoundUtc"/>), a clean one resets it.
    /// </summary>
    public void RecordMonitorRound(long siteId, DateTime endedUtc, string summary, bool failed = false)
    {
        using var command = Command("""
            UPDATE site_monitors SET last_round_utc = @t, last_summary = @summary,
                failed_rounds = CASE WHEN @failed = 1 THEN failed_rounds + 1 ELSE 0 END
            WHERE site_id = @s
            """);
        command.Bind("t", Iso(endedUtc));
        command.Bind("summary", summary);
        command.Bind("failed", failed ? 1 : 0);
        command.Bind("s", siteId);
        Run(command.ExecuteNonQuery);
    }

    private StoredMonitor ReadMonitor(DbDataReader r) => new(
        r.ReadInt64(r.GetOrdinal("site_id")),
        MonitorSchedule.FromJson(r.GetString(r.GetOrdinal("schedule"))),
        ParseIso(r.GetString(r.GetOrdinal("updated_utc"))),
        r.IsDBNull(r.GetOrdinal("last_round_utc")) ? null : ParseIso(r.GetString(r.GetOrdinal("last_round_utc"))),
        r.IsDBNull(r.GetOrdinal("last_summary")) ? null : r.GetString(r.GetOrdinal("last_summary")),
        r.ReadInt32(r.GetOrdinal("failed_rounds")));
}
