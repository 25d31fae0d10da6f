using System.Text.Json;
using static TorchSharp.torch;

namespace SiteWatch.TrainChange;

/// <summary>Pixel counts of a change mask against its truth, where the truth is known.</summary>
internal record struct Confusion(long Tp, long Fp, long Fn, long Tn)
{
    public readonly double Precision => Tp + Fp == 0 ? 0 : Tp / (double)(Tp + Fp);
    public readonly double Recall => Tp + Fn == 0 ? 0 : Tp / (double)(Tp + Fn);
    public readonly double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);

    public static Confusion operator +(Confusion a, Confusion b) => new(a.Tp + b.Tp, a.Fp + b.Fp, a.Fn + b.Fn, a.Tn + b.Tn);
}

/// <summary>
/// A fixed set of samples never trained on (the NAIP columns kept out of training, a demo seed kept out of training),
/// scored at several thresholds: the export takes the threshold with the best pooled F1, so the product's default
/// threshold is chosen on data the model did not learn from, and the held-out benchmark seeds stay untouched.
/// </summary>
internal sealed class Validation
{
    public static readonly double[] Thresholds = [.. Enumerable.Range(2, 17).Select(i => i * 0.05)];

    private readonly List<(string Source, PairSample Sample)> _samples = [];

    public Validation(IEnumerable<(string Source, PairSample Sample)> samples) => _samples.AddRange(samples);

    public int Count => _samples.Count;

    /// <summary>Per source and pooled, the confusion at each of <see cref="Thresholds"/>.</summary>
    public Dictionary<string, Confusion[]> Score(ChangeNet net)
    {
        var result = new Dictionary<string, Confusion[]>(StringComparer.Ordinal) { ["pooled"] = new Confusion[Thresholds.Length] };
        using var _ = no_grad();
        foreach (var chunk in _samples.Chunk(8))
        {
            using var scope = NewDisposeScope();
            var (input, _, _) = ChangeTrainer.Batch([.. chunk.Select(c => c.Sample)]);
            var probability = net.forward(input).sigmoid().data<float>().ToArray();
            int n = chunk[0].Sample.Tile * chunk[0].Sample.Tile;
            for (int b = 0; b < chunk.Length; b++)
            {
                var (source, sample) = chunk[b];
                if (!result.TryGetValue(source, out var counts))
                {
                    result[source] = counts = new Confusion[Thresholds.Length];
                }
                for (int k = 0; k < Thresholds.Length; k++)
                {
                    var c = Tally(probability.AsSpan(b * n, n), sample, (float)Thresholds[k]);
                    counts[k] += c;
                    result["pooled"][k] += c;
                }
            }
        }
        return result;
    }

    private static Confusion Tally(ReadOnlySpan<float> probability, PairSample sample, float threshold)
    {
        long tp = 0, fp = 0, fn = 0, tn = 0;
        for (int i = 0; i < probability.Length; i++)
        {
            if (sample.Weight[i] == 0)
            {
                continue;
            }
            bool predicted = probability[i] >= threshold, truth = sample.Label[i] > 0.5f;
            if (predicted && truth) tp++;
            else if (predicted) fp++;
            else if (truth) fn++;
            else tn++;
        }
        return new Confusion(tp, fp, fn, tn);
    }

    /// <summary>Writes the scores as JSON and returns the threshold with the best pooled F1.</summary>
    public static double Report(Dictionary<string, Confusion[]> scores, TextWriter log, string? path)
    {
        var pooled = scores["pooled"];
        int best = Enumerable.Range(0, Thresholds.Length).MaxBy(k => pooled[k].F1);
        foreach (var (source, counts) in scores.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var c = counts[best];
            log.WriteLine($"  validation {source,-7} at {Thresholds[best]:F2}: F1 {c.F1:F3}  precision {c.Precision:F3}  recall {c.Recall:F3}  ({c.Tp + c.Fn} changed px)");
        }
        if (path is not null)
        {
            var doc = new
            {
                threshold = Thresholds[best],
                sources = scores.ToDictionary(s => s.Key, s => new
                {
                    f1 = Math.Round(s.Value[best].F1, 4),
                    precision = Math.Round(s.Value[best].Precision, 4),
                    recall = Math.Round(s.Value[best].Recall, 4),
                    changed_pixels = s.Value[best].Tp + s.Value[best].Fn,
                    pixels = s.Value[best].Tp + s.Value[best].Fp + s.Value[best].Fn + s.Value[best].Tn,
                    f1_by_threshold = Thresholds.Select((t, k) => new { threshold = Math.Round(t, 2), f1 = Math.Round(s.Value[k].F1, 4) }),
                }),
            };
            File.WriteAllText(path, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        }
        return Thresholds[best];
    }
}
