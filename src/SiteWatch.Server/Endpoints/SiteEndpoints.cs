using SiteWatch.Core.Activity;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Geo;
using SiteWatch.Core.Workflows;

namespace SiteWatch.Server.Endpoints;

internal static class SiteEndpoints
{
    public static Site RequireSite(Workspace w, long id) => w.Catalog.TryGetSiteById(id) ?? throw HttpProblem.NotFound("site", id);

    public static void Map(WebApplication app)
    {
        var sites = app.MapGroup("/api/sites").WithTags("sites");
        sites.MapGet("/", (HttpRequest request, WorkspaceHost host, ServerSettings settings) =>
        {
            var paging = Paging.From(request, settings.MaxPageSize);
            return Results.Json(paging.Apply(host.Use(w => w.Catalog.ListSites()), Views.Site));
        });
        sites.MapGet("/{id:long}", (long id, WorkspaceHost host) =>
            Results.Json(host.Use(w => { var s = RequireSite(w, id); return Views.SiteDetail(s, w.Catalog.ListScenes(s.Id).Count); })));

        sites.MapPost("/", async (HttpRequest request, WorkspaceHost host, CancellationToken cancel) =>
        {
            var body = await Body.ReadObjectAsync(request, cancel);
            var name = Body.String(body, "name", required: true, maxLength: 100)!;
            if (!body.TryGetProperty("aoi", out var aoiJson) || aoiJson.ValueKind == System.Text.Json.JsonValueKind.Null)
            {
                throw HttpProblem.BadRequest("field 'aoi': required (a GeoJSON Polygon or MultiPolygon in WGS84)");
            }
            NetTopologySuite.Geometries.Geometry aoi;
            try
            {
                aoi = AoiReader.Parse(aoiJson.GetRawText(), "field 'aoi'");
            }
            catch (Core.SiteWatchException e)
            {
                throw HttpProblem.BadRequest(e.Message);
            }
            var gsd = Body.Number(body, "gsd");
            var crs = Body.String(body, "crs", maxLength: 100);
            var tags = Body.Strings(body, "tags");
            var notes = Body.String(body, "notes", maxLength: 10_000);
            var site = host.Use(w =>
            {
                if (w.Catalog.TryGetSite(name) is not null)
                {
                    throw new HttpProblem(StatusCodes.Status409Conflict, $"field 'name': a site named '{name}' already exists");
                }
                return SiteSetup.AddSite(w, name, aoi, gsd, crs, tags, notes);
            });
            return Results.Created($"/api/sites/{site.Id}", Views.SiteDetail(site, 0));
        }).RequireAuthorization(ServerApp.AnalystPolicy);

        sites.MapDelete("/{id:long}", (long id, WorkspaceHost host) =>
        {
            host.Use(w =>
            {
                // Its rows go, its folders are moved aside to .quarantine/ (never deleted outright).
                w.DeleteSite(RequireSite(w, id));
            });
            return Results.NoContent();
        }).RequireAuthorization(ServerApp.AnalystPolicy);

        sites.MapGet("/{id:long}/scenes", (long id, HttpRequest request, WorkspaceHost host, ServerSettings settings) =>
        {
            var paging = Paging.From(request, settings.MaxPageSize);
            return Results.Json(paging.Apply(host.Use(w => w.Catalog.ListScenes(RequireSite(w, id).Id)), Views.Scene));
        });
        sites.MapGet("/{id:long}/changes", (long id, HttpRequest request, WorkspaceHost host, ServerSettings settings) =>
        {
            var paging = Paging.From(request, settings.MaxPageSize);
            return Results.Json(paging.Apply(host.Use(w => w.Catalog.ListChangeRuns(RequireSite(w, id).Id)), Views.ChangeRun));
        });
        sites.MapGet("/{id:long}/detections", (long id, HttpRequest request, WorkspaceHost host, ServerSettings settings) =>
        {
            var paging = Paging.From(request, settings.MaxPageSize);
            return Results.Json(paging.Apply(host.Use(w => w.Catalog.ListDetectionRuns(RequireSite(w, id).Id)), Views.DetectionRun));
        });
        sites.MapGet("/{id:long}/alerts", (long id, HttpRequest request, WorkspaceHost host, ServerSettings settings) =>
        {
            var paging = Paging.From(request, settings.MaxPageSize);
            return Results.Json(paging.Apply(host.Use(w => w.Catalog.ListAlerts(RequireSite(w, id).Id)), Views.Alert));
        });
        sites.MapGet("/{id:long}/activity", (long id, HttpRequest request, WorkspaceHost host) =>
        {
            var baselineText = request.Query["baseline"].ToString();
            var baseline = 3;
            if (baselineText.Length > 0 && (!int.TryParse(baselineText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out baseline) || baseline < 1 || baseline > 100))
            {
                throw HttpProblem.BadRequest($"query parameter 'baseline': '{Paging.Truncate(baselineText)}' is not a whole number from 1 to 100");
            }
            var timeline = host.Use(w => ActivityTimeline.Build(w.Catalog, RequireSite(w, id), new ActivityOptions { Baseline = baseline }));
            return Results.Json(new
            {
                site_id = timeline.Site.Id,
                model = timeline.ModelName,
                model_sha256 = timeline.ModelSha256,
                baseline_dates = timeline.Baseline,
                classes = timeline.Classes,
                dates = timeline.Dates.Select(d => new
                {
                    date = ActivityTimeline.Label(d.Date),
                    scene_id = d.Scene.Id,
                    counts = d.Counts,
                    detection_run_id = d.Detections?.Id,
                    change_run_id = d.Change?.Id,
                    change_area_m2 = d.ChangeAreaSquareMetres,
                    appeared_area_m2 = d.AppearedAreaSquareMetres,
                    activity_index = d.Index,
                    z_scores = d.ZScores,
                }),
                notes = timeline.Notes,
            });
        });
    }
}
