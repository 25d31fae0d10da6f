using NetTopologySuite.Geometries;
using SiteWatch.Core;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Core.Change.Methods;
using SiteWatch.Core.Ingest;
using SiteWatch.Core.Workflows;

namespace SiteWatch.Tests.Catalog;

/// <summary>
/// What every catalog engine must do, run against each: the embedded SQLite file and a PostgreSQL/PostGIS server
/// the tests start (<see cref="PostgresServer"/>). The workflows run unchanged on both.
/// </summary>
public abstract class CatalogContractTests
{
    /// <summary>A new, empty workspace whose catalog lives in the engine under test.</summary>
    protected abstract Workspace NewWorkspace(TempDir dir);

    protected abstract CatalogEngine Engine { get; }

    /// <summary>Runs SQL on the catalog's database as another tool would, outside SiteWatch.</summary>
    protected abstract void RunSqlOutside(Workspace ws, string sql);

    private static readonly GeometryFactory Wgs84 = new(new PrecisionModel(), 4326);

    private static Polygon Box(double lon, double lat, double size = 0.01) =>
        (Polygon)Wgs84.ToGeometry(new Envelope(lon, lon + size, lat, lat + size));

    private static Site AddSite(Workspace ws, string name, double lon = 129.5040, double lat = 39.9270) =>
        ws.Catalog.AddSite(name, Box(lon, lat), 32652, 1.0, ["test"], null);

    [Fact]
    public void Sites_are_found_by_name_whatever_its_case_and_a_second_site_of_the_same_name_is_refused()
    {
        using var dir = new TempDir();
        using var ws = NewWorkspace(dir);
        Assert.Equal(Engine, ws.Catalog.Engine);
        var plant = AddSite(ws, "Plant");
        AddSite(ws, "airfield");

        Assert.Equal(plant.Id, ws.Catalog.GetSite("PLANT").Id);
        Assert.Equal(["airfield", "Plant"], ws.Catalog.ListSites().Select(s => s.Name));
        var duplicate = Assert.Throws<SiteWatchException>(() => AddSite(ws, "plant"));
        Assert.Contains("already exists", duplicate.Message);
        Assert.Contains("known: airfield, Plant", Assert.Throws<SiteWatchException>(() => ws.Catalog.GetSite("harbour")).Message);
        Assert.True(plant.Aoi.EqualsExact(ws.Catalog.GetSite(plant.Id).Aoi, 1e-12));
    }

    [Fact]
    public void Sites_in_a_box_are_the_sites_whose_area_meets_it()
    {
        using var dir = new TempDir();
        using var ws = NewWorkspace(dir);
        AddSite(ws, "north", 10.0, 50.0);
        AddSite(ws, "south", 10.0, 40.0);
        // An L-shaped site whose bounding box covers the probe box below but whose area does not.
        var l = Wgs84.CreatePolygon([new(20, 40), new(21, 40), new(21, 40.1), new(20.1, 40.1), new(20.1, 41), new(20, 41), new(20, 40)]);
        ws.Catalog.AddSite("corner", l, 32633, 1.0, [], null);

        Assert.Equal(["north"], ws.Catalog.ListSitesIn(new Envelope(9.9, 10.5, 49.9, 50.5)).Select(s => s.Name));
        Assert.Equal(["north", "south"], ws.Catalog.ListSitesIn(new Envelope(9, 11, 39, 51)).Select(s => s.Name));
        Assert.Empty(ws.Catalog.ListSitesIn(new Envelope(20.5, 20.9, 40.5, 40.9)));
        Assert.Equal(["corner"], ws.Catalog.ListSitesIn(new Envelope(20.5, 20.9, 40.0, 40.05)).Select(s => s.Name));
    }

