namespace SiteWatch.Core.Catalog;

/// <summary>
/// A SiteWatch workspace: a directory holding the catalog (the SQLite file sitewatch.db, or catalog.json naming a
/// PostgreSQL database) and the imagery store (imagery/), plus a staging area (.staging/) where files are written
/// before they are committed.
/// </summary>
public sealed class Workspace : IDisposable
{
    public const string CatalogFileName = "sitewatch.db";

    /// <summary>Names the PostgreSQL catalog of a workspace in cluster mode (instead of <see cref="CatalogFileName"/>).</summary>
    public const string CatalogSettingsFileName = "catalog.json";
    public const string EnvironmentVariable = "SITEWATCH_WORKSPACE";

    /// <summary>Folders whose files the catalog owns: a file there without a row is an orphan.</summary>
    public static readonly IReadOnlyList<string> StoreFolders = ["imagery", "changes", "detections", "alerts", "recordings"];

    private WorkspaceLock? _stagingSession;
    private string? _stagingSessionDirectory;

    private Workspace(string root, SiteCatalog catalog)
    {
        Root = root;
        Catalog = catalog;
        try
        {
            Imagery = ImageryStore.For(root);
        }
        catch
        {
            catalog.Dispose();
            throw;
        }
    }

    /// <summary>Where the scenes' COGs are stored: this folder's imagery/, or an S3 bucket (storage.json).</summary>
    public ImageryStore Imagery { get; }

    public string Root { get; }
    public SiteCatalog Catalog { get; }
    public string CatalogPath => Path.Combine(Root, CatalogFileName);
    public string ImageryDirectory => Path.Combine(Root, "imagery");
    public string StagingDirectory => Path.Combine(Root, ".staging");
    public string QuarantineDirectory => Path.Combine(Root, ".quarantine");
    private string LockDirectory => Path.Combine(Root, ".locks");

    /// <summary>
    /// Messages for the person running the command (waiting for another process, files quarantined); the host
    /// decides where they go (the CLI writes them to stderr).
    /// </summary>
    public Action<string>? Notice { get; set; }

    /// <summary>How long a run waits for another process doing the same work before giving up.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromHours(2);

    /// <summary>The workspace directory a command works in: --workspace, else $SITEWATCH_WORKSPACE, else the current directory.</summary>
    public static string ResolveDirectory(string? option)
    {
        if (!string.IsNullOrWhiteSpace(option))
        {
            return Path.GetFullPath(option);
        }
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return Path.GetFullPath(string.IsNullOrWhiteSpace(fromEnvironment) ? Directory.GetCurrentDirectory() : fromEnvironment);
    }

    public static bool Exists(string directory) =>
        File.Exists(Path.Combine(directory, CatalogFileName)) || File.Exists(Path.Combine(directory, CatalogSettingsFileName));

    /// <summary>Where the catalog lives: the SQLite file, or the PostgreSQL server and database.</summary>
    public string CatalogLocation => Catalog.Location;

