using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SiteWatch.Core.Catalog;
using SiteWatch.Server.Auth;

namespace SiteWatch.Server.Tests;

public sealed class AccessTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Theory]
    [InlineData("/api/sites")]
    [InlineData("/api/sites/1")]
    [InlineData("/api/scenes/1/cog")]
    [InlineData("/api/scenes/1/tiles/16/0/0.png")]
    [InlineData("/api/jobs")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/docs")]
    [InlineData("/api/schemas/zones")]
    [InlineData("/api/schemas/rules")]
    [InlineData("/api/changes/1/tiles/16/0/0.png")]
    [InlineData("/api/changes/1/quicklook.png")]
    public async Task Without_a_session_everything_but_health_version_and_login_answers_401(string path)
    {
        using var client = server.Client();
        var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        var version = await client.GetFromJsonAsync<JsonElement>("/version");
        Assert.Equal("sitewatch", version.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Login_gives_a_cookie_session_with_the_users_role_and_security_headers()
    {
        using var client = await server.SignedIn("vic");
        var me = await client.GetFromJsonAsync<JsonElement>("/api/auth/me");
        Assert.Equal("vic", me.GetProperty("user").GetString());
        Assert.Equal("viewer", me.GetProperty("role").GetString());
        var response = await client.GetAsync("/api/sites");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sites = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(sites.GetProperty("items").EnumerateArray(), s => s.GetProperty("name").GetString() == "plant");
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/openapi/v1.json")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("/api/auth/logout", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/sites")).StatusCode);
    }

    [Fact]
    public async Task A_viewer_cannot_write()
    {
        using var client = await server.SignedIn("vic");
        var create = await client.PostAsJsonAsync("/api/sites", new { name = "viewer-site", aoi = JsonDocument.Parse(ServerFixture.Aoi).RootElement });
        Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.DeleteAsync($"/api/sites/{server.SiteId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/change", new { before = "2024-03-14", after = "2024-10-15" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/users")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/sites/{server.SiteId}")).StatusCode);
    }

    [Fact]
    public async Task A_cross_site_post_with_the_cookie_but_without_the_antiforgery_token_is_refused()
    {
        using var client = server.Client();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/auth/login", new { username = "ana", password = ServerFixture.Password })).StatusCode);
        var create = await client.PostAsJsonAsync("/api/sites", new { name = "csrf-site", aoi = JsonDocument.Parse(ServerFixture.Aoi).RootElement });
        Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
        Assert.Contains("antiforgery", await create.Content.ReadAsStringAsync());
        // A token from another session does not pass either.
        using var other = await server.SignedIn("admin");
        client.DefaultRequestHeaders.Add("X-XSRF-TOKEN", other.DefaultRequestHeaders.GetValues("X-XSRF-TOKEN").Single());
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync("/api/sites", new { name = "csrf-site", aoi = JsonDocument.Parse(ServerFixture.Aoi).RootElement })).StatusCode);
        using var check = await server.SignedIn("ana");
        var sites = await check.GetFromJsonAsync<JsonElement>("/api/sites");
        Assert.DoesNotContain(sites.GetProperty("items").EnumerateArray(), s => s.GetProperty("name").GetString() == "csrf-site");
    }

    [Fact]
    public async Task An_api_key_authenticates_scripts_and_is_stored_only_as_its_hash()
    {
        string key;
        using (var workspace = Workspace.Open(server.WorkspaceDirectory))
        {
            key = UserAccounts.NewApiKey(workspace.Catalog, workspace.Catalog.TryGetUser("ana")!);
            var hashes = workspace.Catalog.ApiKeyHashes();
            Assert.DoesNotContain(key, hashes);
            Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))), hashes);
        }
        Assert.StartsWith("sw_", key);
        using var client = server.Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var me = await client.GetFromJsonAsync<JsonElement>("/api/auth/me");
        Assert.Equal("ana", me.GetProperty("user").GetString());
        Assert.Equal("api_key", me.GetProperty("via").GetString());
        // Scripts need no antiforgery token: the key is sent explicitly, never ambiently by a browser.
        var create = await client.PostAsJsonAsync("/api/sites", new { name = "scripted", aoi = JsonDocument.Parse(ServerFixture.Aoi).RootElement });
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);

        using var header = server.Client();
        header.DefaultRequestHeaders.Add("X-Api-Key", key);
        Assert.Equal(HttpStatusCode.OK, (await header.GetAsync("/api/sites")).StatusCode);

        using var wrong = server.Client();
        wrong.DefaultRequestHeaders.Add("X-Api-Key", key[..^2] + "xx");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/api/sites")).StatusCode);
    }

    [Theory]
    [InlineData("/api/sites/987654")]
    [InlineData("/api/sites/987654/scenes")]
    [InlineData("/api/scenes/987654")]
    [InlineData("/api/scenes/987654/cog")]
    [InlineData("/api/scenes/987654/tiles/3/1/1.png")]
    [InlineData("/api/changes/987654")]
    [InlineData("/api/changes/987654/objects")]
    [InlineData("/api/detections/987654/features")]
    [InlineData("/api/alerts/987654")]
    [InlineData("/api/alerts/987654/chip.png")]
    [InlineData("/api/jobs/0123456789abcdef")]
    public async Task Unknown_ids_answer_404_problem_details(string path)
    {
        using var client = await server.SignedIn("vic");
        var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(404, problem.GetProperty("status").GetInt32());
        Assert.Contains("no ", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("""{"name":"bad","aoi":{"type":"Polygon","coordinates":[[1,2]]}}""", "aoi")]
    [InlineData("""{"name":"bad","aoi":{"type":"Point","coordinates":[127.49,39.93]}}""", "aoi")]
    [InlineData("""{"name":"bad","aoi":{"coordinates":[]}}""", "aoi")]
    [InlineData("""{"name":"bad"}""", "aoi")]
    [InlineData("""{"aoi":{"type":"Polygon","coordinates":[[[127.4907,39.9278],[127.4923,39.9278],[127.4923,39.9290],[127.4907,39.9278]]]}}""", "name")]
    [InlineData("""{"name":"bad","aoi":""", "request body")]
    [InlineData("""{"name":"bad","gsd":"one","aoi":{"type":"Polygon","coordinates":[[[127.4907,39.9278],[127.4923,39.9278],[127.4923,39.9290],[127.4907,39.9278]]]}}""", "gsd")]
    public async Task Malformed_site_bodies_answer_400_naming_the_field(string body, string field)
    {
        using var client = await server.SignedIn("ana");
        var response = await client.PostAsync("/api/sites", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(field, problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("page_size=abc", "page_size")]
    [InlineData("page_size=100000", "page_size")]
    [InlineData("page=0", "page")]
    public async Task Bad_paging_answers_400_naming_the_parameter(string query, string name)
    {
        using var client = await server.SignedIn("vic");
        var response = await client.GetAsync("/api/sites?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"'{name}'", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_analyst_creates_pages_and_deletes_a_site()
    {
        using var client = await server.SignedIn("ana");
        var create = await client.PostAsJsonAsync("/api/sites", new { name = "to-delete", gsd = 1.0, aoi = JsonDocument.Parse(ServerFixture.Aoi).RootElement });
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var site = await create.Content.ReadFromJsonAsync<JsonElement>();
        var id = site.GetProperty("id").GetInt64();
        Assert.Equal(32652, site.GetProperty("crs_epsg").GetInt32());
        Assert.Equal("Polygon", site.GetProperty("aoi").GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsJsonAsync("/api/sites", new { name = "to-delete", aoi = JsonDocument.Parse(ServerFixture.Aoi).RootElement })).StatusCode);

        var page = await client.GetFromJsonAsync<JsonElement>("/api/sites?page=1&page_size=1");
        Assert.Equal(1, page.GetProperty("items").GetArrayLength());
        Assert.True(page.GetProperty("total").GetInt32() >= 2);

        // While a watch records a flight of the site, the delete is refused with 409 and the site stays.
        long recording;
        using (var workspace = Workspace.Open(server.WorkspaceDirectory))
        {
            var row = workspace.Catalog.StartRecording(id, "flight.ts", "file", null, r => $"recordings/{r}");
            recording = row.Id;
            Directory.CreateDirectory(workspace.Resolve(row.Directory));
            File.WriteAllText(Path.Combine(workspace.Resolve(row.Directory), RecordingLiveness.FramesFile), "{}\n");
        }
        var refused = await client.DeleteAsync($"/api/sites/{id}");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("stop its watch first", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/sites/{id}")).StatusCode);
        using (var workspace = Workspace.Open(server.WorkspaceDirectory))
        {
            Assert.True(workspace.Catalog.EndRecording(recording, 1, 0, 1.0, null, null));
        }

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/sites/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/sites/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/sites/{id}")).StatusCode);
    }
}

public sealed class LoginTests(StrictLoginFixture server) : IClassFixture<StrictLoginFixture>
{
    [Fact]
    public async Task Wrong_password_and_unknown_user_answer_alike_and_logins_are_rate_limited()
    {
        using var client = server.Client();
        var wrong = await client.PostAsJsonAsync("/api/auth/login", new { username = "admin", password = "not the password at all" });
        var unknown = await client.PostAsJsonAsync("/api/auth/login", new { username = "nobody-here", password = "not the password at all" });
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        var wrongBody = await wrong.Content.ReadFromJsonAsync<JsonElement>();
        var unknownBody = await unknown.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(wrongBody.GetProperty("detail").GetString(), unknownBody.GetProperty("detail").GetString());
        Assert.Equal(wrongBody.GetProperty("title").GetString(), unknownBody.GetProperty("title").GetString());
        Assert.False(wrong.Headers.Contains("Set-Cookie"));

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsJsonAsync("/api/auth/login", new { username = "admin", password = "guess three" })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsJsonAsync("/api/auth/login", new { username = "ADMIN", password = "guess four" })).StatusCode);
        // The limit (3 a minute per user name and address here) is reached: even the right password waits.
        var limited = await client.PostAsJsonAsync("/api/auth/login", new { username = "admin", password = ServerFixture.Password });
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.Contains("Retry-After"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/sites")).StatusCode);
        // Another user behind the same address is not locked out by guesses at admin.
        using var colleague = server.Client();
        Assert.Equal(HttpStatusCode.OK, (await colleague.PostAsJsonAsync("/api/auth/login", new { username = "vic", password = ServerFixture.Password })).StatusCode);
    }
}
