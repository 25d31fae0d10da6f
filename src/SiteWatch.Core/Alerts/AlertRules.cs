using System.Globalization;
using System.Text.Json;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Geo;

namespace SiteWatch.Core.Alerts;

/// <summary>
/// The kinds of alert, one vocabulary for scenes and video: the rules a site's alert rules file may hold
/// (<see cref="All"/>), and the rules of a drone watch zone (<see cref="ZoneRules"/>). An alert's kind is one of these.
/// </summary>
public static class RuleKind
{
    /// <summary>A class's count above its trailing baseline mean + k standard deviations.</summary>
    public const string CountAboveBaseline = "count_above_baseline";
    /// <summary>A new (appeared, not shadow) change object of at least a given area.</summary>
    public const string NewStructure = "new_structure";
    /// <summary>A removed change object on a detection of the class (or in a zone), or the class's count falling to zero.</summary>
    public const string ObjectRemoved = "object_removed";
    /// <summary>Change of at least a given area inside a zone.</summary>
    public const string ChangeAreaInZone = "change_area_in_zone";

    public static readonly string[] All = [CountAboveBaseline, NewStructure, ObjectRemoved, ChangeAreaInZone];

    /// <summary>Drone video: a confirmed track went from outside a watch zone to inside.</summary>
    public const string Enter = "enter";
    /// <summary>Drone video: a track changed sides of a watch line.</summary>
    public const string Cross = "cross";
    /// <summary>Drone video: a track stayed inside a watch zone longer than its loiter time.</summary>
    public const string Loiter = "loiter";

    public static readonly string[] ZoneRules = [Enter, Cross, Loiter];
}

/// <summary>One rule of a site's alert rules file.</summary>
public sealed record AlertRule
{
    public required string Name { get; init; }
    public required string Kind { get; init; }
    public string Severity { get; init; } = "warning";
    public string? Class { get; init; }
    /// <summary>count_above_baseline: how many standard deviations above the baseline mean.</summary>
    public double K { get; init; } = 2;
    /// <summary>count_above_baseline: how many previous dates make the baseline.</summary>
    public int Baseline { get; init; } = 3;
    /// <summary>count_above_baseline: the count must also reach this.</summary>
    public int MinCount { get; init; }
    public double MinAreaSquareMetres { get; init; }
    /// <summary>A sub-zone of the site, WGS84.</summary>
    public Geometry? Zone { get; init; }
}

/// <summary>A webhook alerts are POSTed to; with a secret the body is signed (HMAC-SHA256).</summary>
public sealed record WebhookConfig(string Url, string? Secret, int MaxAttempts);

/// <summary>A site's alert rules and webhooks, read from a JSON file (comments and trailing commas allowed).</summary>
public sealed record AlertRuleSet(IReadOnlyList<AlertRule> Rules, IReadOnlyList<WebhookConfig> Webhooks)
{
    private static readonly IReadOnlyList<string> Severities = AlertRuleSchema.Severities;

    /// <summary>The fields each kind accepts, from the one table the rules file's schema is generated from.</summary>
    private static readonly Dictionary<string, IReadOnlyList<string>> Fields = RuleKind.All.ToDictionary(k => k, AlertRuleSchema.FieldsOf);

