using System.Diagnostics;
using SiteWatch.Core;
using SiteWatch.Core.Change;
using SiteWatch.Core.Reports;
using SiteWatch.Core.Workflows;
using SiteWatch.Tests.Change;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Tests.Reports;

/// <summary>The timelapse as ffprobe reads it: one frame per scene, the frames' size, both containers; bad requests write nothing.</summary>
public sealed class TimelapseTests
{
    private static (int Frames, int Width, int Height, string Codec) Probe(string path)
    {
        var start = new ProcessStartInfo("ffprobe") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames,width,height,codec_name", "-of", "csv=p=0", path })
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"ffprobe {path}: {process.StandardError.ReadToEnd()}");
        // codec_name,width,height,nb_read_frames
        var parts = output.Split(',');
        return (int.Parse(parts[3]), int.Parse(parts[1]), int.Parse(parts[2]), parts[0]);
    }

    [Fact]
    public void A_site_series_becomes_an_mp4_and_a_gif_with_a_frame_per_scene_and_its_changes_outlined()
    {
        using var dir = new TempDir();
        var (workspace, _) = SiteChangeTests.Ingested(dir);
        using var _w = workspace;
        SiteChangeWorkflow.Run(workspace, "plant", "2024-03-14", "2024-10-15", new SiteChangeOptions { Detection = new ChangeDetectionOptions { Method = ChangeMethodKind.Cva } });

        var video = TimelapseWorkflow.Write(workspace, "plant", dir.File("plant.mp4"), new TimelapseOptions { Size = 301 });
        var probed = Probe(video.Path);
        Assert.Equal(("h264", 2), (probed.Codec, probed.Frames));
        // Players need even sizes: the 301 px frame is padded.
        Assert.Equal(0, probed.Width % 2);
        Assert.Equal(0, probed.Height % 2);
        Assert.Equal((probed.Width, probed.Height), (video.Width, video.Height));
        Assert.True(video.OutlinedChanges > 0);
        Assert.Equal(new DateOnly(2024, 3, 14), video.First);

        var gif = TimelapseWorkflow.Write(workspace, "plant", dir.File("plant.gif"), new TimelapseOptions { FramesPerSecond = 2, ChangeOutlines = false });
        Assert.Equal(("gif", 2), (Probe(gif.Path).Codec, Probe(gif.Path).Frames));
        Assert.Equal(0, gif.OutlinedChanges);
        // Nothing but the two outputs is left in the folder (frames and the file being encoded are removed).
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path, ".plant.*"));
    }

    [Fact]
    public void Bad_requests_are_clear_errors_and_leave_an_existing_output_as_it_was()
    {
        using var dir = new TempDir();
        var (workspace, _) = SiteChangeTests.Ingested(dir);
        using var _w = workspace;
        File.WriteAllText(dir.File("keep.mp4"), "an older file");

        Assert.Contains(".mp4 or .gif", Assert.Throws<SiteWatchException>(() => TimelapseWorkflow.Write(workspace, "plant", dir.File("plant.avi"), new TimelapseOptions())).Message);
        var one = Assert.Throws<SiteWatchException>(() => TimelapseWorkflow.Write(workspace, "plant", dir.File("keep.mp4"), new TimelapseOptions { From = new DateOnly(2024, 6, 1) }));
        Assert.Contains("1 scene(s) between 2024-06-01", one.Message);
        Assert.Contains("no such folder", Assert.Throws<SiteWatchException>(() => TimelapseWorkflow.Write(workspace, "plant", dir.File("missing/plant.mp4"), new TimelapseOptions())).Message);
        Assert.Throws<SiteWatchException>(() => TimelapseWorkflow.Write(workspace, "nowhere", dir.File("keep.mp4"), new TimelapseOptions()));
        Assert.Throws<SiteWatchException>(() => TimelapseWorkflow.Write(workspace, "plant", dir.File("keep.mp4"), new TimelapseOptions { FramesPerSecond = 0 }));
        Assert.Equal("an older file", File.ReadAllText(dir.File("keep.mp4")));
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path, ".keep.*"));
    }
}
