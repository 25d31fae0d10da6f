using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;
using SiteWatch.Training;

namespace SiteWatch.TrainDetector;

/// <param name="BalanceClasses">Crops biased to an object pick its class first, each class as often: with many people
/// (and their shadows) in a drone frame, picking boxes alone would leave few crops on its few vehicles.</param>
internal sealed record TrainingOptions(int Tile = 256, int Batch = 8, int Steps = 1200, double LearningRate = 2e-3, int Seed = 1,
    bool BalanceClasses = false);

/// <summary>
/// Trains <see cref="DetectorNet"/> on random tiles of labelled scenes: crops biased towards objects, the eight
/// flips/rotations, small brightness and contrast jitter; sigmoid focal loss on every cell, GIoU loss on the cells
/// assigned to a box (its centre cell, plus neighbours inside it for boxes of 8 px and more; the smaller box wins
/// a cell two boxes claim). AdamW with a cosine learning-rate schedule.
/// </summary>
internal sealed class Trainer(DetectorNet net, IReadOnlyList<LabelledScene> scenes, TrainingOptions options)
{
    private readonly Random _rng = new(options.Seed);

    public void Run(TextWriter log)
    {
        var schedule = new Schedule(optim.AdamW(net.parameters(), options.LearningRate, weight_decay: 1e-4), net, options.LearningRate, options.Steps);
        net.train();
        var clock = Stopwatch.StartNew();
        for (int step = 0; step < options.Steps; step++)
        {
            using var scope = NewDisposeScope();
            double lr = schedule.Begin(step);
            var (images, clsTarget, boxTarget, positive) = MakeBatch();
            var (logits, logDist) = net.forward(images);
            var (focal, giou) = Loss(logits, logDist, clsTarget, boxTarget, positive);
            var loss = focal + 2 * giou;
            if (float.IsNaN(loss.item<float>()))
            {
                // Seen with some channel widths on this LibTorch build (finite inputs and weights, NaN logits): stop
                // rather than train on garbage.
                throw new InvalidOperationException($"the loss became NaN at step {step}; try other --tile or channel widths");
            }
            schedule.Step(loss);
            if (step % 25 == 0 || step == options.Steps - 1)
            {
                log.WriteLine($"step {step,5}/{options.Steps}  loss {schedule.SmoothedLoss:F4}  (focal {focal.item<float>():F4}, giou {giou.item<float>():F4})  lr {lr:E2}  {clock.Elapsed.TotalMinutes:F1} min");
            }
        }
        net.eval();
    }

    private (Tensor Images, Tensor ClassTarget, Tensor BoxTarget, Tensor Positive) MakeBatch()
    {
        int tile = options.Tile, grid = tile / DetectorNet.OutputStride, cells = grid * grid, classes = net.Classes;
        var images = new float[options.Batch * 3 * tile * tile];
        var cls = new float[options.Batch * classes * cells];
        var boxes = new float[options.Batch * 4 * cells];
        var pos = new float[options.Batch * cells];
        for (int b = 0; b < options.Batch; b++)
        {
            var scene = scenes[_rng.Next(scenes.Count)];
            var (x0, y0) = PickCrop(scene, tile);
            int transform = _rng.Next(8);
            float gain = 1 + 0.15f * (float)(_rng.NextDouble() * 2 - 1), bias = 0.05f * (float)(_rng.NextDouble() * 2 - 1);
            var image = images.AsSpan(b * 3 * tile * tile, 3 * tile * tile);
            for (int c = 0; c < 3; c++)
            {
                int plane = c * scene.Width * scene.Height;
                for (int y = 0; y < tile; y++)
                {
                    for (int x = 0; x < tile; x++)
                    {
                        var (sx, sy) = Dihedral.Inverse(transform, x, y, tile);
                        image[c * tile * tile + y * tile + x] = Math.Clamp(scene[plane + (y0 + sy) * scene.Width + x0 + sx] * gain + bias, 0f, 1f);
                    }
                }
            }
            var inTile = new List<LabelledBox>();
            foreach (var box in scene.Boxes)
            {
                float ix0 = Math.Max(box.X0, x0), iy0 = Math.Max(box.Y0, y0), ix1 = Math.Min(box.X1, x0 + tile), iy1 = Math.Min(box.Y1, y0 + tile);
                if (ix1 <= ix0 || iy1 <= iy0 || (ix1 - ix0) * (iy1 - iy0) < 0.5f * box.Width * box.Height)
                {
                    continue; // mostly outside the crop: neither a positive nor fair to call background, so left out
                }
                inTile.Add(Forward(transform, box with { X0 = ix0 - x0, Y0 = iy0 - y0, X1 = ix1 - x0, Y1 = iy1 - y0 }, tile));
            }
            Assign(inTile, grid, cls.AsSpan(b * classes * cells, classes * cells), boxes.AsSpan(b * 4 * cells, 4 * cells), pos.AsSpan(b * cells, cells), classes);
        }
        return (tensor(images, [options.Batch, 3, tile, tile]),
            tensor(cls, [options.Batch, classes, grid, grid]),
            tensor(boxes, [options.Batch, 4, grid, grid]),
            tensor(pos, [options.Batch, 1, grid, grid]));
    }

