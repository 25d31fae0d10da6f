using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
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
    /// Picks the bands named in <paramref name="wanted"/> (see <see cref="Identify"/>) and computes their scaling once
    /// for the whole scene.
    /// </summary>
    public static SceneBands Select(RasterDataset raster, IReadOnlyList<string> wanted, InputScaling scaling) =>
        Measure(raster, Identify(raster, wanted), scaling);

    /// <summary>
    /// The scene's band numbers for the channels named in <paramref name="wanted"/> (red, green, blue, nir by band
    /// description, GDAL colour interpretation, STAC / ENVI names or wavelengths; any other name by exact description;
    /// or 1-based numbers).
    /// </summary>
    public static int[] Identify(RasterDataset raster, IReadOnlyList<string> wanted)
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
        return numbers;
    }

    /// <summary>The scaling of bands <paramref name="bandNumbers"/> of <paramref name="raster"/>, computed once for the whole raster.</summary>
    public static SceneBands Measure(RasterDataset raster, IReadOnlyList<int> bandNumbers, InputScaling scaling) =>
        new(bandNumbers, [.. bandNumbers.Select(b => Range(raster, b, scaling))]);

    /// <summary>Scales raw values of channel <paramref name="channel"/> in place to 0..1; nodata and NaN become 0.</summary>
    public void Scale(int channel, Span<float> values, double? noData)
    {
        var (low, high) = Ranges[channel];
        var factor = (float)(1 / (high - low));
        var offset = (float)low;
        var nd = noData is { } v ? (float)v : float.NaN;
        var i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            // The same arithmetic lane by lane ((x - offset) * factor, clamped), so values equal the scalar loop's.
            var vFactor = new Vector<float>(factor);
            var vOffset = new Vector<float>(offset);
            var vNoData = new Vector<float>(nd);
            var zero = Vector<float>.Zero;
            var one = Vector<float>.One;
            var lanes = MemoryMarshal.Cast<float, Vector<float>>(values);
            for (var k = 0; k < lanes.Length; k++)
            {
                var x = lanes[k];
                var scaled = Vector.Min(Vector.Max((x - vOffset) * vFactor, zero), one);
                // Valid: not NaN (x == x) and not nodata (never true when nd is NaN).
                var valid = Vector.AndNot(Vector.Equals(x, x), Vector.Equals(x, vNoData));
                lanes[k] = Vector.ConditionalSelect(valid, scaled, zero);
            }
            i = lanes.Length * Vector<float>.Count;
        }
        for (; i < values.Length; i++)
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
        var noData = raster.NoDataOf(band);
        // Integer bands are sampled in their own type: GDAL then copies the picked values instead of converting each.
        var (low, high) = raster.DataTypeOf(band) switch
        {
            RasterDataType.Byte => PercentilesOfIntegers(Sample<byte>(raster, band, w, h), 0, noData, scaling, raster.Path, band),
            RasterDataType.UInt16 => PercentilesOfIntegers(Sample<ushort>(raster, band, w, h), 0, noData, scaling, raster.Path, band),
            RasterDataType.Int16 => PercentilesOfIntegers(Sample<short>(raster, band, w, h), short.MinValue, noData, scaling, raster.Path, band),
            _ => PercentilesBySorting(Sample<float>(raster, band, w, h), noData, scaling, raster.Path, band),
        };
        return high > low ? (low, high) : (low, low + 1); // a flat band maps to 0
    }

    private static T[] Sample<T>(RasterDataset raster, int band, int width, int height) where T : unmanaged
    {
        var sample = new T[width * height];
        raster.ReadDecimated(band, new RasterWindow(0, 0, raster.Width, raster.Height), width, height, sample.AsSpan());
        return sample;
    }

    /// <summary>The value at rank round(p / 100 * (n - 1)) of the sorted valid values.</summary>
    private static int Rank(double percentile, int count) => (int)Math.Clamp(Math.Round(percentile / 100 * (count - 1)), 0, count - 1);

    private static (double Low, double High) PercentilesBySorting(float[] sample, double? noData, InputScaling scaling, string path, int band)
    {
        var valid = sample.Where(x => !float.IsNaN(x) && (noData is not { } nd || x != (float)nd)).ToArray();
        if (valid.Length == 0)
        {
            throw new SiteWatchException($"{path}: band {band} holds no valid pixels");
        }
        Array.Sort(valid);
        return (valid[Rank(scaling.Low, valid.Length)], valid[Rank(scaling.High, valid.Length)]);
    }

    /// <summary>
    /// The same ranks as <see cref="PercentilesBySorting"/> would give (the values are exact in float) from a histogram,
    /// for bands of 8- and 16-bit integers: one pass instead of sorting a million values per band.
    /// </summary>
    private static (double Low, double High) PercentilesOfIntegers<T>(T[] sample, int minimum, double? noData, InputScaling scaling, string path, int band)
        where T : unmanaged, IBinaryInteger<T>
    {
        var counts = new int[65536];
        foreach (var x in sample)
        {
            counts[int.CreateTruncating(x) - minimum]++;
        }
        // Nodata is compared as the sorting path compares it: as a float against each value.
        if (noData is { } nd)
        {
            for (var k = 0; k < counts.Length; k++)
            {
                if ((float)(k + minimum) == (float)nd)
                {
                    counts[k] = 0;
                }
            }
        }
        long total = 0;
        foreach (var c in counts)
        {
            total += c;
        }
        if (total == 0)
        {
            throw new SiteWatchException($"{path}: band {band} holds no valid pixels");
        }
        double ValueAt(int rank)
        {
            long seen = 0;
            for (var k = 0; k < counts.Length; k++)
            {
                seen += counts[k];
                if (seen > rank)
                {
                    return k + minimum;
                }
            }
            throw new InvalidOperationException("rank beyond the histogram");
        }
        return (ValueAt(Rank(scaling.Low, (int)total)), ValueAt(Rank(scaling.High, (int)total)));
    }
}
