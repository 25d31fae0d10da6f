using System.Text.Json;
using Microsoft.Data.Sqlite;
using SiteWatch.Core;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Core.Ingest;
using SiteWatch.Core.Workflows;
using SiteWatch.Gdal;
using SiteWatch.Tests.Change;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Tests.Catalog;

/// <summary>
/// What the store guarantees: run outputs keyed by their row, never by names or dates; concurrent runs share one
/// result; leftovers of interrupted runs swept or quarantined, never followed; rows that cannot be read named.
/// </summary>
public class StoreSafetyTests
{
    private static readonly SiteChangeOptions Cva = new() { Detection = new ChangeDetectionOptions { Method = ChangeMethodKind.Cva } };

    /// <summary>The plant pair plus a second scene on the before date, three hours later (other pixels, other hash).</summary>
    private static (Workspace Workspace, Site Site) WithTwoScenesOnOneDay(TempDir dir)
    {
        var (workspace, site) = SiteChangeTests.Ingested(dir);
        var (before, _) = ChangeObjectTests.WritePair(dir);
        var later = dir.File("before-later.tif");
        File.Copy(before, later);
        using (var raster = RasterDataset.Open(later, update: true))
        {
            raster.SetMetadataItem("TIFFTAG_DATETIME", "2024:03:14 05:00:00");
            raster.Write<ushort>(1, new RasterWindow(0, 0, 2, 2), [900, 901, 902, 903]);
        }
        new SceneIngestor(workspace).Ingest(site.Name, later, new IngestOptions());
        return (workspace, site);
    }

