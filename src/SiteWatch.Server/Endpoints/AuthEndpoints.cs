using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using SiteWatch.Server.Auth;

namespace SiteWatch.Server.Endpoints;

internal static class AuthEndpoints
{
    public const string LoginFailed = "invalid user name or password";

    public static void Map(WebApplication app)
    {
        var auth = app.MapGroup("/api/auth").WithTags("auth");
        auth.MapPost("/login", async (HttpContext context, WorkspaceHost host, LoginLimits limits, CancellationToken cancel) =>
        {
            var body = await Body.ReadObjectAsync(context.Request, cancel);
            var name = Body.String(body, "username", required: true, maxLength: 200)!;
            var password = Body.String(body, "password", required: true, maxLength: 1000)!;
            if (!limits.TryAttempt(name, context.Connection.RemoteIpAddress))
            {
                context.Response.Headers.RetryAfter = "60";
                return Problems.Of(StatusCodes.Status429TooManyRequests, "too many login attempts for this user from your address; wait a minute");
            }
            // The catalog is held only for the look-up: PBKDF2 runs outside the workspace lock, so logins never
            // stall other requests. Unknown user and wrong password: the same answer after the same hash work.
            var user = host.Use(w => UserAccounts.Find(w.Catalog, name));
            if (!UserAccounts.CheckPassword(user, password, out var rehash))
            {
                return Problems.Of(StatusCodes.Status401Unauthorized, LoginFailed);
            }
            if (rehash is not null)
            {
                host.Use(w => w.Catalog.SetPasswordHash(user!.Id, rehash));
            }
            var identity = new ClaimsIdentity(Principals.SessionClaims(user!, DateTimeOffset.UtcNow), CookieAuthenticationDefaults.AuthenticationScheme);
            await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
            return Results.Json(new { user = user!.Name, role = user.Role });
        }).AllowAnonymous().RequireRateLimiting(ServerApp.LoginRateLimit);

        auth.MapPost("/logout", async (HttpContext context) =>
        {
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.NoContent();
        });

        auth.MapGet("/me", (ClaimsPrincipal user) => Results.Json(new
        {
            user = user.Identity?.Name,
            role = user.FindFirst(ClaimTypes.Role)?.Value,
            via = user.Identity?.AuthenticationType == ApiKeyHandler.SchemeName ? "api_key" : "session",
        }));

        auth.MapGet("/antiforgery", (HttpContext context, IAntiforgery antiforgery) =>
        {
            var tokens = antiforgery.GetAndStoreTokens(context);
            return Results.Json(new { header_name = ServerApp.AntiforgeryHeader, token = tokens.RequestToken });
        });

        var users = app.MapGroup("/api/users").WithTags("users").RequireAuthorization(ServerApp.AdminPolicy);
        users.MapGet("/", (WorkspaceHost host) => Results.Json(host.Use(w => w.Catalog.ListUsers()
            .Select(u => new
            {
                id = u.Id,
                name = u.Name,
                role = u.Role,
                created_utc = u.CreatedUtc,
                api_keys = w.Catalog.ListApiKeys(u.Id).Select(k => new { id = k.Id, prefix = k.Prefix, created_utc = k.CreatedUtc, expires_utc = k.ExpiresUtc, revoked_utc = k.RevokedUtc }),
            }).ToList())));

        // Removing a user ends their sessions and API keys at their next request.
        users.MapDelete("/{id:long}", (long id, WorkspaceHost host) =>
            host.Use(w => { w.EnsureWritable(); return w.Catalog.DeleteUser(id); }) ? Results.NoContent() : throw HttpProblem.NotFound("user", id));

        // Ends every browser session of the user (their API keys stay).
        users.MapPost("/{id:long}/sessions/revoke", (long id, WorkspaceHost host) =>
        {
            host.Use(w =>
            {
                w.EnsureWritable();
                _ = w.Catalog.TryGetUser(id) ?? throw HttpProblem.NotFound("user", id);
                w.Catalog.RotateSecurityStamp(id);
            });
            return Results.NoContent();
        });

        users.MapDelete("/{id:long}/keys/{keyId:long}", (long id, long keyId, WorkspaceHost host) =>
            host.Use(w => { w.EnsureWritable(); return w.Catalog.RevokeApiKeys(id, keyId.ToString(System.Globalization.CultureInfo.InvariantCulture)); }) > 0
                ? Results.NoContent()
                : throw HttpProblem.NotFound("usable API key of that user", keyId));
    }
}
