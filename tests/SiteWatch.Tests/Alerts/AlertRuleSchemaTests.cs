using System.Globalization;
using SiteWatch.Core;
using SiteWatch.Core.Alerts;

namespace SiteWatch.Tests.Alerts;

/// <summary>The rules file's schema and its parser come from one table of fields; these checks keep them saying the same.</summary>
public sealed class AlertRuleSchemaTests
{
    private static string Rule(string kind, string fields) => $$"""{"rules": [{"name": "r", "kind": "{{kind}}"{{fields}}}]}""";

    private const string Zone = """, "zone": {"type": "Polygon", "coordinates": [[[127.49, 39.92], [127.50, 39.92], [127.50, 39.93], [127.49, 39.92]]]}""";

    /// <summary>The other fields a rule of the kind needs to be valid at all.</summary>
    private static string Needed(string kind) => kind switch
    {
        RuleKind.CountAboveBaseline => """, "class": "vehicle" """,
        RuleKind.NewStructure => """, "min_area_m2": 100""",
        RuleKind.ObjectRemoved => """, "class": "crane" """,
        _ => Zone + """, "min_area_m2": 100""",
    };

    [Fact]
    public void Every_numeric_fields_minimum_is_what_the_parser_accepts_and_its_default_what_it_gives()
    {
        foreach (var field in AlertRuleSchema.Fields.Where(f => f.Type is "number" or "integer"))
        {
            foreach (var kind in field.Kinds)
            {
                var others = Needed(kind).Contains($"\"{field.Name}\"", StringComparison.Ordinal) ? (kind == RuleKind.ChangeAreaInZone ? Zone : "") : Needed(kind);
                string With(double value) => Rule(kind, others + string.Create(CultureInfo.InvariantCulture, $", \"{field.Name}\": {value}"));
                // Below the minimum: refused, naming the field.
                var below = Assert.Throws<SiteWatchException>(() => AlertRuleSet.Parse(With(field.Minimum!.Value - 1), "r.json"));
                Assert.Contains($"rules[0].{field.Name}", below.Message);
                // Just above it: accepted by every kind (at the minimum itself some kinds want more, as the schema says).
                AlertRuleSet.Parse(With(field.Minimum!.Value + 1), "r.json");
            }
        }
        var defaults = AlertRuleSet.Parse(Rule(RuleKind.CountAboveBaseline, Needed(RuleKind.CountAboveBaseline)), "r.json").Rules[0];
        Assert.Equal(AlertRuleSchema.Fields.Single(f => f.Name == "k").Default, defaults.K);
        Assert.Equal(AlertRuleSchema.Fields.Single(f => f.Name == "baseline").Default, defaults.Baseline);
        Assert.Equal(AlertRuleSchema.Fields.Single(f => f.Name == "min_count").Default, defaults.MinCount);
    }

    [Fact]
    public void A_field_of_another_kind_is_refused_as_the_schema_leaves_it_out()
    {
        var e = Assert.Throws<SiteWatchException>(() => AlertRuleSet.Parse(Rule(RuleKind.NewStructure, """, "min_area_m2": 100, "class": "crane" """), "r.json"));
        Assert.Contains("rules[0].class: not a field of a new_structure rule (fields: min_area_m2, severity)", e.Message);
        var schema = AlertRuleSchema.Generate();
        var perKind = schema["properties"]!["rules"]!["items"]!["allOf"]!.AsArray()
            .Single(c => (string?)c!["if"]!["properties"]!["kind"]!["const"] == RuleKind.NewStructure)!;
        Assert.Equal(["name", "kind", "severity", "min_area_m2"], perKind["then"]!["propertyNames"]!["enum"]!.AsArray().Select(v => (string?)v));
        Assert.Equal(RuleKind.All, schema["properties"]!["rules"]!["items"]!["properties"]!["kind"]!["enum"]!.AsArray().Select(v => (string?)v));
    }
}
