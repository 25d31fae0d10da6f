namespace SiteWatch.Core.Catalog;

/// <summary>
/// A named lock between processes (and threads) sharing a workspace: an exclusive advisory lock (flock) on a file in
/// .locks/. The operating system releases it when its holder exits, even by SIGKILL, so a crashed run never leaves
/// the workspace locked.
/// </summary>
public sealed class WorkspaceLock : IDisposable
{
    private readonly FileStream _stream;

    private WorkspaceLock(FileStream stream, string name)
    {
        _stream = stream;
        Name = name;
    }

    public string Name { get; }

    /// <summary>Takes the lock now, or returns null when another holder has it.</summary>
    public static WorkspaceLock? TryAcquire(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        try
        {
            // FileShare.None is an exclusive flock on Unix: .NET refuses a second open of the file meanwhile.
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            return new WorkspaceLock(stream, System.IO.Path.GetFileNameWithoutExtension(path));
        }
        catch (IOException) when (File.Exists(path))
        {
            return null;
        }
    }

    /// <summary>
    /// Takes the lock, waiting for its holder to finish; <paramref name="waiting"/> is told once that this run waits.
    /// Fails with a clear message after <paramref name="timeout"/>.
    /// </summary>
    public static WorkspaceLock Acquire(string path, string what, TimeSpan timeout, Action<string>? waiting, CancellationToken cancel = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        var told = false;
        while (true)
        {
            if (TryAcquire(path) is { } held)
            {
                return held;
            }
            if (!told)
            {
                waiting?.Invoke($"waiting for another SiteWatch process working on {what}");
                told = true;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new SiteWatchException($"another SiteWatch process has been working on {what} for over {timeout.TotalMinutes:0} min; try again when it has finished", new TimeoutException());
            }
            cancel.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(200));
            cancel.ThrowIfCancellationRequested();
        }
    }

    public void Dispose() => _stream.Dispose();
}
