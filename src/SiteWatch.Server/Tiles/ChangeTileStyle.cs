using System.Globalization;

namespace SiteWatch.Server.Tiles;

/// <summary>The two rasters every change run writes, drawn as map overlays.</summary>
public enum ChangeLayer
{
    /// <summary>change_magnitude.tif band 1: the statistic the run thresholded.</summary>
    Magnitude,
    /// <summary>change_mask.tif: 1 changed, 0 unchanged, 255 where the pair could not be compared.</summary>
    Mask,
}

/// <summary>
/// How change rasters become coloured, see-through tiles over the imagery, and the legend that explains them.
/// Magnitude uses the "inferno" ramp (perceptually uniform, readable in grey and by most colour-blind readers) from 0
/// to the run's 99th percentile; opacity grows with magnitude (quadratically) up to the run's threshold and is high above it, so
/// what was counted as change stands out and sub-threshold noise stays faint. The mask draws changed pixels in one
/// colour and pixels that could not be compared (nodata, cloud) in a pale grey.
/// </summary>
public static class ChangeTileStyle
{
    /// <summary>Inferno, sampled at five stops (matplotlib's colour map, public domain).</summary>
    private static readonly (double At, byte R, byte G, byte B)[] Inferno =
    [
        (0.00, 0, 0, 4),
        (0.25, 87, 16, 110),
        (0.50, 188, 55, 84),
        (0.75, 249, 142, 9),
        (1.00, 252, 255, 164),
    ];

    /// <summary>
    /// Opacity of pixels at or above the threshold; below it opacity rises with the square of magnitude / threshold
    /// towards <see cref="BelowThresholdAlpha"/>, so the bulk of no-change noise barely veils the imagery.
    /// </summary>
    public const byte ChangedAlpha = 230;
    public const byte BelowThresholdAlpha = 110;

    public static readonly (byte R, byte G, byte B, byte A) MaskChanged = (255, 69, 0, 210);
    public static readonly (byte R, byte G, byte B, byte A) MaskNotCompared = (200, 200, 200, 110);

    public static ChangeLayer ParseLayer(string? text) => (text ?? "").Trim().ToLowerInvariant() switch
    {
        "" or "magnitude" => ChangeLayer.Magnitude,
        "mask" => ChangeLayer.Mask,
        _ => throw HttpProblem.BadRequest($"query parameter 'layer': '{Paging.Truncate(text ?? "")}' is not a change layer; use magnitude or mask"),
    };

    public static string Name(ChangeLayer layer) => layer == ChangeLayer.Mask ? "mask" : "magnitude";

    /// <summary>The ramp's colour at <paramref name="t"/> (0..1, clamped).</summary>
    public static (byte R, byte G, byte B) Ramp(double t)
    {
        t = double.IsNaN(t) ? 0 : Math.Clamp(t, 0, 1);
        for (var i = 1; i < Inferno.Length; i++)
        {
            if (t <= Inferno[i].At)
            {
                var (a, b) = (Inferno[i - 1], Inferno[i]);
                var f = (t - a.At) / (b.At - a.At);
                return (Lerp(a.R, b.R, f), Lerp(a.G, b.G, f), Lerp(a.B, b.B, f));
            }
        }
        var last = Inferno[^1];
        return (last.R, last.G, last.B);
    }

    private static byte Lerp(byte a, byte b, double f) => (byte)Math.Round(a + (b - a) * f);

    /// <summary>Colours a warped magnitude plane (NaN outside the data) into RGBA.</summary>
    public static void PaintMagnitude(ReadOnlySpan<float> magnitude, double threshold, double top, Span<byte> rgba)
    {
        var scale = top > 0 ? 1.0 / top : 0;
        for (var p = 0; p < magnitude.Length; p++)
        {
            var v = magnitude[p];
            if (!float.IsFinite(v))
            {
                rgba.Slice(p * 4, 4).Clear();
                continue;
            }
            var (r, g, b) = Ramp(v * scale);
            rgba[p * 4] = r;
            rgba[p * 4 + 1] = g;
            rgba[p * 4 + 2] = b;
            rgba[p * 4 + 3] = v >= threshold || threshold <= 0
                ? ChangedAlpha
                : (byte)Math.Round(BelowThresholdAlpha * Square(Math.Max(0, v) / threshold));
        }
    }

    /// <summary>Value given to tile pixels the mask does not cover (the mask itself uses 0, 1 and 255).</summary>
    public const byte MaskOutside = 254;

    private static double Square(double x) => x * x;

    /// <summary>Colours a warped mask plane into RGBA; <see cref="MaskOutside"/> and unchanged pixels stay transparent.</summary>
    public static void PaintMask(ReadOnlySpan<float> mask, Span<byte> rgba)
    {
        for (var p = 0; p < mask.Length; p++)
        {
            var (r, g, b, a) = mask[p] switch
            {
                1 => MaskChanged,
                255 => MaskNotCompared,
                _ => ((byte)0, (byte)0, (byte)0, (byte)0),
            };
            rgba[p * 4] = r;
            rgba[p * 4 + 1] = g;
            rgba[p * 4 + 2] = b;
            rgba[p * 4 + 3] = a;
        }
    }

    /// <summary>What a map legend needs for a layer: entries with their colour (CSS hex) and meaning.</summary>
    public static object Legend(ChangeLayer layer, double threshold, double top, string method) => layer == ChangeLayer.Mask
        ? new
        {
            layer = Name(layer),
            method,
            entries = new object[]
            {
                new { value = 1, colour = Hex(MaskChanged.R, MaskChanged.G, MaskChanged.B), opacity = MaskChanged.A / 255.0, label = "changed" },
                new { value = 255, colour = Hex(MaskNotCompared.R, MaskNotCompared.G, MaskNotCompared.B), opacity = MaskNotCompared.A / 255.0, label = "not compared (nodata or cloud in either scene)" },
            },
        }
        : new
        {
            layer = Name(layer),
            method,
            threshold,
            top,
            ramp = "inferno",
            entries = Enumerable.Range(0, 5).Select(i =>
            {
                var value = top * i / 4;
                var (r, g, b) = Ramp(i / 4.0);
                return new { value = Math.Round(value, 4), colour = Hex(r, g, b), label = value >= threshold ? "changed" : "below threshold" };
            }).ToArray(),
            note = string.Create(CultureInfo.InvariantCulture,
                $"colour from 0 to {top:G4} (99th percentile of the run); pixels at or above the threshold {threshold:G4} are drawn strongly, fainter below it"),
        };

    private static string Hex(byte r, byte g, byte b) => $"#{r:x2}{g:x2}{b:x2}";
}
