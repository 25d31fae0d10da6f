using System.Globalization;
using System.Data.Common;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Geo;

namespace SiteWatch.Core.Catalog;

/// <summary>
/// An analyst's dated note on a site, with where it comes from (the analyst, a press report, a trade record ...) and a
/// link when there is one. With an outline it also marks something on the map (the existing hall an analyst outlined),
/// which the site report measures new structures against.
/// </summary>
public sealed record SiteNote
{
    public required long Id { get; init; }
    public required long SiteId { get; init; }
    public required DateOnly Date { get; init; }
    public required string Source { get; init; }
    public string? Url { get; init; }
    public required string Text { get; init; }
    /// <summary>The outlined place, WGS84; null for a note without one.</summary>
    public Geometry? Outline { get; init; }
    public required DateTime CreatedUtc { get; init; }
}

public sealed partial class SiteCatalog
{
    private const int MaxNoteText = 4000, MaxNoteSource = 300, MaxNoteUrl = 2000;

    private void CreateNotesTable(DbTransaction tx) => Execute("""
        CREATE TABLE IF NOT EXISTS site_notes (
            id INTEGER PRIMARY KEY,
            site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
            note_date TEXT NOT NULL,
            source TEXT NOT NULL,
            url TEXT,
            text TEXT NOT NULL,
            geometry_geojson TEXT,
            created_utc TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS site_notes_by_site_date ON site_notes(site_id, note_date);
        """, tx);

    /// <summary>Stores a note after checking it; every problem is named (empty text, a URL that is not http(s), an outline that is not a polygon).</summary>
    public SiteNote AddNote(long siteId, DateOnly date, string source, string? url, string text, Geometry? outlineWgs84)
    {
        source = (source ?? "").Trim();
        text = (text ?? "").Trim();
        url = string.IsNullOrWhiteSpace(url) ? null : url.Trim();
        var problems = new List<(string Parameter, string Text)>();
        if (text.Length == 0 || text.Length > MaxNoteText)
        {
            problems.Add(("text", $"the note's text must be 1 to {MaxNoteText} characters (got {text.Length})"));
        }
        if (source.Length == 0 || source.Length > MaxNoteSource || source.Any(char.IsControl))
        {
            problems.Add(("source", $"the note's source must be 1 to {MaxNoteSource} printable characters on one line (who or what the note cites)"));
        }
        if (text.Any(c => char.IsControl(c) && c is not ('\n' or '\t')))
        {
            problems.Add(("text", "the note's text holds control characters"));
        }
        if (url is not null && (url.Length > MaxNoteUrl || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            // Only http(s): a report links it, and a javascript: or file: link in a report is a hazard to its reader.
            problems.Add(("url", $"the note's url '{url}' is not an absolute http or https URL"));
        }
        if (outlineWgs84 is not null && outlineWgs84 is not (Polygon or MultiPolygon))
        {
            problems.Add(("outline", $"the note's outline must be a Polygon or MultiPolygon (got {outlineWgs84.GeometryType})"));
        }
        if (problems.Count > 0)
        {
            // The message names each input in words; the parameter is set when one input alone is at fault.
            var parameters = problems.Select(p => p.Parameter).Distinct().ToList();
            var message = string.Join("; ", problems.Select(p => p.Text)) + "; nothing was stored";
            throw parameters.Count == 1 ? SiteWatchException.About(parameters[0], message) : new SiteWatchException(message);
        }
        using var command = Command("""
            INSERT INTO site_notes (site_id, note_date, source, url, text, geometry_geojson, created_utc)
            VALUES (@site, @date, @source, @url, @text, @geometry, @created) RETURNING id
            """);
        command.Bind("site", siteId);
        command.Bind("date", date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        command.Bind("source", source);
        command.Bind("url", url);
        command.Bind("text", text);
        command.Bind("geometry", outlineWgs84 is null ? DBNull.Value : GeoJsonText.Write(outlineWgs84));
        command.Bind("created", Iso(DateTime.UtcNow));
        var id = Convert.ToInt64(Run(command.ExecuteScalar), CultureInfo.InvariantCulture);
        return ListNotes(siteId).Single(n => n.Id == id);
    }

    /// <summary>A site's notes in date order (then in the order they were added).</summary>
    public IReadOnlyList<SiteNote> ListNotes(long siteId)
    {
        using var command = Command("SELECT * FROM site_notes WHERE site_id = @site ORDER BY note_date, id");
        command.Bind("site", siteId);
        return ReadAll(command, ReadNote);
    }

    /// <summary>Deletes one of the site's notes; a clear error when the site has no note with that id.</summary>
    public void DeleteNote(Site site, long id)
    {
        using var command = Command("DELETE FROM site_notes WHERE site_id = @site AND id = @id");
        command.Bind("site", site.Id);
        command.Bind("id", id);
        if (Run(command.ExecuteNonQuery) == 0)
        {
            throw new SiteWatchException($"site {site.Name} has no note with id {id}; nothing was deleted") { Next = new NextStep(NextStepKind.ListNotes, site.Name) };
        }
    }

    private static SiteNote ReadNote(DbDataReader r) => new()
    {
        Id = r.ReadInt64(r.GetOrdinal("id")),
        SiteId = r.ReadInt64(r.GetOrdinal("site_id")),
        Date = DateOnly.ParseExact(r.GetString(r.GetOrdinal("note_date")), "yyyy-MM-dd", CultureInfo.InvariantCulture),
        Source = r.GetString(r.GetOrdinal("source")),
        Url = r.IsDBNull(r.GetOrdinal("url")) ? null : r.GetString(r.GetOrdinal("url")),
        Text = r.GetString(r.GetOrdinal("text")),
        Outline = r.IsDBNull(r.GetOrdinal("geometry_geojson")) ? null : AoiReader.Parse(r.GetString(r.GetOrdinal("geometry_geojson")), "note outline"),
        CreatedUtc = ParseIso(r.GetString(r.GetOrdinal("created_utc"))),
    };
}
