using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;

namespace SiteWatch.Video.Watch;

/// <summary>
/// The properties of a watch zone feature, as System.Text.Json reads them (snake_case names). Every field carries its
/// meaning, default and bounds: the zone reader checks values against them and the zone file's JSON schema
/// (<see cref="ZoneSchema"/>) is generated from them, so the two cannot drift apart. Other properties (styling,
/// the analyst's own notes) are allowed and ignored.
/// </summary>
public sealed record ZoneProperties
{
    [Description("The zone's name, unique in the file; alerts and events name it. Default: 'zone N' (its index).")]
    public string? Name { get; init; }

    [Description("What the zone watches for: enter (a confirmed track goes inside), cross (a track changes sides of a line; lines only), loiter (a track stays inside longer than loiter_seconds). Default: enter for polygons, cross for lines.")]
    public string[]? Rules { get; init; }

    [Description("One rule, as some zone files carry it ('crossing' reads as cross); rules takes precedence when both are given.")]
    public string? Rule { get; init; }

    [Description("Seconds a track stays inside before a loiter alert.")]
    [DefaultValue(30.0), Range(0.0, double.PositiveInfinity, MinimumIsExclusive = true)]
    public double? LoiterSeconds { get; init; }

    [Description("Only these object classes raise alerts (case-insensitive). Default: every class.")]
    public string[]? Classes { get; init; }

    [Description("The track's mean recent detection score must reach this.")]
    [DefaultValue(0.0), Range(0.0, 1.0)]
    public double? MinScore { get; init; }

    [Description("The object's box on the ground must be at least this many square metres.")]
    [DefaultValue(0.0), Range(0.0, double.PositiveInfinity)]
    public double? MinAreaM2 { get; init; }

    [Description("After an alert of this zone and rule, others are held back this many seconds.")]
    [DefaultValue(0.0), Range(0.0, double.PositiveInfinity)]
    public double? CooldownSeconds { get; init; }

    [Description("Lines only: a corridor this many metres wide on each side, which gives the line an area (enables enter and loiter).")]
    [DefaultValue(0.0), Range(0.0, double.PositiveInfinity)]
    public double? BufferM { get; init; }

    [Description("Lines only: a side counts only this many metres from the line, so jitter on the line is no crossing.")]
    [DefaultValue(2.0), Range(0.0, double.PositiveInfinity)]
    public double? HysteresisM { get; init; }

    [Description("Consecutive frames a track must be inside (or outside) before the change counts.")]
    [DefaultValue(3), Range(1, 1000)]
    public int? Inertia { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // Numbers must be numbers: "0.5" as a string is a mistake worth naming.
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict,
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    /// <summary>Each field by its JSON name: the property, and what a value of it must be (for messages).</summary>
    internal static readonly IReadOnlyDictionary<string, (PropertyInfo Property, string Expected)> Fields =
        typeof(ZoneProperties).GetProperties(BindingFlags.Public | BindingFlags.Instance).ToDictionary(
            p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name),
            p => (p, p.Name switch
            {
                nameof(Name) => "a non-empty string",
                nameof(Rules) => "a non-empty array of \"enter\", \"cross\", \"loiter\"",
                nameof(Classes) => "an array of class names",
                _ when p.PropertyType == typeof(int?) => "an integer",
                _ when p.PropertyType == typeof(double?) => "a number",
                _ => "a string",
            }));
}

/// <summary>The JSON schema (draft 2020-12) of a watch zone file, generated from <see cref="ZoneProperties"/>.</summary>
public static class ZoneSchema
{
    public static JsonNode Generate()
    {
        var properties = JsonSchemaExporter.GetJsonSchemaAsNode(ZoneProperties.Json, typeof(ZoneProperties), new JsonSchemaExporterOptions
        {
            TreatNullObliviousAsNonNullable = true,
            TransformSchemaNode = (context, node) =>
            {
                if (context.PropertyInfo?.AttributeProvider is not { } attributes || node is not JsonObject schema)
                {
                    return node;
                }
                // Absent and null both mean "the default": the schema says what is meant, a value of the type.
                if (schema["type"] is JsonArray types)
                {
                    var single = types.Select(t => t!.GetValue<string>()).Where(t => t != "null").ToList();
                    schema["type"] = single.Count == 1 ? single[0] : new JsonArray(single.Select(t => (JsonNode)t).ToArray());
                }
                foreach (var attribute in attributes.GetCustomAttributes(inherit: true))
                {
                    switch (attribute)
                    {
                        case DescriptionAttribute d:
                            schema["description"] = d.Description;
                            break;
                        case DefaultValueAttribute { Value: { } value }:
                            schema["default"] = value switch
                            {
                                int i => JsonValue.Create(i),
                                double d => JsonValue.Create(d),
                                _ => JsonValue.Create(value.ToString()),
                            };
                            break;
                        case RangeAttribute r:
                            var min = Convert.ToDouble(r.Minimum, System.Globalization.CultureInfo.InvariantCulture);
                            var max = Convert.ToDouble(r.Maximum, System.Globalization.CultureInfo.InvariantCulture);
                            schema[r.MinimumIsExclusive ? "exclusiveMinimum" : "minimum"] = min;
                            if (!double.IsPositiveInfinity(max))
                            {
                                schema["maximum"] = max;
                            }
                            break;
                    }
                }
                return schema;
            },
        });
        var rules = new JsonArray([.. Core.Alerts.RuleKind.ZoneRules.Append("crossing").Select(r => JsonValue.Create(r))]);
        ((JsonObject)properties["properties"]!["rules"]!)["items"] = new JsonObject { ["enum"] = rules.DeepClone() };
        ((JsonObject)properties["properties"]!["rule"]!)["enum"] = rules;
        ((JsonObject)properties)["additionalProperties"] = true;

        return new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["title"] = "SiteWatch watch zones",
            ["description"] = "A GeoJSON FeatureCollection (WGS84 longitude, latitude) of watch zones: Polygon and MultiPolygon areas, LineString lines (borders, roads). Read by 'sitewatch watch --zones' and the server's zone routes.",
            ["type"] = "object",
            ["required"] = new JsonArray("type", "features"),
            ["properties"] = new JsonObject
            {
                ["type"] = new JsonObject { ["const"] = "FeatureCollection" },
                ["features"] = new JsonObject
                {
                    ["type"] = "array",
                    ["minItems"] = 1,
                    ["items"] = new JsonObject
                    {
                        ["type"] = "object",
                        ["required"] = new JsonArray("type", "geometry"),
                        ["properties"] = new JsonObject
                        {
                            ["type"] = new JsonObject { ["const"] = "Feature" },
                            ["geometry"] = new JsonObject
                            {
                                ["type"] = "object",
                                ["required"] = new JsonArray("type", "coordinates"),
                                ["properties"] = new JsonObject { ["type"] = new JsonObject { ["enum"] = new JsonArray("Polygon", "MultiPolygon", "LineString") } },
                            },
                            ["properties"] = properties,
                        },
                    },
                },
            },
        };
    }
}
