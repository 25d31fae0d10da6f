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

    /// <summary>How often the live feed looks for alerts stored by any process (watch, alerts check, jobs), in seconds.</summary>
    public double LivePollSeconds { get; set; } = 1;

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
    /// <summary>How long a login session lasts without use.</summary>
    public int SessionMinutes { get; set; } = 480;
    /// <summary>How long a login session lasts at most, however often it is used (then sign in again).</summary>
    public double SessionMaxHours { get; set; } = 24;
    /// <summary>Logins checked at once (PBKDF2 is deliberately slow); a few more wait, beyond that 429.</summary>
    public int MaxConcurrentLogins { get; set; } = 4;
}
