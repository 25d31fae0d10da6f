using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Geo;

namespace SiteWatch.Core.Catalog;

/// <summary>The embedded SQLite catalog of sites and scenes.</summary>
public sealed partial class SiteCatalog : IDisposable
{
    private const int SchemaVersion = 5;
    private readonly SqliteConnection _connection;

    private SiteCatalog(SqliteConnection connection, string path)
    {
        _connection = connection;
        Path = path;
    }

    public string Path { get; }

    internal static SiteCatalog Open(string path, bool create)
    {
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
            var catalog = new SiteCatalog(connection, path);
            catalog.Migrate();
            return catalog;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new SiteWatchException($"{path}: cannot open the catalog: {e.Message}", e);
        }
    }

    private void Migrate()
    {
        var version = Convert.ToInt32(Scalar("PRAGMA user_version"), CultureInfo.InvariantCulture);
        if (version > SchemaVersion)
        {
            throw new SiteWatchException($"{Path}: catalog schema {version} is newer than this SiteWatch understands ({SchemaVersion}); upgrade SiteWatch");
        }
        if (version == SchemaVersion)
        {
            return;
        }
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
            CreateVersion5Alerts(tx);
        }
        Execute($"PRAGMA user_version = {SchemaVersion}", tx);
        tx.Commit();
    }

    private void CreateVersion1(SqliteTransaction tx)
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

    public Site AddSite(string name, Geometry aoiWgs84, int crsEpsg, double? gsd, IReadOnlyList<string> tags, string? notes)
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
            INSERT INTO sites (name, aoi_geojson, crs_epsg, gsd, min_lon, min_lat, max_lon, max_lat, tags, notes, created_utc)
            VALUES ($name, $aoi, $epsg, $gsd, $minx, $miny, $maxx, $maxy, $tags, $notes, $created) RETURNING id
            """);
        command.Parameters.AddWithValue("$name", name.Trim());
        command.Parameters.AddWithValue("$aoi", GeoJsonText.Write(aoiWgs84));
        command.Parameters.AddWithValue("$epsg", crsEpsg);
        command.Parameters.AddWithValue("$gsd", (object?)gsd ?? DBNull.Value);
        command.Parameters.AddWithValue("$minx", envelope.MinX);
        command.Parameters.AddWithValue("$miny", envelope.MinY);
        command.Parameters.AddWithValue("$maxx", envelope.MaxX);
        command.Parameters.AddWithValue("$maxy", envelope.MaxY);
        command.Parameters.AddWithValue("$tags", JsonSerializer.Serialize(tags));
        command.Parameters.AddWithValue("$notes", (object?)notes ?? DBNull.Value);
        command.Parameters.AddWithValue("$created", Iso(created));
        var id = Convert.ToInt64(Run(command.ExecuteScalar), CultureInfo.InvariantCulture);
        return GetSite(id);
    }

    public IReadOnlyList<Site> ListSites()
    {
        using var command = Command("SELECT * FROM sites ORDER BY name");
        return ReadAll(command, ReadSite);
    }

    public Site? TryGetSite(string name)
    {
        using var command = Command("SELECT * FROM sites WHERE name = $name");
        command.Parameters.AddWithValue("$name", name.Trim());
        return ReadAll(command, ReadSite).FirstOrDefault();
    }

    public Site GetSite(string name) => TryGetSite(name) ?? throw new SiteWatchException(
        ListSites() is { Count: > 0 } sites
            ? $"no site named '{name}' (known: {string.Join(", ", sites.Select(s => s.Name))})"
            : $"no site named '{name}'; the workspace has no sites yet (add one with 'sitewatch site add')");

    public Site GetSite(long id)
    {
        using var command = Command("SELECT * FROM sites WHERE id = $id");
        command.Parameters.AddWithValue("$id", id);
        return ReadAll(command, ReadSite).FirstOrDefault() ?? throw new SiteWatchException($"no site with id {id}");
    }

    public Scene? FindSceneBySource(long siteId, string sha256)
    {
        using var command = Command("SELECT * FROM scenes WHERE site_id = $site AND source_sha256 = $sha");
        command.Parameters.AddWithValue("$site", siteId);
        command.Parameters.AddWithValue("$sha", sha256);
        return ReadAll(command, ReadScene).FirstOrDefault();
    }

    public IReadOnlyList<Scene> ListScenes(long siteId)
    {
        using var command = Command("SELECT * FROM scenes WHERE site_id = $site ORDER BY acquired_utc, id");
        command.Parameters.AddWithValue("$site", siteId);
        return ReadAll(command, ReadScene);
    }

    public Scene GetScene(long id)
    {
        using var command = Command("SELECT * FROM scenes WHERE id = $id");
        command.Parameters.AddWithValue("$id", id);
        return ReadAll(command, ReadScene).FirstOrDefault() ?? throw new SiteWatchException($"no scene with id {id}");
    }

    /// <summary>A finished change run for this pair and parameters, if any (re-running with the same inputs reuses it).</summary>
    public ChangeRunRecord? FindChangeRun(long beforeSceneId, long afterSceneId, string parametersSha256)
    {
        using var command = Command("SELECT * FROM change_runs WHERE before_scene_id = $b AND after_scene_id = $a AND parameters_sha256 = $p");
        command.Parameters.AddWithValue("$b", beforeSceneId);
        command.Parameters.AddWithValue("$a", afterSceneId);
        command.Parameters.AddWithValue("$p", parametersSha256);
        return ReadAll(command, ReadChangeRun).FirstOrDefault();
    }

    public IReadOnlyList<ChangeRunRecord> ListChangeRuns(long siteId)
    {
        using var command = Command("SELECT * FROM change_runs WHERE site_id = $s ORDER BY id");
        command.Parameters.AddWithValue("$s", siteId);
        return ReadAll(command, ReadChangeRun);
    }

    /// <summary>
    /// Records a change run whose outputs were written to a staging folder, moving the folder into place in the same
    /// step: the row and the folder both exist afterwards, or neither does.
    /// </summary>
    public ChangeRunRecord CommitChangeRun(ChangeRunRecord draft, string stagedDirectory, string finalDirectory) => CommitWithMove(tx =>
    {
        using var insert = Command("""
            INSERT INTO change_runs (site_id, before_scene_id, after_scene_id, method, parameters, parameters_sha256, directory, summary, created_utc)
            VALUES ($site, $b, $a, $method, $params, $sha, $dir, $summary, $created) RETURNING id
            """, tx);
        insert.Parameters.AddWithValue("$site", draft.SiteId);
        insert.Parameters.AddWithValue("$b", draft.BeforeSceneId);
        insert.Parameters.AddWithValue("$a", draft.AfterSceneId);
        insert.Parameters.AddWithValue("$method", draft.Method);
        insert.Parameters.AddWithValue("$params", draft.Parameters);
        insert.Parameters.AddWithValue("$sha", draft.ParametersSha256);
        insert.Parameters.AddWithValue("$dir", draft.Directory);
        insert.Parameters.AddWithValue("$summary", draft.Summary);
        insert.Parameters.AddWithValue("$created", Iso(draft.CreatedUtc));
        return draft with { Id = Convert.ToInt64(Run(insert.ExecuteScalar), CultureInfo.InvariantCulture) };
    },
    move: () =>
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(finalDirectory)!);
        Directory.Move(stagedDirectory, finalDirectory);
    },
    undoMove: () => Directory.Delete(finalDirectory, recursive: true));

    /// <summary>
    /// Inserts rows and moves their files into place as one step: the rows are committed only after the move, and a
    /// failed commit undoes the move, so rows and files exist together or not at all.
    /// </summary>
    private T CommitWithMove<T>(Func<SqliteTransaction, T> insert, Action move, Action undoMove)
    {
        using var tx = _connection.BeginTransaction();
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

    private ChangeRunRecord ReadChangeRun(SqliteDataReader r) => new()
    {
        Id = r.GetInt64(r.GetOrdinal("id")),
        SiteId = r.GetInt64(r.GetOrdinal("site_id")),
        BeforeSceneId = r.GetInt64(r.GetOrdinal("before_scene_id")),
        AfterSceneId = r.GetInt64(r.GetOrdinal("after_scene_id")),
        Method = r.GetString(r.GetOrdinal("method")),
        Parameters = r.GetString(r.GetOrdinal("parameters")),
        ParametersSha256 = r.GetString(r.GetOrdinal("parameters_sha256")),
        Directory = r.GetString(r.GetOrdinal("directory")),
        Summary = r.GetString(r.GetOrdinal("summary")),
        CreatedUtc = ParseIso(r.GetString(r.GetOrdinal("created_utc"))),
    };

    /// <summary>
    /// Records a scene and moves its staged file into the imagery store in one step: the row and the file both
    /// exist afterwards, or neither does. Sets the site's GSD when the scene fixed it.
    /// </summary>
    public Scene CommitScene(Scene draft, string stagedFile, string finalFile, SiteGridFix? fixGrid, (string Staged, string Final)? cloudMask = null) => CommitWithMove(tx =>
    {
        if (fixGrid is { } fix)
        {
            // The first scene fixes the grid; the NOT EXISTS guard stops a concurrent first ingest from refixing it.
            using var update = Command(
                "UPDATE sites SET gsd = $gsd, anchor_x = $ax, anchor_y = $ay " +
                "WHERE id = $id AND NOT EXISTS (SELECT 1 FROM scenes WHERE site_id = $id)", tx);
            update.Parameters.AddWithValue("$gsd", fix.Gsd);
            update.Parameters.AddWithValue("$ax", fix.AnchorX);
            update.Parameters.AddWithValue("$ay", fix.AnchorY);
            update.Parameters.AddWithValue("$id", draft.SiteId);
            if (Run(update.ExecuteNonQuery) != 1)
            {
                throw new SiteWatchException($"site {draft.SiteId}: another scene fixed the grid meanwhile; run the command again");
            }
        }
        using var insert = Command("""
            INSERT INTO scenes (site_id, acquired_utc, acquired_from, sensor, bands, cloud_cover, source_path, source_sha256,
                                file, width, height, data_type, nodata, valid_fraction, ingested_utc, cloud_mask_file)
            VALUES ($site, $acquired, $from, $sensor, $bands, $cloud, $source, $sha, $file, $w, $h, $type, $nodata, $valid, $ingested, $mask)
            RETURNING id
            """, tx);
        insert.Parameters.AddWithValue("$site", draft.SiteId);
        insert.Parameters.AddWithValue("$acquired", Iso(draft.AcquiredUtc));
        insert.Parameters.AddWithValue("$from", draft.AcquiredFrom);
        insert.Parameters.AddWithValue("$sensor", draft.Sensor);
        insert.Parameters.AddWithValue("$bands", JsonSerializer.Serialize(draft.Bands));
        insert.Parameters.AddWithValue("$cloud", (object?)draft.CloudCoverPercent ?? DBNull.Value);
        insert.Parameters.AddWithValue("$source", draft.SourcePath);
        insert.Parameters.AddWithValue("$sha", draft.SourceSha256);
        insert.Parameters.AddWithValue("$file", draft.File);
        insert.Parameters.AddWithValue("$w", draft.Width);
        insert.Parameters.AddWithValue("$h", draft.Height);
        insert.Parameters.AddWithValue("$type", draft.DataType);
        insert.Parameters.AddWithValue("$nodata", (object?)draft.NoData ?? DBNull.Value);
        insert.Parameters.AddWithValue("$valid", draft.ValidFraction);
        insert.Parameters.AddWithValue("$ingested", Iso(draft.IngestedUtc));
        insert.Parameters.AddWithValue("$mask", (object?)draft.CloudMaskFile ?? DBNull.Value);
        return draft with { Id = Convert.ToInt64(Run(insert.ExecuteScalar), CultureInfo.InvariantCulture) };
    },
    move: () =>
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(finalFile)!);
        File.Move(stagedFile, finalFile, overwrite: false);
        if (cloudMask is { } m)
        {
            File.Move(m.Staged, m.Final, overwrite: false);
        }
    },
    undoMove: () =>
    {
        File.Delete(finalFile);
        if (cloudMask is { } m)
        {
            File.Delete(m.Final);
        }
    });

    private Site ReadSite(SqliteDataReader r) => new()
    {
        Id = r.GetInt64(r.GetOrdinal("id")),
        Name = r.GetString(r.GetOrdinal("name")),
        Aoi = AoiReader.Parse(r.GetString(r.GetOrdinal("aoi_geojson")), $"site {r.GetString(r.GetOrdinal("name"))} AOI"),
        CrsEpsg = r.GetInt32(r.GetOrdinal("crs_epsg")),
        Gsd = r.IsDBNull(r.GetOrdinal("gsd")) ? null : r.GetDouble(r.GetOrdinal("gsd")),
        AnchorX = r.GetDouble(r.GetOrdinal("anchor_x")),
        AnchorY = r.GetDouble(r.GetOrdinal("anchor_y")),
        Tags = JsonSerializer.Deserialize<string[]>(r.GetString(r.GetOrdinal("tags"))) ?? [],
        Notes = r.IsDBNull(r.GetOrdinal("notes")) ? null : r.GetString(r.GetOrdinal("notes")),
        CreatedUtc = ParseIso(r.GetString(r.GetOrdinal("created_utc"))),
    };

    private Scene ReadScene(SqliteDataReader r) => new()
    {
        Id = r.GetInt64(r.GetOrdinal("id")),
        SiteId = r.GetInt64(r.GetOrdinal("site_id")),
        AcquiredUtc = ParseIso(r.GetString(r.GetOrdinal("acquired_utc"))),
        AcquiredFrom = r.GetString(r.GetOrdinal("acquired_from")),
        Sensor = r.GetString(r.GetOrdinal("sensor")),
        Bands = JsonSerializer.Deserialize<SceneBand[]>(r.GetString(r.GetOrdinal("bands"))) ?? [],
        CloudCoverPercent = r.IsDBNull(r.GetOrdinal("cloud_cover")) ? null : r.GetDouble(r.GetOrdinal("cloud_cover")),
        SourcePath = r.GetString(r.GetOrdinal("source_path")),
        SourceSha256 = r.GetString(r.GetOrdinal("source_sha256")),
        File = r.GetString(r.GetOrdinal("file")),
        Width = r.GetInt32(r.GetOrdinal("width")),
        Height = r.GetInt32(r.GetOrdinal("height")),
        DataType = r.GetString(r.GetOrdinal("data_type")),
        NoData = r.IsDBNull(r.GetOrdinal("nodata")) ? null : r.GetDouble(r.GetOrdinal("nodata")),
        ValidFraction = r.GetDouble(r.GetOrdinal("valid_fraction")),
        CloudMaskFile = r.IsDBNull(r.GetOrdinal("cloud_mask_file")) ? null : r.GetString(r.GetOrdinal("cloud_mask_file")),
        IngestedUtc = ParseIso(r.GetString(r.GetOrdinal("ingested_utc"))),
    };

    private SqliteCommand Command(string sql, SqliteTransaction? tx = null)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = tx;
        return command;
    }

    private void Execute(string sql, SqliteTransaction? tx = null)
    {
        using var command = Command(sql, tx);
        Run(command.ExecuteNonQuery);
    }

    private object? Scalar(string sql)
    {
        using var command = Command(sql);
        return Run(command.ExecuteScalar);
    }

    private List<T> ReadAll<T>(SqliteCommand command, Func<SqliteDataReader, T> read) => Run(() =>
    {
        var list = new List<T>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(read(reader));
        }
        return list;
    });

    /// <summary>SQLite errors become one-line user errors naming the catalog file.</summary>
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
            throw new SiteWatchException($"{Path}: {reason}; nothing was changed", e);
        }
    }

    internal static string Iso(DateTime utc) => utc.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static DateTime ParseIso(string text) =>
        DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    public void Dispose() => _connection.Dispose();
}
