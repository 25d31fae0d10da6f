using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;

namespace SiteWatch.Video.Watch;

/// <summary>
/// Reads watch zones from a GeoJSON FeatureCollection (WGS84 lon/lat): Polygon and MultiPolygon zones, LineString lines.
/// Each feature's properties are a <see cref="ZoneProperties"/> (its fields, defaults and bounds; the file's JSON
/// schema is <see cref="ZoneSchema"/>). Every problem is a <see cref="SiteWatchException"/> naming the file, the
/// feature index and the field.
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
        // The name first, so every later problem names the zone as well as the feature.
        var name = properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty("name", out var n)
            ? n.ValueKind == JsonValueKind.String && n.GetString() is { Length: > 0 } given ? given : throw Bad(where, "name", ZoneProperties.Fields["name"].Expected, n)
            : $"zone {index}";
        where = $"{where} ('{name}')";
        var read = ReadProperties(properties, where);
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

        var settings = ToSettings(read, properties, where, line is not null);
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

    /// <summary>
    /// The feature's properties as <see cref="ZoneProperties"/>, every value checked against the type and bounds the
    /// record declares; a problem names the feature, the property, what it must be and what it was.
    /// </summary>
    private static ZoneProperties ReadProperties(JsonElement properties, string where)
    {
        if (properties.ValueKind != JsonValueKind.Object)
        {
            return new ZoneProperties();
        }
        foreach (var property in properties.EnumerateObject())
        {
            // An explicit null is a mistake (absent means the default); say so rather than read it as absent.
            if (property.Value.ValueKind == JsonValueKind.Null && ZoneProperties.Fields.TryGetValue(property.Name, out var field))
            {
                throw Bad(where, property.Name, field.Expected, property.Value);
            }
        }
        ZoneProperties read;
        try
        {
            read = properties.Deserialize<ZoneProperties>(ZoneProperties.Json) ?? new ZoneProperties();
        }
        catch (JsonException e)
        {
            // The path names the field ($.min_score, $.rules[1]); the message names its value as the user wrote it.
            var name = e.Path is { Length: > 2 } path ? path[2..].Split('[', '.')[0] : null;
            if (name is not null && ZoneProperties.Fields.TryGetValue(name, out var field) && properties.TryGetProperty(name, out var value))
            {
                throw Bad(where, name, field.Expected, value);
            }
            throw new SiteWatchException($"{where}: properties: {e.Message}", e);
        }
        foreach (var (name, (property, _)) in ZoneProperties.Fields)
        {
            if (property.GetValue(read) is not { } value || property.GetCustomAttribute<RangeAttribute>() is not { } range)
            {
                continue;
            }
            var number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
            var min = Convert.ToDouble(range.Minimum, CultureInfo.InvariantCulture);
            var max = Convert.ToDouble(range.Maximum, CultureInfo.InvariantCulture);
            if (number < min || number > max || (range.MinimumIsExclusive && number <= min))
            {
                var integer = property.PropertyType == typeof(int?);
                var bounds = !double.IsPositiveInfinity(max) ? $"{min}..{max}" : range.MinimumIsExclusive ? $"above {min}" : $"at least {min}";
                throw new SiteWatchException(string.Create(CultureInfo.InvariantCulture, $"{where}: property '{name}' must be {(integer ? "an integer " : "")}{bounds}, got {number}"));
            }
        }
        return read;
    }

    private static ZoneSettings ToSettings(ZoneProperties read, JsonElement properties, string where, bool isLine)
    {
        var defaults = new ZoneSettings();
        HashSet<ZoneRule> rules;
        if (read.Rules is { } names)
        {
            if (names.Length == 0)
            {
                throw Bad(where, "rules", ZoneProperties.Fields["rules"].Expected, properties.GetProperty("rules"));
            }
            rules = names.Select(r => ParseRule(r, where, "rules")).ToHashSet();
        }
        else
        {
            // One rule as a string, as some zone files carry it ("crossing" reads as cross).
            rules = read.Rule is { } one ? [ParseRule(one, where, "rule")] : [isLine ? ZoneRule.Cross : ZoneRule.Enter];
        }
        var settings = new ZoneSettings
        {
            Rules = rules,
            LoiterSeconds = read.LoiterSeconds ?? defaults.LoiterSeconds,
            Classes = read.Classes is { } classes ? new HashSet<string>(classes, StringComparer.OrdinalIgnoreCase) : defaults.Classes,
            MinScore = read.MinScore ?? defaults.MinScore,
            MinAreaM2 = read.MinAreaM2 ?? defaults.MinAreaM2,
            CooldownSeconds = read.CooldownSeconds ?? defaults.CooldownSeconds,
            BufferMetres = read.BufferM ?? defaults.BufferMetres,
            HysteresisMetres = read.HysteresisM ?? defaults.HysteresisMetres,
            Inertia = read.Inertia ?? defaults.Inertia,
        };

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

    private static ZoneRule ParseRule(string? rule, string where, string field) => ZoneRuleNames.Parse(rule)
        ?? throw new SiteWatchException($"{where}: property '{field}': unknown rule '{rule}' (use {string.Join(", ", Core.Alerts.RuleKind.ZoneRules)})");

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
