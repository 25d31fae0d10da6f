using System.Globalization;
using System.Text.Json;
using NetTopologySuite.Features;
using NetTopologySuite.Geometries;
using NetTopologySuite.Geometries.Utilities;

namespace SiteWatch.Core.Detection;

/// <summary>Detection accuracy of one class: matches at an IoU threshold, one truth object per detection at most.</summary>
public sealed record ClassAccuracy(string ClassName, int TruthCount, int PredictedCount, int TruePositives, int FalsePositives, int FalseNegatives)
{
    public double Precision => PredictedCount == 0 ? double.NaN : (double)TruePositives / PredictedCount;
    public double Recall => TruthCount == 0 ? double.NaN : (double)TruePositives / TruthCount;
    public double F1 => TruePositives == 0 ? 0 : 2.0 * TruePositives / (TruthCount + PredictedCount);
}

/// <summary>A labelled polygon: a detection (with its score) or a truth object (score 1).</summary>
public sealed record LabelledPolygon(string ClassName, double Score, Geometry Polygon);

/// <summary>
/// Scores detections against reference objects per class: greedy matching in descending score order to the
/// unmatched reference of the same class with the highest IoU, counted a true positive at IoU &gt;= the threshold
/// (as in the PASCAL VOC / COCO protocol at a single threshold). Geometries are compared in a local metric
/// projection, so WGS84 inputs give IoUs of areas in m².
/// </summary>
public static class DetectionEvaluator
{
    /// <param name="axisAligned">Compare against the references' bounding boxes: an axis-aligned detector cannot draw
    /// a rotated object's outline, so its boxes are matched with the box it was trained to find.</param>
    public static IReadOnlyList<ClassAccuracy> Evaluate(IReadOnlyList<LabelledPolygon> predicted, IReadOnlyList<LabelledPolygon> truth,
        double iouThreshold = 0.3, bool axisAligned = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(iouThreshold);
        var centre = (truth.Count > 0 ? truth : predicted).Select(p => p.Polygon.Centroid.Coordinate).DefaultIfEmpty(new Coordinate(0, 0)).First();
        var local = new LocalMetres(centre.Y);
        var classes = predicted.Select(p => p.ClassName).Concat(truth.Select(t => t.ClassName)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var result = new List<ClassAccuracy>();
        foreach (var cls in classes)
        {
            var refs = truth.Where(t => t.ClassName == cls).Select(t => local.Project(t.Polygon))
                .Select(g => axisAligned ? g.Envelope : g).ToList();
            var preds = predicted.Where(p => p.ClassName == cls).OrderByDescending(p => p.Score).Select(p => local.Project(p.Polygon)).ToList();
            var used = new bool[refs.Count];
            int tp = 0;
            foreach (var p in preds)
            {
                int best = -1;
                double bestIou = 0;
                for (int i = 0; i < refs.Count; i++)
                {
                    if (used[i] || !p.EnvelopeInternal.Intersects(refs[i].EnvelopeInternal))
                    {
                        continue;
                    }
                    double iou = IoU(p, refs[i]);
                    if (iou > bestIou)
                    {
                        bestIou = iou;
                        best = i;
                    }
                }
                if (best >= 0 && bestIou >= iouThreshold)
                {
                    used[best] = true;
                    tp++;
                }
            }
            result.Add(new ClassAccuracy(cls, refs.Count, preds.Count, tp, preds.Count - tp, refs.Count - tp));
        }
        return result;
    }

    private static double IoU(Geometry a, Geometry b)
    {
        var inter = a.Intersection(b).Area;
        var union = a.Area + b.Area - inter;
        return union <= 0 ? 0 : inter / union;
    }

    /// <summary>True when every detection is an axis-aligned box (SiteWatch writes orientation_deg 0 for those).</summary>
    public static bool AllAxisAligned(string path) =>
        Geo.GeoJsonText.ReadFeatures(path).All(f => f.Attributes?.GetOptionalValue("orientation_deg") is { } o
            && Math.Abs(Convert.ToDouble(o, CultureInfo.InvariantCulture) % 90) < 1e-6);

    /// <summary>Reads detections written by SiteWatch (or any FeatureCollection with `class` and optional `score`).</summary>
    public static IReadOnlyList<LabelledPolygon> ReadDetections(string path, string classProperty = "class")
    {
        var list = new List<LabelledPolygon>();
        foreach (var (feature, index) in Geo.GeoJsonText.ReadFeatures(path).Select((f, i) => (f, i)))
        {
            var cls = feature.Attributes?.GetOptionalValue(classProperty)?.ToString()
                ?? throw new SiteWatchException($"{path}: feature {index} has no '{classProperty}' property");
            double score = feature.Attributes?.GetOptionalValue("score") is { } s ? Convert.ToDouble(s, CultureInfo.InvariantCulture) : 1;
            list.Add(new LabelledPolygon(cls, score, feature.Geometry));
        }
        return list;
    }

    /// <summary>
    /// Reads reference objects present on <paramref name="date"/> (features with `appeared_on` / `removed_on` dates are
    /// filtered; others always count) and maps their class with <paramref name="classOf"/> (null: not a detector
    /// class, left out). The default map is SiteWatch's demo ground truth to the default model's classes.
    /// </summary>
    public static IReadOnlyList<LabelledPolygon> ReadTruth(string path, DateOnly? date, Func<string, string?, string?>? classOf = null)
    {
        classOf ??= DemoClassOf;
        var list = new List<LabelledPolygon>();
        foreach (var (feature, index) in Geo.GeoJsonText.ReadFeatures(path).Select((f, i) => (f, i)))
        {
            var attributes = feature.Attributes;
            var cls = attributes?.GetOptionalValue("class")?.ToString();
            // SiteWatch's truth files also hold change polygons (feature_type "change"); only objects are references.
            var type = attributes?.GetOptionalValue("feature_type")?.ToString();
            if (cls is null || feature.Geometry is not (Polygon or MultiPolygon) || (type is not null && type != "object"))
            {
                continue;
            }
            var appeared = DateOf(attributes!, "appeared_on", path, index);
            var removed = DateOf(attributes!, "removed_on", path, index);
            if (date is { } d && ((appeared is { } a && a > d) || (removed is { } r && r <= d)))
            {
                continue;
            }
            if (classOf(cls, date is { } day ? StageOn(attributes!, day) : null) is { } mapped)
            {
                list.Add(new LabelledPolygon(mapped, 1, feature.Geometry));
            }
        }
        return list;
    }

    /// <summary>The demo's truth classes as the default detector names them; unfinished buildings are "construction".</summary>
    public static string? DemoClassOf(string truthClass, string? stage) => truthClass switch
    {
        "vehicle" => "vehicle",
        "freight_car" => "freight_car",
        "material_pile" => "material_pile",
        "bridge_crane" => "crane",
        "new_assembly_building" or "worker_housing" => stage is null or "roof" ? "building" : "construction",
        "assembly_hall" => "building",
        _ => null,
    };

    private static string? StageOn(IAttributesTable attributes, DateOnly date)
    {
        if (attributes.GetOptionalValue("stages") is not IEnumerable<object> stages)
        {
            return null;
        }
        string? stage = null;
        foreach (var s in stages.OfType<IAttributesTable>())
        {
            if (DateOnly.TryParse(s.GetOptionalValue("from")?.ToString(), CultureInfo.InvariantCulture, out var from) && from <= date)
            {
                stage = s.GetOptionalValue("stage")?.ToString();
            }
        }
        return stage;
    }

    private static DateOnly? DateOf(IAttributesTable attributes, string name, string path, int index)
    {
        var value = attributes.GetOptionalValue(name)?.ToString();
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        return DateOnly.TryParse(value, CultureInfo.InvariantCulture, out var d)
            ? d
            : throw new SiteWatchException($"{path}: feature {index}: '{name}' is not a date: {value}");
    }

    /// <summary>Equirectangular metres around a latitude: exact enough for IoUs of objects a few hundred metres across.</summary>
    private sealed class LocalMetres(double latitude)
    {
        private readonly double _kx = 111_320 * Math.Cos(latitude * Math.PI / 180);
        private const double Ky = 110_574;

        public Geometry Project(Geometry g)
        {
            var copy = g.Copy();
            copy.Apply(new Scale(_kx, Ky));
            copy.GeometryChanged();
            return copy.IsValid ? copy : GeometryFixer.Fix(copy);
        }

        private sealed class Scale(double kx, double ky) : ICoordinateSequenceFilter
        {
            public bool Done => false;
            public bool GeometryChanged => true;

            public void Filter(CoordinateSequence seq, int i)
            {
                seq.SetX(i, seq.GetX(i) * kx);
                seq.SetY(i, seq.GetY(i) * ky);
            }
        }
    }
}
