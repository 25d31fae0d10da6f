using System.Globalization;
using Microsoft.Data.Sqlite;

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

/// <summary>A local user of the server. The password hash is produced and checked by the server (ASP.NET Core Identity's hasher).</summary>
public sealed record UserRecord(long Id, string Name, string Role, string PasswordHash, DateTime CreatedUtc);

/// <summary>An API key: only its SHA-256 is stored; the prefix (first characters) lets a person tell keys apart.</summary>
public sealed record ApiKeyRecord(long Id, long UserId, string Prefix, DateTime CreatedUtc);

/// <summary>Users and API keys of `sitewatch serve` (schema 6).</summary>
public sealed partial class SiteCatalog
{
    /// <summary>Additive migration: the users and api_keys tables.</summary>
    private void CreateUsersTables(SqliteTransaction tx)
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
        using var command = Command("INSERT INTO users (name, role, password_hash, created_utc) VALUES ($n, $r, $h, $c) RETURNING id");
        command.Parameters.AddWithValue("$n", name);
        command.Parameters.AddWithValue("$r", role);
        command.Parameters.AddWithValue("$h", passwordHash);
        command.Parameters.AddWithValue("$c", Iso(DateTime.UtcNow));
        var id = Convert.ToInt64(Run(command.ExecuteScalar), CultureInfo.InvariantCulture);
        return TryGetUser(id)!;
    }

    public void SetPasswordHash(long userId, string passwordHash)
    {
        using var command = Command("UPDATE users SET password_hash = $h WHERE id = $id");
        command.Parameters.AddWithValue("$h", passwordHash);
        command.Parameters.AddWithValue("$id", userId);
        Run(command.ExecuteNonQuery);
    }

    public UserRecord? TryGetUser(string name)
    {
        using var command = Command("SELECT * FROM users WHERE name = $n");
        command.Parameters.AddWithValue("$n", name);
        return ReadAll(command, ReadUser).FirstOrDefault();
    }

    public UserRecord? TryGetUser(long id)
    {
        using var command = Command("SELECT * FROM users WHERE id = $id");
        command.Parameters.AddWithValue("$id", id);
        return ReadAll(command, ReadUser).FirstOrDefault();
    }

    public IReadOnlyList<UserRecord> ListUsers()
    {
        using var command = Command("SELECT * FROM users ORDER BY name");
        return ReadAll(command, ReadUser);
    }

    /// <summary>Stores an API key by its SHA-256 (hex); the key itself is never stored.</summary>
    public ApiKeyRecord AddApiKey(long userId, string keySha256, string prefix)
    {
        using var command = Command("INSERT INTO api_keys (user_id, key_sha256, prefix, created_utc) VALUES ($u, $k, $p, $c) RETURNING id");
        command.Parameters.AddWithValue("$u", userId);
        command.Parameters.AddWithValue("$k", keySha256);
        command.Parameters.AddWithValue("$p", prefix);
        var created = DateTime.UtcNow;
        command.Parameters.AddWithValue("$c", Iso(created));
        var id = Convert.ToInt64(Run(command.ExecuteScalar), CultureInfo.InvariantCulture);
        return new ApiKeyRecord(id, userId, prefix, created);
    }

    /// <summary>The user owning the key with this SHA-256 (hex), if any.</summary>
    public UserRecord? FindUserByApiKey(string keySha256)
    {
        using var command = Command("SELECT users.* FROM api_keys JOIN users ON users.id = api_keys.user_id WHERE api_keys.key_sha256 = $k");
        command.Parameters.AddWithValue("$k", keySha256);
        return ReadAll(command, ReadUser).FirstOrDefault();
    }

    public IReadOnlyList<ApiKeyRecord> ListApiKeys(long userId)
    {
        using var command = Command("SELECT id, user_id, prefix, created_utc FROM api_keys WHERE user_id = $u ORDER BY id");
        command.Parameters.AddWithValue("$u", userId);
        return ReadAll(command, r => new ApiKeyRecord(r.GetInt64(0), r.GetInt64(1), r.GetString(2), ParseIso(r.GetString(3))));
    }

    /// <summary>Raw stored key hashes (for tests and audits: they must never equal a key).</summary>
    public IReadOnlyList<string> ApiKeyHashes()
    {
        using var command = Command("SELECT key_sha256 FROM api_keys ORDER BY id");
        return ReadAll(command, r => r.GetString(0));
    }

    private UserRecord ReadUser(SqliteDataReader r) => new(
        r.GetInt64(r.GetOrdinal("id")), r.GetString(r.GetOrdinal("name")), r.GetString(r.GetOrdinal("role")),
        r.GetString(r.GetOrdinal("password_hash")), ParseIso(r.GetString(r.GetOrdinal("created_utc"))));
}
