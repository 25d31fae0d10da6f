using System.Diagnostics;
using System.Text;
using System.Text.Json;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Video.Klv;

namespace SiteWatch.Video.Watch;

/// <summary>
/// Keeps a watched flight in the workspace (recordings/ID/): the video as HLS with fMP4 segments (ffmpeg copies the
/// H.264 stream, no re-encode), frames.jsonl (one line per frame: sensor position, footprint, tracks, alerts; appended
/// and flushed per frame so the server can follow a flight live) and the catalog row. The row is added before
/// anything is written and stays "live" until <see cref="FinishAsync"/>; a killed run leaves it live with a frames
/// log that stops growing, which readers report as incomplete and the next recording in the workspace ends as
/// interrupted.
/// </summary>
public sealed class FlightRecorder : IAsyncDisposable
{
    public const string FramesFile = RecordingLiveness.FramesFile;
    public const string HlsFolder = "hls";
    public const string Playlist = "index.m3u8";

    private readonly Workspace _workspace;
    private readonly string _directory;
    private readonly StreamWriter _frames;
    private readonly Process? _ffmpeg;
    private readonly Task _ffmpegErrors;
    private readonly StringBuilder _ffmpegLog = new();
    private string? _hlsProblem;
    private bool _mediaStartSet;
    private long _frameCount;
    private int _footprints;
    private double _lastTime;

    private FlightRecorder(Workspace workspace, RecordingRecord row, string ffmpegPath)
    {
        _workspace = workspace;
        Recording = row;
        _directory = Path.Combine(workspace.Root, row.Directory);
        var hls = Path.Combine(_directory, HlsFolder);
        Directory.CreateDirectory(hls);
        _frames = new StreamWriter(new FileStream(Path.Combine(_directory, FramesFile), FileMode.CreateNew, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
        var info = new ProcessStartInfo(ffmpegPath)
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = hls,
        };
        foreach (var arg in new[]
                 {
                     "-hide_banner", "-loglevel", "error", "-f", "mpegts", "-i", "pipe:0", "-map", "0:v:0", "-c:v", "copy",
                     "-f", "hls", "-hls_segment_type", "fmp4", "-hls_time", "2", "-hls_list_size", "0", "-hls_playlist_type", "event",
                     "-hls_flags", "program_date_time+independent_segments+temp_file", "-hls_fmp4_init_filename", "init.mp4",
                     "-hls_segment_filename", "seg%05d.m4s", Playlist,
                 })
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            _ffmpeg = Process.Start(info);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            _hlsProblem = $"no HLS video: cannot run ffmpeg '{ffmpegPath}' ({e.Message})";
        }

        _ffmpegErrors = _ffmpeg is null ? Task.CompletedTask : Task.Run(async () =>
        {
            while (await _ffmpeg.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                lock (_ffmpegLog)
                {
                    if (_ffmpegLog.Length < 4000)
                    {
                        _ffmpegLog.AppendLine(line);
                    }
                }
            }
        });
    }

    public RecordingRecord Recording { get; }

    /// <summary>Absolute folder of this recording.</summary>
    public string DirectoryPath => _directory;

    /// <summary>Ends live recordings of the workspace whose watch is gone (see <see cref="RecordingLiveness"/>).</summary>
    public static int EndAbandoned(Workspace workspace)
    {
        var ended = 0;
        foreach (var row in workspace.Catalog.ListLiveRecordings())
        {
            if (RecordingLiveness.IsAbandoned(workspace.Root, row, DateTime.UtcNow)
                && workspace.Catalog.EndRecording(row.Id, CountLines(Path.Combine(workspace.Root, row.Directory, FramesFile)), row.Footprints, null, null,
                    "interrupted: the watch stopped without finishing the recording"))
            {
                ended++;
            }
        }

        return ended;
    }