    /// <summary>
    /// Creates a workspace (or opens it when one is already there). With <paramref name="postgres"/> (a connection
    /// string) its catalog lives in that PostgreSQL database, which many processes and machines then share.
    /// </summary>
    public static Workspace Init(string directory, string? postgres = null, StorageSettings? imagery = null)
    {
        var root = Path.GetFullPath(directory);
        try
        {
            Directory.CreateDirectory(root);
            EnsureWritable(root);
            Directory.CreateDirectory(Path.Combine(root, "imagery"));
            Directory.CreateDirectory(Path.Combine(root, ".staging"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SiteWatchException($"{root}: cannot create a workspace here: {e.Message}");
        }
        var storage = Path.Combine(root, StorageSettings.FileName);
        if (imagery is not null)
        {
            if (File.Exists(storage) ? StorageSettings.Read(storage) != imagery : Exists(root))
            {
                throw new SiteWatchException($"{root}: this workspace already stores its imagery in {(File.Exists(storage) ? StorageSettings.Read(storage).Imagery : Path.Combine(root, "imagery"))}; make a new workspace for {imagery.Imagery}; nothing was changed");
            }
            S3ImageryStore.From(imagery); // checks the address before anything is written
        }
        var catalog = postgres is not null || File.Exists(Path.Combine(root, CatalogSettingsFileName))
            ? CatalogSettings.InitPostgres(root, postgres)
            : SiteCatalog.Open(Path.Combine(root, CatalogFileName), create: true);
        if (imagery is not null && !File.Exists(storage))
        {
            imagery.Write(storage);
        }
        return new Workspace(root, catalog);
    }

    /// <summary>
    /// Opens an existing workspace; a clear error when the directory is not one. Opening sweeps what interrupted runs
    /// left (dead staging sessions, orphaned store files); a long-running host that opens the workspace again and
    /// again (a silo, each round) passes <paramref name="sweep"/> false, as the walk over the store grows with it.
    /// </summary>
    public static Workspace Open(string directory, Action<string>? notice = null, bool sweep = true)
    {
        var root = Path.GetFullPath(directory);
        if (!Exists(root))
        {
            throw new SiteWatchException($"{root}: not a SiteWatch workspace (no {CatalogFileName}); create one there or name another workspace") { Next = new NextStep(NextStepKind.CreateWorkspace, root) };
        }
        var catalog = File.Exists(Path.Combine(root, CatalogSettingsFileName))
            ? CatalogSettings.OpenPostgres(root)
            : SiteCatalog.Open(Path.Combine(root, CatalogFileName), create: false);
        var workspace = new Workspace(root, catalog) { Notice = notice };
        if (sweep)
        {
            workspace.Sweep();
        }
        return workspace;
    }

    /// <summary>The folder (relative to the workspace) holding a site's files of one kind: keyed by the site's id, never by its name alone.</summary>
    public static string SiteFolder(string kind, Site site) => Path.Combine(kind, $"{site.Id}-{Ingest.SceneIngestor.Slug(site.Name)}");

    /// <summary>
    /// The absolute path of a file the catalog stores (relative to the workspace). A stored path that is absolute or
    /// leaves the workspace (a hand-edited or hostile catalog) is refused, never followed.
    /// </summary>
    public string Resolve(string stored)
    {
        if (string.IsNullOrWhiteSpace(stored) || Path.IsPathRooted(stored) || stored.Contains('\0'))
        {
            throw new SiteWatchException($"{CatalogPath}: stored path '{stored}' is not relative to the workspace; refused");
        }
        var full = Path.GetFullPath(Path.Combine(Root, stored));
        if (!full.StartsWith(Root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new SiteWatchException($"{CatalogPath}: stored path '{stored}' leaves the workspace; refused");
        }
        // Scenes' COGs may live in a bucket: GDAL reads them there (/vsis3/).
        var relative = Path.GetRelativePath(Root, full);
        return Imagery is S3ImageryStore && relative.StartsWith("imagery" + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? Imagery.ReadPath(relative)
            : full;
    }

    /// <summary>Whether a stored file (a path from a catalog row) is there, in the folder or in the imagery bucket.</summary>
    public bool StoredFileExists(string stored) =>
        InBucket(stored) is { } key ? Imagery.Exists(key) : File.Exists(Resolve(stored));

    /// <summary>A stored file's bytes (from the folder or the bucket).</summary>
    public Stream OpenStoredFile(string stored) => InBucket(stored) is { } key
        ? Imagery.OpenRead(key)
        : new FileStream(Resolve(stored), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);

    /// <summary>The stored path, normalised, when it lives in the imagery bucket; null for a file in the folder.</summary>
    private string? InBucket(string stored) =>
        IsInBucket(Resolve(stored)) ? Path.GetRelativePath(Root, Path.GetFullPath(Path.Combine(Root, stored))) : null;

    private static bool IsInBucket(string resolved) => resolved.StartsWith("/vsis3/", StringComparison.Ordinal);

    /// <summary>
    /// Takes a named workspace lock (e.g. one change run of one pair), waiting while another process holds it; the
    /// wait is reported through <see cref="Notice"/>.
    /// </summary>
    public WorkspaceLock Lock(string name, string what, CancellationToken cancel = default)
    {
        var safe = new string(name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' ? ch : '_').ToArray());
        return WorkspaceLock.Acquire(Path.Combine(LockDirectory, safe + ".lock"), what, LockTimeout, Notice, cancel);
    }

    /// <summary>
    /// Takes the lock of a site's monitoring round when no other process holds it (null otherwise): every process of
    /// the workspace, and on a PostgreSQL catalog every machine of the cluster, sees it. A round never waits for
    /// another; whoever holds the lock runs it.
    /// </summary>
    public IDisposable? TryLockMonitorRound(long siteId) => TryLockWork(MonitorRoundLock, "monitor-round", siteId);

    /// <summary>Takes the lock of a drone feed's watch when nobody holds it (null otherwise), as <see cref="TryLockMonitorRound"/>.</summary>
    public IDisposable? TryLockFeed(long feedId) => TryLockWork(FeedLock, "feed", feedId);

    private IDisposable? TryLockWork(int advisoryClass, string name, long id) => Catalog.Engine == CatalogEngine.Postgres
        ? Catalog.TryLockWork(advisoryClass, id)
        : WorkspaceLock.TryAcquire(Path.Combine(LockDirectory, $"{name}-{id}.lock"));

    /// <summary>The advisory lock classes of monitoring rounds and feeds (the object id is the site's or the feed's).</summary>
    private const int MonitorRoundLock = 0x5357_4d52, FeedLock = 0x5357_4644;

    /// <summary>Fails with a clear message before any work starts when the workspace cannot be written.</summary>
    public void EnsureWritable() => EnsureWritable(Root);

    private static void EnsureWritable(string root)
    {
        // Root ignores permission bits, so honour the owner's intent explicitly: a workspace with no write bit is read-only.
        var catalog = Path.Combine(root, CatalogFileName);
        foreach (var path in new[] { root, catalog })
        {
            if ((File.Exists(path) || Directory.Exists(path)) && !OperatingSystem.IsWindows()
                && (File.GetUnixFileMode(path) & (UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) == 0)
            {
                throw new SiteWatchException($"{path}: the workspace is read-only; nothing was changed");
            }
        }
        var probe = Path.Combine(root, $".write-probe-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SiteWatchException($"{root}: the workspace is read-only ({e.Message}); nothing was changed");
        }
    }

    /// <summary>
    /// Clears what interrupted runs left behind: staging folders of processes that are gone (each live process holds
    /// a lock on its own), and files in the store that no catalog row references, which are moved (never deleted) to
    /// .quarantine/ and reported. A read-only workspace is left as it is.
    /// </summary>
    private void Sweep()
    {
        try
        {
            if (!IsWritable())
            {
                return;
            }
            SweepStaging();
            var moved = QuarantineOrphans();
            if (moved.Count > 0)
            {
                Notice?.Invoke($"{moved.Count} file(s) no catalog row references (left by an interrupted run) moved to {Path.Combine(QuarantineDirectory, moved[0].Batch)}");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Leftovers are swept next time; they never stop a command that can otherwise run.
        }
    }

    private bool IsWritable()
    {
        try
        {
            EnsureWritable();
            return true;
        }
        catch (SiteWatchException)
        {
            return false;
        }
    }

    private void SweepStaging()
    {
        if (!Directory.Exists(StagingDirectory))
        {
            return;
        }
        foreach (var lockFile in Directory.Exists(LockDirectory) ? Directory.EnumerateFiles(LockDirectory, "session-*.lock") : [])
        {
            using var held = WorkspaceLock.TryAcquire(lockFile);
            if (held is not null)
            {
                // Nobody holds this session's lock: its process is gone.
                var session = Path.Combine(StagingDirectory, Path.GetFileNameWithoutExtension(lockFile));
                if (Directory.Exists(session))
                {
                    Directory.Delete(session, recursive: true);
                }
                File.Delete(lockFile);
            }
        }
        foreach (var session in Directory.EnumerateDirectories(StagingDirectory, "session-*").Where(d => !File.Exists(SessionLock(d))))
        {
            // A session's lock is created before its folder and removed after it: a folder alone is a dead session's.
            Directory.Delete(session, recursive: true);
        }
        // Loose entries from versions before staging sessions.
        foreach (var entry in Directory.EnumerateFileSystemEntries(StagingDirectory).Where(e => !Path.GetFileName(e).StartsWith("session-", StringComparison.Ordinal)))
        {
            if (File.GetLastWriteTimeUtc(entry) < DateTime.UtcNow.AddHours(-1))
            {
                if (Directory.Exists(entry))
                {
                    Directory.Delete(entry, recursive: true);
                }
                else
                {
                    File.Delete(entry);
                }
            }
        }
    }

    /// <summary>
    /// Objects under imagery/ in the workspace's bucket that no catalog row references (none without a bucket). They
    /// are reported, never removed: an upload in flight has no row yet.
    /// </summary>
    public IReadOnlyList<string> FindBucketOrphans()
    {
        if (Imagery is not S3ImageryStore bucket)
        {
            return [];
        }
        var referenced = Catalog.ReferencedPaths().Select(p => p.Replace('\\', '/')).ToHashSet(StringComparer.Ordinal);
        return bucket.List("imagery").Where(key => !referenced.Contains(key)).ToList();
    }

    /// <summary>Store files no catalog row references, relative to the workspace.</summary>
    public IReadOnlyList<string> FindOrphans() => FindOrphans(Catalog.ReferencedPaths());

    private List<string> FindOrphans(IReadOnlyCollection<string> referenced)
    {
        // Referenced files and folders in one set: a file is referenced when it or a folder above it is in the set,
        // found by walking up its few parent folders (not by comparing it with every referenced folder).
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in referenced)
        {
            paths.Add(Path.GetRelativePath(Root, Path.GetFullPath(Path.Combine(Root, path))));
        }
        var orphans = new List<string>();
        foreach (var store in StoreFolders)
        {
            var dir = Path.Combine(Root, store);
            if (!Directory.Exists(dir))
            {
                continue;
            }
            foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(Root, file);
                if (!IsReferenced(relative, paths))
                {
                    orphans.Add(relative);
                }
            }
        }
        return orphans;
    }

    private static bool IsReferenced(string relative, HashSet<string> paths)
    {
        for (var path = relative; !string.IsNullOrEmpty(path); path = Path.GetDirectoryName(path))
        {
            if (paths.Contains(path))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Deletes a site: its rows (scenes, runs, alerts, recordings, by cascade) and, in the same step, its folders in
    /// every store (KIND/ID-slug, keyed by the site's id, which is never given to another site) and its recordings'
    /// folders (recordings/ID) moved to .quarantine/BATCH/, never deleted. Only those folders are touched, so the work
    /// is a few renames however large the workspace. Refused (<see cref="SiteInUseException"/>) while a watch
    /// records a flight of the site.
    /// Returns the moved folders (relative to the workspace); false when the site was already gone.
    /// </summary>
    public (bool Deleted, IReadOnlyList<string> Quarantined) DeleteSite(Site site)
    {
        EnsureWritable();
        var batch = NewBatch();
        var prefix = $"{site.Id}-";
        var moved = new List<(string From, string To)>();
        void Undo()
        {
            foreach (var (from, to) in Enumerable.Reverse(moved))
            {
                Directory.Move(to, from);
            }
        }
        var deleted = Catalog.DeleteSite(site.Id, site.Name,
            moveFiles: recordings =>
            {
                var folders = new List<string>();
                foreach (var store in StoreFolders)
                {
                    var dir = Path.Combine(Root, store);
                    folders.AddRange(Directory.Exists(dir)
                        ? Directory.EnumerateDirectories(dir).Where(d => Path.GetFileName(d).StartsWith(prefix, StringComparison.Ordinal))
                        : []);
                }
                // Recording folders are named by the recording's id alone; the rows say which are the site's.
                folders.AddRange(recordings.Select(r => Resolve(r.Directory)).Where(Directory.Exists));
                foreach (var folder in folders)
                {
                    var target = Path.Combine(QuarantineDirectory, batch, Path.GetRelativePath(Root, folder));
                    try
                    {
                        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                        Directory.Move(folder, target);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // The delete is not committed: the folders moved so far go back, so rows and files stay together.
                        Undo();
                        throw new SiteWatchException($"{folder}: cannot move it to {QuarantineDirectory}: {e.Message}; site {site.Name} was not deleted");
                    }
                    moved.Add((folder, target));
                }
            },
            undoMove: Undo);
        if (moved.Count > 0)
        {
            Notice?.Invoke($"site {site.Name}: {moved.Count} folder(s) moved to {Path.Combine(QuarantineDirectory, batch)}");
        }
        if (deleted && Imagery is S3ImageryStore bucket)
        {
            // Objects are not moved inside the delete's commit (a bucket has no rename); they stay, reported by check.
            var left = bucket.List(Path.Combine("imagery", $"{site.Id}-{Ingest.SceneIngestor.Slug(site.Name)}")).Count;
            if (left > 0)
            {
                Notice?.Invoke($"site {site.Name}: its {left} imagery object(s) stay in {Imagery.Location} (a workspace check lists them; remove them there when you are sure)");
            }
        }
        return (deleted, moved.Select(m => Path.GetRelativePath(Root, m.From)).ToList());
    }

    private static string NewBatch() =>
        DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];

    /// <summary>
    /// Moves orphaned store files to .quarantine/BATCH/ (same relative path), under the catalog's write lock so no
    /// run is between moving its file and committing its row.
    /// </summary>
    public IReadOnlyList<(string File, string Batch)> QuarantineOrphans()
    {
        return Catalog.WithWriteLock(referenced =>
        {
            var orphans = FindOrphans(referenced);
            if (orphans.Count == 0)
            {
                return [];
            }
            var batch = NewBatch();
            var moved = new List<(string, string)>();
            foreach (var orphan in orphans)
            {
                var target = Path.Combine(QuarantineDirectory, batch, orphan);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Move(Path.Combine(Root, orphan), target);
                moved.Add((orphan, batch));
            }
            return moved;
        });
    }

    /// <summary>
    /// A fresh path in this process's staging folder (same file system as the store, so the final move is a rename).
    /// The folder is locked for the life of the workspace object: a sweep by another process never touches it.
    /// </summary>
    public string NewStagingPath(string extension)
    {
        if (_stagingSessionDirectory is null)
        {
            var name = $"session-{Guid.NewGuid():N}";
            var directory = Path.Combine(StagingDirectory, name);
            Directory.CreateDirectory(StagingDirectory);
            _stagingSession = WorkspaceLock.TryAcquire(SessionLock(directory))
                ?? throw new SiteWatchException($"{directory}: cannot lock a staging folder");
            Directory.CreateDirectory(directory);
            _stagingSessionDirectory = directory;
        }
        return Path.Combine(_stagingSessionDirectory, $"{Guid.NewGuid():N}{extension}");
    }

    /// <summary>A staging session's lock lives in .locks/, so the session folder can be removed while it is held.</summary>
    private string SessionLock(string sessionDirectory) => Path.Combine(LockDirectory, Path.GetFileName(sessionDirectory) + ".lock");

    public void Dispose()
    {
        Catalog.Dispose();
        Imagery.Dispose();
        if (_stagingSessionDirectory is not null)
        {
            try
            {
                Directory.Delete(_stagingSessionDirectory, recursive: true);
                File.Delete(SessionLock(_stagingSessionDirectory));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Swept by the next process that opens the workspace.
            }
        }
        _stagingSession?.Dispose();
    }
}
