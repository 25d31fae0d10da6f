namespace SiteWatch.Core;

/// <summary>
/// A problem the user can act on (bad input, missing workspace, unknown site ...). The CLI prints its message as one
/// line and exits with status 1; it never carries a stack trace to the user.
/// </summary>
public class SiteWatchException : Exception
{
    public SiteWatchException(string message) : base(message) { }
    public SiteWatchException(string message, Exception inner) : base(message, inner) { }
}
