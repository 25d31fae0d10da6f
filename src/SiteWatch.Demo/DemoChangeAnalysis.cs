using NetTopologySuite.Algorithm.Locate;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Demo.Plant;
using SiteWatch.Core.Geo;
using SiteWatch.Gdal;
using SiteWatch.Core.Workflows;
using SiteWatch.Core;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Demo;

/// <summary>A change run of the demo, scored against the demo's ground truth.</summary>
/// <param name="StructureAccuracy">The same, with the objects judged vegetation left out (the truth holds structures and
/// objects only, not the seasons): what the vegetation kind is worth.</param>
public sealed record DemoPairReport(SiteChangeResult Run, ChangeAccuracy Accuracy, ChangeAccuracy StructureAccuracy, string TruthMaskPath, int TruthAppeared, int TruthRemoved, int TruthAltered);

/// <summary>What change detection found in the demo series, and how it compares with the truth.</summary>
public sealed record DemoChangeReport(
    IReadOnlyList<DemoPairReport> Series,
    DemoPairReport Overall,
    ChangeObject? NewBuilding,
    Geometry? NewBuildingOutline,
    double HallAreaSquareMetres,
    double TruthNewBuildingAreaSquareMetres,
    double? NewBuildingIoU,
    ChangeObject? CraneRemoval,
    DemoPairReport? CranePair)
{
    /// <summary>Measured footprint of the new building over the analyst's outline of the existing hall.</summary>
    public double? NewBuildingRatio => NewBuildingOutline is null ? null : NewBuildingOutline.Area / HallAreaSquareMetres;
    public double TruthRatio => TruthNewBuildingAreaSquareMetres / HallAreaSquareMetres;
}

/// <summary>
/// The demo's analysis: change detection over every consecutive pair and from the first scene to the last, each run
/// scored against a truth mask rasterised from the ground truth; the new building measured against the existing hall
/// (whose outline plays the analyst's hand-drawn reference: a hall that never changes cannot be found by change
/// detection); the crane's removal found among the removed objects.
/// </summary>
public static class DemoChangeAnalysis
{
    public static DemoChangeReport Run(Workspace workspace, Site site, DemoPlan plan, string truthDirectory, SiteChangeOptions options,
        IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        var scenes = workspace.Catalog.ListScenes(site.Id);
        var pairs = Enumerable.Range(1, scenes.Count - 1).Select(i => (scenes[i - 1], scenes[i])).Append((scenes[0], scenes[^1])).ToList();
        var reports = new List<DemoPairReport>();
        for (var i = 0; i < pairs.Count; i++)
        {
            var (before, after) = pairs[i];
            var index = i;
            var run = SiteChangeWorkflow.RunPair(workspace, site, before, after, options,
                new SyncProgress<double>(p => progress?.Report((index + p) / pairs.Count)), cancel);
            reports.Add(Score(run, plan, truthDirectory));
        }
        var overall = reports[^1];
        var hall = plan.Objects.Single(o => o.Class == TruthClasses.AssemblyHall);
        var building = plan.Objects.Single(o => o.Class == TruthClasses.NewAssemblyBuilding);
        // The new building: the largest new structure that is not a shadow, from the first scene to the last.
        var appeared = overall.Run.Objects?.Where(o => o.Kind == ChangeKind.Appeared && !o.Shadow).ToList() ?? [];
        var newBuilding = appeared.MaxBy(o => o.AreaSquareMetres);
        Geometry? outline = null;
        if (newBuilding is not null)
        {
            // Its footprint is the outline of the pieces of new structure within two pixels of it (roof seams split it).
            outline = Measurements.StructureOutline(newBuilding.Footprint, appeared.Select(o => o.Footprint), site.Gsd ?? 1);
        }
        double? iou = outline is null ? null : IoU(outline, building.FootprintUtm);

        var crane = plan.Objects.Single(o => o.Class == TruthClasses.BridgeCrane);
        var cranePair = crane.RemovedOn is { } gone
            ? reports.Take(reports.Count - 1).FirstOrDefault(r => DateOnly.FromDateTime(r.Run.Before.AcquiredUtc) < gone && DateOnly.FromDateTime(r.Run.After.AcquiredUtc) >= gone)
            : null;
        var craneRemoval = cranePair?.Run.Objects?.Where(o => o.Kind == ChangeKind.Removed && o.Footprint.Intersects(crane.FootprintUtm))
            .MaxBy(o => o.Footprint.Intersection(crane.FootprintUtm).Area);
        progress?.Report(1);
        return new DemoChangeReport(reports.Take(reports.Count - 1).ToList(), overall, newBuilding, outline, hall.AreaSquareMetres, building.AreaSquareMetres, iou, craneRemoval, cranePair);
    }

