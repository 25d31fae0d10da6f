using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using NetTopologySuite.Geometries;
using SiteWatch.Core;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Geo;
using SiteWatch.Core.Workflows;
using SiteWatch.Tests.Activity;
using SiteWatch.Tests.Change;
using SiteWatch.Tests.Cli;

namespace SiteWatch.Tests.Alerts;

public class AlertTests
{
    private static readonly DateTime T0 = new(2024, 11, 1, 12, 0, 0, DateTimeKind.Utc);

    /// <summary>The old tower of the test pair (columns 40-52, rows 130-142 of a 1 m grid at 371000, 4421000), in WGS84.</summary>
    private static Geometry TowerWgs84()
    {
        var f = new GeometryFactory(new PrecisionModel(), 32652);
        var box = f.ToGeometry(new Envelope(371_040, 371_052, 4_421_000 - 142, 4_421_000 - 130));
        return GeometryProjection.Transform(box, 32652, 4326);
    }

    private static string Rules(int port, int maxAttempts = 3) => $$$"""
        // test rules
        {
          "rules": [
            {"name": "vehicles piling up", "kind": "count_above_baseline", "class": "vehicle", "k": 2, "baseline": 1, "min_count": 5},
            {"name": "new structure", "kind": "new_structure", "min_area_m2": 300, "severity": "critical"},
            {"name": "crane removed", "kind": "object_removed", "class": "crane"},
            {"name": "activity in the yard", "kind": "change_area_in_zone", "min_area_m2": 5000,
             "zone": {"type": "Polygon", "coordinates": [[[127.4907,39.9278],[127.4923,39.9278],[127.4923,39.9290],[127.4907,39.9290],[127.4907,39.9278]]]}},
          ],
          "webhooks": [{"url": "http://127.0.0.1:{{{port}}}/hook", "secret": "s3cret", "max_attempts": {{{maxAttempts}}}}],
        }
        """;

    /// <summary>Two scenes with a change run between them (a new roof, a removed tower) and detections on both.</summary>
    private static (Workspace Workspace, Site Site) Prepared(TempDir dir, string rules)
    {
        var (workspace, site) = SiteChangeTests.Ingested(dir);
        SiteChangeWorkflow.RunSeries(workspace, "plant", new SiteChangeOptions());
        var scenes = workspace.Catalog.ListScenes(site.Id);
        ActivityTests.StoreDetections(workspace, site, scenes[0], new() { ["vehicle"] = 2, ["crane"] = 1 }, [("crane", TowerWgs84())]);
        ActivityTests.StoreDetections(workspace, site, scenes[1], new() { ["vehicle"] = 9, ["crane"] = 0 }, []);
        File.WriteAllText(dir.File("rules.json"), rules);
        AlertWorkflow.StoreRules(workspace, "plant", dir.File("rules.json"));
        return (workspace, site);
    }


