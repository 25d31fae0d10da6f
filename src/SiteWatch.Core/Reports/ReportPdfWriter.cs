using System.Globalization;
using SkiaSharp;

namespace SiteWatch.Core.Reports;

/// <summary>
/// Lays the report's blocks out on A4 or Letter pages and writes them with Skia's PDF backend: text as text in the
/// embedded DejaVu fonts (selectable, searchable), charts as vectors, imagery as images, links as link annotations,
/// and "page i of n" on every page. Layout runs first (it knows n), drawing second.
/// </summary>
public static class ReportPdfWriter
{
    public static (float Width, float Height) PageSize(PaperSize paper) => paper == PaperSize.Letter ? (612f, 792f) : (595.28f, 841.89f);

    /// <summary>Writes the PDF to <paramref name="path"/>; returns how many pages it has.</summary>
    public static int Write(SiteReport report, IReadOnlyList<ReportBlock> blocks, string path, ReportFonts fonts)
    {
        var (w, h) = PageSize(report.Options.Paper);
        var flow = new Flow(w, h, fonts);
        for (var i = 0; i < blocks.Count; i++)
        {
            flow.Add(blocks[i], i + 1 < blocks.Count ? blocks[i + 1] : null);
        }
        // Layout measured every string, so every substituted glyph is known now; the reader is told on the last page.
        if (fonts.Substitutions.Count > 0)
        {
            flow.Add(new HeadingBlock(2, "Glyph substitutions"));
            foreach (var s in fonts.Substitutions)
            {
                flow.Add(new ParagraphBlock($"• {s}", TextStyle.Small));
            }
        }
        var footer = $"SiteWatch site report: {report.Site.Name}, {report.Period}";
        using var stream = File.Create(path);
        // From the defaults: a bare struct would mean JPEG quality 0 for every picture; 101 keeps them lossless.
        var metadata = SKDocumentPdfMetadata.Default;
        metadata.EncodingQuality = 101;
        using var document = SKDocument.CreatePdf(stream, metadata with
        {
            Title = report.Title,
            Subject = $"Site {report.Site.Name}, {report.Period}",
            Creator = $"SiteWatch {report.SoftwareVersion}",
            Producer = "SiteWatch (Skia PDF)",
            Creation = report.GeneratedUtc,
            Modified = report.GeneratedUtc,
        }) ?? throw new SiteWatchException($"{path}: Skia could not start a PDF document");
        var pages = flow.Pages;
        for (var i = 0; i < pages.Count; i++)
        {
            using var canvas = document.BeginPage(w, h);
            foreach (var draw in pages[i])
            {
                draw(canvas);
            }
            using var grey = new SKPaint { Color = new SKColor(110, 110, 110), IsAntialias = true };
            using var rule = new SKPaint { Color = new SKColor(200, 200, 200), StrokeWidth = 0.5f, Style = SKPaintStyle.Stroke };
            canvas.DrawLine(Flow.Margin, h - 40, w - Flow.Margin, h - 40, rule);
            fonts.Draw(canvas, Fit(footer, fonts, w - 2 * Flow.Margin - 80), Flow.Margin, h - 28, fonts.Regular, 7.5f, grey);
            var number = string.Create(CultureInfo.InvariantCulture, $"Page {i + 1} of {pages.Count}");
            fonts.Draw(canvas, number, w - Flow.Margin - fonts.Measure(number, fonts.Regular, 7.5f), h - 28, fonts.Regular, 7.5f, grey);
            document.EndPage();
        }
        document.Close();
        return pages.Count;

        static string Fit(string text, ReportFonts fonts, float width)
        {
            while (text.Length > 4 && fonts.Measure(text, fonts.Regular, 7.5f) > width)
            {
                text = text[..^2] + "…";
            }
            return text;
        }
    }

    private sealed class Flow(float width, float height, ReportFonts fonts)
    {
        public const float Margin = 48;
        private readonly List<List<Action<SKCanvas>>> _pages = [[]];
        private float _y = Margin;
        private float Bottom => height - 52;
        private float ContentWidth => width - 2 * Margin;

        public IReadOnlyList<List<Action<SKCanvas>>> Pages => _pages;

        private List<Action<SKCanvas>> Current => _pages[^1];

        public void Add(ReportBlock block, ReportBlock? next = null)
        {
            switch (block)
            {
                case HeadingBlock hb:
                    Heading(hb, next);
                    break;
                case ParagraphBlock p:
                    Paragraph(p);
                    break;
                case TableBlock t:
                    Table(t);
                    break;
                case ImagesBlock i:
                    Images(i);
                    break;
                case ChartBlock c:
                    Chart(c.Chart);
                    break;
                case PageBreakBlock:
                    if (Current.Count > 0)
                    {
                        NewPage();
                    }
                    break;
            }
        }

        private void NewPage()
        {
            _pages.Add([]);
            _y = Margin;
        }

