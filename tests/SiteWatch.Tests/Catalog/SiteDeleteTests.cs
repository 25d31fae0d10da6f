using SiteWatch.Core;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Core.Workflows;
using SiteWatch.Tests.Change;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Tests.Catalog;

/// <summary>Deleting a site moves its own folders aside (never deletes them) and touches nothing else; orphans are found by path.</summary>
public sealed class SiteDeleteTests
{
    private const string Aoi = """{"type":"Polygon","coordinates":[[[-64.51,-22.51],[-64.49,-22.51],[-64.49,-22.49],[-64.51,-22.49],[-64.51,-22.51]]]}""";

    private static (Workspace Workspace, Site Plant, SiteChangeResult Change) PlantWithChangeRun(TempDir dir)
    {
        var (workspace, plant) = SiteChangeTests.Ingested(dir);
        var change = SiteChangeWorkflow.Run(workspace, "plant", "2024-03-14", "2024-10-15", new SiteChangeOptions { Detection = new ChangeDetectionOptions { Method = ChangeMethodKind.Cva } });
        return (workspace, plant, change);
    }

    private static string Write(Workspace workspace, string relative)
    {
        var full = Path.Combine(workspace.Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, "left by an interrupted run");
        return full;
    }

    [Fact]
    public void Deleting_a_site_moves_its_own_folders_aside_and_leaves_every_other_file_alone()
    {
        using var dir = new TempDir();
        var (workspace, plant, _) = PlantWithChangeRun(dir);
        using var _ = workspace;
        File.WriteAllText(dir.File("border.geojson"), Aoi);
        var border = SiteSetup.AddSite(workspace, "border", dir.File("border.geojson"), 1.0, null, [], null);
        // Unreferenced files that are not this site's: another site's leftover, and a folder whose name only starts with the same digits.
        var othersLeftover = Write(workspace, Path.Combine(Workspace.SiteFolder("imagery", border), "leftover.tif"));
        var lookalike = Write(workspace, Path.Combine("imagery", $"{plant.Id}0-other", "x.tif"));
        var plantFiles = new[] { "imagery", "changes" }
            .SelectMany(kind => Directory.EnumerateFiles(Path.Combine(workspace.Root, Workspace.SiteFolder(kind, plant)), "*", SearchOption.AllDirectories))
            .Select(f => Path.GetRelativePath(workspace.Root, f)).ToList();
        Assert.Contains(plantFiles, f => f.EndsWith(".tif", StringComparison.Ordinal) && f.StartsWith("imagery", StringComparison.Ordinal));
        Assert.Contains(plantFiles, f => f.EndsWith("changes.geojson", StringComparison.Ordinal));

        var (deleted, quarantined) = workspace.DeleteSite(plant);

        Assert.True(deleted);
        Assert.Equal([Workspace.SiteFolder("changes", plant), Workspace.SiteFolder("imagery", plant)], quarantined.Order());
        Assert.Null(workspace.Catalog.TryGetSiteById(plant.Id));
        Assert.Empty(workspace.Catalog.ListScenes(plant.Id));
        Assert.Empty(workspace.Catalog.ListChangeRuns(plant.Id));
        var batch = Assert.Single(Directory.GetDirectories(workspace.QuarantineDirectory));
        Assert.All(plantFiles, f =>
        {
            Assert.False(File.Exists(Path.Combine(workspace.Root, f)), f);
            Assert.True(File.Exists(Path.Combine(batch, f)), f);
        });
        Assert.True(File.Exists(othersLeftover));
        Assert.True(File.Exists(lookalike));
        Assert.NotNull(workspace.Catalog.TryGetSiteById(border.Id));
        Assert.False(workspace.DeleteSite(plant).Deleted);
    }

    [Fact]
    public void A_site_whose_flight_is_being_recorded_is_not_deleted_and_its_ended_recordings_go_aside_with_it()
    {
        using var dir = new TempDir();
        var (workspace, plant) = SiteChangeTests.Ingested(dir);
        using var _ = workspace;
        // A watch recording a flight of the site: its row is live and its frames log has just grown.
        var recording = workspace.Catalog.StartRecording(plant.Id, "flight.ts", "file", null, id => $"recordings/{id}");
        var frames = Write(workspace, Path.Combine(recording.Directory, RecordingLiveness.FramesFile));

        var error = Assert.Throws<SiteInUseException>(() => workspace.DeleteSite(plant));
        Assert.Contains($"recording {recording.Id}", error.Message);
        Assert.Contains("stop its watch first", error.Message);
        Assert.NotNull(workspace.Catalog.TryGetSiteById(plant.Id));
        Assert.NotNull(workspace.Catalog.TryGetRecording(recording.Id));
        Assert.True(File.Exists(frames));
        Assert.False(Directory.Exists(workspace.QuarantineDirectory) && Directory.EnumerateFileSystemEntries(workspace.QuarantineDirectory).Any());

        // A watch killed long ago (its log silent past the grace period) no longer holds the site.
        File.SetLastWriteTimeUtc(frames, DateTime.UtcNow - RecordingLiveness.StaleAfter - TimeSpan.FromSeconds(5));
        var (deleted, quarantined) = workspace.DeleteSite(plant);
        Assert.True(deleted);
        Assert.Contains(recording.Directory, quarantined);
        Assert.Null(workspace.Catalog.TryGetRecording(recording.Id));
        Assert.False(File.Exists(frames));
        var batch = Assert.Single(Directory.GetDirectories(workspace.QuarantineDirectory));
        Assert.True(File.Exists(Path.Combine(batch, recording.Directory, RecordingLiveness.FramesFile)));
    }

    [Fact]
    public void A_site_whose_folders_cannot_be_moved_aside_is_not_deleted_and_keeps_its_files()
    {
        using var dir = new TempDir();
        var (workspace, plant) = SiteChangeTests.Ingested(dir);
        using var _ = workspace;
        var scenes = workspace.Catalog.ListScenes(plant.Id);
        // A file where the quarantine folder must go: no folder can be moved there.
        File.WriteAllText(workspace.QuarantineDirectory, "in the way");

        var error = Assert.Throws<SiteWatchException>(() => workspace.DeleteSite(plant));
        Assert.Contains("was not deleted", error.Message);
        Assert.NotNull(workspace.Catalog.TryGetSiteById(plant.Id));
        Assert.All(scenes, s => Assert.True(File.Exists(workspace.Resolve(s.File)), s.File));
        Assert.Equal(scenes.Count, workspace.Catalog.ListScenes(plant.Id).Count);
    }

    [Fact]
    public void Orphans_are_files_under_no_referenced_file_or_folder()
    {
        using var dir = new TempDir();
        var (workspace, plant, change) = PlantWithChangeRun(dir);
        using var _ = workspace;
        var run = Path.GetRelativePath(workspace.Root, change.Directory);
        Write(workspace, Path.Combine(run, "notes", "extra.txt"));
        var sibling = Write(workspace, run + "0" + Path.DirectorySeparatorChar + "stray.geojson");
        var stray = Write(workspace, Path.Combine(Workspace.SiteFolder("imagery", plant), "stray.tif"));

        var orphans = workspace.FindOrphans();

        Assert.Equal([Path.GetRelativePath(workspace.Root, sibling), Path.GetRelativePath(workspace.Root, stray)], orphans.Order());
    }
}
