using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using NetTopologySuite.Geometries;
using SiteWatch.Core;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Geo;
using SiteWatch.Core.Reports;
using SiteWatch.Core.Workflows;
using SiteWatch.Tests.Activity;
using SiteWatch.Tests.Change;
using SiteWatch.Tests.Cli;
using UglyToad.PdfPig;

namespace SiteWatch.Tests.Reports;

public partial class SiteReportTests
{
    private static readonly DateTime Now = new(2026, 12, 3, 12, 0, 0, DateTimeKind.Utc);

    /// <summary>
    /// Two scenes with a new roof and a removed tower, their change run, detections, a new-structure alert, a note citing
    /// a press report (with markup in it), and a note outlining an existing hall that new structures are measured against.
    /// </summary>
    private static (Workspace Workspace, Site Site, SiteNote Hall) Analysed(TempDir dir)
    {
        var (workspace, site) = SiteChangeTests.Ingested(dir);
        SiteChangeWorkflow.Run(workspace, "plant", "2024-03-14", "2024-10-15", new SiteChangeOptions());
        SiteDetectionWorkflow.Run(workspace, "plant", new SiteDetectionOptions { ModelPath = SiteDetectionTests.WriteTileCentreModel(dir.File("tile-centre.onnx")) });
        File.WriteAllText(dir.File("rules.json"), """{"rules": [{"name": "new structure", "kind": "new_structure", "min_area_m2": 300, "severity": "critical"}]}""");
        AlertWorkflow.StoreRules(workspace, "plant", dir.File("rules.json"));
        AlertWorkflow.Check(workspace, "plant", Now);
        workspace.Catalog.AddNote(site.Id, new DateOnly(2024, 6, 1), "Daily <b>Press</b> & Co", "https://example.org/plant?a=1&b=2",
            "Hall extension announced <script>alert(1)</script> \U0001D11E", null);
        // 40 m x 25 m in the grid's UTM zone, west of the new roof.
        var hallUtm = new GeometryFactory().ToGeometry(new Envelope(371_020, 371_060, 4_420_965, 4_420_990));
        var hall = workspace.Catalog.AddNote(site.Id, new DateOnly(2024, 3, 14), "analyst", null, "existing hall", GeometryProjection.Transform(hallUtm, 32652, 4326));
        return (workspace, site, hall);
    }

