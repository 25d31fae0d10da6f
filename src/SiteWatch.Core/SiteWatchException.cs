namespace SiteWatch.Core;

/// <summary>
/// A problem the user can act on (bad input, missing workspace, unknown site ...). The CLI prints its message as one
/// line and exits with status 1; the server answers it as a 4xx problem; it never carries a stack trace to the user.
/// The engine's text names no host's syntax: the input it is about travels as <see cref="Parameter"/> and the
/// remedy as <see cref="Next"/>, and each host words them its own way (--crs and 'sitewatch detect' on the command
/// line, field 'crs' and the route on the server).
/// </summary>
public class SiteWatchException : Exception
{
    public SiteWatchException(string message) : base(message) { }
    public SiteWatchException(string message, Exception inner) : base(message, inner) { }

    /// <summary>
    /// The input the problem is about, by its neutral name ("crs", "before", "from", "what" ...); the message then
    /// reads after it (it starts with the value given or with what is wrong with it). Null when no one input is at fault.
    /// </summary>
    public string? Parameter { get; init; }

    /// <summary>What the user can do about it, when the engine knows; hosts add it in their own words.</summary>
    public NextStep? Next { get; init; }

    /// <summary>A problem with one input: <paramref name="message"/> reads after the input's name.</summary>
    public static SiteWatchException About(string parameter, string message, Exception? inner = null) =>
        inner is null ? new(message) { Parameter = parameter } : new(message, inner) { Parameter = parameter };
}

/// <summary>The remedies the engine suggests, for hosts to word as commands or routes.</summary>
public enum NextStepKind
{
    /// <summary>Add imagery to the site.</summary>
    AddScenes,
    /// <summary>Run object detection on the site's scenes (with the model the message names, if any).</summary>
    DetectObjects,
    /// <summary>Run change detection on every consecutive pair of the site's scenes.</summary>
    DetectChangeSeries,
    /// <summary>Run change detection on that pair again, replacing its stored outputs.</summary>
    RedoChange,
    /// <summary>Store alert rules for the site.</summary>
    StoreAlertRules,
    /// <summary>Create a workspace, or point at an existing one.</summary>
    CreateWorkspace,
    /// <summary>List the site's notes (to find an id).</summary>
    ListNotes,
    /// <summary>Give a detector model file, the default one being missing.</summary>
    GiveModel,
    /// <summary>Give the site's grid CRS explicitly (the default UTM zone does not apply).</summary>
    GiveCrs,
    /// <summary>Add a site to the workspace.</summary>
    AddSite,
    /// <summary>Check the workspace: catalog integrity, stored files against their hashes, orphans.</summary>
    CheckWorkspace,
    /// <summary>Give the scene's acquisition date, its metadata having none.</summary>
    GiveDate,
}

/// <summary>A suggested remedy and the site (or workspace) it applies to.</summary>
public sealed record NextStep(NextStepKind Kind, string? Target = null);

/// <summary>
/// The problem is with work in progress on the same thing (a site with a live recording cannot be deleted): it may
/// succeed once that work ends. The server answers 409.
/// </summary>
public class SiteInUseException(string message) : SiteWatchException(message);
