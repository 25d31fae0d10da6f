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
        auth.MapPost("/login", async (HttpContext context, WorkspaceHost host, CancellationToken cancel) =>
        {
            var body = await Body.ReadObjectAsync(context.Request, cancel);
            var name = Body.String(body, "username", required: true, maxLength: 200)!;
            var password = Body.String(body, "password", required: true, maxLength: 1000)!;
            // Unknown user and wrong password: the same answer after the same hash work.
            var user = host.Use(w => UserAccounts.Verify(w.Catalog, name, password));
            if (user is null)
            {
                return Problems.Of(StatusCodes.Status401Unauthorized, LoginFailed);
            }
            var identity = new ClaimsIdentity(Principals.Claims(user), CookieAuthenticationDefaults.AuthenticationScheme);
            await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
            return Results.Json(new { user = user.Name, role = user.Role });
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
        users.MapGet("/", (WorkspaceHost host) => Results.Json(host.Use(w => w.Catalog.ListUsers())
            .Select(u => new { id = u.Id, name = u.Name, role = u.Role, created_utc = u.CreatedUtc })));
    }
}
