using SiteWatch.Core.Activity;
using SiteWatch.Core.Catalog;
using SkiaSharp;

namespace SiteWatch.Core.Reports;

public enum PaperSize
{
    A4,
    Letter,
}

/// <summary>What a site report covers and how it is laid out.</summary>
public sealed record ReportOptions
{
    /// <summary>First day of the period (inclusive); null: the site's first scene.</summary>
    public DateOnly? From { get; init; }
    /// <summary>Last day of the period (inclusive); null: the site's last scene.</summary>
    public DateOnly? To { get; init; }
    public PaperSize Paper { get; init; } = PaperSize.A4;
    /// <summary>At most this many change objects get a section of their own (largest first).</summary>
    public int MaxFindings { get; init; } = 12;
    /// <summary>Change objects smaller than this are left out of the findings (they still count in the change areas).</summary>
    public double MinFindingSquareMetres { get; init; } = 50;
    /// <summary>The fonts' folder (DejaVu); null: <see cref="ReportFonts.DefaultDirectory"/>.</summary>
    public string? FontDirectory { get; init; }
}

/// <summary>A scene the report uses, with the co-registration of the change run that compared it with the previous scene.</summary>
public sealed record ReportScene(Scene Scene, double Gsd, double? RmseMetres, double? RmsePixels, bool? Reliable, string? RegistrationNote);

/// <summary>One significant change object with its measured statement, its numbers and its before/after evidence.</summary>
public sealed record ReportFinding
{
    public required int Number { get; init; }
    /// <summary>The change object's kind (appeared, removed, altered).</summary>
    public required string Kind { get; init; }
    public required string Title { get; init; }
    /// <summary>The measured sentence (<see cref="MeasuredStatements"/>).</summary>
    public required string Statement { get; init; }
    public required DateOnly Before { get; init; }
    public required DateOnly After { get; init; }
    public required double AreaSquareMetres { get; init; }
    public required double Confidence { get; init; }
    public required double Lat { get; init; }
    public required double Lon { get; init; }
    /// <summary>Where the numbers come from: the change run and the object's id in it.</summary>
    public required string Evidence { get; init; }
    /// <summary>What the outlines in the chips are.</summary>
    public required string Legend { get; init; }
    /// <summary>Before and after, the same window, north up.</summary>
    public required IReadOnlyList<ReportImage> Chips { get; init; }
}

/// <summary>One line of a chart: a value per date (null where there is none).</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<double?> Values, SKColor Colour);

/// <summary>A time chart, drawn as vectors in the PDF and as a PNG in the HTML (<see cref="ReportCharts"/>).</summary>
public sealed record ReportChart(string Title, string Unit, IReadOnlyList<DateOnly> Dates, IReadOnlyList<ChartSeries> Series, bool ZeroLine)
{
    public ReportImage? Png { get; init; }
}

/// <summary>An alert raised in the period with its evidence and chip.</summary>
public sealed record ReportAlert(AlertRecord Alert, IReadOnlyList<(string Name, string Value)> Evidence, ReportImage? Chip);

/// <summary>One line of the timeline: imagery, a finding, an alert or a note (with its source).</summary>
public sealed record TimelineEntry(DateOnly Date, string What, string Text, string? Source, string? Url);

/// <summary>A change run the report's numbers come from.</summary>
public sealed record ReportRun(ChangeRunRecord Run, Scene Before, Scene After);

/// <summary>A detection model and the parameters it ran with.</summary>
public sealed record ReportModel(string Name, string Sha256, string Parameters, int Scenes);

/// <summary>Everything a site report says, gathered from the catalog by <see cref="SiteReportBuilder"/>; the HTML and PDF writers only lay it out.</summary>
public sealed record SiteReport
{
    public required Site Site { get; init; }
    public required DateOnly From { get; init; }
    public required DateOnly To { get; init; }
    public required DateTime GeneratedUtc { get; init; }
    public required string SoftwareVersion { get; init; }
    public required string? Commit { get; init; }
    public required string GdalVersion { get; init; }
    public required ReportOptions Options { get; init; }
    public required ReportImage Overview { get; init; }
    public required double AoiSquareMetres { get; init; }
    public required IReadOnlyList<ReportScene> Scenes { get; init; }
    public required IReadOnlyList<ReportFinding> Findings { get; init; }
    /// <summary>How many change objects the period's runs hold and how many of them are findings.</summary>
    public required int ChangeObjects { get; init; }
    /// <summary>"vehicle count rose from 2 on ... to 21 on ... (+19)", one per detected class.</summary>
    public required IReadOnlyList<string> CountStatements { get; init; }
    /// <summary>The activity timeline cut to the period (the index still uses the dates before it as baseline).</summary>
    public required IReadOnlyList<ActivityDate> Activity { get; init; }
    public required ActivityTimeline ActivityTimeline { get; init; }
    public required IReadOnlyList<ReportChart> Charts { get; init; }
    public required IReadOnlyList<ReportAlert> Alerts { get; init; }
    public required IReadOnlyList<TimelineEntry> Timeline { get; init; }
    public required IReadOnlyList<ReportRun> Runs { get; init; }
    public required IReadOnlyList<ReportModel> Models { get; init; }
    public StoredAlertRules? Rules { get; init; }
    /// <summary>What the reader should know about gaps: missing runs, missing chips.</summary>
    public required IReadOnlyList<string> Caveats { get; init; }

    public string Title => $"Site report: {Site.Name}";

    public string Period => $"{MeasuredStatements.Day(From)} to {MeasuredStatements.Day(To)}";
}
