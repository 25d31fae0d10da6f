namespace SiteWatch.Core.Catalog;

/// <summary>One thing wrong with a workspace: what kind, where (a row or a file) and the detail.</summary>
public sealed record WorkspaceProblem(string Kind, string Where, string Detail);

public sealed record WorkspaceCheckReport(int Sites, int Scenes, int ChangeRuns, int DetectionRuns, int Alerts, int FilesVerified, int FilesWithoutHash,
    IReadOnlyList<WorkspaceProblem> Problems)
{
    public bool Healthy => Problems.Count == 0;
}

/// <summary>
/// Verifies a workspace: SQLite's integrity check, every row readable, every stored file present with the hash
/// recorded at commit, and no file in the store without a row.
/// </summary>
public static class WorkspaceCheck
{
    public static WorkspaceCheckReport Run(Workspace workspace, bool verifyHashes = true, IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        var catalog = workspace.Catalog;
        var problems = new List<WorkspaceProblem>();
        problems.AddRange(catalog.DatabaseProblems().Select(p => new WorkspaceProblem("database", catalog.Location, p)));
        int sites = 0, scenes = 0, changeRuns = 0, detectionRuns = 0, alerts = 0, verified = 0, unhashed = 0;

        // Files to verify: (row, relative path, recorded hash or null).
        var files = new List<(string Row, string Path, string? Sha)>();
        var folders = new List<(string Row, string Path, IReadOnlyDictionary<string, string>? Manifest)>();
        void Try(string what, Action read)
        {
            try
            {
                read();
            }
            catch (SiteWatchException e)
            {
                problems.Add(new WorkspaceProblem("row", what, e.Message));
            }
        }
        IReadOnlyList<Site> siteList = [];
        Try("sites", () => siteList = catalog.ListSites());
        sites = siteList.Count;
        foreach (var site in siteList)
        {
            Try($"scenes of site {site.Name}", () =>
            {
                foreach (var scene in catalog.ListScenes(site.Id))
                {
                    scenes++;
                    files.Add(($"scene #{scene.Id}", scene.File, scene.FileSha256));
                    if (scene.CloudMaskFile is { } mask)
                    {
                        files.Add(($"scene #{scene.Id} cloud mask", mask, scene.CloudMaskSha256));
                    }
                }
            });
            Try($"change runs of site {site.Name}", () =>
            {
                foreach (var run in catalog.ListChangeRuns(site.Id))
                {
                    changeRuns++;
                    folders.Add(($"change run #{run.Id}", run.Directory, run.Manifest));
                }
            });
            Try($"detection runs of site {site.Name}", () =>
            {
                foreach (var run in catalog.ListDetectionRuns(site.Id))
                {
                    detectionRuns++;
                    files.Add(($"detection run #{run.Id}", run.DetectionsFile, run.FileSha256));
                }
            });
            Try($"alerts of site {site.Name}", () => alerts += catalog.ListAlerts(site.Id).Count);
        }

        var total = Math.Max(1, files.Count + folders.Count);
        var done = 0;
        foreach (var (row, path, sha) in files)
        {
            cancel.ThrowIfCancellationRequested();
            CheckFile(workspace, row, path, sha, verifyHashes, problems, ref verified, ref unhashed);
            progress?.Report(++done / (double)total);
        }
        foreach (var (row, path, manifest) in folders)
        {
            cancel.ThrowIfCancellationRequested();
            string full;
            try
            {
                full = workspace.Resolve(path);
            }
            catch (SiteWatchException e)
            {
                problems.Add(new WorkspaceProblem("path", row, e.Message));
                continue;
            }
            if (!Directory.Exists(full))
            {
                problems.Add(new WorkspaceProblem("missing", row, $"{path}: the run's folder is missing (the next run of the same pair recomputes it)"));
            }
            else if (manifest is null)
            {
                unhashed++;
            }
            else
            {
                foreach (var (name, fileSha) in manifest)
                {
                    CheckFile(workspace, row, Path.Combine(path, name), fileSha, verifyHashes, problems, ref verified, ref unhashed);
                }
            }
            progress?.Report(++done / (double)total);
        }
        foreach (var orphan in workspace.FindOrphans())
        {
            problems.Add(new WorkspaceProblem("orphan", orphan, "no catalog row references this file (left by an interrupted run); it is moved to .quarantine/ the next time a command opens the workspace"));
        }
        foreach (var orphan in workspace.FindBucketOrphans())
        {
            problems.Add(new WorkspaceProblem("orphan", orphan, $"no catalog row references this object in {workspace.Imagery.Location} (an upload whose scene was never committed, or a deleted site's); it is left in the bucket"));
        }
        return new WorkspaceCheckReport(sites, scenes, changeRuns, detectionRuns, alerts, verified, unhashed, problems);
    }

    private static void CheckFile(Workspace workspace, string row, string path, string? sha, bool verifyHashes, List<WorkspaceProblem> problems, ref int verified, ref int unhashed)
    {
        try
        {
            if (!workspace.StoredFileExists(path))
            {
                problems.Add(new WorkspaceProblem("missing", row, $"{path}: the file is missing"));
                return;
            }
        }
        catch (SiteWatchException e)
        {
            problems.Add(new WorkspaceProblem("path", row, e.Message));
            return;
        }
        if (sha is null)
        {
            unhashed++;
            return;
        }
        if (!verifyHashes)
        {
            return;
        }
        string actual;
        using (var stream = workspace.OpenStoredFile(path))
        {
            actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
        }
        if (!string.Equals(actual, sha, StringComparison.OrdinalIgnoreCase))
        {
            problems.Add(new WorkspaceProblem("damaged", row, $"{path}: SHA-256 {actual[..12]}... differs from the {sha[..Math.Min(12, sha.Length)]}... recorded when it was stored"));
            return;
        }
        verified++;
    }
}