    [Theory]
    [InlineData("""{"rules": []}""", "\"rules\" must be a non-empty array")]
    [InlineData("""{"rules": [{"name": "a", "kind": "count_above"}]}""", "rules[0].kind: unknown kind \"count_above\"")]
    [InlineData("""{"rules": [{"name": "a", "kind": "new_structure"}]}""", "rules[0].min_area_m2: required")]
    [InlineData("""{"rules": [{"name": "a", "kind": "new_structure", "min_area_m2": -5}]}""", "rules[0].min_area_m2: -5 is not")]
    [InlineData("""{"rules": [{"name": "a", "kind": "new_structure", "min_area_m2": 5}, {"name": "b", "kind": "count_above_baseline", "klass": "x"}]}""", "rules[1].klass: not a field")]
    [InlineData("""{"rules": [{"name": "a", "kind": "count_above_baseline", "class": "x", "baseline": 0}]}""", "rules[0].baseline: 0 is not")]
    [InlineData("""{"rules": [{"name": "a", "kind": "object_removed"}]}""", "rules[0]: an object_removed rule needs \"class\"")]
    [InlineData("""{"rules": [{"name": "a", "kind": "change_area_in_zone", "min_area_m2": 5, "zone": {"type": "Point", "coordinates": [1, 2]}}]}""", "rules[0].zone: an AOI must be a Polygon")]
    [InlineData("""{"rules": [{"name": "a", "kind": "new_structure", "min_area_m2": 5}, {"name": "A", "kind": "new_structure", "min_area_m2": 9}]}""", "rules[1].name: \"A\" is used by an earlier rule")]
    [InlineData("""{"rules": [{"name": "a", "kind": "new_structure", "min_area_m2": 5}], "webhooks": [{"url": "ftp://x/y"}]}""", "webhooks[0].url: \"ftp://x/y\" is not an absolute http(s) URL")]
    [InlineData("""{"rules": [{"name": "a", "kind": "new_structure", "min_area_m2": 5}], "webhooks": [{"url": "http://x/", "max_attempts": 0}]}""", "webhooks[0].max_attempts")]
    [InlineData("""{"rules": [{"name": "a", "kind": "new_structure" """, "not valid JSON")]
    public void Rules_file_errors_name_the_rule_and_field(string json, string expected)
    {
        var e = Assert.Throws<SiteWatchException>(() => AlertRuleSet.Parse(json, "rules.json"));
        Assert.StartsWith("rules.json: ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Rules_file_with_comments_and_trailing_commas_parses()
    {
        var rules = AlertRuleSet.Parse(Rules(9000), "rules.json");
        Assert.Equal(4, rules.Rules.Count);
        Assert.Equal(RuleKind.CountAboveBaseline, rules.Rules[0].Kind);
        Assert.Equal(5, rules.Rules[0].MinCount);
        Assert.Equal("critical", rules.Rules[1].Severity);
        Assert.NotNull(rules.Rules[3].Zone);
        var hook = Assert.Single(rules.Webhooks);
        Assert.Equal(("http://127.0.0.1:9000/hook", "s3cret", 3), (hook.Url, hook.Secret, hook.MaxAttempts));
    }

    [Fact]
    public async Task Check_raises_each_alert_once_with_evidence_and_chips_and_delivers_after_the_receiver_comes_up()
    {
        using var dir = new TempDir();
        var port = TestPorts.Free();
        var (workspace, site) = Prepared(dir, Rules(port));
        using var _ = workspace;

        // Nobody listens on the port yet: connection refused.
        var first = AlertWorkflow.Check(workspace, "plant", T0);
        var raised = first.Raised.ToDictionary(a => a.RuleName);
        Assert.Equal(["crane removed", "new structure", "vehicles piling up"], raised.Keys.Order());
        Assert.Contains("vehicle count 9", raised["vehicles piling up"].Message);
        Assert.Null(raised["vehicles piling up"].GeometryGeoJson);
        var building = raised["new structure"];
        Assert.Equal("critical", building.Severity);
        Assert.NotNull(building.GeometryGeoJson);
        using (var evidence = JsonDocument.Parse(building.Evidence))
        {
            var chip = Path.Combine(workspace.Root, evidence.RootElement.GetProperty("chip").GetString()!);
            Assert.True(File.Exists(chip), chip);
            Assert.InRange(evidence.RootElement.GetProperty("objects")[0].GetProperty("area_m2").GetDouble(), 500, 700);
        }
        var crane = raised["crane removed"];
        Assert.Contains("crane removed between", crane.Message);
        Assert.Contains("count 1 -> 0", crane.Message);
        Assert.True(AoiReader.Parse(crane.GeometryGeoJson!, "crane").Intersects(TowerWgs84()));
        Assert.Empty(Directory.EnumerateFiles(workspace.StagingDirectory, "*", SearchOption.AllDirectories));

        Assert.Equal(3, first.Delivery.Retrying);
        var pending = workspace.Catalog.ListDeliveries(site.Id);
        Assert.Equal(3, pending.Count);
        Assert.All(pending, d =>
        {
            Assert.Equal(DeliveryState.Pending, d.State);
            Assert.Equal(1, d.Attempts);
            Assert.False(string.IsNullOrWhiteSpace(d.LastError));
            // The backoff counts from the failed attempt: the round's start plus the (short) time it had run.
            Assert.InRange(d.NextAttemptUtc, T0 + TimeSpan.FromSeconds(30), T0 + TimeSpan.FromSeconds(30) + TimeSpan.FromMinutes(1));
        });

        // Idempotent: nothing new, and nothing is due before the backoff ends.
        var again = AlertWorkflow.Check(workspace, "plant", T0 + TimeSpan.FromSeconds(5));
        Assert.Empty(again.Raised);
        Assert.Equal(3, again.AlreadyStored);
        Assert.Empty(again.Delivery.Attempted);
        Assert.Equal(3, workspace.Catalog.ListAlerts(site.Id).Count);

        // The receiver comes up; the next round (after the backoff) delivers every alert, signed.
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var received = new List<(string Body, string? Signature, string? Delivery, string? Attempt)>();
        var serving = Task.Run(() =>
        {
            for (var n = 0; n < 3; n++)
            {
                var context = listener.GetContext();
                using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
                received.Add((reader.ReadToEnd(), context.Request.Headers[WebhookDelivery.SignatureHeader], context.Request.Headers[WebhookDelivery.DeliveryHeader],
                    context.Request.Headers[WebhookDelivery.AttemptHeader]));
                context.Response.StatusCode = 204;
                context.Response.Close();
            }
        });
        var report = AlertWorkflow.Deliver(workspace, "plant", T0 + TimeSpan.FromMinutes(1));
        // Three deliveries came back as delivered, so the receiver answered three requests.
        Assert.Equal(3, report.Delivered);
        await serving;
        Assert.All(workspace.Catalog.ListDeliveries(site.Id), d =>
        {
            Assert.Equal(DeliveryState.Delivered, d.State);
            Assert.Equal(2, d.Attempts);
            Assert.Null(d.LastError);
        });
        // The first attempts met a closed port: these are the second, of the rows the outbox holds.
        Assert.All(received, r => Assert.Equal("2", r.Attempt));
        Assert.Equal(workspace.Catalog.ListDeliveries(site.Id).Select(d => d.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order(),
            received.Select(r => r.Delivery).Order());
        foreach (var (body, signature, _, _) in received)
        {
            Assert.Equal(WebhookDelivery.Signature("s3cret", Encoding.UTF8.GetBytes(body)), signature);
            Assert.NotEqual(WebhookDelivery.Signature("other", Encoding.UTF8.GetBytes(body)), signature);
            using var json = JsonDocument.Parse(body);
            Assert.Equal("plant", json.RootElement.GetProperty("site").GetString());
            Assert.Equal(JsonValueKind.Object, json.RootElement.GetProperty("alert").GetProperty("evidence").ValueKind);
        }
        Assert.Equal(raised.Values.Select(a => a.RuleName).Order(), received.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("alert").GetProperty("rule").GetString()).Order());

        // Delivered ones are not sent again.
        Assert.Empty(AlertWorkflow.Deliver(workspace, "plant", T0 + TimeSpan.FromHours(1)).Attempted);
    }

    [Fact]
    public void A_hanging_receiver_is_a_failed_attempt_and_the_last_one_marks_the_delivery_failed()
    {
        using var dir = new TempDir();
        // Accepts connections and never answers.
        var hanging = new TcpListener(IPAddress.Loopback, 0);
        hanging.Start();
        var port = ((IPEndPoint)hanging.LocalEndpoint).Port;
        try
        {
            var (workspace, site) = Prepared(dir, Rules(port, maxAttempts: 2).Replace("\"min_area_m2\": 300", "\"min_area_m2\": 100000"));
            using var _ = workspace;
            var options = new WebhookDeliveryOptions { Timeout = TimeSpan.FromMilliseconds(500) };
            var check = AlertWorkflow.Check(workspace, "plant", T0, options);
            Assert.Equal(2, check.Raised.Count);
            Assert.All(workspace.Catalog.ListDeliveries(site.Id), d =>
            {
                Assert.Equal(DeliveryState.Pending, d.State);
                Assert.Equal(1, d.Attempts);
                Assert.Contains("no answer within 0.5 s", d.LastError);
            });
            var last = AlertWorkflow.Deliver(workspace, "plant", T0 + TimeSpan.FromHours(1), options);
            Assert.Equal(2, last.Failed);
            var failed = workspace.Catalog.ListDeliveries(site.Id);
            Assert.All(failed, d =>
            {
                Assert.Equal(DeliveryState.Failed, d.State);
                Assert.Equal(2, d.Attempts);
            });
            // Failed deliveries are kept, and never retried on their own.
            Assert.Empty(AlertWorkflow.Deliver(workspace, "plant", T0 + TimeSpan.FromDays(1), options).Attempted);
            Assert.Equal(2, workspace.Catalog.ListAlerts(site.Id).Count);
        }
        finally
        {
            hanging.Stop();
        }
    }

    [Fact]
    public void Backoff_doubles_up_to_its_cap()
    {
        var options = new WebhookDeliveryOptions { FirstRetryDelay = TimeSpan.FromSeconds(30), MaxRetryDelay = TimeSpan.FromMinutes(10) };
        Assert.Equal(TimeSpan.FromSeconds(30), WebhookDelivery.Backoff(1, options));
        Assert.Equal(TimeSpan.FromSeconds(120), WebhookDelivery.Backoff(3, options));
        Assert.Equal(TimeSpan.FromMinutes(10), WebhookDelivery.Backoff(12, options));
    }

    [Fact]
    public void Cli_alerts_rules_with_a_bad_file_exits_1_naming_the_rule_and_keeps_the_stored_rules()
    {
        using var dir = new TempDir();
        var ws = dir.File("ws");
        Assert.Equal(0, CliTests.Run(null, "init", ws).Code);
        File.WriteAllText(dir.File("aoi.geojson"), Catalog.IngestTests.SceneAoi);
        Assert.Equal(0, CliTests.Run(ws, "site", "add", "plant", "--aoi", dir.File("aoi.geojson"), "--gsd", "1").Code);
        File.WriteAllText(dir.File("good.json"), """{"rules": [{"name": "new building", "kind": "new_structure", "min_area_m2": 2000}]}""");
        var (goodCode, goodOut, goodErr) = CliTests.Run(ws, "alerts", "rules", "--site", "plant", "--file", dir.File("good.json"), "--json");
        Assert.True(goodCode == 0, goodErr);
        Assert.Equal("new building", JsonDocument.Parse(goodOut).RootElement.GetProperty("rules")[0].GetProperty("name").GetString());

        File.WriteAllText(dir.File("bad.json"), """{"rules": [{"name": "piles", "kind": "count_above_baseline", "class": "material_pile", "k": "two"}]}""");
        var (code, _, err) = CliTests.Run(ws, "alerts", "rules", "--site", "plant", "--file", dir.File("bad.json"));
        Assert.Equal(1, code);
        Assert.StartsWith("error: ", err);
        Assert.Contains("bad.json: rules[0].k: \"two\" is not", err);

        var (showCode, showOut, _) = CliTests.Run(ws, "alerts", "rules", "--site", "plant", "--json");
        Assert.Equal(0, showCode);
        Assert.Contains("new building", showOut);
        var (listCode, listOut, _) = CliTests.Run(ws, "alerts", "--site", "plant", "--json");
        Assert.Equal(0, listCode);
        Assert.Equal(0, JsonDocument.Parse(listOut).RootElement.GetArrayLength());
        Assert.Equal(2, CliTests.Run(ws, "alerts", "check").Code);
    }
}
