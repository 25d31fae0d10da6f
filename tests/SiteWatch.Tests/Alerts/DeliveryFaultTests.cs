using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Workflows;
using SiteWatch.Tests.Cli;

namespace SiteWatch.Tests.Alerts;

/// <summary>
/// Webhook delivery from a site's outbox under faults, against real listeners on loopback: a receiver that is down,
/// answers 500, closes the connection mid-request or hangs; two deliverers at once; a restart in between. Backoff and
/// timeouts are short options here; nothing is asserted about elapsed time.
/// </summary>
public sealed class DeliveryFaultTests
{
    private static readonly DateTime T0 = new(2024, 11, 1, 12, 0, 0, DateTimeKind.Utc);

    private static readonly WebhookDeliveryOptions Fast = new()
    {
        // Generous: a loaded test machine must not turn a slow answer into a failed attempt. The hanging receiver's test sets its own.
        Timeout = TimeSpan.FromSeconds(20),
        FirstRetryDelay = TimeSpan.FromSeconds(30),
        Lease = TimeSpan.FromMinutes(1),
        // Frozen: times asserted below are the round's start plus backoffs.
        Clock = new ManualClock(),
    };

    /// <summary>A clock that moves only when told to (a receiver that "takes ten minutes" advances it).</summary>
    internal sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    /// <summary>A workspace with one site and <paramref name="alerts"/> stored alerts, each with a delivery to the port.</summary>
    private static (Workspace Workspace, Site Site, WebhookConfig Hook) Stored(TempDir dir, int port, int alerts, int maxAttempts = 5)
    {
        var aoi = dir.File("aoi.geojson");
        File.WriteAllText(aoi, """{"type":"Polygon","coordinates":[[[-64.51,-22.51],[-64.49,-22.51],[-64.49,-22.49],[-64.51,-22.49],[-64.51,-22.51]]]}""");
        var workspace = Workspace.Init(dir.File("ws"));
        var site = SiteSetup.AddSite(workspace, "border", aoi, 1.0, null, [], null);
        var hook = new WebhookConfig($"http://127.0.0.1:{port}/hook", "s3cret", maxAttempts);
        for (var i = 0; i < alerts; i++)
        {
            Assert.NotNull(workspace.Catalog.CommitAlert(Draft(site, $"key-{i}"), [new DeliveryTarget(hook.Url, maxAttempts)]));
        }
        return (workspace, site, hook);
    }

    private static AlertRecord Draft(Site site, string key) => new()
    {
        Id = 0, SiteId = site.Id, Source = AlertSource.Video, RuleName = "zone: cross", Kind = "cross", RaisedUtc = T0, ObservedUtc = T0,
        Severity = "warning", Message = $"alert {key}", Evidence = "{}", Key = key,
    };


    /// <summary>An HTTP receiver on loopback answering each request with the status <paramref name="status"/> picks (by request number).</summary>
    internal sealed class Receiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _serving;

