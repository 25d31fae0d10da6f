using System.Data.Common;
using SiteWatch.Core.Monitoring;

namespace SiteWatch.Core.Catalog;

/// <summary>Sites' standing drone feeds (schema v12), which the cluster's feed grains watch.</summary>
public sealed partial class SiteCatalog
{
    private const string SqliteFeedsTable = """
        CREATE TABLE IF NOT EXISTS drone_feeds (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            source TEXT NOT NULL,
            options TEXT NOT NULL,
            updated_utc TEXT NOT NULL,
            running_on TEXT,
            started_utc TEXT,
            last_note TEXT,
            UNIQUE (site_id, name)
        );
        """;

    private const string PostgresFeedsTable = """
        CREATE TABLE IF NOT EXISTS drone_feeds (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            site_id bigint NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
            name text NOT NULL,
            source text NOT NULL,
            options text NOT NULL,
            updated_utc text NOT NULL,
            running_on text,
            started_utc text,
            last_note text,
            UNIQUE (site_id, name)
        );
        """;

    private void CreateVersion12Feeds(DbTransaction tx) => Execute(Engine == CatalogEngine.Postgres ? PostgresFeedsTable : SqliteFeedsTable, tx);

    /// <summary>
    /// Stores (or replaces, by site and name) a site's drone feed; a changed feed is restarted by its silo. With
    /// <paramref name="zones"/> (validated by the caller) the site's watch zones are replaced in the same transaction,
    /// so a failure leaves both as they were.
    /// </summary>
    public DroneFeed SaveFeed(long siteId, string name, string source, FeedOptions options, (string GeoJson, string Source)? zones = null)
    {
        using var tx = BeginWrite();
        if (zones is { } z)
        {
            SaveWatchZones(siteId, z.GeoJson, z.Source, tx);
        }
        using var command = Command("""
            INSERT INTO drone_feeds (site_id, name, source, options, updated_utc) VALUES (@s, @name, @source, @options, @now)
            ON CONFLICT (site_id, name) DO UPDATE SET source = excluded.source, options = excluded.options, updated_utc = excluded.updated_utc
            RETURNING *
            """, tx);
        command.Bind("s", siteId);
        command.Bind("name", name);
        command.Bind("source", source);
        command.Bind("options", options.ToJson());
        command.Bind("now", Iso(DateTime.UtcNow));
        var feed = ReadAll(command, ReadFeed).Single();
        Run(() => { tx.Commit(); return 0; });
        return feed;
    }

    /// <summary>Ends a drone feed; false when the site had none of that name. Its silo stops watching at its next heartbeat.</summary>
    public bool RemoveFeed(long siteId, string name)
    {
        using var command = Command("DELETE FROM drone_feeds WHERE site_id = @s AND name = @name");
        command.Bind("s", siteId);
        command.Bind("name", name);
        return Run(command.ExecuteNonQuery) == 1;
    }

    public IReadOnlyList<DroneFeed> ListFeeds()
    {
        using var command = Command("SELECT * FROM drone_feeds ORDER BY site_id, name");
        return ReadAll(command, ReadFeed);
    }

    public DroneFeed? TryGetFeed(long id)
    {
        using var command = Command("SELECT * FROM drone_feeds WHERE id = @id");
        command.Bind("id", id);
        return ReadAll(command, ReadFeed).FirstOrDefault();
    }

    /// <summary>Notes who watches a feed since when (<paramref name="runningOn"/> null: nobody) and how its last run went.</summary>
    public void RecordFeedState(long id, string? runningOn, DateTime? startedUtc, string? note)
    {
        using var command = Command("UPDATE drone_feeds SET running_on = @on, started_utc = @started, last_note = @note WHERE id = @id");
        command.Bind("on", runningOn);
        command.Bind("started", startedUtc is { } t ? Iso(t) : null);
        command.Bind("note", note);
        command.Bind("id", id);
        Run(command.ExecuteNonQuery);
    }

    private DroneFeed ReadFeed(DbDataReader r) => new()
    {
        Id = r.ReadInt64(r.GetOrdinal("id")),
        SiteId = r.ReadInt64(r.GetOrdinal("site_id")),
        Name = r.GetString(r.GetOrdinal("name")),
        Source = r.GetString(r.GetOrdinal("source")),
        Options = FeedOptions.FromJson(r.GetString(r.GetOrdinal("options"))),
        UpdatedUtc = ParseIso(r.GetString(r.GetOrdinal("updated_utc"))),
        RunningOn = r.IsDBNull(r.GetOrdinal("running_on")) ? null : r.GetString(r.GetOrdinal("running_on")),
        StartedUtc = r.IsDBNull(r.GetOrdinal("started_utc")) ? null : ParseIso(r.GetString(r.GetOrdinal("started_utc"))),
        LastNote = r.IsDBNull(r.GetOrdinal("last_note")) ? null : r.GetString(r.GetOrdinal("last_note")),
    };
}
