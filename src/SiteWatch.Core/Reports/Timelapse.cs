using System.Diagnostics;
using System.Globalization;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Core.Geo;
using SkiaSharp;

namespace SiteWatch.Core.Reports;

/// <summary>What goes into a timelapse.</summary>
public sealed record TimelapseOptions
{
    public DateOnly? From { get; init; }
    public DateOnly? To { get; init; }
    /// <summary>Frames per second: one scene per frame.</summary>
    public double FramesPerSecond { get; init; } = 1;
    /// <summary>Longest side of a frame's imagery in pixels.</summary>
    public int Size { get; init; } = 1024;
    /// <summary>Draw the change objects that appeared, went or altered since the scene before (not vegetation or cast shadows).</summary>
    public bool ChangeOutlines { get; init; } = true;
    /// <summary>Smaller change objects are not outlined (specks of trees and noise would hide the picture).</summary>
    public double MinOutlineSquareMetres { get; init; } = 25;
}

public sealed record TimelapseResult(string Path, int Frames, int Width, int Height, DateOnly First, DateOnly Last, int OutlinedChanges);

/// <summary>
/// A site's scenes in date order as a video (MP4, H.264) or an animated GIF, encoded by ffmpeg: each frame is the stored
/// scene (on the site grid, so frames line up) cut to the AOI, with the date, the imagery's attribution, a scale bar,
/// a north arrow, the AOI and the outlines of what changed since the scene before, drawn as the report draws its maps.
/// </summary>
public static class TimelapseWorkflow
{
    public static readonly IReadOnlyList<string> Formats = [".mp4", ".gif"];

    private static readonly SKColor Appeared = new(255, 56, 40), Removed = new(40, 200, 255), Altered = new(255, 170, 0);

    public static TimelapseResult Write(Workspace workspace, string siteName, string outputPath, TimelapseOptions options, IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        var extension = Path.GetExtension(outputPath).ToLowerInvariant();
        if (!Formats.Contains(extension))
        {
            throw new SiteWatchException($"{outputPath}: a timelapse is written as {string.Join(" or ", Formats)} (the file name's extension chooses)");
        }
        if (options.FramesPerSecond is <= 0 or > 60 || !double.IsFinite(options.FramesPerSecond))
        {
            throw new SiteWatchException($"{options.FramesPerSecond.ToString(CultureInfo.InvariantCulture)} frames per second: use more than 0 and at most 60");
        }
        if (options.Size is < 64 or > 4096)
        {
            throw new SiteWatchException($"frame size {options.Size}: use 64 to 4096 pixels");
        }
        var site = workspace.Catalog.GetSite(siteName);
        var scenes = workspace.Catalog.ListScenes(site.Id)
            .Where(s => (options.From is not { } f || DateOnly.FromDateTime(s.AcquiredUtc) >= f) && (options.To is not { } t || DateOnly.FromDateTime(s.AcquiredUtc) <= t))
            .OrderBy(s => s.AcquiredUtc).ThenBy(s => s.Id).ToList();
        if (scenes.Count < 2)
        {
            throw new SiteWatchException($"site {site.Name} has {scenes.Count} scene(s){Period(options)}; a timelapse needs at least two");
        }
        var output = Path.GetFullPath(outputPath);
        var folder = Path.GetDirectoryName(output)!;
        if (!Directory.Exists(folder))
        {
            throw new SiteWatchException($"{folder}: no such folder for the timelapse");
        }

        var aoiMap = GeometryProjection.Transform(site.Aoi, 4326, site.CrsEpsg);
        var window = new Envelope(aoiMap.EnvelopeInternal);
        window.ExpandBy(0.03 * Math.Max(window.Width, window.Height));
        var runs = workspace.Catalog.ListChangeRuns(site.Id);
        // Frames and the file being encoded sit beside the output and are removed whatever happens; the output is
        // replaced only by a complete file.
        var stem = Path.Combine(folder, $".{Path.GetFileNameWithoutExtension(output)}.{Guid.NewGuid():N}");
        var frames = stem + ".frames";
        var temporary = stem + extension;
        try
        {
            Directory.CreateDirectory(frames);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SiteWatchException($"{folder}: cannot write the timelapse there ({e.Message})", e);
        }
        try
        {
            using var fonts = ReportFonts.Load();
            int width = 0, height = 0, outlined = 0;
            for (var i = 0; i < scenes.Count; i++)
            {
                cancel.ThrowIfCancellationRequested();
                var scene = scenes[i];
                var overlays = new List<MapOverlay> { new(aoiMap, ReportImages.Aoi, Dashed: true, Width: 2) };
                var caption = MeasuredStatements.Day(DateOnly.FromDateTime(scene.AcquiredUtc)) + $"  ({i + 1}/{scenes.Count})";
                if (options.ChangeOutlines && i > 0 && Changes(workspace, site, runs, scenes[i - 1], scene, options.MinOutlineSquareMetres) is { } changes)
                {
                    overlays.AddRange(changes.Select(c => new MapOverlay(c.Map, c.Colour, Width: 2)));
                    outlined += changes.Count;
                    caption += string.Create(CultureInfo.InvariantCulture,
                        $"  since {scenes[i - 1].AcquiredUtc:yyyy-MM-dd}: {changes.Count(c => c.Colour == Appeared)} appeared, {changes.Count(c => c.Colour == Removed)} removed, {changes.Count(c => c.Colour == Altered)} altered");
                }
                var frame = ReportImages.Panels([new MapPanel(workspace.Resolve(scene.File), scene, caption, overlays)], window, site.CrsEpsg, options.Size, fonts)[0];
                (width, height) = (frame.Width, frame.Height);
                File.WriteAllBytes(Path.Combine(frames, string.Create(CultureInfo.InvariantCulture, $"frame_{i:D4}.png")), frame.Png);
                progress?.Report(0.8 * (i + 1) / scenes.Count);
            }
            Encode(frames, temporary, extension, options.FramesPerSecond, cancel);
            File.Move(temporary, output, overwrite: true);
            progress?.Report(1);
            // MP4 frames are padded to an even size.
            var even = extension == ".mp4" ? 1 : 0;
            return new TimelapseResult(output, scenes.Count, width + even * (width % 2), height + even * (height % 2),
                DateOnly.FromDateTime(scenes[0].AcquiredUtc), DateOnly.FromDateTime(scenes[^1].AcquiredUtc), outlined);
        }
        finally
        {
            File.Delete(temporary);
            Directory.Delete(frames, recursive: true);
        }
    }

