namespace SiteWatch.Video;

/// <summary>
/// A problem with a video source or tool the user can act on (no ffmpeg, an undecodable stream, a port in use). Its
/// message is one line naming the source. One of the user-facing problems (<see cref="Core.SiteWatchException"/>), so
/// every host reports it as it reports the others: the CLI prints it and exits with status 1, the server answers 4xx.
/// </summary>
public sealed class VideoException : Core.SiteWatchException
{
    public VideoException(string message) : base(message) { }
    public VideoException(string message, Exception inner) : base(message, inner) { }
}
