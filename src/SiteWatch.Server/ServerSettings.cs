namespace SiteWatch.Server;

/// <summary>
/// The server's settings: section "Server" of appsettings.json, or environment variables such as
/// SITEWATCH_Server__MaxUploadBytes (ASP.NET Core configuration conventions).
/// </summary>
public sealed class ServerSettings
{
    /// <summary>
    /// A folder served as static files at the site root, without sign-in (the web UI's assets: they hold no data);
    /// null serves none. Only files inside it can be reached.
    /// </summary>
    public string? WebRoot { get; set; }

    /// <summary>
    /// How often the live feed looks for alerts stored by any process (watch, alerts check, jobs), in seconds. A look is
    /// one primary-key range query (alerts after the last pushed), so a quarter second keeps an alert's way to the
    /// page well under a second at no measurable cost.
    /// </summary>
    public double LivePollSeconds { get; set; } = 0.25;

    /// <summary>
    /// The SiteWatch cluster this server joins as a client (the silos' --cluster-id, usually "sitewatch"): silos tell
    /// it at once when they store alerts, and /api/cluster lists the silos. Null: none. Needs the workspace's catalog
    /// in PostgreSQL, where the cluster's membership is.
    /// </summary>
    public string? ClusterId { get; set; }

    /// <summary>Largest scene upload in bytes (413 beyond it; nothing is stored).</summary>
    public long MaxUploadBytes { get; set; } = 2L * 1024 * 1024 * 1024;
    /// <summary>Scene uploads received at once (503 with Retry-After beyond).</summary>
    public int MaxConcurrentUploads { get; set; } = 2;
    /// <summary>An upload is refused (507) when it would leave less than this many bytes free on the workspace's disk.</summary>
    public long UploadMinFreeBytes { get; set; } = 1L << 30;
    /// <summary>Largest request body of any other route (JSON), in bytes.</summary>
    public long MaxJsonBytes { get; set; } = 4 * 1024 * 1024;
    /// <summary>Login attempts per user name, client address and minute (429 beyond).</summary>
    public int LoginPermitsPerMinute { get; set; } = 10;
    /// <summary>Largest page of any list.</summary>
    public int MaxPageSize { get; set; } = 500;
    /// <summary>Memory bound of the rendered-tile cache, in megabytes.</summary>
    public int TileCacheMegabytes { get; set; } = 128;
    /// <summary>Tiles rendered at once with GDAL (0: the number of processors).</summary>
    public int MaxConcurrentTiles { get; set; }
    /// <summary>Jobs that may wait in the queue (503 beyond).</summary>
    public int JobQueueCapacity { get; set; } = 32;
    /// <summary>How long a finished job stays readable at /api/jobs (its results are in the catalog for good).</summary>
    public double JobRetentionMinutes { get; set; } = 60;
    /// <summary>Finished jobs kept at most (the oldest are forgotten first).</summary>
    public int MaxFinishedJobs { get; set; } = 500;
    /// <summary>
    /// Origins (scheme://host[:port]) besides the server's own whose pages may open the live hub or send requests
    /// with a session cookie; by default none (a page on another port of the same host is another origin).
    /// </summary>
    public string[] AllowedOrigins { get; set; } = [];
    /// <summary>
    /// Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (TLS ends there); by
    /// default none, so no client can claim another address or scheme.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];
    /// <summary>Session and antiforgery cookies only over HTTPS (set it when the server or its proxy speaks TLS).</summary>
    public bool SecureCookies { get; set; }
    /// <summary>Seconds of Strict-Transport-Security sent on HTTPS answers (0: none).</summary>
    public int HstsSeconds { get; set; } = 31_536_000;
    /// <summary>How long a login session lasts without use.</summary>
    public int SessionMinutes { get; set; } = 480;
    /// <summary>How long a login session lasts at most, however often it is used (then sign in again).</summary>
    public double SessionMaxHours { get; set; } = 24;
    /// <summary>Logins checked at once (PBKDF2 is deliberately slow); a few more wait, beyond that 429.</summary>
    public int MaxConcurrentLogins { get; set; } = 4;
}
