using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using SiteWatch.Server.Jobs;
using SiteWatch.Server.Live;

namespace SiteWatch.Server.Tests;

/// <summary>Pages of other origins, TLS behind a proxy, and how long finished jobs stay.</summary>
public sealed class OriginAndTransportTests(ProxiedServerFixture server) : IClassFixture<ProxiedServerFixture>
{
    private static HttpRequestMessage Negotiate(string? origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, EventsHub.Path + "/negotiate?negotiateVersion=1");
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        return request;
    }

    [Fact]
    public async Task A_page_of_another_origin_cannot_open_the_live_hub_or_write_with_the_session_cookie()
    {
        using var client = await server.SignedIn("ana");
        // Another port of the same host is another origin, though SameSite cookies travel there.
        var foreign = $"http://127.0.0.1:{server.BaseAddress.Port + 1}";
        var refused = await client.SendAsync(Negotiate(foreign));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("Server:AllowedOrigins", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(Negotiate("null"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Negotiate(server.BaseAddress.GetLeftPart(UriPartial.Authority)))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Negotiate(ProxiedServerFixture.Allowed))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Negotiate(null))).StatusCode);

        // The WebSocket itself (browsers always send Origin on it).
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Origin", foreign);
        var ws = new UriBuilder(server.BaseAddress) { Scheme = "ws", Path = EventsHub.Path }.Uri;
        var error = await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(ws, CancellationToken.None));
        Assert.Contains("403", error.Message);

        // A write with a valid session and antiforgery token, made from a foreign page: refused, nothing created.
        var write = new HttpRequestMessage(HttpMethod.Post, "/api/sites") { Content = JsonContent.Create(new { name = "from-elsewhere", aoi = JsonDocument.Parse(ServerFixture.Aoi).RootElement }) };
        write.Headers.Add("Origin", foreign);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(write)).StatusCode);
        var sites = await client.GetFromJsonAsync<JsonElement>("/api/sites");
        Assert.DoesNotContain(sites.GetProperty("items").EnumerateArray(), s => s.GetProperty("name").GetString() == "from-elsewhere");
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_https_answers_carry_hsts_and_secure_cookies_and_nobody_else_can_claim_https()
    {
        // The fixture trusts 127.0.0.1 as a proxy: what it forwards counts.
        using var client = server.Client();
        var login = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = JsonContent.Create(new { username = "ana", password = ServerFixture.Password }) };
        login.Headers.Add("X-Forwarded-Proto", "https");
        var answer = await client.SendAsync(login);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.StartsWith("max-age=", answer.Headers.GetValues("Strict-Transport-Security").Single());
        var cookie = answer.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("sitewatch.session=", StringComparison.Ordinal));
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        // Plain http through the proxy: no HSTS (browsers ignore it there) and a cookie without Secure.
        using var plain = server.Client();
        var http = await plain.PostAsJsonAsync("/api/auth/login", new { username = "ana", password = ServerFixture.Password });
        Assert.False(http.Headers.Contains("Strict-Transport-Security"));
        Assert.DoesNotContain("secure", http.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("sitewatch.session=", StringComparison.Ordinal)), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_server_that_trusts_no_proxy_ignores_forwarded_headers()
    {
        var direct = new ServerFixture();
        await direct.InitializeAsync();
        try
        {
            using var client = direct.Client();
            var login = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = JsonContent.Create(new { username = "ana", password = ServerFixture.Password }) };
            login.Headers.Add("X-Forwarded-Proto", "https");
            login.Headers.Add("X-Forwarded-For", "203.0.113.9");
            var answer = await client.SendAsync(login);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.False(answer.Headers.Contains("Strict-Transport-Security"));
            Assert.DoesNotContain("secure", answer.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("sitewatch.session=", StringComparison.Ordinal)), StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            await direct.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_failed_jobs_error_names_the_file_but_no_server_path()
    {
        var broken = new ServerFixture();
        await broken.InitializeAsync();
        try
        {
            // The stored after scene is gone from disk: the change job fails on it.
            string stored;
            using (var workspace = Core.Catalog.Workspace.Open(broken.WorkspaceDirectory))
            {
                stored = workspace.Resolve(workspace.Catalog.ListScenes(broken.SiteId).Single(s => s.Id == broken.AfterSceneId).File);
            }
            File.Delete(stored);
            using var client = await broken.SignedIn("ana");
            var start = await client.PostAsJsonAsync($"/api/sites/{broken.SiteId}/change", new { before = "2024-03-14", after = "2024-10-15", method = "cva" });
            Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
            var id = (await start.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
            JsonElement state;
            do
            {
                await Task.Delay(100);
                state = await client.GetFromJsonAsync<JsonElement>($"/api/jobs/{id}");
            }
            while (state.GetProperty("state").GetString() is JobStates.Queued or JobStates.Running);
            Assert.Equal(JobStates.Failed, state.GetProperty("state").GetString());
            var error = state.GetProperty("error").GetString()!;
            Assert.DoesNotContain(broken.Root, error);
            Assert.Contains(Path.GetFileName(stored), error);
        }
        finally
        {
            await broken.DisposeAsync();
        }
    }

    [Fact]
    public void Finished_jobs_are_forgotten_after_their_retention_and_beyond_the_cap_while_running_ones_stay()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero));
        var queue = new JobQueue(16, TimeSpan.FromMinutes(60), maxFinished: 2, clock);
        var jobs = Enumerable.Range(0, 4).Select(i => queue.Enqueue("change", 1, "ana", (_, _, _) => null)).ToList();
        // Three finish (oldest first), one keeps running.
        for (var i = 0; i < 3; i++)
        {
            jobs[i].State = JobStates.Succeeded;
            jobs[i].FinishedUtc = clock.GetUtcNow().UtcDateTime.AddMinutes(i);
        }
        jobs[3].State = JobStates.Running;

        Assert.Null(queue.Find(jobs[0].Id)); // beyond the cap of two finished
        Assert.NotNull(queue.Find(jobs[1].Id));
        Assert.NotNull(queue.Find(jobs[2].Id));
        clock.Now = clock.Now.AddMinutes(62);
        Assert.Null(queue.Find(jobs[1].Id)); // finished 62 minutes ago
        Assert.NotNull(queue.Find(jobs[2].Id)); // 61 - 2 = 60 minutes: still within
        clock.Now = clock.Now.AddHours(5);
        Assert.Equal([jobs[3].Id], queue.All().Select(j => j.Id));
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}

/// <summary>A server that trusts 127.0.0.1 as a TLS-ending proxy and allows one extra origin.</summary>
public sealed class ProxiedServerFixture : ServerFixture
{
    public const string Allowed = "https://analysts.example.org";

    public override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Server:TrustedProxies:0"] = "127.0.0.1",
        ["Server:AllowedOrigins:0"] = Allowed,
    };
}
