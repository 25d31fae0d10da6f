using System.Globalization;
using System.Data.Common;

namespace SiteWatch.Core.Catalog;

/// <summary>Roles of a workspace's users: viewer reads, analyst also writes (sites, scenes, runs), admin also manages users.</summary>
public static class UserRoles
{
    public const string Viewer = "viewer";
    public const string Analyst = "analyst";
    public const string Admin = "admin";
    public static readonly IReadOnlyList<string> All = [Viewer, Analyst, Admin];

    /// <summary>Whether <paramref name="role"/> includes what <paramref name="required"/> may do.</summary>
    public static bool Includes(string role, string required) => Rank(role) >= Rank(required);

    private static int Rank(string role) => role switch { Viewer => 1, Analyst => 2, Admin => 3, _ => 0 };
}

/// <summary>
/// A local user of the server. The password hash is produced and checked by the server (ASP.NET Core Identity's
/// hasher). The security stamp is a random value every session carries: changing it (new password, revoked sessions)
/// ends every session signed in before.
/// </summary>
public sealed record UserRecord(long Id, string Name, string Role, string PasswordHash, DateTime CreatedUtc, string SecurityStamp);

/// <summary>An API key: only its SHA-256 is stored; the prefix (first characters) lets a person tell keys apart.</summary>
public sealed record ApiKeyRecord(long Id, long UserId, string Prefix, DateTime CreatedUtc, DateTime? ExpiresUtc = null, DateTime? RevokedUtc = null)
{
    public bool Usable(DateTime nowUtc) => RevokedUtc is null && (ExpiresUtc is null || ExpiresUtc > nowUtc);
}

/// <summary>Users and API keys of `sitewatch serve` (schema 6; security stamps, key expiry and revocation schema 9).</summary>
public sealed partial class SiteCatalog
{
    /// <summary>Additive migration: the users and api_keys tables.</summary>
    private void CreateUsersTables(DbTransaction tx)
    {
        Execute("""
            CREATE TABLE IF NOT EXISTS users (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                role TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
                password_hash TEXT NOT NULL,
                created_utc TEXT NOT NULL
            );
            CREATE TABLE IF NOT EXISTS api_keys (
                id INTEGER PRIMARY KEY,
                user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                key_sha256 TEXT NOT NULL UNIQUE,
                prefix TEXT NOT NULL,
                created_utc TEXT NOT NULL
            );
            """, tx);
    }

    /// <summary>Additive migration (schema 9): security stamps of users, expiry and revocation of API keys.</summary>
    private void AddUserRevocation(DbTransaction tx)
    {
        AddColumnIfMissing("users", "security_stamp", tx);
        AddColumnIfMissing("api_keys", "expires_utc", tx);
        AddColumnIfMissing("api_keys", "revoked_utc", tx);
        Execute("UPDATE users SET security_stamp = lower(hex(randomblob(16))) WHERE security_stamp IS NULL", tx);
    }