    private static string Period(TimelapseOptions options) =>
        options.From is null && options.To is null ? "" : $" between {options.From?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "the first"} and {options.To?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "the last"}";

    /// <summary>The structural change objects inside the AOI of the latest run from one scene to the next, in the site's map CRS; null without such a run.</summary>
    private static List<(Geometry Map, SKColor Colour)>? Changes(Workspace workspace, Site site, IReadOnlyList<ChangeRunRecord> runs, Scene before, Scene after, double minArea)
    {
        var run = runs.LastOrDefault(r => r.BeforeSceneId == before.Id && r.AfterSceneId == after.Id);
        if (run is null)
        {
            return null;
        }
        var path = Path.Combine(workspace.Resolve(run.Directory), "changes.geojson");
        var changes = new List<(Geometry, SKColor)>();
        foreach (var feature in GeoJsonText.ReadFeatures(path, $"missing from the workspace although change run {run.Id} records it"))
        {
            var kind = feature.Attributes?.Exists("kind") == true ? feature.Attributes["kind"]?.ToString() : null;
            var shadow = feature.Attributes?.Exists("shadow") == true && feature.Attributes["shadow"] is true;
            var area = feature.Attributes?.Exists("area_m2") == true ? Convert.ToDouble(feature.Attributes["area_m2"], CultureInfo.InvariantCulture) : 0;
            // Structures inside the site: not vegetation, cast shadows, specks, or the grid's corners outside the AOI.
            if (kind == ChangeKind.Vegetation || shadow || area < minArea || !feature.Geometry.Intersects(site.Aoi))
            {
                continue;
            }
            var colour = kind == ChangeKind.Appeared ? Appeared : kind == ChangeKind.Removed ? Removed : Altered;
            changes.Add((GeometryProjection.Transform(feature.Geometry, 4326, site.CrsEpsg), colour));
        }
        return changes;
    }

    /// <summary>Runs ffmpeg over the numbered frames: H.264 (yuv420p, even size) for MP4, a palette of the frames for GIF.</summary>
    private static void Encode(string frames, string output, string extension, double fps, CancellationToken cancel)
    {
        var rate = fps.ToString("0.###", CultureInfo.InvariantCulture);
        var arguments = new List<string> { "-hide_banner", "-loglevel", "error", "-y", "-framerate", rate, "-i", Path.Combine(frames, "frame_%04d.png") };
        if (extension == ".mp4")
        {
            // Players need an even size and 4:2:0 chroma; each scene is held for 1/fps seconds.
            arguments.AddRange(["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-r", rate, "-movflags", "+faststart", "-f", "mp4"]);
        }
        else
        {
            arguments.AddRange(["-vf", "split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=sierra2_4a", "-loop", "0", "-f", "gif"]);
        }
        arguments.Add(output);
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        arguments.ForEach(start.ArgumentList.Add);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new SiteWatchException("could not start ffmpeg");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SiteWatchException($"ffmpeg is needed to encode the timelapse and could not be started ({e.Message}); install it (Debian: apt-get install ffmpeg)", e);
        }
        using (process)
        {
            using var registration = cancel.Register(() =>
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }
            });
            var errors = process.StandardError.ReadToEndAsync(cancel);
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            cancel.ThrowIfCancellationRequested();
            if (process.ExitCode != 0)
            {
                var text = errors.Result.Trim();
                throw new SiteWatchException($"ffmpeg could not encode the timelapse (exit {process.ExitCode}): {(text.Length > 400 ? text[..400] : text)}");
            }
        }
    }
}
