using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using SiteWatch.Core;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Server.Auth;

/// <summary>
/// Local users: passwords hashed with ASP.NET Core Identity's PasswordHasher (PBKDF2), API keys stored as the
/// SHA-256 of a random 32-byte key. Shared by the server and `sitewatch user`.
/// </summary>
public static class UserAccounts
{
    public const string ApiKeyPrefix = "sw_";
    public const int MinPasswordLength = 12;

    private static readonly PasswordHasher<UserRecord> Hasher = new();

    /// <summary>A hash of a random password: checked when the user does not exist, so both answers cost the same work.</summary>
    private static readonly string DummyHash = Hasher.HashPassword(null!, GeneratePassword());

    public static UserRecord Add(SiteCatalog catalog, string name, string role, string password)
    {
        CheckPassword(name, password);
        return catalog.AddUser(name, role.Trim().ToLowerInvariant(), Hasher.HashPassword(null!, password));
    }

    private static void CheckPassword(string name, string password)
    {
        if (password.Length < MinPasswordLength)
        {
            throw new SiteWatchException($"the password of '{name}' is too short ({password.Length} characters; at least {MinPasswordLength})");
        }
    }

    /// <summary>Gives the user a new password and ends every session signed in before (their API keys stay).</summary>
    public static void SetPassword(SiteCatalog catalog, UserRecord user, string password)
    {
        CheckPassword(user.Name, password);
        catalog.SetPassword(user.Id, Hasher.HashPassword(user, password));
    }

    /// <summary>Adds the user, or gives an existing one of that name this role's password (the demo's admin on a re-run).</summary>
    public static UserRecord SetOrAdd(SiteCatalog catalog, string name, string role, string password)
    {
        if (catalog.TryGetUser(name) is { } existing && existing.Role == role)
        {
            SetPassword(catalog, existing, password);
            return catalog.TryGetUser(existing.Id)!;
        }
        return Add(catalog, name, role, password);
    }

    /// <summary>The user a login names, or null; looked up apart from the hashing so the catalog is not held while PBKDF2 runs.</summary>
    public static UserRecord? Find(SiteCatalog catalog, string name) =>
        string.IsNullOrWhiteSpace(name) || name.Length > 64 ? null : catalog.TryGetUser(name);

    /// <summary>
    /// Whether the password is the user's (PBKDF2, needs no catalog). An unknown user (null) costs the same hash check
    /// as a wrong password, so the time taken does not tell which it was. <paramref name="rehash"/> is a stronger hash
    /// of the same password to store when the stored one uses weaker parameters.
    /// </summary>
    public static bool CheckPassword(UserRecord? user, string password, out string? rehash)
    {
        rehash = null;
        if (user is null)
        {
            Hasher.VerifyHashedPassword(null!, DummyHash, password);
            return false;
        }
        var result = Hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        if (result == PasswordVerificationResult.SuccessRehashNeeded)
        {
            rehash = Hasher.HashPassword(user, password);
        }
        return result != PasswordVerificationResult.Failed;
    }

    /// <summary>A new API key for the user: returned once, stored only as its SHA-256; it stops working at <paramref name="expiresUtc"/> if given.</summary>
    public static string NewApiKey(SiteCatalog catalog, UserRecord user, DateTime? expiresUtc = null)
    {
        var key = ApiKeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        catalog.AddApiKey(user.Id, HashKey(key), key[..(ApiKeyPrefix.Length + 6)], expiresUtc);
        return key;
    }

    public static string HashKey(string key) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));

    /// <summary>A random password of 20 characters from an unambiguous alphabet (about 115 bits).</summary>
    public static string GeneratePassword()
    {
        const string alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return RandomNumberGenerator.GetString(alphabet, 20);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
