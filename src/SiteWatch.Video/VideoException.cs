namespace SiteWatch.Video;

/// <summary>
/// A problem with a video source or tool the user can act on (no ffmpeg, an undecodable stream, a port in use). Its
/// message is one line naming the source; the CLI prints it and exits with status 1.
/// </summary>
public sealed class VideoException : Exception
{
    public VideoException(string message) : base(message) { }
    public VideoException(string message, Exception inner) : base(message, inner) { }
}
