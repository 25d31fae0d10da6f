using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Workflows;
using SiteWatch.Video.Watch;

namespace SiteWatch.Video.Tests.Watch;

/// <summary>
/// A watch's persistent delivery (local outbox file, site catalog outbox) with real listeners on loopback: receivers
/// that come up late, a restart in between, the same recording watched twice. Short backoffs come from the options;
/// waits are for events (a request received), never for a time.
/// </summary>
public sealed class OutboxDeliveryTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("sw-outbox-");

    private static readonly WatchDeliveryOptions Fast = new()
    {
        Retry = new WebhookDeliveryOptions { Timeout = TimeSpan.FromSeconds(2), FirstRetryDelay = TimeSpan.FromMilliseconds(20), MaxRetryDelay = TimeSpan.FromMilliseconds(200) },
        PollInterval = TimeSpan.FromMilliseconds(20),
        ShutdownGrace = TimeSpan.FromSeconds(30),
        CotConnectTimeout = TimeSpan.FromSeconds(1),
    };

    public void Dispose() => _dir.Delete(true);

    /// <summary>Alert <paramref name="n"/> of a recording, as run <paramref name="run"/> raised it (another run: the same key and uid).</summary>
    private static AlertRecord Alert(int n, string run = "run") =>
        AlertDeliveryTests.Alert(AlertDeliveryTests.Track($"{run}-{n:0000}") with { AlertUid = AlertIdentity.Uid("video", $"k{n}") }, $"sha256:abc|zone|cross|track {n}|pts {n * 3000}");

    private static int FreePort() => SiteWatch.Tests.TestPorts.Free();

    private static (HttpListener Listener, ConcurrentQueue<(string Body, string? Key, string? Signature)> Bodies, Task Serving) Receiver(int port)
    {
        var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var bodies = new ConcurrentQueue<(string, string?, string?)>();
        var serving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                using (var reader = new StreamReader(context.Request.InputStream))
                {
                    bodies.Enqueue((await reader.ReadToEndAsync(), context.Request.Headers[AlertIdentity.IdempotencyHeader], context.Request.Headers[WebhookDelivery.SignatureHeader]));
                }
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });
        return (listener, bodies, serving);
    }

    [Fact]
    public async Task Webhook_and_cot_tcp_receivers_that_come_up_late_get_every_alert_exactly_once()
    {
        var webPort = FreePort();
        var cotPort = FreePort();
        using var outbox = LocalOutbox.Open(Path.Combine(_dir.FullName, LocalOutbox.FileName));
        var targets = new[] { $"http://127.0.0.1:{webPort}/alerts", $"tcp://127.0.0.1:{cotPort}" };
        await using var delivery = new WatchDelivery(outbox, null, null, null, Fast);
        var sink = new OutboxAlertSink(outbox, targets, maxAttempts: 1000) { OnStored = delivery.Wake };
        delivery.Start();
        for (var n = 1; n <= 7; n++)
        {
            await sink.DeliverAsync(Alert(n), CancellationToken.None);
        }

        // Both receivers are down for a while: attempts fail and back off.
        await WaitUntil(() => outbox.List().All(i => i.Attempts >= 2));
        Assert.All(outbox.List(), i => Assert.Equal(DeliveryState.Pending, i.State));

        var cot = new TcpListener(IPAddress.Loopback, cotPort);
        cot.Start();
        var (http, bodies, serving) = Receiver(webPort);
        try
        {
            var events = new StringBuilder();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            using (var client = await cot.AcceptTcpClientAsync(timeout.Token))
            {
                var buffer = new byte[8192];
                while (CountOf(events.ToString(), "</event>") < 7)
                {
                    var n = await client.GetStream().ReadAsync(buffer, timeout.Token);
                    Assert.NotEqual(0, n);
                    events.Append(Encoding.UTF8.GetString(buffer, 0, n));
                }
            }

            var reports = await delivery.CompleteAsync();
            Assert.Equal(7, bodies.Count);
            Assert.Equal(7, bodies.Select(b => b.Key).Distinct().Count());
            foreach (var (body, key, _) in bodies)
            {
                // The payload every SiteWatch alert has (a site's webhooks get the same shape): no site here, the
                // track's numbers as evidence, the position as a GeoJSON point.
                using var json = JsonDocument.Parse(body);
                var alert = json.RootElement.GetProperty("alert");
                Assert.Equal(key, alert.GetProperty("uid").GetString());
                Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("site").ValueKind);
                Assert.Equal("video", alert.GetProperty("source").GetString());
                Assert.Equal("Point", alert.GetProperty("geometry").GetProperty("type").GetString());
                Assert.Equal("/data/flight.ts", alert.GetProperty("evidence").GetProperty("video").GetString());
                Assert.True(alert.GetProperty("evidence").GetProperty("track_id").GetInt32() > 0);
            }
            Assert.Equal(7, CountOf(events.ToString(), "</event>"));
            Assert.All(reports, r => Assert.Equal((7, 0, 0), (r.Delivered, r.Pending, r.Failed)));
            Assert.All(outbox.List(), i => Assert.Equal(DeliveryState.Delivered, i.State));
        }
        finally
        {
            cot.Stop();
            http.Close(); // stops it too; Stop and then Close unregister the port twice (see StacFixtures)
            await serving;
        }
    }

    [Fact]
    public async Task Local_outbox_webhooks_are_signed_like_site_webhooks_when_a_secret_is_given_and_unsigned_without()
    {
        var port = FreePort();
        var (http, bodies, serving) = Receiver(port);
        try
        {
            foreach (var secret in new[] { "s3cret", null })
            {
                var folder = Path.Combine(_dir.FullName, secret ?? "unsigned");
                Directory.CreateDirectory(folder);
                using var outbox = LocalOutbox.Open(Path.Combine(folder, LocalOutbox.FileName));
                await using var delivery = new WatchDelivery(outbox, null, null, null, Fast with { WebhookSecret = secret });
                var sink = new OutboxAlertSink(outbox, [$"http://127.0.0.1:{port}/alerts"]) { OnStored = delivery.Wake };
                delivery.Start();
                await sink.DeliverAsync(Alert(secret is null ? 2 : 1), CancellationToken.None);
                Assert.Equal(1, Assert.Single(await delivery.CompleteAsync()).Delivered);
            }
            Assert.Equal(2, bodies.Count);
            var signed = bodies.Single(b => b.Signature is not null);
            // The receiver checks it as it checks a site webhook's: HMAC-SHA256 of the exact body under the shared secret.
            Assert.Equal(WebhookDelivery.Signature("s3cret", Encoding.UTF8.GetBytes(signed.Body)), signed.Signature);
            Assert.Single(bodies, b => b.Signature is null);
        }
        finally
        {
            http.Close(); // stops it too; Stop and then Close unregister the port twice (see StacFixtures)
            await serving;
        }
    }

    [Fact]
    public async Task Alerts_pending_at_shutdown_are_reported_kept_and_sent_by_the_next_run_once()
    {
        var port = FreePort();
        var file = Path.Combine(_dir.FullName, LocalOutbox.FileName);
        var target = $"http://127.0.0.1:{port}/alerts";
        using (var outbox = LocalOutbox.Open(file))
        {
            var delivery = new WatchDelivery(outbox, null, null, null, Fast with { ShutdownGrace = TimeSpan.Zero });
            await using (delivery)
            {
                var sink = new OutboxAlertSink(outbox, [target]);
                await sink.DeliverAsync(Alert(1), CancellationToken.None);
                await sink.DeliverAsync(Alert(2), CancellationToken.None);
                var report = Assert.Single(await delivery.CompleteAsync());
                Assert.Equal((0, 2, 2, 0), (report.Delivered, report.Undelivered, report.Pending, report.Failed));
                Assert.Equal(file, report.KeptIn);
            }
        }

        // The same recording watched again after a restart: nothing is queued twice, the pending two are sent once.
        var (http, bodies, serving) = Receiver(port);
        try
        {
            using var outbox = LocalOutbox.Open(file);
            await using var delivery = new WatchDelivery(outbox, null, null, null, Fast);
            var sink = new OutboxAlertSink(outbox, [target]) { OnStored = delivery.Wake };
            await sink.DeliverAsync(Alert(1), CancellationToken.None);
            await sink.DeliverAsync(Alert(2), CancellationToken.None);
            delivery.Start();
            var report = Assert.Single(await delivery.CompleteAsync());
            Assert.Equal((2, 0, 0), (report.Delivered, report.Pending, report.Failed));
            Assert.Equal(2, bodies.Count);
            Assert.Equal(2, outbox.List().Count);
        }
        finally
        {
            http.Close(); // stops it too; Stop and then Close unregister the port twice (see StacFixtures)
            await serving;
        }
    }

    [Fact]
    public async Task Video_alerts_of_a_site_get_outbox_rows_for_its_webhooks_and_are_delivered_signed_once()
    {
        var port = FreePort();
        var aoi = Path.Combine(_dir.FullName, "aoi.geojson");
        await File.WriteAllTextAsync(aoi, """{"type":"Polygon","coordinates":[[[-64.51,-22.51],[-64.49,-22.51],[-64.49,-22.49],[-64.51,-22.49],[-64.51,-22.51]]]}""");
        using var workspace = Workspace.Init(Path.Combine(_dir.FullName, "ws"));
        SiteSetup.AddSite(workspace, "border", aoi, 1.0, null, [], null);
        var rules = Path.Combine(_dir.FullName, "rules.json");
        await File.WriteAllTextAsync(rules, $$"""{"rules": [{"name": "more vehicles", "kind": "count_above_baseline", "class": "vehicle"}], "webhooks": [{"url": "http://127.0.0.1:{{port}}/hook", "secret": "s3cret"}]}""");
        Core.Alerts.AlertWorkflow.StoreRules(workspace, "border", rules);

        var sink = new CatalogAlertSink(workspace, "border");
        Assert.Single(sink.Webhooks);
        // Watched twice: other run ids, same recording keys.
        await sink.DeliverAsync(Alert(1), CancellationToken.None);
        await sink.DeliverAsync(Alert(2), CancellationToken.None);
        await sink.DeliverAsync(Alert(1, "later-run"), CancellationToken.None);
        await sink.DeliverAsync(Alert(2, "later-run"), CancellationToken.None);
        var site = sink.Site;
        Assert.Equal(2, workspace.Catalog.ListAlerts(site.Id).Count);
        Assert.Equal(2, workspace.Catalog.ListDeliveries(site.Id).Count);

        var (http, bodies, serving) = Receiver(port);
        try
        {
            var delivery = new WatchDelivery(null, workspace.Catalog.OpenAnotherConnection(), site, sink.Webhooks, Fast);
            await using (delivery)
            {
                var report = Assert.Single(await delivery.CompleteAsync());
                Assert.Equal((2, 0, 0), (report.Delivered, report.Pending, report.Failed));
            }
            Assert.Equal(2, bodies.Count);
            Assert.All(bodies, b => Assert.NotNull(b.Signature));
            Assert.All(workspace.Catalog.ListDeliveries(site.Id), d => Assert.Equal(DeliveryState.Delivered, d.State));
        }
        finally
        {
            http.Close(); // stops it too; Stop and then Close unregister the port twice (see StacFixtures)
            await serving;
        }
    }

    [Fact]
    public async Task A_cot_tcp_receiver_that_stops_reading_fails_the_attempt_after_the_send_timeout_instead_of_stalling_the_round()
    {
        // Accepts the connection and never reads: once the socket buffers are full, a write blocks for good.
        var blackHole = new TcpListener(IPAddress.Loopback, 0);
        blackHole.Start();
        var port = ((IPEndPoint)blackHole.LocalEndpoint).Port;
        var accepting = blackHole.AcceptTcpClientAsync();
        try
        {
            await using var sender = new OutboxSender(Fast with { CotSendTimeout = TimeSpan.FromSeconds(1) });
            var item = new OutboxRow
            {
                Id = 1, AlertUid = "uid", Target = $"tcp://127.0.0.1:{port}", Payload = new byte[64 << 20], State = DeliveryState.Pending,
                Attempts = 0, MaxAttempts = 5, NextAttemptUtc = DateTime.UtcNow,
            };
            // Bounded by the test, so a hang fails here instead of stalling the run.
            var error = await sender.SendAsync(item, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal("the receiver did not take the event within 1 s", error);
        }
        finally
        {
            blackHole.Stop();
            if (accepting.IsCompletedSuccessfully)
            {
                (await accepting).Dispose();
            }
        }
    }

    private static int CountOf(string text, string what)
    {
        var count = 0;
        for (var i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    /// <summary>Waits for a condition the code under test brings about (a hang here is a failure, not a slow pass).</summary>
    private static async Task WaitUntil(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
