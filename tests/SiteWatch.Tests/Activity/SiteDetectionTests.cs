using SiteWatch.Core;
using SiteWatch.Core.Activity;
using SiteWatch.Core.Workflows;
using SiteWatch.Tests.Change;
using SiteWatch.Demo.Models;

namespace SiteWatch.Tests.Activity;

public class SiteDetectionTests
{
    /// <summary>
    /// A 64 x 64 YOLO detect model with two classes that finds one 12 x 12 px "vehicle" in the middle of every tile,
    /// whatever the pixels (output = 0 * max(input) + constant, so the graph still reads its input).
    /// </summary>
    internal static string WriteTileCentreModel(string path)
    {
        var b = new OnnxGraphBuilder("tile-centre");
        b.AddInput("images", [1, 3, 64, 64]);
        b.AddOutput("output0", [1, 6, 1]);
        b.AddInitializer("zero", [1], [0f]);
        b.AddInitializer("c", [1, 6, 1], [32f, 32f, 12f, 12f, 0.9f, 0.05f]);
        b.AddNode("ReduceMax", ["images"], ["m"], OnnxAttribute.Int("keepdims", 0));
        b.AddNode("Mul", ["m", "zero"], ["z"]);
        b.AddNode("Add", ["c", "z"], ["output0"]);
        File.WriteAllBytes(path, b.ToModelBytes(metadata: new Dictionary<string, string> { ["names"] = "{0: 'vehicle', 1: 'crane'}", ["imgsz"] = "[64, 64]", ["task"] = "detect" }));
        return path;
    }

    [Fact]
    public void Detections_are_stored_per_scene_and_model_and_a_second_run_does_nothing()
    {
        using var dir = new TempDir();
        var (workspace, site) = SiteChangeTests.Ingested(dir);
        using var _ = workspace;
        var model = WriteTileCentreModel(dir.File("tile-centre.onnx"));

        var first = SiteDetectionWorkflow.Run(workspace, "plant", new SiteDetectionOptions { ModelPath = model });
        Assert.Equal(["vehicle", "crane"], first.Classes);
        Assert.Equal(2, first.Scenes.Count);
        Assert.All(first.Scenes, s =>
        {
            Assert.False(s.Reused);
            Assert.True(s.Record.Counts["vehicle"] > 0);
            Assert.Equal(0, s.Record.Counts["crane"]);
            Assert.Equal(s.Detections!.Detections.Count, s.Record.Counts["vehicle"]);
            Assert.True(File.Exists(Path.Combine(workspace.Root, s.Record.DetectionsFile)));
        });
        Assert.Empty(Directory.EnumerateFiles(workspace.StagingDirectory, "*", SearchOption.AllDirectories));

        var second = SiteDetectionWorkflow.Run(workspace, "plant", new SiteDetectionOptions { ModelPath = model });
        Assert.All(second.Scenes, s => Assert.True(s.Reused));
        Assert.Equal(first.Scenes.Select(s => s.Record.Id), second.Scenes.Select(s => s.Record.Id));
        Assert.Equal(2, workspace.Catalog.ListDetectionRuns(site.Id).Count);

        // Other parameters are another cache entry; --force replaces an entry and its file.
        var stricter = SiteDetectionWorkflow.Run(workspace, "plant", new SiteDetectionOptions { ModelPath = model, ScoreThreshold = 0.95f });
        Assert.All(stricter.Scenes, s => Assert.Equal(0, s.Record.Counts["vehicle"]));
        Assert.Equal(4, workspace.Catalog.ListDetectionRuns(site.Id).Count);
        var forced = SiteDetectionWorkflow.Run(workspace, "plant", new SiteDetectionOptions { ModelPath = model, Force = true });
        Assert.All(forced.Scenes, s => Assert.False(s.Reused));
        Assert.Equal(4, workspace.Catalog.ListDetectionRuns(site.Id).Count);
        Assert.All(first.Scenes, s => Assert.False(File.Exists(Path.Combine(workspace.Root, s.Record.DetectionsFile))));
        Assert.All(forced.Scenes, s => Assert.True(File.Exists(Path.Combine(workspace.Root, s.Record.DetectionsFile))));

        // The activity timeline follows the most recent run's model and parameters.
        var timeline = ActivityTimeline.Build(workspace.Catalog, site, new ActivityOptions());
        Assert.Equal("tile-centre", timeline.ModelName);
        Assert.Equal(forced.Scenes[1].Record.Counts["vehicle"], timeline.Dates[1].Counts!["vehicle"]);
    }

    [Fact]
    public void A_missing_model_is_a_clear_error_and_stores_nothing()
    {
        using var dir = new TempDir();
        var (workspace, site) = SiteChangeTests.Ingested(dir);
        using var _ = workspace;
        var e = Assert.Throws<SiteWatchException>(() => SiteDetectionWorkflow.Run(workspace, "plant", new SiteDetectionOptions { ModelPath = dir.File("nope.onnx") }));
        Assert.Contains("nope.onnx: model file not found", e.Message);
        File.WriteAllText(dir.File("text.onnx"), "not a model");
        Assert.Throws<SiteWatchException>(() => SiteDetectionWorkflow.Run(workspace, "plant", new SiteDetectionOptions { ModelPath = dir.File("text.onnx") }));
        Assert.Empty(workspace.Catalog.ListDetectionRuns(site.Id));
    }
}