        /// <summary>Starts a new page unless <paramref name="h"/> more points fit on this one.</summary>
        private void Need(float h)
        {
            if (_y + h > Bottom && _y > Margin)
            {
                NewPage();
            }
        }

        private static (SKTypeface Face, float Size, SKColor Colour) Style(ReportFonts fonts, TextStyle style) => style switch
        {
            TextStyle.Strong => (fonts.Bold, 9.5f, new SKColor(20, 20, 20)),
            TextStyle.Small => (fonts.Regular, 7.5f, new SKColor(70, 70, 70)),
            TextStyle.Mono => (fonts.Mono, 7f, new SKColor(40, 40, 40)),
            _ => (fonts.Regular, 9.5f, new SKColor(20, 20, 20)),
        };

        /// <summary>How much of a block must stay on the page of the heading above it.</summary>
        private float KeepHeight(ReportBlock? next) => next switch
        {
            ImagesBlock i => Math.Min(ImageScale(i) * i.Images.Max(x => x.Height), Bottom - Margin - 80),
            ChartBlock => ReportCharts.HeightFor(ContentWidth) * 0.8f,
            TableBlock => 45,
            _ => 40,
        };

        private float ImageScale(ImagesBlock block)
        {
            const float gap = 8;
            var each = (ContentWidth - gap * (block.Images.Count - 1)) / block.Images.Count;
            // Pictures are never enlarged past 1 px = 1 pt (72 dpi), so small chips stay sharp.
            return Math.Min(1f, each / block.Images.Max(i => (float)i.Width));
        }

        private void Heading(HeadingBlock h, ReportBlock? next)
        {
            var size = h.Level switch { 1 => 19f, 2 => 13.5f, _ => 10.5f };
            var before = h.Level switch { 1 => 0f, 2 => 12f, _ => 8f };
            // A heading never ends a page: what follows it (a picture, a chart, a few lines) stays with it.
            Need(before + size * 1.5f + 10 + KeepHeight(next));
            _y += _y > Margin ? before : 0;
            var lines = Wrap(h.Text, fonts.Bold, size, ContentWidth);
            foreach (var line in lines)
            {
                var y = _y + size;
                var colour = h.Level == 1 ? new SKColor(10, 40, 90) : new SKColor(20, 50, 100);
                Current.Add(c =>
                {
                    using var paint = new SKPaint { Color = colour, IsAntialias = true };
                    fonts.Draw(c, line, Margin, y, fonts.Bold, size, paint);
                });
                _y += size * 1.3f;
            }
            if (h.Level <= 2)
            {
                var y = _y + 1;
                Current.Add(c =>
                {
                    using var rule = new SKPaint { Color = new SKColor(20, 50, 100), StrokeWidth = h.Level == 1 ? 1.2f : 0.6f, Style = SKPaintStyle.Stroke };
                    c.DrawLine(Margin, y, width - Margin, y, rule);
                });
                _y += 6;
            }
            _y += 3;
        }

        private void Paragraph(ParagraphBlock p)
        {
            var (face, size, colour) = Style(fonts, p.Style);
            var lineHeight = size * 1.35f;
            foreach (var line in Wrap(p.Text, face, size, ContentWidth))
            {
                Need(lineHeight);
                var y = _y + size;
                Current.Add(c =>
                {
                    using var paint = new SKPaint { Color = colour, IsAntialias = true };
                    fonts.Draw(c, line, Margin, y, face, size, paint);
                });
                _y += lineHeight;
            }
            _y += size * 0.45f;
        }

        private void Table(TableBlock t)
        {
            const float pad = 2.5f;
            var total = t.Widths.Sum();
            var widths = t.Widths.Select(x => x / total * ContentWidth).ToArray();
            var lefts = new float[widths.Length];
            for (var i = 1; i < widths.Length; i++)
            {
                lefts[i] = lefts[i - 1] + widths[i - 1];
            }
            var headerCells = t.Headers.Select(x => new ReportCell(x, TextStyle.Strong)).ToList();

            void Row(IReadOnlyList<ReportCell> cells, bool header)
            {
                var wrapped = cells.Select((cell, i) =>
                {
                    var (face, size, colour) = header ? (fonts.Bold, 7.5f, new SKColor(20, 20, 20)) : CellStyle(cell.Style);
                    return (Lines: Wrap(cell.Text, face, size, widths[i] - 2 * pad), face, size, colour, cell.Url);
                }).ToList();
                var rowHeight = wrapped.Max(x => x.Lines.Count * x.size * 1.3f) + 2 * pad;
                if (_y + rowHeight > Bottom && _y > Margin)
                {
                    NewPage();
                    if (!header)
                    {
                        Row(headerCells, header: true);
                    }
                }
                var top = _y;
                Current.Add(c =>
                {
                    using var line = new SKPaint { Color = new SKColor(205, 205, 205), StrokeWidth = 0.5f, Style = SKPaintStyle.Stroke };
                    if (header)
                    {
                        using var fill = new SKPaint { Color = new SKColor(232, 237, 245) };
                        c.DrawRect(new SKRect(Margin, top, width - Margin, top + rowHeight), fill);
                    }
                    c.DrawLine(Margin, top + rowHeight, width - Margin, top + rowHeight, line);
                    for (var i = 0; i < wrapped.Count && i < widths.Length; i++)
                    {
                        var (lines, face, size, colour, url) = wrapped[i];
                        using var paint = new SKPaint { Color = url is null ? colour : new SKColor(20, 70, 170), IsAntialias = true };
                        var y = top + pad + size;
                        foreach (var text in lines)
                        {
                            fonts.Draw(c, text, Margin + lefts[i] + pad, y, face, size, paint);
                            y += size * 1.3f;
                        }
                        if (url is not null)
                        {
                            c.DrawUrlAnnotation(new SKRect(Margin + lefts[i], top, Margin + lefts[i] + widths[i], top + rowHeight), url);
                        }
                    }
                });
                _y += rowHeight;
            }

            Need(40);
            Row(headerCells, header: true);
            foreach (var row in t.Rows)
            {
                Row(row, header: false);
            }
            _y += 8;
        }

