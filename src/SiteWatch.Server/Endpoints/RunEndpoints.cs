using System.Security.Claims;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Core.Workflows;
using SiteWatch.Server.Jobs;
using SiteWatch.Server.Tiles;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Server.Endpoints;

/// <summary>Change runs, detection runs and alerts: read from the catalog; new runs started as background jobs.</summary>
internal static class RunEndpoints
{
    public static void Map(WebApplication app)
    {
        var changes = app.MapGroup("/api/changes").WithTags("changes");
        changes.MapGet("/{id:long}", (long id, WorkspaceHost host) =>
            Results.Json(Views.ChangeRun(host.Use(w => w.Catalog.TryGetChangeRun(id)) ?? throw HttpProblem.NotFound("change run", id))));
        // The run's change objects: an RFC 7946 FeatureCollection (WGS84), as the run wrote it.
        changes.MapGet("/{id:long}/objects", (long id, WorkspaceHost host) =>
        {
            var file = host.Use(w =>
            {
                var run = w.Catalog.TryGetChangeRun(id) ?? throw HttpProblem.NotFound("change run", id);
                return Path.Combine(w.Resolve(run.Directory), "changes.geojson");
            });
            return StoredFile(file, "application/geo+json", $"change run {id}");
        });

        // The run's before | after | change picture, as the CLI wrote it.
        changes.MapGet("/{id:long}/quicklook.png", (long id, WorkspaceHost host) =>
        {
            var file = host.Use(w => new ChangeRunFiles(w.Resolve((w.Catalog.TryGetChangeRun(id) ?? throw HttpProblem.NotFound("change run", id)).Directory)).Quicklook);
            return StoredFile(file, "image/png", $"change run {id}");
        });
        // The run's magnitude or mask as coloured, see-through XYZ tiles, and the legend that explains the colours.
        changes.MapGet("/{id:long}/tiles/{z}/{x}/{y}.{format}", async (long id, string z, string x, string y, string format, HttpContext context,
            WorkspaceHost host, TileRenderer tiles, CancellationToken cancel) =>
        {
            var tileFormat = TileRenderer.Format(format);
            var tile = TileAddress.Parse(z, x, y);
            var layer = ChangeTileStyle.ParseLayer(context.Request.Query["layer"]);
            var (run, file) = ChangeRaster(host, id, layer);
            var etag = TileRenderer.ChangeETag(run, layer, tile, tileFormat);
            context.Response.Headers.ETag = etag;
            context.Response.Headers.CacheControl = "private, max-age=3600";
            if (context.Request.Headers.IfNoneMatch.ToString().Split(',').Any(t => t.Trim() == etag))
            {
                return Results.StatusCode(StatusCodes.Status304NotModified);
            }
            return Results.Bytes(await tiles.RenderChangeAsync(run, file, layer, tile, tileFormat, cancel), TileRenderer.ContentType(tileFormat));
        });
        changes.MapGet("/{id:long}/legend", (long id, HttpContext context, WorkspaceHost host, TileRenderer tiles) =>
        {
            var layer = ChangeTileStyle.ParseLayer(context.Request.Query["layer"]);
            var (run, file) = ChangeRaster(host, id, layer);
            return Results.Json(tiles.ChangeLegend(run, file, layer));
        });

        var detections = app.MapGroup("/api/detections").WithTags("detections");
        detections.MapGet("/{id:long}", (long id, WorkspaceHost host) =>
            Results.Json(Views.DetectionRun(host.Use(w => w.Catalog.TryGetDetectionRun(id)) ?? throw HttpProblem.NotFound("detection run", id))));
        detections.MapGet("/{id:long}/features", (long id, WorkspaceHost host) =>
        {
            var file = host.Use(w => w.Resolve((w.Catalog.TryGetDetectionRun(id) ?? throw HttpProblem.NotFound("detection run", id)).DetectionsFile));
            return StoredFile(file, "application/geo+json", $"detection run {id}");
        });

        var alerts = app.MapGroup("/api/alerts").WithTags("alerts");
        alerts.MapGet("/{id:long}", (long id, WorkspaceHost host) =>
            Results.Json(Views.Alert(host.Use(w => w.Catalog.TryGetAlert(id)) ?? throw HttpProblem.NotFound("alert", id))));
        alerts.MapGet("/{id:long}/chip.png", (long id, WorkspaceHost host) =>
        {
            var file = host.Use(w =>
            {
                var alert = w.Catalog.TryGetAlert(id) ?? throw HttpProblem.NotFound("alert", id);
                var chip = Views.ChipPath(alert) ?? throw new HttpProblem(StatusCodes.Status404NotFound, $"alert {id} has no chip");
                return w.Resolve(chip);
            });
            return StoredFile(file, "image/png", $"alert {id}");
        });

        // What a change run may be asked for, so a client offers only what the server accepts.
        app.MapGet("/api/change/methods", () => Results.Json(new
        {
            default_method = ChangeChoices.Name(new ChangeDetectionOptions().Method),
            default_segment_metres = new ChangeDetectionOptions().SegmentMetres,
            methods = ChangeChoices.MethodKinds.Select(kind => new
            {
                name = ChangeChoices.Name(kind),
                description = ChangeChoices.Describe(kind),
                thresholds = ChangeChoices.ThresholdsFor(kind).Select(ChangeChoices.Name).ToArray(),
                takes_segment_metres = ChangeChoices.TakesSegmentSize(kind),
            }).ToArray(),
        })).WithTags("changes");

        app.MapPost("/api/sites/{id:long}/change", async (long id, HttpRequest request, WorkspaceHost host, JobQueue jobs, ClaimsPrincipal user, CancellationToken cancel) =>
        {
            var body = await Body.ReadObjectAsync(request, cancel);
            var before = Body.String(body, "before", required: true, maxLength: 40)!;
            var after = Body.String(body, "after", required: true, maxLength: 40)!;
            // Parsed here, so a bad name is a 400 naming the field rather than a failed job.
            var method = Body.String(body, "method", maxLength: 40) is { } name ? ChangeChoices.ParseMethod(name) : new ChangeDetectionOptions().Method;
            var threshold = Body.String(body, "threshold", maxLength: 40) is { } rule ? ChangeChoices.ParseThreshold(rule) : ThresholdRule.Auto;
            ChangeChoices.RequireThreshold(method, threshold);
            var segment = Body.Number(body, "segment_metres");
            if (segment is { } m && !(m is > 0 and < 10_000))
            {
                throw HttpProblem.BadRequest("field 'segment_metres': must be a positive number of metres (the object method's segment side)");
            }
            var site = host.Use(w => SiteEndpoints.RequireSite(w, id));
            var detection = new ChangeDetectionOptions { Method = method, Threshold = threshold };
            var options = new SiteChangeOptions { Detection = segment is { } metres ? detection with { SegmentMetres = metres } : detection };
            var job = jobs.Enqueue("change", site.Id, user.Identity?.Name ?? "?", (workspace, progress, stop) =>
            {
                var result = SiteChangeWorkflow.Run(workspace, site.Name, before, after, options, progress, stop);
                return new { change_run_id = result.Record.Id, reused = result.Reused, objects = result.Objects?.Count };
            });
            return Results.Accepted($"/api/jobs/{job.Id}", job.View());
        }).RequireAuthorization(ServerApp.AnalystPolicy).WithTags("changes");

        app.MapPost("/api/sites/{id:long}/detect", async (long id, HttpRequest request, WorkspaceHost host, JobQueue jobs, ClaimsPrincipal user, CancellationToken cancel) =>
        {
            var body = await Body.ReadOptionalObjectAsync(request, cancel);
            var score = Body.Number(body, "score");
            if (score is { } s && s is <= 0 or >= 1)
            {
                throw HttpProblem.BadRequest("field 'score': must be between 0 and 1");
            }
            var site = host.Use(w => SiteEndpoints.RequireSite(w, id));
            var job = jobs.Enqueue("detect", site.Id, user.Identity?.Name ?? "?", (workspace, progress, stop) =>
            {
                var result = SiteDetectionWorkflow.Run(workspace, site.Name, new SiteDetectionOptions { ScoreThreshold = (float?)score },
                    new Core.SyncProgress<(int Scene, int Scenes, double Fraction)>(p => progress.Report((p.Scene + p.Fraction) / Math.Max(1, p.Scenes))), stop);
                return new { model = result.ModelName, detection_run_ids = result.Scenes.Select(x => x.Record.Id).ToList() };
            });
            return Results.Accepted($"/api/jobs/{job.Id}", job.View());
        }).RequireAuthorization(ServerApp.AnalystPolicy).WithTags("detections");
    }

    /// <summary>The run and its stored magnitude or mask raster (resolved inside the workspace); 404 when either is gone.</summary>
    private static (ChangeRunRecord Run, string File) ChangeRaster(WorkspaceHost host, long id, ChangeLayer layer)
    {
        var (run, file) = host.Use(w =>
        {
            var r = w.Catalog.TryGetChangeRun(id) ?? throw HttpProblem.NotFound("change run", id);
            var files = new ChangeRunFiles(w.Resolve(r.Directory));
            return (r, layer == ChangeLayer.Mask ? files.Mask : files.Magnitude);
        });
        return File.Exists(file)
            ? (run, file)
            : throw new HttpProblem(StatusCodes.Status404NotFound, $"change run {id}: its stored {ChangeTileStyle.Name(layer)} raster is missing (run 'sitewatch check')");
    }

    /// <summary>A file the catalog points at (already resolved inside the workspace); 404 when it is gone.</summary>
    internal static IResult StoredFile(string path, string contentType, string what) =>
        File.Exists(path)
            ? Results.File(path, contentType, enableRangeProcessing: true)
            : Problems.Of(StatusCodes.Status404NotFound, $"{what}: its stored file is missing (run 'sitewatch check')");
}