    /// <summary>Starts a recording of <paramref name="source"/> for a site (the row first, then the folder).</summary>
    public static FlightRecorder Start(Workspace workspace, Site site, string source, bool live, string? identity, string ffmpegPath = "ffmpeg")
    {
        workspace.EnsureWritable();
        EndAbandoned(workspace);
        var row = workspace.Catalog.StartRecording(site.Id, live ? SecretMask.Text(source) : source, live ? "live" : "file", identity,
            id => $"recordings/{id.ToString(CultureInfo.InvariantCulture)}");
        try
        {
            return new FlightRecorder(workspace, row, ffmpegPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            workspace.Catalog.EndRecording(row.Id, 0, 0, null, null, $"failed: {e.Message}");
            throw new SiteWatchException($"cannot write the recording in {row.Directory}: {e.Message}", e);
        }
    }

    /// <summary>Copies a chunk of the transport stream to the HLS writer; a failed writer only ends the HLS video, never the watch.</summary>
    public async ValueTask CopyAsync(ReadOnlyMemory<byte> chunk, CancellationToken ct)
    {
        if (_ffmpeg is null || _hlsProblem is not null)
        {
            return;
        }

        try
        {
            await _ffmpeg.StandardInput.BaseStream.WriteAsync(chunk, ct).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            _hlsProblem = $"HLS writer stopped: {e.Message}";
        }
    }

    /// <summary>Appends one frame's line to frames.jsonl (flushed, so a follower sees it at once).</summary>
    public void Frame(FrameReport report)
    {
        var frame = report.Frame;
        _frameCount++;
        _lastTime = frame.Time.TotalSeconds;
        DateTime? sensorTime = null;
        if (St0601.PrecisionTime(frame.Telemetry) is { } t)
        {
            sensorTime = t.UtcDateTime;
            if (!_mediaStartSet)
            {
                _mediaStartSet = true;
                _workspace.Catalog.SetRecordingMediaStart(Recording.Id, sensorTime.Value - frame.Time);
            }
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("frame", frame.Index);
            json.WriteNumber("t", Math.Round(frame.Time.TotalSeconds, 4));
            if (sensorTime is { } st)
            {
                json.WriteString("time", st.ToString("O", CultureInfo.InvariantCulture));
            }

            if (frame.Telemetry is { } klv && klv.TryGetItem(St0601.SensorLatitude, out var lat) && klv.TryGetItem(St0601.SensorLongitude, out var lon))
            {
                json.WriteStartArray("sensor");
                json.WriteNumberValue(Math.Round(lon.AsDouble(), 7));
                json.WriteNumberValue(Math.Round(lat.AsDouble(), 7));
                if (klv.TryGetItem(St0601.SensorTrueAltitude, out var alt))
                {
                    json.WriteNumberValue(Math.Round(alt.AsDouble(), 1));
                }

                json.WriteEndArray();
            }

            if (report.Footprint is { } footprint)
            {
                _footprints++;
                json.WriteStartArray("footprint");
                foreach (var p in footprint.Ring)
                {
                    json.WriteStartArray();
                    json.WriteNumberValue(Math.Round(p.Longitude, 7));
                    json.WriteNumberValue(Math.Round(p.Latitude, 7));
                    json.WriteEndArray();
                }

                json.WriteEndArray();
            }

            json.WriteStartArray("tracks");
            foreach (var track in report.Tracks)
            {
                json.WriteStartObject();
                json.WriteNumber("id", track.Id);
                json.WriteString("class", track.ClassName);
                json.WriteNumber("score", Math.Round(track.Score, 3));
                json.WriteBoolean("confirmed", track.Confirmed);
                json.WriteStartArray("box");
                json.WriteNumberValue(Math.Round(track.Box.Left, 1));
                json.WriteNumberValue(Math.Round(track.Box.Top, 1));
                json.WriteNumberValue(Math.Round(track.Box.Width, 1));
                json.WriteNumberValue(Math.Round(track.Box.Height, 1));
                json.WriteEndArray();
                if (track.Position is { } position)
                {
                    json.WriteStartArray("at");
                    json.WriteNumberValue(Math.Round(position.Longitude, 7));
                    json.WriteNumberValue(Math.Round(position.Latitude, 7));
                    json.WriteEndArray();
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (report.Alerts.Count > 0)
            {
                json.WriteStartArray("alerts");
                foreach (var alert in report.Alerts)
                {
                    var track = alert.Track!;
                    json.WriteStartObject();
                    json.WriteString("rule", alert.Kind);
                    json.WriteString("zone", track.Zone);
                    json.WriteNumber("track", track.TrackId);
                    json.WriteString("class", track.ClassName);
                    json.WriteStartArray("at");
                    json.WriteNumberValue(track.Longitude);
                    json.WriteNumberValue(track.Latitude);
                    json.WriteEndArray();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        // One write per line: a follower reading the file never sees half a line except at the very end.
        _frames.BaseStream.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        _frames.BaseStream.Flush();
    }

    /// <summary>
    /// Closes the HLS writer (ffmpeg writes the last segment and ENDLIST), sets the playlist's program date times to
    /// the KLV clock, and ends the row with its figures. <paramref name="note"/>: why it ended early, if it did.
    /// </summary>
    public async Task<string?> FinishAsync(string? note)
    {
        await _frames.DisposeAsync().ConfigureAwait(false);
        if (_ffmpeg is not null)
        {
            try
            {
                _ffmpeg.StandardInput.Close();
            }
            catch (IOException)
            {
            }

            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await _ffmpeg.WaitForExitAsync(wait.Token).ConfigureAwait(false);
                await _ffmpegErrors.ConfigureAwait(false);
                if (_ffmpeg.ExitCode != 0 && _hlsProblem is null)
                {
                    lock (_ffmpegLog)
                    {
                        _hlsProblem = $"HLS writer (ffmpeg) failed with exit code {_ffmpeg.ExitCode}: {_ffmpegLog.ToString().Trim()}";
                    }
                }
            }
            catch (OperationCanceledException)
            {
                _ffmpeg.Kill(true);
                _hlsProblem ??= "HLS writer (ffmpeg) did not finish within 60 s";
            }
        }

        var row = _workspace.Catalog.TryGetRecording(Recording.Id);
        if (row?.MediaStartUtc is { } mediaStart && _hlsProblem is null)
        {
            AlignProgramDateTime(Path.Combine(_directory, HlsFolder, Playlist), mediaStart);
        }

        var combined = note is null ? _hlsProblem : _hlsProblem is null ? note : $"{note}; {_hlsProblem}";
        _workspace.Catalog.EndRecording(Recording.Id, _frameCount, _footprints, _frameCount > 0 ? _lastTime : null, null, combined);
        return _hlsProblem;
    }

    /// <summary>
    /// ffmpeg stamps EXT-X-PROGRAM-DATE-TIME with the wall clock of the recording; a player lines frames up with KLV
    /// time only when it is the sensor's clock, so each segment gets KLV time of media 0 plus the durations before
    /// it (written beside the playlist, then renamed over it).
    /// </summary>
    public static void AlignProgramDateTime(string playlist, DateTime mediaStartUtc)
    {
        if (!File.Exists(playlist))
        {
            return;
        }

        var lines = File.ReadAllLines(playlist);
        var output = new List<string>(lines.Length);
        var elapsed = 0.0;
        foreach (var line in lines)
        {
            if (line.StartsWith("#EXT-X-PROGRAM-DATE-TIME:", StringComparison.Ordinal))
            {
                continue;
            }

            if (line.StartsWith("#EXTINF:", StringComparison.Ordinal))
            {
                output.Add("#EXT-X-PROGRAM-DATE-TIME:" + mediaStartUtc.AddSeconds(elapsed).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                var value = line["#EXTINF:".Length..].Split(',')[0];
                elapsed += double.Parse(value, CultureInfo.InvariantCulture);
            }

            output.Add(line);
        }

        var temp = playlist + ".tmp";
        File.WriteAllLines(temp, output);
        File.Move(temp, playlist, overwrite: true);
    }

    private static long CountLines(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        long n = 0;
        while (reader.ReadLine() is not null)
        {
            n++;
        }

        return n;
    }

    public async ValueTask DisposeAsync()
    {
        await _frames.DisposeAsync().ConfigureAwait(false);
        if (_ffmpeg is { HasExited: false })
        {
            _ffmpeg.Kill(true);
        }

        _ffmpeg?.Dispose();
    }
}
