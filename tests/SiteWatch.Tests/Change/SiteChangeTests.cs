using SiteWatch.Core;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Core.Ingest;
using SiteWatch.Core.Workflows;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Tests.Change;

public class SiteChangeTests
{
    private const string Aoi = """
        {"type":"Polygon","coordinates":[[[127.4907,39.9278],[127.4923,39.9278],[127.4923,39.9290],[127.4907,39.9290],[127.4907,39.9278]]]}
        """;

    internal static (Workspace Workspace, Site Site) Ingested(TempDir dir)
    {
        var (before, after) = ChangeObjectTests.WritePair(dir);
        using (var b = SiteWatch.Gdal.RasterDataset.Open(before, update: true))
        {
            b.SetMetadataItem("TIFFTAG_DATETIME", "2024:03:14 02:00:00");
        }
        using (var a = SiteWatch.Gdal.RasterDataset.Open(after, update: true))
        {
            a.SetMetadataItem("TIFFTAG_DATETIME", "2024:10:15 02:00:00");
        }
        var workspace = Workspace.Init(dir.File("ws"));
        File.WriteAllText(dir.File("aoi.geojson"), Aoi);
        var site = SiteSetup.AddSite(workspace, "plant", dir.File("aoi.geojson"), 1.0, null, [], null);
        var ingestor = new SceneIngestor(workspace);
        ingestor.Ingest("plant", before, new IngestOptions());
        ingestor.Ingest("plant", after, new IngestOptions());
        return (workspace, site);
    }

    [Fact]
    public void Site_change_is_recorded_and_reused_for_the_same_parameters()
    {
        using var dir = new TempDir();
        var (workspace, site) = Ingested(dir);
        using var _ = workspace;

        var first = SiteChangeWorkflow.Run(workspace, "plant", "2024-03-14", "2024-10-15", new SiteChangeOptions());
        Assert.False(first.Reused);
        // The run says which threshold it used and why, with the numbers it weighed.
        var reason = first.Summary.GetProperty("threshold_reason").GetString()!;
        Assert.StartsWith("otsu-chi2 is irmad's default; Otsu's cut of the chi-square", reason);
        Assert.Contains("critical value", reason);
        Assert.True(File.Exists(Path.Combine(first.Directory, "change_mask.tif")));
        Assert.True(File.Exists(Path.Combine(first.Directory, "quicklook.png")));
        Assert.Contains(first.Objects!, o => o.Kind == ChangeKind.Appeared);
        // 200 x 200 px is too small for enough tie points: the run says so and compares the scenes as stored.
        var registration = first.Summary.GetProperty("registration");
        Assert.False(registration.GetProperty("reliable").GetBoolean());
        Assert.False(string.IsNullOrWhiteSpace(registration.GetProperty("warning").GetString()));
        Assert.False(File.Exists(Path.Combine(first.Directory, "after_registered.tif")));

        var again = SiteChangeWorkflow.Run(workspace, "plant", "2024-03-14", "2024-10-15", new SiteChangeOptions());
        Assert.True(again.Reused);
        Assert.Equal(first.Record.Id, again.Record.Id);

        var other = SiteChangeWorkflow.Run(workspace, "plant", "2024-03-14", "2024-10-15", new SiteChangeOptions { Detection = new ChangeDetectionOptions { Method = ChangeMethodKind.Cva } });
        Assert.False(other.Reused);
        Assert.True(other.Summary.TryGetProperty("normalisation", out var normalisation) && normalisation.GetArrayLength() == 4, "CVA runs on radiometrically normalised data");
        Assert.Equal(2, workspace.Catalog.ListChangeRuns(site.Id).Count);
        Assert.Empty(Directory.EnumerateFiles(workspace.StagingDirectory, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Bad_dates_and_methods_leave_nothing_behind()
    {
        using var dir = new TempDir();
        var (workspace, site) = Ingested(dir);
        using var _ = workspace;
        var missing = Assert.Throws<SiteWatchException>(() => SiteChangeWorkflow.Run(workspace, "plant", "2024-05-01", "2024-10-15", new SiteChangeOptions()));
        Assert.Contains("no scene acquired on 2024-05-01", missing.Message);
        Assert.Contains("2024-03-14, 2024-10-15", missing.Message);
        var same = Assert.Throws<SiteWatchException>(() => SiteChangeWorkflow.Run(workspace, "plant", "2024-03-14", "2024-03-14", new SiteChangeOptions()));
        Assert.Contains("same scene", same.Message);
        // Method names are parsed by the host, before the engine runs.
        var method = Assert.Throws<SiteWatchException>(() => ChangeChoices.ParseMethod("magic"));
        Assert.Equal("method", method.Parameter);
        Assert.Contains("'magic' is not a change method", method.Message);
        Assert.Empty(workspace.Catalog.ListChangeRuns(site.Id));
        Assert.False(Directory.Exists(Path.Combine(workspace.Root, "changes")));
        Assert.Empty(Directory.EnumerateFiles(workspace.StagingDirectory, "*", SearchOption.AllDirectories));
    }
}