        public Receiver(int port, Func<int, int> status)
        {
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _serving = Task.Run(() =>
            {
                var n = 0;
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = _listener.GetContext();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                    {
                        return;
                    }
                    using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
                    {
                        Requests.Enqueue((reader.ReadToEnd(), context.Request.Headers[AlertIdentity.IdempotencyHeader], context.Request.Headers[WebhookDelivery.SignatureHeader]));
                    }
                    Current = long.Parse(context.Request.Headers[WebhookDelivery.DeliveryHeader] ?? "0", System.Globalization.CultureInfo.InvariantCulture);
                    context.Response.StatusCode = status(n++);
                    context.Response.Close();
                }
            });
        }

        public ConcurrentQueue<(string Body, string? Key, string? Signature)> Requests { get; } = new();

        /// <summary>The delivery id of the request being answered (read by the status callback).</summary>
        public long Current { get; private set; }

        public void Dispose()
        {
            _listener.Close(); // stops it too; Stop and then Close unregister the port twice (see StacFixtures)
            _serving.Wait(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public async Task Two_deliverers_at_once_send_every_delivery_exactly_once()
    {
        using var dir = new TempDir();
        var port = TestPorts.Free();
        var (workspace, site, hook) = Stored(dir, port, alerts: 11);
        using var _ = workspace;
        using var receiver = new Receiver(port, _ => 200);
        using var second = workspace.Catalog.OpenAnotherConnection();
        using var third = workspace.Catalog.OpenAnotherConnection();
        using var start = new Barrier(2);
        DeliveryRoundResult Deliver(SiteCatalog catalog, string who)
        {
            start.SignalAndWait();
            return WebhookDelivery.DeliverDue(catalog, site, [hook], T0, Fast with { Claimer = who });
        }
        var a = Task.Run(() => Deliver(second, "process-a"));
        var b = Task.Run(() => Deliver(third, "process-b"));
        var reports = await Task.WhenAll(a, b);

        Assert.True(11 == reports[0].Delivered + reports[1].Delivered, string.Join("; ", reports.SelectMany(r => r.Attempted).Select(d => d.LastError)));
        Assert.Equal(11, receiver.Requests.Count);
        Assert.Equal(11, receiver.Requests.Select(r => r.Key).Distinct().Count());
        Assert.All(workspace.Catalog.ListDeliveries(site.Id), d => Assert.Equal((DeliveryState.Delivered, 1), (d.State, d.Attempts)));
        Assert.Empty(WebhookDelivery.DeliverDue(workspace.Catalog, site, [hook], T0 + TimeSpan.FromDays(1), Fast).Attempted);
    }

    [Fact]
    public void A_long_round_leases_each_delivery_from_when_it_is_claimed_so_no_other_process_sends_it_meanwhile()
    {
        using var dir = new TempDir();
        var port = TestPorts.Free();
        var (workspace, site, hook) = Stored(dir, port, alerts: 3);
        using var _ = workspace;
        using var other = workspace.Catalog.OpenAnotherConnection();
        var clock = new ManualClock();
        var options = Fast with { Clock = clock, Claimer = "slow-round" };
        var ids = workspace.Catalog.ListDeliveries(site.Id).Select(d => d.Id).ToList();
        var stolen = new List<long>();
        Receiver? receiver = null;
        // Each receiver takes 10 minutes (by the round's clock), far past the 1-minute lease. While a delivery is being
        // sent, another process looks for exactly that row a second later: its lease must still hold.
        receiver = new Receiver(port, _ =>
        {
            var current = receiver!.Current;
            var now = T0 + clock.GetElapsedTime(0) + TimeSpan.FromSeconds(1);
            if (other.ClaimNextDelivery(site.Id, now, "other-process", now + TimeSpan.FromMinutes(1), ids.Where(id => id != current).ToList()) is { } taken)
            {
                stolen.Add(taken.Id);
            }
            clock.Advance(TimeSpan.FromMinutes(10));
            return 200;
        });
        using (receiver)
        {
            var report = WebhookDelivery.DeliverDue(workspace.Catalog, site, [hook], T0, options);
            Assert.Empty(stolen);
            Assert.Equal(3, report.Delivered);
            Assert.Equal(3, receiver.Requests.Count);
        }
        var deliveries = workspace.Catalog.ListDeliveries(site.Id);
        Assert.All(deliveries, d => Assert.Equal((DeliveryState.Delivered, 1), (d.State, d.Attempts)));
        // Outcomes carry the time they happened: the third answer came 30 minutes into the round.
        Assert.Equal(T0 + TimeSpan.FromMinutes(30), deliveries.Max(d => d.DeliveredUtc));
    }

    [Fact]
    public async Task A_long_local_outbox_round_leases_each_row_from_when_it_is_claimed()
    {
        using var dir = new TempDir();
        var file = dir.File("outbox.db");
        using var outbox = LocalOutbox.Open(file);
        using var other = LocalOutbox.Open(file);
        for (var i = 0; i < 3; i++)
        {
            outbox.Enqueue($"uid-{i}", [("http://127.0.0.1:9/hook", Encoding.UTF8.GetBytes("{}"))], 5, T0);
        }
        var ids = outbox.List().Select(r => r.Id).ToList();
        var clock = new ManualClock();
        var stolen = new List<long>();
        Task<string?> SlowSend(OutboxRow item, CancellationToken cancel)
        {
            var now = T0 + clock.GetElapsedTime(0) + TimeSpan.FromSeconds(1);
            if (other.ClaimNext(now, "other-process", now + TimeSpan.FromMinutes(1), ids.Where(id => id != item.Id).ToList()) is { } taken)
            {
                stolen.Add(taken.Id);
            }
            clock.Advance(TimeSpan.FromMinutes(10));
            return Task.FromResult<string?>(null);
        }

        var report = await OutboxDelivery.DeliverDueAsync(outbox, SlowSend, T0, Fast with { Clock = clock, Claimer = "slow-round" });
        Assert.Empty(stolen);
        Assert.Equal(3, report.Delivered);
        Assert.All(outbox.List(), r => Assert.Equal((DeliveryState.Delivered, 1), (r.State, r.Attempts)));
        Assert.Equal(T0 + TimeSpan.FromMinutes(30), outbox.List().Max(r => r.DeliveredUtc));
    }

    [Fact]
    public void An_outcome_from_a_claim_that_ran_out_never_overwrites_the_newer_one()
    {
        using var dir = new TempDir();
        var (workspace, site, _) = Stored(dir, TestPorts.Free(), alerts: 1);
        using var __ = workspace;
        var catalog = workspace.Catalog;
        var slow = catalog.ClaimNextDelivery(site.Id, T0, "process-a", T0 + TimeSpan.FromMinutes(1))!;
        // A's lease runs out; B takes the row over and delivers it.
        var fast = catalog.ClaimNextDelivery(site.Id, T0 + TimeSpan.FromMinutes(2), "process-b", T0 + TimeSpan.FromMinutes(3))!;
        Assert.Equal(slow.Id, fast.Id);
        Assert.True(catalog.RecordDeliveryAttempt(fast with { State = DeliveryState.Delivered, Attempts = 1, DeliveredUtc = T0 + TimeSpan.FromMinutes(2) }, "process-b", fast.Attempts));
        // A's late failure (the claim it no longer holds; the row is unclaimed now) is dropped.
        Assert.False(catalog.RecordDeliveryAttempt(slow with { State = DeliveryState.Pending, Attempts = 1, LastError = "timed out" }, "process-a", slow.Attempts));
        var row = Assert.Single(catalog.ListDeliveries(site.Id));
        Assert.Equal((DeliveryState.Delivered, 1, (string?)null), (row.State, row.Attempts, row.LastError));
    }

    [Fact]
    public void An_outcome_of_an_older_claim_by_the_same_claimer_is_dropped_once_the_row_has_moved_on()
    {
        using var dir = new TempDir();
        var (workspace, site, _) = Stored(dir, TestPorts.Free(), alerts: 1);
        using var __ = workspace;
        var catalog = workspace.Catalog;
        // Two rounds of one process share its claimer name: the first round's claim runs out...
        var stale = catalog.ClaimNextDelivery(site.Id, T0, "process", T0 + TimeSpan.FromMinutes(1))!;
        var other = catalog.ClaimNextDelivery(site.Id, T0 + TimeSpan.FromMinutes(2), "process-b", T0 + TimeSpan.FromMinutes(3))!;
        Assert.True(catalog.RecordDeliveryAttempt(other with { Attempts = 1, LastError = "HTTP 500", NextAttemptUtc = T0 + TimeSpan.FromMinutes(3) }, "process-b", other.Attempts));
        // ...and a later round of the same process claims it again.
        var current = catalog.ClaimNextDelivery(site.Id, T0 + TimeSpan.FromMinutes(4), "process", T0 + TimeSpan.FromMinutes(5))!;
        Assert.Equal(1, current.Attempts);
        Assert.False(catalog.RecordDeliveryAttempt(stale with { State = DeliveryState.Delivered, Attempts = 1, DeliveredUtc = T0 }, "process", stale.Attempts));
        Assert.True(catalog.RecordDeliveryAttempt(current with { State = DeliveryState.Delivered, Attempts = 2, DeliveredUtc = T0 + TimeSpan.FromMinutes(4) }, "process", current.Attempts));
        var row = Assert.Single(catalog.ListDeliveries(site.Id));
        Assert.Equal((DeliveryState.Delivered, 2, T0 + TimeSpan.FromMinutes(4)), (row.State, row.Attempts, row.DeliveredUtc));
    }

    [Fact]
    public void A_round_whose_claim_ran_out_mid_send_reports_its_outcome_as_dropped_and_leaves_the_takeover_standing()
    {
        using var dir = new TempDir();
        var port = TestPorts.Free();
        var (workspace, site, hook) = Stored(dir, port, alerts: 1);
        using var _ = workspace;
        using var other = workspace.Catalog.OpenAnotherConnection();
        var clock = new ManualClock();
        // The receiver takes 5 minutes (past the 1-minute lease); meanwhile another process takes the row over and
        // delivers it; then the receiver answers 500 to the slow sender.
        using var receiver = new Receiver(port, _ =>
        {
            clock.Advance(TimeSpan.FromMinutes(5));
            var now = T0 + clock.GetElapsedTime(0);
            var taken = other.ClaimNextDelivery(site.Id, now, "process-b", now + TimeSpan.FromMinutes(1));
            Assert.NotNull(taken);
            Assert.True(other.RecordDeliveryAttempt(taken with { State = DeliveryState.Delivered, Attempts = 1, DeliveredUtc = now }, "process-b", taken.Attempts));
            return 500;
        });
        var report = WebhookDelivery.DeliverDue(workspace.Catalog, site, [hook], T0, Fast with { Clock = clock, Claimer = "process-a" });
        Assert.Empty(report.Attempted);
        Assert.Contains("outcome not recorded", Assert.Single(report.Dropped));
        Assert.StartsWith(hook.Url + ": delivery ", report.Dropped[0]);
        var row = Assert.Single(workspace.Catalog.ListDeliveries(site.Id));
        Assert.Equal((DeliveryState.Delivered, 1, (string?)null), (row.State, row.Attempts, row.LastError));
    }

    [Fact]
    public void A_first_version_local_outbox_keeps_its_rows_and_takes_new_ones()
    {
        using var dir = new TempDir();
        using (var raw = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={dir.File("outbox.db")};Pooling=False"))
        {
            raw.Open();
            using var create = raw.CreateCommand();
            // The table as outbox files of schema 1 have it: no site or alert columns.
            create.CommandText = """
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY, alert_uid TEXT NOT NULL, target TEXT NOT NULL, payload BLOB NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')), attempts INTEGER NOT NULL DEFAULT 0,
                    max_attempts INTEGER NOT NULL, next_attempt_utc TEXT NOT NULL, last_error TEXT, delivered_utc TEXT,
                    claimed_by TEXT, lease_until_utc TEXT, created_utc TEXT NOT NULL, UNIQUE (alert_uid, target));
                CREATE INDEX outbox_due ON outbox(state, next_attempt_utc);
                INSERT INTO outbox (alert_uid, target, payload, state, attempts, max_attempts, next_attempt_utc, last_error, created_utc)
                    VALUES ('uid-old', 'udp://127.0.0.1:9', x'3c6576656e742f3e', 'pending', 2, 100, '2000-01-01T00:00:00.000Z', 'refused', '2000-01-01T00:00:00.000Z');
                PRAGMA user_version = 1;
                """;
            create.ExecuteNonQuery();
        }

        using var outbox = LocalOutbox.Open(dir.File("outbox.db"));
        outbox.Enqueue("uid-new", [("http://127.0.0.1:9/hook", Encoding.UTF8.GetBytes("{}"))], 5, T0);
        var rows = outbox.List();
        Assert.Equal(["uid-old", "uid-new"], rows.Select(r => r.AlertUid));
        Assert.Equal((2, "refused", "<event/>"), (rows[0].Attempts, rows[0].LastError, Encoding.UTF8.GetString(rows[0].Payload)));
        Assert.All(rows, r => Assert.Null(r.SiteId));
        Assert.Equal("uid-old", outbox.ClaimNext(T0, "me", T0 + TimeSpan.FromMinutes(1), [])!.AlertUid);
    }

    [Fact]
    public void In_a_local_outbox_an_outcome_from_a_claim_that_ran_out_is_dropped()
    {
        using var dir = new TempDir();
        using var outbox = LocalOutbox.Open(dir.File("outbox.db"));
        outbox.Enqueue("uid-1", [("http://127.0.0.1:9/hook", Encoding.UTF8.GetBytes("{}"))], 5, T0);
        var slow = outbox.ClaimNext(T0, "process-a", T0 + TimeSpan.FromMinutes(1), [])!;
        var fast = outbox.ClaimNext(T0 + TimeSpan.FromMinutes(2), "process-b", T0 + TimeSpan.FromMinutes(3), [])!;
        Assert.Equal(slow.Id, fast.Id);
        Assert.True(outbox.Record(fast with { State = DeliveryState.Delivered, Attempts = 1, DeliveredUtc = T0 }, "process-b", fast.Attempts));
        Assert.False(outbox.Record(slow with { Attempts = 1, LastError = "timed out" }, "process-a", slow.Attempts));
        // The same claimer's older claim, after the row moved on, is dropped too.
        outbox.Enqueue("uid-2", [("http://127.0.0.1:9/hook", Encoding.UTF8.GetBytes("{}"))], 5, T0);
        var first = outbox.ClaimNext(T0, "process", T0 + TimeSpan.FromMinutes(1), [])!;
        var taken = outbox.ClaimNext(T0 + TimeSpan.FromMinutes(2), "process-b", T0 + TimeSpan.FromMinutes(3), [])!;
        Assert.True(outbox.Record(taken with { Attempts = 1, LastError = "HTTP 500", NextAttemptUtc = T0 }, "process-b", taken.Attempts));
        var again = outbox.ClaimNext(T0 + TimeSpan.FromMinutes(4), "process", T0 + TimeSpan.FromMinutes(5), [])!;
        Assert.Equal(first.Id, again.Id);
        Assert.False(outbox.Record(first with { State = DeliveryState.Delivered, Attempts = 1 }, "process", first.Attempts));
        var rows = outbox.List();
        Assert.Equal((DeliveryState.Delivered, 1), (rows[0].State, rows[0].Attempts));
        Assert.Equal((DeliveryState.Pending, 1, "HTTP 500"), (rows[1].State, rows[1].Attempts, rows[1].LastError));
    }

    [Fact]
    public void A_receiver_answering_500_is_retried_after_its_backoff_and_gets_the_alert_once_with_the_same_key()
    {
        using var dir = new TempDir();
        var port = TestPorts.Free();
        var (workspace, site, hook) = Stored(dir, port, alerts: 1);
        using var _ = workspace;
        using var receiver = new Receiver(port, n => n == 0 ? 500 : 200);

        var first = WebhookDelivery.DeliverDue(workspace.Catalog, site, [hook], T0, Fast);
        var failed = Assert.Single(first.Attempted);
        Assert.Equal((DeliveryState.Pending, 1), (failed.State, failed.Attempts));
        Assert.Contains("HTTP 500", failed.LastError);
        Assert.Equal(T0 + Fast.FirstRetryDelay, failed.NextAttemptUtc);
        // Not due again before its backoff ends.
        Assert.Empty(WebhookDelivery.DeliverDue(workspace.Catalog, site, [hook], T0 + TimeSpan.FromSeconds(10), Fast).Attempted);

        var second = WebhookDelivery.DeliverDue(workspace.Catalog, site, [hook], T0 + Fast.FirstRetryDelay, Fast);
        Assert.Equal(1, second.Delivered);
        Assert.Equal(2, receiver.Requests.Count);
        var keys = receiver.Requests.Select(r => r.Key).ToList();
        Assert.NotNull(keys[0]);
        Assert.Equal(keys[0], keys[1]);
        Assert.All(receiver.Requests, r => Assert.Contains($"\"uid\":\"{keys[0]}\"", r.Body));
        Assert.All(receiver.Requests, r => Assert.Equal(WebhookDelivery.Signature("s3cret", Encoding.UTF8.GetBytes(r.Body)), r.Signature));
    }

    [Fact]
    public async Task A_receiver_that_closes_the_connection_mid_request_or_hangs_is_retried_and_then_delivered()
    {
        using var dir = new TempDir();
        var port = TestPorts.Free();
        var (workspace, site, hook) = Stored(dir, port, alerts: 1);
        using var _ = workspace;

        // 1: reads the start of the request, then drops the connection.
        var rude = new TcpListener(IPAddress.Loopback, port);
        rude.Start();
        var dropping = Task.Run(() =>
        {
            using var client = rude.AcceptTcpClient();
            client.GetStream().ReadExactly(new byte[16]);
            client.Client.Close();
        });
        var first = Assert.Single(WebhookDelivery.DeliverDue(workspace.Catalog, site, [hook], T0, Fast).Attempted);
        await dropping.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(DeliveryState.Pending, first.State);
        Assert.False(string.IsNullOrWhiteSpace(first.LastError));

        // 2: accepts, reads the whole request and never answers (a receiver 30 s slow, past our timeout).
        string? hangingKey = null;
        var hanging = Task.Run(() =>
        {
            using var client = rude.AcceptTcpClient();
            var text = new StringBuilder();
            var buffer = new byte[4096];
            var stream = client.GetStream();
            while (!text.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var n = stream.Read(buffer);
                if (n == 0)
                {
                    break;
                }
                text.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
            hangingKey = text.ToString().Split("\r\n").FirstOrDefault(l => l.StartsWith(AlertIdentity.IdempotencyHeader + ":", StringComparison.OrdinalIgnoreCase))?.Split(':', 2)[1].Trim();
            // Hold the connection until the client gives up.
            try
            {
                while (stream.Read(buffer) > 0)
                {
                }
            }
            catch (IOException)
            {
                // The client reset it.
            }
        });
        var second = Assert.Single(WebhookDelivery.DeliverDue(workspace.Catalog, site, [hook], T0 + TimeSpan.FromMinutes(1), Fast with { Timeout = TimeSpan.FromSeconds(3) }).Attempted);
        Assert.Equal((DeliveryState.Pending, 2), (second.State, second.Attempts));
        // 3 s, not less: under a loaded test run a shorter timeout could end before the request was even written.
        Assert.Contains("no answer within 3 s", second.LastError);
        await hanging.WaitAsync(TimeSpan.FromSeconds(30));

        // 3: the receiver is back: delivered, with the key the hung attempt carried (the receiver can drop a repeat).
        // Answered on the same listening socket: a port let go for a moment can be taken as another connection's
        // source port by a test running beside this one ("address already in use").
        var answering = Task.Run(() => AnswerNoContent(rude));
        var third = WebhookDelivery.DeliverDue(workspace.Catalog, site, [hook], T0 + TimeSpan.FromHours(1), Fast);
        Assert.True(1 == third.Delivered, string.Join("; ", third.Attempted.Select(d => d.LastError)));
        var key = await answering.WaitAsync(TimeSpan.FromSeconds(30));
        rude.Stop();
        Assert.NotNull(hangingKey);
        Assert.Equal(hangingKey, key);
    }

    /// <summary>Accepts one HTTP request on <paramref name="listener"/>, answers 204 and returns its idempotency key.</summary>
    private static string? AnswerNoContent(TcpListener listener)
    {
        using var client = listener.AcceptTcpClient();
        var stream = client.GetStream();
        var received = new MemoryStream();
        var buffer = new byte[4096];
        int headerEnd;
        while ((headerEnd = Encoding.ASCII.GetString(received.ToArray()).IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0)
        {
            var n = stream.Read(buffer);
            if (n == 0)
            {
                return null;
            }
            received.Write(buffer, 0, n);
        }
        var lines = Encoding.ASCII.GetString(received.ToArray(), 0, headerEnd).Split("\r\n");
        string? Header(string name) => lines.FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?.Split(':', 2)[1].Trim();
        var length = int.Parse(Header("Content-Length") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        while (received.Length < headerEnd + 4 + length)
        {
            var n = stream.Read(buffer);
            if (n == 0)
            {
                break;
            }
            received.Write(buffer, 0, n);
        }
        stream.Write("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8);
        return Header(AlertIdentity.IdempotencyHeader);
    }

    [Fact]
    public void Pending_deliveries_survive_a_restart_and_an_expired_claim_is_taken_over()
    {
        using var dir = new TempDir();
        var port = TestPorts.Free();
        var (workspace, site, hook) = Stored(dir, port, alerts: 2);
        // Receiver down: both stay pending.
        Assert.Equal(2, WebhookDelivery.DeliverDue(workspace.Catalog, site, [hook], T0, Fast).Retrying);
        // A process claims one and dies without recording anything.
        var claimed = workspace.Catalog.ClaimNextDelivery(site.Id, T0 + TimeSpan.FromHours(1), "dead-process", T0 + TimeSpan.FromHours(1) + TimeSpan.FromMinutes(2));
        Assert.NotNull(claimed);
        workspace.Dispose();

        using var reopened = Workspace.Open(dir.File("ws"));
        using var receiver = new Receiver(port, _ => 200);
        // While the dead process's lease runs, only the other delivery goes.
        var during = WebhookDelivery.DeliverDue(reopened.Catalog, site, [hook], T0 + TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1), Fast);
        Assert.Equal(1, during.Delivered);
        Assert.NotEqual(claimed.Id, Assert.Single(during.Attempted).Id);
        // After it, the claimed one is taken over and delivered.
        var after = WebhookDelivery.DeliverDue(reopened.Catalog, site, [hook], T0 + TimeSpan.FromHours(2), Fast);
        Assert.Equal(claimed.Id, Assert.Single(after.Attempted).Id);
        Assert.Equal(1, after.Delivered);
        Assert.Equal(2, receiver.Requests.Count);
        Assert.All(reopened.Catalog.ListDeliveries(site.Id), d => Assert.Equal(DeliveryState.Delivered, d.State));
    }

    [Fact]
    public void Storing_the_same_alert_twice_stores_it_once()
    {
        using var dir = new TempDir();
        var (workspace, site, hook) = Stored(dir, TestPorts.Free(), alerts: 1);
        using var _ = workspace;
        Assert.Null(workspace.Catalog.CommitAlert(Draft(site, "key-0"), [new DeliveryTarget(hook.Url, 5)]));
        Assert.Single(workspace.Catalog.ListAlerts(site.Id));
        Assert.Single(workspace.Catalog.ListDeliveries(site.Id));
    }

    [Fact]
    public void A_version_4_catalog_gets_the_claim_columns_and_keeps_its_pending_deliveries()
    {
        using var dir = new TempDir();
        var (workspace, site, hook) = Stored(dir, TestPorts.Free(), alerts: 2);
        workspace.Dispose();
        using (var raw = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={dir.File("ws/sitewatch.db")};Pooling=False"))
        {
            raw.Open();
            using var downgrade = raw.CreateCommand();
            // Back to what schema 4 wrote: deliveries in alert_deliveries, without claim columns, no outbox table.
            downgrade.CommandText = Catalog.LegacyDeliveries.FromOutbox(withClaims: false) + "PRAGMA user_version = 4;";
            downgrade.ExecuteNonQuery();
        }

        using var reopened = Workspace.Open(dir.File("ws"));
        // Schema 13 moved the deliveries into the outbox, payloads rendered for the stored alerts.
        var moved = reopened.Catalog.ListDeliveries(site.Id);
        Assert.Equal(2, moved.Count(d => d.State == DeliveryState.Pending && d.NextAttemptUtc <= T0));
        Assert.All(moved, d => Assert.Equal(d.AlertUid, JsonDocument.Parse(d.Payload).RootElement.GetProperty("alert").GetProperty("uid").GetString()));
        Assert.NotNull(reopened.Catalog.ClaimNextDelivery(site.Id, T0, "me", T0 + TimeSpan.FromMinutes(1)));
        Assert.NotNull(reopened.Catalog.ClaimNextDelivery(site.Id, T0, "other", T0 + TimeSpan.FromMinutes(1)));
        Assert.Null(reopened.Catalog.ClaimNextDelivery(site.Id, T0, "third", T0 + TimeSpan.FromMinutes(1)));
        Assert.Equal(hook.Url, reopened.Catalog.ListDeliveries(site.Id)[0].Target);
    }

    [Theory]
    [InlineData("http://alice:hunter2@127.0.0.1:9000/hook", "http://alice:***@127.0.0.1:9000/hook")]
    [InlineData("https://hooks.example/x?token=abc123&site=2", "https://hooks.example/x?token=***&site=2")]
    [InlineData("POST to http://u:p@h/x failed (api_key=zzz)", "POST to http://u:***@h/x failed (api_key=zzz)")]
    [InlineData("http://127.0.0.1:9000/hook", "http://127.0.0.1:9000/hook")]
    public void Credentials_in_urls_are_masked(string text, string expected) => Assert.Equal(expected, SecretMask.Text(text));

    [Fact]
    public void Cli_alerts_rules_masks_the_webhook_password_and_its_help_is_shown()
    {
        using var dir = new TempDir();
        var ws = dir.File("ws");
        Assert.Equal(0, CliTests.Run(null, "init", ws).Code);
        File.WriteAllText(dir.File("aoi.geojson"), """{"type":"Polygon","coordinates":[[[-64.51,-22.51],[-64.49,-22.51],[-64.49,-22.49],[-64.51,-22.49],[-64.51,-22.51]]]}""");
        Assert.Equal(0, CliTests.Run(ws, "site", "add", "border", "--aoi", dir.File("aoi.geojson"), "--gsd", "1").Code);
        File.WriteAllText(dir.File("rules.json"), """
            {"rules": [{"name": "more vehicles", "kind": "count_above_baseline", "class": "vehicle"}],
             "webhooks": [{"url": "http://alice:hunter2@127.0.0.1:9000/hook?token=t0ps3cret", "secret": "hmac-key"}]}
            """);
        foreach (var args in new[] { new[] { "alerts", "rules", "--site", "border", "--file", dir.File("rules.json") }, ["alerts", "rules", "--site", "border", "--json"] })
        {
            var (code, stdout, stderr) = CliTests.Run(ws, args);
            Assert.True(code == 0, stderr);
            Assert.DoesNotContain("hunter2", stdout + stderr);
            Assert.DoesNotContain("t0ps3cret", stdout + stderr);
            Assert.DoesNotContain("hmac-key", stdout + stderr);
            Assert.Contains("alice:***@127.0.0.1:9000", stdout);
        }

        var help = CliTests.Run(null, "alerts", "rules", "--help");
        Assert.True(help.Code == 0, help.Err);
        Assert.Contains("\"rules\": [...]", help.Out);
    }
}