    private static JsonElement Summary(SiteChangeResult run) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(run.Directory, "summary.json"))).RootElement;

    [Fact]
    public void Two_scenes_on_one_day_never_share_or_delete_a_run_folder()
    {
        using var dir = new TempDir();
        var (workspace, site) = WithTwoScenesOnOneDay(dir);
        using var _ = workspace;
        var scenes = workspace.Catalog.ListScenes(site.Id);
        Assert.Equal(3, scenes.Count);

        // The issue's reproduction: the series first, then the pair named by its dates.
        var series = SiteChangeWorkflow.RunSeries(workspace, site.Name, Cva);
        Assert.Equal(2, series.Count);
        var ambiguous = Assert.Throws<SiteWatchException>(() => SiteChangeWorkflow.Run(workspace, site.Name, "2024-03-14", "2024-10-15", Cva));
        Assert.Contains("2 scenes on 2024-03-14", ambiguous.Message);
        Assert.Contains($"#{scenes[0].Id}", ambiguous.Message);
        var named = SiteChangeWorkflow.Run(workspace, site.Name, "2024-03-14T02:00:00", "2024-10-15", Cva);
        var byId = SiteChangeWorkflow.Run(workspace, site.Name, $"#{scenes[1].Id}", "#" + scenes[2].Id, Cva);
        Assert.True(byId.Reused, "the series already compared the later 03-14 scene with 10-15");

        var runs = new[] { series[0], series[1], named };
        Assert.Equal(3, runs.Select(r => r.Directory).Distinct().Count());
        foreach (var run in runs)
        {
            // Every run's summary names its own scenes, and its folder is still there.
            var summary = Summary(run);
            Assert.Equal(run.Before.Id, summary.GetProperty("before_scene").GetInt64());
            Assert.Equal(run.After.Id, summary.GetProperty("after_scene").GetInt64());
            Assert.Contains($"{run.Record.Id}_", Path.GetFileName(run.Directory));
        }
        Assert.True(WorkspaceCheck.Run(workspace).Healthy);
    }

    [Fact]
    public void Concurrent_runs_of_one_pair_share_one_result()
    {
        using var dir = new TempDir();
        var (workspace, site) = SiteChangeTests.Ingested(dir);
        workspace.Dispose();
        var results = new SiteChangeResult[3];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = results.Length }, i =>
        {
            // Separate workspace objects: separate SQLite connections and staging sessions, as separate processes have.
            using var ws = Workspace.Open(dir.File("ws"));
            results[i] = SiteChangeWorkflow.Run(ws, site.Name, "2024-03-14", "2024-10-15", Cva);
        });
        Assert.Single(results.Select(r => r.Record.Id).Distinct());
        Assert.Single(results, r => !r.Reused);
        using var reopened = Workspace.Open(dir.File("ws"));
        Assert.Single(reopened.Catalog.ListChangeRuns(site.Id));
        Assert.True(File.Exists(Path.Combine(results[0].Directory, "change_mask.tif")));
        var check = WorkspaceCheck.Run(reopened);
        Assert.True(check.Healthy, string.Join("; ", check.Problems));
    }

    [Fact]
    public void A_run_folder_deleted_by_hand_is_recomputed_under_the_same_row()
    {
        using var dir = new TempDir();
        var (workspace, site) = SiteChangeTests.Ingested(dir);
        using var _ = workspace;
        var first = SiteChangeWorkflow.Run(workspace, site.Name, "2024-03-14", "2024-10-15", Cva);
        Directory.Delete(first.Directory, recursive: true);
        Assert.Contains(WorkspaceCheck.Run(workspace).Problems, p => p.Kind == "missing" && p.Where == $"change run #{first.Record.Id}");

        var again = SiteChangeWorkflow.Run(workspace, site.Name, "2024-03-14", "2024-10-15", Cva);
        Assert.False(again.Reused);
        Assert.Equal(first.Record.Id, again.Record.Id);
        Assert.True(File.Exists(Path.Combine(again.Directory, "summary.json")));
        Assert.Single(SiteChangeWorkflow.RunSeries(workspace, site.Name, Cva), r => r.Reused);

        // A folder missing one of its files is incomplete too: recomputed, the damaged folder kept aside.
        File.Delete(Path.Combine(again.Directory, "changes.geojson"));
        var third = SiteChangeWorkflow.Run(workspace, site.Name, "2024-03-14", "2024-10-15", Cva);
        Assert.False(third.Reused);
        Assert.True(File.Exists(Path.Combine(third.Directory, "changes.geojson")));
        Assert.NotEmpty(Directory.EnumerateFiles(workspace.QuarantineDirectory, "summary.json", SearchOption.AllDirectories));
        Assert.True(WorkspaceCheck.Run(workspace).Healthy);
    }

    [Theory]
    [InlineData("Plant A", "plant-a")]
    [InlineData("../x", "x")]
    [InlineData("a/b", "a b")]
    [InlineData("/abs", "\\")]
    public void Sites_whose_names_map_to_one_folder_keep_their_files_apart(string first, string second)
    {
        using var dir = new TempDir();
        var (before, after) = ChangeObjectTests.WritePair(dir);
        using var workspace = Workspace.Init(dir.File("ws"));
        File.WriteAllText(dir.File("aoi.geojson"), """
            {"type":"Polygon","coordinates":[[[127.4907,39.9278],[127.4923,39.9278],[127.4923,39.9290],[127.4907,39.9290],[127.4907,39.9278]]]}
            """);
        var files = new List<string>();
        foreach (var name in new[] { first, second })
        {
            SiteSetup.AddSite(workspace, name, dir.File("aoi.geojson"), 1.0, null, [], null);
            var ingestor = new SceneIngestor(workspace);
            files.Add(ingestor.Ingest(name, before, new IngestOptions { AcquiredUtc = new DateTime(2024, 3, 14, 2, 0, 0, DateTimeKind.Utc) }).Scene.File);
            ingestor.Ingest(name, after, new IngestOptions { AcquiredUtc = new DateTime(2024, 10, 15, 2, 0, 0, DateTimeKind.Utc) });
            files.Add(SiteChangeWorkflow.Run(workspace, name, "2024-03-14", "2024-10-15", Cva).Record.Directory);
        }
        Assert.Equal(4, files.Distinct().Count());
        foreach (var file in files)
        {
            // Inside the store, whatever the name held.
            Assert.StartsWith(workspace.Root + Path.DirectorySeparatorChar, workspace.Resolve(file));
            Assert.DoesNotContain("..", file);
        }
        Assert.True(WorkspaceCheck.Run(workspace).Healthy);
    }

    [Fact]
    public void Concurrent_first_scenes_of_a_new_site_both_land_on_one_grid()
    {
        using var dir = new TempDir();
        var (before, after) = ChangeObjectTests.WritePair(dir);
        using (var workspace = Workspace.Init(dir.File("ws")))
        {
            File.WriteAllText(dir.File("aoi.geojson"), """
                {"type":"Polygon","coordinates":[[[127.4907,39.9278],[127.4923,39.9278],[127.4923,39.9290],[127.4907,39.9290],[127.4907,39.9278]]]}
                """);
            SiteSetup.AddSite(workspace, "plant", dir.File("aoi.geojson"), null, null, [], null);
        }
        // Two different files and the same file twice, each from its own workspace object, at once.
        var sources = new[] { (before, 3), (after, 10), (after, 10) };
        var results = new IngestResult[sources.Length];
        Parallel.For(0, sources.Length, new ParallelOptions { MaxDegreeOfParallelism = sources.Length }, i =>
        {
            using var ws = Workspace.Open(dir.File("ws"));
            results[i] = new SceneIngestor(ws).Ingest("plant", sources[i].Item1,
                new IngestOptions { AcquiredUtc = new DateTime(2024, sources[i].Item2, 14, 2, 0, 0, DateTimeKind.Utc) });
        });
        using var reopened = Workspace.Open(dir.File("ws"));
        var scenes = reopened.Catalog.ListScenes(reopened.Catalog.GetSite("plant").Id);
        Assert.Equal(2, scenes.Count);
        Assert.Single(results, r => r.AlreadyPresent);
        Assert.Single(scenes.Select(s => (s.Width, s.Height)).Distinct());
        Assert.True(WorkspaceCheck.Run(reopened).Healthy);
    }

    [Fact]
    public async Task Alerts_written_while_a_change_series_runs_all_land()
    {
        using var dir = new TempDir();
        var (workspace, site) = WithTwoScenesOnOneDay(dir);
        workspace.Dispose();
        const int alerts = 60;
        var stored = 0;
        // As `watch --site` does beside `change --series`: two connections, one writing alerts one by one.
        var writer = Task.Run(() =>
        {
            using var ws = Workspace.Open(dir.File("ws"));
            for (var i = 0; i < alerts; i++)
            {
                var record = ws.Catalog.CommitAlert(new AlertRecord
                {
                    Id = 0, SiteId = site.Id, Source = "video", RuleName = "border", Kind = "zone_entry",
                    RaisedUtc = DateTime.UtcNow, ObservedUtc = DateTime.UtcNow, Severity = "warning",
                    Message = $"track {i} entered the border zone", Evidence = "{}", Key = $"test:{i}",
                }, [new DeliveryTarget("http://127.0.0.1:9/alerts", 3)]);
                stored += record is null ? 0 : 1;
            }
        });
        using (var ws = Workspace.Open(dir.File("ws")))
        {
            Assert.Equal(2, SiteChangeWorkflow.RunSeries(ws, site.Name, Cva).Count);
        }
        await writer;
        Assert.Equal(alerts, stored);
        using var reopened = Workspace.Open(dir.File("ws"));
        Assert.Equal(alerts, reopened.Catalog.ListAlerts(site.Id).Count);
        Assert.Equal(alerts, reopened.Catalog.ListDeliveries(site.Id).Count);
        Assert.Equal(2, reopened.Catalog.ListChangeRuns(site.Id).Count);
        Assert.True(WorkspaceCheck.Run(reopened).Healthy);
    }

    [Fact]
    public void Staging_left_by_a_dead_process_is_swept_and_a_live_one_is_not()
    {
        using var dir = new TempDir();
        using (Workspace.Init(dir.File("ws")))
        {
        }
        var staging = Path.Combine(dir.File("ws"), ".staging");
        // A killed change run: its session folder with a half-written run in it, its lock released by the kernel.
        var dead = Path.Combine(staging, "session-dead");
        Directory.CreateDirectory(Path.Combine(dead, "run"));
        File.WriteAllBytes(Path.Combine(dead, "run", "change_magnitude.tif"), new byte[1 << 16]);
        Directory.CreateDirectory(Path.Combine(dir.File("ws"), ".locks"));
        File.WriteAllBytes(Path.Combine(dir.File("ws"), ".locks", "session-dead.lock"), []);
        // An old loose folder from before staging sessions.
        var loose = Path.Combine(staging, "0123456789abcdef");
        Directory.CreateDirectory(loose);
        File.WriteAllBytes(Path.Combine(loose, "x.tif"), [1]);
        Directory.SetLastWriteTimeUtc(loose, DateTime.UtcNow.AddHours(-3));

        using var live = Workspace.Open(dir.File("ws"));
        var liveFile = live.NewStagingPath(".tif");
        File.WriteAllBytes(liveFile, [1, 2, 3]);
        Assert.False(Directory.Exists(dead));
        Assert.False(Directory.Exists(loose));

        using (Workspace.Open(dir.File("ws")))
        {
            Assert.True(File.Exists(liveFile), "another process's live staging folder is left alone");
        }
        live.Dispose();
        Assert.False(File.Exists(liveFile));
    }

    [Fact]
    public void An_orphaned_store_file_is_quarantined_and_reported_and_check_finds_damage()
    {
        using var dir = new TempDir();
        var (workspace, site) = SiteChangeTests.Ingested(dir);
        var scene = workspace.Catalog.ListScenes(site.Id)[0];
        var run = SiteChangeWorkflow.Run(workspace, site.Name, "2024-03-14", "2024-10-15", Cva);
        Assert.True(WorkspaceCheck.Run(workspace).Healthy);
        workspace.Dispose();

        // A crash between moving a file into the store and committing its row leaves a file no row names.
        var orphan = Path.Combine(dir.File("ws"), "imagery", $"{site.Id}-plant", "20240501T000000_deadbeef.tif");
        File.WriteAllBytes(orphan, [1, 2, 3]);
        var notices = new List<string>();
        using (var reopened = Workspace.Open(dir.File("ws"), notices.Add))
        {
            Assert.False(File.Exists(orphan));
            Assert.Contains(notices, n => n.Contains("1 file(s)") && n.Contains(".quarantine"));
            Assert.Single(Directory.EnumerateFiles(reopened.QuarantineDirectory, "20240501T000000_deadbeef.tif", SearchOption.AllDirectories));
            Assert.True(WorkspaceCheck.Run(reopened).Healthy);

            // A stored COG changed behind the catalog's back, and a change run's file gone.
            using (var stream = File.OpenWrite(reopened.Resolve(scene.File)))
            {
                stream.Seek(-10, SeekOrigin.End);
                stream.WriteByte(0x5A);
            }
            File.Delete(Path.Combine(run.Directory, "quicklook.png"));
            var report = WorkspaceCheck.Run(reopened);
            Assert.Contains(report.Problems, p => p.Kind == "damaged" && p.Where == $"scene #{scene.Id}");
            Assert.Contains(report.Problems, p => p.Kind == "missing" && p.Detail.Contains("quicklook.png"));
        }
        var (code, output, err) = Cli.CliTests.Run(dir.File("ws"), "check", "--json");
        Assert.Equal(1, code);
        Assert.Contains("2 problem(s)", err);
        using var json = JsonDocument.Parse(output);
        Assert.False(json.RootElement.GetProperty("healthy").GetBoolean());
        Assert.Equal(2, json.RootElement.GetProperty("problems").GetArrayLength());
    }

    [Fact]
    public void A_zero_byte_catalog_is_refused_not_reinitialised()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("ws"));
        File.WriteAllBytes(dir.File("ws/sitewatch.db"), []);
        var error = Assert.Throws<SiteWatchException>(() => Workspace.Open(dir.File("ws")));
        Assert.Contains("empty (0 bytes)", error.Message);
        Assert.Equal(0, new FileInfo(dir.File("ws/sitewatch.db")).Length);
        var (code, _, err) = Cli.CliTests.Run(dir.File("ws"), "site", "list");
        Assert.Equal(1, code);
        Assert.Contains("empty (0 bytes)", err);
        Assert.Equal(0, new FileInfo(dir.File("ws/sitewatch.db")).Length);

        // Another tool's SQLite database is not a catalog either.
        File.Delete(dir.File("ws/sitewatch.db"));
        using (var other = new SqliteConnection($"Data Source={dir.File("ws/sitewatch.db")};Pooling=False"))
        {
            other.Open();
            using var command = other.CreateCommand();
            command.CommandText = "CREATE TABLE notes (text TEXT)";
            command.ExecuteNonQuery();
        }
        Assert.Contains("not a SiteWatch catalog", Assert.Throws<SiteWatchException>(() => Workspace.Open(dir.File("ws"))).Message);
    }

    private static void Sql(string catalog, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={catalog};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Theory]
    [InlineData("/etc/passwd", "is not relative to the workspace")]
    [InlineData("../../../../../../etc/passwd", "leaves the workspace")]
    [InlineData("imagery/../../outside.tif", "leaves the workspace")]
    public void A_stored_path_outside_the_workspace_is_refused(string stored, string expected)
    {
        using var dir = new TempDir();
        var (workspace, site) = SiteChangeTests.Ingested(dir);
        var catalog = workspace.CatalogPath;
        var scene = workspace.Catalog.ListScenes(site.Id)[0];
        workspace.Dispose();
        Sql(catalog, $"UPDATE scenes SET file = '{stored}' WHERE id = {scene.Id}");

        using var reopened = Workspace.Open(dir.File("ws"));
        var error = Assert.Throws<SiteWatchException>(() => SiteChangeWorkflow.Run(reopened, site.Name, "2024-03-14", "2024-10-15", Cva));
        Assert.Contains(expected, error.Message);
        Assert.Contains(WorkspaceCheck.Run(reopened).Problems, p => p.Kind == "path" && p.Where == $"scene #{scene.Id}");
        Assert.Empty(reopened.Catalog.ListChangeRuns(site.Id));
    }

    [Theory]
    [InlineData("scenes", "bands", "'[{not json'")]
    [InlineData("scenes", "acquired_utc", "'yesterday'")]
    [InlineData("sites", "tags", "'{'")]
    [InlineData("sites", "created_utc", "'2024-13-45'")]
    public void A_malformed_row_is_named_by_table_row_and_column(string table, string column, string value)
    {
        using var dir = new TempDir();
        var (workspace, _) = SiteChangeTests.Ingested(dir);
        var catalog = workspace.CatalogPath;
        workspace.Dispose();
        Sql(catalog, $"UPDATE {table} SET {column} = {value} WHERE id = 1");

        string[] command = table == "sites" ? ["site", "list"] : ["scene", "list", "--site", "plant"];
        var (code, output, err) = Cli.CliTests.Run(dir.File("ws"), command);
        Assert.Equal(1, code);
        Assert.Contains($"table {table}, row 1, column {column}", err);
        Assert.DoesNotContain("   at ", err + output);
        Assert.Single(err.Trim().Split('\n'));
    }
}
