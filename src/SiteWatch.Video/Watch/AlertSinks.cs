using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Video.Watch;

/// <summary>A destination for alerts. <see cref="DeliverAsync"/> throws when the alert did not get there.</summary>
public interface IAlertSink : IAsyncDisposable
{
    /// <summary>Where alerts go, for reports (e.g. cot udp://127.0.0.1:6969).</summary>
    string Name { get; }

    Task DeliverAsync(AlertRecord alert, CancellationToken cancellationToken);
}

/// <summary>Cursor-on-Target over UDP (one datagram per event) or TCP (events back to back; reconnects when dropped).</summary>
public sealed class CotSink : IAlertSink
{
    private readonly Uri _endpoint;
    private readonly CotOptions _options;
    private readonly TimeSpan _connectTimeout;
    private readonly TimeSpan _sendTimeout;
    private UdpClient? _udp;
    private TcpClient? _tcp;
    private Stream? _tcpStream;

    /// <summary>Default bound on writing one event to a TCP receiver.</summary>
    public static readonly TimeSpan DefaultSendTimeout = TimeSpan.FromSeconds(5);

    /// <param name="connectTimeout">How long a TCP connect may take (default 2 s).</param>
    /// <param name="sendTimeout">
    /// How long writing one event may take (default <see cref="DefaultSendTimeout"/>): a receiver that accepts and then
    /// stops reading (black-holed, hung) fills the socket buffers and would otherwise block the sender for good.
    /// </param>
    public CotSink(Uri endpoint, CotOptions? options = null, TimeSpan? connectTimeout = null, TimeSpan? sendTimeout = null)
    {
        _endpoint = endpoint;
        _options = options ?? new CotOptions();
        _connectTimeout = connectTimeout ?? TimeSpan.FromSeconds(2);
        _sendTimeout = sendTimeout ?? DefaultSendTimeout;
    }

