using System.Globalization;
using System.Text;
using SkiaSharp;

namespace SiteWatch.Core.Reports;

/// <summary>
/// The report's fonts: DejaVu Sans, Sans Bold and Sans Mono loaded from their files (Debian's fonts-dejavu-core, which
/// the set-up scripts install), never a platform default. Text is split into runs of one font each: a character DejaVu
/// lacks is drawn with a system font that has it, or as U+FFFD when none has it, and every such substitution is
/// recorded so the caller can say so; no glyph goes missing silently.
/// </summary>
public sealed class ReportFonts : IDisposable
{
    public const string DefaultDirectory = "/usr/share/fonts/truetype/dejavu";
    private const char Replacement = '\uFFFD';

    private readonly Dictionary<int, SKTypeface?> _fallbacks = [];
    private readonly SortedDictionary<int, string> _substitutions = [];
    private readonly List<SKTypeface> _owned = [];

    private ReportFonts(string directory)
    {
        Directory = directory;
        Regular = Load(directory, "DejaVuSans.ttf");
        Bold = Load(directory, "DejaVuSans-Bold.ttf");
        Mono = Load(directory, "DejaVuSansMono.ttf");
    }

    public string Directory { get; }
    public SKTypeface Regular { get; }
    public SKTypeface Bold { get; }
    public SKTypeface Mono { get; }

    /// <summary>Loads the three DejaVu faces; a clear error naming the missing file (and the package) when one is absent.</summary>
    public static ReportFonts Load(string? directory = null) => new(directory ?? DefaultDirectory);

    /// <summary>Every character that was not drawn with its intended DejaVu face, and what was drawn instead.</summary>
    public IReadOnlyList<string> Substitutions
    {
        get
        {
            lock (_substitutions)
            {
                return _substitutions.Values.ToList();
            }
        }
    }

    /// <summary>The text cut into runs that one typeface draws completely.</summary>
    public IReadOnlyList<(SKTypeface Face, string Text)> Runs(string text, SKTypeface face)
    {
        var runs = new List<(SKTypeface, string)>();
        var current = new StringBuilder();
        SKTypeface? currentFace = null;
        foreach (var rune in text.EnumerateRunes())
        {
            var (drawFace, drawn) = FaceFor(rune, face);
            if (currentFace is not null && !ReferenceEquals(drawFace, currentFace))
            {
                runs.Add((currentFace, current.ToString()));
                current.Clear();
            }
            currentFace = drawFace;
            current.Append(drawn);
        }
        if (currentFace is not null && current.Length > 0)
        {
            runs.Add((currentFace, current.ToString()));
        }
        return runs;
    }

    /// <summary>Width of the text at <paramref name="size"/> points, run by run.</summary>
    public float Measure(string text, SKTypeface face, float size)
    {
        var width = 0f;
        foreach (var (runFace, run) in Runs(text, face))
        {
            using var font = new SKFont(runFace, size);
            width += font.MeasureText(run);
        }
        return width;
    }

    /// <summary>Draws the text run by run from (x, y) on the baseline; returns the width drawn.</summary>
    public float Draw(SKCanvas canvas, string text, float x, float y, SKTypeface face, float size, SKPaint paint)
    {
        var start = x;
        foreach (var (runFace, run) in Runs(text, face))
        {
            using var font = new SKFont(runFace, size) { Subpixel = true };
            canvas.DrawText(run, x, y, SKTextAlign.Left, font, paint);
            x += font.MeasureText(run);
        }
        return x - start;
    }

    private (SKTypeface Face, string Text) FaceFor(Rune rune, SKTypeface face)
    {
        var text = rune.ToString();
        if (Rune.IsControl(rune) || Has(face, rune))
        {
            return (face, text);
        }
        foreach (var other in new[] { Regular, Bold, Mono })
        {
            if (Has(other, rune))
            {
                return (other, text);
            }
        }
        SKTypeface? fallback;
        lock (_fallbacks)
        {
            if (!_fallbacks.TryGetValue(rune.Value, out fallback))
            {
                fallback = SKFontManager.Default.MatchCharacter(rune.Value);
                if (fallback is not null && !Has(fallback, rune))
                {
                    fallback.Dispose();
                    fallback = null;
                }
                if (fallback is not null)
                {
                    _owned.Add(fallback);
                }
                _fallbacks[rune.Value] = fallback;
            }
        }
        var code = string.Create(CultureInfo.InvariantCulture, $"U+{rune.Value:X4}");
        lock (_substitutions)
        {
            _substitutions.TryAdd(rune.Value, fallback is not null
                ? $"{code} '{text}' is not in DejaVu: drawn with {fallback.FamilyName}"
                : $"{code} '{text}' is in no installed font: drawn as U+FFFD (install a font that has it, e.g. fonts-noto-cjk for CJK)");
        }
        return fallback is not null ? (fallback, text) : (Regular, Replacement.ToString());
    }

    private static bool Has(SKTypeface face, Rune rune)
    {
        using var font = new SKFont(face);
        return font.ContainsGlyph(rune.Value);
    }

    private SKTypeface Load(string directory, string file)
    {
        var path = Path.Combine(directory, file);
        if (!File.Exists(path))
        {
            throw new SiteWatchException($"{path}: font file not found; the report needs the DejaVu fonts (Debian: apt-get install fonts-dejavu-core, which ./scripts/bootstrap.sh installs)");
        }
        var face = SKTypeface.FromFile(path) ?? throw new SiteWatchException($"{path}: not a font file Skia can read");
        _owned.Add(face);
        return face;
    }

    public void Dispose()
    {
        foreach (var face in _owned)
        {
            face.Dispose();
        }
        _owned.Clear();
    }
}
