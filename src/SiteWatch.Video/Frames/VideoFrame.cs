using SiteWatch.Video.Klv;

namespace SiteWatch.Video.Frames;

/// <summary>One decoded picture with the telemetry in force at its presentation time.</summary>
public sealed class VideoFrame
{
    internal VideoFrame(long index, long? pts90k, TimeSpan time, int width, int height, byte[] bgr24, KlvLocalSet? telemetry, DateTimeOffset arrivedAt)
    {
        Index = index;
        Pts90k = pts90k;
        Time = time;
        Width = width;
        Height = height;
        Bgr24 = bgr24;
        Telemetry = telemetry;
        ArrivedAt = arrivedAt;
    }

    /// <summary>Position in presentation order, from 0.</summary>
    public long Index { get; }

    /// <summary>Presentation time stamp of the frame (90 kHz, as in the stream); null when the stream has none.</summary>
    public long? Pts90k { get; }

    /// <summary>Time since the first frame's PTS (frame count over 30 fps when there are no PTS).</summary>
    public TimeSpan Time { get; }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Pixels, row-major, 3 bytes per pixel in blue, green, red order (3 * Width * Height bytes).</summary>
    public byte[] Bgr24 { get; }

    /// <summary>The latest ST 0601 set whose time is at or before the frame's (within the tolerance), else null.</summary>
    public KlvLocalSet? Telemetry { get; }

    /// <summary>When the bytes starting this frame's PES arrived (for latency measurement).</summary>
    public DateTimeOffset ArrivedAt { get; }

    public override string ToString() => $"frame {Index} pts {Pts90k?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"} {Width}x{Height}{(Telemetry is null ? " (no telemetry)" : "")}";
}