        private (SKTypeface, float, SKColor) CellStyle(TextStyle style) => style switch
        {
            TextStyle.Mono => (fonts.Mono, 6.5f, new SKColor(40, 40, 40)),
            TextStyle.Small => (fonts.Regular, 7f, new SKColor(60, 60, 60)),
            TextStyle.Strong => (fonts.Bold, 7.5f, new SKColor(20, 20, 20)),
            _ => (fonts.Regular, 7.5f, new SKColor(20, 20, 20)),
        };

        private void Images(ImagesBlock block)
        {
            const float gap = 8;
            var n = block.Images.Count;
            var scale = ImageScale(block);
            var heights = block.Images.Select(i => i.Height * scale).ToList();
            var captionLines = block.Caption is null ? [] : Wrap(block.Caption, fonts.Regular, 7f, ContentWidth);
            var total = heights.Max() + captionLines.Count * 9 + 6;
            if (_y + total > Bottom)
            {
                Need(total);
            }
            // A picture taller than a page shrinks to fit one.
            var room = Bottom - _y - captionLines.Count * 9 - 6;
            if (heights.Max() > room)
            {
                var shrink = room / heights.Max();
                scale *= shrink;
                heights = heights.Select(x => x * shrink).ToList();
            }
            var top = _y;
            var images = block.Images;
            var currentScale = scale;
            var x0 = Margin + (ContentWidth - (images.Sum(i => i.Width * currentScale) + gap * (n - 1))) / 2;
            Current.Add(c =>
            {
                var x = x0;
                foreach (var image in images)
                {
                    using var data = SKData.CreateCopy(image.Png);
                    using var decoded = SKImage.FromEncodedData(data);
                    var rect = SKRect.Create(x, top, image.Width * currentScale, image.Height * currentScale);
                    c.DrawImage(decoded, rect, new SKSamplingOptions(SKFilterMode.Linear));
                    x += rect.Width + gap;
                }
            });
            _y += heights.Max() + 3;
            foreach (var line in captionLines)
            {
                var y = _y + 7;
                Current.Add(c =>
                {
                    using var paint = new SKPaint { Color = new SKColor(80, 80, 80), IsAntialias = true };
                    fonts.Draw(c, line, Margin, y, fonts.Regular, 7f, paint);
                });
                _y += 9;
            }
            _y += 6;
        }

        private void Chart(ReportChart chart)
        {
            var w = ContentWidth;
            var h = ReportCharts.HeightFor(w) * 0.8f;
            Need(h + 8);
            var rect = SKRect.Create(Margin, _y, w, h);
            Current.Add(c => ReportCharts.Draw(c, rect, chart, fonts));
            _y += h + 10;
        }

        /// <summary>Words wrapped to a width; a word wider than the line (a hash, a path) is cut where it must be.</summary>
        private List<string> Wrap(string text, SKTypeface face, float size, float maxWidth)
        {
            var lines = new List<string>();
            foreach (var paragraph in text.ReplaceLineEndings("\n").Split('\n'))
            {
                var line = "";
                foreach (var word in paragraph.Split(' '))
                {
                    var candidate = line.Length == 0 ? word : line + " " + word;
                    if (fonts.Measure(candidate, face, size) <= maxWidth)
                    {
                        line = candidate;
                        continue;
                    }
                    if (line.Length > 0)
                    {
                        lines.Add(line);
                    }
                    line = word;
                    while (line.Length > 1 && fonts.Measure(line, face, size) > maxWidth)
                    {
                        var n = line.Length - 1;
                        while (n > 1 && fonts.Measure(line[..n], face, size) > maxWidth)
                        {
                            n--;
                        }
                        lines.Add(line[..n]);
                        line = line[n..];
                    }
                }
                lines.Add(line);
            }
            return lines;
        }
    }
}
