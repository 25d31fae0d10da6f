using System.Text.Json.Nodes;

namespace SiteWatch.Core.Alerts;

/// <summary>One field of a rule in an alert rules file: what it means, its type, default and bounds, and the kinds it belongs to.</summary>
public sealed record RuleField(string Name, string Type, string Description, IReadOnlyList<string> Kinds, object? Default = null, double? Minimum = null,
    double? Maximum = null, bool ExclusiveMinimum = false);

/// <summary>
/// The fields of alert rules, one table: the parser takes from it which fields each kind accepts, and the rules
/// file's JSON schema (<see cref="Generate"/>) is built from it with every field's meaning, default and bounds.
/// </summary>
public static class AlertRuleSchema
{
    public static readonly IReadOnlyList<string> Severities = ["info", "warning", "critical"];

    public static readonly IReadOnlyList<RuleField> Fields =
    [
        new("class", "string", "The detector class counted (count_above_baseline), or whose detections a removed object must lie on (object_removed).",
            [RuleKind.CountAboveBaseline, RuleKind.ObjectRemoved]),
        new("k", "number", "How many standard deviations above the trailing baseline mean the count must be.",
            [RuleKind.CountAboveBaseline], Default: 2.0, Minimum: 0),
        new("baseline", "integer", "How many previous dates make the baseline.", [RuleKind.CountAboveBaseline], Default: 3, Minimum: 1),
        new("min_count", "integer", "The count must also reach this.", [RuleKind.CountAboveBaseline], Default: 0, Minimum: 0),
        new("zone", "geometry", "A sub-zone of the site: a GeoJSON Polygon or MultiPolygon in WGS84 longitude, latitude.",
            [RuleKind.ObjectRemoved, RuleKind.ChangeAreaInZone]),
        new("min_area_m2", "number", "Smallest area in square metres: of a new structure, of a removed object, or of change inside the zone. Required and above 0 for new_structure and change_area_in_zone; 0 or more, default 0, for object_removed.",
            [RuleKind.NewStructure, RuleKind.ObjectRemoved, RuleKind.ChangeAreaInZone], Minimum: 0),
    ];

    /// <summary>The fields a rule of <paramref name="kind"/> may carry besides name, kind and severity.</summary>
    public static IReadOnlyList<string> FieldsOf(string kind) => Fields.Where(f => f.Kinds.Contains(kind)).Select(f => f.Name).ToList();

    /// <summary>The JSON schema (draft 2020-12) of an alert rules file.</summary>
    public static JsonNode Generate()
    {
        var ruleProperties = new JsonObject
        {
            ["name"] = new JsonObject { ["type"] = "string", ["minLength"] = 1, ["description"] = "The rule's name, unique in the file: alerts carry it." },
            ["kind"] = new JsonObject { ["enum"] = Strings(RuleKind.All), ["description"] = "count_above_baseline: a class's count above its trailing baseline; new_structure: a new (appeared, not shadow) change object; object_removed: a removed change object on a detection of the class or in the zone; change_area_in_zone: change of at least an area inside the zone." },
            ["severity"] = new JsonObject { ["enum"] = Strings(Severities), ["default"] = "warning", ["description"] = "How the alert is flagged." },
        };
        foreach (var field in Fields)
        {
            var schema = field.Type == "geometry"
                ? new JsonObject { ["type"] = "object", ["required"] = new JsonArray("type", "coordinates"), ["properties"] = new JsonObject { ["type"] = new JsonObject { ["enum"] = new JsonArray("Polygon", "MultiPolygon") } } }
                : new JsonObject { ["type"] = field.Type };
            schema["description"] = field.Description;
            if (field.Default is { } d)
            {
                schema["default"] = d is int i ? JsonValue.Create(i) : JsonValue.Create(Convert.ToDouble(d, System.Globalization.CultureInfo.InvariantCulture));
            }
            if (field.Minimum is { } min)
            {
                schema[field.ExclusiveMinimum ? "exclusiveMinimum" : "minimum"] = min;
            }
            if (field.Maximum is { } max)
            {
                schema["maximum"] = max;
            }
            ruleProperties[field.Name] = schema;
        }
        // Per kind: only its own fields, and the ones it needs.
        var perKind = new JsonArray();
        foreach (var kind in RuleKind.All)
        {
            var then = new JsonObject { ["propertyNames"] = new JsonObject { ["enum"] = Strings(["name", "kind", "severity", .. FieldsOf(kind)]) } };
            switch (kind)
            {
                case RuleKind.CountAboveBaseline:
                    then["required"] = new JsonArray("class");
                    break;
                case RuleKind.NewStructure:
                    then["required"] = new JsonArray("min_area_m2");
                    then["properties"] = new JsonObject { ["min_area_m2"] = new JsonObject { ["exclusiveMinimum"] = 0 } };
                    break;
                case RuleKind.ObjectRemoved:
                    then["anyOf"] = new JsonArray(new JsonObject { ["required"] = new JsonArray("class") }, new JsonObject { ["required"] = new JsonArray("zone") });
                    break;
                case RuleKind.ChangeAreaInZone:
                    then["required"] = new JsonArray("zone", "min_area_m2");
                    then["properties"] = new JsonObject { ["min_area_m2"] = new JsonObject { ["exclusiveMinimum"] = 0 } };
                    break;
            }
            perKind.Add(new JsonObject { ["if"] = new JsonObject { ["properties"] = new JsonObject { ["kind"] = new JsonObject { ["const"] = kind } } }, ["then"] = then });
        }
        return new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["title"] = "SiteWatch alert rules",
            ["description"] = "A site's alert rules and the webhooks its alerts are POSTed to, as 'sitewatch alerts rules --file' and PUT /api/sites/{id}/rules read them (comments and trailing commas allowed).",
            ["type"] = "object",
            ["required"] = new JsonArray("rules"),
            ["additionalProperties"] = false,
            ["properties"] = new JsonObject
            {
                ["rules"] = new JsonObject
                {
                    ["type"] = "array",
                    ["minItems"] = 1,
                    ["items"] = new JsonObject { ["type"] = "object", ["required"] = new JsonArray("name", "kind"), ["properties"] = ruleProperties, ["allOf"] = perKind },
                },
                ["webhooks"] = new JsonObject
                {
                    ["type"] = "array",
                    ["items"] = new JsonObject
                    {
                        ["type"] = "object",
                        ["required"] = new JsonArray("url"),
                        ["additionalProperties"] = false,
                        ["properties"] = new JsonObject
                        {
                            ["url"] = new JsonObject { ["type"] = "string", ["format"] = "uri", ["pattern"] = "^https?://", ["description"] = "Where alerts are POSTed (http or https)." },
                            ["secret"] = new JsonObject { ["type"] = "string", ["description"] = "Signs every POST: X-SiteWatch-Signature is sha256= and the HMAC-SHA256 of the body." },
                            ["max_attempts"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1, ["maximum"] = 100, ["default"] = 8, ["description"] = "Attempts before a delivery is marked failed (retried with backoff)." },
                        },
                    },
                },
            },
        };
    }

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());
}
