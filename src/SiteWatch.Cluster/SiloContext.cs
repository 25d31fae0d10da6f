namespace SiteWatch.Cluster;

/// <summary>What every grain of a silo shares: the workspace folder, the heartbeat, one HTTP client, the stop signal.</summary>
public sealed class SiloContext(string workspaceRoot, string siloName, TimeSpan heartbeat, CancellationToken stopping) : IDisposable
{
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

    public void Dispose() => Http.Dispose();
}
