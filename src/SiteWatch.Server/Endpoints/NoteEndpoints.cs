using System.Globalization;
using System.Text.Json;
using SiteWatch.Core;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Geo;

namespace SiteWatch.Server.Endpoints;

/// <summary>The analyst's dated notes on a site, with their sources (what `sitewatch note` and the site report use).</summary>
internal static class NoteEndpoints
{
    public static void Map(WebApplication app)
    {
        var notes = app.MapGroup("/api/sites/{id:long}/notes").WithTags("notes");
        notes.MapGet("/", (long id, WorkspaceHost host) =>
            Results.Json(host.Use(w => w.Catalog.ListNotes(SiteEndpoints.RequireSite(w, id).Id)).Select(View).ToList()));

        notes.MapPost("/", async (long id, HttpRequest request, WorkspaceHost host, CancellationToken cancel) =>
        {
            var body = await Body.ReadObjectAsync(request, cancel);
            var dateText = Body.String(body, "date", required: true, maxLength: 10)!;
            if (!DateOnly.TryParseExact(dateText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                throw HttpProblem.BadRequest($"field 'date': '{Paging.Truncate(dateText)}' is not a date (YYYY-MM-DD)");
            }
            var source = Body.String(body, "source", required: true, maxLength: 300)!;
            var text = Body.String(body, "text", required: true, maxLength: 4000)!;
            var url = Body.String(body, "url", maxLength: 2000);
            NetTopologySuite.Geometries.Geometry? outline = null;
            if (body.TryGetProperty("outline", out var outlineJson) && outlineJson.ValueKind != JsonValueKind.Null)
            {
                try
                {
                    outline = AoiReader.Parse(outlineJson.GetRawText(), "field 'outline'");
                }
                catch (SiteWatchException e)
                {
                    throw HttpProblem.BadRequest(e.Message);
                }
            }
            var note = host.Use(w =>
            {
                var site = SiteEndpoints.RequireSite(w, id);
                w.EnsureWritable();
                try
                {
                    return w.Catalog.AddNote(site.Id, date, source, url, text, outline);
                }
                catch (SiteWatchException e) when (e.InnerException is null)
                {
                    throw HttpProblem.BadRequest(ErrorMapping.Text(e));
                }
            });
            return Results.Created($"/api/sites/{id}/notes/{note.Id}", View(note));
        }).RequireAuthorization(ServerApp.AnalystPolicy);

        notes.MapDelete("/{noteId:long}", (long id, long noteId, WorkspaceHost host) =>
        {
            host.Use(w =>
            {
                var site = SiteEndpoints.RequireSite(w, id);
                if (w.Catalog.ListNotes(site.Id).All(n => n.Id != noteId))
                {
                    throw HttpProblem.NotFound("note", noteId);
                }
                w.Catalog.DeleteNote(site, noteId);
            });
            return Results.NoContent();
        }).RequireAuthorization(ServerApp.AnalystPolicy);
    }

    private static object View(SiteNote n) => new
    {
        id = n.Id,
        site_id = n.SiteId,
        date = n.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        source = n.Source,
        url = n.Url,
        text = n.Text,
        outline = n.Outline is { } o ? JsonDocument.Parse(GeoJsonText.Write(o)).RootElement : (JsonElement?)null,
        outline_m2 = n.Outline is { } g ? Math.Round(Measurements.AreaSquareMetres(g), 1) : (double?)null,
        created_utc = n.CreatedUtc,
    };
}
