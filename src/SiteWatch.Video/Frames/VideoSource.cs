using System.Buffers;
using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using SiteWatch.Video.Klv;
using SiteWatch.Video.Ts;

namespace SiteWatch.Video.Frames;

/// <summary>
/// Decoded video frames of an MPEG-TS file or live UDP stream, each with the MISB ST 0601 telemetry in force at its
/// presentation time. The transport stream is read here and fed both to <see cref="TsDemuxer"/> (KLV and video
/// PES timing) and to an ffmpeg child process that decodes the pictures to BGR24. ffmpeg's <c>showinfo</c> filter
/// reports each output frame's PTS on stderr, so frames are paired with their own time stamp even when the stream
/// has B-frames or ffmpeg drops an undecodable frame.
/// </summary>
public sealed partial class VideoSource : IAsyncDisposable
{
    private const int ChunkSize = TsDemuxer.PacketSize * 348;
    private const int StderrTailLines = 12;

    private readonly string _source;
    private readonly VideoSourceOptions _options;
    private readonly UdpClient? _udp;
    private readonly object _gate = new();
    private readonly TsDemuxer _demuxer = new() { ReportVideoPes = true };
    private readonly List<(long Time, KlvLocalSet Set)> _telemetry = [];
    private readonly Dictionary<long, DateTimeOffset> _arrivals = [];
    private readonly Queue<string> _stderrTail = new();
    private int _videoPid = -1;
    private long? _lastVideoPts;
    private long? _firstVideoPts;
    // ffmpeg reports frame time stamps in its own way around the 33-bit wrap (raw, +2^33 or negative): they are put
    // on the demuxer's extended timeline, next to the previous frame's (the first next to the first video PES).
    private readonly PtsUnwrapper _frameClock = new();
    private bool _started;

    private readonly IReadOnlyList<(IPAddress Network, int PrefixLength)> _allowedSenders;

    private VideoSource(string source, VideoSourceOptions options, UdpClient? udp, IReadOnlyList<(IPAddress, int)>? allowedSenders = null)
    {
        _source = source;
        _options = options;
        _udp = udp;
        _allowedSenders = allowedSenders ?? [];
    }

    /// <summary>The file path or udp:// address.</summary>
    public string Source => _source;

    public VideoSourceStats Stats { get; } = new();

    /// <summary>
    /// A file path, or <c>udp://ADDRESS:PORT</c> to listen on (bound at once, so a sender may start right after).
    /// ADDRESS is an IP address of this machine, a network interface name (eth0: its IPv4 address) or empty / @
    /// for loopback only (127.0.0.1): listening on every interface takes an explicit udp://0.0.0.0:PORT. A
    /// <c>?from=ADDR[,ADDR/BITS...]</c> query (or <see cref="VideoSourceOptions.UdpAllowedSenders"/>) limits the
    /// senders; datagrams from others are dropped and counted, so a stranger cannot inject telemetry.
    /// Throws <see cref="VideoException"/> for a missing file or a port that cannot be bound.
    /// </summary>
    /// <summary>True for a live stream (udp://ADDRESS:PORT), false for a file.</summary>
    public static bool IsLive(string source) => source.StartsWith("udp://", StringComparison.OrdinalIgnoreCase);

    public static VideoSource Open(string source, VideoSourceOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        options ??= new VideoSourceOptions();
        if (IsLive(source))
        {
            var endpoint = ParseUdp(source);
            var allowed = ParseSenders(source, options.UdpAllowedSenders.Concat(SendersFromQuery(source)));
            try
            {
                var udp = new UdpClient(endpoint.AddressFamily);
                udp.Client.ReceiveBufferSize = 8 * 1024 * 1024;
                udp.Client.Bind(endpoint);
                var opened = new VideoSource(source, options, udp, allowed);
                opened.Stats.ListeningOn = udp.Client.LocalEndPoint?.ToString();
                return opened;
            }
            catch (SocketException e)
            {
                throw new VideoException($"{source}: cannot listen on {endpoint}: {e.Message}", e);
            }
        }

        if (!File.Exists(source))
        {
            throw new VideoException($"{source}: no such video file");
        }

        return new VideoSource(source, options, null);
    }

