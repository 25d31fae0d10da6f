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

/// <summary>
/// The request conflicts with work in progress on the same thing (a site with a live recording cannot be deleted):
/// it may succeed once that work ends. The server answers 409.
/// </summary>
public class SiteInUseException(string message) : SiteWatchException(message);
