using System.Security.Claims;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.HttpLogging;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Scalar.AspNetCore;
using SiteWatch.Server.Auth;
using SiteWatch.Server.Endpoints;
using SiteWatch.Server.Jobs;
using SiteWatch.Server.Tiles;

namespace SiteWatch.Server;

/// <summary>How `sitewatch serve` is started: the workspace, the addresses, extra settings (tests) and the process arguments.</summary>
public sealed record ServeOptions(string WorkspaceDirectory, string? Urls = null)
{
    /// <summary>Configuration entries that override appsettings and the environment (e.g. "Server:MaxUploadBytes").</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();
    public string[] Args { get; init; } = [];
    /// <summary>The web UI's folder when Server:WebRoot names none (the CLI passes the built web/dist it finds).</summary>
    public string? DefaultWebRoot { get; init; }
}

/// <summary>Builds the SiteWatch web server: REST API, map tiles, users and access over one workspace.</summary>
public static class ServerApp
{
    public const string AnalystPolicy = "analyst";
    public const string AdminPolicy = "admin";
    public const string LoginRateLimit = "login";
    public const string AntiforgeryHeader = "X-XSRF-TOKEN";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static WebApplication Build(ServeOptions options)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = options.Args, ContentRootPath = Directory.GetCurrentDirectory() });
        builder.Configuration.AddEnvironmentVariables("SITEWATCH_");
        builder.Configuration.AddInMemoryCollection(options.Settings);
        if (options.Urls is not null)
        {
            builder.WebHost.UseUrls(options.Urls);
        }
        var settings = builder.Configuration.GetSection("Server").Get<ServerSettings>() ?? new ServerSettings();
        settings.WebRoot ??= options.DefaultWebRoot;
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<LoginLimits>();
        builder.Services.AddSingleton<UploadGate>();

        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o => { o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; o.UseUtcTimestamp = true; });
        // One structured line per request (HTTP logging) instead of the framework's several.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.HttpLogging", LogLevel.Information);
        builder.Services.AddHttpLogging(o =>
        {
            // Method, path, status and duration: never headers, cookies, queries or bodies (keys and passwords).
            o.LoggingFields = HttpLoggingFields.RequestMethod | HttpLoggingFields.RequestPath | HttpLoggingFields.ResponseStatusCode | HttpLoggingFields.Duration;
            o.CombineLogs = true;
        });
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = settings.MaxJsonBytes;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));

        // Defence in depth behind the upload driver list: no VRT this process opens may read raw bytes of arbitrary files.
        Gdal.GdalEnvironment.SetConfigOption("GDAL_VRT_ENABLE_RAWRASTERBAND", "NO");
        var host = new WorkspaceHost(options.WorkspaceDirectory);
        if (settings.ClusterId is { Length: > 0 } cluster && host.Use(w => w.Catalog.PostgresConnectionString) is null)
        {
            host.Dispose();
            throw new Core.SiteWatchException($"{options.WorkspaceDirectory}: cannot join cluster {cluster}: the workspace's catalog is SQLite, and a cluster meets in PostgreSQL (sitewatch init --postgres)");
        }
        builder.Services.AddSingleton(host);
        var jobs = new JobQueue(settings.JobQueueCapacity, TimeSpan.FromMinutes(settings.JobRetentionMinutes), settings.MaxFinishedJobs);
        builder.Services.AddSingleton(jobs);
        builder.Services.AddHostedService<JobWorker>();
        builder.Services.AddSignalR();
        builder.Services.AddSingleton<Live.JobEvents>();
        builder.Services.AddSingleton<Live.AlertFeed>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Live.AlertFeed>());
        builder.Services.AddSingleton<Live.ClusterLink>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Live.ClusterLink>());
        builder.Services.AddHostedService<Live.RecordingFeed>();
        builder.Services.AddSingleton<TileRenderer>();
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = Json.PropertyNamingPolicy;
            o.SerializerOptions.DefaultIgnoreCondition = Json.DefaultIgnoreCondition;
            o.SerializerOptions.NumberHandling = Json.NumberHandling;
        });
        builder.Services.AddOpenApi();

        builder.Services.AddAuthentication(o =>
            {
                o.DefaultScheme = "SiteWatch";
                o.DefaultChallengeScheme = "SiteWatch";
            })
            .AddPolicyScheme("SiteWatch", "cookie or API key", o =>
                o.ForwardDefaultSelector = context => ApiKeyHandler.Carries(context.Request) ? ApiKeyHandler.SchemeName : CookieAuthenticationDefaults.AuthenticationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyHandler>(ApiKeyHandler.SchemeName, null)
            .AddCookie(o =>
            {
                o.Cookie.Name = "sitewatch.session";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = settings.SecureCookies ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = TimeSpan.FromMinutes(settings.SessionMinutes);
                o.SlidingExpiration = true;
                // An API: answer 401/403, never redirect to a login page.
                o.Events.OnRedirectToLogin = c => { c.Response.StatusCode = StatusCodes.Status401Unauthorized; return Task.CompletedTask; };
                o.Events.OnRedirectToAccessDenied = c => { c.Response.StatusCode = StatusCodes.Status403Forbidden; return Task.CompletedTask; };
                o.Events.OnValidatePrincipal = ValidateSession;
            });
        builder.Services.AddAuthorizationBuilder()
            // Nothing is anonymous unless it says so (/healthz, /version, login).
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(AnalystPolicy, p => p.RequireAssertion(c => HasRole(c.User, Core.Catalog.UserRoles.Analyst)))
            .AddPolicy(AdminPolicy, p => p.RequireAssertion(c => HasRole(c.User, Core.Catalog.UserRoles.Admin)));
        builder.Services.AddAntiforgery(o =>
        {
            o.HeaderName = AntiforgeryHeader;
            o.Cookie.Name = "sitewatch.xsrf";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = settings.SecureCookies ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
        });
        builder.Services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (context, cancel) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "1";
                await Problems.Of(StatusCodes.Status429TooManyRequests, "too many logins at once; try again shortly").ExecuteAsync(context.HttpContext);
            };
            // Attempts per user name and address are counted by the login route itself (LoginLimits): the name is in the body.
            o.AddConcurrencyLimiter(LoginRateLimit, c =>
            {
                c.PermitLimit = Math.Max(1, settings.MaxConcurrentLogins);
                c.QueueLimit = 2 * Math.Max(1, settings.MaxConcurrentLogins);
                c.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            });
        });

        var app = builder.Build();
        app.Lifetime.ApplicationStopped.Register(host.Dispose);
        app.Lifetime.ApplicationStopped.Register(jobs.DeleteAllFiles);
        if (settings.TrustedProxies.Length > 0)
        {
            // Only the named proxies' X-Forwarded-For/-Proto count (client address for login limits, https for
            // cookies and HSTS); the framework's loopback defaults are cleared so nothing else is believed.
            var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto };
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            foreach (var proxy in settings.TrustedProxies)
            {
                forwarded.KnownProxies.Add(System.Net.IPAddress.TryParse(proxy, out var address)
                    ? address
                    : throw new Core.SiteWatchException($"Server:TrustedProxies: '{proxy}' is not an IP address"));
            }
            app.UseForwardedHeaders(forwarded);
        }
        app.Use(SecurityHeaders);
        app.UseHttpLogging();
        app.Use(Problems.Middleware);
        app.UseStatusCodePages(async context =>
        {
            // Bare 401/403/404/405 from routing or authorization become problem details too.
            var response = context.HttpContext.Response;
            if (response.ContentLength is null && string.IsNullOrEmpty(response.ContentType))
            {
                await Problems.Of(response.StatusCode, Describe(response.StatusCode)).ExecuteAsync(context.HttpContext);
            }
        });
        app.UseRateLimiter();
        app.Use(RequireOwnOrigin);
        if (settings.WebRoot is { } webRoot)
        {
            if (!Directory.Exists(webRoot))
            {
                throw new Core.SiteWatchException($"Server:WebRoot {webRoot}: no such folder");
            }
            // Before authentication: the UI's assets load for the login page. PhysicalFileProvider never leaves the folder.
            var files = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(Path.GetFullPath(webRoot));
            // "/" is the UI's index.html (the UI routes in the URL's fragment, so no other path needs a fallback).
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        }
        app.UseAuthentication();
        app.UseAuthorization();
        app.Use(RequireAntiforgery);

        SystemEndpoints.Map(app);
        AuthEndpoints.Map(app);
        SiteEndpoints.Map(app);
        SceneEndpoints.Map(app);
        RunEndpoints.Map(app);
        JobEndpoints.Map(app);
        ProductEndpoints.Map(app);
        NoteEndpoints.Map(app);
        RuleEndpoints.Map(app);
        VideoEndpoints.Map(app);
        ClusterEndpoints.Map(app);
        app.MapHub<Live.EventsHub>(Live.EventsHub.Path);
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapScalarApiReference("/docs", o => o.WithTitle("SiteWatch API"));
        return app;
    }

    public static bool HasRole(ClaimsPrincipal user, string role) =>
        user.Identity?.IsAuthenticated == true && user.FindFirst(ClaimTypes.Role)?.Value is { } r && Core.Catalog.UserRoles.Includes(r, role);

    private static string Describe(int status) => status switch
    {
        401 => "sign in (POST /api/auth/login) or send an API key (Authorization: Bearer sw_...)",
        403 => "your role does not allow this",
        404 => "no such resource",
        405 => "method not allowed here",
        413 => "the request body is too large",
        _ => "request failed",
    };

    /// <summary>
    /// A session ends at the next request when its user was removed, their role changed, their security stamp changed
    /// (new password, sessions revoked) or it began more than Server:SessionMaxHours ago.
    /// </summary>
    private static async Task ValidateSession(CookieValidatePrincipalContext context)
    {
        var host = context.HttpContext.RequestServices.GetRequiredService<WorkspaceHost>();
        var settings = context.HttpContext.RequestServices.GetRequiredService<ServerSettings>();
        var principal = context.Principal;
        var id = principal?.FindFirst(Principals.UserIdClaim)?.Value;
        var role = principal?.FindFirst(ClaimTypes.Role)?.Value;
        var stamp = principal?.FindFirst(Principals.StampClaim)?.Value;
        var signedIn = long.TryParse(principal?.FindFirst(Principals.SignedInClaim)?.Value, out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : (DateTimeOffset?)null;
        var user = long.TryParse(id, out var userId) ? host.Use(w => w.Catalog.TryGetUser(userId)) : null;
        if (user is null || user.Role != role || stamp is null || user.SecurityStamp != stamp
            || signedIn is null || DateTimeOffset.UtcNow - signedIn > TimeSpan.FromHours(settings.SessionMaxHours))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        }
    }

    private static async Task SecurityHeaders(HttpContext context, RequestDelegate next)
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers["Cross-Origin-Resource-Policy"] = "same-origin";
            var hsts = context.RequestServices.GetRequiredService<ServerSettings>().HstsSeconds;
            if (context.Request.IsHttps && hsts > 0)
            {
                headers.StrictTransportSecurity = $"max-age={hsts}";
            }
            // The API docs page (Scalar) runs its own bundled script and inline styles; everything else runs none.
            headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments("/docs")
                ? "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
                // The web UI: its own scripts, style sheets and map worker only (style attributes for positions and colours); data by fetch and the live hub (same origin).
                : "default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; worker-src 'self'; connect-src 'self'; img-src 'self' data: blob:; font-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
            return Task.CompletedTask;
        });
        await next(context);
    }

    /// <summary>
    /// A browser names the page that makes a request in its Origin header (on every WebSocket, POST, PUT, DELETE and
    /// cross-origin fetch). SameSite cookies still travel from another port of the same host, and the antiforgery
    /// check does not cover the live hub's WebSocket, so a request from a page of another origin is refused unless
    /// Server:AllowedOrigins names it. Scripts with API keys send no Origin and pass.
    /// </summary>
    private static async Task RequireOwnOrigin(HttpContext context, RequestDelegate next)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0)
        {
            var own = $"{context.Request.Scheme}://{context.Request.Host.Value}";
            var allowed = context.RequestServices.GetRequiredService<ServerSettings>().AllowedOrigins;
            if (!string.Equals(origin, own, StringComparison.OrdinalIgnoreCase) && !allowed.Contains(origin, StringComparer.OrdinalIgnoreCase))
            {
                await Problems.Of(StatusCodes.Status403Forbidden, $"requests from pages of origin {Paging.Truncate(origin)} are not accepted (Server:AllowedOrigins)").ExecuteAsync(context);
                return;
            }
        }
        await next(context);
    }

    /// <summary>
    /// Browser sessions ride on a cookie the browser sends by itself, so every state-changing request made with one
    /// must carry the antiforgery token (header X-XSRF-TOKEN, from GET /api/auth/antiforgery). API-key requests carry
    /// their credential explicitly and need none; login is exempt (it creates the session).
    /// </summary>
    private static async Task RequireAntiforgery(HttpContext context, RequestDelegate next)
    {
        var method = context.Request.Method;
        var unsafeMethod = !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method));
        if (unsafeMethod && context.User.Identity is { IsAuthenticated: true, AuthenticationType: not ApiKeyHandler.SchemeName }
            && !context.Request.Path.StartsWithSegments("/api/auth/login"))
        {
            var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
            if (!await antiforgery.IsRequestValidAsync(context))
            {
                await Problems.Of(StatusCodes.Status403Forbidden, $"missing or invalid antiforgery token: send the {AntiforgeryHeader} header from GET /api/auth/antiforgery").ExecuteAsync(context);
                return;
            }
        }
        await next(context);
    }
}
