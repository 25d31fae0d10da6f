using System.Text;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Ingest;

namespace SiteWatch.Core.Reports;

/// <summary>The files a report run wrote, and what the reader should know about them.</summary>
public sealed record SiteReportResult(SiteReport Report, string HtmlPath, string PdfPath, int Pages, IReadOnlyList<string> Substitutions);

/// <summary>
/// `sitewatch report` (and the server's report download): gathers the report from the catalog, lays it out once, and
/// writes the HTML and the PDF into a temporary folder inside the output folder, moving them into place only when both
/// are complete; a failure leaves nothing behind. The report is built before the output folder is touched, so bad input
/// (unknown site, empty period) writes nothing at all.
/// </summary>
public static class SiteReportWorkflow
{
    public static SiteReportResult Write(Workspace workspace, string siteName, ReportOptions options, string outDirectory, DateTime nowUtc)
    {
        using var fonts = ReportFonts.Load(options.FontDirectory);
        var report = SiteReportBuilder.Build(workspace, siteName, options, fonts, nowUtc);
        var blocks = ReportDocument.Blocks(report);

        var directory = Path.GetFullPath(outDirectory);
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SiteWatchException($"{directory}: cannot create the report folder ({e.Message})", e);
        }
        var name = $"{SceneIngestor.Slug(report.Site.Name)}_{report.From:yyyyMMdd}_{report.To:yyyyMMdd}";
        var html = Path.Combine(directory, name + ".html");
        var pdf = Path.Combine(directory, name + ".pdf");
        var staging = Path.Combine(directory, $".sitewatch-report-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(staging);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SiteWatchException($"{directory}: cannot write the report there ({e.Message})", e);
        }
        try
        {
            var stagedPdf = Path.Combine(staging, "report.pdf");
            var pages = ReportPdfWriter.Write(report, blocks, stagedPdf, fonts);
            var stagedHtml = Path.Combine(staging, "report.html");
            File.WriteAllText(stagedHtml, ReportHtmlWriter.Render(report, blocks), new UTF8Encoding(false));
            File.Move(stagedPdf, pdf, overwrite: true);
            File.Move(stagedHtml, html, overwrite: true);
            return new SiteReportResult(report, html, pdf, pages, fonts.Substitutions);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }
}