    /// <summary>Reads udp://HOST:PORT or tcp://HOST:PORT; anything else is a <see cref="SiteWatchException"/>.</summary>
    public static Uri ParseEndpoint(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != "udp" && uri.Scheme != "tcp") || uri.Port <= 0 || string.IsNullOrEmpty(uri.Host))
        {
            throw SiteWatchException.About("cot", $"{text}: expected udp://HOST:PORT or tcp://HOST:PORT (e.g. udp://127.0.0.1:6969)");
        }

        return uri;
    }

    public string Name => $"cot {_endpoint.Scheme}://{_endpoint.Host}:{_endpoint.Port}";

    public Task DeliverAsync(AlertRecord alert, CancellationToken cancellationToken) =>
        SendAsync(Encoding.UTF8.GetBytes(CotEvent.ToXml(alert, _options)), cancellationToken);

    /// <summary>
    /// Sends one rendered event: a datagram, or onto the TCP connection (opened, or opened again when the peer closed
    /// it). Throws <see cref="IOException"/> when it could not be written; the next call connects again.
    /// </summary>
    public async Task SendAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        if (_endpoint.Scheme == "udp")
        {
            _udp ??= new UdpClient(_endpoint.HostNameType == UriHostNameType.IPv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork);
            await _udp.SendAsync(bytes, _endpoint.Host, _endpoint.Port, cancellationToken).ConfigureAwait(false);
            return;
        }

        var stage = "connect";
        try
        {
            // A peer that closed shows as readable with nothing to read. Writing into such a socket succeeds once
            // and the event is silently lost, so look before writing and connect again.
            if (_tcp is { } open && open.Client.Poll(0, SelectMode.SelectRead) && open.Available == 0)
            {
                DropTcp();
            }

            if (_tcpStream is null)
            {
                _tcp = new TcpClient();
                using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                connect.CancelAfter(_connectTimeout);
                await _tcp.ConnectAsync(_endpoint.Host, _endpoint.Port, connect.Token).ConfigureAwait(false);
                _tcpStream = _tcp.GetStream();
            }

            stage = "send";
            using var send = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            send.CancelAfter(_sendTimeout);
            await _tcpStream.WriteAsync(bytes, send.Token).ConfigureAwait(false);
            await _tcpStream.FlushAsync(send.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // A write cut off half way leaves the stream unusable: drop it; the next alert connects again.
            DropTcp();
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            var reason = stage == "connect"
                ? string.Create(inv, $"no connection within {_connectTimeout.TotalSeconds:0.#} s")
                : string.Create(inv, $"the receiver did not take the event within {_sendTimeout.TotalSeconds:0.#} s");
            throw new IOException($"{Name}: {reason}", new TimeoutException(reason, e));
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            // Drop the connection; the next alert connects again.
            DropTcp();
            throw new IOException($"{Name}: {e.Message}", e);
        }
    }

    private void DropTcp()
    {
        _tcpStream?.Dispose();
        _tcp?.Dispose();
        _tcpStream = null;
        _tcp = null;
    }

    public ValueTask DisposeAsync()
    {
        _udp?.Dispose();
        DropTcp();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Webhook destinations as users give them.</summary>
public static class WebhookUrl
{
    public static Uri Parse(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw SiteWatchException.About("webhook", $"{SecretMask.Text(text)}: expected an http:// or https:// URL");
}

/// <summary>
/// Delivery figures of one sink or destination. <see cref="Undelivered"/> is everything that did not get there;
/// for a persistent outbox it splits into <see cref="Pending"/> (kept, sent by a later run or 'alerts deliver') and
/// <see cref="Failed"/> (out of attempts).
/// </summary>
public sealed record SinkReport(string Name, int Delivered, int Undelivered, IReadOnlyList<string> Problems)
{
    public int Pending { get; init; }
    public int Failed { get; init; }
    /// <summary>Where undelivered alerts are kept, when they are (an outbox file or catalog).</summary>
    public string? KeptIn { get; init; }
}

/// <summary>
/// Hands alerts to every sink on its own background loop, so a slow or dead endpoint never holds up the frame loop.
/// Alerts a sink cannot take (its queue full, delivery failed, or still queued at shutdown) are counted undelivered;
/// they are in alerts.jsonl regardless.
/// </summary>
public sealed class AlertDispatcher : IAsyncDisposable
{
    private const int MaxProblems = 20;

    private sealed class Lane(IAlertSink sink, int capacity)
    {
        public IAlertSink Sink { get; } = sink;
        public Channel<AlertRecord> Queue { get; } = Channel.CreateBounded<AlertRecord>(new BoundedChannelOptions(capacity) { SingleReader = true });
        public int Delivered;
        public int Undelivered;
        public readonly List<string> Problems = [];
        public Task? Loop;
    }

    private readonly List<Lane> _lanes = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly int _capacity;

    public AlertDispatcher(IEnumerable<IAlertSink> sinks, int capacity = 1000)
    {
        _capacity = capacity;
        foreach (var sink in sinks)
        {
            var lane = new Lane(sink, capacity);
            lane.Loop = Task.Run(() => RunAsync(lane));
            _lanes.Add(lane);
        }
    }

    public bool HasSinks => _lanes.Count > 0;

    /// <summary>Queues an alert for every sink; never waits.</summary>
    public void Publish(AlertRecord alert)
    {
        foreach (var lane in _lanes)
        {
            if (!lane.Queue.Writer.TryWrite(alert))
            {
                Interlocked.Increment(ref lane.Undelivered);
                AddProblem(lane, $"alert {Name(alert)}: queue full ({_capacity} waiting)");
            }
        }
    }

    private async Task RunAsync(Lane lane)
    {
        try
        {
            await foreach (var alert in lane.Queue.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    await lane.Sink.DeliverAsync(alert, _stop.Token).ConfigureAwait(false);
                    Interlocked.Increment(ref lane.Delivered);
                }
                catch (Exception e) when (e is IOException or SocketException or HttpRequestException)
                {
                    Interlocked.Increment(ref lane.Undelivered);
                    AddProblem(lane, $"alert {Name(alert)}: {SecretMask.Text(e.Message)}");
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    // The alert in flight at shutdown did not get there: it counts as undelivered, like those queued.
                    Interlocked.Increment(ref lane.Undelivered);
                    AddProblem(lane, $"alert {Name(alert)}: stopped at shutdown before it was delivered");
                    throw;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Shutdown: whatever is left in the queue is counted by CompleteAsync.
        }
    }

    /// <summary>How problems name an alert: the run's name for it.</summary>
    private static string Name(AlertRecord alert) => alert.Track?.AlertId ?? alert.Key;

    private static void AddProblem(Lane lane, string problem)
    {
        lock (lane.Problems)
        {
            if (lane.Problems.Count < MaxProblems)
            {
                lane.Problems.Add(problem);
            }
        }
    }

    /// <summary>Waits up to <paramref name="grace"/> for queued alerts to be delivered, then stops; returns the figures.</summary>
    public async Task<IReadOnlyList<SinkReport>> CompleteAsync(TimeSpan grace)
    {
        foreach (var lane in _lanes)
        {
            lane.Queue.Writer.TryComplete();
        }

        var all = Task.WhenAll(_lanes.Select(l => l.Loop!));
        if (await Task.WhenAny(all, Task.Delay(grace)).ConfigureAwait(false) != all)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await all.ConfigureAwait(false);
        }

        return Reports();
    }

    public IReadOnlyList<SinkReport> Reports() => _lanes.Select(l =>
    {
        lock (l.Problems)
        {
            return new SinkReport(l.Sink.Name, l.Delivered, l.Undelivered + l.Queue.Reader.Count, l.Problems.ToList());
        }
    }).ToList();

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

        foreach (var lane in _lanes)
        {
            lane.Queue.Writer.TryComplete();
            if (lane.Loop is not null)
            {
                await lane.Loop.ConfigureAwait(false);
            }

            await lane.Sink.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }
}
