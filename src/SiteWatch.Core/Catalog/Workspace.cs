namespace SiteWatch.Core.Catalog;

/// <summary>
/// A SiteWatch workspace: a directory holding the SQLite catalog (sitewatch.db) and the imagery store (imagery/),
/// plus a staging area (.staging/) where files are written before they are committed.
/// </summary>
public sealed class Workspace : IDisposable
{
    public const string CatalogFileName = "sitewatch.db";
    public const string EnvironmentVariable = "SITEWATCH_WORKSPACE";

    private Workspace(string root, SiteCatalog catalog)
    {
        Root = root;
        Catalog = catalog;
    }

    public string Root { get; }
    public SiteCatalog Catalog { get; }
    public string CatalogPath => Path.Combine(Root, CatalogFileName);
    public string ImageryDirectory => Path.Combine(Root, "imagery");
    public string StagingDirectory => Path.Combine(Root, ".staging");

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

    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, CatalogFileName));

    /// <summary>Creates a workspace (or opens it when one is already there).</summary>
    public static Workspace Init(string directory)
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
        return new Workspace(root, SiteCatalog.Open(Path.Combine(root, CatalogFileName), create: true));
    }

    /// <summary>Opens an existing workspace; a clear error when the directory is not one.</summary>
    public static Workspace Open(string directory)
    {
        var root = Path.GetFullPath(directory);
        if (!Exists(root))
        {
            throw new SiteWatchException($"{root}: not a SiteWatch workspace (no {CatalogFileName}); create one with 'sitewatch init {root}' or pass --workspace");
        }
        var workspace = new Workspace(root, SiteCatalog.Open(Path.Combine(root, CatalogFileName), create: false));
        workspace.SweepStaging();
        return workspace;
    }

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

    /// <summary>Removes leftovers of interrupted writes: staging files never reach the catalog.</summary>
    private void SweepStaging()
    {
        try
        {
            if (!Directory.Exists(StagingDirectory))
            {
                return;
            }
            foreach (var file in Directory.EnumerateFiles(StagingDirectory))
            {
                if (File.GetLastWriteTimeUtc(file) < DateTime.UtcNow.AddHours(-1))
                {
                    File.Delete(file);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only workspace can still be listed; leftovers are swept next time it is writable.
        }
    }

    /// <summary>A fresh path in the staging area (same file system as the imagery store, so the final move is a rename).</summary>
    public string NewStagingPath(string extension)
    {
        Directory.CreateDirectory(StagingDirectory);
        return Path.Combine(StagingDirectory, $"{Guid.NewGuid():N}{extension}");
    }

    public void Dispose() => Catalog.Dispose();
}
