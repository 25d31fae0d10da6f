using System.Globalization;
using Microsoft.Data.Sqlite;
using SiteWatch.Core;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Core.Workflows;
using SiteWatch.Server.Auth;
using SiteWatch.Tests.Change;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Tests.Catalog;

/// <summary>
/// Ids of sites and alerts are never handed out twice (schema v8): the live feed and webhook receivers key on them.
/// A v6 catalog with data is upgraded in place, every row, index and cascade kept.
/// </summary>
public sealed class StableIdTests
{
    private static readonly DateTime T0 = new(2024, 11, 1, 12, 0, 0, DateTimeKind.Utc);
    private const string Aoi = """{"type":"Polygon","coordinates":[[[-64.51,-22.51],[-64.49,-22.51],[-64.49,-22.49],[-64.51,-22.49],[-64.51,-22.51]]]}""";

    private static Site AddSite(Workspace workspace, TempDir dir, string name)
    {
        File.WriteAllText(dir.File("border.geojson"), Aoi);
        return SiteSetup.AddSite(workspace, name, dir.File("border.geojson"), 1.0, null, [], null);
    }

    private static AlertRecord Alert(Workspace workspace, Site site, string key) => workspace.Catalog.CommitAlert(new AlertRecord
    {
        Id = 0, SiteId = site.Id, Source = AlertSource.Video, RuleName = "zone: cross", Kind = "cross", RaisedUtc = T0, ObservedUtc = T0,
        Severity = "warning", Message = $"alert {key}", Evidence = "{}", Key = key,
    }, [new DeliveryTarget("http://127.0.0.1:9/hook", 5)])!;

    [Fact]
    public void Deleting_the_newest_site_or_alert_never_gives_its_id_to_the_next_one()
    {
        using var dir = new TempDir();
        using var workspace = Workspace.Init(dir.File("ws"));
        var kept = AddSite(workspace, dir, "kept");
        var keptAlert = Alert(workspace, kept, "a");
        var newest = AddSite(workspace, dir, "newest");
        var newestAlert = Alert(workspace, newest, "b");
        Assert.True(newestAlert.Id > keptAlert.Id);

        // The newest site goes, and with it (cascade) the newest alert.
        Assert.True(workspace.DeleteSite(newest).Deleted);
        Assert.Null(workspace.Catalog.TryGetAlert(newestAlert.Id));

        var next = AddSite(workspace, dir, "next");
        Assert.True(next.Id > newest.Id, $"site id {next.Id} reused (deleted {newest.Id})");
        var nextAlert = Alert(workspace, kept, "c");
        Assert.True(nextAlert.Id > newestAlert.Id, $"alert id {nextAlert.Id} reused (deleted {newestAlert.Id})");
        // What a live feed that had pushed the deleted alert asks for next finds the new one.
        Assert.Equal(nextAlert.Id, Assert.Single(workspace.Catalog.AlertsAfter(newestAlert.Id)).Id);
    }

