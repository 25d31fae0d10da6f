namespace SiteWatch.Video.Klv;

/// <summary>
/// The one exception the KLV and TS readers throw for malformed input. Tolerant entry points
/// (<see cref="KlvDecoder"/>, <see cref="KlvDump"/>, the TS demuxer) never throw it: they record a
/// <see cref="KlvProblem"/> or TS error instead and keep going.
/// </summary>
public sealed class KlvFormatException : FormatException
{
    public KlvFormatException(string message, long position)
        : base(position >= 0 ? $"{message} (at byte {position})" : message)
    {
        Position = position;
    }

    /// <summary>Byte offset of the problem, relative to the buffer that was being read; -1 if unknown.</summary>
    public long Position { get; }
}
