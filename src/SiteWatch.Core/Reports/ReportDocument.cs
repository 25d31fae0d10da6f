using System.Globalization;
using SiteWatch.Core.Activity;

namespace SiteWatch.Core.Reports;

public enum TextStyle
{
    Normal,
    Strong,
    Small,
    Mono,
}

/// <summary>One block of the report's text flow; the HTML and the PDF writer lay out the same blocks.</summary>
public abstract record ReportBlock;

public sealed record HeadingBlock(int Level, string Text) : ReportBlock;

public sealed record ParagraphBlock(string Text, TextStyle Style = TextStyle.Normal, string? Url = null) : ReportBlock;

public sealed record ReportCell(string Text, TextStyle Style = TextStyle.Normal, string? Url = null)
{
    public static implicit operator ReportCell(string text) => new(text);
}

/// <summary>A table; <see cref="Widths"/> are relative column widths.</summary>
public sealed record TableBlock(IReadOnlyList<string> Headers, IReadOnlyList<float> Widths, IReadOnlyList<IReadOnlyList<ReportCell>> Rows) : ReportBlock;

/// <summary>Pictures side by side at equal width, with a caption under them.</summary>
public sealed record ImagesBlock(IReadOnlyList<ReportImage> Images, string? Caption) : ReportBlock;

public sealed record ChartBlock(ReportChart Chart) : ReportBlock;

/// <summary>A new page in the PDF (ignored in the HTML).</summary>
public sealed record PageBreakBlock : ReportBlock;

