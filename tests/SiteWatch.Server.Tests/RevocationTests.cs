using System.Text;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SiteWatch.Core.Catalog;
using SiteWatch.Server.Auth;

namespace SiteWatch.Server.Tests;

/// <summary>
/// Sessions and API keys end when the user is removed, the key revoked or expired, or the password changed; all
/// done as `sitewatch user ...` does it (another connection to the catalog) while the server runs.
/// </summary>
public sealed class RevocationTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private (UserRecord User, string Key) AddUser(string role = UserRoles.Analyst)
    {
        using var workspace = Workspace.Open(server.WorkspaceDirectory);
        var user = UserAccounts.Add(workspace.Catalog, "u" + Guid.NewGuid().ToString("N")[..10], role, ServerFixture.Password);
        return (user, UserAccounts.NewApiKey(workspace.Catalog, user));
    }

    private static void InCatalog(ServerFixture server, Action<SiteCatalog> action)
    {
        using var workspace = Workspace.Open(server.WorkspaceDirectory);
        action(workspace.Catalog);
    }

    private HttpClient WithKey(string key)
    {
        var client = server.Client();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    [Fact]
    public async Task A_deleted_users_session_and_key_answer_401()
    {
        var (user, key) = AddUser();
        using var session = await server.SignedIn(user.Name);
        using var script = WithKey(key);
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/api/sites")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await script.GetAsync("/api/sites")).StatusCode);

        InCatalog(server, c => Assert.True(c.DeleteUser(user.Id)));

        Assert.Equal(HttpStatusCode.Unauthorized, (await session.GetAsync("/api/sites")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await script.GetAsync("/api/sites")).StatusCode);
    }

    [Fact]
    public async Task A_revoked_or_expired_key_answers_401_and_the_users_other_key_still_works()
    {
        var (user, key) = AddUser();
        string other = "", expired = "";
        InCatalog(server, c =>
        {
            other = UserAccounts.NewApiKey(c, user);
            expired = UserAccounts.NewApiKey(c, user, DateTime.UtcNow.AddSeconds(-1));
        });
        using var revokedClient = WithKey(key);
        using var otherClient = WithKey(other);
        Assert.Equal(HttpStatusCode.OK, (await revokedClient.GetAsync("/api/sites")).StatusCode);
        using (var expiredClient = WithKey(expired))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await expiredClient.GetAsync("/api/sites")).StatusCode);
        }

        InCatalog(server, c => Assert.Equal(1, c.RevokeApiKeys(user.Id, key[..9])));

        Assert.Equal(HttpStatusCode.Unauthorized, (await revokedClient.GetAsync("/api/sites")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await otherClient.GetAsync("/api/sites")).StatusCode);
    }

    [Fact]
    public async Task A_password_change_ends_the_sessions_signed_in_before()
    {
        var (user, _) = AddUser();
        using var before = await server.SignedIn(user.Name);
        Assert.Equal(HttpStatusCode.OK, (await before.GetAsync("/api/auth/me")).StatusCode);

        const string newPassword = "a different long password";
        InCatalog(server, c => UserAccounts.SetPassword(c, c.TryGetUser(user.Id)!, newPassword));

        Assert.Equal(HttpStatusCode.Unauthorized, (await before.GetAsync("/api/auth/me")).StatusCode);
        using var again = server.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await again.PostAsJsonAsync("/api/auth/login", new { username = user.Name, password = ServerFixture.Password })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await again.PostAsJsonAsync("/api/auth/login", new { username = user.Name, password = newPassword })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task Admins_revoke_sessions_and_keys_and_remove_users_over_the_API()
    {
        var (user, key) = AddUser();
        using var session = await server.SignedIn(user.Name);
        using var script = WithKey(key);
        using var admin = await server.SignedIn("admin");
        using var viewer = await server.SignedIn("vic");
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.DeleteAsync($"/api/users/{user.Id}")).StatusCode);

        var listed = await admin.GetFromJsonAsync<JsonElement>("/api/users");
        var keyId = listed.EnumerateArray().Single(u => u.GetProperty("id").GetInt64() == user.Id).GetProperty("api_keys")[0].GetProperty("id").GetInt64();

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"/api/users/{user.Id}/sessions/revoke", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await session.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await script.GetAsync("/api/auth/me")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/users/{user.Id}/keys/{keyId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await script.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/api/users/{user.Id}/keys/{keyId}")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/users/{user.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/api/users/{user.Id}")).StatusCode);
        InCatalog(server, c => Assert.Null(c.TryGetUser(user.Id)));
    }
}

/// <summary>Sessions that last at most six seconds (Server:SessionMaxHours), however often they are used.</summary>
public sealed class ShortSessionFixture : ServerFixture
{
    public override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        // Six seconds, not two: under load a sign-in (PBKDF2) and its first request took over two.
        ["Server:SessionMaxHours"] = (6.0 / 3600).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Logging:LogLevel:Default"] = "Warning",
    };

    public override bool WithScenes => false;
}

public sealed class SessionLifetimeTests(ShortSessionFixture server) : IClassFixture<ShortSessionFixture>
{
    [Fact]
    public async Task A_session_ends_after_its_absolute_lifetime_even_while_used()
    {
        // Timed from before the sign-in: the session starts then, and a loaded machine may take a second to sign in.
        var started = DateTime.UtcNow;
        using var client = await server.SignedIn("vic");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        HttpStatusCode status;
        do
        {
            await Task.Delay(250);
            status = (await client.GetAsync("/api/auth/me")).StatusCode;
        }
        while (status == HttpStatusCode.OK && DateTime.UtcNow - started < TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(5), "the session ended before its lifetime");
    }
}

