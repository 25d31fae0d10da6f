using SiteWatch.Video.Ts;

namespace SiteWatch.Video.Frames;

/// <summary>Counters of a <see cref="VideoSource"/>, updated while it runs.</summary>
public sealed class VideoSourceStats
{
    private readonly object _gate = new();
    private readonly List<TsError> _tsErrors = [];

    /// <summary>After a decode: a source that delivered no byte at all has no MPEG-TS packets.</summary>
    public void RequireData(string source)
    {
        if (BytesRead == 0)
        {
            throw new Core.SiteWatchException(VideoSource.IsLive(source)
                ? $"{Core.Alerts.SecretMask.Text(source)}: no MPEG-TS packets received"
                : $"{source}: no MPEG-TS packets");
        }
    }

    public long Frames { get; internal set; }

    public long FramesWithoutTelemetry { get; internal set; }

    /// <summary>ST 0601 packets decoded.</summary>
    public long KlvPackets { get; internal set; }

    /// <summary>KLV packets with a bad checksum, unknown key or decoding problems (still counted in <see cref="KlvPackets"/> when ST 0601).</summary>
    public long KlvProblems { get; internal set; }

    public long BytesRead { get; internal set; }

    /// <summary>UDP datagrams received (0 for files).</summary>
    public long Datagrams { get; internal set; }

    /// <summary>UDP datagrams from senders outside the allowed ones, dropped (never decoded).</summary>
    public long ForeignDatagrams { get; internal set; }

    /// <summary>The address a live source listens on (null for files).</summary>
    public string? ListeningOn { get; internal set; }

    /// <summary>Transport-level errors (sync loss, continuity, truncation ...).</summary>
    public long TsErrors { get; internal set; }

    /// <summary>The transport errors with their byte positions (as many as the demuxer records).</summary>
    public IReadOnlyList<TsError> TsErrorList
    {
        get
        {
            lock (_gate)
            {
                return [.. _tsErrors];
            }
        }
    }

    /// <summary>ffmpeg's exit code once it has ended; its last stderr lines when it reported problems.</summary>
    public int? DecoderExitCode { get; internal set; }

    public string? DecoderMessages { get; internal set; }

    internal void SetTsErrors(TsDiagnostics diagnostics)
    {
        lock (_gate)
        {
            TsErrors = diagnostics.TotalErrors;
            _tsErrors.Clear();
            _tsErrors.AddRange(diagnostics.Errors);
        }
    }

    public override string ToString() =>
        $"{Frames} frames ({FramesWithoutTelemetry} without telemetry), {KlvPackets} KLV packets ({KlvProblems} with problems), {TsErrors} TS errors, {BytesRead} bytes";
}
