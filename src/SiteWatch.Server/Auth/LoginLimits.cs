using System.Net;
using System.Threading.RateLimiting;

namespace SiteWatch.Server.Auth;

/// <summary>
/// Login attempts per user name and client address (Server:LoginPermitsPerMinute): guessing one user's password is
/// slowed down without one address locking out every user behind it (a shared proxy or NAT). Logins as a whole are
/// bounded by the concurrency limiter of the login route (Server:MaxConcurrentLogins), so PBKDF2 work cannot take
/// every processor.
/// </summary>
public sealed class LoginLimits : IDisposable
{
    private readonly PartitionedRateLimiter<string> _attempts;

    public LoginLimits(ServerSettings settings)
    {
        _attempts = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = Math.Max(1, settings.LoginPermitsPerMinute), Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
    }

    /// <summary>Counts one attempt; false when this user name from this address has used up the minute's attempts.</summary>
    public bool TryAttempt(string userName, IPAddress? client)
    {
        // Names are case-insensitive in the catalog; longer ones never match a user, one key holds them all.
        var name = userName.Length > 64 ? "(too long)" : userName.ToLowerInvariant();
        using var lease = _attempts.AttemptAcquire($"{client?.ToString() ?? "unknown"}|{name}");
        return lease.IsAcquired;
    }

    public void Dispose() => _attempts.Dispose();
}
