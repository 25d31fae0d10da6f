using System.Globalization;
using SiteWatch.Core.Change;
using SiteWatch.Core.Ingest;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Detection;

/// <summary>
/// Which scene bands feed a model's three channels and how their values become 0..1: the same numbers at training
/// and at inference.
/// </summary>
public sealed record SceneBands(IReadOnlyList<int> BandNumbers, IReadOnlyList<(double Low, double High)> Ranges)
{
    /// <summary>Longest side of the decimated read the percentile stretch is computed from.</summary>
    public const int StatisticsSide = 1024;

    /// <summary>
    /// Picks the bands named in <paramref name="wanted"/> (red, green, blue, nir by band description, GDAL colour
    /// interpretation, STAC / ENVI names or wavelengths; any other name by exact description; or 1-based numbers) and
    /// computes their scaling once for the whole scene.
    /// </summary>
    public static SceneBands Select(RasterDataset raster, IReadOnlyList<string> wanted, InputScaling scaling)
    {
        if (raster.BandCount < wanted.Count)
        {
            throw new SiteWatchException($"{raster.Path}: has {raster.BandCount} band{(raster.BandCount == 1 ? "" : "s")}; the model needs {wanted.Count} ({string.Join(", ", wanted)})");
        }
        var metadata = SceneMetadataReader.Read(raster, raster.Path).Bands;
        var names = new List<string?>(raster.BandCount);
        for (var b = 1; b <= raster.BandCount; b++)
        {
            var described = raster.BandDescription(b) ?? (b <= metadata.Count && metadata[b - 1].Name != $"band{b}" ? metadata[b - 1].Name : null);
            var colour = raster.ColourInterpretation(b);
            names.Add(described ?? (colour is "Red" or "Green" or "Blue" ? colour : null));
        }
        var spectral = SpectralBands.Identify(names, [.. metadata.Select(m => m.WavelengthMicrometres)]);
        var numbers = new int[wanted.Count];
        var missing = new List<string>();
        for (var i = 0; i < wanted.Count; i++)
        {
            var w = wanted[i].Trim();
            int? found = int.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? (n >= 1 && n <= raster.BandCount ? n - 1 : throw new SiteWatchException($"{raster.Path}: the model asks for band {n}; the scene has {raster.BandCount}"))
                : w.ToLowerInvariant() switch
                {
                    "red" => spectral.Red,
                    "green" => spectral.Green,
                    "blue" => spectral.Blue,
                    "nir" => spectral.Nir,
                    _ => names.FindIndex(x => string.Equals(x?.Trim(), w, StringComparison.OrdinalIgnoreCase)) is var k and >= 0 ? k : null,
                };
            if (found is { } f)
            {
                numbers[i] = f + 1;
            }
            else
            {
                missing.Add(w);
            }
        }
        if (missing.Count > 0)
        {
            // An unlabelled three-band image is taken in the order asked for (the usual RGB file).
            if (missing.Count == wanted.Count && raster.BandCount == wanted.Count && names.All(x => x is null))
            {
                numbers = [.. Enumerable.Range(1, wanted.Count)];
            }
            else
            {
                throw new SiteWatchException($"{raster.Path}: no {string.Join(", ", missing)} band found among {string.Join(", ", names.Select((x, k) => x ?? $"band{k + 1}"))}; "
                    + "name the bands (description or colour interpretation) or give band numbers in the model's side-car \"bands\"");
            }
        }
        return new SceneBands(numbers, [.. numbers.Select(b => Range(raster, b, scaling))]);
    }

    /// <summary>Scales raw values of channel <paramref name="channel"/> in place to 0..1; nodata and NaN become 0.</summary>
    public void Scale(int channel, Span<float> values, double? noData)
    {
        var (low, high) = Ranges[channel];
        var factor = (float)(1 / (high - low));
        var offset = (float)low;
        var nd = noData is { } v ? (float)v : float.NaN;
        for (var i = 0; i < values.Length; i++)
        {
            var x = values[i];
            values[i] = float.IsNaN(x) || x == nd ? 0 : Math.Clamp((x - offset) * factor, 0f, 1f);
        }
    }

    private static (double Low, double High) Range(RasterDataset raster, int band, InputScaling scaling)
    {
        var kind = scaling.Kind;
        if (kind == "auto")
        {
            if (raster.DataTypeOf(band) == RasterDataType.Byte)
            {
                return (0, 255);
            }
            kind = "percentile";
        }
        if (kind == "range")
        {
            return (scaling.Low, scaling.High);
        }
        var factor = Math.Max(1.0, Math.Max(raster.Width, raster.Height) / (double)StatisticsSide);
        var w = Math.Max(1, (int)(raster.Width / factor));
        var h = Math.Max(1, (int)(raster.Height / factor));
        var sample = new float[w * h];
        raster.ReadDecimated(band, new RasterWindow(0, 0, raster.Width, raster.Height), w, h, sample.AsSpan());
        var noData = raster.NoDataOf(band);
        var valid = sample.Where(x => !float.IsNaN(x) && (noData is not { } nd || x != (float)nd)).ToArray();
        if (valid.Length == 0)
        {
            throw new SiteWatchException($"{raster.Path}: band {band} holds no valid pixels");
        }
        Array.Sort(valid);
        double At(double p) => valid[(int)Math.Clamp(Math.Round(p / 100 * (valid.Length - 1)), 0, valid.Length - 1)];
        var (low, high) = (At(scaling.Low), At(scaling.High));
        return high > low ? (low, high) : (low, low + 1); // a flat band maps to 0
    }
}