    private (int X0, int Y0) PickCrop(LabelledScene scene, int tile)
    {
        if (scene.Boxes.Count > 0 && _rng.NextDouble() < 0.7)
        {
            var box = scene.Boxes[_rng.Next(scene.Boxes.Count)]; // drawn either way: unbalanced runs keep their random stream
            if (options.BalanceClasses)
            {
                var classes = scene.Boxes.Select(b => b.ClassId).Distinct().Order().ToArray();
                var pick = classes[_rng.Next(classes.Length)];
                var ofClass = scene.Boxes.Where(b => b.ClassId == pick).ToArray();
                box = ofClass[_rng.Next(ofClass.Length)];
            }
            int cx = (int)((box.X0 + box.X1) / 2) + _rng.Next(-tile / 3, tile / 3);
            int cy = (int)((box.Y0 + box.Y1) / 2) + _rng.Next(-tile / 3, tile / 3);
            return (Math.Clamp(cx - tile / 2, 0, scene.Width - tile), Math.Clamp(cy - tile / 2, 0, scene.Height - tile));
        }
        return (_rng.Next(scene.Width - tile + 1), _rng.Next(scene.Height - tile + 1));
    }

    private static LabelledBox Forward(int t, LabelledBox b, int tile)
    {
        float x0 = b.X0, y0 = b.Y0, x1 = b.X1, y1 = b.Y1;
        if ((t & 1) != 0)
        {
            (x0, x1) = (tile - x1, tile - x0);
        }
        if ((t & 2) != 0)
        {
            (y0, y1) = (tile - y1, tile - y0);
        }
        if ((t & 4) != 0)
        {
            (x0, y0, x1, y1) = (y0, x0, y1, x1);
        }
        return new LabelledBox(b.ClassId, x0, y0, x1, y1);
    }

    /// <summary>Cell targets: one-hot class, box edges in pixels (x0, y0, x1, y1), positive flag.</summary>
    internal static void Assign(List<LabelledBox> boxes, int grid, Span<float> cls, Span<float> box, Span<float> pos, int classes)
    {
        int cells = grid * grid;
        const int s = DetectorNet.OutputStride;
        var owner = new float[cells];
        Array.Fill(owner, float.MaxValue);
        foreach (var b in boxes)
        {
            float cx = (b.X0 + b.X1) / 2, cy = (b.Y0 + b.Y1) / 2, area = b.Width * b.Height;
            int ci = Math.Clamp((int)(cx / s), 0, grid - 1), cj = Math.Clamp((int)(cy / s), 0, grid - 1);
            float minSide = Math.Min(b.Width, b.Height);
            int r = minSide >= 48 ? 2 : minSide >= 8 ? 1 : 0;
            for (int j = cj - r; j <= cj + r; j++)
            {
                for (int i = ci - r; i <= ci + r; i++)
                {
                    if (i < 0 || j < 0 || i >= grid || j >= grid)
                    {
                        continue;
                    }
                    float px = (i + 0.5f) * s, py = (j + 0.5f) * s;
                    bool centre = i == ci && j == cj;
                    if (!centre && (px <= b.X0 || px >= b.X1 || py <= b.Y0 || py >= b.Y1))
                    {
                        continue;
                    }
                    int cell = j * grid + i;
                    if (area >= owner[cell])
                    {
                        continue;
                    }
                    owner[cell] = area;
                    for (int c = 0; c < classes; c++)
                    {
                        cls[c * cells + cell] = c == b.ClassId ? 1 : 0;
                    }
                    box[cell] = b.X0;
                    box[cells + cell] = b.Y0;
                    box[2 * cells + cell] = b.X1;
                    box[3 * cells + cell] = b.Y1;
                    pos[cell] = 1;
                }
            }
        }
    }

    private static (Tensor Focal, Tensor Giou) Loss(Tensor logits, Tensor logDist, Tensor clsTarget, Tensor boxTarget, Tensor positive)
    {
        var p = logits.sigmoid();
        var ce = nn.functional.binary_cross_entropy_with_logits(logits, clsTarget, reduction: nn.Reduction.None);
        var pt = p * clsTarget + (1 - p) * (1 - clsTarget);
        var alpha = 0.25 * clsTarget + 0.75 * (1 - clsTarget);
        var numPos = positive.sum().clamp_min(1);
        var focal = (alpha * (1 - pt).pow(2) * ce).sum() / numPos;

        int grid = (int)logits.shape[2];
        var centres = (arange(grid, dtype: ScalarType.Float32) + 0.5f) * DetectorNet.OutputStride;
        var cx = centres.view(1, 1, 1, grid);
        var cy = centres.view(1, 1, grid, 1);
        var d = logDist.clamp(-6, 8).exp() * DetectorNet.OutputStride;
        var px0 = cx - d[.., 0..1];
        var py0 = cy - d[.., 1..2];
        var px1 = cx + d[.., 2..3];
        var py1 = cy + d[.., 3..4];
        var tx0 = boxTarget[.., 0..1];
        var ty0 = boxTarget[.., 1..2];
        var tx1 = boxTarget[.., 2..3];
        var ty1 = boxTarget[.., 3..4];
        var iw = (minimum(px1, tx1) - maximum(px0, tx0)).clamp_min(0);
        var ih = (minimum(py1, ty1) - maximum(py0, ty0)).clamp_min(0);
        var inter = iw * ih;
        var union = (px1 - px0) * (py1 - py0) + (tx1 - tx0) * (ty1 - ty0) - inter + 1e-6f;
        var iou = inter / union;
        var hull = (maximum(px1, tx1) - minimum(px0, tx0)) * (maximum(py1, ty1) - minimum(py0, ty0)) + 1e-6f;
        var giou = iou - (hull - union) / hull;
        var giouLoss = ((1 - giou) * positive).sum() / numPos;
        return (focal, giouLoss);
    }
}
