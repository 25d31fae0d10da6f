using System.Reflection;

namespace SiteWatch.Server.Endpoints;

internal static class SystemEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/healthz", (WorkspaceHost host) =>
        {
            // Healthy when the catalog answers.
            host.Use(w => w.Catalog.ListUsers().Count);
            return Results.Text("ok", "text/plain");
        }).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/version", () => Results.Json(new
        {
            name = "sitewatch",
            version = typeof(SystemEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0",
            gdal = Gdal.GdalEnvironment.Version,
            dotnet = Environment.Version.ToString(),
        })).AllowAnonymous().WithTags("system");
    }
}
