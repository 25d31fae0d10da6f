using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Net.Sockets;
using Npgsql;

namespace SiteWatch.Core.Catalog;

/// <summary>
/// The catalog in PostgreSQL with PostGIS (cluster mode): the same tables and queries as the SQLite file, created at
/// the current schema version in one transaction, with the sites' areas as PostGIS geometries under a GiST index.
/// </summary>
public sealed partial class SiteCatalog
{
    /// <summary>The advisory lock key every SiteWatch write transaction takes (ASCII "SiteWtch").</summary>
    private const long PostgresWriteLock = 0x5369746557746368;

    /// <summary>
    /// Opens (with <paramref name="create"/>, creates) the catalog in the database a connection string names.
    /// Passwords belong in ~/.pgpass or PGPASSWORD, which Npgsql reads, never in the workspace.
    /// </summary>
    internal static SiteCatalog OpenPostgres(string connectionString, string workspaceRoot, bool create)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
        {
            throw new SiteWatchException($"'{connectionString}' is not a PostgreSQL connection string ({e.Message}); write it as Host=HOST;Port=5432;Database=DB;Username=USER");
        }
        if (string.IsNullOrEmpty(builder.Database))
        {
            throw new SiteWatchException($"the PostgreSQL connection string names no database (Database=...); nothing was changed");
        }
        builder.ApplicationName ??= "sitewatch";
        var location = $"postgresql://{builder.Username ?? Environment.UserName}@{builder.Host ?? "localhost"}:{builder.Port}/{builder.Database}";
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            connection.Open();
            var catalog = new SiteCatalog(connection, CatalogEngine.Postgres, builder.ConnectionString, location, workspaceRoot);
            catalog.MigratePostgres(create);
            return catalog;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            connection.Dispose();
            throw new SiteWatchException($"{location}: cannot open the catalog: {PostgresReason(e)}", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private int? PostgresSchemaVersion(DbTransaction? tx)
    {
        using var exists = Command("SELECT to_regclass('sitewatch_schema') IS NOT NULL", tx);
        if (!(bool)Run(exists.ExecuteScalar)!)
        {
            return null;
        }
        using var version = Command("SELECT max(version) FROM sitewatch_schema", tx);
        return Run(version.ExecuteScalar) is int v ? v : null;
    }

    private void MigratePostgres(bool create)
    {
        using var tx = BeginWrite();
        var version = PostgresSchemaVersion(tx);
        if (version > SchemaVersion)
        {
            throw new SiteWatchException($"{Location}: catalog schema {version} is newer than this SiteWatch understands ({SchemaVersion}); upgrade SiteWatch");
        }
        if (version == SchemaVersion)
        {
            return;
        }
        if (version is not null)
        {
            // PostgreSQL catalogs start at schema 11; each later version adds its step here.
            if (version < 11)
            {
                throw new SiteWatchException($"{Location}: catalog schema {version} has no upgrade path to {SchemaVersion}; nothing was changed");
            }
            if (version < 12)
            {
                CreateVersion12Feeds(tx);
            }
            if (version < 13)
            {
                CreateVersion13Outbox(tx);
            }
            Execute($"INSERT INTO sitewatch_schema (version, created_utc) VALUES ({SchemaVersion}, '{Iso(DateTime.UtcNow)}')", tx);
            Run(() => { tx.Commit(); return 0; });
            return;
        }
        if (!create)
        {
            throw new SiteWatchException($"{Location}: not a SiteWatch catalog (a PostgreSQL database without its tables); nothing was changed")
            {
                Next = new NextStep(NextStepKind.CreateWorkspace, WorkspaceRoot),
            };
        }
        using (var postgis = Command("SELECT count(*) FROM pg_extension WHERE extname = 'postgis'", tx))
        {
            if (Convert.ToInt64(Run(postgis.ExecuteScalar), CultureInfo.InvariantCulture) == 0)
            {
                try
                {
                    Execute("CREATE EXTENSION postgis", tx);
                }
                catch (SiteWatchException e)
                {
                    throw new SiteWatchException($"{Location}: PostGIS is not enabled in this database and could not be enabled here ({e.InnerException?.Message ?? e.Message}); ask its administrator to run CREATE EXTENSION postgis; nothing was changed", e);
                }
            }
        }
        Execute(PostgresSchema, tx);
        CreateVersion12Feeds(tx);
        CreateVersion13Outbox(tx);
        Execute($"INSERT INTO sitewatch_schema (version, created_utc) VALUES ({SchemaVersion}, '{Iso(DateTime.UtcNow)}')", tx);
        Run(() => { tx.Commit(); return 0; });
    }

    /// <summary>
    /// Schema 11 for PostgreSQL: SQLite's tables with PostgreSQL types. Ids are identities (never handed out twice, as
    /// SQLite's AUTOINCREMENT); names compare case-insensitively through unique indexes on lower(name), as SQLite's
    /// NOCASE; times stay ISO-8601 UTC text so both engines order and compare them alike. Sites keep their area as a
    /// PostGIS geometry derived from the stored GeoJSON, under a GiST index for "sites in this box".
    /// </summary>
    private const string PostgresSchema = """
        CREATE TABLE sitewatch_schema (version integer NOT NULL, created_utc text NOT NULL);
        CREATE TABLE sites (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            name text NOT NULL,
            aoi_geojson text NOT NULL,
            aoi geometry(Geometry, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_GeomFromGeoJSON(aoi_geojson), 4326)) STORED,
            crs_epsg integer NOT NULL,
            gsd double precision,
            anchor_x double precision NOT NULL DEFAULT 0,
            anchor_y double precision NOT NULL DEFAULT 0,
            min_lon double precision NOT NULL, min_lat double precision NOT NULL, max_lon double precision NOT NULL, max_lat double precision NOT NULL,
            tags text NOT NULL DEFAULT '[]',
            notes text,
            created_utc text NOT NULL,
            grid_reason text
        );
        CREATE UNIQUE INDEX sites_by_name ON sites (lower(name));
        CREATE INDEX sites_by_area ON sites USING gist (aoi);
        CREATE TABLE scenes (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            site_id bigint NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
            acquired_utc text NOT NULL,
            acquired_from text NOT NULL,
            sensor text NOT NULL,
            bands text NOT NULL,
            cloud_cover double precision,
            source_path text NOT NULL,
            source_sha256 text NOT NULL,
            file text NOT NULL UNIQUE,
            width integer NOT NULL,
            height integer NOT NULL,
            data_type text NOT NULL,
            nodata double precision,
            valid_fraction double precision NOT NULL,
            ingested_utc text NOT NULL,
            cloud_mask_file text,
            file_sha256 text,
            cloud_mask_sha256 text,
            UNIQUE (site_id, source_sha256)
        );
        CREATE INDEX scenes_by_site_time ON scenes (site_id, acquired_utc);
        CREATE TABLE change_runs (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            site_id bigint NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
            before_scene_id bigint NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
            after_scene_id bigint NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
            method text NOT NULL,
            parameters text NOT NULL,
            parameters_sha256 text NOT NULL,
            directory text NOT NULL,
            summary text NOT NULL,
            created_utc text NOT NULL,
            manifest text,
            UNIQUE (before_scene_id, after_scene_id, parameters_sha256)
        );
        CREATE INDEX change_runs_by_site ON change_runs (site_id);
        CREATE TABLE detection_runs (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            site_id bigint NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
            scene_id bigint NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
            model_sha256 text NOT NULL,
            model_name text NOT NULL,
            parameters text NOT NULL,
            parameters_sha256 text NOT NULL,
            counts text NOT NULL,
            detections_file text NOT NULL,
            created_utc text NOT NULL,
            file_sha256 text,
            UNIQUE (scene_id, parameters_sha256)
        );
        CREATE INDEX detection_runs_by_site ON detection_runs (site_id);
        CREATE TABLE alert_rules (
            site_id bigint PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
            rules_json text NOT NULL,
            source_path text NOT NULL,
            stored_utc text NOT NULL
        );
        CREATE TABLE alerts (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            site_id bigint NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
            source text NOT NULL CHECK (source IN ('scene', 'video')),
            rule_name text NOT NULL,
            kind text NOT NULL,
            raised_utc text NOT NULL,
            observed_utc text NOT NULL,
            severity text NOT NULL,
            message text NOT NULL,
            evidence text NOT NULL,
            geometry_geojson text,
            acknowledged integer NOT NULL DEFAULT 0,
            alert_key text NOT NULL,
            UNIQUE (site_id, alert_key)
        );
        CREATE INDEX alerts_by_site_time ON alerts (site_id, observed_utc);
        CREATE INDEX alerts_by_time ON alerts (observed_utc);
        CREATE TABLE users (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            name text NOT NULL,
            role text NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
            password_hash text NOT NULL,
            created_utc text NOT NULL,
            security_stamp text NOT NULL
        );
        CREATE UNIQUE INDEX users_by_name ON users (lower(name));
        CREATE TABLE api_keys (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            key_sha256 text NOT NULL UNIQUE,
            prefix text NOT NULL,
            created_utc text NOT NULL,
            expires_utc text,
            revoked_utc text
        );
        CREATE TABLE site_notes (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            site_id bigint NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
            note_date text NOT NULL,
            source text NOT NULL,
            url text,
            text text NOT NULL,
            geometry_geojson text,
            created_utc text NOT NULL
        );
        CREATE INDEX site_notes_by_site_date ON site_notes (site_id, note_date);
        CREATE TABLE recordings (
            id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            site_id bigint NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
            source text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('file', 'live')),
            identity text,
            state text NOT NULL CHECK (state IN ('live', 'ended')),
            directory text NOT NULL,
            started_utc text NOT NULL,
            ended_utc text,
            media_start_utc text,
            frames bigint NOT NULL DEFAULT 0,
            footprints integer NOT NULL DEFAULT 0,
            duration_s double precision,
            end_note text
        );
        CREATE INDEX recordings_by_site ON recordings (site_id, started_utc);
        CREATE INDEX recordings_live ON recordings (state) WHERE state = 'live';
        CREATE TABLE site_watch_zones (
            site_id bigint PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
            zones_geojson text NOT NULL,
            source text NOT NULL,
            stored_utc text NOT NULL
        );
        CREATE TABLE site_monitors (
            site_id bigint PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
            schedule text NOT NULL,
            every_s bigint NOT NULL,
            updated_utc text NOT NULL,
            last_round_utc text,
            last_summary text,
            failed_rounds integer NOT NULL DEFAULT 0
        );
        """;

    /// <summary>
    /// A PostgreSQL catalog's connection is reopened after the server restarted or the network dropped it: the
    /// statement that met the break fails with a clear error, the next one runs on a fresh connection.
    /// </summary>
    private void ReconnectIfBroken()
    {
        if (Engine == CatalogEngine.Postgres && _connection.State is ConnectionState.Broken or ConnectionState.Closed)
        {
            Run(() =>
            {
                // The pool's idle connections died with the same server: drop them rather than hand one out again.
                NpgsqlConnection.ClearPool((NpgsqlConnection)_connection);
                _connection.Close();
                _connection.Open();
                return 0;
            });
        }
    }

    /// <summary>
    /// A lock on one piece of work (e.g. a site's monitoring round) for as long as this connection lives or until
    /// disposed, taken only when free: PostgreSQL's session advisory lock, seen by every process and machine using
    /// the database. Null when another session holds it.
    /// </summary>
    internal IDisposable? TryLockWork(int kind, long id)
    {
        using var command = Command($"SELECT pg_try_advisory_lock({kind}, {(int)id})");
        if (!(bool)Run(command.ExecuteScalar)!)
        {
            return null;
        }
        return new Restore(() =>
        {
            try
            {
                Execute($"SELECT pg_advisory_unlock({kind}, {(int)id})");
            }
            catch (SiteWatchException)
            {
                // The connection is gone, and the lock with it.
            }
        });
    }

    /// <summary>One line for a PostgreSQL failure, in the user's terms where the SQLSTATE is a known one.</summary>
    private static string PostgresReason(Exception e) => e switch
    {
        PostgresException p => p.SqlState switch
        {
            "3D000" => $"the database does not exist ({p.MessageText}); create it first (createdb)",
            "28P01" or "28000" => $"PostgreSQL refused the sign-in ({p.MessageText}); put the password in ~/.pgpass or PGPASSWORD",
            "42501" => $"permission denied ({p.MessageText})",
            "53100" => "the database server's disk is full",
            "57P01" or "57P02" or "57P03" => "the database server is shutting down or restarting; run the command again",
            "40P01" or "40001" => "the catalog was busy with a conflicting write; run the command again",
            _ => $"{p.MessageText} (SQLSTATE {p.SqlState})",
        },
        NpgsqlException { InnerException: SocketException or IOException or TimeoutException } n =>
            $"cannot reach the PostgreSQL server ({n.InnerException!.Message})",
        _ => e.Message,
    };

    /// <summary>Whether a catalog failure is the database being away for a moment (worth retrying, a 503 to a client).</summary>
    public static bool IsTransient(Exception e) => e switch
    {
        Microsoft.Data.Sqlite.SqliteException s => s.SqliteErrorCode is 5 or 6,
        NpgsqlException n => n.IsTransient,
        _ => false,
    };
}
