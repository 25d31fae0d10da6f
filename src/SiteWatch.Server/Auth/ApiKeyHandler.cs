using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace SiteWatch.Server.Auth;

/// <summary>Authenticates scripts by API key: `Authorization: Bearer sw_...` or `X-Api-Key: sw_...`.</summary>
internal sealed class ApiKeyHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, WorkspaceHost host)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";

    /// <summary>Whether the request carries an API key (then the key, never a cookie, decides who it is).</summary>
    public static bool Carries(HttpRequest request) =>
        request.Headers.ContainsKey(HeaderName) ||
        request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? key = Request.Headers[HeaderName].FirstOrDefault();
        var authorization = Request.Headers.Authorization.ToString();
        if (key is null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            key = authorization["Bearer ".Length..].Trim();
        }
        if (string.IsNullOrEmpty(key))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (!key.StartsWith(UserAccounts.ApiKeyPrefix, StringComparison.Ordinal) || key.Length > 200)
        {
            return Task.FromResult(AuthenticateResult.Fail("malformed API key"));
        }
        var hash = UserAccounts.HashKey(key);
        var user = host.Use(w => w.Catalog.FindUserByApiKey(hash));
        if (user is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("unknown API key"));
        }
        var identity = new ClaimsIdentity(Principals.Claims(user), SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}

internal static class Principals
{
    public const string UserIdClaim = "sitewatch:user_id";
    /// <summary>The user's security stamp when the session began: a session whose stamp is no longer the user's has ended.</summary>
    public const string StampClaim = "sitewatch:stamp";
    /// <summary>When the session signed in (Unix seconds): sliding renewal never carries it past Server:SessionMaxHours.</summary>
    public const string SignedInClaim = "sitewatch:signed_in";

    public static IEnumerable<Claim> Claims(Core.Catalog.UserRecord user) =>
    [
        new Claim(ClaimTypes.Name, user.Name),
        new Claim(ClaimTypes.Role, user.Role),
        new Claim(UserIdClaim, user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];

    /// <summary>The claims of a browser session: the user's, its stamp and when it signed in.</summary>
    public static IEnumerable<Claim> SessionClaims(Core.Catalog.UserRecord user, DateTimeOffset now) =>
    [
        .. Claims(user),
        new Claim(StampClaim, user.SecurityStamp),
        new Claim(SignedInClaim, now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];
}
