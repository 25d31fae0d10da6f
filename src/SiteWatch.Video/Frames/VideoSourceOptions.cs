namespace SiteWatch.Video.Frames;

/// <summary>How <see cref="VideoSource"/> decodes and pairs telemetry.</summary>
public sealed record VideoSourceOptions
{
    /// <summary>The ffmpeg executable: a name looked up on PATH, or a path.</summary>
    public string FfmpegPath { get; init; } = "ffmpeg";

    /// <summary>Frames wider than this are scaled down (aspect kept); null decodes at full size.</summary>
    public int? MaxWidth { get; init; }

    /// <summary>A KLV set older than this relative to a frame no longer counts as that frame's telemetry.</summary>
    public TimeSpan TelemetryTolerance { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A live UDP source ends after this long without a datagram, once the first one has arrived.</summary>
    public TimeSpan UdpIdleTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Senders a live UDP source accepts (addresses or CIDR blocks, e.g. 10.0.0.5 or 10.0.0.0/24); datagrams from
    /// anyone else are dropped and counted (<see cref="VideoSourceStats.ForeignDatagrams"/>). Empty: any sender on the
    /// bound interface. Also given in the source as <c>udp://ADDRESS:PORT?from=10.0.0.5,10.0.1.0/24</c>.
    /// </summary>
    public IReadOnlyList<string> UdpAllowedSenders { get; init; } = [];

    /// <summary>Bytes ffmpeg reads to identify the streams before decoding (smaller starts a live stream sooner).</summary>
    public int ProbeSizeBytes { get; init; } = 1_000_000;

    /// <summary>Stream time ffmpeg looks at before decoding; its default of 5 s would delay a live stream's first frame.</summary>
    public TimeSpan AnalyzeDuration { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Receives every chunk of the transport stream as it is read (file) or received (UDP, allowed senders only),
    /// before it is decoded: a recorder writes the same stream elsewhere (HLS). The chunk's memory is reused after
    /// the call; a live recorder must not block here.
    /// </summary>
    public Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>? Copy { get; init; }
}
