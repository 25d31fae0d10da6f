using System.Globalization;
using System.Text.Json;
using SiteWatch.Core;

namespace SiteWatch.Video.Watch;

/// <summary>
/// Reads watch zones from a GeoJSON FeatureCollection (WGS84 lon/lat): Polygon and MultiPolygon zones, LineString lines.
/// Properties: name, rules (["enter", "cross", "loiter"]; or rule: one of them as a string), loiter_seconds, classes, min_score, min_area_m2,
/// cooldown_seconds, buffer_m (lines), hysteresis_m (lines), inertia (frames). Every problem is a
/// <see cref="SiteWatchException"/> naming the file, the feature index and the field.
/// </summary>
public static class WatchZoneFile
{
    public static IReadOnlyList<WatchZone> Load(string path)
    {
        string text;
        try
        {
            text = Core.IO.BoundedFile.ReadText(path, "watch zones file");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SiteWatchException($"{path}: cannot read the zones file: {e.Message}", e);
        }

        return Parse(text, path);
    }

    public static IReadOnlyList<WatchZone> Parse(string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new SiteWatchException($"{source}: not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || type.GetString() != "FeatureCollection")
            {
                throw new SiteWatchException($"{source}: expected a GeoJSON FeatureCollection");
            }

            if (!root.TryGetProperty("features", out var features) || features.ValueKind != JsonValueKind.Array)
            {
                throw new SiteWatchException($"{source}: the FeatureCollection has no 'features' array");
            }

            var zones = new List<WatchZone>();
            var index = 0;
            foreach (var feature in features.EnumerateArray())
            {
                zones.Add(ReadFeature(feature, $"{source}: feature {index}", index));
                index++;
            }

            if (zones.Count == 0)
            {
                throw new SiteWatchException($"{source}: the FeatureCollection has no zones");
            }

            var duplicate = zones.GroupBy(z => z.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
            {
                throw new SiteWatchException($"{source}: zone name '{duplicate.Key}' is used by more than one feature");
            }

            return zones;
        }
    }

    private static WatchZone ReadFeature(JsonElement feature, string where, int index)
    {
        if (feature.ValueKind != JsonValueKind.Object || !feature.TryGetProperty("geometry", out var geometry) || geometry.ValueKind != JsonValueKind.Object)
        {
            throw new SiteWatchException($"{where}: not a Feature with a geometry");
        }

        var properties = feature.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
        var name = properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty("name", out var n)
            ? n.ValueKind == JsonValueKind.String && n.GetString() is { Length: > 0 } s ? s : throw Bad(where, "name", "a non-empty string", n)
            : $"zone {index}";
        where = $"{where} ('{name}')";
        var geometryType = geometry.TryGetProperty("type", out var gt) && gt.ValueKind == JsonValueKind.String ? gt.GetString() : null;
        if (!geometry.TryGetProperty("coordinates", out var coordinates) || coordinates.ValueKind != JsonValueKind.Array)
        {
            throw new SiteWatchException($"{where}: geometry has no 'coordinates' array");
        }

        List<IReadOnlyList<IReadOnlyList<(double Lon, double Lat)>>> polygons = [];
        List<(double Lon, double Lat)>? line = null;
        switch (geometryType)
        {
            case "Polygon":
                polygons.Add(ReadPolygon(coordinates, where));
                break;
            case "MultiPolygon":
                polygons.AddRange(coordinates.EnumerateArray().Select((c, i) => ReadPolygon(c, $"{where}: polygon {i}")));
                if (polygons.Count == 0)
                {
                    throw new SiteWatchException($"{where}: MultiPolygon has no polygons");
                }

                break;
            case "LineString":
                line = ReadPositions(coordinates, where, "line");
                if (line.Count < 2)
                {
                    throw new SiteWatchException($"{where}: a LineString needs at least 2 positions");
                }

                break;
            default:
                throw new SiteWatchException($"{where}: geometry type '{geometryType}' is not a zone; use Polygon, MultiPolygon or LineString");
        }

        var settings = ReadSettings(properties, where, line is not null);
        return new WatchZone(name, polygons, line, settings);
    }

    private static List<IReadOnlyList<(double Lon, double Lat)>> ReadPolygon(JsonElement rings, string where)
    {
        if (rings.ValueKind != JsonValueKind.Array || rings.GetArrayLength() == 0)
        {
            throw new SiteWatchException($"{where}: a Polygon needs at least one ring");
        }

        var result = new List<IReadOnlyList<(double Lon, double Lat)>>();
        var i = 0;
        foreach (var ring in rings.EnumerateArray())
        {
            var positions = ReadPositions(ring, where, $"ring {i}");
            if (positions.Count < 4 || positions[0] != positions[^1])
            {
                throw new SiteWatchException($"{where}: ring {i} must be closed (first position repeated last) with at least 4 positions");
            }

            result.Add(positions);
            i++;
        }

        return result;
    }

    private static List<(double Lon, double Lat)> ReadPositions(JsonElement array, string where, string what)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new SiteWatchException($"{where}: {what} is not an array of positions");
        }

