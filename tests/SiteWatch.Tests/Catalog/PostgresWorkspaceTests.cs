using NetTopologySuite.Geometries;
using SiteWatch.Core;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Workflows;

namespace SiteWatch.Tests.Catalog;

/// <summary>A workspace whose catalog lives in PostgreSQL: made, reopened, refused when wrong, and kept through a server restart.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresWorkspaceTests(PostgresServer server)
{
    private static readonly Polygon Area = (Polygon)new GeometryFactory(new PrecisionModel(), 4326).ToGeometry(new Envelope(10, 10.01, 50, 50.01));

    [Fact]
    public void Init_writes_catalog_json_and_every_later_command_opens_the_same_database()
    {
        using var dir = new TempDir();
        var connection = server.CreateDatabase();
        using (var ws = Workspace.Init(dir.File("ws"), connection))
        {
            ws.Catalog.AddSite("plant", Area, 32632, 1.0, [], null);
        }

        Assert.True(Workspace.Exists(dir.File("ws")));
        Assert.False(File.Exists(Path.Combine(dir.File("ws"), Workspace.CatalogFileName)));
        Assert.Contains("\"postgresql\"", File.ReadAllText(Path.Combine(dir.File("ws"), Workspace.CatalogSettingsFileName)));
        using var reopened = Workspace.Open(dir.File("ws"));
        Assert.Equal(CatalogEngine.Postgres, reopened.Catalog.Engine);
        Assert.StartsWith("postgresql://sitewatch@127.0.0.1:", reopened.CatalogLocation);
        Assert.Equal(["plant"], reopened.Catalog.ListSites().Select(s => s.Name));
        // init again with the same database is a no-op; with another one it is refused.
        using (Workspace.Init(dir.File("ws"), connection))
        {
        }
        var other = Assert.Throws<SiteWatchException>(() => Workspace.Init(dir.File("ws"), server.CreateDatabase()));
        Assert.Contains("already", other.Message);
    }

    [Fact]
    public void The_cli_makes_a_postgres_workspace_and_lists_its_sites()
    {
        using var dir = new TempDir();
        var ws = dir.File("ws");
        var init = Cli.CliTests.Run(null, "init", ws, "--postgres", server.CreateDatabase(), "--json");
        Assert.True(init.Code == 0, init.Err);
        Assert.Contains("\"engine\": \"postgresql\"", init.Out);
        File.WriteAllText(dir.File("aoi.geojson"), IngestTests.SceneAoi);
        var add = Cli.CliTests.Run(ws, "site", "add", "plant", "--aoi", dir.File("aoi.geojson"), "--gsd", "1");
        Assert.True(add.Code == 0, add.Err);
        var (code, output, error) = Cli.CliTests.Run(ws, "site", "list", "--json");
        Assert.True(code == 0, error);
        Assert.Contains("\"plant\"", output);
    }

    [Fact]
    public void A_password_in_the_connection_string_a_missing_database_and_a_sqlite_workspace_are_refused_leaving_nothing()
    {
        using var dir = new TempDir();
        var withPassword = Assert.Throws<SiteWatchException>(() => Workspace.Init(dir.File("a"), server.ConnectionString("postgres") + ";Password=secret"));
        Assert.Contains("~/.pgpass or PGPASSWORD", withPassword.Message);
        Assert.False(File.Exists(Path.Combine(dir.File("a"), Workspace.CatalogSettingsFileName)));

        var missing = Assert.Throws<SiteWatchException>(() => Workspace.Init(dir.File("b"), server.ConnectionString("no_such_db")));
        Assert.Contains("does not exist", missing.Message);
        Assert.False(Workspace.Exists(dir.File("b")));

        using (Workspace.Init(dir.File("c")))
        {
        }
        var sqlite = Assert.Throws<SiteWatchException>(() => Workspace.Init(dir.File("c"), server.CreateDatabase()));
        Assert.Contains("sitewatch.db", sqlite.Message);
    }

    [Fact]
    public void A_schema_11_catalog_is_upgraded_in_place_keeping_its_sites()
    {
        using var dir = new TempDir();
        var connection = server.CreateDatabase();
        using (var ws = Workspace.Init(dir.File("ws"), connection))
        {
            File.WriteAllText(dir.File("aoi.geojson"), IngestTests.SceneAoi);
            SiteSetup.AddSite(ws, "plant", dir.File("aoi.geojson"), 1.0, null, [], null);
        }
        // What a catalog made by the previous release holds: no drone feeds, schema 11.
        using (var raw = new Npgsql.NpgsqlConnection(connection))
        {
            raw.Open();
            using var command = new Npgsql.NpgsqlCommand("DROP TABLE drone_feeds; DELETE FROM sitewatch_schema; INSERT INTO sitewatch_schema VALUES (11, '2026-11-01T00:00:00.000Z')", raw);
            command.ExecuteNonQuery();
        }
        using var upgraded = Workspace.Open(dir.File("ws"));
        Assert.Equal("plant", Assert.Single(upgraded.Catalog.ListSites()).Name);
        Assert.Empty(upgraded.Catalog.DatabaseProblems());
        var site = upgraded.Catalog.GetSite("plant");
        Assert.Equal("ridge", upgraded.Catalog.SaveFeed(site.Id, "ridge", "udp://127.0.0.1:5600", new Core.Monitoring.FeedOptions()).Name);
    }

    [Fact]
    public void A_schema_12_catalog_moves_its_deliveries_into_the_outbox_and_keeps_counting_ids_above_them()
    {
        using var dir = new TempDir();
        var connection = server.CreateDatabase();
        long siteId;
        using (var ws = Workspace.Init(dir.File("ws"), connection))
        {
            var site = ws.Catalog.AddSite("plant", Area, 32632, 1.0, [], null);
            siteId = site.Id;
            foreach (var key in new[] { "k1", "k2" })
            {
                ws.Catalog.CommitAlert(new AlertRecord
                {
                    Id = 0, SiteId = site.Id, Source = AlertSource.Scene, RuleName = "new structure", Kind = "new_structure",
                    RaisedUtc = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), ObservedUtc = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc),
                    Severity = "warning", Message = "a new building", Evidence = """{"area_m2": 1200}""", Key = key,
                }, [new DeliveryTarget("https://a.example/hook", 3)]);
            }
        }
        // What schema 12 held: deliveries in alert_deliveries (one failed once), rendered at each attempt; no outbox.
        using (var raw = new Npgsql.NpgsqlConnection(connection))
        {
            raw.Open();
            using var command = new Npgsql.NpgsqlCommand("""
                CREATE TABLE alert_deliveries (
                    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    alert_id bigint NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
                    target_url text NOT NULL,
                    state text NOT NULL,
                    attempts integer NOT NULL DEFAULT 0,
                    max_attempts integer NOT NULL,
                    next_attempt_utc text NOT NULL,
                    last_error text,
                    delivered_utc text,
                    claimed_by text,
                    lease_until_utc text,
                    UNIQUE (alert_id, target_url)
                );
                INSERT INTO alert_deliveries (id, alert_id, target_url, state, attempts, max_attempts, next_attempt_utc, last_error)
                    SELECT id + 40, alert_id, target, state, attempts, max_attempts, next_attempt_utc, last_error FROM outbox;
                UPDATE alert_deliveries SET attempts = 1, last_error = 'HTTP 503' WHERE id = (SELECT min(id) FROM alert_deliveries);
                DROP TABLE outbox;
                DELETE FROM sitewatch_schema; INSERT INTO sitewatch_schema VALUES (12, '2026-11-20T00:00:00.000Z');
                """, raw);
            command.ExecuteNonQuery();
        }

        using var upgraded = Workspace.Open(dir.File("ws"));
        Assert.Empty(upgraded.Catalog.DatabaseProblems());
        var rows = upgraded.Catalog.ListDeliveries(siteId);
        Assert.Equal([41L, 42L], rows.Select(r => r.Id));
        Assert.Equal((1, "HTTP 503"), (rows[0].Attempts, rows[0].LastError));
        Assert.All(rows, r => Assert.Equal(r.AlertUid, System.Text.Json.JsonDocument.Parse(r.Payload).RootElement.GetProperty("alert").GetProperty("uid").GetString()));
        Assert.Equal("plant", System.Text.Json.JsonDocument.Parse(rows[0].Payload).RootElement.GetProperty("site").GetString());
        // New rows continue above the moved ids: a delivery id a receiver saw is never given out again.
        var site2 = upgraded.Catalog.GetSite("plant");
        var third = upgraded.Catalog.CommitAlert(new AlertRecord
        {
            Id = 0, SiteId = site2.Id, Source = AlertSource.Scene, RuleName = "new structure", Kind = "new_structure",
            RaisedUtc = DateTime.UtcNow, ObservedUtc = DateTime.UtcNow, Severity = "warning", Message = "another", Evidence = "{}", Key = "k3",
        }, [new DeliveryTarget("https://a.example/hook", 3)]);
        Assert.NotNull(third);
        Assert.True(upgraded.Catalog.ListDeliveries(siteId).Max(r => r.Id) > 42);
    }

    [Fact]
    public void A_database_without_the_catalog_is_not_taken_for_one()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("ws"));
        File.WriteAllText(Path.Combine(dir.File("ws"), Workspace.CatalogSettingsFileName),
            $$"""{"engine": "postgresql", "connection": "{{server.CreateDatabase()}}"}""");

        var error = Assert.Throws<SiteWatchException>(() => Workspace.Open(dir.File("ws")));
        Assert.Contains("not a SiteWatch catalog", error.Message);
    }

    [Fact]
    public void After_the_server_restarts_the_catalog_reconnects_and_nothing_committed_is_lost()
    {
        using var dir = new TempDir();
        using var ws = Workspace.Init(dir.File("ws"), server.CreateDatabase());
        var site = ws.Catalog.AddSite("plant", Area, 32632, 1.0, [], null);

        server.Restart();

        // The statement that meets the dropped connection fails with a clear error; the next runs on a new connection.
        SiteWatchException? first = null;
        try
        {
            ws.Catalog.ListSites();
        }
        catch (SiteWatchException e)
        {
            first = e;
        }
        if (first is not null)
        {
            Assert.StartsWith(ws.CatalogLocation, first.Message);
            Assert.Contains("nothing was changed", first.Message);
        }
        Assert.Equal(site.Id, ws.Catalog.GetSite("plant").Id);
        ws.Catalog.AddSite("airfield", Area, 32632, 1.0, [], null);
        Assert.Equal(2, ws.Catalog.ListSites().Count);
    }
}