    internal static IPEndPoint ParseUdp(string source)
    {
        var rest = source["udp://".Length..];
        var at = rest.IndexOfAny(['?', '/']);
        if (at >= 0)
        {
            rest = rest[..at];
        }

        var colon = rest.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new VideoException($"{source}: expected udp://ADDRESS:PORT, e.g. udp://127.0.0.1:5600");
        }

        var host = rest[..colon].Trim('[', ']');
        if (host is "" or "@")
        {
            // No address named: this machine only. A stream from elsewhere needs its interface named on purpose.
            return new IPEndPoint(IPAddress.Loopback, port);
        }

        if (IPAddress.TryParse(host, out var address))
        {
            return new IPEndPoint(address, port);
        }

        var nic = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == host)
            ?? throw new VideoException($"{source}: '{host}' is neither an IP address nor a network interface of this machine");
        var ipv4 = nic.GetIPProperties().UnicastAddresses.Select(u => u.Address).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? throw new VideoException($"{source}: network interface {host} has no IPv4 address");
        return new IPEndPoint(ipv4, port);
    }

    private static IEnumerable<string> SendersFromQuery(string source)
    {
        var q = source.IndexOf('?', StringComparison.Ordinal);
        if (q < 0)
        {
            return [];
        }

        return source[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => p.StartsWith("from=", StringComparison.OrdinalIgnoreCase))
            .SelectMany(p => Uri.UnescapeDataString(p[5..]).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>Addresses and CIDR blocks of allowed senders; a clear error naming the bad one.</summary>
    internal static IReadOnlyList<(IPAddress Network, int PrefixLength)> ParseSenders(string source, IEnumerable<string> senders)
    {
        var list = new List<(IPAddress, int)>();
        foreach (var text in senders)
        {
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            var addressText = slash < 0 ? text : text[..slash];
            if (!IPAddress.TryParse(addressText, out var address))
            {
                throw new VideoException($"{source}: allowed sender '{text}' is not an IP address or ADDRESS/BITS block");
            }

            var bits = address.GetAddressBytes().Length * 8;
            var prefix = bits;
            if (slash >= 0 && (!int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > bits))
            {
                throw new VideoException($"{source}: allowed sender '{text}' has a bad prefix length (0-{bits})");
            }

            list.Add((address, prefix));
        }

        return list;
    }

    internal static bool IsAllowed(IPAddress sender, IReadOnlyList<(IPAddress Network, int PrefixLength)> allowed)
    {
        if (allowed.Count == 0)
        {
            return true;
        }

        if (sender.IsIPv4MappedToIPv6)
        {
            sender = sender.MapToIPv4();
        }

        var bytes = sender.GetAddressBytes();
        foreach (var (network, prefix) in allowed)
        {
            var net = network.GetAddressBytes();
            if (net.Length != bytes.Length)
            {
                continue;
            }

            var whole = prefix / 8;
            var rest = prefix % 8;
            if (bytes.AsSpan(0, whole).SequenceEqual(net.AsSpan(0, whole))
                && (rest == 0 || ((bytes[whole] ^ net[whole]) & (0xFF << (8 - rest)) & 0xFF) == 0))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Decodes the source once, yielding frames in presentation order. Throws <see cref="VideoException"/> (with the
    /// tail of ffmpeg's messages) when ffmpeg cannot be started or decodes nothing from a stream that had data.
    /// </summary>
    public async IAsyncEnumerable<VideoFrame> ReadFramesAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        if (_started)
        {
            throw new InvalidOperationException("A VideoSource is read once.");
        }

        _started = true;
        using var ffmpeg = StartFfmpeg();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var frameInfos = Channel.CreateUnbounded<FrameInfo>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var stderrTask = Task.Run(() => ReadStderrAsync(ffmpeg, frameInfos.Writer), CancellationToken.None);
        var pumpTask = Task.Run(() => PumpAsync(ffmpeg, stop.Token), CancellationToken.None);
        var stdout = ffmpeg.StandardOutput.BaseStream;
        long index = 0;
        long? firstPts = null;
        var completed = false;
        try
        {
            while (await frameInfos.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                if (!frameInfos.Reader.TryRead(out var info))
                {
                    continue;
                }

                var pixels = new byte[checked(info.Width * info.Height * 3)];
                if (!await ReadExactlyAsync(stdout, pixels, ct).ConfigureAwait(false))
                {
                    break;
                }

                KlvLocalSet? telemetry;
                DateTimeOffset arrived;
                long? framePts;
                lock (_gate)
                {
                    framePts = info.Pts is { } raw ? UnwrapFramePts(raw) : null;
                    telemetry = framePts is { } pts ? TelemetryAt(pts) : LatestTelemetry();
                    arrived = framePts is { } key && _arrivals.Remove(key, out var a) ? a : DateTimeOffset.UtcNow;
                    Stats.Frames++;
                    if (telemetry is null)
                    {
                        Stats.FramesWithoutTelemetry++;
                    }
                }

                firstPts ??= framePts;
                var time = framePts is { } p && firstPts is { } f ? TimeSpan.FromSeconds(MpegClock.Seconds(p - f)) : TimeSpan.FromSeconds(index / 30.0);
                yield return new VideoFrame(index++, framePts, time, info.Width, info.Height, pixels, telemetry, arrived);
            }

            completed = true;
        }
        finally
        {
            if (!completed)
            {
                await stop.CancelAsync().ConfigureAwait(false);
                Kill(ffmpeg);
            }

            await Task.WhenAll(pumpTask, stderrTask).ConfigureAwait(false);
            await ffmpeg.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            Stats.DecoderExitCode = ffmpeg.ExitCode;
            Stats.DecoderMessages = StderrTail();
            lock (_gate)
            {
                Stats.SetTsErrors(_demuxer.Diagnostics);
            }
        }

        // A clean end: surface what went wrong if nothing came out of a stream that carried data.
        if (Stats.Frames == 0 && Stats.BytesRead > 0 && ffmpeg.ExitCode != 0)
        {
            throw new VideoException($"{_source}: ffmpeg decoded no frame (exit code {ffmpeg.ExitCode}): {StderrTail()}");
        }
    }

    private Process StartFfmpeg()
    {
        var args = new List<string>
        {
            "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
            "-fflags", "+discardcorrupt", "-probesize", _options.ProbeSizeBytes.ToString(CultureInfo.InvariantCulture),
            "-analyzeduration", ((long)_options.AnalyzeDuration.TotalMicroseconds).ToString(CultureInfo.InvariantCulture),
            // Keep the stream's own time stamps so showinfo reports each frame's original PTS.
            "-copyts", "-f", "mpegts", "-i", "pipe:0",
            "-map", "0:v:0", "-an", "-sn", "-dn",
            "-vf", (_options.MaxWidth is { } w ? $"scale='min({w},iw)':-2," : "") + "showinfo",
            "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1",
        };
        var info = new ProcessStartInfo(_options.FfmpegPath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        try
        {
            return Process.Start(info) ?? throw new VideoException($"{_source}: ffmpeg ({_options.FfmpegPath}) did not start");
        }
        catch (Win32Exception e)
        {
            throw new VideoException($"{_source}: cannot run ffmpeg '{_options.FfmpegPath}' ({e.Message}); install ffmpeg (apt-get install ffmpeg) or give its path", e);
        }
    }

    /// <summary>Reads the source, demuxes it and passes the same bytes to ffmpeg; closes ffmpeg's input at the end.</summary>
    private async Task PumpAsync(Process ffmpeg, CancellationToken ct)
    {
        var stdin = ffmpeg.StandardInput.BaseStream;
        try
        {
            if (_udp is null)
            {
                await using var file = new FileStream(_source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
                var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
                try
                {
                    int n;
                    while ((n = await file.ReadAsync(buffer.AsMemory(0, ChunkSize), ct).ConfigureAwait(false)) > 0)
                    {
                        if (!await ForwardAsync(buffer.AsMemory(0, n), stdin, ct).ConfigureAwait(false))
                        {
                            break;
                        }
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
            else
            {
                await ReceiveUdpAsync(stdin, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped by the reader: nothing more to pass on.
        }
        finally
        {
            lock (_gate)
            {
                _demuxer.Complete();
                Drain(DateTimeOffset.UtcNow);
            }

            try
            {
                stdin.Close();
            }
            catch (IOException)
            {
                // ffmpeg already gone: its exit code and messages tell why.
            }
        }
    }

    private async Task ReceiveUdpAsync(Stream stdin, CancellationToken ct)
    {
        var received = false;
        while (!ct.IsCancellationRequested)
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (received)
            {
                idle.CancelAfter(_options.UdpIdleTimeout);
            }

            UdpReceiveResult datagram;
            try
            {
                datagram = await _udp!.ReceiveAsync(idle.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return; // the sender fell silent: the live stream has ended
            }

            if (!IsAllowed(datagram.RemoteEndPoint.Address, _allowedSenders))
            {
                // A stranger's datagram: never decoded (it could carry forged telemetry), only counted.
                lock (_gate)
                {
                    Stats.ForeignDatagrams++;
                }

                continue;
            }

            received = true;
            lock (_gate)
            {
                Stats.Datagrams++;
            }

            if (!await ForwardAsync(datagram.Buffer, stdin, ct).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>Demuxes a chunk and writes it to ffmpeg; false when ffmpeg no longer reads.</summary>
    private async Task<bool> ForwardAsync(ReadOnlyMemory<byte> chunk, Stream stdin, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        lock (_gate)
        {
            Stats.BytesRead += chunk.Length;
            _demuxer.Write(chunk.Span);
            Drain(now);
        }

        if (_options.Copy is { } copy)
        {
            await copy(chunk, ct).ConfigureAwait(false);
        }

        try
        {
            await stdin.WriteAsync(chunk, ct).ConfigureAwait(false);
            await stdin.FlushAsync(ct).ConfigureAwait(false);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Takes the demuxer's output: KLV into the telemetry timeline, video PES starts into the arrival table.</summary>
    private void Drain(DateTimeOffset now)
    {
        while (_demuxer.TryReadVideoPes(out var pes))
        {
            if (_videoPid < 0)
            {
                _videoPid = pes.Pid;
            }

            if (pes.Pid == _videoPid && pes.Pts is { } pts)
            {
                _firstVideoPts ??= pts;
                _lastVideoPts = pts;
                _arrivals.TryAdd(pts, now);
            }
        }

        while (_demuxer.TryRead(out var unit))
        {
            // KLV without a PTS (asynchronous streams often have none) applies from its arrival: the program clock
            // when known, else the latest video time stamp.
            var time = unit.Pts ?? unit.Pcr ?? _lastVideoPts ?? long.MinValue;
            foreach (var slice in KlvPacketSplitter.Split(unit.Payload))
            {
                var packet = KlvDecoder.Decode(slice.Bytes);
                if (packet.HasProblems || packet.ChecksumStatus is KlvChecksumStatus.Invalid or KlvChecksumStatus.Missing || slice.Status != KlvSliceStatus.Complete)
                {
                    Stats.KlvProblems++;
                }

                if (packet.IsPlatformTelemetry && packet.Set is { } set && packet.ChecksumStatus != KlvChecksumStatus.Invalid)
                {
                    Stats.KlvPackets++;
                    AddTelemetry(time, set);
                }
            }
        }

        // Arrival times of frames ffmpeg never emitted must not pile up on a long live stream.
        if (_arrivals.Count > 4096)
        {
            var cutoff = _lastVideoPts.GetValueOrDefault() - MpegClock.Hz * 60L;
            foreach (var old in _arrivals.Keys.Where(k => k < cutoff).ToList())
            {
                _arrivals.Remove(old);
            }
        }
    }

    /// <summary>A frame time stamp from ffmpeg on the demuxer's extended timeline (caller holds <see cref="_gate"/>).</summary>
    private long UnwrapFramePts(long raw)
    {
        if (_frameClock.Last is null && _firstVideoPts is { } first)
        {
            _frameClock.Seed(first);
        }

        return _frameClock.Unwrap(raw);
    }

    private void AddTelemetry(long time, KlvLocalSet set)
    {
        var i = _telemetry.Count;
        while (i > 0 && _telemetry[i - 1].Time > time)
        {
            i--;
        }

        _telemetry.Insert(i, (time, set));
    }

    /// <summary>The latest set at or before <paramref name="pts"/> within the tolerance; older sets are dropped.</summary>
    private KlvLocalSet? TelemetryAt(long pts)
    {
        var tolerance = (long)(_options.TelemetryTolerance.TotalSeconds * MpegClock.Hz);
        var found = -1;
        for (var i = _telemetry.Count - 1; i >= 0; i--)
        {
            if (_telemetry[i].Time <= pts)
            {
                found = i;
                break;
            }
        }

        if (found < 0)
        {
            return null;
        }

        // Frames come in presentation order: sets before the one in force now are no longer needed.
        if (found > 0)
        {
            _telemetry.RemoveRange(0, found);
        }

        var (time, set) = _telemetry[0];
        return time == long.MinValue || pts - time <= tolerance ? set : null;
    }

    private KlvLocalSet? LatestTelemetry() => _telemetry.Count > 0 ? _telemetry[^1].Set : null;

    private async Task ReadStderrAsync(Process ffmpeg, ChannelWriter<FrameInfo> frames)
    {
        var (num, den) = (1L, (long)MpegClock.Hz);
        try
        {
            string? line;
            while ((line = await ffmpeg.StandardError.ReadLineAsync().ConfigureAwait(false)) is not null)
            {
                if (line.Contains("Parsed_showinfo", StringComparison.Ordinal))
                {
                    if (ShowInfoFrame().Match(line) is { Success: true } m)
                    {
                        long? pts = long.TryParse(m.Groups["pts"].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var raw)
                            ? raw * MpegClock.Hz * num / den : null;
                        frames.TryWrite(new FrameInfo(pts, int.Parse(m.Groups["w"].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups["h"].Value, CultureInfo.InvariantCulture)));
                    }
                    else if (ShowInfoTimeBase().Match(line) is { Success: true } tb)
                    {
                        (num, den) = (long.Parse(tb.Groups["n"].Value, CultureInfo.InvariantCulture), long.Parse(tb.Groups["d"].Value, CultureInfo.InvariantCulture));
                    }

                    continue;
                }

                lock (_stderrTail)
                {
                    _stderrTail.Enqueue(line.Trim());
                    while (_stderrTail.Count > StderrTailLines)
                    {
                        _stderrTail.Dequeue();
                    }
                }
            }
        }
        finally
        {
            frames.TryComplete();
        }
    }

    private string StderrTail()
    {
        lock (_stderrTail)
        {
            // The last lines say why ffmpeg stopped; the stream and encoder banner before them are noise.
            var lines = _stderrTail.Where(l => l.Length > 0 && !l.StartsWith("Stream #", StringComparison.Ordinal)
                && !l.StartsWith("Input #", StringComparison.Ordinal) && !l.StartsWith("Output #", StringComparison.Ordinal)).TakeLast(4);
            var text = string.Join(" | ", lines);
            return text.Length == 0 ? "no message" : text;
        }
    }

    private static async Task<bool> ReadExactlyAsync(Stream stream, byte[] buffer, CancellationToken ct)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), ct).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    public ValueTask DisposeAsync()
    {
        _udp?.Dispose();
        return ValueTask.CompletedTask;
    }

    private readonly record struct FrameInfo(long? Pts, int Width, int Height);

    [GeneratedRegex(@"\sn:\s*\d+\s+pts:\s*(?<pts>-?\d+|NOPTS)\s.*?\ss:(?<w>\d+)x(?<h>\d+)\s")]
    private static partial Regex ShowInfoFrame();

    [GeneratedRegex(@"config in time_base:\s*(?<n>\d+)/(?<d>\d+)")]
    private static partial Regex ShowInfoTimeBase();
}