/// <summary>One login checked at a time (two more may wait), and many attempts per user allowed.</summary>
public sealed class OneLoginAtATimeFixture : ServerFixture
{
    public override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Server:MaxConcurrentLogins"] = "1",
        ["Server:LoginPermitsPerMinute"] = "1000",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    public override bool WithScenes => false;
}

public sealed class LoginConcurrencyTests(OneLoginAtATimeFixture server) : IClassFixture<OneLoginAtATimeFixture>
{
    /// <summary>
    /// A login over a raw connection that stays in flight until released: its body starts with whitespace (valid JSON
    /// padding) sent in small pieces, well above Kestrel's minimum body data rate (240 bytes/s after 5 s), so neither a
    /// login being checked nor one waiting in the limiter's queue times out; once released, the rest follows. A
    /// login the limiter refuses is answered at once, before its body, and the server closes the connection.
    /// </summary>
    private sealed class HeldLogin : IDisposable
    {
        private readonly System.Net.Sockets.TcpClient _tcp = new();

        /// <summary>The whole answer (status line, headers, body), when the server has sent it and closed the connection.</summary>
        public Task<string> Answer { get; private set; } = Task.FromResult("");

        public int? Status => Answer.IsCompletedSuccessfully && Answer.Result.Split(' ') is [_, var code, ..] && int.TryParse(code, out var s) ? s : null;

        public static async Task<HeldLogin> Start(Uri server, string json, Task release)
        {
            var held = new HeldLogin();
            await held._tcp.ConnectAsync(server.Host, server.Port);
            var stream = held._tcp.GetStream();
            var padding = new byte[64 * 1024];
            Array.Fill(padding, (byte)' ');
            var body = Encoding.UTF8.GetBytes(json);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /api/auth/login HTTP/1.1\r\nHost: {server.Authority}\r\nContent-Type: application/json\r\nContent-Length: {padding.Length + body.Length}\r\nConnection: close\r\n\r\n"));
            await stream.FlushAsync();
            held.Answer = ReadAnswer(stream);
            _ = held.Trickle(stream, padding, body, release);
            return held;
        }

        /// <summary>
        /// Everything the server sends until it closes. A refused login's connection still has body bytes the server
        /// never read, so it closes with a reset; the answer has arrived by then and is kept.
        /// </summary>
        private static async Task<string> ReadAnswer(Stream stream)
        {
            var received = new MemoryStream();
            var buffer = new byte[4096];
            try
            {
                int n;
                while ((n = await stream.ReadAsync(buffer)) > 0)
                {
                    received.Write(buffer, 0, n);
                }
            }
            catch (IOException) when (received.Length > 0)
            {
            }
            return Encoding.ASCII.GetString(received.ToArray());
        }

        private async Task Trickle(Stream stream, byte[] padding, byte[] body, Task release)
        {
            try
            {
                // 64 bytes every 50 ms (about 1.3 kB/s) lasts 50 s, longer than the test holds them.
                const int piece = 64;
                var offset = 0;
                while (!release.IsCompleted && !Answer.IsCompleted && offset + piece < padding.Length)
                {
                    await stream.WriteAsync(padding.AsMemory(offset, piece));
                    offset += piece;
                    await Task.WhenAny(release, Task.Delay(50));
                }
                if (!Answer.IsCompleted)
                {
                    await stream.WriteAsync(padding.AsMemory(offset));
                    await stream.WriteAsync(body);
                }
            }
            catch (IOException)
            {
                // Refused and closed by the server: its answer is in Answer.
            }
        }

        public void Dispose() => _tcp.Dispose();
    }

    [Fact]
    public async Task Logins_beyond_the_concurrency_limit_answer_429_while_other_routes_answer()
    {
        using var client = server.Client();
        // One login being checked and two waiting fill the limiter (1 + a queue of 2). Logins are started one after
        // another, all held in flight, until one is refused: whichever order they reach the limiter in (a loaded
        // machine dispatches them late and out of order), the fourth to arrive is answered 429 at once.
        var release = new TaskCompletionSource();
        var held = new List<HeldLogin>();
        try
        {
            HeldLogin? refused = null;
            for (var i = 0; i < 12 && refused is null; i++)
            {
                held.Add(await HeldLogin.Start(client.BaseAddress!, $$"""{"username":"admin","password":"wrong password {{i}}"}""", release.Task));
                if (held.Count >= 4)
                {
                    await Task.WhenAny(held.Select(h => (Task)h.Answer).Append(Task.Delay(1000)));
                }
                refused = held.FirstOrDefault(h => h.Answer.IsCompleted);
            }
            Assert.True(refused is not null, $"no login refused while {held.Count} were held");
            Assert.True(refused!.Status == 429, "a held login was answered before its body was sent: " + await refused.Answer);
            var answer = await refused.Answer;
            Assert.Contains("Retry-After:", answer, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("at once", answer);

            // PBKDF2 runs outside the workspace lock, and other routes are not limited: the catalog answers meanwhile.
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);

            release.SetResult();
            // The ones the limiter took are checked in turn and fail on their wrong passwords; none is lost.
            var statuses = new List<int?>();
            foreach (var h in held)
            {
                await h.Answer.WaitAsync(TimeSpan.FromSeconds(60));
                statuses.Add(h.Status);
            }
            Assert.All(statuses, s => Assert.True(s is 401 or 429, $"statuses: {string.Join(", ", statuses)}"));
            Assert.True(statuses.Count(s => s == 401) >= 3, $"statuses: {string.Join(", ", statuses)}");
        }
        finally
        {
            release.TrySetResult();
            held.ForEach(h => h.Dispose());
        }
    }
}
