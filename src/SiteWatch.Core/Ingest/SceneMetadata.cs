using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.IO;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Ingest;

/// <summary>What a scene says about itself: acquisition time, sensor, bands, cloud cover.</summary>
/// <param name="CloudMaskPath">A provider's cloud mask for the scene (non-zero = cloud or cloud shadow), from its STAC item.</param>
public sealed record SceneMetadata(DateTime? AcquiredUtc, string? AcquiredFrom, string? Sensor, IReadOnlyList<SceneBand> Bands, double? CloudCoverPercent,
    string? CloudMaskPath = null);

/// <summary>
/// Reads scene metadata from, in order of trust: a STAC item JSON next to the file, GDAL's IMAGERY domain, TIFF tags,
/// the ENVI header, and common vendor keys.
/// </summary>
public static partial class SceneMetadataReader
{
    public static SceneMetadata Read(RasterDataset raster, string path)
    {
        var stac = ReadStac(path);
        DateTime? acquired = stac?.Acquired;
        string? from = acquired is null ? null : "STAC item";
        if (acquired is null && TryTime(raster.GetMetadataItem("ACQUISITIONDATETIME", "IMAGERY"), out var imagery))
        {
            (acquired, from) = (imagery, "GDAL IMAGERY metadata");
        }
        if (acquired is null && TryTime(raster.GetMetadataItem("ACQUISITIONDATETIME"), out var stored))
        {
            (acquired, from) = (stored, "ACQUISITIONDATETIME"); // a scene SiteWatch stored
        }
        if (acquired is null && TryTiffTime(raster.GetMetadataItem("TIFFTAG_DATETIME"), out var tiff))
        {
            (acquired, from) = (tiff, "TIFFTAG_DATETIME");
        }
        var envi = raster.Driver == "ENVI" ? raster.GetMetadata("ENVI") : new Dictionary<string, string>();
        if (acquired is null)
        {
            foreach (var key in new[] { "acquisition_time", "acquisition time", "acquisition_date" })
            {
                if (envi.TryGetValue(key, out var text) && TryTime(text, out var enviTime))
                {
                    (acquired, from) = (enviTime, "ENVI header");
                    break;
                }
            }
        }
        if (acquired is null)
        {
            var general = raster.GetMetadata();
            foreach (var key in new[] { "ACQUISITION_DATE", "DATE_ACQUIRED", "SENSING_TIME", "ACQUISITION_TIME", "DATETIME" })
            {
                if (general.TryGetValue(key, out var text) && TryTime(text, out var t))
                {
                    (acquired, from) = (t, key);
                    break;
                }
            }
        }

        var sensor = stac?.Sensor
            ?? raster.GetMetadataItem("SATELLITEID", "IMAGERY")
            ?? raster.GetMetadataItem("SENSOR")
            ?? (envi.TryGetValue("sensor_type", out var st) ? st : null)
            ?? (envi.TryGetValue("sensor type", out var st2) ? st2 : null);

        double? cloud = stac?.CloudCover;
        if (cloud is null && double.TryParse(raster.GetMetadataItem("CLOUDCOVER", "IMAGERY") ?? raster.GetMetadataItem("CLOUD_COVER"),
                NumberStyles.Float, CultureInfo.InvariantCulture, out var c) && c is >= 0 and <= 100)
        {
            cloud = c;
        }
        return new SceneMetadata(acquired, from, string.IsNullOrWhiteSpace(sensor) ? null : sensor.Trim(), ReadBands(raster, stac, envi), cloud, stac?.CloudMask);
    }

    private static string? SpectralColour(string interpretation) => interpretation switch
    {
        "Red" => "red",
        "Green" => "green",
        "Blue" => "blue",
        "NIR" => "nir",
        _ => null,
    };

    private static IReadOnlyList<SceneBand> ReadBands(RasterDataset raster, StacInfo? stac, IReadOnlyDictionary<string, string> envi)
    {
        var enviWavelengths = envi.TryGetValue("wavelength", out var list) ? ParseNumberList(list) : [];
        var enviScale = envi.TryGetValue("wavelength_units", out var units) && units.StartsWith("nan", StringComparison.OrdinalIgnoreCase) ? 0.001 : 1.0;
        var bands = new List<SceneBand>(raster.BandCount);
        for (var b = 1; b <= raster.BandCount; b++)
        {
            var stacBand = stac?.Bands is { } sb && b <= sb.Count ? sb[b - 1] : null;
            // Orthophotos and drone mosaics seldom describe their bands but mark them red, green, blue (and, from
            // GDAL 3.10, NIR) as TIFF photometric colour: that is as good a name.
            var name = stacBand?.Name ?? raster.BandDescription(b) ?? SpectralColour(raster.ColourInterpretation(b)) ?? $"band{b}";
            double? wavelength = stacBand?.Wavelength;
            if (wavelength is null && double.TryParse(raster.GetMetadataItem("CENTRAL_WAVELENGTH_UM", "IMAGERY", b), NumberStyles.Float, CultureInfo.InvariantCulture, out var w))
            {
                wavelength = w;
            }
            if (wavelength is null && b <= enviWavelengths.Count)
            {
                wavelength = enviWavelengths[b - 1] * enviScale;
            }
            if (wavelength is null && double.TryParse(raster.GetMetadataItem("wavelength", null, b), NumberStyles.Float, CultureInfo.InvariantCulture, out var bw))
            {
                wavelength = bw * enviScale;
            }
            // ENVI descriptions end with "(0.482500 Micrometers)": the wavelength is already a field of its own.
            name = WavelengthSuffix().Replace(name, "").Trim();
            bands.Add(new SceneBand(name.Length == 0 ? $"band{b}" : name, wavelength));
        }
        return bands;
    }

