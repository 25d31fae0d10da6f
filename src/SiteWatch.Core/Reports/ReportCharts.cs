using System.Globalization;
using SkiaSharp;

namespace SiteWatch.Core.Reports;

/// <summary>
/// Time charts of the report, drawn on any Skia canvas: as vectors on a PDF page, or into a PNG for the HTML. One
/// drawing routine for both, so the two documents show the same chart.
/// </summary>
public static class ReportCharts
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Height of a chart for a given width, in the same units.</summary>
    public static float HeightFor(float width) => width * 0.36f;

    /// <summary>The chart as a PNG at twice the layout size (sharp on high-density screens).</summary>
    public static ReportImage Png(ReportChart chart, ReportFonts fonts, float width = 640)
    {
        const float scale = 2;
        var height = HeightFor(width);
        using var bitmap = new SKBitmap((int)(width * scale), (int)(height * scale), SKColorType.Rgba8888, SKAlphaType.Premul);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        canvas.Scale(scale);
        Draw(canvas, new SKRect(0, 0, width, height), chart, fonts);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        var values = string.Join("; ", chart.Series.Select(s => $"{s.Name}: " + string.Join(", ", chart.Dates.Zip(s.Values, (d, v) => $"{MeasuredStatements.Day(d)} {Value(v)}"))));
        return new ReportImage(data.ToArray(), bitmap.Width, bitmap.Height, $"{chart.Title} ({chart.Unit}). {values}");
    }

    public static void Draw(SKCanvas canvas, SKRect rect, ReportChart chart, ReportFonts fonts)
    {
        using var text = new SKPaint { Color = new SKColor(40, 40, 40), IsAntialias = true };
        using var axis = new SKPaint { Color = new SKColor(90, 90, 90), StrokeWidth = 0.8f, Style = SKPaintStyle.Stroke, IsAntialias = true };
        using var grid = new SKPaint { Color = new SKColor(222, 222, 222), StrokeWidth = 0.6f, Style = SKPaintStyle.Stroke, IsAntialias = true };
        var small = Math.Max(6.5f, rect.Width / 75);
        fonts.Draw(canvas, chart.Title, rect.Left, rect.Top + small * 1.3f, fonts.Bold, small * 1.15f, text);

        var legendWidth = chart.Series.Count > 1 || chart.Series.Any(s => s.Name.Length > 0)
            ? chart.Series.Max(s => fonts.Measure(s.Name, fonts.Regular, small)) + small * 3 : 0;
        var plot = new SKRect(rect.Left + small * 5.5f, rect.Top + small * 3, rect.Right - legendWidth - small, rect.Bottom - small * 3.2f);
        var values = chart.Series.SelectMany(s => s.Values).OfType<double>().ToList();
        var (lo, hi) = values.Count == 0 ? (0.0, 1.0) : (Math.Min(0, values.Min()), Math.Max(values.Max(), 0));
        if (chart.ZeroLine)
        {
            var m = Math.Max(2, Math.Max(Math.Abs(lo), Math.Abs(hi)));
            (lo, hi) = (-m, m);
        }
        if (hi - lo < 1e-9)
        {
            hi = lo + 1;
        }
        var step = NiceStep((hi - lo) / 4);
        lo = Math.Floor(lo / step) * step;
        hi = Math.Ceiling(hi / step) * step;
        float Y(double v) => (float)(plot.Bottom - (v - lo) / (hi - lo) * plot.Height);

        for (var v = lo; v <= hi + step / 2; v += step)
        {
            var y = Y(v);
            canvas.DrawLine(plot.Left, y, plot.Right, y, Math.Abs(v) < step / 2 && chart.ZeroLine ? axis : grid);
            var label = Value(v);
            fonts.Draw(canvas, label, plot.Left - small * 0.6f - fonts.Measure(label, fonts.Regular, small), y + small * 0.35f, fonts.Regular, small, text);
        }
        fonts.Draw(canvas, chart.Unit, rect.Left, plot.Top - small * 0.8f, fonts.Regular, small, text);
        canvas.DrawLine(plot.Left, plot.Bottom, plot.Right, plot.Bottom, axis);
        canvas.DrawLine(plot.Left, plot.Top, plot.Left, plot.Bottom, axis);

        var days = chart.Dates.Select(d => (double)d.DayNumber).ToList();
        var (d0, d1) = (days.Min(), days.Max());
        float X(double day) => days.Count == 1 ? plot.MidX : (float)(plot.Left + small + (day - d0) / Math.Max(1, d1 - d0) * (plot.Width - 2 * small));
        // Date labels where they do not overlap the previous one.
        var lastRight = float.MinValue;
        for (var i = 0; i < chart.Dates.Count; i++)
        {
            var x = X(days[i]);
            canvas.DrawLine(x, plot.Bottom, x, plot.Bottom + small * 0.4f, axis);
            var label = MeasuredStatements.Day(chart.Dates[i]);
            var w = fonts.Measure(label, fonts.Regular, small * 0.9f);
            if (x - w / 2 > lastRight + small * 0.5f && x + w / 2 <= rect.Right)
            {
                fonts.Draw(canvas, label, x - w / 2, plot.Bottom + small * 1.6f, fonts.Regular, small * 0.9f, text);
                lastRight = x + w / 2;
            }
        }

        var legendY = plot.Top + small;
        foreach (var series in chart.Series)
        {
            using var line = new SKPaint { Color = series.Colour, StrokeWidth = Math.Max(1.2f, small / 5), Style = SKPaintStyle.Stroke, IsAntialias = true, StrokeJoin = SKStrokeJoin.Round };
            using var dot = new SKPaint { Color = series.Colour, IsAntialias = true };
            SKPoint? previous = null;
            for (var i = 0; i < series.Values.Count; i++)
            {
                if (series.Values[i] is not { } v)
                {
                    previous = null;
                    continue;
                }
                var p = new SKPoint(X(days[i]), Y(v));
                if (previous is { } q)
                {
                    canvas.DrawLine(q, p, line);
                }
                canvas.DrawCircle(p, small / 3.2f, dot);
                previous = p;
            }
            if (legendWidth > 0)
            {
                var lx = plot.Right + small;
                canvas.DrawLine(lx, legendY - small * 0.35f, lx + small * 1.5f, legendY - small * 0.35f, line);
                fonts.Draw(canvas, series.Name, lx + small * 2, legendY, fonts.Regular, small, text);
                legendY += small * 1.5f;
            }
        }
    }

    private static double NiceStep(double raw)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        return new[] { 1.0, 2, 2.5, 5, 10 }.Select(f => f * magnitude).First(s => s >= raw);
    }

    private static string Value(double? v) => v switch
    {
        null => "-",
        { } x when Math.Abs(x) >= 1000 => x.ToString("N0", Inv),
        { } x when Math.Abs(x - Math.Round(x)) < 1e-9 => x.ToString("0", Inv),
        { } x => x.ToString("0.##", Inv),
    };
}
