using System.Data.Common;
using System.Globalization;

namespace SiteWatch.Core.Catalog;

/// <summary>States of a recording: written to while its watch runs, then ended (finished, stopped or interrupted).</summary>
public static class RecordingStates
{
    public const string Live = "live";
    public const string Ended = "ended";
}

/// <summary>
/// A drone video kept in the workspace: HLS (fMP4 segments by ffmpeg) and the frames log of its watch, in
/// <see cref="Directory"/> (relative to the workspace).
/// </summary>
public sealed record RecordingRecord
{
    public required long Id { get; init; }
    public required long SiteId { get; init; }

    /// <summary>The video file's path or the live udp:// address (without credentials).</summary>
    public required string Source { get; init; }

    /// <summary>"file" (a recorded flight) or "live" (a UDP stream).</summary>
    public required string Kind { get; init; }

    /// <summary>"sha256:..." of the bytes: the file's before it is watched, a live stream's once it ends; null while live.</summary>
    public string? Identity { get; init; }

    public required string State { get; init; }
    public required string Directory { get; init; }
    public required DateTime StartedUtc { get; init; }
    public DateTime? EndedUtc { get; init; }

    /// <summary>KLV precision time stamp of the first frame that had one, minus its media time: UTC of media time 0.</summary>
    public DateTime? MediaStartUtc { get; init; }

    public long Frames { get; init; }
    public int Footprints { get; init; }
    public double? DurationSeconds { get; init; }

    /// <summary>Why it ended when that was not the end of the video (stopped, interrupted, ffmpeg failed); null otherwise.</summary>
    public string? EndNote { get; init; }
}

/// <summary>
/// Whether a live recording still has a watch writing it: its frames log grows with every frame, so a log silent for
/// <see cref="StaleAfter"/> (or never written) means the watch is gone without ending the row.
/// </summary>
public static class RecordingLiveness
{
    /// <summary>The frames log in a recording's folder (one JSON line per frame).</summary>
    public const string FramesFile = "frames.jsonl";

    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(60);

    /// <summary>True for a live row whose frames log has not grown for <see cref="StaleAfter"/> (or never appeared).</summary>
    public static bool IsAbandoned(string workspaceRoot, RecordingRecord row, DateTime nowUtc)
    {
        if (row.State != RecordingStates.Live)
        {
            return false;
        }
        var log = new FileInfo(Path.Combine(workspaceRoot, row.Directory, FramesFile));
        var last = log.Exists ? log.LastWriteTimeUtc : row.StartedUtc;
        return nowUtc - last > StaleAfter;
    }
}

/// <summary>A site's stored watch zones (the GeoJSON as given; validated by the video layer before it is stored).</summary>
public sealed record StoredWatchZones(long SiteId, string GeoJson, string Source, DateTime StoredUtc);

/// <summary>Recordings of drone video and each site's watch zones (schema v10).</summary>
public sealed partial class SiteCatalog
{
    private void CreateVersion10Video(DbTransaction tx)
    {
        Execute("""
            CREATE TABLE IF NOT EXISTS recordings (
                id INTEGER PRIMARY KEY,
                site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
                source TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('file', 'live')),
                identity TEXT,
                state TEXT NOT NULL CHECK (state IN ('live', 'ended')),
                directory TEXT NOT NULL,
                started_utc TEXT NOT NULL,
                ended_utc TEXT,
                media_start_utc TEXT,
                frames INTEGER NOT NULL DEFAULT 0,
                footprints INTEGER NOT NULL DEFAULT 0,
                duration_s REAL,
                end_note TEXT
            );
            CREATE INDEX IF NOT EXISTS recordings_by_site ON recordings(site_id, started_utc);
            CREATE INDEX IF NOT EXISTS recordings_live ON recordings(state) WHERE state = 'live';
            CREATE TABLE IF NOT EXISTS site_watch_zones (
                site_id INTEGER PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
                zones_geojson TEXT NOT NULL,
                source TEXT NOT NULL,
                stored_utc TEXT NOT NULL
            );
            """, tx);
    }

    /// <summary>
    /// Adds a live recording row and gives it its folder (<paramref name="directoryFor"/> of the new id), in one
    /// transaction: the folder is referenced before anything is written into it, so no sweep takes it for an orphan.
    /// </summary>
    public RecordingRecord StartRecording(long siteId, string source, string kind, string? identity, Func<long, string> directoryFor)
    {
        using var tx = BeginWrite();
        using var insert = Command("""
            INSERT INTO recordings (site_id, source, kind, identity, state, directory, started_utc)
            VALUES (@site, @source, @kind, @identity, 'live', '', @started) RETURNING id
            """, tx);
        insert.Bind("site", siteId);
        insert.Bind("source", source);
        insert.Bind("kind", kind);
        insert.Bind("identity", identity);
        insert.Bind("started", Iso(DateTime.UtcNow));
        var id = Convert.ToInt64(Run(insert.ExecuteScalar), CultureInfo.InvariantCulture);
        using var update = Command("UPDATE recordings SET directory = @dir WHERE id = @id", tx);
        update.Bind("dir", directoryFor(id));
        update.Bind("id", id);
        Run(update.ExecuteNonQuery);
        Run(() => { tx.Commit(); return 0; });
        return TryGetRecording(id)!;
    }

