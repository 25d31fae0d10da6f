using System.Security.Claims;
using SiteWatch.Core;
using SiteWatch.Core.Alerts;

namespace SiteWatch.Server.Endpoints;

internal static class RuleEndpoints
{
    /// <summary>
    /// A site's alert rules, as `sitewatch alerts rules` stores them: the rules file's text (comments allowed), checked
    /// by the same parser. Analysts only, reading too: the file holds webhook addresses and their signing secrets.
    /// </summary>
    public static void Map(WebApplication app)
    {
        var rules = app.MapGroup("/api/sites/{id:long}/rules").WithTags("alerts").RequireAuthorization(ServerApp.AnalystPolicy);
        rules.MapGet("/", (long id, WorkspaceHost host) =>
        {
            var stored = host.Use(w => w.Catalog.TryGetAlertRules(SiteEndpoints.RequireSite(w, id).Id))
                ?? throw new HttpProblem(StatusCodes.Status404NotFound, $"site {id} has no alert rules yet (PUT them here)");
            return Results.Text(stored.Json, "application/json; charset=utf-8");
        });
        rules.MapPut("/", async (long id, HttpRequest request, WorkspaceHost host, ClaimsPrincipal user, CancellationToken cancel) =>
        {
            using var reader = new StreamReader(request.Body);
            var json = await reader.ReadToEndAsync(cancel);
            var source = $"request body (PUT by {user.Identity?.Name ?? "?"})";
            try
            {
                AlertRuleSet.Parse(json, source);
            }
            catch (SiteWatchException e)
            {
                throw HttpProblem.BadRequest(ErrorMapping.Text(e));
            }
            var set = host.Use(w => AlertWorkflow.StoreRulesText(w, SiteEndpoints.RequireSite(w, id).Name, json, source));
            return Results.Json(new { rules = set.Rules.Count, webhooks = set.Webhooks.Count });
        });
    }

}
