using System.Text.RegularExpressions;
using SiteWatch.Core;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Server;

/// <summary>
/// What a failure tells a client: its status (busy 503, in use by running work 409, the server's own storage 500, bad input 400) and its text
/// without the server's filesystem paths (the full text goes to the server log).
/// </summary>
public static partial class ErrorMapping
{
    /// <summary>Seconds a client is asked to wait after a busy answer.</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>
    /// The server's words for an engine problem: the input at fault as the request's field, the remedy as what to do
    /// through the API (the CLI words the same problems as its options and commands).
    /// </summary>
    public static string Text(SiteWatchException e)
    {
        var text = e.Parameter is { } parameter ? $"field '{parameter}': {e.Message}" : e.Message;
        return e.Next is { } next ? $"{text} ({Remedy(next)})" : text;
    }

    private static string Remedy(NextStep next) => next.Kind switch
    {
        NextStepKind.AddScenes => "upload a scene: POST /api/sites/{id}/scenes",
        NextStepKind.DetectObjects => "start detection: POST /api/sites/{id}/detect",
        NextStepKind.DetectChangeSeries or NextStepKind.RedoChange => "start change detection: POST /api/sites/{id}/change",
        NextStepKind.StoreAlertRules => "store rules: PUT /api/sites/{id}/rules",
        NextStepKind.ListNotes => "see GET /api/sites/{id}/notes",
        NextStepKind.CreateWorkspace => "the server's workspace is missing; see its log",
        NextStepKind.GiveModel => "the server has no default detector; install one beside it",
        NextStepKind.GiveCrs => "give the site's field 'crs'",
        NextStepKind.AddSite => "create one: POST /api/sites",
        NextStepKind.CheckWorkspace => "an administrator can run 'sitewatch check' on the workspace",
        NextStepKind.GiveDate => "give the upload's query parameter 'date' (YYYY-MM-DD)",
        _ => next.Kind.ToString(),
    };

    /// <summary>The status of a user-facing failure that reached the request boundary.</summary>
    public static int StatusOf(SiteWatchException e, string workspaceRoot)
    {
        if (e is SiteInUseException)
        {
            return StatusCodes.Status409Conflict;
        }
        for (Exception? inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case TimeoutException:
                case var busy when SiteCatalog.IsTransient(busy):
                    // Another process holds the catalog or a workspace lock, or the database server restarts: worth retrying.
                    return StatusCodes.Status503ServiceUnavailable;
                case System.Data.Common.DbException or IOException or UnauthorizedAccessException:
                    return StatusCodes.Status500InternalServerError;
            }
        }
        // Core names the file a problem is about: a workspace file (catalog, store, staging; read-only workspace)
        // is the server's own trouble, anything else came from the request.
        return e.Message.StartsWith(workspaceRoot, StringComparison.Ordinal) ? StatusCodes.Status500InternalServerError : StatusCodes.Status400BadRequest;
    }

    /// <summary>
    /// The text without absolute filesystem paths: the workspace root becomes "workspace", any other absolute path
    /// its last component. Route paths the server names in its own hints (/api/..., /hubs/...) stay.
    /// </summary>
    public static string Redact(string text, string? workspaceRoot)
    {
        if (!string.IsNullOrEmpty(workspaceRoot))
        {
            text = text.Replace(workspaceRoot.TrimEnd('/') + "/", "workspace/", StringComparison.Ordinal)
                .Replace(workspaceRoot.TrimEnd('/'), "workspace", StringComparison.Ordinal);
        }
        return AbsolutePath().Replace(text, m =>
            m.Value.StartsWith("/api/", StringComparison.Ordinal) || m.Value.StartsWith("/hubs/", StringComparison.Ordinal) || m.Value.StartsWith("/vsi", StringComparison.Ordinal)
                ? m.Value
                : Path.GetFileName(m.Value.TrimEnd('/')) is { Length: > 0 } name ? name : "(path)");
    }

    // An absolute path of two or more components, not part of a URL (no word, dot, colon or slash before it).
    [GeneratedRegex(@"(?<![\w.:/~-])/[^\s/'"":,;()\[\]]+(?:/[^\s/'"":,;()\[\]]*)+")]
    private static partial Regex AbsolutePath();
}
