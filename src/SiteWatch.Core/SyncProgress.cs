namespace SiteWatch.Core;

/// <summary>Reports progress synchronously on the reporting thread (System.Progress posts to the thread pool, out of order).</summary>
public sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
