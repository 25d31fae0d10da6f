using System.Globalization;
using SkiaSharp;

namespace SiteWatch.Core.Activity;

/// <summary>The activity timeline as a PNG: one panel per class count, one for change areas, one for the activity index; time on a shared axis.</summary>
public static class ActivityPlot
{
    private const string FontPath = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    private const string BoldFontPath = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
    private const int Width = 960, PanelHeight = 130, Left = 80, Right = 170, Top = 40, Gap = 26, Bottom = 50;

    private static readonly SKColor[] Palette =
    [
        new(31, 119, 180), new(255, 127, 14), new(44, 160, 44), new(214, 39, 40), new(148, 103, 189), new(140, 86, 75), new(227, 119, 194), new(127, 127, 127),
    ];

    private sealed record Line(string Label, IReadOnlyList<double?> Values, SKColor Colour);

    private sealed record Panel(string Title, string Unit, IReadOnlyList<Line> Lines, bool Symmetric);

    public static void Write(string path, ActivityTimeline timeline)
    {
        if (timeline.Dates.Count == 0)
        {
            throw new SiteWatchException($"site {timeline.Site.Name} has no scenes; there is nothing to plot");
        }
        var panels = new List<Panel>();
        for (var i = 0; i < timeline.Classes.Count; i++)
        {
            var c = timeline.Classes[i];
            panels.Add(new Panel(c, "count", [new Line(c, timeline.Dates.Select(d => d.Counts is { } k ? (double?)k[c] : null).ToArray(), Palette[i % Palette.Length])], false));
        }
        panels.Add(new Panel("change since previous date", "m²",
        [
            new Line("changed", timeline.Dates.Select(d => d.ChangeAreaSquareMetres).ToArray(), new SKColor(230, 160, 20)),
            new Line("appeared", timeline.Dates.Select(d => d.AppearedAreaSquareMetres).ToArray(), new SKColor(220, 50, 40)),
        ], false));
        panels.Add(new Panel($"activity index (mean z vs previous {timeline.Baseline} dates)", "z", [new Line("index", timeline.Dates.Select(d => d.Index).ToArray(), new SKColor(20, 20, 20))], true));

        var height = Top + panels.Count * (PanelHeight + Gap) + Bottom;
        using var bitmap = new SKBitmap(Width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var regular = File.Exists(FontPath) ? SKTypeface.FromFile(FontPath) : SKTypeface.Default;
        using var bold = File.Exists(BoldFontPath) ? SKTypeface.FromFile(BoldFontPath) : regular;
        using var font = new SKFont(regular, 11);
        using var titleFont = new SKFont(bold, 14);
        using var panelFont = new SKFont(bold, 12);
        using var text = new SKPaint { Color = new SKColor(40, 40, 40), IsAntialias = true };
        using var axis = new SKPaint { Color = new SKColor(90, 90, 90), StrokeWidth = 1, Style = SKPaintStyle.Stroke, IsAntialias = true };
        using var grid = new SKPaint { Color = new SKColor(225, 225, 225), StrokeWidth = 1, Style = SKPaintStyle.Stroke };

        var model = timeline.ModelName is null ? "no detections" : $"model {timeline.ModelName}";
        canvas.DrawText($"{timeline.Site.Name}: activity per date ({model})", Left, 24, SKTextAlign.Left, titleFont, text);

        var days = timeline.Dates.Select(d => (double)d.Date.DayNumber).ToArray();
        var (d0, d1) = (days.Min(), days.Max());
        var span = Math.Max(1, d1 - d0);
        var plotWidth = Width - Left - Right;
        float X(double day) => (float)(Left + (timeline.Dates.Count == 1 ? plotWidth / 2.0 : (day - d0) / span * plotWidth));

        for (var p = 0; p < panels.Count; p++)
        {
            var panel = panels[p];
            var y0 = Top + p * (PanelHeight + Gap) + 16;
            var y1 = y0 + PanelHeight - 16;
            var values = panel.Lines.SelectMany(l => l.Values).OfType<double>().ToList();
            var (lo, hi) = Range(values, panel.Symmetric);
            float Y(double v) => (float)(y1 - (v - lo) / (hi - lo) * (y1 - y0));

            canvas.DrawText(panel.Title, Left, y0 - 4, SKTextAlign.Left, panelFont, text);
            foreach (var tick in Ticks(lo, hi))
            {
                canvas.DrawLine(Left, Y(tick), Left + plotWidth, Y(tick), grid);
                canvas.DrawText(tick.ToString(Math.Abs(hi - lo) >= 10 ? "N0" : "0.#", CultureInfo.InvariantCulture), Left - 6, Y(tick) + 4, SKTextAlign.Right, font, text);
            }
            canvas.DrawRect(Left, y0, plotWidth, y1 - y0, axis);
            canvas.DrawText(panel.Unit, 8, (y0 + y1) / 2f, SKTextAlign.Left, font, text);
            if (values.Count == 0)
            {
                canvas.DrawText("not measured", Left + plotWidth / 2f, (y0 + y1) / 2f, SKTextAlign.Center, font, text);
            }
            for (var l = 0; l < panel.Lines.Count; l++)
            {
                var line = panel.Lines[l];
                using var stroke = new SKPaint { Color = line.Colour, StrokeWidth = 2, Style = SKPaintStyle.Stroke, IsAntialias = true };
                using var dot = new SKPaint { Color = line.Colour, Style = SKPaintStyle.Fill, IsAntialias = true };
                SKPoint? previous = null;
                for (var i = 0; i < line.Values.Count; i++)
                {
                    if (line.Values[i] is not { } v)
                    {
                        previous = null; // a gap where nothing was measured
                        continue;
                    }
                    var point = new SKPoint(X(days[i]), Y(v));
                    if (previous is { } prev)
                    {
                        canvas.DrawLine(prev, point, stroke);
                    }
                    canvas.DrawCircle(point, 3.5f, dot);
                    previous = point;
                }
                // Legend to the right of the panel.
                var ly = y0 + 12 + l * 16;
                canvas.DrawLine(Left + plotWidth + 12, ly - 4, Left + plotWidth + 32, ly - 4, stroke);
                canvas.DrawText(line.Label, Left + plotWidth + 38, ly, SKTextAlign.Left, font, text);
            }
            if (panel.Symmetric)
            {
                using var zero = new SKPaint { Color = new SKColor(120, 120, 120), StrokeWidth = 1, Style = SKPaintStyle.Stroke, PathEffect = SKPathEffect.CreateDash([4, 4], 0) };
                canvas.DrawLine(Left, Y(0), Left + plotWidth, Y(0), zero);
            }
        }
        // Date axis under the last panel, ticks on every panel.
        var axisY = Top + panels.Count * (PanelHeight + Gap) - Gap + 4;
        for (var i = 0; i < timeline.Dates.Count; i++)
        {
            var x = X(days[i]);
            canvas.DrawLine(x, axisY - 4, x, axisY + 2, axis);
            canvas.Save();
            canvas.RotateDegrees(-30, x, axisY + 14);
            canvas.DrawText(ActivityTimeline.Label(timeline.Dates[i].Date), x, axisY + 14, SKTextAlign.Right, font, text);
            canvas.Restore();
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".partial";
        using (var stream = File.Create(temp))
        {
            data.SaveTo(stream);
        }
        File.Move(temp, full, overwrite: true);
    }

    private static (double Low, double High) Range(IReadOnlyList<double> values, bool symmetric)
    {
        if (values.Count == 0)
        {
            return (0, 1);
        }
        if (symmetric)
        {
            var m = Math.Max(2, values.Max(Math.Abs)) * 1.1;
            return (-m, m);
        }
        var hi = values.Max();
        var lo = Math.Min(0, values.Min());
        return (lo, hi <= lo ? lo + 1 : lo + (hi - lo) * 1.1);
    }

    /// <summary>About four round tick values between the bounds.</summary>
    private static IEnumerable<double> Ticks(double lo, double hi)
    {
        var raw = (hi - lo) / 4;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = new[] { 1.0, 2, 2.5, 5, 10 }.Select(f => f * magnitude).First(s => s >= raw);
        for (var t = Math.Ceiling(lo / step) * step; t <= hi + 1e-9; t += step)
        {
            yield return Math.Abs(t) < 1e-9 ? 0 : t;
        }
    }
}
