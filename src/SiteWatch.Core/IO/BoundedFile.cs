using System.Text;

namespace SiteWatch.Core.IO;

/// <summary>
/// Reads the text inputs users hand us (AOIs, watch zones, alert rules, STAC items, truth and detection files) with a
/// size limit, so that a wrong path (/dev/zero, a FIFO that never ends, a multi-gigabyte file) is a one-line error
/// instead of the process running out of memory. The file is streamed and reading stops at the limit; non-regular
/// files (character devices, FIFOs, /dev/fd/N of a shell's process substitution) are read the same way.
/// </summary>
public static class BoundedFile
{
    /// <summary>Limit of every JSON / GeoJSON input: far above any real AOI, rules or detections file.</summary>
    public const long DefaultMaxBytes = 64L << 20;

    private const int ChunkBytes = 64 << 10;

    /// <summary>
    /// The whole file as text (UTF-8, or the encoding its byte-order mark names).
    /// Every problem is a <see cref="SiteWatchException"/> naming the file: missing, unreadable, larger than <paramref name="maxBytes"/>.
    /// </summary>
    /// <param name="what">What the file should be, a singular noun for messages ("GeoJSON AOI file", "alert rules file").</param>
    public static string ReadText(string path, string what, long maxBytes = DefaultMaxBytes)
    {
        if (Directory.Exists(path))
        {
            throw new SiteWatchException($"{path}: is a directory (expected: {what})");
        }
        if (!File.Exists(path))
        {
            throw new SiteWatchException($"{path}: file not found");
        }
        try
        {
            using var stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.ReadWrite | FileShare.Delete,
                BufferSize = 0,
            });
            // A regular file's size is known up front; devices and pipes report 0 or cannot seek, so the read loop decides.
            if (stream.CanSeek && stream.Length > maxBytes)
            {
                throw TooLarge(path, what, maxBytes);
            }
            using var content = new MemoryStream();
            var chunk = new byte[ChunkBytes];
            int n;
            while ((n = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, maxBytes + 1 - content.Length))) > 0)
            {
                content.Write(chunk, 0, n);
                if (content.Length > maxBytes)
                {
                    throw TooLarge(path, what, maxBytes);
                }
            }
            content.Position = 0;
            using var reader = new StreamReader(content, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
            return reader.ReadToEnd();
        }
        catch (DecoderFallbackException)
        {
            throw new SiteWatchException($"{path}: not a text file, invalid UTF-8 (expected: {what})");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SiteWatchException($"{path}: cannot read it ({what}): {e.Message}", e);
        }
    }

    private static SiteWatchException TooLarge(string path, string what, long maxBytes) =>
        new($"{path}: larger than {Describe(maxBytes)}, the size limit for {what}s; is it the right file?");

    private static string Describe(long bytes) => bytes >= 1 << 20 && bytes % (1 << 20) == 0
        ? $"{bytes >> 20} MiB"
        : $"{bytes} bytes";
}
