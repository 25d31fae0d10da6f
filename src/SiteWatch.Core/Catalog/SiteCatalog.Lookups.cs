using System.Globalization;
namespace SiteWatch.Core.Catalog;

/// <summary>Look-ups by id that answer null instead of failing (the server answers 404), and site deletion.</summary>
public sealed partial class SiteCatalog
{
    public Site? TryGetSiteById(long id)
    {
        using var command = Command("SELECT * FROM sites WHERE id = @id");
        command.Bind("id", id);
        return ReadAll(command, ReadSite).FirstOrDefault();
    }

    public Scene? TryGetScene(long id)
    {
        using var command = Command("SELECT * FROM scenes WHERE id = @id");
        command.Bind("id", id);
        return ReadAll(command, ReadScene).FirstOrDefault();
    }

    public ChangeRunRecord? TryGetChangeRun(long id)
    {
        using var command = Command("SELECT * FROM change_runs WHERE id = @id");
        command.Bind("id", id);
        return ReadAll(command, ReadChangeRun).FirstOrDefault();
    }

    public DetectionRunRecord? TryGetDetectionRun(long id)
    {
        using var command = Command("SELECT * FROM detection_runs WHERE id = @id");
        command.Bind("id", id);
        return ReadAll(command, ReadDetectionRun).FirstOrDefault();
    }

    public AlertRecord? TryGetAlert(long id)
    {
        using var command = Command("SELECT * FROM alerts WHERE id = @id");
        command.Bind("id", id);
        return ReadAll(command, ReadAlert).FirstOrDefault();
    }

    /// <summary>Alerts stored after <paramref name="afterId"/> (any site, any process), oldest first: what a live feed has not yet pushed.</summary>
    public IReadOnlyList<AlertRecord> AlertsAfter(long afterId, int limit = 200)
    {
        using var command = Command("SELECT * FROM alerts WHERE id > @id ORDER BY id LIMIT @limit");
        command.Bind("id", afterId);
        command.Bind("limit", limit);
        return ReadAll(command, ReadAlert);
    }

    /// <summary>Alerts observed at or after <paramref name="sinceUtc"/> (any site), newest first, at most <paramref name="limit"/>.</summary>
    public IReadOnlyList<AlertRecord> AlertsSince(DateTime sinceUtc, int limit = 1000)
    {
        using var command = Command("SELECT * FROM alerts WHERE observed_utc >= @since ORDER BY observed_utc DESC, id DESC LIMIT @limit");
        command.Bind("since", Iso(sinceUtc));
        command.Bind("limit", limit);
        return ReadAll(command, ReadAlert);
    }

    /// <summary>The newest alert id, 0 when there is none.</summary>
    public long LastAlertId()
    {
        using var command = Command("SELECT coalesce(max(id), 0) FROM alerts");
        return Convert.ToInt64(Run(command.ExecuteScalar), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Deletes a site and (by cascade) its scenes, runs, alerts and recordings, running <paramref name="moveFiles"/>
    /// (its stored files moved aside, given the recordings whose folders go too, see <see cref="Workspace.DeleteSite"/>)
    /// before the delete is committed and <paramref name="undoMove"/> when the commit fails. False, moving nothing,
    /// when there is no such site. A recording still being written by a watch (see <see cref="RecordingLiveness"/>)
    /// refuses the delete: its rows and files would be pulled from under the running watch.
    /// </summary>
    internal bool DeleteSite(long id, string siteName, Action<IReadOnlyList<RecordingRecord>> moveFiles, Action undoMove)
    {
        var deleted = false;
        IReadOnlyList<RecordingRecord> recordings = [];
        CommitWithMove(tx =>
        {
            // Read in the delete's transaction, so a recording started meanwhile is either seen here or fails on
            // its missing site.
            using (var list = Command("SELECT * FROM recordings WHERE site_id = @id ORDER BY id", tx))
            {
                list.Bind("id", id);
                recordings = ReadAll(list, ReadRecording);
            }
            var now = DateTime.UtcNow;
            if (recordings.FirstOrDefault(r => r.State == RecordingStates.Live && !RecordingLiveness.IsAbandoned(WorkspaceRoot, r, now)) is { } live)
            {
                throw new SiteInUseException(string.Create(CultureInfo.InvariantCulture,
                    $"site {siteName} has a flight being recorded now (recording {live.Id}, started {live.StartedUtc:yyyy-MM-dd HH:mm:ss}Z); stop its watch first, then delete the site"));
            }
            // The outbox holds no references (a watch's own outbox has no sites): the site's rows go with it here.
            using (var outbox = Command("DELETE FROM outbox WHERE site_id = @id", tx))
            {
                outbox.Bind("id", id);
                Run(outbox.ExecuteNonQuery);
            }
            using var command = Command("DELETE FROM sites WHERE id = @id", tx);
            command.Bind("id", id);
            return deleted = Run(command.ExecuteNonQuery) == 1;
        },
        move: () =>
        {
            if (deleted)
            {
                moveFiles(recordings);
            }
        },
        undoMove: undoMove);
        return deleted;
    }
}