    private static double IoU(Geometry a, Geometry b)
    {
        var union = a.Union(b).Area;
        return union > 0 ? a.Intersection(b).Area / union : 0;
    }

    /// <summary>Objects whose presence or construction stage differs between the two dates, rasterised on the run's grid.</summary>
    private static DemoPairReport Score(SiteChangeResult run, DemoPlan plan, string truthDirectory)
    {
        var d0 = DateOnly.FromDateTime(run.Before.AcquiredUtc);
        var d1 = DateOnly.FromDateTime(run.After.AcquiredUtc);
        var changed = plan.Objects.Where(o => o.Class is not (TruthClasses.Road or TruthClasses.RailSpur)
            && (o.IsPresentOn(d0) != o.IsPresentOn(d1) || o.StageOn(d0) != o.StageOn(d1))).ToList();
        var appeared = changed.Count(o => !o.IsPresentOn(d0) && o.IsPresentOn(d1));
        var removed = changed.Count(o => o.IsPresentOn(d0) && !o.IsPresentOn(d1));

        var predicted = Path.Combine(run.Directory, "change_mask.tif");
        var truthPath = Path.Combine(truthDirectory, $"change_truth_{d0:yyyy-MM-dd}_{d1:yyyy-MM-dd}.tif");
        var structures = Path.Combine(truthDirectory, $"predicted_structures_{d0:yyyy-MM-dd}_{d1:yyyy-MM-dd}.tif");
        using (var mask = RasterDataset.Open(predicted))
        {
            Rasterise(changed.Select(o => o.FootprintUtm).ToList(), mask, truthPath);
            // The predicted mask without the pixels of vegetation objects (nodata kept).
            var vegetation = Burn(run.Objects?.Where(o => o.Kind == ChangeKind.Vegetation).Select(o => o.Footprint).ToList() ?? [], mask);
            var all = new RasterWindow(0, 0, mask.Width, mask.Height);
            var values = mask.Read<byte>(1, all);
            for (var i = 0; i < values.Length; i++)
            {
                if (vegetation[i] == 1 && values[i] == ChangeDetector.MaskChanged)
                {
                    values[i] = ChangeDetector.MaskUnchanged;
                }
            }
            using var output = RasterDataset.Create(structures, new RasterProfile(mask.Width, mask.Height, 1, RasterDataType.Byte)
            {
                GeoTransform = mask.GeoTransform,
                Crs = mask.CrsWkt,
                NoData = ChangeDetector.MaskNoData,
            });
            output.Write<byte>(1, all, values);
        }
        var accuracy = ChangeEvaluator.Evaluate(predicted, truthPath);
        var structureAccuracy = ChangeEvaluator.Evaluate(structures, truthPath);
        return new DemoPairReport(run, accuracy, structureAccuracy, truthPath, appeared, removed, changed.Count - appeared - removed);
    }

    /// <summary>Burns polygons (pixel centre inside) into a byte GeoTIFF on the grid of a template raster.</summary>
    private static void Rasterise(IReadOnlyList<Geometry> polygons, RasterDataset template, string path)
    {
        var data = Burn(polygons, template);
        using var truth = RasterDataset.Create(path, new RasterProfile(template.Width, template.Height, 1, RasterDataType.Byte) { GeoTransform = template.GeoTransform, Crs = template.CrsWkt });
        truth.Write<byte>(1, new RasterWindow(0, 0, template.Width, template.Height), data);
    }

    /// <summary>1 where a pixel's centre lies in one of the polygons, on the grid of a template raster.</summary>
    private static byte[] Burn(IReadOnlyList<Geometry> polygons, RasterDataset template)
    {
        var gt = template.GeoTransform!.Value;
        var data = new byte[template.Width * template.Height];
        foreach (var polygon in polygons)
        {
            var locator = new IndexedPointInAreaLocator(polygon);
            var env = polygon.EnvelopeInternal;
            var (c0, r0) = gt.MapToPixel(env.MinX, env.MaxY);
            var (c1, r1) = gt.MapToPixel(env.MaxX, env.MinY);
            for (var r = Math.Max(0, (int)Math.Floor(Math.Min(r0, r1))); r < Math.Min(template.Height, (int)Math.Ceiling(Math.Max(r0, r1))); r++)
            {
                for (var c = Math.Max(0, (int)Math.Floor(Math.Min(c0, c1))); c < Math.Min(template.Width, (int)Math.Ceiling(Math.Max(c0, c1))); c++)
                {
                    var (x, y) = gt.PixelToMap(c + 0.5, r + 0.5);
                    if (locator.Locate(new Coordinate(x, y)) != Location.Exterior)
                    {
                        data[r * template.Width + c] = 1;
                    }
                }
            }
        }
        return data;
    }
}
