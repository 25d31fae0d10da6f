using System.Collections.Concurrent;
using NetTopologySuite.Geometries;
using SiteWatch.Demo.Plant;

namespace SiteWatch.Tests.Demo;

/// <summary>Renders each demo scene once per test run; rendering is deterministic, so sharing is safe.</summary>
internal static class DemoScenes
{
    private static readonly Lazy<DemoPlan> _plan = new(() => PlantScenario.Build());
    private static readonly ConcurrentDictionary<int, Lazy<RenderedScene>> _scenes = new();

    public static DemoPlan Plan => _plan.Value;

    public static RenderedScene Scene(int index) =>
        _scenes.GetOrAdd(index, i => new Lazy<RenderedScene>(() => DemoRenderer.Render(Plan, i))).Value;

    public static TruthObject Object(string id) => Plan.Objects.Single(o => o.Id == id);

    /// <summary>Index of the clear scene with the largest misregistration.</summary>
    public static int MostShiftedClearScene() =>
        Plan.Acquisitions.Where(a => a.CloudCoverPercent is null)
            .OrderByDescending(a => Math.Abs(a.ShiftXPixels) + Math.Abs(a.ShiftYPixels)).First().Index;

    /// <summary>Mean of a band over the pixels whose centres (on the scene's true grid) fall inside a UTM polygon.</summary>
    public static double MeanInside(int sceneIndex, int band, Geometry areaUtm)
    {
        var plan = Plan;
        var scene = Scene(sceneIndex);
        var a = plan.Acquisitions[sceneIndex];
        var env = areaUtm.EnvelopeInternal;
        var locator = new NetTopologySuite.Algorithm.Locate.IndexedPointInAreaLocator(areaUtm);
        double sum = 0;
        int n = 0;
        var (c0, r0) = plan.TruePixelOf(env.MinX, env.MaxY, sceneIndex);
        var (c1, r1) = plan.TruePixelOf(env.MaxX, env.MinY, sceneIndex);
        for (int row = Math.Max(0, (int)r0 - 1); row <= Math.Min(scene.Height - 1, (int)r1 + 1); row++)
        {
            for (int col = Math.Max(0, (int)c0 - 1); col <= Math.Min(scene.Width - 1, (int)c1 + 1); col++)
            {
                double x = plan.OriginX + (col + 0.5 + a.ShiftXPixels) * plan.Gsd;
                double y = plan.OriginY - (row + 0.5 + a.ShiftYPixels) * plan.Gsd;
                if (locator.Locate(new Coordinate(x, y)) != Location.Interior)
                {
                    continue;
                }

                sum += scene.Value(band, col, row);
                n++;
            }
        }

        Assert.True(n > 0, "no pixel inside the area");
        return sum / n;
    }

    /// <summary>Shrinks a footprint so that mixed edge pixels and blur do not enter a mean.</summary>
    public static Geometry Inset(Geometry g, double metres) => g.Buffer(-metres);
}
