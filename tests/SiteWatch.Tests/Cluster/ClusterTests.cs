using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.SignalR.Client;
using Npgsql;
using SiteWatch.Cluster;
using SiteWatch.Core;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change.Methods;
using SiteWatch.Core.Monitoring;
using SiteWatch.Core.Workflows;
using SiteWatch.Tests.Catalog;
using static SiteWatch.Tests.Monitoring.StacFixtures;

namespace SiteWatch.Tests.Cluster;

/// <summary>
/// The cluster on this machine: our Orleans DDL against the provider's contract, and three real silo processes
/// (`sitewatch silo`) over a private PostgreSQL monitoring sites from a STAC API on loopback, one killed mid-round.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterTests(PostgresServer server, Xunit.Abstractions.ITestOutputHelper output)
{
    private static int Query(NpgsqlConnection connection, string key, params (string Name, object? Value)[] parameters)
    {
        using var command = new NpgsqlCommand(OrleansSchema.Queries[key], connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void The_orleans_queries_keep_the_providers_contract_of_versions_and_answers()
    {
        var database = server.CreateDatabase();
        OrleansSchema.Install(database);
        OrleansSchema.Install(database); // a second silo starting: idempotent
        using var connection = new NpgsqlConnection(database);
        connection.Open();
        var now = DateTime.UtcNow;
        (string, object?)[] Silo(int version, int port = 11111) =>
        [
            ("DeploymentId", "d"), ("Address", "127.0.0.1"), ("Port", port), ("Generation", 7), ("SiloName", "s"), ("HostName", "h"),
            ("Status", 3), ("ProxyPort", 30000), ("StartTime", now), ("IAmAliveTime", now), ("Version", version),
        ];

        Assert.Equal(1, Query(connection, "InsertMembershipVersionKey", ("DeploymentId", "d")));
        Assert.Equal(0, Query(connection, "InsertMembershipVersionKey", ("DeploymentId", "d")));
        Assert.Equal(0, Query(connection, "InsertMembershipKey", Silo(version: 5))); // stale version: nothing written
        Assert.Equal(1, Query(connection, "InsertMembershipKey", Silo(version: 0)));
        Assert.Equal(0, Query(connection, "InsertMembershipKey", Silo(version: 1))); // the same silo twice
        Assert.Equal(1, Query(connection, "InsertMembershipKey", Silo(version: 1, port: 11112)));
        (string, object?)[] Update(int version) =>
        [
            ("DeploymentId", "d"), ("Address", "127.0.0.1"), ("Port", 11111), ("Generation", 7), ("Status", 6),
            ("SuspectTimes", null), ("IAmAliveTime", now.AddSeconds(5)), ("Version", version),
        ];
        Assert.Equal(0, Query(connection, "UpdateMembershipKey", Update(1)));
        Assert.Equal(1, Query(connection, "UpdateMembershipKey", Update(2)));
        using (var read = new NpgsqlCommand(OrleansSchema.Queries["MembershipReadAllKey"], connection))
        {
            read.Parameters.AddWithValue("DeploymentId", "d");
            using var reader = read.ExecuteReader();
            var rows = new List<(int Port, int Status, int Version)>();
            while (reader.Read())
            {
                rows.Add((reader.GetInt32(reader.GetOrdinal("Port")), reader.GetInt32(reader.GetOrdinal("Status")), reader.GetInt32(reader.GetOrdinal("Version"))));
                Assert.Equal(DateTimeKind.Utc, reader.GetDateTime(reader.GetOrdinal("IAmAliveTime")).Kind);
            }
            Assert.Equal([(11111, 6, 3), (11112, 3, 3)], rows.OrderBy(r => r.Port));
        }

        (string, object?)[] Reminder(int period) =>
        [
            ("ServiceId", "svc"), ("GrainId", "sitegrain/1"), ("ReminderName", "monitor"), ("StartTime", now), ("Period", period), ("GrainHash", -5),
        ];
        Assert.Equal(0, Query(connection, "UpsertReminderRowKey", Reminder(60_000)));
        Assert.Equal(1, Query(connection, "UpsertReminderRowKey", Reminder(30_000)));
        Assert.Equal(0, Query(connection, "DeleteReminderRowKey", ("ServiceId", "svc"), ("GrainId", "sitegrain/1"), ("ReminderName", "monitor"), ("Version", 0)));
        using (var range = new NpgsqlCommand(OrleansSchema.Queries["ReadRangeRows2Key"], connection))
        {
            // A range that wraps around: (100, end] and [start, -1] hold hash -5.
            range.Parameters.AddWithValue("ServiceId", "svc");
            range.Parameters.AddWithValue("BeginHash", 100);
            range.Parameters.AddWithValue("EndHash", -1);
            using var reader = range.ExecuteReader();
            Assert.True(reader.Read());
            Assert.Equal(30_000L, reader.GetInt64(reader.GetOrdinal("Period")));
        }
        Assert.Equal(1, Query(connection, "DeleteReminderRowKey", ("ServiceId", "svc"), ("GrainId", "sitegrain/1"), ("ReminderName", "monitor"), ("Version", 1)));
    }

    /// <summary>A `sitewatch` process (a silo, the server) whose log lines are collected; killed when disposed.</summary>
    private sealed class SitewatchProcess : IDisposable
    {
        public readonly Process Process;
        public readonly ConcurrentQueue<string> Lines = new();

        /// <summary>`sitewatch silo` on free loopback ports with a 2 s heartbeat.</summary>
        public static SitewatchProcess Silo(string workspace, string name) => new(name,
            ["silo", "-w", workspace, "--name", name, "--silo-port", TestPorts.Free().ToString(), "--gateway-port", TestPorts.Free().ToString(),
             "--advertise", "127.0.0.1", "--heartbeat", "2"]);

        public SitewatchProcess(string name, string[] args, IReadOnlyDictionary<string, string>? environment = null)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sitewatch.dll"));
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }
            info.Environment["NO_COLOR"] = "1";
            foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            {
                info.Environment[key] = value;
            }
            Name = name;
            Process = Process.Start(info)!;
            Process.OutputDataReceived += (_, e) => { if (e.Data is not null) Lines.Enqueue(e.Data); };
            Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Lines.Enqueue(e.Data); };
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public string Name { get; }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }
            Process.Dispose();
        }
    }


    private static void WaitFor(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"after {timeout.TotalSeconds:0} s: {what()}");
            }
            Thread.Sleep(250);
        }
    }

    /// <summary>A PostgreSQL workspace with two sites ordered to monitor three scenes each from <paramref name="api"/>.</summary>
    private (string Workspace, long[] SiteIds) MonitoredSites(TempDir dir, StacApi api)
    {
        for (var i = 0; i < 3; i++)
        {
            var name = $"s{i}.tif";
            api.Assets[name] = Scene(dir.File(name), i + 1, changed: i > 0);
            api.Items.Add(Item($"scene-{i}", $"2024-0{5 + i}-01", 5, $"/assets/{name}"));
        }
        var workspace = dir.File("ws");
        long[] siteIds;
        using (var ws = Workspace.Init(workspace, server.CreateDatabase()))
        {
            File.WriteAllText(dir.File("aoi.geojson"), IngestTests.SceneAoi);
            var schedule = new MonitorSchedule
            {
                Source = api.Url, Collections = ["demo"], Every = TimeSpan.FromMinutes(30),
                Method = ChangeMethodKind.Cva, CoRegister = false, Detect = false, Alerts = false,
            };
            siteIds = new[] { "plant", "yard" }.Select(name =>
            {
                var site = SiteSetup.AddSite(ws, name, dir.File("aoi.geojson"), 1.0, null, [], null);
                ws.Catalog.SaveMonitor(site.Id, schedule);
                return site.Id;
            }).ToArray();
        }
        return (workspace, siteIds);
    }

    [Fact]
    public void Three_silos_monitor_the_sites_and_a_silo_killed_mid_round_leaves_every_scene_ingested_once()
    {
        using var dir = new TempDir();
        using var api = new StacApi { AssetDelay = TimeSpan.FromSeconds(1.5) };
        var (workspace, siteIds) = MonitoredSites(dir, api);
        var silos = new List<SitewatchProcess>();
        try
        {
            silos.AddRange(Enumerable.Range(1, 3).Select(i => SitewatchProcess.Silo(workspace, $"s{i}")));
            string Log() => string.Join("\n", silos.SelectMany(s => s.Lines.Select(l => $"[{s.Name}] {l}")).TakeLast(60));

            // The silo running the first site's round is killed once that round has started downloading.
            SitewatchProcess? victim = null;
            var started = new Regex($@"site {siteIds[0]}: round started on silo (s\d)");
            WaitFor(() => (victim = silos.FirstOrDefault(s => s.Lines.Any(started.IsMatch))) is not null && api.AssetRequests > 0,
                TimeSpan.FromSeconds(120), () => "no silo started a round:\n" + Log());
            victim!.Process.Kill(entireProcessTree: true);
            victim.Process.WaitForExit(10_000);

            using var check = Workspace.Open(workspace);
            WaitFor(() => siteIds.All(id => check.Catalog.TryGetMonitor(id)?.LastRoundUtc is not null),
                TimeSpan.FromSeconds(150), () => "the rounds did not end after the kill:\n" + Log());

            foreach (var id in siteIds)
            {
                var scenes = check.Catalog.ListScenes(id);
                Assert.Equal(["stac:demo/scene-0", "stac:demo/scene-1", "stac:demo/scene-2"], scenes.Select(s => s.SourcePath).Order());
                Assert.All(scenes, s => Assert.True(File.Exists(check.Resolve(s.File)), $"{s.File} is missing"));
                Assert.Equal(2, check.Catalog.ListChangeRuns(id).Count);
                Assert.Contains("3 item(s) found", check.Catalog.TryGetMonitor(id)!.LastSummary);
            }
            // The killed silo's round was finished by another silo. Its log line may reach us after the catalog row it
            // follows (a loaded machine delivered it later than the test read the row).
            WaitFor(() => silos.Where(s => s != victim).Any(s => s.Lines.Any(l => l.Contains($"site {siteIds[0]}: round ended"))),
                TimeSpan.FromSeconds(30), () => "no other silo ended the killed silo's round:\n" + Log());
            Assert.Empty(check.FindOrphans());
        }
        finally
        {
            silos.ForEach(s => s.Dispose());
            foreach (var silo in silos)
            {
                output.WriteLine(string.Join("\n", silo.Lines.Select(l => $"[{silo.Name}] {l}")));
            }
        }
    }

    /// <summary>Sends an MPEG-TS file to a loopback UDP port in datagrams of 7 TS packets, as a drone's downlink would.</summary>
    private static void Stream(string file, int port)
    {
        var bytes = File.ReadAllBytes(file);
        using var sender = new UdpClient();
        var target = new IPEndPoint(IPAddress.Loopback, port);
        for (var offset = 0; offset < bytes.Length; offset += 7 * 188)
        {
            sender.Send(bytes.AsSpan(offset, Math.Min(7 * 188, bytes.Length - offset)), target);
            Thread.Sleep(1);
        }
    }

    [Fact]
    public void A_drone_feed_is_watched_by_one_silo_and_taken_over_when_that_silo_is_killed()
    {
        using var dir = new TempDir();
        // A simulated sortie over the border: VMTI targets crossing the border zone.
        var (workspace, siteId, feedId, port) = FeedWorkspace(dir);
        var silos = new List<SitewatchProcess>();
        try
        {
            silos.AddRange(Enumerable.Range(1, 2).Select(i => SitewatchProcess.Silo(workspace, $"s{i}")));
            string Log() => string.Join("\n", silos.SelectMany(s => s.Lines.Select(l => $"[{s.Name}] {l}")).TakeLast(60));
            var started = $"feed {feedId}: watch started on silo";
            SitewatchProcess? holder = null;
            WaitFor(() => (holder = silos.FirstOrDefault(s => s.Lines.Any(l => l.Contains(started)))) is not null,
                TimeSpan.FromSeconds(120), () => "no silo started the feed:\n" + Log());

            using var check = Workspace.Open(workspace);
            Stream(dir.File("flight/flight.ts"), port);
            WaitFor(() => check.Catalog.ListAlerts(siteId).Count > 0, TimeSpan.FromSeconds(60), () => "no alert from the feed:\n" + Log());
            Assert.Equal(holder!.Name, check.Catalog.TryGetFeed(feedId)!.RunningOn);
            // The sortie's end (seconds without a datagram) ends its run, and the next run starts at once.
            WaitFor(() => holder.Lines.Count(l => l.Contains(started)) == 2, TimeSpan.FromSeconds(60), () => "the run did not end with the stream:\n" + Log());
            Assert.Contains(holder.Lines, l => l.Contains($"feed {feedId}: watch ended on silo {holder.Name}: stream ended"));
            // One silo watches the feed: the other never started it.
            Assert.DoesNotContain(silos.Where(s => s != holder), s => s.Lines.Any(l => l.Contains(started)));
            var first = check.Catalog.ListAlerts(siteId);
            Assert.All(first, a => Assert.Equal("video", a.Source));

            // The silo watching it dies: the other takes the feed over and watches the next sortie.
            holder.Process.Kill(entireProcessTree: true);
            holder.Process.WaitForExit(10_000);
            var heir = silos.Single(s => s != holder);
            WaitFor(() => heir.Lines.Any(l => l.Contains(started)), TimeSpan.FromSeconds(150), () => "the feed was not taken over:\n" + Log());
            Stream(dir.File("flight/flight.ts"), port);
            WaitFor(() => heir.Lines.Any(l => l.Contains($"feed {feedId}: alert")), TimeSpan.FromSeconds(60), () => "the heir raised no alert:\n" + Log());
            WaitFor(() => check.Catalog.TryGetFeed(feedId)!.RunningOn == heir.Name, TimeSpan.FromSeconds(30), () => "the feed's state does not name the heir:\n" + Log());
            // The same sortie again: its alerts are keyed by the stream's KLV time, so what the heir raised again was
            // not stored twice (a datagram lost on a loaded machine may change a track, hence not all of them).
            Thread.Sleep(TimeSpan.FromSeconds(2));
            var raisedAgain = heir.Lines.Count(l => l.Contains($"feed {feedId}: alert"));
            Assert.InRange(check.Catalog.ListAlerts(siteId).Count, first.Count, first.Count + raisedAgain - 1);

            // Removing the feed stops its watch at the next heartbeat.
            check.Catalog.RemoveFeed(siteId, "ridge");
            WaitFor(() => heir.Lines.Any(l => l.Contains($"feed {feedId}: removed; watch stopped")), TimeSpan.FromSeconds(60), () => "the removed feed still runs:\n" + Log());
            Assert.False(heir.Process.HasExited, Log());
        }
        finally
        {
            silos.ForEach(s => s.Dispose());
            foreach (var silo in silos)
            {
                output.WriteLine(string.Join("\n", silo.Lines.Select(l => $"[{silo.Name}] {l}")));
            }
        }
    }

    /// <summary>A PostgreSQL workspace with a site, its watch zones (the simulated flight's) and a VMTI feed on a loopback port.</summary>
    private (string Workspace, long SiteId, long FeedId, int Port) FeedWorkspace(TempDir dir)
    {
        var sim = Cli.CliTests.Run(null, "simulate", "flight", "--out", dir.File("flight"), "--seconds", "8", "--fps", "10", "--size", "320x180", "--vmti");
        Assert.True(sim.Code == 0, sim.Err);
        var port = TestPorts.FreeUdp();
        var workspace = dir.File("ws");
        using var ws = Workspace.Init(workspace, server.CreateDatabase());
        File.WriteAllText(dir.File("aoi.geojson"), """{"type":"Polygon","coordinates":[[[-64.6,-22.55],[-64.4,-22.55],[-64.4,-22.45],[-64.6,-22.45],[-64.6,-22.55]]]}""");
        var site = SiteSetup.AddSite(ws, "border", dir.File("aoi.geojson"), null, null, [], null);
        ws.Catalog.SaveWatchZones(site.Id, File.ReadAllText(dir.File("flight/zones.geojson")), "test");
        var feed = ws.Catalog.SaveFeed(site.Id, "ridge", $"udp://127.0.0.1:{port}", new FeedOptions { Detector = FrameDetectorKind.Vmti });
        return (workspace, site.Id, feed.Id, port);
    }

    [Fact]
    public async Task A_server_joined_to_the_cluster_pushes_a_silos_alert_to_the_browser_at_once_and_lists_the_silos()
    {
        using var dir = new TempDir();
        var (workspace, siteId, feedId, udpPort) = FeedWorkspace(dir);
        string key;
        using (var ws = Workspace.Open(workspace))
        {
            key = Server.Auth.UserAccounts.NewApiKey(ws.Catalog, Server.Auth.UserAccounts.Add(ws.Catalog, "vic", "viewer", "correct horse battery staple"));
        }
        var silo = SitewatchProcess.Silo(workspace, "s1");
        var httpPort = TestPorts.Free();
        // The server polls the catalog once an hour here: only the cluster's notice can bring the alert in time.
        var server = new SitewatchProcess("serve", ["serve", "-w", workspace, "--urls", $"http://127.0.0.1:{httpPort}", "--cluster", "sitewatch"],
            new Dictionary<string, string> { ["SITEWATCH_Server__LivePollSeconds"] = "3600" });
        string Log() => string.Join("\n", silo.Lines.Select(l => $"[s1] {l}").TakeLast(40).Concat(server.Lines.Select(l => $"[serve] {l}").TakeLast(20)));
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
            http.DefaultRequestHeaders.Add("X-Api-Key", key);
            System.Text.Json.JsonElement cluster = default;
            WaitFor(() =>
            {
                try
                {
                    cluster = System.Text.Json.JsonDocument.Parse(http.GetStringAsync("/api/cluster").GetAwaiter().GetResult()).RootElement;
                    return cluster.GetProperty("connected").GetBoolean() && cluster.GetProperty("silos").GetArrayLength() == 1;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(120), () => "the server did not join the cluster:\n" + Log());
            Assert.Equal("s1", cluster.GetProperty("silos")[0].GetProperty("name").GetString());
            Assert.Equal("active", cluster.GetProperty("silos")[0].GetProperty("status").GetString());
            WaitFor(() => silo.Lines.Any(l => l.Contains($"feed {feedId}: watch started on silo s1")), TimeSpan.FromSeconds(60), () => "the feed did not start:\n" + Log());

            var alerts = System.Threading.Channels.Channel.CreateUnbounded<System.Text.Json.JsonElement>();
            await using var hub = new HubConnectionBuilder()
                .WithUrl(new Uri(http.BaseAddress, "/hubs/events"), o => o.Headers["X-Api-Key"] = key)
                .Build();
            hub.On<System.Text.Json.JsonElement>("alert", a => alerts.Writer.TryWrite(a));
            await hub.StartAsync();
            await hub.InvokeAsync("FollowSite", siteId);

            Stream(dir.File("flight/flight.ts"), udpPort);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var alert = await alerts.Reader.ReadAsync(timeout.Token);
            Assert.Equal("video", alert.GetProperty("source").GetString());
            Assert.Contains("border", alert.GetProperty("message").GetString());

            var feeds = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/api/cluster")).RootElement.GetProperty("feeds");
            Assert.Equal(("ridge", "s1"), (feeds[0].GetProperty("name").GetString(), feeds[0].GetProperty("running_on").GetString()));
        }
        finally
        {
            server.Dispose();
            silo.Dispose();
            output.WriteLine(Log());
        }
    }

    [Fact]
    public void PostgreSQL_restarted_in_the_middle_of_the_rounds_and_the_silos_finish_them_once()
    {
        using var dir = new TempDir();
        using var api = new StacApi { AssetDelay = TimeSpan.FromSeconds(1.5) };
        var (workspace, siteIds) = MonitoredSites(dir, api);
        var silos = new List<SitewatchProcess>();
        try
        {
            silos.AddRange(Enumerable.Range(1, 2).Select(i => SitewatchProcess.Silo(workspace, $"s{i}")));
            string Log() => string.Join("\n", silos.SelectMany(s => s.Lines.Select(l => $"[{s.Name}] {l}")).TakeLast(60));
            WaitFor(() => silos.Any(s => s.Lines.Any(l => l.Contains("round started"))) && api.AssetRequests > 0,
                TimeSpan.FromSeconds(120), () => "no silo started a round:\n" + Log());

            server.Restart();

            using var check = Workspace.Open(workspace);
            // A round whose scene met the restart failed that item and retries it after 30 s (the backoff).
            WaitFor(() =>
            {
                try
                {
                    return siteIds.All(id => check.Catalog.ListScenes(id).Count == 3 && check.Catalog.TryGetMonitor(id)!.FailedRounds == 0
                        && check.Catalog.TryGetMonitor(id)!.LastRoundUtc is not null);
                }
                catch (SiteWatchException)
                {
                    return false; // this test's own connection met the restart; the next look reconnects
                }
            }, TimeSpan.FromSeconds(180), () => "the rounds did not end after the restart:\n" + Log());
            foreach (var id in siteIds)
            {
                var scenes = check.Catalog.ListScenes(id);
                Assert.Equal(["stac:demo/scene-0", "stac:demo/scene-1", "stac:demo/scene-2"], scenes.Select(s => s.SourcePath).Order());
                Assert.All(scenes, s => Assert.True(File.Exists(check.Resolve(s.File)), $"{s.File} is missing"));
                // Every consecutive pair is compared, whichever scene came late.
                var pairs = check.Catalog.ListChangeRuns(id).Select(r => (r.BeforeSceneId, r.AfterSceneId)).ToHashSet();
                Assert.Contains((scenes[0].Id, scenes[1].Id), pairs);
                Assert.Contains((scenes[1].Id, scenes[2].Id), pairs);
            }
            Assert.All(silos, s => Assert.False(s.Process.HasExited, $"silo {s.Name} stopped:\n{Log()}"));
        }
        finally
        {
            silos.ForEach(s => s.Dispose());
            foreach (var silo in silos)
            {
                output.WriteLine(string.Join("\n", silo.Lines.Select(l => $"[{silo.Name}] {l}")));
            }
        }
    }
}