    [Fact]
    public void Pdf_and_html_state_the_catalogs_numbers_with_evidence_sources_and_provenance()
    {
        using var dir = new TempDir();
        var (workspace, site, hall) = Analysed(dir);
        using var _ = workspace;
        var outDir = dir.File("out");

        var result = SiteReportWorkflow.Write(workspace, "plant", new ReportOptions(), outDir, Now);

        Assert.Equal(new[] { result.HtmlPath, result.PdfPath }, Directory.GetFileSystemEntries(outDir).Order().ToArray());
        var run = Assert.Single(workspace.Catalog.ListChangeRuns(site.Id));
        using var summary = JsonDocument.Parse(run.Summary);
        // The catalog's largest structural change object (the new roof).
        var largest = summary.RootElement.GetProperty("largest").EnumerateArray()
            .First(o => o.GetProperty("kind").GetString() is "appeared" or "removed" or "altered" && !o.GetProperty("shadow").GetBoolean());
        var area = largest.GetProperty("area_m2").GetDouble();
        Assert.True(area > 300, $"the new roof is 600 m² (got {area})");
        var areaText = string.Create(CultureInfo.InvariantCulture, $"{area:N0} m²");
        var relation = MeasuredStatements.AreaRelation(area, Measurements.AreaSquareMetres(hall.Outline!), "existing hall");
        Assert.Contains(" % of existing hall", relation);
        var scenes = workspace.Catalog.ListScenes(site.Id);

        using (var pdf = PdfDocument.Open(result.PdfPath))
        {
            Assert.True(pdf.NumberOfPages > 1, $"{pdf.NumberOfPages} page(s)");
            Assert.Equal(result.Pages, pdf.NumberOfPages);
            var pages = pdf.GetPages().Select(p => Squash(p.Text)).ToList();
            for (var i = 0; i < pages.Count; i++)
            {
                Assert.Contains(Squash($"Page {i + 1} of {pages.Count}"), pages[i]);
            }
            var text = string.Concat(pages);
            Assert.Contains(Squash("Site report: plant"), text);
            Assert.Contains(Squash($"#1 New structure, {areaText}"), text);
            Assert.Contains(Squash(relation), text);
            Assert.Contains(Squash("structure removed between 2024-03-14 and 2024-10-15"), text);
            foreach (var scene in scenes)
            {
                Assert.Contains(scene.SourceSha256, text);
                Assert.Contains(scene.FileSha256!, text);
            }
            Assert.Contains(Squash("Daily <b>Press</b> & Co"), text);
            Assert.Contains(Squash("Hall extension announced"), text);
            // A character DejaVu lacks is named on the last page, never dropped silently.
            Assert.Contains(result.Substitutions, x => x.StartsWith("U+1D11E", StringComparison.Ordinal));
            Assert.Contains(Squash("Glyph substitutions"), pages[^1]);
            Assert.Contains("U+1D11E", pages[^1]);
            Assert.Contains(Squash("[critical] new structure"), text);
            Assert.Contains(Squash("vehicle count"), text);
            Assert.Contains("tile-centre", text);
            Assert.Contains(workspace.Catalog.ListDetectionRuns(site.Id)[0].ModelSha256, text);
            Assert.Contains(run.ParametersSha256, text);
            if (SiteReportBuilder.Version().Commit is { } commit)
            {
                Assert.Contains(commit, text);
            }
        }

        var html = File.ReadAllText(result.HtmlPath);
        Assert.Contains($"#1 New structure, {areaText}", html);
        Assert.Contains(relation, html);
        foreach (var scene in scenes)
        {
            Assert.Contains(scene.SourceSha256, html);
            Assert.Contains(scene.FileSha256!, html);
        }
        // Self-contained: every picture inline; the overview, two chips, the alert's chip and the charts at least.
        var images = ImgSources().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.True(images.Count >= 5, $"{images.Count} images");
        Assert.All(images, src => Assert.StartsWith("data:image/png;base64,", src));
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Hall extension announced &lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.Contains("Daily &lt;b&gt;Press&lt;/b&gt; &amp; Co", html);
        Assert.Contains("href=\"https://example.org/plant?a=1&amp;b=2\"", html);
    }

    [Fact]
    public void Letter_paper_and_a_period_that_leaves_out_a_scene()
    {
        using var dir = new TempDir();
        var (workspace, _, _) = Analysed(dir);
        using var __ = workspace;
        var result = SiteReportWorkflow.Write(workspace, "plant", new ReportOptions { From = new DateOnly(2024, 10, 1), Paper = PaperSize.Letter }, dir.File("out"), Now);
        using var pdf = PdfDocument.Open(result.PdfPath);
        var page = pdf.GetPage(1);
        Assert.Equal((612, 792), ((int)Math.Round(page.Width), (int)Math.Round(page.Height)));
        Assert.Single(result.Report.Scenes);
        Assert.Empty(result.Report.Findings);
        Assert.Contains(result.Report.Caveats, c => c.Contains("one scene", StringComparison.Ordinal));
        Assert.EndsWith("plant_20241001_20241015.pdf", result.PdfPath);
    }

