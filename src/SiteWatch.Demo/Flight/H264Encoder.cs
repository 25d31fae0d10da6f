using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using SiteWatch.Video;

namespace SiteWatch.Demo.Flight;

/// <summary>One H.264 access unit (Annex B bytes, beginning with its access unit delimiter) in decode order.</summary>
public sealed record H264AccessUnit(long Index, byte[] Bytes, bool Keyframe);

/// <summary>
/// BGR24 frames in, H.264 access units out, through an ffmpeg child process (libx264, ultrafast, zerolatency,
/// access unit delimiters inserted, raw Annex B on a pipe). Zero latency means no B-frames: access units come out
/// in presentation order, so the n-th access unit is the n-th frame written.
/// </summary>
public sealed class H264Encoder : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<H264AccessUnit> _units = Channel.CreateUnbounded<H264AccessUnit>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Task _reader;
    private readonly Task<string> _stderr;
    private readonly int _frameBytes;

    private H264Encoder(Process process, int width, int height)
    {
        _process = process;
        _frameBytes = width * height * 3;
        _reader = Task.Run(ReadUnitsAsync);
        _stderr = process.StandardError.ReadToEndAsync();
    }

    /// <summary>Starts ffmpeg for frames of the given size and rate; <paramref name="gop"/> is the keyframe interval.</summary>
    public static H264Encoder Start(int width, int height, double fps, int gop, string ffmpegPath = "ffmpeg", int crf = 23)
    {
        if (width <= 0 || height <= 0 || width % 2 != 0 || height % 2 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"Frame size {width} x {height}: H.264 4:2:0 needs positive, even sizes.");
        }

        var info = new ProcessStartInfo(ffmpegPath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            "-hide_banner", "-nostats", "-loglevel", "error",
            "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", $"{width}x{height}", "-r", fps.ToString(CultureInfo.InvariantCulture), "-i", "pipe:0",
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
            "-g", gop.ToString(CultureInfo.InvariantCulture), "-crf", crf.ToString(CultureInfo.InvariantCulture),
            "-bsf:v", "h264_metadata=aud=insert", "-f", "h264", "pipe:1",
        ];
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        try
        {
            return new H264Encoder(Process.Start(info) ?? throw new VideoException($"ffmpeg ({ffmpegPath}) did not start"), width, height);
        }
        catch (Win32Exception e)
        {
            throw new VideoException($"cannot run ffmpeg '{ffmpegPath}' ({e.Message}); install ffmpeg (apt-get install ffmpeg) or give its path", e);
        }
    }

    /// <summary>Access units produced so far; completes after <see cref="CompleteAsync"/>.</summary>
    public ChannelReader<H264AccessUnit> AccessUnits => _units.Reader;

    public async Task WriteFrameAsync(ReadOnlyMemory<byte> bgr24, CancellationToken ct = default)
    {
        if (bgr24.Length != _frameBytes)
        {
            throw new ArgumentException($"Frame has {bgr24.Length} bytes, expected {_frameBytes}.", nameof(bgr24));
        }

        try
        {
            await _process.StandardInput.BaseStream.WriteAsync(bgr24, ct).ConfigureAwait(false);
            await _process.StandardInput.BaseStream.FlushAsync(ct).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new VideoException($"ffmpeg (H.264 encoder) stopped: {await ErrorsAsync().ConfigureAwait(false)}", e);
        }
    }

    /// <summary>Ends the input and waits until every access unit has been read.</summary>
    public async Task CompleteAsync()
    {
        _process.StandardInput.Close();
        await _reader.ConfigureAwait(false);
        await _process.WaitForExitAsync().ConfigureAwait(false);
        if (_process.ExitCode != 0)
        {
            throw new VideoException($"ffmpeg (H.264 encoder) exited with code {_process.ExitCode}: {await ErrorsAsync().ConfigureAwait(false)}");
        }
    }

    private async Task<string> ErrorsAsync()
    {
        var text = (await _stderr.ConfigureAwait(false)).Trim().ReplaceLineEndings(" | ");
        return text.Length == 0 ? "no message" : text;
    }

    /// <summary>Splits ffmpeg's Annex B output at access unit delimiters (NAL type 9).</summary>
    private async Task ReadUnitsAsync()
    {
        var stream = _process.StandardOutput.BaseStream;
        var buffer = new byte[1 << 20];
        var length = 0;
        var scanned = 0;
        var auStart = -1;
        long index = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (auStart > 0)
                    {
                        Buffer.BlockCopy(buffer, auStart, buffer, 0, length - auStart);
                        length -= auStart;
                        scanned -= auStart;
                        auStart = 0;
                    }
                    else
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }
                }

                var n = await stream.ReadAsync(buffer.AsMemory(length)).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                length += n;
                for (; scanned + 3 < length; scanned++)
                {
                    if (buffer[scanned] == 0 && buffer[scanned + 1] == 0 && buffer[scanned + 2] == 1 && (buffer[scanned + 3] & 0x1F) == 9)
                    {
                        // Include the fourth zero of a 4-byte start code in this access unit.
                        var start = scanned > 0 && buffer[scanned - 1] == 0 ? scanned - 1 : scanned;
                        if (auStart >= 0 && start > auStart)
                        {
                            Emit(buffer.AsSpan(auStart, start - auStart));
                        }

                        auStart = start;
                        scanned += 3;
                    }
                }
            }

            if (auStart >= 0 && length > auStart)
            {
                Emit(buffer.AsSpan(auStart, length - auStart));
            }
        }
        finally
        {
            _units.Writer.TryComplete();
        }

        void Emit(ReadOnlySpan<byte> au)
        {
            _units.Writer.TryWrite(new H264AccessUnit(index++, au.ToArray(), ContainsIdr(au)));
        }
    }

    private static bool ContainsIdr(ReadOnlySpan<byte> au)
    {
        for (var i = 0; i + 3 < au.Length; i++)
        {
            if (au[i] == 0 && au[i + 1] == 0 && au[i + 2] == 1)
            {
                var type = au[i + 3] & 0x1F;
                if (type == 5)
                {
                    return true;
                }

                if (type == 1)
                {
                    return false; // a non-IDR slice: the picture is not a keyframe
                }

                i += 2;
            }
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        await _reader.ConfigureAwait(false);
        _process.Dispose();
    }
}