    [Fact]
    public void A_version_6_catalog_with_data_is_upgraded_in_place_with_every_row_index_and_cascade()
    {
        using var dir = new TempDir();
        var (workspace, plant) = SiteChangeTests.Ingested(dir);
        using (workspace)
        {
            SiteChangeWorkflow.Run(workspace, "plant", "2024-03-14", "2024-10-15", new SiteChangeOptions { Detection = new ChangeDetectionOptions { Method = ChangeMethodKind.Cva } });
            UserAccounts.Add(workspace.Catalog, "ana", UserRoles.Analyst, "correct horse battery staple");
            File.WriteAllText(dir.File("rules.json"), """{"rules": [{"name": "more vehicles", "kind": "count_above_baseline", "class": "vehicle"}], "webhooks": [{"url": "http://127.0.0.1:9/hook"}]}""");
            AlertWorkflow.StoreRules(workspace, "plant", dir.File("rules.json"));
            Alert(workspace, plant, "p1");
            Alert(workspace, plant, "p2");
            var border = AddSite(workspace, dir, "border");
            Alert(workspace, border, "b1");
            // Deleted while the catalog was v6 (its ids are gone from the catalog, so they may be given out once more).
            var gone = AddSite(workspace, dir, "gone");
            Alert(workspace, gone, "g1");
            workspace.DeleteSite(gone);
        }
        var catalog = dir.File("ws/sitewatch.db");
        DowngradeToVersion6(catalog);
        var before = Dump(catalog);
        Assert.Contains(before, t => t.Key == "scenes" && t.Value.Count == 2);
        Assert.Contains(before, t => t.Key == "change_runs" && t.Value.Count == 1);
        Assert.Contains(before, t => t.Key == "alert_deliveries" && t.Value.Count == 3);

        using (var upgraded = Workspace.Open(dir.File("ws")))
        {
            Assert.Empty(upgraded.Catalog.DatabaseProblems());
        }
        var after = Dump(catalog);
        // Later versions add the notes table (7), user revocation columns (9), the video tables (10) and drone feeds (12); every v6 row stays as it was.
        string[] laterColumns = ["security_stamp=", "expires_utc=", "revoked_utc="];
        static string WithoutLater(string row, string[] later) => string.Join("|", row.Split('|').Where(f => !later.Any(f.StartsWith)));
        // Schema 13 moved the deliveries into the outbox: ids, alerts, targets, states and attempts as they were.
        Assert.Equal(before["alert_deliveries"].Select(r => Fields(r, "id", "alert_id", "target_url", "state", "attempts")),
            after["outbox"].Select(r => Fields(r, "id", "alert_id", "target", "state", "attempts")));
        Assert.Equal(before.Keys.Where(k => k != "alert_deliveries").Order(),
            after.Keys.Where(k => k is not "sqlite_sequence" and not "site_notes" and not "recordings" and not "site_watch_zones" and not "drone_feeds" and not "outbox").Order());
        foreach (var (table, rows) in before.Where(t => t.Key != "alert_deliveries"))
        {
            Assert.True(rows.SequenceEqual(after[table].Select(r => WithoutLater(r, laterColumns))), $"table {table} changed by the upgrade");
        }
        using (var raw = Open(catalog))
        {
            Assert.Equal(13L, Scalar(raw, "PRAGMA user_version"));
            Assert.Equal(2L, Scalar(raw, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('sites', 'alerts') AND sql LIKE '%AUTOINCREMENT%'"));
            Assert.Equal(1L, Scalar(raw, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'alerts_by_site_time'"));
            Assert.Equal(0L, Scalar(raw, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'sitewatch_new_%'"));
        }

        using var reopened = Workspace.Open(dir.File("ws"));
        var c = reopened.Catalog;
        // Foreign keys are enforced again after the upgrade.
        Assert.Throws<SiteWatchException>(() => Alert(reopened, plant with { Id = 9999 }, "orphan"));
        // Ids continue above every id the catalog still holds.
        var border2 = c.TryGetSite("border")!;
        var nextSite = AddSite(reopened, dir, "next");
        Assert.True(nextSite.Id > border2.Id);
        var newest = Alert(reopened, border2, "b2");
        Assert.True(reopened.DeleteSite(border2).Deleted);
        var after2 = Alert(reopened, plant, "p3");
        Assert.True(after2.Id > newest.Id, $"alert id {after2.Id} reused (deleted {newest.Id})");
        Assert.True(c.AddSite("again", border2.Aoi, 4326, 1.0, [], null).Id > nextSite.Id);
        // Cascades survived the rebuild: a site's scenes, runs, rules, alerts and their deliveries go with it.
        Assert.True(reopened.DeleteSite(plant).Deleted);
        using var check = Open(catalog);
        foreach (var table in new[] { "scenes", "change_runs", "alert_rules", "alerts", "outbox" })
        {
            Assert.Equal(0L, Scalar(check, $"SELECT count(*) FROM {table}"));
        }
        Assert.Equal(1L, Scalar(check, "SELECT count(*) FROM users"));
    }

    /// <summary>
    /// Turns a current catalog back into what v6 wrote: sites and alerts with a plain INTEGER PRIMARY KEY (rebuilt the
    /// same documented way), no notes table or user revocation columns, no sqlite_sequence rows, user_version 6.
    /// </summary>
    private static void DowngradeToVersion6(string path)
    {
        using var raw = Open(path);
        Execute(raw, "PRAGMA foreign_keys = OFF");
        using (var tx = raw.BeginTransaction())
        {
            foreach (var table in new[] { "sites", "alerts" })
            {
                var sql = (string)Scalar(raw, $"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'", tx)!;
                Assert.Contains("AUTOINCREMENT", sql);
                var indexes = new List<string>();
                using (var find = raw.CreateCommand())
                {
                    find.Transaction = tx;
                    find.CommandText = $"SELECT sql FROM sqlite_master WHERE tbl_name = '{table}' AND type = 'index' AND sql IS NOT NULL";
                    using var reader = find.ExecuteReader();
                    while (reader.Read())
                    {
                        indexes.Add(reader.GetString(0));
                    }
                }
                var old = sql.Replace(" AUTOINCREMENT", "", StringComparison.Ordinal);
                old = System.Text.RegularExpressions.Regex.Replace(old, @"^CREATE TABLE (""?)" + table + @"\1", "CREATE TABLE old_" + table);
                Execute(raw, old, tx);
                Execute(raw, $"INSERT INTO old_{table} SELECT * FROM {table}", tx);
                Execute(raw, $"DROP TABLE {table}", tx);
                Execute(raw, $"ALTER TABLE old_{table} RENAME TO {table}", tx);
                indexes.ForEach(i => Execute(raw, i, tx));
            }
            Execute(raw, "DROP TABLE site_notes; DROP TABLE recordings; DROP TABLE site_watch_zones; DROP TABLE drone_feeds; ALTER TABLE users DROP COLUMN security_stamp; ALTER TABLE api_keys DROP COLUMN expires_utc; ALTER TABLE api_keys DROP COLUMN revoked_utc;", tx);
            // Deliveries as schema 5 kept them, in alert_deliveries with its claim columns.
            Execute(raw, LegacyDeliveries.FromOutbox(withClaims: true), tx);
            Execute(raw, "DELETE FROM sqlite_sequence; PRAGMA user_version = 6;", tx);
            tx.Commit();
        }
        Assert.Equal(0L, Scalar(raw, "SELECT count(*) FROM sqlite_master WHERE sql LIKE '%AUTOINCREMENT%'"));
    }

    /// <summary>The named fields of a dumped row, values only, in that order.</summary>
    private static string Fields(string row, params string[] names)
    {
        var fields = row.Split('|').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
        return string.Join("|", names.Select(n => fields[n]));
    }

    /// <summary>Every row of every table, as text, in rowid order.</summary>
    private static Dictionary<string, List<string>> Dump(string path)
    {
        using var raw = Open(path);
        var tables = new List<string>();
        using (var list = raw.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' OR name = 'sqlite_sequence'";
            using var reader = list.ExecuteReader();
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }
        var dump = new Dictionary<string, List<string>>();
        foreach (var table in tables)
        {
            using var select = raw.CreateCommand();
            select.CommandText = table == "sqlite_sequence" ? "SELECT * FROM sqlite_sequence ORDER BY name" : $"SELECT * FROM {table} ORDER BY rowid";
            using var reader = select.ExecuteReader();
            var rows = new List<string>();
            while (reader.Read())
            {
                rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetName(i) + "=" + Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))));
            }
            dump[table] = rows;
        }
        if (dump.TryGetValue("sqlite_sequence", out var sequence) && sequence.Count == 0)
        {
            dump.Remove("sqlite_sequence");
        }
        return dump;
    }

    private static SqliteConnection Open(string path)
    {
        var raw = new SqliteConnection($"Data Source={path};Pooling=False");
        raw.Open();
        return raw;
    }

    private static void Execute(SqliteConnection raw, string sql, SqliteTransaction? tx = null)
    {
        using var command = raw.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection raw, string sql, SqliteTransaction? tx = null)
    {
        using var command = raw.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
