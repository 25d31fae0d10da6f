namespace SiteWatch.Core.Detection;

/// <summary>
/// How a model's classes are reported: each model class kept under its own name, renamed (several may share one
/// reported name, e.g. DOTA's small-vehicle and large-vehicle as vehicle) or dropped. Reported names keep the order
/// in which they first appear among the model's classes.
/// </summary>
public sealed class ClassMapping
{
    private readonly int[] _target;

    private ClassMapping(IReadOnlyList<string> names, int[] target, bool identity)
    {
        Names = names;
        _target = target;
        IsIdentity = identity;
    }

    /// <summary>The reported class names, distinct, in order.</summary>
    public IReadOnlyList<string> Names { get; }

    public bool IsIdentity { get; }

    /// <summary>
    /// The mapping of <paramref name="modelClasses"/> through the model's side-car map and then the caller's map
    /// (the caller's entry wins for a class both name). A map naming a class the model lacks is refused: a typo
    /// would otherwise silently keep the class unmapped.
    /// </summary>
    public static ClassMapping Build(IReadOnlyList<string> modelClasses, IReadOnlyDictionary<string, string>? modelMap, IReadOnlyDictionary<string, string>? userMap, string modelPath)
    {
        Check(modelClasses, modelMap, $"{modelPath}: side-car class_map");
        Check(modelClasses, userMap, "class map");
        var names = new List<string>();
        var target = new int[modelClasses.Count];
        var identity = true;
        for (var i = 0; i < modelClasses.Count; i++)
        {
            var name = modelClasses[i];
            var reported = userMap is not null && userMap.TryGetValue(name, out var u) ? u
                : modelMap is not null && modelMap.TryGetValue(name, out var m) ? m
                : name;
            if (reported.Length == 0)
            {
                target[i] = -1;
                identity = false;
                continue;
            }
            var index = names.IndexOf(reported);
            if (index < 0)
            {
                index = names.Count;
                names.Add(reported);
            }
            target[i] = index;
            identity &= index == i && reported == name;
        }
        if (names.Count == 0)
        {
            throw new SiteWatchException($"{modelPath}: the class map drops every class of the model; nothing would be detected");
        }
        return new ClassMapping(names, target, identity);
    }

    private static void Check(IReadOnlyList<string> modelClasses, IReadOnlyDictionary<string, string>? map, string what)
    {
        if (map is null)
        {
            return;
        }
        var unknown = map.Keys.Where(k => !modelClasses.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new SiteWatchException($"{what} names {string.Join(", ", unknown.Select(u => $"'{u}'"))}, which the model does not have (it has {string.Join(", ", modelClasses)})");
        }
    }

    /// <summary>The candidates under their reported class ids and names; dropped classes left out.</summary>
    internal List<PixelDetection> Apply(List<PixelDetection> candidates)
    {
        if (IsIdentity)
        {
            return candidates;
        }
        var result = new List<PixelDetection>(candidates.Count);
        foreach (var d in candidates)
        {
            var t = _target[d.ClassId];
            if (t >= 0)
            {
                result.Add(d with { ClassId = t, ClassName = Names[t] });
            }
        }
        return result;
    }

    /// <summary>
    /// Parses a command-line or API class map, "small-vehicle=vehicle,large-vehicle=vehicle,plane=" (an empty
    /// target drops the class).
    /// </summary>
    public static IReadOnlyDictionary<string, string> Parse(string text)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = entry.IndexOf('=');
            if (eq <= 0)
            {
                throw new SiteWatchException($"class map entry '{entry}' must be MODEL_CLASS=REPORTED_CLASS (an empty REPORTED_CLASS drops the class)");
            }
            var from = entry[..eq].Trim();
            if (!map.TryAdd(from, entry[(eq + 1)..].Trim()))
            {
                throw new SiteWatchException($"class map names '{from}' twice");
            }
        }
        if (map.Count == 0)
        {
            throw new SiteWatchException("class map is empty; give MODEL_CLASS=REPORTED_CLASS pairs separated by commas");
        }
        return map;
    }
}
