using System.Globalization;
using SiteWatch.Core;

namespace SiteWatch.Server;

/// <summary>Thrown by handlers for an answer other than success; becomes an RFC 7807 problem.</summary>
public sealed class HttpProblem(int status, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    public static HttpProblem NotFound(string what, long id) => new(StatusCodes.Status404NotFound, $"no {what} with id {id}");
    public static HttpProblem BadRequest(string detail) => new(StatusCodes.Status400BadRequest, detail);
}

internal static class Problems
{
    public static IResult Of(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);

    /// <summary>
    /// Turns failures into problem details: <see cref="HttpProblem"/> as it says, a user-facing SiteWatchException by
    /// <see cref="ErrorMapping.StatusOf"/> (busy 503 with Retry-After, storage 500, bad input 400), an oversized body as
    /// 413, anything else as 500 without internals; no answer carries a server path.
    /// </summary>
    public static async Task Middleware(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
        {
            var root = context.RequestServices.GetService<WorkspaceHost>()?.Root;
            var (status, detail) = e switch
            {
                HttpProblem p => (p.Status, p.Message),
                BadHttpRequestException b => (b.StatusCode, b.StatusCode == StatusCodes.Status413PayloadTooLarge ? "the request body is too large" : b.Message),
                SiteWatchException s => (ErrorMapping.StatusOf(s, root ?? "\0"), ErrorMapping.Text(s)),
                IOException or UnauthorizedAccessException => (StatusCodes.Status500InternalServerError, "storage error on the server: " + e.Message),
                _ => (StatusCodes.Status500InternalServerError, "internal error; see the server log"),
            };
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("SiteWatch.Server");
            if (status >= 500 && status != StatusCodes.Status503ServiceUnavailable)
            {
                logger.LogError(e, "request failed");
            }
            else if (e is SiteWatchException || status == StatusCodes.Status503ServiceUnavailable)
            {
                // The client gets the text without server paths; the log keeps it whole.
                logger.LogWarning("request failed ({Status}): {Message}", status, e.Message);
            }
            if (status == StatusCodes.Status503ServiceUnavailable)
            {
                context.Response.OnStarting(() => { context.Response.Headers.RetryAfter = ErrorMapping.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture); return Task.CompletedTask; });
                if (e is SiteWatchException)
                {
                    detail = "the workspace is busy (another process holds it); try again shortly";
                }
            }
            else if (status == StatusCodes.Status500InternalServerError && e is SiteWatchException)
            {
                detail = "storage error on the server: " + detail;
            }
            detail = ErrorMapping.Redact(detail, root);
            context.Response.Clear();
            context.Response.StatusCode = status;
            await Of(status, detail).ExecuteAsync(context);
        }
    }
}

/// <summary>?page= and ?page_size= of every list.</summary>
public sealed record Paging(int Page, int PageSize)
{
    public static Paging From(HttpRequest request, int maxPageSize)
    {
        var page = Parse(request, "page", 1, int.MaxValue, 1);
        var size = Parse(request, "page_size", 1, maxPageSize, Math.Min(100, maxPageSize));
        return new Paging(page, size);
    }

    private static int Parse(HttpRequest request, string name, int min, int max, int fallback)
    {
        var text = request.Query[name].ToString();
        if (text.Length == 0)
        {
            return fallback;
        }
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw HttpProblem.BadRequest($"query parameter '{name}': '{Truncate(text)}' is not a whole number from {min} to {max}");
        }
        return value;
    }

    public object Apply<T>(IReadOnlyList<T> all, Func<T, object> view) => new
    {
        page = Page,
        page_size = PageSize,
        total = all.Count,
        items = all.Skip((int)Math.Min(int.MaxValue, (long)(Page - 1) * PageSize)).Take(PageSize).Select(view).ToList(),
    };

    internal static string Truncate(string text) => text.Length > 40 ? text[..40] + "..." : text;
}
