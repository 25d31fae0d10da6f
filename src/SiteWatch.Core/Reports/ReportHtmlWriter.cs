using System.Globalization;
using System.Text;

namespace SiteWatch.Core.Reports;

/// <summary>
/// The report's blocks as one self-contained HTML file: pictures as data: URIs, styles inline, no script and nothing
/// fetched from elsewhere. Every text (site and note names included) is HTML-encoded; links are the notes' http(s) URLs only.
/// </summary>
public static class ReportHtmlWriter
{
    public static string Render(SiteReport report, IReadOnlyList<ReportBlock> blocks)
    {
        var html = new StringBuilder();
        var paper = report.Options.Paper == PaperSize.Letter ? "letter" : "A4";
        html.Append(CultureInfo.InvariantCulture, $"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="SiteWatch {E(report.SoftwareVersion)}">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
            <title>{E(report.Title)}</title>
            <style>
            @page {"{"} size: {paper}; margin: 16mm; {"}"}
            body {"{"} font-family: "DejaVu Sans", Verdana, sans-serif; font-size: 14px; line-height: 1.45; color: #141414; max-width: 980px; margin: 2em auto; padding: 0 1em; {"}"}
            h1 {"{"} color: #0a285a; border-bottom: 2px solid #14325f; padding-bottom: .2em; {"}"}
            h2 {"{"} color: #14325f; border-bottom: 1px solid #14325f; margin-top: 1.6em; {"}"}
            h3 {"{"} color: #14325f; margin-bottom: .3em; {"}"}
            .strong {"{"} font-weight: bold; {"}"}
            .small {"{"} font-size: 12px; color: #464646; {"}"}
            .mono {"{"} font-family: "DejaVu Sans Mono", monospace; font-size: 12px; overflow-wrap: anywhere; {"}"}
            p {"{"} margin: .35em 0; {"}"}
            table {"{"} border-collapse: collapse; width: 100%; font-size: 12.5px; margin: .5em 0 1em; {"}"}
            th {"{"} background: #e8edf5; text-align: left; {"}"}
            th, td {"{"} border-bottom: 1px solid #cdcdcd; padding: 3px 5px; vertical-align: top; overflow-wrap: anywhere; {"}"}
            figure {"{"} margin: .6em 0 1em; {"}"}
            figure .pics {"{"} display: flex; gap: 8px; justify-content: center; flex-wrap: wrap; {"}"}
            figure img {"{"} max-width: 100%; height: auto; {"}"}
            figcaption {"{"} font-size: 11.5px; color: #505050; {"}"}
            section.finding, section.alert {"{"} break-inside: avoid; {"}"}
            footer {"{"} margin-top: 3em; font-size: 11px; color: #6e6e6e; {"}"}
            </style>
            </head>
            <body>

            """);
        foreach (var block in blocks)
        {
            switch (block)
            {
                case HeadingBlock h:
                    var level = Math.Clamp(h.Level, 1, 4);
                    html.Append(CultureInfo.InvariantCulture, $"<h{level}>{E(h.Text)}</h{level}>\n");
                    break;
                case ParagraphBlock p:
                    html.Append(CultureInfo.InvariantCulture, $"<p{Class(p.Style)}>{Linked(p.Text, p.Url)}</p>\n");
                    break;
                case TableBlock t:
                    html.Append("<table>\n<thead><tr>");
                    foreach (var header in t.Headers)
                    {
                        html.Append(CultureInfo.InvariantCulture, $"<th>{E(header)}</th>");
                    }
                    html.Append("</tr></thead>\n<tbody>\n");
                    foreach (var row in t.Rows)
                    {
                        html.Append("<tr>");
                        foreach (var cell in row)
                        {
                            html.Append(CultureInfo.InvariantCulture, $"<td{Class(cell.Style)}>{Linked(cell.Text, cell.Url)}</td>");
                        }
                        html.Append("</tr>\n");
                    }
                    html.Append("</tbody>\n</table>\n");
                    break;
                case ImagesBlock i:
                    html.Append("<figure><div class=\"pics\">");
                    foreach (var image in i.Images)
                    {
                        html.Append(CultureInfo.InvariantCulture, $"<img src=\"{DataUri(image)}\" width=\"{image.Width}\" height=\"{image.Height}\" alt=\"{E(image.AltText)}\">");
                    }
                    html.Append("</div>");
                    if (i.Caption is { } caption)
                    {
                        html.Append(CultureInfo.InvariantCulture, $"<figcaption>{E(caption)}</figcaption>");
                    }
                    html.Append("</figure>\n");
                    break;
                case ChartBlock c when c.Chart.Png is { } png:
                    html.Append(CultureInfo.InvariantCulture, $"<figure><img src=\"{DataUri(png)}\" width=\"{png.Width / 2}\" height=\"{png.Height / 2}\" alt=\"{E(png.AltText)}\"></figure>\n");
                    break;
            }
        }
        html.Append(CultureInfo.InvariantCulture,
            $"<footer>SiteWatch site report: {E(report.Site.Name)}, {E(report.Period)}. Generated {report.GeneratedUtc:yyyy-MM-dd HH:mm} UTC by SiteWatch {E(report.SoftwareVersion)}{(report.Commit is null ? "" : $" (commit {E(report.Commit)})")}.</footer>\n</body>\n</html>\n");
        return html.ToString();
    }

    public static string DataUri(ReportImage image) => "data:image/png;base64," + Convert.ToBase64String(image.Png);

    /// <summary>Escapes the five markup characters only; the file is UTF-8, so "m²" stays readable (and searchable) as written.</summary>
    private static string E(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal).Replace("'", "&#39;", StringComparison.Ordinal);

    private static string Class(TextStyle style) => style switch
    {
        TextStyle.Strong => " class=\"strong\"",
        TextStyle.Small => " class=\"small\"",
        TextStyle.Mono => " class=\"mono\"",
        _ => "",
    };

    /// <summary>The text, linked when a URL is given and it is http(s) (the catalog refuses any other scheme; checked again here).</summary>
    private static string Linked(string text, string? url) =>
        url is not null && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? $"<a href=\"{E(uri.AbsoluteUri)}\" rel=\"noopener noreferrer nofollow\">{E(text)}</a>"
            : E(text);
}
