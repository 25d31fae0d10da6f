using System.Globalization;
using System.Text.Json;
using System.Data.Common;

namespace SiteWatch.Core.Catalog;

/// <summary>Object detections per scene (schema v4).</summary>
public sealed partial class SiteCatalog
{
    /// <summary>A scene's stored detections for this model and parameters, if any (re-running reuses them).</summary>
    public DetectionRunRecord? FindDetectionRun(long sceneId, string parametersSha256)
    {
        using var command = Command("SELECT * FROM detection_runs WHERE scene_id = @s AND parameters_sha256 = @p");
        command.Bind("s", sceneId);
        command.Bind("p", parametersSha256);
        return ReadAll(command, ReadDetectionRun).FirstOrDefault();
    }

    /// <summary>Every detection run of a site, oldest first.</summary>
    public IReadOnlyList<DetectionRunRecord> ListDetectionRuns(long siteId)
    {
        using var command = Command("SELECT * FROM detection_runs WHERE site_id = @s ORDER BY created_utc, id");
        command.Bind("s", siteId);
        return ReadAll(command, ReadDetectionRun);
    }

    /// <summary>
    /// Records a scene's detections and moves their staged GeoJSON into place in one step; a run of the same scene,
    /// model and parameters (--force) is replaced, its old file removed once the new one is committed.
    /// </summary>
    public DetectionRunRecord CommitDetectionRun(DetectionRunRecord draft, string stagedFile, string finalFile)
    {
        var replaced = FindDetectionRun(draft.SceneId, draft.ParametersSha256);
        var committed = CommitWithMove(tx =>
        {
            using (var delete = Command("DELETE FROM detection_runs WHERE scene_id = @s AND parameters_sha256 = @p", tx))
            {
                delete.Bind("s", draft.SceneId);
                delete.Bind("p", draft.ParametersSha256);
                Run(delete.ExecuteNonQuery);
            }
            using var insert = Command("""
                INSERT INTO detection_runs (site_id, scene_id, model_sha256, model_name, parameters, parameters_sha256, counts, detections_file, created_utc, file_sha256)
                VALUES (@site, @scene, @model, @name, @params, @sha, @counts, @file, @created, @filesha) RETURNING id
                """, tx);
            insert.Bind("site", draft.SiteId);
            insert.Bind("scene", draft.SceneId);
            insert.Bind("model", draft.ModelSha256);
            insert.Bind("name", draft.ModelName);
            insert.Bind("params", draft.Parameters);
            insert.Bind("sha", draft.ParametersSha256);
            insert.Bind("counts", JsonSerializer.Serialize(draft.Counts));
            insert.Bind("file", draft.DetectionsFile);
            insert.Bind("created", Iso(draft.CreatedUtc));
            insert.Bind("filesha", draft.FileSha256);
            return draft with { Id = Convert.ToInt64(Run(insert.ExecuteScalar), CultureInfo.InvariantCulture) };
        },
        move: () =>
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(finalFile)!);
            File.Move(stagedFile, finalFile, overwrite: false);
        },
        undoMove: () => File.Delete(finalFile));
        if (replaced is not null && replaced.DetectionsFile != draft.DetectionsFile)
        {
            TryDelete(System.IO.Path.Combine(WorkspaceRoot, replaced.DetectionsFile));
        }
        return committed;
    }

    private DetectionRunRecord ReadDetectionRun(DbDataReader r) => new()
    {
        Id = r.ReadInt64(r.GetOrdinal("id")),
        SiteId = r.ReadInt64(r.GetOrdinal("site_id")),
        SceneId = r.ReadInt64(r.GetOrdinal("scene_id")),
        ModelSha256 = r.GetString(r.GetOrdinal("model_sha256")),
        ModelName = r.GetString(r.GetOrdinal("model_name")),
        Parameters = r.GetString(r.GetOrdinal("parameters")),
        ParametersSha256 = r.GetString(r.GetOrdinal("parameters_sha256")),
        Counts = JsonSerializer.Deserialize<Dictionary<string, int>>(r.GetString(r.GetOrdinal("counts"))) ?? [],
        DetectionsFile = r.GetString(r.GetOrdinal("detections_file")),
        CreatedUtc = ParseIso(r.GetString(r.GetOrdinal("created_utc"))),
        FileSha256 = r.IsDBNull(r.GetOrdinal("file_sha256")) ? null : r.GetString(r.GetOrdinal("file_sha256")),
    };
}