        var result = new List<(double, double)>();
        var i = 0;
        foreach (var position in array.EnumerateArray())
        {
            if (position.ValueKind != JsonValueKind.Array || position.GetArrayLength() < 2
                || position[0].ValueKind != JsonValueKind.Number || position[1].ValueKind != JsonValueKind.Number)
            {
                throw new SiteWatchException($"{where}: {what} position {i} is not [longitude, latitude]");
            }

            var lon = position[0].GetDouble();
            var lat = position[1].GetDouble();
            if (lon is < -180 or > 180 || lat is < -90 or > 90)
            {
                throw new SiteWatchException(string.Create(CultureInfo.InvariantCulture,
                    $"{where}: {what} position {i} ({lon}, {lat}) is not WGS84 longitude/latitude (projected coordinates?)"));
            }

            result.Add((lon, lat));
            i++;
        }

        return result;
    }

    private static ZoneSettings ReadSettings(JsonElement properties, string where, bool isLine)
    {
        var settings = new ZoneSettings();
        if (properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in properties.EnumerateObject())
            {
                var value = property.Value;
                settings = property.Name switch
                {
                    "rules" => settings with { Rules = ReadRules(value, where, property.Name) },
                    // One rule as a string, as some zone files carry it ("crossing" reads as cross).
                    "rule" => settings with
                    {
                        Rules = value.ValueKind == JsonValueKind.String ? new HashSet<ZoneRule> { ParseRule(value.GetString(), where, property.Name) } : throw Bad(where, property.Name, "a string", value),
                    },
                    "loiter_seconds" => settings with { LoiterSeconds = Number(value, where, property.Name, 0, exclusiveMin: true) },
                    "classes" => settings with { Classes = ReadClasses(value, where) },
                    "min_score" => settings with { MinScore = Number(value, where, property.Name, 0, 1) },
                    "min_area_m2" => settings with { MinAreaM2 = Number(value, where, property.Name, 0) },
                    "cooldown_seconds" => settings with { CooldownSeconds = Number(value, where, property.Name, 0) },
                    "buffer_m" => settings with { BufferMetres = Number(value, where, property.Name, 0) },
                    "hysteresis_m" => settings with { HysteresisMetres = Number(value, where, property.Name, 0) },
                    "inertia" => settings with { Inertia = (int)Number(value, where, property.Name, 1, 1000, integer: true) },
                    _ => settings, // other properties (styling, notes) are the analyst's own
                };
            }
        }

        var rulesGiven = properties.ValueKind == JsonValueKind.Object && (properties.TryGetProperty("rules", out _) || properties.TryGetProperty("rule", out _));
        if (!rulesGiven)
        {
            settings = settings with { Rules = new HashSet<ZoneRule> { isLine ? ZoneRule.Cross : ZoneRule.Enter } };
        }

        if (!isLine && settings.BufferMetres > 0)
        {
            throw new SiteWatchException($"{where}: property 'buffer_m' applies to lines only");
        }

        if (!isLine && settings.Rules.Contains(ZoneRule.Cross))
        {
            throw new SiteWatchException($"{where}: property 'rules': 'cross' needs a LineString zone");
        }

        if (isLine && settings.BufferMetres <= 0 && (settings.Rules.Contains(ZoneRule.Enter) || settings.Rules.Contains(ZoneRule.Loiter)))
        {
            throw new SiteWatchException($"{where}: property 'rules': 'enter' and 'loiter' on a line need 'buffer_m' (a corridor)");
        }

        return settings;
    }

    private static HashSet<ZoneRule> ReadRules(JsonElement value, string where, string field)
    {
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0)
        {
            throw Bad(where, field, "a non-empty array of \"enter\", \"cross\", \"loiter\"", value);
        }

        var rules = new HashSet<ZoneRule>();
        foreach (var item in value.EnumerateArray())
        {
            rules.Add(item.ValueKind == JsonValueKind.String ? ParseRule(item.GetString(), where, field) : throw Bad(where, field, "an array of strings", value));
        }

        return rules;
    }

    private static ZoneRule ParseRule(string? rule, string where, string field) => rule switch
    {
        "enter" => ZoneRule.Enter,
        "cross" or "crossing" => ZoneRule.Cross,
        "loiter" => ZoneRule.Loiter,
        _ => throw new SiteWatchException($"{where}: property '{field}': unknown rule '{rule}' (use enter, cross, loiter)"),
    };

    private static HashSet<string> ReadClasses(JsonElement value, string where)
    {
        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            throw Bad(where, "classes", "an array of class names", value);
        }

        return new HashSet<string>(value.EnumerateArray().Select(e => e.GetString()!), StringComparer.OrdinalIgnoreCase);
    }

    private static double Number(JsonElement value, string where, string field, double min, double max = double.PositiveInfinity,
        bool exclusiveMin = false, bool integer = false)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw Bad(where, field, integer ? "an integer" : "a number", value);
        }

        var number = value.GetDouble();
        if (number < min || number > max || (exclusiveMin && number <= min) || (integer && number != Math.Floor(number)))
        {
            var range = max < double.PositiveInfinity ? $"{min}..{max}" : exclusiveMin ? $"above {min}" : $"at least {min}";
            throw new SiteWatchException(string.Create(CultureInfo.InvariantCulture, $"{where}: property '{field}' must be {(integer ? "an integer " : "")}{range}, got {number}"));
        }

        return number;
    }

    private static SiteWatchException Bad(string where, string field, string expected, JsonElement got) =>
        new($"{where}: property '{field}' must be {expected}, got {Describe(got)}");

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{value.GetString()}\"",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {value.GetRawText()}",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        _ => "an object",
    };
}
