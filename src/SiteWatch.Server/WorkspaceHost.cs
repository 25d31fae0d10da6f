using SiteWatch.Core.Catalog;

namespace SiteWatch.Server;

/// <summary>
/// The served workspace. One catalog connection serves requests, one caller at a time (SQLite connections are not
/// thread-safe); background jobs open their own <see cref="Workspace"/>, like another `sitewatch` process would.
/// </summary>
public sealed class WorkspaceHost : IDisposable
{
    private readonly Workspace _workspace;
    private readonly Lock _gate = new();

    public WorkspaceHost(string root, Action<string>? notice = null)
    {
        _workspace = Workspace.Open(root, notice);
        Root = _workspace.Root;
    }

    public string Root { get; }

    /// <summary>Runs <paramref name="action"/> with the catalog, alone.</summary>
    public T Use<T>(Func<Workspace, T> action)
    {
        lock (_gate)
        {
            return action(_workspace);
        }
    }

    public void Use(Action<Workspace> action)
    {
        lock (_gate)
        {
            action(_workspace);
        }
    }

    /// <summary>Opens a separate workspace (its own catalog connection and staging session) for long work off the request path.</summary>
    public Workspace OpenSeparate() => Workspace.Open(Root);

    public void Dispose() => _workspace.Dispose();
}
