using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using SiteWatch.Core.Reports;
using SiteWatch.Server.Jobs;

namespace SiteWatch.Server.Endpoints;

/// <summary>
/// What an analyst hands on, made by the same workflows as the CLI's `report` and `timelapse`, in background jobs
/// whose files are downloaded from /api/jobs/{id}/files/{name} (attachments; only the names the job wrote).
/// </summary>
internal static class ProductEndpoints
{
    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".pdf"] = "application/pdf",
        [".html"] = "text/html; charset=utf-8",
        [".mp4"] = "video/mp4",
        [".gif"] = "image/gif",
        [".gpkg"] = "application/geopackage+sqlite3",
        [".kml"] = "application/vnd.google-earth.kml+xml",
        [".kmz"] = "application/vnd.google-earth.kmz",
        [".csv"] = "text/csv; charset=utf-8",
        [".fgb"] = "application/octet-stream",
        [".geojson"] = "application/geo+json",
        [".json"] = "application/json",
        [".zip"] = "application/zip",
    };

    public static void Map(WebApplication app)
    {
        app.MapGet("/api/jobs/{id}/files/{name}", (string id, string name, JobQueue jobs) =>
        {
            var job = jobs.Find(id) ?? throw new HttpProblem(StatusCodes.Status404NotFound, $"no job with id {Paging.Truncate(id)}");
            if (job.FilesDirectory is null || job.State != JobStates.Succeeded)
            {
                throw new HttpProblem(StatusCodes.Status404NotFound, $"job {job.Id} has no files{(job.State == JobStates.Succeeded ? "" : $" (it is {job.State})")}");
            }
            // Only a name the job wrote, compared against the folder's own listing: no path of the request reaches the disk.
            var file = Directory.EnumerateFiles(job.FilesDirectory).FirstOrDefault(f => string.Equals(Path.GetFileName(f), name, StringComparison.Ordinal))
                ?? throw new HttpProblem(StatusCodes.Status404NotFound, $"job {job.Id} has no file named {Paging.Truncate(name)}");
            var type = ContentTypes.GetValueOrDefault(Path.GetExtension(file), "application/octet-stream");
            // Attachments: a report's HTML is read in the analyst's browser from disk, never run under this origin.
            return Results.File(file, type, Path.GetFileName(file), enableRangeProcessing: true);
        }).WithTags("jobs");

        app.MapPost("/api/sites/{id:long}/report", async (long id, HttpRequest request, WorkspaceHost host, JobQueue jobs, ClaimsPrincipal user, CancellationToken cancel) =>
        {
            var body = await Body.ReadOptionalObjectAsync(request, cancel);
            var options = new ReportOptions
            {
                From = Day(body, "from"),
                To = Day(body, "to"),
                Paper = (Body.String(body, "paper", maxLength: 10) ?? "a4").ToLowerInvariant() switch
                {
                    "a4" => PaperSize.A4,
                    "letter" => PaperSize.Letter,
                    var other => throw HttpProblem.BadRequest($"field 'paper': '{Paging.Truncate(other)}' is not a4 or letter"),
                },
            };
            var site = host.Use(w => SiteEndpoints.RequireSite(w, id));
            var job = jobs.EnqueueWithFiles("report", site.Id, user.Identity?.Name ?? "?", (workspace, files, progress, stop) =>
            {
                var result = SiteReportWorkflow.Write(workspace, site.Name, options, files.Folder, DateTime.UtcNow);
                progress.Report(1);
                return new
                {
                    pages = result.Pages,
                    findings = result.Report.Findings.Count,
                    files = new { pdf = files.Url(Path.GetFileName(result.PdfPath)), html = files.Url(Path.GetFileName(result.HtmlPath)) },
                };
            });
            return Results.Accepted($"/api/jobs/{job.Id}", job.View());
        }).RequireAuthorization(ServerApp.AnalystPolicy).WithTags("products");

        app.MapPost("/api/sites/{id:long}/timelapse", async (long id, HttpRequest request, WorkspaceHost host, JobQueue jobs, ClaimsPrincipal user, CancellationToken cancel) =>
        {
            var body = await Body.ReadOptionalObjectAsync(request, cancel);
            var format = (Body.String(body, "format", maxLength: 10) ?? "mp4").ToLowerInvariant();
            if (format is not ("mp4" or "gif"))
            {
                throw HttpProblem.BadRequest($"field 'format': '{Paging.Truncate(format)}' is not mp4 or gif");
            }
            var fps = Body.Number(body, "fps") ?? 1;
            var size = Body.Number(body, "size") ?? 1024;
            if (fps is <= 0 or > 60 || size is < 64 or > 4096 || size != Math.Floor(size))
            {
                throw HttpProblem.BadRequest("fields 'fps' (more than 0, at most 60) and 'size' (64 to 4096 pixels)");
            }
            var options = new TimelapseOptions { From = Day(body, "from"), To = Day(body, "to"), FramesPerSecond = fps, Size = (int)size };
            var site = host.Use(w => SiteEndpoints.RequireSite(w, id));
            var job = jobs.EnqueueWithFiles("timelapse", site.Id, user.Identity?.Name ?? "?", (workspace, files, progress, stop) =>
            {
                var result = TimelapseWorkflow.Write(workspace, site.Name, Path.Combine(files.Folder, $"{Core.Ingest.SceneIngestor.Slug(site.Name)}.{format}"), options, progress, stop);
                return new { frames = result.Frames, width = result.Width, height = result.Height, files = new { timelapse = files.Url(Path.GetFileName(result.Path)) } };
            });
            return Results.Accepted($"/api/jobs/{job.Id}", job.View());
        }).RequireAuthorization(ServerApp.AnalystPolicy).WithTags("products");

        MapExport(app);
    }

    /// <summary>
    /// Exports the server makes: a GeoPackage of every kind, or one kind as GeoJSON, CSV or FlatGeobuf (one file each).
    /// KML/KMZ stay with the CLI: GDAL's LIBKML driver corrupted a long-lived process's heap in our tests. STAC folders
    /// link into the workspace and are the CLI's too.
    /// </summary>
    private static readonly string[] ServerExportFormats = ["gpkg", "geojson", "csv", "fgb"];

    private static void MapExport(WebApplication app) =>
        app.MapPost("/api/sites/{id:long}/export", async (long id, HttpRequest request, WorkspaceHost host, JobQueue jobs, ClaimsPrincipal user, CancellationToken cancel) =>
        {
            var body = await Body.ReadOptionalObjectAsync(request, cancel);
            var name = (Body.String(body, "format", maxLength: 10) ?? "gpkg").ToLowerInvariant();
            if (!ServerExportFormats.Contains(name))
            {
                throw HttpProblem.BadRequest($"field 'format': '{Paging.Truncate(name)}' is not one the server exports ({string.Join(", ", ServerExportFormats)}); KML, KMZ and STAC come from 'sitewatch export'");
            }
            var format = Core.Exports.ExportFormat.Parse(name);
            var what = Body.String(body, "what", maxLength: 20);
            if (what is not null && !Core.Exports.ExportKind.Stored.Contains(what))
            {
                throw HttpProblem.BadRequest($"field 'what': '{Paging.Truncate(what)}' is not one of {string.Join(", ", Core.Exports.ExportKind.Stored)}");
            }
            if (!format.MultiLayer && what is null)
            {
                throw HttpProblem.BadRequest($"field 'what': a {name} file holds one kind; name it (one of {string.Join(", ", Core.Exports.ExportKind.Stored)}), or ask for gpkg");
            }
            var from = Day(body, "from");
            var to = Day(body, "to");
            var site = host.Use(w => SiteEndpoints.RequireSite(w, id));
            var job = jobs.EnqueueWithFiles("export", site.Id, user.Identity?.Name ?? "?", (workspace, files, progress, stop) =>
            {
                var file = $"{Core.Ingest.SceneIngestor.Slug(site.Name)}{(what is null ? "" : "-" + what)}{format.Extension}";
                var result = Core.Exports.SiteExportWorkflow.Run(workspace, site.Name, new Core.Exports.ExportOptions
                {
                    Format = format,
                    What = what is null ? null : [what],
                    OutputPath = Path.Combine(files.Folder, file),
                    FromUtc = from?.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
                    ToUtc = to?.ToDateTime(TimeOnly.MaxValue, DateTimeKind.Utc),
                }, stop);
                progress.Report(1);
                return new { layers = result.Layers.Select(l => new { kind = l.Kind, features = l.Features }), notes = result.Notes, files = new { export = files.Url(file) } };
            });
            return Results.Accepted($"/api/jobs/{job.Id}", job.View());
        }).RequireAuthorization(ServerApp.AnalystPolicy).WithTags("products");

    private static DateOnly? Day(JsonElement body, string field) =>
        Body.String(body, field, maxLength: 10) is not { } text ? null
        : DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day
        : throw HttpProblem.BadRequest($"field '{field}': '{Paging.Truncate(text)}' is not a date (YYYY-MM-DD)");
}
