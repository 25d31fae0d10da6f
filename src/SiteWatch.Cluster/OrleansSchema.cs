using Npgsql;
using SiteWatch.Core;

namespace SiteWatch.Cluster;

/// <summary>
/// The tables and queries Orleans' ADO.NET clustering and reminder providers use, in the workspace's PostgreSQL.
/// The providers read their SQL from the OrleansQuery table by key, bind parameters by name (@DeploymentId, ...) with
/// the types of Orleans 10.4 (times as UTC DateTime, which Npgsql sends as timestamptz; hashes as int; periods as
/// milliseconds), and read result columns by name. Orleans' packages do not ship these scripts, so SiteWatch keeps
/// its own, written against that contract: each conditional write is one statement whose optimistic version check
/// and change happen together or not at all, and answers 1 (done) or 0 (lost a race: Orleans reads and retries).
/// Installed (or brought up to this build's queries) by every silo at start, under a lock.
/// </summary>
public static class OrleansSchema
{
    /// <summary>The provider version these queries were written and tested against.</summary>
    public const string ProviderVersion = "Microsoft.Orleans.*.AdoNet 10.4.2";

    private const long InstallLock = 0x4f726c65616e73; // "Orleans"

    private const string Tables = """
        CREATE TABLE IF NOT EXISTS OrleansQuery (
            QueryKey varchar(64) PRIMARY KEY,
            QueryText text NOT NULL
        );
        CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable (
            DeploymentId varchar(150) PRIMARY KEY,
            Timestamp timestamptz NOT NULL DEFAULT now(),
            Version integer NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS OrleansMembershipTable (
            DeploymentId varchar(150) NOT NULL REFERENCES OrleansMembershipVersionTable (DeploymentId) ON DELETE CASCADE,
            Address varchar(45) NOT NULL,
            Port integer NOT NULL,
            Generation integer NOT NULL,
            SiloName varchar(150) NOT NULL,
            HostName varchar(150) NOT NULL,
            Status integer NOT NULL,
            ProxyPort integer,
            SuspectTimes text,
            StartTime timestamptz NOT NULL,
            IAmAliveTime timestamptz NOT NULL,
            PRIMARY KEY (DeploymentId, Address, Port, Generation)
        );
        CREATE TABLE IF NOT EXISTS OrleansRemindersTable (
            ServiceId varchar(150) NOT NULL,
            GrainId varchar(150) NOT NULL,
            ReminderName varchar(150) NOT NULL,
            StartTime timestamptz NOT NULL,
            Period bigint NOT NULL,
            GrainHash integer NOT NULL,
            Version integer NOT NULL,
            PRIMARY KEY (ServiceId, GrainId, ReminderName)
        );
        CREATE INDEX IF NOT EXISTS OrleansRemindersByHash ON OrleansRemindersTable (ServiceId, GrainHash);
        CREATE TABLE IF NOT EXISTS sitewatch_orleans_schema (
            provider text NOT NULL,
            installed_utc timestamptz NOT NULL DEFAULT now()
        );
        """;

