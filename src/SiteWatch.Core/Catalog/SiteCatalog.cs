using System.Globalization;
using System.Text.Json;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Geo;

namespace SiteWatch.Core.Catalog;

/// <summary>The database engine a catalog lives in.</summary>
public enum CatalogEngine
{
    /// <summary>An embedded SQLite file in the workspace (the default: one machine, nothing to run).</summary>
    Sqlite,

    /// <summary>A PostgreSQL database with PostGIS, shared by every process and machine of a cluster.</summary>
    Postgres,
}

/// <summary>
/// The catalog of sites, scenes, runs, alerts and users. One class for both engines: queries are written once in
/// the SQL both understand (named @parameters, RETURNING, ON CONFLICT, ISO-8601 UTC text for times), and what
/// differs (opening, schema history, write locking, error wording, spatial search) is chosen by <see cref="Engine"/>.
/// </summary>
public sealed partial class SiteCatalog : IDisposable
{
    private const int SchemaVersion = 13;
    private readonly DbConnection _connection;
    private readonly string _connectionString;

    private SiteCatalog(DbConnection connection, CatalogEngine engine, string connectionString, string location, string workspaceRoot)
    {
        _connection = connection;
        Engine = engine;
        _connectionString = connectionString;
        Location = location;
        WorkspaceRoot = workspaceRoot;
    }

    public CatalogEngine Engine { get; }

    /// <summary>Where the catalog lives, as messages name it: the SQLite file, or the PostgreSQL server and database.</summary>
    public string Location { get; }

    /// <summary>The PostgreSQL connection string (never with a password), for the cluster's own tables; null on SQLite.</summary>
    public string? PostgresConnectionString => Engine == CatalogEngine.Postgres ? _connectionString : null;

    /// <summary>The workspace folder holding the stored files: stored paths are relative to it.</summary>
    internal string WorkspaceRoot { get; }

    /// <summary>
    /// A second connection to this catalog, for a background loop (a connection is used by one thread at a time).
    /// </summary>
    public SiteCatalog OpenAnotherConnection() => Engine == CatalogEngine.Postgres
        ? OpenPostgres(_connectionString, WorkspaceRoot, create: false)
        : Open(Location, create: false);

    internal static SiteCatalog Open(string path, bool create)
    {
        if (File.Exists(path) && new FileInfo(path).Length == 0)
        {
            // SQLite would silently treat an empty file as a new database and a command would "re-initialise" it.
            throw new SiteWatchException($"{path}: the catalog file is empty (0 bytes): truncated or not a SiteWatch catalog; restore it from a backup; nothing was changed");
        }
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = create ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite,
            ForeignKeys = true,
            Pooling = false,
            DefaultTimeout = 30,
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            var catalog = new SiteCatalog(connection, CatalogEngine.Sqlite, builder.ToString(), path,
                System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
            if (!create && !catalog.HasSiteWatchSchema())
            {
                throw new SiteWatchException($"{path}: not a SiteWatch catalog (a SQLite database without its tables); nothing was changed");
            }
            catalog.UseWriteAheadLog();
            catalog.MigrateSqlite();
            return catalog;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new SiteWatchException($"{path}: cannot open the catalog: {e.Message}", e);
        }
    }

    private void AddColumnIfMissing(string table, string column, DbTransaction tx)
    {
        using var info = Command($"SELECT count(*) FROM pragma_table_info('{table}') WHERE name = '{column}'", tx);
        if (Convert.ToInt64(Run(info.ExecuteScalar), CultureInfo.InvariantCulture) == 0)
        {
            Execute($"ALTER TABLE {table} ADD COLUMN {column} TEXT", tx);
        }
    }

