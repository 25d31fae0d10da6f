using SiteWatch.Video.Frames;
using SiteWatch.Video.Klv;

namespace SiteWatch.Cli.Commands;

public sealed class VideoInfoCommand : Command<VideoInfoCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<SOURCE>")]
        [Description("An MPEG-TS file, or udp://ADDRESS:PORT to listen on (ends after 5 s without data).")]
        public string Source { get; init; } = "";

        [CommandOption("--json")]
        [Description("Print the summary as JSON.")]
        public bool Json { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        VideoInput.RequireNotEmpty(settings.Source);
        var summary = Output.WithProgress(settings.Json, $"Decoding {settings.Source}", _ => Summarise(settings.Source, cancellationToken).GetAwaiter().GetResult());
        if (settings.Json)
        {
            Output.WriteJson(summary);
            return 0;
        }

        var table = new Table().AddColumns("", "").HideHeaders();
        table.AddRow("source", Markup.Escape(summary.Source));
        table.AddRow("frames", $"{summary.Frames} ({summary.FramesWithoutTelemetry} without telemetry)");
        table.AddRow("size", $"{summary.Width} x {summary.Height}");
        table.AddRow("duration", $"{summary.DurationS.ToString("0.###", CultureInfo.InvariantCulture)} s ({summary.Fps?.ToString("0.##", CultureInfo.InvariantCulture) ?? "-"} fps)");
        table.AddRow("ST 0601 packets", $"{summary.KlvPackets} ({summary.KlvProblems} with problems)");
        table.AddRow("first / last KLV time", $"{summary.FirstKlvTime ?? "-"} / {summary.LastKlvTime ?? "-"}");
        table.AddRow("TS errors", summary.TsErrors.ToString(CultureInfo.InvariantCulture));
        foreach (var error in summary.TsErrorList.Take(5))
        {
            table.AddRow("", Markup.Escape(error));
        }

        AnsiConsole.Write(table);
        return 0;
    }

    private static async Task<VideoSummary> Summarise(string source, CancellationToken ct)
    {
        await using var video = VideoSource.Open(source);
        VideoFrame? first = null, last = null;
        DateTimeOffset? firstKlv = null, lastKlv = null;
        await foreach (var frame in video.ReadFramesAsync(ct))
        {
            first ??= frame;
            last = frame;
            if (frame.Telemetry is { } set && set.TryGetItem(St0601.PrecisionTimeStamp, out var stamp) && stamp.Kind == KlvValueKind.Timestamp)
            {
                var time = DateTimeOffset.UnixEpoch.AddTicks((long)stamp.AsUInt64() * 10);
                firstKlv ??= time;
                lastKlv = time;
            }
        }

        var stats = video.Stats;
        stats.RequireData(source);
        var duration = last is null ? 0 : last.Time.TotalSeconds;
        return new VideoSummary(source, stats.Frames, stats.FramesWithoutTelemetry, first?.Width ?? 0, first?.Height ?? 0, Math.Round(duration, 3),
            stats.Frames > 1 && duration > 0 ? Math.Round((stats.Frames - 1) / duration, 3) : null, stats.KlvPackets, stats.KlvProblems,
            firstKlv?.ToString("O", CultureInfo.InvariantCulture), lastKlv?.ToString("O", CultureInfo.InvariantCulture), stats.TsErrors,
            [.. stats.TsErrorList.Select(e => e.ToString())]);
    }

    private sealed record VideoSummary(string Source, long Frames, long FramesWithoutTelemetry, int Width, int Height, double DurationS, double? Fps,
        long KlvPackets, long KlvProblems, string? FirstKlvTime, string? LastKlvTime, long TsErrors, IReadOnlyList<string> TsErrorList);
}

/// <summary>Checks shared by the video commands: a source that holds no MPEG-TS at all is an error, not an empty summary.</summary>
internal static class VideoInput
{
    /// <summary>Refuses an empty file before ffmpeg is started or any output is written. Pipes and devices are left to the decode.</summary>
    public static void RequireNotEmpty(string source)
    {
        if (VideoSource.IsLive(source) || !File.Exists(source))
        {
            return;
        }
        try
        {
            using var stream = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            if (stream.CanSeek && stream.ReadByte() < 0)
            {
                throw new SiteWatchException($"{source}: no MPEG-TS packets (the file is empty)");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SiteWatchException($"{source}: cannot read it: {e.Message}", e);
        }
    }
}
