using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SiteWatch.Core;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Server.Tests;

/// <summary>Failures answer with the right status and never with a path of the server's filesystem.</summary>
public sealed class ErrorAnswerTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Engine_problems_name_the_requests_field_and_the_apis_remedy_never_a_command_line_option()
    {
        using var client = await server.SignedIn("ana");
        var accepted = await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/change", new { before = "2024-03-14", after = "2024-03-14" });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        JsonElement job;
        do
        {
            await Task.Delay(50);
            job = await client.GetFromJsonAsync<JsonElement>(accepted.Headers.Location!);
        }
        while (job.GetProperty("state").GetString() is "queued" or "running");
        Assert.Equal("failed", job.GetProperty("state").GetString());
        var error = job.GetProperty("error").GetString()!;
        Assert.StartsWith("field 'after': names the same scene (2024-03-14)", error);
        Assert.DoesNotContain("--", error);
    }

    [Fact]
    public async Task A_read_only_workspace_answers_500_storage_errors_without_its_path()
    {
        using var client = await server.SignedIn("ana");
        var root = server.WorkspaceDirectory;
        var catalog = Path.Combine(root, Workspace.CatalogFileName);
        var rootMode = File.GetUnixFileMode(root);
        var catalogMode = File.GetUnixFileMode(catalog);
        var bodies = new List<string>();
        try
        {
            File.SetUnixFileMode(catalog, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            File.SetUnixFileMode(root, rootMode & ~(UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));

            var create = await client.PostAsJsonAsync("/api/sites", new { name = "ro-site", aoi = JsonDocument.Parse(ServerFixture.Aoi).RootElement });
            Assert.Equal(HttpStatusCode.InternalServerError, create.StatusCode);
            var delete = await client.DeleteAsync($"/api/sites/{server.SiteId}");
            Assert.Equal(HttpStatusCode.InternalServerError, delete.StatusCode);
            var upload = await client.PostAsync($"/api/sites/{server.SiteId}/scenes?filename=a.tif", new ByteArrayContent("II*\0"u8.ToArray()));
            Assert.Equal(HttpStatusCode.InternalServerError, upload.StatusCode);
            foreach (var response in new[] { create, delete, upload })
            {
                var text = await response.Content.ReadAsStringAsync();
                bodies.Add(text);
                var detail = JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString()!;
                Assert.Contains("read-only", detail);
                Assert.StartsWith("storage error", detail);
            }
        }
        finally
        {
            File.SetUnixFileMode(root, rootMode);
            File.SetUnixFileMode(catalog, catalogMode);
        }

        // Bad input stays 400.
        var bad = await client.PostAsJsonAsync("/api/sites", new { name = "bad-aoi", aoi = new { type = "Point", coordinates = new[] { 1.0, 2.0 } } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        bodies.Add(await bad.Content.ReadAsStringAsync());

        // A stored file gone missing names the scene, not the file.
        using var viewer = await server.SignedIn("vic");
        foreach (var path in new[] { "/api/scenes/999999/cog", "/api/sites/abc", "/api/nothing/here", $"/api/scenes/{server.BeforeSceneId}/tiles/99/0/0.png" })
        {
            bodies.Add(await (await viewer.GetAsync(path)).Content.ReadAsStringAsync());
        }
        foreach (var body in bodies)
        {
            Assert.DoesNotContain(server.WorkspaceDirectory, body);
            Assert.DoesNotContain(server.Root, body);
            Assert.DoesNotContain(Path.GetTempPath(), body);
        }
    }

    [Fact]
    public void Busy_catalogs_and_lock_timeouts_are_503_storage_faults_500_and_bad_input_400()
    {
        const string root = "/srv/sitewatch/plant";
        Assert.Equal(503, ErrorMapping.StatusOf(new SiteWatchException($"{root}/sitewatch.db: the catalog is locked by another process; nothing was changed", new SqliteException("database is locked", 5)), root));
        Assert.Equal(503, ErrorMapping.StatusOf(new SiteWatchException("another SiteWatch process has been working on site 1 for over 10 min", new TimeoutException()), root));
        Assert.Equal(500, ErrorMapping.StatusOf(new SiteWatchException($"{root}/sitewatch.db: the disk is full; nothing was changed", new SqliteException("disk full", 13)), root));
        Assert.Equal(500, ErrorMapping.StatusOf(new SiteWatchException($"{root}: the workspace is read-only; nothing was changed"), root));
        Assert.Equal(500, ErrorMapping.StatusOf(new SiteWatchException("copy failed", new IOException("No space left on device")), root));
        Assert.Equal(400, ErrorMapping.StatusOf(new SiteWatchException("field 'aoi': not a polygon"), root));
    }

    [Theory]
    [InlineData("/srv/sitewatch/plant/sitewatch.db: the disk is full", "workspace/sitewatch.db: the disk is full")]
    [InlineData("/srv/sitewatch/plant: the workspace is read-only", "workspace: the workspace is read-only")]
    [InlineData("/home/ana/data/scene.tif: no georeference", "scene.tif: no georeference")]
    [InlineData("cannot read '/etc/passwd'", "cannot read 'passwd'")]
    [InlineData("send the X-XSRF-TOKEN header from GET /api/auth/antiforgery", "send the X-XSRF-TOKEN header from GET /api/auth/antiforgery")]
    [InlineData("see https://example.org/a/b", "see https://example.org/a/b")]
    public void Redaction_keeps_the_message_and_drops_server_paths(string text, string expected) =>
        Assert.Equal(expected, ErrorMapping.Redact(text, "/srv/sitewatch/plant"));
}
