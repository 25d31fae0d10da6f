using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using SiteWatch.Core;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Video.Watch;

namespace SiteWatch.Video.Tests.Watch;

public class AlertDeliveryTests
{
    internal static TrackEvidence Track(string id = "run-0001", double? speed = 4.5) => new()
    {
        Video = "/data/flight.ts",
        AlertId = id,
        AlertUid = AlertIdentity.Uid("video", id),
        Zone = "border <north>",
        TrackId = 12,
        ClassName = "person",
        Score = 0.87,
        Latitude = 39.9321,
        Longitude = 127.4985,
        HeightAboveEllipsoid = 153.2,
        SpeedMps = speed,
        HeadingDeg = speed is null ? null : 271.5,
        FrameIndex = 300,
        VideoSeconds = 10.0,
        SensorTime = new DateTimeOffset(2024, 5, 1, 3, 4, 5, 678, TimeSpan.Zero),
        LatencyMs = 42,
        Box = [10, 20, 30, 40],
    };

    /// <summary>The "cross" alert of <paramref name="track"/>, raised 2026-01-02 03:04:05 UTC.</summary>
    internal static AlertRecord Alert(TrackEvidence track, string? key = null) =>
        track.ToAlert(0, "cross", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), key ?? $"test|{track.AlertId}");

    internal static AlertRecord Alert(string id = "run-0001", double? speed = 4.5) => Alert(Track(id, speed));

    [Fact]
    public void CoT_event_has_the_required_shape()
    {
        var xml = XElement.Parse(CotEvent.ToXml(Alert(), new CotOptions { Type = "a-h-G", Stale = TimeSpan.FromMinutes(2) }));
        Assert.Equal("event", xml.Name.LocalName);
        Assert.Equal("2.0", (string?)xml.Attribute("version"));
        Assert.Equal("SiteWatch.run-0001", (string?)xml.Attribute("uid"));
        Assert.Equal("a-h-G", (string?)xml.Attribute("type"));
        Assert.Equal("m-p", (string?)xml.Attribute("how"));
        Assert.Equal("2026-01-02T03:04:05.000Z", (string?)xml.Attribute("time"));
        Assert.Equal("2024-05-01T03:04:05.678Z", (string?)xml.Attribute("start"));
        Assert.Equal("2024-05-01T03:06:05.678Z", (string?)xml.Attribute("stale"));
        var point = xml.Element("point")!;
        Assert.Equal(39.9321, (double)point.Attribute("lat")!, 7);
        Assert.Equal(127.4985, (double)point.Attribute("lon")!, 7);
        Assert.Equal(153.2, (double)point.Attribute("hae")!, 1);
        Assert.Equal(15, (double)point.Attribute("ce")!);
        Assert.Equal(CotEvent.Unknown, (double)point.Attribute("le")!);
        var detail = xml.Element("detail")!;
        Assert.Equal("271.5", (string?)detail.Element("track")!.Attribute("course"));
        Assert.Equal("4.50", (string?)detail.Element("track")!.Attribute("speed"));
        Assert.Contains("person 12 cross border <north>", (string?)detail.Element("contact")!.Attribute("callsign"));
        Assert.Contains("crossed border <north>", detail.Element("remarks")!.Value);
        Assert.Equal("12", (string?)detail.Element("sitewatch")!.Attribute("track"));
    }

    [Fact]
    public void CoT_without_motion_leaves_track_out()
    {
        var xml = XElement.Parse(CotEvent.ToXml(Alert(speed: null)));
        Assert.Null(xml.Element("detail")!.Element("track"));
    }

    [Fact]
    public async Task CoT_reaches_a_real_UDP_listener()
    {
        using var listener = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)listener.Client.LocalEndPoint!).Port;
        await using var dispatcher = new AlertDispatcher([new CotSink(CotSink.ParseEndpoint($"udp://127.0.0.1:{port}"))]);
        dispatcher.Publish(Alert("a1"));
        dispatcher.Publish(Alert("a2"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var uids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var datagram = await listener.ReceiveAsync(timeout.Token);
            uids.Add((string)XElement.Parse(Encoding.UTF8.GetString(datagram.Buffer)).Attribute("uid")!);
        }

        Assert.Equal(["SiteWatch.a1", "SiteWatch.a2"], uids);
        var report = Assert.Single(await dispatcher.CompleteAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, report.Delivered);
        Assert.Equal(0, report.Undelivered);
    }

    [Fact]
    public async Task CoT_reaches_a_real_TCP_listener_and_reconnects()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var sink = new CotSink(CotSink.ParseEndpoint($"tcp://127.0.0.1:{port}"));
            await using (sink)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await sink.DeliverAsync(Alert("t1"), timeout.Token);
                using (var first = await listener.AcceptTcpClientAsync(timeout.Token))
                {
                    Assert.Contains("uid=\"SiteWatch.t1\"", await ReadEventAsync(first.GetStream(), timeout.Token));
                }

                // The server dropped the connection: the sink notices before writing and connects again.
                await Task.Delay(100, timeout.Token);
                await sink.DeliverAsync(Alert("t2"), timeout.Token);
                using var second = await listener.AcceptTcpClientAsync(timeout.Token);
                Assert.Contains("uid=\"SiteWatch.t2\"", await ReadEventAsync(second.GetStream(), timeout.Token));
            }
        }
        finally
        {
            listener.Stop();
        }
    }

    private static async Task<string> ReadEventAsync(Stream stream, CancellationToken token)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        while (!text.ToString().Contains("</event>", StringComparison.Ordinal))
        {
            var n = await stream.ReadAsync(buffer, token);
            if (n == 0)
            {
                break;
            }

            text.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }

        return text.ToString();
    }

    [Fact]
    public async Task Endpoints_that_are_down_are_counted_not_fatal()
    {
        // A port that was just free: nothing listens there.
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        await using var dispatcher = new AlertDispatcher(
        [
            new CotSink(CotSink.ParseEndpoint($"tcp://127.0.0.1:{port}"), connectTimeout: TimeSpan.FromSeconds(1)),
        ]);
        dispatcher.Publish(Alert("d1"));
        dispatcher.Publish(Alert("d2"));
        var reports = await dispatcher.CompleteAsync(TimeSpan.FromSeconds(30));
        Assert.All(reports, r =>
        {
            Assert.Equal(0, r.Delivered);
            Assert.Equal(2, r.Undelivered);
            Assert.Contains(r.Problems, p => p.StartsWith("alert d1: ", StringComparison.Ordinal));
        });
    }

    [Theory]
    [InlineData("udp:6969")]
    [InlineData("http://127.0.0.1:6969")]
    [InlineData("tcp://127.0.0.1")]
    public void Bad_CoT_endpoints_are_usage_errors(string text)
    {
        var e = Assert.Throws<SiteWatchException>(() => CotSink.ParseEndpoint(text));
        Assert.Contains("udp://HOST:PORT", e.Message);
    }
}
