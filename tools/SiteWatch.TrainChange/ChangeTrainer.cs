using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;
using SiteWatch.Training;

namespace SiteWatch.TrainChange;

internal sealed record ChangeTrainingOptions(int Tile = 128, int Batch = 8, int Steps = 3000, double LearningRate = 2e-3, int Seed = 1, int CheckpointEvery = 500);

/// <summary>
/// Trains <see cref="ChangeNet"/> on samples drawn in turn from the sources. Every sample is augmented the way dates
/// really differ and the product would still call "no change": per date gain, offset and gamma per band (sensor,
/// sun, haze, season), noise, a slight blur of one date, up to a pixel of residual misregistration; and the ways a
/// scene may lie: the eight flips and rotations, the dates swapped (appeared and removed are both change).
/// Loss: binary cross-entropy (weighted per pixel, so unknown pixels count nothing) plus soft Dice on the change
/// class, which keeps a rare class from being ignored. AdamW, cosine learning rate after a short warm-up.
/// </summary>
internal sealed class ChangeTrainer(ChangeNet net, IReadOnlyList<IPairSource> sources, ChangeTrainingOptions options)
{
    private readonly Random _rng = new(options.Seed);

    public void Run(TextWriter log, Action<int>? checkpoint = null)
    {
        var schedule = new Schedule(optim.AdamW(net.parameters(), options.LearningRate, weight_decay: 1e-4), net, options.LearningRate, options.Steps);
        net.train();
        var clock = Stopwatch.StartNew();
        var samples = Enumerable.Range(0, options.Batch).Select(_ => new PairSample(options.Tile)).ToArray();
        for (int step = 0; step < options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            double lr = schedule.Begin(step);
            for (int b = 0; b < samples.Length; b++)
            {
                sources[(step * options.Batch + b) % sources.Count].Draw(_rng, samples[b]);
                Augment(_rng, samples[b]);
            }
            var (input, label, weight) = Batch(samples);
            var logits = net.forward(input);
            var (bce, dice) = Loss(logits, label, weight);
            var loss = bce + dice;
            schedule.Step(loss);
            if (step % 25 == 0 || step == options.Steps - 1)
            {
                log.WriteLine($"step {step,5}/{options.Steps}  loss {schedule.SmoothedLoss:F4}  (bce {bce.item<float>():F4}, dice {dice.item<float>():F4})  lr {lr:E2}  {clock.Elapsed.TotalMinutes:F1} min");
            }
            if (checkpoint is not null && (step + 1) % options.CheckpointEvery == 0 && step + 1 < options.Steps)
            {
                net.eval();
                checkpoint(step + 1);
                net.train();
            }
        }
        net.eval();
    }

    public static (Tensor Input, Tensor Label, Tensor Weight) Batch(IReadOnlyList<PairSample> samples)
    {
        int t = samples[0].Tile, n = samples.Count;
        var input = new float[n * 6 * t * t];
        var label = new float[n * t * t];
        var weight = new float[n * t * t];
        for (int b = 0; b < n; b++)
        {
            samples[b].Input.CopyTo(input, b * 6 * t * t);
            samples[b].Label.CopyTo(label, b * t * t);
            samples[b].Weight.CopyTo(weight, b * t * t);
        }
        return (tensor(input, [n, 6, t, t]), tensor(label, [n, 1, t, t]), tensor(weight, [n, 1, t, t]));
    }

    private static (Tensor Bce, Tensor Dice) Loss(Tensor logits, Tensor label, Tensor weight)
    {
        var ce = nn.functional.binary_cross_entropy_with_logits(logits, label, reduction: nn.Reduction.None);
        // Changed pixels weigh twice: they are a few percent of the pixels, and a missed building is the costly error.
        var w = weight * (1 + label);
        var bce = (ce * w).sum() / w.sum().clamp_min(1);
        var p = logits.sigmoid() * weight;
        var truth = label * weight;
        var dice = 1 - (2 * (p * truth).sum() + 1) / (p.sum() + truth.sum() + 1);
        return (bce, dice);
    }

    /// <summary>The ways two dates of one place differ without anything having changed, and the ways a scene can lie.</summary>
    public static void Augment(Random rng, PairSample s)
    {
        int t = s.Tile, n = t * t;
        int transform = rng.Next(8);
        if (transform != 0)
        {
            var copy = s.Input.ToArray();
            for (int k = 0; k < 6; k++)
            {
                Dihedral.Apply(transform, t, copy.AsSpan(k * n, n), s.Input.AsSpan(k * n, n));
            }
            var label = s.Label.ToArray();
            var weight = s.Weight.ToArray();
            Dihedral.Apply(transform, t, label, s.Label);
            Dihedral.Apply(transform, t, weight, s.Weight);
        }
        if (rng.NextDouble() < 0.5)
        {
            var before = s.Input.AsSpan(0, 3 * n).ToArray();
            s.Input.AsSpan(3 * n, 3 * n).CopyTo(s.Input.AsSpan(0, 3 * n));
            before.CopyTo(s.Input.AsSpan(3 * n, 3 * n));
        }
        if (rng.NextDouble() < 0.3)
        {
            // Residual misregistration: AFTER moved by one pixel.
            int dx = rng.Next(-1, 2), dy = rng.Next(-1, 2);
            for (int k = 3; k < 6; k++)
            {
                var plane = s.Input.AsSpan(k * n, n);
                var copy = plane.ToArray();
                for (int y = 0; y < t; y++)
                {
                    for (int x = 0; x < t; x++)
                    {
                        plane[y * t + x] = copy[Math.Clamp(y + dy, 0, t - 1) * t + Math.Clamp(x + dx, 0, t - 1)];
                    }
                }
            }
        }
        for (int date = 0; date < 2; date++)
        {
            float gain = 1 + 0.2f * (float)(rng.NextDouble() * 2 - 1), offset = 0.08f * (float)(rng.NextDouble() * 2 - 1);
            float noise = 0.03f * (float)rng.NextDouble();
            bool blur = rng.NextDouble() < 0.2;
            for (int c = 0; c < 3; c++)
            {
                var plane = s.Input.AsSpan((date * 3 + c) * n, n);
                float bandGain = gain * (1 + 0.06f * (float)(rng.NextDouble() * 2 - 1));
                float gamma = 1 + 0.25f * (float)(rng.NextDouble() * 2 - 1);
                if (blur)
                {
                    Blur(plane, t);
                }
                for (int i = 0; i < n; i++)
                {
                    float v = MathF.Pow(Math.Clamp(plane[i], 0f, 1f), gamma) * bandGain + offset + noise * Gaussian(rng);
                    plane[i] = Math.Clamp(v, 0f, 1f);
                }
            }
        }
    }

    private static float Gaussian(Random rng)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    private static void Blur(Span<float> plane, int t)
    {
        var copy = plane.ToArray();
        for (int y = 0; y < t; y++)
        {
            for (int x = 0; x < t; x++)
            {
                float sum = 0;
                for (int dy = -1; dy <= 1; dy++)
                {
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        sum += copy[Math.Clamp(y + dy, 0, t - 1) * t + Math.Clamp(x + dx, 0, t - 1)];
                    }
                }
                plane[y * t + x] = sum / 9;
            }
        }
    }
}