    [Fact]
    public void Bad_site_or_empty_period_is_a_clear_error_and_writes_nothing()
    {
        using var dir = new TempDir();
        var (workspace, _) = SiteChangeTests.Ingested(dir);
        using var _ = workspace;
        var outDir = dir.File("out");
        var unknown = Assert.Throws<SiteWatchException>(() => SiteReportWorkflow.Write(workspace, "nowhere", new ReportOptions(), outDir, Now));
        Assert.Contains("nowhere", unknown.Message);
        var empty = Assert.Throws<SiteWatchException>(() => SiteReportWorkflow.Write(workspace, "plant",
            new ReportOptions { From = new DateOnly(2025, 1, 1), To = new DateOnly(2025, 2, 1) }, outDir, Now));
        Assert.Contains("no scenes between 2025-01-01 and 2025-02-01", empty.Message);
        Assert.Contains("2024-03-14, 2024-10-15", empty.Message);
        var reversed = Assert.Throws<SiteWatchException>(() => SiteReportWorkflow.Write(workspace, "plant",
            new ReportOptions { From = new DateOnly(2024, 10, 1), To = new DateOnly(2024, 3, 1) }, outDir, Now));
        Assert.Equal("from", reversed.Parameter);
        Assert.Contains("2024-10-01 is after the period's end (2024-03-01)", reversed.Message);
        Assert.False(Directory.Exists(outDir));

        // A folder that cannot be made (a file is in the way): a clear error.
        File.WriteAllText(dir.File("file"), "");
        var blocked = Assert.Throws<SiteWatchException>(() => SiteReportWorkflow.Write(workspace, "plant", new ReportOptions(), Path.Combine(dir.File("file"), "sub"), Now));
        Assert.Contains("cannot create the report folder", blocked.Message);

        // A folder the user cannot write: a clear error, nothing left behind.
        Directory.CreateDirectory(outDir);
        File.SetUnixFileMode(outDir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        if (Environment.UserName != "root")
        {
            var denied = Assert.Throws<SiteWatchException>(() => SiteReportWorkflow.Write(workspace, "plant", new ReportOptions(), outDir, Now));
            Assert.Contains("cannot write the report", denied.Message);
            Assert.Empty(Directory.GetFileSystemEntries(outDir));
        }
    }

    [Fact]
    public void A_glyph_no_font_has_is_drawn_as_a_replacement_and_named()
    {
        using var fonts = ReportFonts.Load();
        var runs = fonts.Runs("hall \U0001D11E", fonts.Regular);
        var substitution = Assert.Single(fonts.Substitutions);
        Assert.Contains("U+1D11E", substitution);
        Assert.True(runs.Sum(r => r.Text.Length) >= "hall ".Length + 1);
    }

    [Fact]
    public void Cli_note_add_list_and_report()
    {
        using var dir = new TempDir();
        var (workspace, _) = SiteChangeTests.Ingested(dir);
        var ws = workspace.Root;
        workspace.Dispose();

        var added = CliTests.Run(ws, "note", "add", "--site", "plant", "--date", "2024-05-02", "--source", "Trade record", "--url", "https://example.org/t", "Steel", "delivered");
        Assert.True(added.Code == 0, added.Err);
        var badUrl = CliTests.Run(ws, "note", "add", "--site", "plant", "--date", "2024-05-02", "--source", "x", "--url", "javascript:alert(1)", "text");
        Assert.Equal(1, badUrl.Code);
        Assert.Contains("is not an absolute http or https URL", badUrl.Err);
        var badDate = CliTests.Run(ws, "note", "add", "--site", "plant", "--date", "May 2", "--source", "x", "text");
        Assert.Equal(2, badDate.Code);
        Assert.Contains("--date 'May 2' is not a date", badDate.Err);
        var list = CliTests.Run(ws, "note", "list", "--site", "plant", "--json");
        Assert.True(list.Code == 0, list.Err);
        using (var notes = JsonDocument.Parse(list.Out))
        {
            var note = Assert.Single(notes.RootElement.EnumerateArray());
            Assert.Equal("Steel delivered", note.GetProperty("text").GetString());
            Assert.Equal("Trade record", note.GetProperty("source").GetString());
        }

        var outDir = Path.Combine(dir.Path, "reports");
        var report = CliTests.Run(ws, "report", "--site", "plant", "--out", outDir, "--json");
        Assert.True(report.Code == 0, report.Err);
        using (var json = JsonDocument.Parse(report.Out))
        {
            Assert.True(File.Exists(json.RootElement.GetProperty("pdf").GetString()));
            Assert.True(File.Exists(json.RootElement.GetProperty("html").GetString()));
        }
        // No change run yet: the report says what to run.
        Assert.Contains("run change detection on the series of site plant", report.Err);
        var html = File.ReadAllText(Directory.GetFiles(outDir, "*.html").Single());
        Assert.Contains("Steel delivered", html);
        Assert.Contains("Trade record", html);

        var missing = CliTests.Run(ws, "report", "--site", "nowhere", "--out", Path.Combine(dir.Path, "none"));
        Assert.Equal(1, missing.Code);
        Assert.Contains("nowhere", missing.Err);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "none")));
        var paper = CliTests.Run(ws, "report", "--site", "plant", "--paper", "a5");
        Assert.Equal(2, paper.Code);
        Assert.Contains("--paper 'a5' is not a4 or letter", paper.Err);
    }

    private static string Squash(string text) => WhiteSpace().Replace(text, "");

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();

    [GeneratedRegex("<img src=\"([^\"]*)\"")]
    private static partial Regex ImgSources();
}