    [Fact]
    public void Scenes_ingest_once_and_a_change_run_is_stored_and_reused()
    {
        using var dir = new TempDir();
        using var ws = NewWorkspace(dir);
        File.WriteAllText(dir.File("aoi.geojson"), IngestTests.SceneAoi);
        SiteSetup.AddSite(ws, "plant", dir.File("aoi.geojson"), 1.0, null, [], null);
        var before = Rasters.WriteUtmScene(dir.File("before.tif"), 200, 180, dateTag: "2024:03:14 02:30:00");
        var after = Rasters.WriteUtmScene(dir.File("after.tif"), 200, 180, dateTag: "2024:10:15 02:30:00");
        using (var raster = SiteWatch.Gdal.RasterDataset.Open(after, update: true))
        {
            // A new bright roof of 30 x 30 m in the after scene.
            for (var b = 1; b <= 4; b++)
            {
                raster.Write<ushort>(b, new SiteWatch.Gdal.RasterWindow(30, 30, 30, 30), Enumerable.Repeat((ushort)9000, 900).ToArray());
            }
        }
        var ingestor = new SceneIngestor(ws);

        var first = ingestor.Ingest("plant", before, new IngestOptions());
        ingestor.Ingest("plant", after, new IngestOptions());
        var again = ingestor.Ingest("plant", before, new IngestOptions());

        Assert.True(again.AlreadyPresent);
        Assert.Equal(first.Scene.Id, again.Scene.Id);
        var scenes = ws.Catalog.ListScenes(first.Scene.SiteId);
        Assert.Equal(2, scenes.Count);
        Assert.Equal(["blue", "green", "red", "nir"], scenes[0].Bands.Select(b => b.Name));
        Assert.True(File.Exists(ws.Resolve(scenes[1].File)));
        Assert.NotNull(ws.Catalog.GetSite("plant").GridReason);

        var options = new SiteChangeOptions { Detection = new ChangeDetectionOptions { Method = ChangeMethodKind.Cva }, CoRegister = false };
        var run = SiteChangeWorkflow.Run(ws, "plant", "2024-03-14", "2024-10-15", options);
        var reused = SiteChangeWorkflow.Run(ws, "plant", "2024-03-14", "2024-10-15", options);
        Assert.False(run.Reused);
        Assert.True(reused.Reused);
        Assert.Equal(run.Record.Id, reused.Record.Id);
        Assert.NotNull(ws.Catalog.TryGetChangeRun(run.Record.Id)!.Manifest);
        Assert.Empty(ws.FindOrphans());
        Assert.Empty(ws.Catalog.DatabaseProblems());
    }

    private static AlertRecord Draft(long siteId, string key, DateTime observed) => new()
    {
        Id = 0,
        SiteId = siteId,
        Source = "scene",
        RuleName = "new-building",
        Kind = "change",
        RaisedUtc = observed.AddMinutes(5),
        ObservedUtc = observed,
        Severity = "high",
        Message = "a new building",
        Evidence = """{"area_m2": 1200}""",
        GeometryGeoJson = null,
        Acknowledged = false,
        Key = key,
    };

    [Fact]
    public void An_alert_is_stored_once_with_its_deliveries_which_one_sender_at_a_time_claims()
    {
        using var dir = new TempDir();
        using var ws = NewWorkspace(dir);
        var site = AddSite(ws, "plant");
        var t0 = new DateTime(2024, 10, 15, 2, 30, 0, DateTimeKind.Utc);
        DeliveryTarget[] targets = [new("https://a.example/hook", 3), new("https://b.example/hook", 3)];

        var alert = ws.Catalog.CommitAlert(Draft(site.Id, "k1", t0), targets);
        Assert.NotNull(alert);
        Assert.Null(ws.Catalog.CommitAlert(Draft(site.Id, "k1", t0), targets));
        Assert.True(ws.Catalog.AlertExists(site.Id, "k1"));
        Assert.Equal(alert!.Id, ws.Catalog.LastAlertId());
        Assert.Equal(2, ws.Catalog.DeliveryCounts(site.Id)["pending"]);

        var now = t0.AddHours(1);
        var a = ws.Catalog.ClaimNextDelivery(site.Id, now, "sender-a", now.AddMinutes(1));
        var b = ws.Catalog.ClaimNextDelivery(site.Id, now, "sender-b", now.AddMinutes(1));
        Assert.NotNull(a);
        Assert.NotNull(b);
        Assert.NotEqual(a!.Id, b!.Id);
        Assert.Null(ws.Catalog.ClaimNextDelivery(site.Id, now, "sender-c", now.AddMinutes(1)));
        // A lease that ran out is free again, unless this round already tried that row.
        Assert.Null(ws.Catalog.ClaimNextDelivery(site.Id, now.AddMinutes(2), "sender-c", now.AddMinutes(3), skip: [a.Id, b.Id]));
        Assert.NotNull(ws.Catalog.ClaimNextDelivery(site.Id, now.AddMinutes(2), "sender-c", now.AddMinutes(3), skip: [b.Id]));

        // sender-a's claim was taken over: its late outcome is not recorded.
        Assert.False(ws.Catalog.RecordDeliveryAttempt(a with { State = "delivered", Attempts = 1, DeliveredUtc = now }, "sender-a", 0));
        Assert.True(ws.Catalog.RecordDeliveryAttempt(b with { State = "delivered", Attempts = 1, DeliveredUtc = now }, "sender-b", 0));
        Assert.Equal(1, ws.Catalog.DeliveryCounts(site.Id)["delivered"]);

        ws.Catalog.AcknowledgeAlert(site.Id, alert.Id);
        Assert.True(ws.Catalog.GetAlert(alert.Id).Acknowledged);
        Assert.Equal([alert.Id], ws.Catalog.AlertsAfter(0).Select(x => x.Id));
        Assert.Equal([alert.Id], ws.Catalog.AlertsSince(t0).Select(x => x.Id));
        Assert.Empty(ws.Catalog.AlertsSince(t0.AddSeconds(1)));
        Assert.Empty(ws.Catalog.AlertsAfter(alert.Id));
    }