    private static string NewStamp() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    public UserRecord AddUser(string name, string role, string passwordHash)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 64 || name.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            throw new SiteWatchException($"'{name}' is not a usable user name (1 to 64 printable characters without spaces)");
        }
        if (!UserRoles.All.Contains(role))
        {
            throw new SiteWatchException($"unknown role '{role}' (known: {string.Join(", ", UserRoles.All)})");
        }
        if (TryGetUser(name) is not null)
        {
            throw new SiteWatchException($"a user named '{name}' already exists");
        }
        using var command = Command("INSERT INTO users (name, role, password_hash, created_utc, security_stamp) VALUES (@n, @r, @h, @c, @s) RETURNING id");
        command.Bind("s", NewStamp());
        command.Bind("n", name);
        command.Bind("r", role);
        command.Bind("h", passwordHash);
        command.Bind("c", Iso(DateTime.UtcNow));
        var id = Convert.ToInt64(Run(command.ExecuteScalar), CultureInfo.InvariantCulture);
        return TryGetUser(id)!;
    }

    /// <summary>Stores a stronger hash of the same password (sessions stay valid).</summary>
    public void SetPasswordHash(long userId, string passwordHash)
    {
        using var command = Command("UPDATE users SET password_hash = @h WHERE id = @id");
        command.Bind("h", passwordHash);
        command.Bind("id", userId);
        Run(command.ExecuteNonQuery);
    }

    /// <summary>A new password: every session signed in with the old one ends (new security stamp).</summary>
    public void SetPassword(long userId, string passwordHash)
    {
        using var command = Command("UPDATE users SET password_hash = @h, security_stamp = @s WHERE id = @id");
        command.Bind("h", passwordHash);
        command.Bind("s", NewStamp());
        command.Bind("id", userId);
        Run(command.ExecuteNonQuery);
    }

    /// <summary>Ends every session of the user (API keys stay valid).</summary>
    public void RotateSecurityStamp(long userId)
    {
        using var command = Command("UPDATE users SET security_stamp = @s WHERE id = @id");
        command.Bind("s", NewStamp());
        command.Bind("id", userId);
        Run(command.ExecuteNonQuery);
    }

    /// <summary>Removes the user and their API keys; their sessions end at the next request. False when there is none.</summary>
    public bool DeleteUser(long userId)
    {
        using var command = Command("DELETE FROM users WHERE id = @id");
        command.Bind("id", userId);
        return Run(command.ExecuteNonQuery) > 0;
    }

    /// <summary>
    /// Revokes the user's usable keys whose id or prefix matches (null: all of them); returns how many. A revoked key
    /// stays listed (who had which key) but authenticates no more.
    /// </summary>
    public int RevokeApiKeys(long userId, string? idOrPrefix)
    {
        using var command = Command("""
            UPDATE api_keys SET revoked_utc = @now
            WHERE user_id = @u AND revoked_utc IS NULL AND (CAST(@k AS TEXT) IS NULL OR CAST(id AS TEXT) = @k OR prefix = @k)
            """);
        command.Bind("now", Iso(DateTime.UtcNow));
        command.Bind("u", userId);
        command.Bind("k", idOrPrefix);
        return Run(command.ExecuteNonQuery);
    }

    public UserRecord? TryGetUser(string name)
    {
        using var command = Command($"SELECT * FROM users WHERE {NameIs("n")}");
        command.Bind("n", name);
        return ReadAll(command, ReadUser).FirstOrDefault();
    }

    public UserRecord? TryGetUser(long id)
    {
        using var command = Command("SELECT * FROM users WHERE id = @id");
        command.Bind("id", id);
        return ReadAll(command, ReadUser).FirstOrDefault();
    }

    public IReadOnlyList<UserRecord> ListUsers()
    {
        using var command = Command("SELECT * FROM users ORDER BY lower(name), name");
        return ReadAll(command, ReadUser);
    }

    /// <summary>Stores an API key by its SHA-256 (hex); the key itself is never stored.</summary>
    public ApiKeyRecord AddApiKey(long userId, string keySha256, string prefix, DateTime? expiresUtc = null)
    {
        using var command = Command("INSERT INTO api_keys (user_id, key_sha256, prefix, created_utc, expires_utc) VALUES (@u, @k, @p, @c, @e) RETURNING id");
        command.Bind("e", expiresUtc is { } e ? Iso(e) : DBNull.Value);
        command.Bind("u", userId);
        command.Bind("k", keySha256);
        command.Bind("p", prefix);
        var created = DateTime.UtcNow;
        command.Bind("c", Iso(created));
        var id = Convert.ToInt64(Run(command.ExecuteScalar), CultureInfo.InvariantCulture);
        return new ApiKeyRecord(id, userId, prefix, created, expiresUtc);
    }

    /// <summary>The user owning the key with this SHA-256 (hex), if any and while the key is neither revoked nor expired.</summary>
    public UserRecord? FindUserByApiKey(string keySha256)
    {
        using var command = Command("""
            SELECT users.* FROM api_keys JOIN users ON users.id = api_keys.user_id
            WHERE api_keys.key_sha256 = @k AND api_keys.revoked_utc IS NULL AND (api_keys.expires_utc IS NULL OR api_keys.expires_utc > @now)
            """);
        command.Bind("k", keySha256);
        command.Bind("now", Iso(DateTime.UtcNow));
        return ReadAll(command, ReadUser).FirstOrDefault();
    }

    public IReadOnlyList<ApiKeyRecord> ListApiKeys(long userId)
    {
        using var command = Command("SELECT id, user_id, prefix, created_utc, expires_utc, revoked_utc FROM api_keys WHERE user_id = @u ORDER BY id");
        command.Bind("u", userId);
        return ReadAll(command, r => new ApiKeyRecord(r.ReadInt64(0), r.ReadInt64(1), r.GetString(2), ParseIso(r.GetString(3)),
            r.IsDBNull(4) ? null : ParseIso(r.GetString(4)), r.IsDBNull(5) ? null : ParseIso(r.GetString(5))));
    }

    /// <summary>Raw stored key hashes (for tests and audits: they must never equal a key).</summary>
    public IReadOnlyList<string> ApiKeyHashes()
    {
        using var command = Command("SELECT key_sha256 FROM api_keys ORDER BY id");
        return ReadAll(command, r => r.GetString(0));
    }

    private UserRecord ReadUser(DbDataReader r) => new(
        r.ReadInt64(r.GetOrdinal("id")), r.GetString(r.GetOrdinal("name")), r.GetString(r.GetOrdinal("role")),
        r.GetString(r.GetOrdinal("password_hash")), ParseIso(r.GetString(r.GetOrdinal("created_utc"))), r.GetString(r.GetOrdinal("security_stamp")));
}