    public static AlertRuleSet ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new SiteWatchException($"{path}: file not found");
        }
        return Parse(IO.BoundedFile.ReadText(path, "alert rules file"), path);
    }

    /// <summary>Parses and checks a rules file; every problem is named by its rule index and field, all on one line.</summary>
    public static AlertRuleSet Parse(string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new SiteWatchException($"{source}: not valid JSON (line {(e.LineNumber ?? 0) + 1}): {e.Message.Split(". ")[0]}");
        }
        using (document)
        {
            var errors = new List<string>();
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new SiteWatchException($"{source}: expected an object with \"rules\" (and optionally \"webhooks\")");
            }
            foreach (var member in root.EnumerateObject().Where(m => m.Name is not ("rules" or "webhooks")))
            {
                errors.Add($"unknown member \"{member.Name}\" (expected \"rules\" and \"webhooks\")");
            }
            var rules = new List<AlertRule>();
            if (!root.TryGetProperty("rules", out var rulesElement) || rulesElement.ValueKind != JsonValueKind.Array || rulesElement.GetArrayLength() == 0)
            {
                errors.Add("\"rules\" must be a non-empty array of rules");
            }
            else
            {
                var i = 0;
                foreach (var element in rulesElement.EnumerateArray())
                {
                    if (ParseRule(element, $"rules[{i}]", errors) is { } rule)
                    {
                        if (rules.Any(r => string.Equals(r.Name, rule.Name, StringComparison.OrdinalIgnoreCase)))
                        {
                            errors.Add($"rules[{i}].name: \"{rule.Name}\" is used by an earlier rule; names identify alerts and must be unique");
                        }
                        rules.Add(rule);
                    }
                    i++;
                }
            }
            var webhooks = new List<WebhookConfig>();
            if (root.TryGetProperty("webhooks", out var hooks))
            {
                if (hooks.ValueKind != JsonValueKind.Array)
                {
                    errors.Add("\"webhooks\" must be an array");
                }
                else
                {
                    var i = 0;
                    foreach (var hook in hooks.EnumerateArray())
                    {
                        if (ParseWebhook(hook, $"webhooks[{i++}]", errors) is { } w)
                        {
                            webhooks.Add(w);
                        }
                    }
                }
            }
            if (errors.Count > 0)
            {
                throw new SiteWatchException($"{source}: {string.Join("; ", errors)}");
            }
            return new AlertRuleSet(rules, webhooks);
        }
    }

    private static AlertRule? ParseRule(JsonElement e, string at, List<string> errors)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{at}: a rule must be an object with \"name\" and \"kind\"");
            return null;
        }
        var count = errors.Count;
        var name = e.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(n.GetString()) ? n.GetString()!.Trim() : null;
        if (name is null)
        {
            errors.Add($"{at}.name: required, a non-empty string");
        }
        var kind = e.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString()! : null;
        if (kind is null || !Fields.TryGetValue(kind, out var allowed))
        {
            errors.Add($"{at}.kind: {(kind is null ? "required" : $"unknown kind \"{kind}\"")}; one of {string.Join(", ", RuleKind.All)}");
            return null;
        }
        foreach (var member in e.EnumerateObject().Where(m => m.Name is not ("name" or "kind" or "severity") && !allowed.Contains(m.Name)))
        {
            errors.Add($"{at}.{member.Name}: not a field of a {kind} rule (fields: {string.Join(", ", allowed)}, severity)");
        }
        var severity = "warning";
        if (e.TryGetProperty("severity", out var s))
        {
            severity = s.ValueKind == JsonValueKind.String && Severities.Contains(s.GetString()) ? s.GetString()! : Error<string>(errors, $"{at}.severity: one of {string.Join(", ", Severities)}") ?? severity;
        }
        var rule = new AlertRule { Name = name ?? "", Kind = kind, Severity = severity };
        switch (kind)
        {
            case RuleKind.CountAboveBaseline:
                rule = rule with
                {
                    Class = String(e, "class", at, errors, required: true),
                    K = Number(e, "k", at, errors, min: 0, fallback: 2, "a number of standard deviations, 0 or more"),
                    Baseline = (int)Number(e, "baseline", at, errors, min: 1, fallback: 3, "a whole number of previous dates, at least 1", whole: true),
                    MinCount = (int)Number(e, "min_count", at, errors, min: 0, fallback: 0, "a whole count, 0 or more", whole: true),
                };
                break;
            case RuleKind.NewStructure:
                rule = rule with { MinAreaSquareMetres = Number(e, "min_area_m2", at, errors, min: 0, fallback: null, "a positive area in square metres") };
                break;
            case RuleKind.ObjectRemoved:
                rule = rule with
                {
                    Class = String(e, "class", at, errors, required: false),
                    Zone = Zone(e, at, errors, required: false),
                    MinAreaSquareMetres = Number(e, "min_area_m2", at, errors, min: 0, fallback: 0, "an area in square metres, 0 or more"),
                };
                if (rule.Class is null && rule.Zone is null && !e.TryGetProperty("class", out _) && !e.TryGetProperty("zone", out _))
                {
                    errors.Add($"{at}: an object_removed rule needs \"class\" (a detector class) or \"zone\" (a GeoJSON polygon), or both");
                }
                break;
            case RuleKind.ChangeAreaInZone:
                rule = rule with
                {
                    Zone = Zone(e, at, errors, required: true),
                    MinAreaSquareMetres = Number(e, "min_area_m2", at, errors, min: 0, fallback: null, "a positive area in square metres"),
                };
                break;
        }
        return errors.Count == count ? rule : null;
    }

    private static WebhookConfig? ParseWebhook(JsonElement e, string at, List<string> errors)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{at}: a webhook must be an object with \"url\"");
            return null;
        }
        var count = errors.Count;
        foreach (var member in e.EnumerateObject().Where(m => m.Name is not ("url" or "secret" or "max_attempts")))
        {
            errors.Add($"{at}.{member.Name}: not a webhook field (url, secret, max_attempts)");
        }
        var url = String(e, "url", at, errors, required: true);
        if (url is not null && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            errors.Add($"{at}.url: \"{url}\" is not an absolute http(s) URL");
        }
        var secret = String(e, "secret", at, errors, required: false);
        var attempts = (int)Number(e, "max_attempts", at, errors, min: 1, fallback: 8, "a whole number of attempts, 1 to 100", whole: true, max: 100);
        return errors.Count == count ? new WebhookConfig(url!, secret, attempts) : null;
    }

    private static T? Error<T>(List<string> errors, string message)
    {
        errors.Add(message);
        return default;
    }

    private static string? String(JsonElement e, string field, string at, List<string> errors, bool required)
    {
        if (!e.TryGetProperty(field, out var v))
        {
            return required ? Error<string>(errors, $"{at}.{field}: required") : null;
        }
        return v.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(v.GetString())
            ? v.GetString()!.Trim()
            : Error<string>(errors, $"{at}.{field}: must be a non-empty string");
    }

    private static double Number(JsonElement e, string field, string at, List<string> errors, double min, double? fallback, string what, bool whole = false, double max = double.MaxValue)
    {
        if (!e.TryGetProperty(field, out var v))
        {
            if (fallback is { } f)
            {
                return f;
            }
            errors.Add($"{at}.{field}: required, {what}");
            return 0;
        }
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || !double.IsFinite(d) || d < min || d > max
            || (whole && d != Math.Floor(d)) || (fallback is null && d <= 0))
        {
            errors.Add($"{at}.{field}: {v.GetRawText()} is not {what}");
            return fallback ?? 0;
        }
        return d;
    }

    private static Geometry? Zone(JsonElement e, string at, List<string> errors, bool required)
    {
        if (!e.TryGetProperty("zone", out var v))
        {
            return required ? Error<Geometry>(errors, $"{at}.zone: required, a GeoJSON Polygon in WGS84") : null;
        }
        try
        {
            return AoiReader.Parse(v.GetRawText(), $"{at}.zone");
        }
        catch (SiteWatchException ex)
        {
            errors.Add(ex.Message);
            return null;
        }
    }

    /// <summary>The rules as a user would read them back (numbers in the invariant culture).</summary>
    public static string Describe(AlertRule rule) => rule.Kind switch
    {
        RuleKind.CountAboveBaseline => FormattableString.Invariant($"{rule.Class} count > mean + {rule.K}·sd of previous {rule.Baseline} dates and ≥ {rule.MinCount}"),
        RuleKind.NewStructure => FormattableString.Invariant($"new structure ≥ {rule.MinAreaSquareMetres:N0} m²"),
        RuleKind.ObjectRemoved => $"removed {rule.Class ?? "object"}{(rule.Zone is null ? "" : " in zone")}" +
            (rule.MinAreaSquareMetres > 0 ? string.Create(CultureInfo.InvariantCulture, $" ≥ {rule.MinAreaSquareMetres:N0} m²") : ""),
        RuleKind.ChangeAreaInZone => FormattableString.Invariant($"change ≥ {rule.MinAreaSquareMetres:N0} m² in zone"),
        _ => rule.Kind,
    };
}