    private bool HasSiteWatchSchema() =>
        Convert.ToInt64(Scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sites'"), CultureInfo.InvariantCulture) == 1;

    /// <summary>
    /// Write-ahead logging: readers never block the writer and the writer never blocks readers, so a long `watch`
    /// writing alerts and a `change --series` committing runs proceed together; writers queue on the busy timeout.
    /// A read-only catalog keeps its journal mode.
    /// </summary>
    private void UseWriteAheadLog()
    {
        try
        {
            Scalar("PRAGMA journal_mode = WAL");
        }
        catch (SiteWatchException)
        {
        }
    }

    private void MigrateSqlite()
    {
        var version = Convert.ToInt32(Scalar("PRAGMA user_version"), CultureInfo.InvariantCulture);
        if (version > SchemaVersion)
        {
            throw new SiteWatchException($"{Location}: catalog schema {version} is newer than this SiteWatch understands ({SchemaVersion}); upgrade SiteWatch");
        }
        if (version == SchemaVersion)
        {
            return;
        }
        // v8 rebuilds tables, which needs foreign keys off; that can only be switched outside the transaction.
        using var foreignKeys = version < 8 ? ForeignKeysOff() : null;
        using var tx = _connection.BeginTransaction();
        if (version < 1)
        {
            CreateVersion1(tx);
        }
        if (version < 2)
        {
            Execute("""
                CREATE TABLE change_runs (
                    id INTEGER PRIMARY KEY,
                    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
                    before_scene_id INTEGER NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
                    after_scene_id INTEGER NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
                    method TEXT NOT NULL,
                    parameters TEXT NOT NULL,
                    parameters_sha256 TEXT NOT NULL,
                    directory TEXT NOT NULL,
                    summary TEXT NOT NULL,
                    created_utc TEXT NOT NULL,
                    UNIQUE (before_scene_id, after_scene_id, parameters_sha256)
                );
                """, tx);
        }
        if (version < 3)
        {
            Execute("ALTER TABLE scenes ADD COLUMN cloud_mask_file TEXT", tx);
        }
        if (version < 4)
        {
            CreateVersion4(tx);
        }
        if (version < 5)
        {
            // Hashes of stored files, so `sitewatch check` can tell a damaged store from a good one (null on older rows).
            AddColumnIfMissing("scenes", "file_sha256", tx);
            AddColumnIfMissing("scenes", "cloud_mask_sha256", tx);
            AddColumnIfMissing("change_runs", "manifest", tx);
            AddColumnIfMissing("detection_runs", "file_sha256", tx);
            AddColumnIfMissing("sites", "grid_reason", tx);
            CreateVersion5Alerts(tx);
        }
        if (version < 6)
        {
            CreateUsersTables(tx);
        }
        if (version < 7)
        {
            CreateNotesTable(tx); // site_notes: the analyst's dated notes and cited sources (SiteCatalog.Notes.cs)
        }
        if (version < 8)
        {
            MakeIdsStable(tx);
        }
        if (version < 9)
        {
            AddUserRevocation(tx);
        }
        if (version < 10)
        {
            CreateVersion10Video(tx);
        }
        if (version < 11)
        {
            CreateVersion11Monitors(tx);
        }
        if (version < 12)
        {
            CreateVersion12Feeds(tx);
        }
        if (version < 13)
        {
            CreateVersion13Outbox(tx);
        }
        Execute($"PRAGMA user_version = {SchemaVersion}", tx);
        tx.Commit();
    }

    private void CreateVersion1(DbTransaction tx)
    {
        Execute("""
            CREATE TABLE IF NOT EXISTS sites (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                aoi_geojson TEXT NOT NULL,
                crs_epsg INTEGER NOT NULL,
                gsd REAL,
                anchor_x REAL NOT NULL DEFAULT 0,
                anchor_y REAL NOT NULL DEFAULT 0,
                min_lon REAL NOT NULL, min_lat REAL NOT NULL, max_lon REAL NOT NULL, max_lat REAL NOT NULL,
                tags TEXT NOT NULL DEFAULT '[]',
                notes TEXT,
                created_utc TEXT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS scenes (
                id INTEGER PRIMARY KEY,
                site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
                acquired_utc TEXT NOT NULL,
                acquired_from TEXT NOT NULL,
                sensor TEXT NOT NULL,
                bands TEXT NOT NULL,
                cloud_cover REAL,
                source_path TEXT NOT NULL,
                source_sha256 TEXT NOT NULL,
                file TEXT NOT NULL UNIQUE,
                width INTEGER NOT NULL,
                height INTEGER NOT NULL,
                data_type TEXT NOT NULL,
                nodata REAL,
                valid_fraction REAL NOT NULL,
                ingested_utc TEXT NOT NULL,
                UNIQUE (site_id, source_sha256)
            );
            CREATE INDEX IF NOT EXISTS scenes_by_site_time ON scenes(site_id, acquired_utc);
            """, tx);
    }

    /// <param name="gridReason">Why the grid's CRS was chosen; null for the provisional default the first scene may replace.</param>
    public Site AddSite(string name, Geometry aoiWgs84, int crsEpsg, double? gsd, IReadOnlyList<string> tags, string? notes, string? gridReason = null)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 100 || name.Any(char.IsControl))
        {
            throw new SiteWatchException($"'{name}' is not a usable site name (1 to 100 printable characters)");
        }
        if (TryGetSite(name) is not null)
        {
            throw new SiteWatchException($"a site named '{name}' already exists");
        }
        var envelope = aoiWgs84.EnvelopeInternal;
        var created = DateTime.UtcNow;
        using var command = Command("""
            INSERT INTO sites (name, aoi_geojson, crs_epsg, gsd, min_lon, min_lat, max_lon, max_lat, tags, notes, created_utc, grid_reason)
            VALUES (@name, @aoi, @epsg, @gsd, @minx, @miny, @maxx, @maxy, @tags, @notes, @created, @reason) RETURNING id
            """);
        command.Bind("name", name.Trim());
        command.Bind("aoi", GeoJsonText.Write(aoiWgs84));
        command.Bind("epsg", crsEpsg);
        command.Bind("gsd", gsd);
        command.Bind("minx", envelope.MinX);
        command.Bind("miny", envelope.MinY);
        command.Bind("maxx", envelope.MaxX);
        command.Bind("maxy", envelope.MaxY);
        command.Bind("tags", JsonSerializer.Serialize(tags));
        command.Bind("notes", notes);
        command.Bind("created", Iso(created));
        command.Bind("reason", gridReason);
        var id = Convert.ToInt64(Run(command.ExecuteScalar), CultureInfo.InvariantCulture);
        return GetSite(id);
    }

    public IReadOnlyList<Site> ListSites()
    {
        using var command = Command("SELECT * FROM sites ORDER BY lower(name), name");
        return ReadAll(command, ReadSite);
    }

    /// <summary>
    /// Sites whose area meets the box (WGS84 degrees), by name. PostgreSQL answers from its GiST index on the areas;
    /// SQLite narrows by the stored bounding boxes, then each area is tested exactly.
    /// </summary>
    public IReadOnlyList<Site> ListSitesIn(Envelope box)
    {
        var area = new GeometryFactory(new PrecisionModel(), 4326).ToGeometry(box);
        using var command = Command(Engine == CatalogEngine.Postgres
            ? "SELECT * FROM sites WHERE ST_Intersects(aoi, ST_MakeEnvelope(@minx, @miny, @maxx, @maxy, 4326)) ORDER BY lower(name), name"
            : "SELECT * FROM sites WHERE max_lon >= @minx AND min_lon <= @maxx AND max_lat >= @miny AND min_lat <= @maxy ORDER BY lower(name), name");
        command.Bind("minx", box.MinX);
        command.Bind("miny", box.MinY);
        command.Bind("maxx", box.MaxX);
        command.Bind("maxy", box.MaxY);
        var sites = ReadAll(command, ReadSite);
        return Engine == CatalogEngine.Postgres ? sites : sites.Where(s => s.Aoi.Intersects(area)).ToList();
    }

    public Site? TryGetSite(string name)
    {
        using var command = Command($"SELECT * FROM sites WHERE {NameIs("name")}");
        command.Bind("name", name.Trim());
        return ReadAll(command, ReadSite).FirstOrDefault();
    }

    public Site GetSite(string name) => TryGetSite(name) ?? throw (ListSites() is { Count: > 0 } sites
        ? new SiteWatchException($"no site named '{name}' (known: {string.Join(", ", sites.Select(s => s.Name))})")
        : new SiteWatchException($"no site named '{name}'; the workspace has no sites yet") { Next = new NextStep(NextStepKind.AddSite) });

    public Site GetSite(long id)
    {
        using var command = Command("SELECT * FROM sites WHERE id = @id");
        command.Bind("id", id);
        return ReadAll(command, ReadSite).FirstOrDefault() ?? throw new SiteWatchException($"no site with id {id}");
    }

    public Scene? FindSceneBySource(long siteId, string sha256)
    {
        using var command = Command("SELECT * FROM scenes WHERE site_id = @site AND source_sha256 = @sha");
        command.Bind("site", siteId);
        command.Bind("sha", sha256);
        return ReadAll(command, ReadScene).FirstOrDefault();
    }

    public IReadOnlyList<Scene> ListScenes(long siteId)
    {
        using var command = Command("SELECT * FROM scenes WHERE site_id = @site ORDER BY acquired_utc, id");
        command.Bind("site", siteId);
        return ReadAll(command, ReadScene);
    }

    public Scene GetScene(long id)
    {
        using var command = Command("SELECT * FROM scenes WHERE id = @id");
        command.Bind("id", id);
        return ReadAll(command, ReadScene).FirstOrDefault() ?? throw new SiteWatchException($"no scene with id {id}");
    }

    /// <summary>A finished change run for this pair and parameters, if any (re-running with the same inputs reuses it).</summary>
    public ChangeRunRecord? FindChangeRun(long beforeSceneId, long afterSceneId, string parametersSha256, DbTransaction? tx = null)
    {
        using var command = Command("SELECT * FROM change_runs WHERE before_scene_id = @b AND after_scene_id = @a AND parameters_sha256 = @p", tx);
        command.Bind("b", beforeSceneId);
        command.Bind("a", afterSceneId);
        command.Bind("p", parametersSha256);
        return ReadAll(command, ReadChangeRun).FirstOrDefault();
    }

    public IReadOnlyList<ChangeRunRecord> ListChangeRuns(long siteId)
    {
        using var command = Command("SELECT * FROM change_runs WHERE site_id = @s ORDER BY id");
        command.Bind("s", siteId);
        return ReadAll(command, ReadChangeRun);
    }

    /// <summary>
    /// Publishes a change run whose outputs were written to a staging folder: the row and its folder (named by the
    /// row's id, so no other run can ever own it) appear together or not at all. When a complete run of the same pair
    /// and parameters was published meanwhile (a concurrent process), that one is returned and nothing is written;
    /// when the row exists but its folder is gone or incomplete, the row is pointed at the new outputs.
    /// </summary>
    public (ChangeRunRecord Record, bool Shared) PublishChangeRun(ChangeRunRecord draft, string stagedDirectory, Func<long, string> directoryFor,
        Func<ChangeRunRecord, bool> isComplete)
    {
        string? final = null;
        var shared = false;
        var record = CommitWithMove(tx =>
        {
            var existing = FindChangeRun(draft.BeforeSceneId, draft.AfterSceneId, draft.ParametersSha256, tx);
            if (existing is not null && isComplete(existing))
            {
                shared = true;
                return existing;
            }
            long id;
            if (existing is null)
            {
                // The row's identity first; its outputs (folder, summary, manifest) are set below, as for an existing row.
                using var insert = Command("""
                    INSERT INTO change_runs (site_id, before_scene_id, after_scene_id, method, parameters, parameters_sha256, directory, summary, created_utc)
                    VALUES (@site, @b, @a, @method, @params, @sha, '', '', '') RETURNING id
                    """, tx);
                insert.Bind("site", draft.SiteId);
                insert.Bind("b", draft.BeforeSceneId);
                insert.Bind("a", draft.AfterSceneId);
                insert.Bind("method", draft.Method);
                insert.Bind("params", draft.Parameters);
                insert.Bind("sha", draft.ParametersSha256);
                id = Convert.ToInt64(Run(insert.ExecuteScalar), CultureInfo.InvariantCulture);
            }
            else
            {
                id = existing.Id;
            }
            var directory = directoryFor(id);
            using (var update = Command("UPDATE change_runs SET directory = @dir, summary = @summary, created_utc = @created, manifest = @manifest WHERE id = @id", tx))
            {
                update.Bind("dir", directory);
                update.Bind("summary", draft.Summary);
                update.Bind("created", Iso(draft.CreatedUtc));
                update.Bind("manifest", draft.Manifest is null ? DBNull.Value : JsonSerializer.Serialize(draft.Manifest));
                update.Bind("id", id);
                Run(update.ExecuteNonQuery);
            }
            final = System.IO.Path.Combine(WorkspaceRoot, directory);
            return draft with { Id = id, Directory = directory };
        },
        move: () =>
        {
            if (final is null)
            {
                return;
            }
            if (Directory.Exists(final))
            {
                // The same row's own incomplete outputs (a folder damaged by hand): kept aside, never deleted.
                var aside = System.IO.Path.Combine(WorkspaceRoot, ".quarantine", $"incomplete-{DateTime.UtcNow:yyyyMMddTHHmmssfff}", System.IO.Path.GetRelativePath(WorkspaceRoot, final));
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(aside)!);
                Directory.Move(final, aside);
            }
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(final)!);
            Directory.Move(stagedDirectory, final);
        },
        undoMove: () =>
        {
            if (final is not null)
            {
                Directory.Delete(final, recursive: true);
            }
        });
        return (record, shared);
    }

    /// <summary>
    /// Inserts rows and moves their files into place as one step: the rows are committed only after the move, and a
    /// failed commit undoes the move, so rows and files exist together or not at all.
    /// </summary>
    private T CommitWithMove<T>(Func<DbTransaction, T> insert, Action move, Action undoMove)
    {
        using var tx = BeginWrite();
        var moved = false;
        try
        {
            var result = insert(tx);
            move();
            moved = true;
            Run(() => { tx.Commit(); return 0; });
            return result;
        }
        catch
        {
            if (moved)
            {
                try
                {
                    undoMove();
                }
                catch (IOException)
                {
                    // Best effort: an orphaned file without a row is harmless and can be swept.
                }
            }
            throw;
        }
    }

    private ChangeRunRecord ReadChangeRun(DbDataReader r) => new()
    {
        Id = r.ReadInt64(r.GetOrdinal("id")),
        SiteId = r.ReadInt64(r.GetOrdinal("site_id")),
        BeforeSceneId = r.ReadInt64(r.GetOrdinal("before_scene_id")),
        AfterSceneId = r.ReadInt64(r.GetOrdinal("after_scene_id")),
        Method = r.GetString(r.GetOrdinal("method")),
        Parameters = r.GetString(r.GetOrdinal("parameters")),
        ParametersSha256 = r.GetString(r.GetOrdinal("parameters_sha256")),
        Directory = r.GetString(r.GetOrdinal("directory")),
        Summary = r.GetString(r.GetOrdinal("summary")),
        CreatedUtc = ParseIso(r.GetString(r.GetOrdinal("created_utc"))),
        Manifest = r.IsDBNull(r.GetOrdinal("manifest")) ? null : JsonSerializer.Deserialize<Dictionary<string, string>>(r.GetString(r.GetOrdinal("manifest"))),
    };

    /// <summary>
    /// Records a scene with its files in one step: <paramref name="publish"/> runs inside the transaction (a rename
    /// into the store) and <paramref name="unpublish"/> when the commit fails, so the row and the files both exist
    /// afterwards, or neither does. Not run when a concurrent process stored the same source meanwhile (that scene is
    /// returned). Sets the site's grid when the scene fixed it.
    /// </summary>
    /// <summary>
    /// Records a scene and publishes its files with the row. When a concurrent ingest stored the same source meanwhile,
    /// that scene is returned with <c>AlreadyPresent</c> and nothing is published.
    /// </summary>
    public (Scene Scene, bool AlreadyPresent) CommitScene(Scene draft, SiteGridFix? fixGrid, Action publish, Action unpublish)
    {
        Scene? already = null;
        var scene = CommitWithMove(tx =>
    {
        using (var find = Command("SELECT * FROM scenes WHERE site_id = @site AND source_sha256 = @sha", tx))
        {
            // The same source added by a concurrent process meanwhile: one scene, both succeed.
            find.Bind("site", draft.SiteId);
            find.Bind("sha", draft.SourceSha256);
            already = ReadAll(find, ReadScene).FirstOrDefault();
            if (already is not null)
            {
                return already;
            }
        }
        if (fixGrid is { } fix)
        {
            // The first scene fixes the grid; the NOT EXISTS guard stops a concurrent first ingest from refixing it.
            using var update = Command(
                "UPDATE sites SET gsd = @gsd, anchor_x = @ax, anchor_y = @ay, crs_epsg = @epsg, grid_reason = @reason " +
                "WHERE id = @id AND NOT EXISTS (SELECT 1 FROM scenes WHERE site_id = @id)", tx);
            update.Bind("gsd", fix.Gsd);
            update.Bind("ax", fix.AnchorX);
            update.Bind("ay", fix.AnchorY);
            update.Bind("epsg", fix.CrsEpsg);
            update.Bind("reason", fix.Reason);
            update.Bind("id", draft.SiteId);
            if (Run(update.ExecuteNonQuery) != 1)
            {
                throw new SiteWatchException($"site {draft.SiteId}: another scene fixed the grid meanwhile; run the command again");
            }
        }
        using var insert = Command("""
            INSERT INTO scenes (site_id, acquired_utc, acquired_from, sensor, bands, cloud_cover, source_path, source_sha256,
                                file, width, height, data_type, nodata, valid_fraction, ingested_utc, cloud_mask_file, file_sha256, cloud_mask_sha256)
            VALUES (@site, @acquired, @from, @sensor, @bands, @cloud, @source, @sha, @file, @w, @h, @type, @nodata, @valid, @ingested, @mask, @filesha, @masksha)
            RETURNING id
            """, tx);
        insert.Bind("site", draft.SiteId);
        insert.Bind("acquired", Iso(draft.AcquiredUtc));
        insert.Bind("from", draft.AcquiredFrom);
        insert.Bind("sensor", draft.Sensor);
        insert.Bind("bands", JsonSerializer.Serialize(draft.Bands));
        insert.Bind("cloud", draft.CloudCoverPercent);
        insert.Bind("source", draft.SourcePath);
        insert.Bind("sha", draft.SourceSha256);
        insert.Bind("file", draft.File);
        insert.Bind("w", draft.Width);
        insert.Bind("h", draft.Height);
        insert.Bind("type", draft.DataType);
        insert.Bind("nodata", draft.NoData);
        insert.Bind("valid", draft.ValidFraction);
        insert.Bind("ingested", Iso(draft.IngestedUtc));
        insert.Bind("mask", draft.CloudMaskFile);
        insert.Bind("filesha", draft.FileSha256);
        insert.Bind("masksha", draft.CloudMaskSha256);
        return draft with { Id = Convert.ToInt64(Run(insert.ExecuteScalar), CultureInfo.InvariantCulture) };
    },
    move: () =>
    {
        if (already is null)
        {
            publish();
        }
    },
    undoMove: unpublish);
        return (scene, already is not null);
    }

    private Site ReadSite(DbDataReader r) => new()
    {
        Id = r.ReadInt64(r.GetOrdinal("id")),
        Name = r.GetString(r.GetOrdinal("name")),
        Aoi = AoiReader.Parse(r.GetString(r.GetOrdinal("aoi_geojson")), $"site {r.GetString(r.GetOrdinal("name"))} AOI"),
        CrsEpsg = r.ReadInt32(r.GetOrdinal("crs_epsg")),
        Gsd = r.IsDBNull(r.GetOrdinal("gsd")) ? null : r.GetDouble(r.GetOrdinal("gsd")),
        AnchorX = r.GetDouble(r.GetOrdinal("anchor_x")),
        AnchorY = r.GetDouble(r.GetOrdinal("anchor_y")),
        Tags = JsonSerializer.Deserialize<string[]>(r.GetString(r.GetOrdinal("tags"))) ?? [],
        Notes = r.IsDBNull(r.GetOrdinal("notes")) ? null : r.GetString(r.GetOrdinal("notes")),
        GridReason = r.IsDBNull(r.GetOrdinal("grid_reason")) ? null : r.GetString(r.GetOrdinal("grid_reason")),
        CreatedUtc = ParseIso(r.GetString(r.GetOrdinal("created_utc"))),
    };

    private Scene ReadScene(DbDataReader r) => new()
    {
        Id = r.ReadInt64(r.GetOrdinal("id")),
        SiteId = r.ReadInt64(r.GetOrdinal("site_id")),
        AcquiredUtc = ParseIso(r.GetString(r.GetOrdinal("acquired_utc"))),
        AcquiredFrom = r.GetString(r.GetOrdinal("acquired_from")),
        Sensor = r.GetString(r.GetOrdinal("sensor")),
        Bands = JsonSerializer.Deserialize<SceneBand[]>(r.GetString(r.GetOrdinal("bands"))) ?? [],
        CloudCoverPercent = r.IsDBNull(r.GetOrdinal("cloud_cover")) ? null : r.GetDouble(r.GetOrdinal("cloud_cover")),
        SourcePath = r.GetString(r.GetOrdinal("source_path")),
        SourceSha256 = r.GetString(r.GetOrdinal("source_sha256")),
        File = r.GetString(r.GetOrdinal("file")),
        Width = r.ReadInt32(r.GetOrdinal("width")),
        Height = r.ReadInt32(r.GetOrdinal("height")),
        DataType = r.GetString(r.GetOrdinal("data_type")),
        NoData = r.IsDBNull(r.GetOrdinal("nodata")) ? null : r.GetDouble(r.GetOrdinal("nodata")),
        ValidFraction = r.GetDouble(r.GetOrdinal("valid_fraction")),
        CloudMaskFile = r.IsDBNull(r.GetOrdinal("cloud_mask_file")) ? null : r.GetString(r.GetOrdinal("cloud_mask_file")),
        FileSha256 = r.IsDBNull(r.GetOrdinal("file_sha256")) ? null : r.GetString(r.GetOrdinal("file_sha256")),
        CloudMaskSha256 = r.IsDBNull(r.GetOrdinal("cloud_mask_sha256")) ? null : r.GetString(r.GetOrdinal("cloud_mask_sha256")),
        IngestedUtc = ParseIso(r.GetString(r.GetOrdinal("ingested_utc"))),
    };

    private DbCommand Command(string sql, DbTransaction? tx = null)
    {
        if (tx is null)
        {
            ReconnectIfBroken();
        }
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = tx;
        return command;
    }

    /// <summary>
    /// A case-insensitive match of the name column: SQLite's NOCASE column answers it from its unique index, PostgreSQL
    /// from its unique index on lower(name).
    /// </summary>
    private string NameIs(string parameter) => Engine == CatalogEngine.Postgres ? $"lower(name) = lower(@{parameter})" : $"name = @{parameter}";

    /// <summary>
    /// A write transaction that holds the catalog's write lock until it ends: SQLite's BEGIN IMMEDIATE, and on
    /// PostgreSQL a transaction-scoped advisory lock, so writers queue one after another on both engines and a
    /// look-up made inside the transaction (is this scene stored already?) stays true until the commit.
    /// </summary>
    private DbTransaction BeginWrite()
    {
        ReconnectIfBroken();
        var tx = Run(() => _connection.BeginTransaction());
        if (Engine == CatalogEngine.Postgres)
        {
            try
            {
                Execute($"SELECT pg_advisory_xact_lock({PostgresWriteLock})", tx);
            }
            catch
            {
                tx.Dispose();
                throw;
            }
        }
        return tx;
    }

    private void Execute(string sql, DbTransaction? tx = null)
    {
        using var command = Command(sql, tx);
        Run(command.ExecuteNonQuery);
    }

    private object? Scalar(string sql)
    {
        using var command = Command(sql);
        return Run(command.ExecuteScalar);
    }

    private List<T> ReadAll<T>(DbCommand command, Func<DbDataReader, T> read) => Run(() =>
    {
        var list = new List<T>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            try
            {
                list.Add(read(reader));
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidCastException or OverflowException or ArgumentException or SiteWatchException or NotSupportedException)
            {
                throw RowError(command, reader, e);
            }
        }
        return list;
    });

    private static readonly HashSet<string> JsonColumns = ["bands", "tags", "counts", "evidence", "summary", "parameters", "aoi_geojson", "manifest", "geometry_geojson", "rules_json"];

    /// <summary>
    /// A row that cannot be read (a workspace edited by hand or written by another tool): one line naming the table,
    /// the row and the column, found by checking each column of the row against what it must hold.
    /// </summary>
    private SiteWatchException RowError(DbCommand command, DbDataReader reader, Exception e)
    {
        var table = System.Text.RegularExpressions.Regex.Match(command.CommandText, @"FROM\s+(\w+)", System.Text.RegularExpressions.RegexOptions.IgnoreCase).Groups[1].Value;
        string row = "?";
        string? column = null;
        for (var i = 0; i < reader.FieldCount; i++)
        {
            var name = reader.GetName(i);
            var value = reader.GetValue(i);
            if (name == "id")
            {
                row = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "?";
            }
            if (column is not null || value is DBNull)
            {
                continue;
            }
            var text = value as string;
            if (name.EndsWith("_utc", StringComparison.Ordinal) && (text is null || !DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out _)))
            {
                column = name;
            }
            else if (JsonColumns.Contains(name) && (text is null || !IsJson(text)))
            {
                column = name;
            }
        }
        var reason = e is SiteWatchException ? e.Message : $"malformed value ({e.Message.Split('\n')[0].TrimEnd('.')})";
        return new SiteWatchException($"{Location}: table {(table.Length > 0 ? table : "?")}, row {row}{(column is null ? "" : $", column {column}")}: {reason}; the row was written by hand or by another tool", e);
    }

    private static bool IsJson(string text)
    {
        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// The database's own checks: SQLite's integrity and foreign-key checks (an empty list when the file is sound).
    /// PostgreSQL enforces its foreign keys as rows are written and checksums its pages itself; its check is that the
    /// schema is the one this SiteWatch writes.
    /// </summary>
    public IReadOnlyList<string> DatabaseProblems()
    {
        var problems = new List<string>();
        if (Engine == CatalogEngine.Postgres)
        {
            var version = PostgresSchemaVersion(null);
            if (version != SchemaVersion)
            {
                problems.Add($"schema version {version?.ToString(CultureInfo.InvariantCulture) ?? "missing"}, expected {SchemaVersion}");
            }
            return problems;
        }
        using (var integrity = Command("PRAGMA integrity_check"))
        {
            problems.AddRange(ReadAll(integrity, r => r.GetString(0)).Where(line => line != "ok"));
        }
        using (var keys = Command("PRAGMA foreign_key_check"))
        {
            problems.AddRange(ReadAll(keys, r => $"table {r.GetString(0)}, row {r.GetValue(1)}: refers to a missing row of {r.GetString(2)}"));
        }
        return problems;
    }

    /// <summary>Every store path (file or folder, relative to the workspace) a catalog row references.</summary>
    public IReadOnlyCollection<string> ReferencedPaths() => ReferencedPaths(null);

    private HashSet<string> ReferencedPaths(DbTransaction? tx)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sql in new[]
        {
            "SELECT file FROM scenes", "SELECT cloud_mask_file FROM scenes WHERE cloud_mask_file IS NOT NULL",
            "SELECT directory FROM change_runs", "SELECT detections_file FROM detection_runs",
            "SELECT directory FROM recordings WHERE directory <> ''",
        })
        {
            using var command = Command(sql, tx);
            foreach (var path in ReadAll(command, r => r.GetString(0)))
            {
                paths.Add(path);
            }
        }
        using (var alerts = Command("SELECT evidence FROM alerts", tx))
        {
            foreach (var evidence in ReadAll(alerts, r => r.GetString(0)))
            {
                if (IsJson(evidence))
                {
                    using var doc = JsonDocument.Parse(evidence);
                    if (doc.RootElement.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var key in new[] { "chip", "snapshot" })
                        {
                            if (doc.RootElement.TryGetProperty(key, out var chip) && chip.ValueKind == JsonValueKind.String)
                            {
                                paths.Add(chip.GetString()!);
                            }
                        }
                    }
                }
            }
        }
        return paths;
    }

    /// <summary>
    /// Runs <paramref name="action"/> holding the catalog's write lock (<see cref="BeginWrite"/>) with the paths rows
    /// reference: no other process is then between moving a file into the store and committing its row.
    /// </summary>
    internal T WithWriteLock<T>(Func<IReadOnlyCollection<string>, T> action)
    {
        using var tx = BeginWrite();
        var result = action(ReferencedPaths(tx));
        Run(() => { tx.Commit(); return 0; });
        return result;
    }

    /// <summary>Database errors become one-line user errors naming the catalog.</summary>
    private T Run<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (SqliteException e)
        {
            var reason = e.SqliteErrorCode switch
            {
                8 => "the catalog is read-only",
                5 or 6 => "the catalog is locked by another process",
                11 or 26 => "the catalog file is corrupt or not a SQLite database",
                13 => "the disk is full",
                _ => e.Message,
            };
            throw new SiteWatchException($"{Location}: {reason}; nothing was changed", e);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException { Source: "Npgsql" })
        {
            throw new SiteWatchException($"{Location}: {PostgresReason(e)}; nothing was changed", e);
        }
    }

    internal static string Iso(DateTime utc) => utc.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    internal static DateTime ParseIso(string text) =>
        DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    public void Dispose() => _connection.Dispose();
}
