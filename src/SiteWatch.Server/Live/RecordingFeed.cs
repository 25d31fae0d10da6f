using Microsoft.AspNetCore.SignalR;
using SiteWatch.Core.Catalog;
using SiteWatch.Server.Endpoints;
using SiteWatch.Video.Watch;

namespace SiteWatch.Server.Live;

/// <summary>
/// Follows the recordings in progress (written by `watch --site`, another process) and pushes each new frame of
/// their frames log to the site's followers as "frame" (recording id, video time, sensor, footprint, tracks, alerts
/// of the frame), and "recording" when one starts or ends. Zone alerts also arrive as "alert" from the alert feed.
/// A recording first seen mid-flight starts with its latest frame, not its whole past.
/// </summary>
internal sealed class RecordingFeed(WorkspaceHost host, IHubContext<EventsHub> hub, ServerSettings settings, ILogger<RecordingFeed> logger) : BackgroundService
{
    private readonly Dictionary<long, (long SiteId, string Path, long Offset)> _following = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Clamp(settings.LivePollSeconds / 4, 0.05, 0.5)));
        var first = true;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await TickAsync(first, stoppingToken);
                    first = false;
                }
                catch (Exception e) when (e is Core.SiteWatchException or IOException or UnauthorizedAccessException)
                {
                    logger.LogWarning("live recording feed: {Message}", e.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task TickAsync(bool first, CancellationToken ct)
    {
        var (root, live) = host.Use(w => (w.Root, w.Catalog.ListLiveRecordings()));
        var now = DateTime.UtcNow;
        foreach (var r in live.Where(r => !_following.ContainsKey(r.Id) && !RecordingLiveness.IsAbandoned(root, r, now)))
        {
            var path = Path.Combine(root, r.Directory, FlightRecorder.FramesFile);
            var length = File.Exists(path) ? new FileInfo(path).Length : 0;
            // Mid-flight (or at server start): begin at the last complete line; a new recording from its start.
            var offset = first || length > 64 * 1024 ? LastLineStart(path, length) : 0;
            _following[r.Id] = (r.SiteId, path, offset);
            await hub.Clients.Group(EventsHub.SiteGroup(r.SiteId)).SendAsync("recording", new { id = r.Id, site_id = r.SiteId, status = "recording" }, ct);
        }

        foreach (var (id, entry) in _following.ToList())
        {
            var offset = entry.Offset;
            var frames = new List<System.Text.Json.JsonElement>();
            RecordingFrames.Read(entry.Path, ref offset, frames.Add);
            _following[id] = entry with { Offset = offset };
            foreach (var frame in frames)
            {
                await hub.Clients.Group(EventsHub.SiteGroup(entry.SiteId)).SendAsync("frame", new { recording_id = id, frame }, ct);
            }

            if (live.All(r => r.Id != id) || RecordingLiveness.IsAbandoned(root, live.First(r => r.Id == id), now))
            {
                _following.Remove(id);
                var status = host.Use(w => w.Catalog.TryGetRecording(id) is { } r ? VideoEndpoints.Status(w, r) : "deleted");
                await hub.Clients.Group(EventsHub.SiteGroup(entry.SiteId)).SendAsync("recording", new { id, site_id = entry.SiteId, status }, ct);
            }
        }
    }

    private static long LastLineStart(string path, long length)
    {
        if (length == 0)
        {
            return 0;
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var window = (int)Math.Min(length, 256 * 1024);
        var bytes = new byte[window];
        stream.Position = length - window;
        stream.ReadExactly(bytes);
        var end = Array.LastIndexOf(bytes, (byte)'\n');
        if (end <= 0)
        {
            return length - window;
        }
        var before = Array.LastIndexOf(bytes, (byte)'\n', end - 1);
        return length - window + before + 1;
    }
}
