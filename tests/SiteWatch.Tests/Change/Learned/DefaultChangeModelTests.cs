using System.Text.Json;
using NetTopologySuite.Algorithm.Locate;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Change.Learned;
using SiteWatch.Core.Change.Methods;
using SiteWatch.Core.Workflows;
using SiteWatch.Tests.Change;
using SiteWatch.Demo.Plant;
using SiteWatch.Gdal;
using SiteWatch.Tests.Demo;

namespace SiteWatch.Tests.Change.Learned;

/// <summary>
/// The change model SiteWatch ships (models/sitewatch-change.onnx), run as a user runs it: `change detect --method
/// model` on two dates of the demo site (seed 42, which the model never trained on).
/// </summary>
public class DefaultChangeModelTests
{
    [Fact]
    public void The_shipped_change_model_finds_the_new_assembly_building_and_little_else()
    {
        Assert.True(ChangeModel.DefaultModelPath is not null, "models/sitewatch-change.onnx is not beside the tests; the build copies it from Core");
        var plan = DemoScenes.Plan;
        var building = plan.Objects.Single(o => o.Class == TruthClasses.NewAssemblyBuilding);
        var first = DateOnly.FromDateTime(plan.Acquisitions[0].AcquiredUtc);
        Assert.False(building.IsPresentOn(first));
        // The clear date with the building that lies closest to the first date's grid: `change detect` does not
        // co-register (sites do), and the model was trained with at most a pixel of misregistration left.
        var later = plan.Acquisitions
            .Where(a => a.CloudCoverPercent is null && building.IsPresentOn(DateOnly.FromDateTime(a.AcquiredUtc)))
            .MinBy(a => Math.Abs(a.ShiftXPixels) + Math.Abs(a.ShiftYPixels))!;
        var second = DateOnly.FromDateTime(later.AcquiredUtc);

        using var dir = new TempDir();
        var before = WriteScene(dir, 0);
        var after = WriteScene(dir, later.Index);
        var (code, output, error) = Cli.CliTests.Run(null, "change", "detect", before, after, "--method", "model", "--out", dir.File("out"), "--json");
        Assert.True(code == 0, error);
        var summary = JsonDocument.Parse(output).RootElement;
        Assert.Equal("model", summary.GetProperty("method").GetString());
        Assert.Contains("model's own threshold", summary.GetProperty("threshold_reason").GetString());

        byte[] mask;
        using (var raster = RasterDataset.Open(Path.Combine(dir.File("out"), "change_mask.tif")))
        {
            mask = raster.Read<byte>(1, new RasterWindow(0, 0, raster.Width, raster.Height));
        }
        // Found: most of the building's roof (its footprint less 2 m, so edge pixels do not count either way).
        var roof = Fraction(mask, plan, building.FootprintUtm.Buffer(-2), inside: true);
        Assert.True(roof >= ExpectedRoofFound, $"{roof:P0} of the new building's roof marked changed");
        // Little else: of the ground farther than 10 m from every truly changed object (vehicles, piles, stages),
        // where crops, haze and sun differ between the dates, only a small share is marked.
        var changed = plan.Objects.Where(o => o.Class is not (TruthClasses.Road or TruthClasses.RailSpur)
            && (o.IsPresentOn(first) != o.IsPresentOn(second) || o.StageOn(first) != o.StageOn(second)))
            .Select(o => o.FootprintUtm.Buffer(10)).ToList();
        var elsewhere = Fraction(mask, plan, new GeometryFactory().BuildGeometry(changed).Union(), inside: false);
        Assert.True(elsewhere <= MostFalseAlarms, $"{elsewhere:P1} of the unchanged ground marked changed");
    }

    [Fact]
    public void A_site_runs_the_shipped_model_on_its_registered_and_normalised_scenes_and_records_which_model()
    {
        using var dir = new TempDir();
        var (workspace, site) = SiteChangeTests.Ingested(dir);
        using var _ = workspace;
        var options = new SiteChangeOptions { Detection = new ChangeDetectionOptions { Method = ChangeMethodKind.Model } };
        var run = SiteChangeWorkflow.Run(workspace, site.Name, "2024-03-14", "2024-10-15", options);
        Assert.Equal("model", run.Summary.GetProperty("method").GetString());
        // The model picked its bands by name from the normalised AFTER, which must have kept them.
        Assert.Equal(4, run.Summary.GetProperty("normalisation").GetArrayLength());
        Assert.Contains(run.Summary.GetProperty("notes").EnumerateArray(), n => n.GetString()!.StartsWith("change model sitewatch-change.onnx", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(run.Directory, "change_mask.tif")));
        // The same run again is the stored one: the default model is known by its bytes.
        Assert.True(SiteChangeWorkflow.Run(workspace, site.Name, "2024-03-14", "2024-10-15", options).Reused);
    }

    // Loose bounds: they fail when the shipped model stops finding structures or starts marking the fields, not when a
    // retrained model moves by a few percent (its model card has the measured figures).
    private const double ExpectedRoofFound = 0.5;
    private const double MostFalseAlarms = 0.01;

    private static string WriteScene(TempDir dir, int index)
    {
        var plan = DemoScenes.Plan;
        var scene = DemoScenes.Scene(index);
        var path = dir.File($"scene{index}.tif");
        using var raster = RasterDataset.Create(path, new RasterProfile(scene.Width, scene.Height, 4, RasterDataType.UInt16)
        {
            GeoTransform = GeoTransform.FromArray(plan.GeoTransform),
            Crs = $"EPSG:{DemoPlan.Epsg}",
            NoData = 0,
            BandDescriptions = plan.BandNames,
        });
        for (var b = 0; b < 4; b++)
        {
            raster.Write<ushort>(b + 1, new RasterWindow(0, 0, scene.Width, scene.Height), scene.Bands[b]);
        }
        return path;
    }

    /// <summary>Share of changed pixels among those whose centre (on the first date's grid) lies inside, or outside, an area.</summary>
    private static double Fraction(byte[] mask, DemoPlan plan, Geometry areaUtm, bool inside)
    {
        var locator = new IndexedPointInAreaLocator(areaUtm);
        long n = 0, changed = 0;
        for (var row = 0; row < plan.Height; row++)
        {
            for (var col = 0; col < plan.Width; col++)
            {
                var ground = new Coordinate(plan.OriginX + (col + 0.5) * plan.Gsd, plan.OriginY - (row + 0.5) * plan.Gsd);
                if ((locator.Locate(ground) == Location.Interior) != inside)
                {
                    continue;
                }
                n++;
                changed += mask[row * plan.Width + col] == 1 ? 1 : 0;
            }
        }
        Assert.True(n > 0, "no pixel in the area");
        return changed / (double)n;
    }
}