    public void SetRecordingMediaStart(long id, DateTime mediaStartUtc)
    {
        using var command = Command("UPDATE recordings SET media_start_utc = @t WHERE id = @id");
        command.Bind("t", Iso(mediaStartUtc));
        command.Bind("id", id);
        Run(command.ExecuteNonQuery);
    }

    /// <summary>Marks a recording ended with its figures; a recording already ended is left as it is (false).</summary>
    public bool EndRecording(long id, long frames, int footprints, double? durationSeconds, string? identity, string? note)
    {
        using var command = Command("""
            UPDATE recordings SET state = 'ended', ended_utc = @now, frames = @frames, footprints = @footprints, duration_s = @duration,
                identity = coalesce(identity, @identity), end_note = @note
            WHERE id = @id AND state = 'live'
            """);
        command.Bind("now", Iso(DateTime.UtcNow));
        command.Bind("frames", frames);
        command.Bind("footprints", footprints);
        command.Bind("duration", durationSeconds);
        command.Bind("identity", identity);
        command.Bind("note", note);
        command.Bind("id", id);
        return Run(command.ExecuteNonQuery) == 1;
    }

    /// <summary>A site's recordings, newest first.</summary>
    public IReadOnlyList<RecordingRecord> ListRecordings(long siteId)
    {
        using var command = Command("SELECT * FROM recordings WHERE site_id = @s ORDER BY started_utc DESC, id DESC");
        command.Bind("s", siteId);
        return ReadAll(command, ReadRecording);
    }

    /// <summary>Recordings still marked live (their watch runs, or was killed and not yet noticed).</summary>
    public IReadOnlyList<RecordingRecord> ListLiveRecordings()
    {
        using var command = Command("SELECT * FROM recordings WHERE state = 'live' ORDER BY id");
        return ReadAll(command, ReadRecording);
    }

    public RecordingRecord? TryGetRecording(long id)
    {
        using var command = Command("SELECT * FROM recordings WHERE id = @id");
        command.Bind("id", id);
        return ReadAll(command, ReadRecording).FirstOrDefault();
    }

    /// <summary>A finished recording of the same file (same content) in this site, if any.</summary>
    public RecordingRecord? FindEndedRecording(long siteId, string identity)
    {
        using var command = Command("SELECT * FROM recordings WHERE site_id = @s AND identity = @i AND kind = 'file' AND state = 'ended' AND end_note IS NULL ORDER BY id DESC");
        command.Bind("s", siteId);
        command.Bind("i", identity);
        return ReadAll(command, ReadRecording).FirstOrDefault();
    }

    private RecordingRecord ReadRecording(DbDataReader r) => new()
    {
        Id = r.ReadInt64(r.GetOrdinal("id")),
        SiteId = r.ReadInt64(r.GetOrdinal("site_id")),
        Source = r.GetString(r.GetOrdinal("source")),
        Kind = r.GetString(r.GetOrdinal("kind")),
        Identity = r.IsDBNull(r.GetOrdinal("identity")) ? null : r.GetString(r.GetOrdinal("identity")),
        State = r.GetString(r.GetOrdinal("state")),
        Directory = r.GetString(r.GetOrdinal("directory")),
        StartedUtc = ParseIso(r.GetString(r.GetOrdinal("started_utc"))),
        EndedUtc = r.IsDBNull(r.GetOrdinal("ended_utc")) ? null : ParseIso(r.GetString(r.GetOrdinal("ended_utc"))),
        MediaStartUtc = r.IsDBNull(r.GetOrdinal("media_start_utc")) ? null : ParseIso(r.GetString(r.GetOrdinal("media_start_utc"))),
        Frames = r.ReadInt64(r.GetOrdinal("frames")),
        Footprints = r.ReadInt32(r.GetOrdinal("footprints")),
        DurationSeconds = r.IsDBNull(r.GetOrdinal("duration_s")) ? null : r.GetDouble(r.GetOrdinal("duration_s")),
        EndNote = r.IsDBNull(r.GetOrdinal("end_note")) ? null : r.GetString(r.GetOrdinal("end_note")),
    };

    /// <summary>Stores (or replaces) a site's watch zones; the caller has validated them.</summary>
    public void SaveWatchZones(long siteId, string geoJson, string source) => SaveWatchZones(siteId, geoJson, source, null);

    private void SaveWatchZones(long siteId, string geoJson, string source, DbTransaction? tx)
    {
        using var command = Command("""
            INSERT INTO site_watch_zones (site_id, zones_geojson, source, stored_utc) VALUES (@s, @json, @source, @now)
            ON CONFLICT (site_id) DO UPDATE SET zones_geojson = excluded.zones_geojson, source = excluded.source, stored_utc = excluded.stored_utc
            """, tx);
        command.Bind("s", siteId);
        command.Bind("json", geoJson);
        command.Bind("source", source);
        command.Bind("now", Iso(DateTime.UtcNow));
        Run(command.ExecuteNonQuery);
    }

    public StoredWatchZones? TryGetWatchZones(long siteId)
    {
        using var command = Command("SELECT * FROM site_watch_zones WHERE site_id = @s");
        command.Bind("s", siteId);
        return ReadAll(command, r => new StoredWatchZones(r.ReadInt64(r.GetOrdinal("site_id")), r.GetString(r.GetOrdinal("zones_geojson")),
            r.GetString(r.GetOrdinal("source")), ParseIso(r.GetString(r.GetOrdinal("stored_utc"))))).FirstOrDefault();
    }
}
