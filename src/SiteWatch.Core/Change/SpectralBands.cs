using SiteWatch.Core.Ingest;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Change;

/// <summary>
/// Which of a pair's bands (0-based positions in the pair's band order) carry blue, green, red and near-infrared light,
/// found from band names or centre wavelengths. Spectral evidence (brightness, NDVI, shadow) and true-colour previews need them.
/// </summary>
public sealed record SpectralBands(int? Blue, int? Green, int? Red, int? Nir, int BandCount)
{
    public bool HasNdvi => Red is not null && Nir is not null;

    /// <summary>The visible bands, or every band when none is known.</summary>
    public IReadOnlyList<int> Visible
    {
        get
        {
            var known = new[] { Blue, Green, Red }.OfType<int>().ToArray();
            return known.Length > 0 ? known : Enumerable.Range(0, BandCount).ToArray();
        }
    }

    /// <summary>Red, green, blue positions for a picture; falls back to the first three bands (or one grey band).</summary>
    public (int R, int G, int B) TrueColour =>
        Red is { } r && Green is { } g && Blue is { } b ? (r, g, b)
        : BandCount >= 3 ? (Math.Min(2, BandCount - 1), 1, 0) : (0, 0, 0);

    /// <summary>
    /// A pair's red, green, blue positions for a method that works on true colour: from band names or wavelengths of
    /// BEFORE, else the first three bands; notes for the run say which.
    /// </summary>
    public static int[] ChooseTrueColour(RasterPair pair, List<string> notes, string method)
    {
        var names = new string?[pair.BandCount];
        var wavelengths = new double?[pair.BandCount];
        try
        {
            var bands = SceneMetadataReader.Read(pair.Before, pair.Before.Path).Bands;
            for (var p = 0; p < pair.BandCount; p++)
            {
                var b = pair.BeforeBand(p);
                if (b <= bands.Count)
                {
                    names[p] = bands[b - 1].Name;
                    wavelengths[p] = bands[b - 1].WavelengthMicrometres;
                }
            }
        }
        catch (Exception e) when (e is GdalException or IOException or FormatException or System.Text.Json.JsonException)
        {
            notes.Add($"band metadata unreadable ({e.Message}); using the first bands as red, green, blue");
        }
        var spectral = Identify(names, wavelengths);
        if (spectral is { Red: { } r, Green: { } g, Blue: { } b2 })
        {
            notes.Add($"{method} input: true colour from bands {pair.BeforeBand(r)}, {pair.BeforeBand(g)}, {pair.BeforeBand(b2)} (red, green, blue)");
            return [r, g, b2];
        }
        int[] rgb = pair.BandCount >= 3 ? [0, 1, 2] : pair.BandCount == 2 ? [0, 1, 1] : [0, 0, 0];
        notes.Add($"{method} input: red, green, blue not identified; bands {string.Join(", ", rgb.Select(p => pair.BeforeBand(p)))} fed as red, green, blue");
        return rgb;
    }

    public static SpectralBands Identify(IReadOnlyList<string?> names, IReadOnlyList<double?> wavelengthsMicrometres)
    {
        int? Find(Func<string, bool> byName, double low, double high)
        {
            for (var i = 0; i < names.Count; i++)
            {
                if (names[i] is { } n && byName(n.Trim().ToLowerInvariant()))
                {
                    return i;
                }
            }
            for (var i = 0; i < wavelengthsMicrometres.Count; i++)
            {
                if (wavelengthsMicrometres[i] is { } w && w >= low && w <= high)
                {
                    return i;
                }
            }
            return null;
        }
        return new SpectralBands(
            Find(n => n is "blue" or "b" or "coastal_blue" || n.StartsWith("blue", StringComparison.Ordinal), 0.44, 0.51),
            Find(n => n is "green" or "g" || n.StartsWith("green", StringComparison.Ordinal), 0.52, 0.60),
            Find(n => n is "red" or "r" || n.StartsWith("red", StringComparison.Ordinal) && !n.StartsWith("rededge", StringComparison.Ordinal), 0.62, 0.70),
            Find(n => n is "nir" or "nir08" or "near-infrared" or "near infrared" || n.StartsWith("nir", StringComparison.Ordinal), 0.76, 0.90),
            Math.Max(names.Count, wavelengthsMicrometres.Count));
    }
}
