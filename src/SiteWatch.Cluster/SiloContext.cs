namespace SiteWatch.Cluster;

/// <summary>
/// What every grain of a silo shares: the workspace folder, the heartbeat, one HTTP client, the stop signal, and the
/// slots for rounds: raster work is CPU-bound and blocks its thread, so a silo runs at most <paramref name="rounds"/>
/// at once and the thread pool keeps threads for Orleans' own timers (membership probes, reminders). Without the
/// bound, twelve rounds on two cores stalled the pool for 26 s and the other silos declared this one dead.
/// </summary>
public sealed class SiloContext(string workspaceRoot, string siloName, TimeSpan heartbeat, int rounds, CancellationToken stopping) : IDisposable
{
    public SemaphoreSlim RoundSlots { get; } = new(rounds, rounds);

    public string WorkspaceRoot { get; } = workspaceRoot;
    public string SiloName { get; } = siloName;
    public TimeSpan Heartbeat { get; } = heartbeat;
    public CancellationToken Stopping { get; } = stopping;
    public HttpClient Http { get; } = NewHttpClient();

    private static HttpClient NewHttpClient()
    {
        var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.UserAgent.ParseAdd($"SiteWatch/{typeof(SiloContext).Assembly.GetName().Version}");
        return http;
    }

    public void Dispose()
    {
        Http.Dispose();
        RoundSlots.Dispose();
    }
}