    [Fact]
    public void Two_processes_storing_the_same_alert_at_once_store_it_once()
    {
        using var dir = new TempDir();
        using var ws = NewWorkspace(dir);
        var site = AddSite(ws, "plant");
        var t0 = new DateTime(2024, 10, 15, 2, 30, 0, DateTimeKind.Utc);
        var catalogs = Enumerable.Range(0, 4).Select(_ => ws.Catalog.OpenAnotherConnection()).ToList();
        try
        {
            var stored = 0;
            Parallel.For(0, 40, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
            {
                var catalog = catalogs[i % 4];
                lock (catalog)
                {
                    if (catalog.CommitAlert(Draft(site.Id, $"k{i / 4}", t0), [new("https://a.example/hook", 3)]) is not null)
                    {
                        Interlocked.Increment(ref stored);
                    }
                }
            });
            Assert.Equal(10, stored);
            Assert.Equal(10, ws.Catalog.ListAlerts(site.Id).Count);
            Assert.Equal(10, ws.Catalog.ListDeliveries(site.Id).Count);
        }
        finally
        {
            catalogs.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public void Deleted_sites_and_alerts_never_give_their_ids_to_new_ones_and_deleting_a_site_removes_its_rows()
    {
        using var dir = new TempDir();
        using var ws = NewWorkspace(dir);
        var first = AddSite(ws, "first");
        var alert = ws.Catalog.CommitAlert(Draft(first.Id, "k", DateTime.UtcNow), [new("https://a.example/hook", 3)])!;
        ws.Catalog.AddNote(first.Id, new DateOnly(2024, 5, 1), "analyst", null, "a new hall", null);

        Assert.True(ws.DeleteSite(first).Deleted);

        Assert.Null(ws.Catalog.TryGetSiteById(first.Id));
        Assert.Null(ws.Catalog.TryGetAlert(alert.Id));
        Assert.Empty(ws.Catalog.ListNotes(first.Id));
        var second = AddSite(ws, "second");
        Assert.True(second.Id > first.Id);
        Assert.True(ws.Catalog.CommitAlert(Draft(second.Id, "k", DateTime.UtcNow), [])!.Id > alert.Id);
    }

    [Fact]
    public void Users_and_api_keys_are_found_revoked_and_expire()
    {
        using var dir = new TempDir();
        using var ws = NewWorkspace(dir);
        var ana = ws.Catalog.AddUser("Ana", UserRoles.Analyst, "hash-1");
        Assert.Contains("already exists", Assert.Throws<SiteWatchException>(() => ws.Catalog.AddUser("ana", UserRoles.Viewer, "h")).Message);
        Assert.Equal(ana.Id, ws.Catalog.TryGetUser("ANA")!.Id);

        var kept = ws.Catalog.AddApiKey(ana.Id, "sha-kept", "swk_kept");
        ws.Catalog.AddApiKey(ana.Id, "sha-old", "swk_old0", DateTime.UtcNow.AddMinutes(-1));
        var revoked = ws.Catalog.AddApiKey(ana.Id, "sha-revoked", "swk_revo");
        Assert.Equal(ana.Id, ws.Catalog.FindUserByApiKey("sha-kept")!.Id);
        Assert.Null(ws.Catalog.FindUserByApiKey("sha-old"));

        Assert.Equal(1, ws.Catalog.RevokeApiKeys(ana.Id, revoked.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Null(ws.Catalog.FindUserByApiKey("sha-revoked"));
        Assert.NotNull(ws.Catalog.FindUserByApiKey("sha-kept"));
        Assert.Equal(2, ws.Catalog.RevokeApiKeys(ana.Id, null));
        Assert.Null(ws.Catalog.FindUserByApiKey("sha-kept"));
        Assert.Equal(3, ws.Catalog.ListApiKeys(ana.Id).Count);
        Assert.NotNull(ws.Catalog.ListApiKeys(ana.Id).Single(k => k.Id == kept.Id).RevokedUtc);

        var stamp = ana.SecurityStamp;
        ws.Catalog.SetPassword(ana.Id, "hash-2");
        var changed = ws.Catalog.TryGetUser(ana.Id)!;
        Assert.Equal("hash-2", changed.PasswordHash);
        Assert.NotEqual(stamp, changed.SecurityStamp);
        Assert.True(ws.Catalog.DeleteUser(ana.Id));
        Assert.Empty(ws.Catalog.ListUsers());
    }

    [Fact]
    public void Recordings_notes_rules_and_zones_round_trip()
    {
        using var dir = new TempDir();
        using var ws = NewWorkspace(dir);
        var site = AddSite(ws, "border");

        var recording = ws.Catalog.StartRecording(site.Id, "flight.ts", "file", "sha256:ab", id => $"recordings/{id}");
        Assert.Equal($"recordings/{recording.Id}", recording.Directory);
        Assert.Single(ws.Catalog.ListLiveRecordings());
        Assert.True(ws.Catalog.EndRecording(recording.Id, 3_000_000_000, 12, 100.5, null, null));
        Assert.False(ws.Catalog.EndRecording(recording.Id, 1, 1, 1, null, null));
        var ended = ws.Catalog.FindEndedRecording(site.Id, "sha256:ab")!;
        Assert.Equal((3_000_000_000L, 12, 100.5), (ended.Frames, ended.Footprints, ended.DurationSeconds!.Value));
        Assert.Empty(ws.Catalog.ListLiveRecordings());

        var outline = Box(129.5, 39.9, 0.001);
        var note = ws.Catalog.AddNote(site.Id, new DateOnly(2024, 5, 1), "press report", "https://example.org/a", "a crane removed", outline);
        Assert.True(outline.EqualsTopologically(note.Outline!));
        ws.Catalog.DeleteNote(site, note.Id);
        Assert.Empty(ws.Catalog.ListNotes(site.Id));

        ws.Catalog.SaveAlertRules(site.Id, """{"rules":[]}""", "rules.json");
        ws.Catalog.SaveAlertRules(site.Id, """{"rules":[1]}""", "rules2.json");
        Assert.Equal("rules2.json", ws.Catalog.TryGetAlertRules(site.Id)!.SourcePath);
        ws.Catalog.SaveWatchZones(site.Id, """{"type":"FeatureCollection","features":[]}""", "zones.geojson");
        Assert.Equal("zones.geojson", ws.Catalog.TryGetWatchZones(site.Id)!.Source);
    }

    [Fact]
    public void A_monitoring_order_is_stored_replaced_noted_and_goes_with_its_site()
    {
        using var dir = new TempDir();
        using var ws = NewWorkspace(dir);
        var site = AddSite(ws, "plant");
        var schedule = new Core.Monitoring.MonitorSchedule { Source = "http://127.0.0.1:1/", Collections = ["demo"], Every = TimeSpan.FromMinutes(10), Method = ChangeMethodKind.Cva, CoRegister = false };

        ws.Catalog.SaveMonitor(site.Id, schedule);
        ws.Catalog.SaveMonitor(site.Id, schedule with { Every = TimeSpan.FromHours(1) });
        ws.Catalog.RecordMonitorRound(site.Id, new DateTime(2024, 5, 1, 0, 0, 0, DateTimeKind.Utc), "2 new scene(s)");

        var stored = Assert.Single(ws.Catalog.ListMonitors());
        Assert.Equal(schedule with { Every = TimeSpan.FromHours(1) }, stored.Schedule with { Collections = schedule.Collections });
        Assert.Equal(["demo"], stored.Schedule.Collections);
        Assert.Equal(ChangeMethodKind.Cva, stored.Schedule.ToOptions().ChangeOptions.Detection.Method);
        Assert.Equal("2 new scene(s)", stored.LastSummary);
        Assert.True(ws.DeleteSite(site).Deleted);
        Assert.Empty(ws.Catalog.ListMonitors());
        Assert.False(ws.Catalog.RemoveMonitor(site.Id));
    }

    [Fact]
    public void A_drone_feed_is_stored_replaced_by_name_noted_and_goes_with_its_site()
    {
        using var dir = new TempDir();
        using var ws = NewWorkspace(dir);
        var site = AddSite(ws, "border");
        var options = new Core.Monitoring.FeedOptions { Detector = Core.Monitoring.FrameDetectorKind.Vmti, Every = 2, Cot = "udp://127.0.0.1:6969" };

        var first = ws.Catalog.SaveFeed(site.Id, "ridge", "udp://127.0.0.1:5600", options);
        Thread.Sleep(5);
        var replaced = ws.Catalog.SaveFeed(site.Id, "ridge", "udp://127.0.0.1:5601", options with { Every = 3 });
        const string zones = """{"type":"FeatureCollection","features":[]}""";
        var other = ws.Catalog.SaveFeed(site.Id, "valley", "udp://127.0.0.1:5602", new Core.Monitoring.FeedOptions(), (zones, "zones.geojson"));
        Assert.Equal((zones, "zones.geojson"), (ws.Catalog.TryGetWatchZones(site.Id)!.GeoJson, ws.Catalog.TryGetWatchZones(site.Id)!.Source));
        Assert.Equal(first.Id, replaced.Id);
        Assert.True(replaced.UpdatedUtc > first.UpdatedUtc, "a replaced feed is seen as changed (its silo restarts it)");
        Assert.NotEqual(first.Id, other.Id);

        var started = new DateTime(2024, 5, 1, 0, 0, 0, DateTimeKind.Utc);
        ws.Catalog.RecordFeedState(first.Id, "s1", started, "watching");
        var stored = ws.Catalog.TryGetFeed(first.Id)!;
        Assert.Equal(("udp://127.0.0.1:5601", 3, Core.Monitoring.FrameDetectorKind.Vmti, "udp://127.0.0.1:6969"), (stored.Source, stored.Options.Every, stored.Options.Detector, stored.Options.Cot));
        Assert.Equal(("s1", started, "watching"), (stored.RunningOn, stored.StartedUtc, stored.LastNote));
        Assert.Equal(["ridge", "valley"], ws.Catalog.ListFeeds().Select(f => f.Name));

        Assert.True(ws.Catalog.RemoveFeed(site.Id, "valley"));
        Assert.False(ws.Catalog.RemoveFeed(site.Id, "valley"));
        Assert.True(ws.DeleteSite(site).Deleted);
        Assert.Empty(ws.Catalog.ListFeeds());
    }

    [Fact]
    public void A_row_a_tool_damaged_is_named_by_table_row_and_column()
    {
        using var dir = new TempDir();
        using var ws = NewWorkspace(dir);
        var site = AddSite(ws, "plant");
        ws.Catalog.AddNote(site.Id, new DateOnly(2024, 5, 1), "analyst", null, "text", null);
        RunSqlOutside(ws, "UPDATE site_notes SET created_utc = 'yesterday'");

        var error = Assert.Throws<SiteWatchException>(() => ws.Catalog.ListNotes(site.Id));
        Assert.Contains("table site_notes, row 1, column created_utc", error.Message);
        Assert.StartsWith(ws.CatalogLocation, error.Message);
    }
}

public sealed class SqliteCatalogTests : CatalogContractTests
{
    protected override CatalogEngine Engine => CatalogEngine.Sqlite;

    protected override Workspace NewWorkspace(TempDir dir) => Workspace.Init(dir.File("ws"));

    protected override void RunSqlOutside(Workspace ws, string sql)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={ws.CatalogPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresCatalogTests(PostgresServer server) : CatalogContractTests
{
    protected override CatalogEngine Engine => CatalogEngine.Postgres;

    private readonly Dictionary<string, string> _databases = [];

    protected override Workspace NewWorkspace(TempDir dir)
    {
        var database = server.CreateDatabase();
        var ws = Workspace.Init(dir.File("ws"), database);
        _databases[ws.Root] = database;
        return ws;
    }

    protected override void RunSqlOutside(Workspace ws, string sql)
    {
        using var connection = new Npgsql.NpgsqlConnection(_databases[ws.Root]);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