    /// <summary>The queries by the keys the providers ask for.</summary>
    internal static readonly IReadOnlyDictionary<string, string> Queries = new Dictionary<string, string>
    {
        // Clustering.
        ["InsertMembershipVersionKey"] = """
            WITH inserted AS (
                INSERT INTO OrleansMembershipVersionTable (DeploymentId) VALUES (@DeploymentId)
                ON CONFLICT (DeploymentId) DO NOTHING RETURNING 1)
            SELECT count(*)::integer FROM inserted
            """,
        // A silo joins: the version moves on only when it still is the one the silo read, and only then the row is added.
        ["InsertMembershipKey"] = """
            WITH bumped AS (
                UPDATE OrleansMembershipVersionTable SET Version = Version + 1, Timestamp = now()
                WHERE DeploymentId = @DeploymentId AND Version = @Version
                  AND NOT EXISTS (SELECT 1 FROM OrleansMembershipTable
                                  WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation)
                RETURNING DeploymentId),
            inserted AS (
                INSERT INTO OrleansMembershipTable (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
                SELECT DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime FROM bumped
                RETURNING 1)
            SELECT count(*)::integer FROM inserted
            """,
        ["UpdateMembershipKey"] = """
            WITH bumped AS (
                UPDATE OrleansMembershipVersionTable SET Version = Version + 1, Timestamp = now()
                WHERE DeploymentId = @DeploymentId AND Version = @Version
                  AND EXISTS (SELECT 1 FROM OrleansMembershipTable
                              WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation)
                RETURNING DeploymentId),
            updated AS (
                UPDATE OrleansMembershipTable m SET Status = @Status, SuspectTimes = @SuspectTimes, IAmAliveTime = @IAmAliveTime
                FROM bumped
                WHERE m.DeploymentId = bumped.DeploymentId AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
                RETURNING 1)
            SELECT count(*)::integer FROM updated
            """,
        ["UpdateIAmAlivetimeKey"] = """
            UPDATE OrleansMembershipTable SET IAmAliveTime = @IAmAliveTime
            WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation
            """,
        // The version row comes back even when the silo has no row (a left join), as the provider expects.
        ["MembershipReadRowKey"] = """
            SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
                   m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
            FROM OrleansMembershipVersionTable v
            LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
                 AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
            WHERE v.DeploymentId = @DeploymentId
            """,
        ["MembershipReadAllKey"] = """
            SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
                   m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
            FROM OrleansMembershipVersionTable v
            LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
            WHERE v.DeploymentId = @DeploymentId
            """,
        // Deleting the version row takes the deployment's silo rows with it (ON DELETE CASCADE).
        ["DeleteMembershipTableEntriesKey"] = "DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId",
        ["GatewaysQueryKey"] = """
            SELECT Address, ProxyPort, Generation FROM OrleansMembershipTable
            WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0
            """,
        // Silos that stopped saying they are alive long ago, and are not active (3), are removed.
        ["CleanupDefunctSiloEntriesKey"] = """
            DELETE FROM OrleansMembershipTable
            WHERE DeploymentId = @DeploymentId AND IAmAliveTime < @IAmAliveTime AND Status <> 3
            """,

        // Reminders.
        ["UpsertReminderRowKey"] = """
            INSERT INTO OrleansRemindersTable (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
            VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
            ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE
                SET StartTime = excluded.StartTime, Period = excluded.Period, GrainHash = excluded.GrainHash,
                    Version = OrleansRemindersTable.Version + 1
            RETURNING Version
            """,
        ["ReadReminderRowsKey"] = """
            SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable
            WHERE ServiceId = @ServiceId AND GrainId = @GrainId
            """,
        ["ReadReminderRowKey"] = """
            SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable
            WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName
            """,
        // A ring range (begin, end]; the second form is the range that wraps around the end of the hash space.
        ["ReadRangeRows1Key"] = """
            SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable
            WHERE ServiceId = @ServiceId AND GrainHash > @BeginHash AND GrainHash <= @EndHash
            """,
        ["ReadRangeRows2Key"] = """
            SELECT GrainId, ReminderName, StartTime, Period, Version FROM OrleansRemindersTable
            WHERE ServiceId = @ServiceId AND (GrainHash > @BeginHash OR GrainHash <= @EndHash)
            """,
        ["DeleteReminderRowKey"] = """
            WITH deleted AS (
                DELETE FROM OrleansRemindersTable
                WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName AND Version = @Version
                RETURNING 1)
            SELECT count(*)::integer FROM deleted
            """,
        ["DeleteReminderRowsKey"] = "DELETE FROM OrleansRemindersTable WHERE ServiceId = @ServiceId",
    };

    /// <summary>
    /// Creates the tables where missing and writes this build's queries, in one transaction under an advisory lock,
    /// so silos starting together neither race nor see half of it.
    /// </summary>
    public static void Install(string connectionString)
    {
        try
        {
            using var connection = new NpgsqlConnection(connectionString);
            connection.Open();
            using var tx = connection.BeginTransaction();
            Execute(connection, tx, $"SELECT pg_advisory_xact_lock({InstallLock})");
            Execute(connection, tx, Tables);
            foreach (var (key, text) in Queries)
            {
                using var upsert = new NpgsqlCommand(
                    "INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES (@key, @text) ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText",
                    connection, tx);
                upsert.Parameters.AddWithValue("key", key);
                upsert.Parameters.AddWithValue("text", text);
                upsert.ExecuteNonQuery();
            }
            using (var record = new NpgsqlCommand("DELETE FROM sitewatch_orleans_schema; INSERT INTO sitewatch_orleans_schema (provider) VALUES (@p)", connection, tx))
            {
                record.Parameters.AddWithValue("p", ProviderVersion);
                record.ExecuteNonQuery();
            }
            tx.Commit();
        }
        catch (NpgsqlException e)
        {
            throw new SiteWatchException($"cannot install the cluster's tables in the catalog database: {(e as PostgresException)?.MessageText ?? e.Message}", e);
        }
    }

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction tx, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection, tx);
        command.ExecuteNonQuery();
    }
}