    private static List<double> ParseNumberList(string text) =>
        text.Trim('{', '}', ' ').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN)
            .Where(double.IsFinite).ToList();

    private sealed record StacBand(string? Name, double? Wavelength);
    private sealed record StacInfo(DateTime? Acquired, string? Sensor, double? CloudCover, IReadOnlyList<StacBand>? Bands, string? CloudMask);

    /// <summary>
    /// A STAC item is looked for as FILE.json or as the file name with its extension replaced by .json. A JSON file there
    /// that is not a GeoJSON Feature with properties is not a STAC item and is ignored; a STAC item with a member of the
    /// wrong type (properties, assets, href, roles, bands ...) or a cloud cover outside 0..100 is refused with the
    /// member's path, rather than read without it.
    /// </summary>
    private static StacInfo? ReadStac(string path)
    {
        var candidates = new[] { path + ".json", Path.ChangeExtension(path, ".json") };
        var file = candidates.FirstOrDefault(f => f != path && File.Exists(f));
        if (file is null)
        {
            return null;
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(BoundedFile.ReadText(file, "STAC item"));
        }
        catch (JsonException e)
        {
            throw new SiteWatchException($"{file}: invalid STAC item JSON: {e.Message.Split('\n')[0]}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || type.GetString() != "Feature" || !root.TryGetProperty("properties", out var props) || props.ValueKind == JsonValueKind.Null)
            {
                return null;
            }
            var stac = new StacItem(file);
            stac.Require(props, "properties", JsonValueKind.Object, "an object");
            DateTime? acquired = null;
            foreach (var key in new[] { "datetime", "start_datetime" })
            {
                if (stac.OptionalString(props, key, $"properties.{key}") is { } text && TryTime(text, out var t))
                {
                    acquired = t;
                    break;
                }
            }
            var sensor = stac.OptionalString(props, "platform", "properties.platform") ?? stac.OptionalString(props, "constellation", "properties.constellation");
            if (stac.OptionalStrings(props, "instruments", "properties.instruments") is [var instrument, ..])
            {
                sensor = sensor is null ? instrument : $"{sensor} {instrument}";
            }
            double? cloud = null;
            if (props.TryGetProperty("eo:cloud_cover", out var cc) && cc.ValueKind != JsonValueKind.Null)
            {
                stac.Require(cc, "properties.eo:cloud_cover", JsonValueKind.Number, "a number");
                cloud = cc.GetDouble();
                if (cloud is not (>= 0 and <= 100))
                {
                    throw stac.Fail("properties.eo:cloud_cover", FormattableString.Invariant($"must be a percentage from 0 to 100, not {cc.GetRawText()}"));
                }
            }
            var assets = ReadAssets(root, stac);
            return new StacInfo(acquired, sensor, cloud, ReadStacBands(assets, props, Path.GetFileName(path), stac), ReadCloudMask(assets, stac));
        }
    }

    private sealed record StacAsset(string Key, JsonElement Value, string Href, IReadOnlyList<string> Roles);

    /// <summary>Every asset, checked: an object with a string href and roles an array of strings.</summary>
    private static List<StacAsset> ReadAssets(JsonElement root, StacItem stac)
    {
        var assets = new List<StacAsset>();
        if (!root.TryGetProperty("assets", out var all) || all.ValueKind == JsonValueKind.Null)
        {
            return assets;
        }
        stac.Require(all, "assets", JsonValueKind.Object, "an object");
        foreach (var asset in all.EnumerateObject())
        {
            var at = $"assets.{asset.Name}";
            stac.Require(asset.Value, at, JsonValueKind.Object, "an object");
            if (!asset.Value.TryGetProperty("href", out var href))
            {
                throw stac.Fail($"{at}.href", "is missing");
            }
            stac.Require(href, $"{at}.href", JsonValueKind.String, "a string");
            var roles = stac.OptionalStrings(asset.Value, "roles", $"{at}.roles") ?? [];
            assets.Add(new StacAsset(asset.Name, asset.Value, href.GetString()!, roles));
        }
        return assets;
    }

    /// <summary>An asset whose roles name clouds (as Planet's UDM or a cloud-mask product does), resolved next to the item.</summary>
    private static string? ReadCloudMask(List<StacAsset> assets, StacItem stac)
    {
        foreach (var asset in assets)
        {
            if (asset.Roles.Any(role => role.StartsWith("cloud", StringComparison.OrdinalIgnoreCase)))
            {
                string resolved;
                try
                {
                    resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(stac.File))!, asset.Href));
                }
                catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
                {
                    throw stac.Fail($"assets.{asset.Key}.href", $"is not a usable path ({e.Message})");
                }
                return File.Exists(resolved) ? resolved : throw new SiteWatchException($"{stac.File}: its cloud mask asset {asset.Href} does not exist");
            }
        }
        return null;
    }

    private static List<StacBand>? ReadStacBands(List<StacAsset> assets, JsonElement props, string fileName, StacItem stac)
    {
        JsonElement bands = default;
        var at = "properties.eo:bands";
        foreach (var asset in assets)
        {
            if (asset.Href.EndsWith(fileName, StringComparison.Ordinal) && asset.Value.TryGetProperty("eo:bands", out bands))
            {
                at = $"assets.{asset.Key}.eo:bands";
                break;
            }
        }
        if (bands.ValueKind == JsonValueKind.Undefined && !props.TryGetProperty("eo:bands", out bands))
        {
            return null;
        }
        if (bands.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        stac.Require(bands, at, JsonValueKind.Array, "an array");
        return bands.EnumerateArray().Select((b, i) =>
        {
            stac.Require(b, $"{at}[{i}]", JsonValueKind.Object, "an object");
            double? wavelength = null;
            if (b.TryGetProperty("center_wavelength", out var w) && w.ValueKind != JsonValueKind.Null)
            {
                stac.Require(w, $"{at}[{i}].center_wavelength", JsonValueKind.Number, "a number");
                wavelength = w.GetDouble() is var value && double.IsFinite(value) && value > 0
                    ? value
                    : throw stac.Fail($"{at}[{i}].center_wavelength", $"must be a positive number of micrometres, not {w.GetRawText()}");
            }
            return new StacBand(stac.OptionalString(b, "common_name", $"{at}[{i}].common_name") ?? stac.OptionalString(b, "name", $"{at}[{i}].name"), wavelength);
        }).ToList();
    }

    /// <summary>Type checks of a STAC item's members; every failure names the file and the member's path.</summary>
    private sealed class StacItem(string file)
    {
        public string File { get; } = file;

        public SiteWatchException Fail(string at, string problem) => new($"{File}: STAC item: {at} {problem}");

        public void Require(JsonElement value, string at, JsonValueKind kind, string described)
        {
            if (value.ValueKind != kind)
            {
                throw Fail(at, $"must be {described}, not {Describe(value)}");
            }
        }

        /// <summary>A string member, or null when absent or null.</summary>
        public string? OptionalString(JsonElement parent, string name, string at)
        {
            if (!parent.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }
            Require(v, at, JsonValueKind.String, "a string");
            return v.GetString();
        }

        /// <summary>An array of strings, or null when absent or null.</summary>
        public IReadOnlyList<string>? OptionalStrings(JsonElement parent, string name, string at)
        {
            if (!parent.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }
            Require(v, at, JsonValueKind.Array, "an array of strings");
            return v.EnumerateArray().Select((x, i) =>
            {
                Require(x, $"{at}[{i}]", JsonValueKind.String, "a string");
                return x.GetString()!;
            }).ToList();
        }

        private static string Describe(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => FormattableString.Invariant($"the number {value.GetRawText()}"),
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "null",
        };
    }

    /// <summary>Parses ISO 8601 and plain dates; times without a zone are taken as UTC.</summary>
    public static bool TryTime(string? text, out DateTime utc)
    {
        utc = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        return DateTime.TryParse(text.Trim(), CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out utc) && utc.Year is > 1950 and < 2200;
    }

    /// <summary>TIFF's DateTime tag: "YYYY:MM:DD HH:MM:SS".</summary>
    private static bool TryTiffTime(string? text, out DateTime utc)
    {
        utc = default;
        return text is not null && DateTime.TryParseExact(text.Trim(), "yyyy:MM:dd HH:mm:ss", CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out utc);
    }

    [GeneratedRegex(@"\s*\(\s*[0-9.]+\s*(micrometers|nanometers|um|nm)\s*\)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex WavelengthSuffix();
}
