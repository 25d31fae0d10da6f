using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using SiteWatch.Core.Catalog;
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

    private static IReadOnlyList<SceneBand> ReadBands(RasterDataset raster, StacInfo? stac, IReadOnlyDictionary<string, string> envi)
    {
        var enviWavelengths = envi.TryGetValue("wavelength", out var list) ? ParseNumberList(list) : [];
        var enviScale = envi.TryGetValue("wavelength_units", out var units) && units.StartsWith("nan", StringComparison.OrdinalIgnoreCase) ? 0.001 : 1.0;
        var bands = new List<SceneBand>(raster.BandCount);
        for (var b = 1; b <= raster.BandCount; b++)
        {
            var stacBand = stac?.Bands is { } sb && b <= sb.Count ? sb[b - 1] : null;
            var name = stacBand?.Name ?? raster.BandDescription(b) ?? $"band{b}";
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

    /// <summary>A STAC item is looked for as FILE.json or as the file name with its extension replaced by .json.</summary>
    private static StacInfo? ReadStac(string path)
    {
        var candidates = new[] { path + ".json", Path.ChangeExtension(path, ".json") };
        var file = candidates.FirstOrDefault(f => f != path && File.Exists(f));
        if (file is null)
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            var root = doc.RootElement;
            if (!root.TryGetProperty("type", out var type) || type.GetString() != "Feature" || !root.TryGetProperty("properties", out var props))
            {
                return null;
            }
            DateTime? acquired = null;
            foreach (var key in new[] { "datetime", "start_datetime" })
            {
                if (props.TryGetProperty(key, out var dt) && dt.ValueKind == JsonValueKind.String && TryTime(dt.GetString(), out var t))
                {
                    acquired = t;
                    break;
                }
            }
            var sensor = String(props, "platform") ?? String(props, "constellation");
            if (props.TryGetProperty("instruments", out var instruments) && instruments.ValueKind == JsonValueKind.Array && instruments.GetArrayLength() > 0)
            {
                sensor = sensor is null ? instruments[0].GetString() : $"{sensor} {instruments[0].GetString()}";
            }
            double? cloud = props.TryGetProperty("eo:cloud_cover", out var cc) && cc.ValueKind == JsonValueKind.Number ? cc.GetDouble() : null;
            return new StacInfo(acquired, sensor, cloud, ReadStacBands(root, props, Path.GetFileName(path)), ReadCloudMask(root, file));
        }
        catch (JsonException e)
        {
            throw new SiteWatchException($"{file}: invalid STAC item JSON: {e.Message.Split('\n')[0]}");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // A member of the wrong JSON kind (found by fuzzing: e.g. "assets": {"a": "text"}, "instruments": [{}]).
            throw new SiteWatchException($"{file}: not a valid STAC item: {e.Message.Split('\n')[0]}");
        }
    }

    /// <summary>An asset whose roles name clouds (as Planet's UDM or a cloud-mask product does), resolved next to the item.</summary>
    private static string? ReadCloudMask(JsonElement root, string itemPath)
    {
        if (!root.TryGetProperty("assets", out var assets) || assets.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        foreach (var asset in assets.EnumerateObject())
        {
            var roles = asset.Value.TryGetProperty("roles", out var r) && r.ValueKind == JsonValueKind.Array
                ? r.EnumerateArray().Select(x => x.GetString() ?? "").ToArray()
                : [];
            if (roles.Any(role => role.StartsWith("cloud", StringComparison.OrdinalIgnoreCase)) && String(asset.Value, "href") is { } href)
            {
                var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(itemPath))!, href));
                return File.Exists(resolved) ? resolved : throw new SiteWatchException($"{itemPath}: its cloud mask asset {href} does not exist");
            }
        }
        return null;
    }

    private static List<StacBand>? ReadStacBands(JsonElement root, JsonElement props, string fileName)
    {
        JsonElement bands = default;
        if (root.TryGetProperty("assets", out var assets) && assets.ValueKind == JsonValueKind.Object)
        {
            foreach (var asset in assets.EnumerateObject())
            {
                var href = String(asset.Value, "href");
                if (href is not null && href.EndsWith(fileName, StringComparison.Ordinal) && asset.Value.TryGetProperty("eo:bands", out bands))
                {
                    break;
                }
            }
        }
        if (bands.ValueKind != JsonValueKind.Array && !props.TryGetProperty("eo:bands", out bands))
        {
            return null;
        }
        return bands.EnumerateArray().Select(b => new StacBand(
            String(b, "common_name") ?? String(b, "name"),
            b.TryGetProperty("center_wavelength", out var w) && w.ValueKind == JsonValueKind.Number ? w.GetDouble() : null)).ToList();
    }

    private static string? String(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

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
