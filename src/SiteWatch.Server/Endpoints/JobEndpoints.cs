using SiteWatch.Server.Jobs;

namespace SiteWatch.Server.Endpoints;

internal static class JobEndpoints
{
    public static void Map(WebApplication app)
    {
        var jobs = app.MapGroup("/api/jobs").WithTags("jobs");
        jobs.MapGet("/", (HttpRequest request, JobQueue queue, ServerSettings settings) =>
            Results.Json(Paging.From(request, settings.MaxPageSize).Apply(queue.All(), j => j.View())));
        jobs.MapGet("/{id}", (string id, JobQueue queue) =>
            queue.Find(id) is { } job ? Results.Json(job.View()) : Problems.Of(StatusCodes.Status404NotFound, $"no job with id {Paging.Truncate(id)}"));
    }
}