/// <summary>What the report says, in reading order: built once from a <see cref="SiteReport"/>, written as HTML and as PDF.</summary>
public static class ReportDocument
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static IReadOnlyList<ReportBlock> Blocks(SiteReport r)
    {
        var b = new List<ReportBlock>();
        var site = r.Site;
        var centroid = site.Aoi.Centroid;
        b.Add(new HeadingBlock(1, r.Title));
        b.Add(new ParagraphBlock($"Period {r.Period}. Generated {r.GeneratedUtc:yyyy-MM-dd HH:mm} UTC by SiteWatch {r.SoftwareVersion}" + (r.Commit is null ? "" : $" (commit {Short(r.Commit)})") + ".", TextStyle.Small));
        b.Add(new ParagraphBlock(string.Create(Inv,
            $"Area of interest: {r.AoiSquareMetres / 1e6:0.###} km² centred at {MeasuredStatements.LatLon(centroid.Y, centroid.X)}; analysis grid EPSG:{site.CrsEpsg} at {r.Scenes[0].Gsd:0.##} m. ")
            + string.Create(Inv, $"{r.Scenes.Count} scene(s), {r.Runs.Count} change run(s) with {r.ChangeObjects} change object(s), {r.Findings.Count} significant change(s) shown, {r.Alerts.Count} alert(s), {r.Timeline.Count(t => t.What == "note")} note(s).")));
        if (r.Findings.Count > 0 || r.CountStatements.Count > 0)
        {
            b.Add(new HeadingBlock(2, "Key findings"));
            b.AddRange(r.Findings.Take(5).Select(f => new ParagraphBlock($"• #{f.Number}: {f.Statement}")));
            b.AddRange(r.CountStatements.Select(s => new ParagraphBlock($"• {s}")));
        }
        b.Add(new HeadingBlock(2, "Overview"));
        b.Add(new ImagesBlock([r.Overview], "Latest scene of the period with the area of interest (dashed yellow) and the significant changes (red, numbered as below). North arrow: true north. " + r.Overview.AltText));

        b.Add(new HeadingBlock(2, "Scenes used"));
        b.Add(new TableBlock(["Scene", "Acquired (UTC)", "Sensor", "GSD m", "Cloud %", "Valid %", "Co-registration RMSE"], [0.7f, 1.5f, 1.6f, 0.8f, 0.8f, 0.8f, 2.6f],
            r.Scenes.Select(s => (IReadOnlyList<ReportCell>)
            [
                s.Scene.Id.ToString(Inv),
                s.Scene.AcquiredUtc.ToString("yyyy-MM-dd HH:mm", Inv),
                s.Scene.Sensor,
                s.Gsd.ToString("0.##", Inv),
                s.Scene.CloudCoverPercent?.ToString("0.#", Inv) ?? "-",
                (100 * s.Scene.ValidFraction).ToString("0.#", Inv),
                Registration(s),
            ]).ToList()));

        b.Add(new PageBreakBlock());
        b.Add(new HeadingBlock(2, "Significant changes"));
        if (r.Findings.Count == 0)
        {
            b.Add(new ParagraphBlock(r.Runs.Count == 0
                ? "No change run compares the period's scenes, so no change is reported."
                : string.Create(Inv, $"No structural change object of at least {r.Options.MinFindingSquareMetres:N0} m² in the period's change runs.")));
        }
        else
        {
            b.Add(new ParagraphBlock(string.Create(Inv,
                $"The {r.Findings.Count} largest structural change objects of the period (vegetation and cast shadows left out, at least {r.Options.MinFindingSquareMetres:N0} m²), largest first. Areas are measured on the analysis grid from the change mask's pixel outlines."), TextStyle.Small));
        }
        foreach (var f in r.Findings)
        {
            b.Add(new HeadingBlock(3, f.Title));
            b.Add(new ParagraphBlock(f.Statement, TextStyle.Strong));
            b.Add(new ParagraphBlock(string.Create(Inv,
                $"Kind: {f.Kind}. Area: {f.AreaSquareMetres:N0} m². Confidence: {f.Confidence:0.00}.")));
            b.Add(new ImagesBlock(f.Chips, $"{f.Legend}. " + string.Join(" | ", f.Chips.Select(c => c.AltText))));
            b.Add(new ParagraphBlock($"Evidence: {f.Evidence}", TextStyle.Small));
        }

        b.Add(new HeadingBlock(2, "Activity"));
        if (r.ActivityTimeline.ModelName is { } model)
        {
            b.Add(new ParagraphBlock($"Objects detected per scene with model {model}; the activity index is the mean z-score of this date's counts and change areas against the previous {r.ActivityTimeline.Baseline} dates.", TextStyle.Small));
        }
        b.AddRange(r.CountStatements.Select(s => new ParagraphBlock($"• {s}")));
        b.AddRange(r.Charts.Select(c => new ChartBlock(c)));
        if (r.Activity.Count > 0)
        {
            var classes = r.ActivityTimeline.Classes;
            var headers = new List<string> { "Date" };
            headers.AddRange(classes);
            headers.AddRange(["Change m²", "Appeared m²", "Index"]);
            var widths = Enumerable.Repeat(1f, headers.Count).ToArray();
            widths[0] = 1.4f;
            b.Add(new TableBlock(headers, widths, r.Activity.Select(d =>
            {
                var cells = new List<ReportCell> { ActivityTimeline.Label(d.Date) };
                cells.AddRange(classes.Select(c => new ReportCell(d.Counts is { } k ? k[c].ToString(Inv) : "-")));
                cells.Add(d.ChangeAreaSquareMetres?.ToString("N0", Inv) ?? "-");
                cells.Add(d.AppearedAreaSquareMetres?.ToString("N0", Inv) ?? "-");
                cells.Add(d.Index?.ToString("+0.00;-0.00", Inv) ?? "-");
                return (IReadOnlyList<ReportCell>)cells;
            }).ToList()));
        }

        b.Add(new HeadingBlock(2, "Alerts"));
        if (r.Alerts.Count == 0)
        {
            b.Add(new ParagraphBlock(r.Rules is null ? "No alert rules are stored for this site." : "No alert was raised in the period."));
        }
        foreach (var a in r.Alerts)
        {
            b.Add(new HeadingBlock(3, $"Alert {a.Alert.Id}: [{a.Alert.Severity}] {a.Alert.RuleName}"));
            b.Add(new ParagraphBlock($"{a.Alert.Message}. Observed {a.Alert.ObservedUtc:yyyy-MM-dd HH:mm} UTC ({a.Alert.Source}), raised {a.Alert.RaisedUtc:yyyy-MM-dd HH:mm} UTC{(a.Alert.Acknowledged ? ", acknowledged" : "")}."));
            b.Add(new TableBlock(["Evidence", "Value"], [1f, 4f], a.Evidence.Select(e => (IReadOnlyList<ReportCell>)[e.Name, new ReportCell(e.Value, TextStyle.Small)]).ToList()));
            if (a.Chip is { } chip)
            {
                b.Add(new ImagesBlock([chip], chip.AltText));
            }
        }

        b.Add(new HeadingBlock(2, "Timeline"));
        b.Add(new ParagraphBlock("Imagery, findings, alerts and the analyst's notes with their sources, in date order.", TextStyle.Small));
        b.Add(new TableBlock(["Date", "What", "Text", "Source"], [1.1f, 0.8f, 4.2f, 1.9f], r.Timeline.Select(t => (IReadOnlyList<ReportCell>)
        [
            MeasuredStatements.Day(t.Date),
            t.What,
            t.Text,
            new ReportCell(t.Url is null ? t.Source ?? "" : $"{t.Source} ({t.Url})", TextStyle.Small, t.Url),
        ]).ToList()));

        b.Add(new PageBreakBlock());
        b.Add(new HeadingBlock(2, "Methods and provenance"));
        b.Add(new ParagraphBlock(
            "Scenes are clipped to the area of interest and resampled onto the site's grid, stored as Cloud Optimized GeoTIFFs with the SHA-256 of their source and stored file. "
            + "Each pair of consecutive scenes is co-registered (phase correlation on tie points; the shift is applied only when the fit is reliable), radiometrically normalised where the method needs it, "
            + "and compared by the change method named below with an automatic threshold; the change mask is vectorised into objects measured on the grid and classed as appeared, removed, altered or vegetation "
            + "from how much they stand out from their surroundings on each date, with shadows flagged. Objects are counted by the detection model named below; the activity index is the mean z-score of the counts and change areas against a trailing baseline. "
            + "Every number in this report is read from the workspace catalog and the run folders listed here; re-running the same command on the same inputs and parameters reproduces it."));
        b.Add(new TableBlock(["Software", "Value"], [1f, 4f],
        [
            ["SiteWatch version", r.SoftwareVersion],
            ["Git commit", new ReportCell(r.Commit ?? "unknown (built outside git)", TextStyle.Mono)],
            ["GDAL", r.GdalVersion],
            [".NET", Environment.Version.ToString()],
            ["Generated", r.GeneratedUtc.ToString("yyyy-MM-dd HH:mm:ss", Inv) + " UTC"],
            ["Report parameters", string.Create(Inv, $"period {r.Period}; at most {r.Options.MaxFindings} findings of at least {r.Options.MinFindingSquareMetres:N0} m²; paper {r.Options.Paper}")],
        ]));
        b.Add(new HeadingBlock(3, "Change runs"));
        if (r.Runs.Count == 0)
        {
            b.Add(new ParagraphBlock("None."));
        }
        foreach (var run in r.Runs)
        {
            b.Add(new ParagraphBlock(string.Create(Inv,
                $"Run {run.Run.Id}: scene {run.Before.Id} ({run.Before.AcquiredUtc:yyyy-MM-dd}) to scene {run.After.Id} ({run.After.AcquiredUtc:yyyy-MM-dd}), method {run.Run.Method}, folder {run.Run.Directory}"), TextStyle.Strong));
            b.Add(new ParagraphBlock($"parameters {run.Run.Parameters}", TextStyle.Mono));
            b.Add(new ParagraphBlock($"parameters SHA-256 {run.Run.ParametersSha256}", TextStyle.Mono));
        }
        b.Add(new HeadingBlock(3, "Detection models"));
        if (r.Models.Count == 0)
        {
            b.Add(new ParagraphBlock("No object detection ran on the period's scenes."));
        }
        foreach (var m in r.Models)
        {
            b.Add(new ParagraphBlock(string.Create(Inv, $"{m.Name}, on {m.Scenes} scene(s)"), TextStyle.Strong));
            b.Add(new ParagraphBlock($"model SHA-256 {m.Sha256}", TextStyle.Mono));
            b.Add(new ParagraphBlock($"parameters {m.Parameters}", TextStyle.Mono));
        }
        b.Add(new HeadingBlock(3, "Input scenes"));
        foreach (var s in r.Scenes.Select(x => x.Scene))
        {
            b.Add(new ParagraphBlock(string.Create(Inv, $"Scene {s.Id}: {s.AcquiredUtc:yyyy-MM-dd HH:mm} UTC ({s.AcquiredFrom}), {s.Sensor}, source {Path.GetFileName(s.SourcePath)}, stored {s.File}"), TextStyle.Strong));
            b.Add(new ParagraphBlock($"source SHA-256 {s.SourceSha256}", TextStyle.Mono));
            b.Add(new ParagraphBlock($"stored SHA-256 {s.FileSha256 ?? "not recorded (scene stored before schema 5)"}", TextStyle.Mono));
            if (s.CloudMaskSha256 is { } mask)
            {
                b.Add(new ParagraphBlock($"cloud mask SHA-256 {mask}", TextStyle.Mono));
            }
        }
        if (r.Rules is { } rules)
        {
            b.Add(new HeadingBlock(3, "Alert rules"));
            b.Add(new ParagraphBlock($"Stored {rules.StoredUtc:yyyy-MM-dd HH:mm} UTC from {Path.GetFileName(rules.SourcePath)}:", TextStyle.Small));
            b.Add(new ParagraphBlock(Alerts.SecretMask.Text(rules.Json), TextStyle.Mono));
        }
        if (r.Caveats.Count > 0)
        {
            b.Add(new HeadingBlock(2, "Caveats"));
            b.AddRange(r.Caveats.Select(c => new ParagraphBlock($"• {c}")));
        }
        return b;
    }

    private static string Registration(ReportScene s) => s.RmseMetres is { } m
        ? string.Create(Inv, $"{m:0.##} m ({s.RmsePixels:0.##} px), {(s.Reliable == true ? "applied" : "not applied: unreliable")}")
        : s.RegistrationNote ?? "-";

    private static string Short(string commit) => commit.Length > 12 ? commit[..12] : commit;
}
