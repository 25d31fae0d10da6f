using SiteWatch.Demo.Plant;
using SiteWatch.Training;

namespace SiteWatch.TrainDetector;

/// <summary>An axis-aligned box in scene pixels with its detector class.</summary>
internal readonly record struct LabelledBox(int ClassId, float X0, float Y0, float X1, float Y1)
{
    public float Width => X1 - X0;
    public float Height => Y1 - Y0;
}

/// <summary>
/// One labelled image as the detector sees it: red, green, blue planes in 0..1 (floats, or bytes over 255 where many
/// frames are held at once), and its labels.
/// </summary>
internal sealed class LabelledScene
{
    private readonly float[]? _rgb;
    private readonly byte[]? _rgb8;

    public LabelledScene(string name, int width, int height, float[] rgb, IReadOnlyList<LabelledBox> boxes, byte[]? cloudMask)
        : this(name, width, height, boxes, cloudMask) => _rgb = rgb;

    public LabelledScene(string name, int width, int height, byte[] rgb8, IReadOnlyList<LabelledBox> boxes)
        : this(name, width, height, boxes, null) => _rgb8 = rgb8;

    private LabelledScene(string name, int width, int height, IReadOnlyList<LabelledBox> boxes, byte[]? cloudMask)
    {
        Name = name;
        Width = width;
        Height = height;
        Boxes = boxes;
        CloudMask = cloudMask;
    }

    public string Name { get; }
    public int Width { get; }
    public int Height { get; }
    public IReadOnlyList<LabelledBox> Boxes { get; }
    public byte[]? CloudMask { get; }

    /// <summary>Value at an index into the three planes (R, G, B) of Width*Height values, in 0..1.</summary>
    public float this[int index] => _rgb is not null ? _rgb[index] : _rgb8![index] / 255f;
}

/// <summary>
/// Draws training and evaluation scenes with the demo generator (a plan per seed, every acquisition) and labels them
/// from its ground truth. The class list is the default model's.
/// </summary>
internal static class TrainingScenes
{
    public static readonly string[] ClassNames = ["vehicle", "freight_car", "material_pile", "crane", "construction", "building"];

    public static int? ClassOf(TruthObject o, DateOnly date) => o.Class switch
    {
        TruthClasses.Vehicle => 0,
        TruthClasses.FreightCar => 1,
        TruthClasses.MaterialPile => 2,
        TruthClasses.BridgeCrane => 3,
        TruthClasses.NewAssemblyBuilding or TruthClasses.WorkerHousing => o.StageOn(date) == "roof" ? 5 : 4,
        TruthClasses.AssemblyHall => 5,
        _ => null,
    };

    public static IEnumerable<LabelledScene> Render(int seed, IEnumerable<int>? acquisitions = null)
    {
        var plan = PlantScenario.Build(seed);
        foreach (int index in acquisitions ?? Enumerable.Range(0, plan.Acquisitions.Count))
        {
            var scene = DemoRenderer.Render(plan, index);
            var date = DateOnly.FromDateTime(plan.Acquisitions[index].AcquiredUtc);
            var boxes = new List<LabelledBox>();
            foreach (var o in plan.Objects)
            {
                if (!o.IsPresentOn(date) || ClassOf(o, date) is not int cls)
                {
                    continue;
                }
                float x0 = float.MaxValue, y0 = float.MaxValue, x1 = float.MinValue, y1 = float.MinValue;
                foreach (var c in o.FootprintUtm.Coordinates)
                {
                    var (col, row) = plan.TruePixelOf(c.X, c.Y, index);
                    x0 = Math.Min(x0, (float)col);
                    x1 = Math.Max(x1, (float)col);
                    y0 = Math.Min(y0, (float)row);
                    y1 = Math.Max(y1, (float)row);
                }
                if (x1 <= 0 || y1 <= 0 || x0 >= scene.Width || y0 >= scene.Height)
                {
                    continue;
                }
                if (scene.CloudMask is { } mask && UnderCloud(mask, scene.Width, scene.Height, x0, y0, x1, y1))
                {
                    continue;
                }
                boxes.Add(new LabelledBox(cls, Math.Max(0, x0), Math.Max(0, y0), Math.Min(scene.Width, x1), Math.Min(scene.Height, y1)));
            }
            yield return new LabelledScene($"seed{seed}-{date:yyyy-MM-dd}", scene.Width, scene.Height,
                StretchRgb(scene), boxes, scene.CloudMask);
        }
    }

    /// <summary>Objects whose centre is under cloud or cloud shadow are not visible, so they are not labels.</summary>
    private static bool UnderCloud(byte[] mask, int width, int height, float x0, float y0, float x1, float y1)
    {
        int cx = Math.Clamp((int)((x0 + x1) / 2), 0, width - 1);
        int cy = Math.Clamp((int)((y0 + y1) / 2), 0, height - 1);
        return mask[cy * width + cx] != 0;
    }

    /// <summary>Per band 2-98 % percentile stretch to 0..1, as the product's detector runtime scales uint16 scenes.</summary>
    public static float[] StretchRgb(RenderedScene scene)
    {
        int n = scene.Width * scene.Height;
        var rgb = new float[3 * n];
        int[] bands = [2, 1, 0]; // demo band order is blue, green, red, NIR
        for (int c = 0; c < 3; c++)
        {
            Stretch.Plane(scene.Bands[bands[c]], rgb.AsSpan(c * n, n));
        }
        return rgb;
    }
}
