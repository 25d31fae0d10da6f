using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace SiteWatch.Server.Tests;

/// <summary>A site's notes over the API: created with an outline and listed by date, bad input named, viewers read only.</summary>
public sealed class NoteTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Notes_are_created_listed_and_deleted_and_bad_ones_are_named()
    {
        using var client = await server.SignedIn("ana");
        var url = $"/api/sites/{server.SiteId}/notes";
        var outline = JsonDocument.Parse(ServerFixture.Aoi).RootElement;
        var created = await client.PostAsJsonAsync(url, new { date = "2024-07-02", source = "Press report", url = "https://example.org/a", text = "Hall extension <b>announced</b>", outline });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var note = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(note.GetProperty("outline_m2").GetDouble() > 10_000);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync(url, new { date = "2024-03-01", source = "analyst", text = "Earlier" })).StatusCode);

        var list = await client.GetFromJsonAsync<JsonElement>(url);
        Assert.Equal(["2024-03-01", "2024-07-02"], list.EnumerateArray().Select(n => n.GetProperty("date").GetString()));
        Assert.Equal("Hall extension <b>announced</b>", list[1].GetProperty("text").GetString());
        Assert.Equal("Polygon", list[1].GetProperty("outline").GetProperty("type").GetString());

        foreach (var (bad, field) in new (object Body, string Field)[]
        {
            (new { date = "July", source = "x", text = "t" }, "date"),
            (new { date = "2024-07-02", text = "t" }, "source"),
            (new { date = "2024-07-02", source = "x", text = "t", url = "javascript:alert(1)" }, "url"),
            (new { date = "2024-07-02", source = "x", text = "t", outline = new { type = "Point", coordinates = new[] { 127.49, 39.93 } } }, "outline"),
        })
        {
            var answer = await client.PostAsJsonAsync(url, bad);
            Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
            Assert.Contains(field, await answer.Content.ReadAsStringAsync());
        }
        Assert.Equal(2, (await client.GetFromJsonAsync<JsonElement>(url)).GetArrayLength());

        using var viewer = await server.SignedIn("vic");
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync(url, new { date = "2024-07-02", source = "x", text = "t" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.DeleteAsync($"{url}/{note.GetProperty("id").GetInt64()}")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"{url}/{note.GetProperty("id").GetInt64()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"{url}/{note.GetProperty("id").GetInt64()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/sites/987654/notes")).StatusCode);
        Assert.Single((await client.GetFromJsonAsync<JsonElement>(url)).EnumerateArray());
    }

    [Fact]
    public async Task Alert_rules_are_stored_as_written_checked_by_the_cli_parser_and_hidden_from_viewers()
    {
        using var client = await server.SignedIn("ana");
        var url = $"/api/sites/{server.SiteId}/rules";
        const string rules = """
            // More vehicles than usual; signed webhook.
            {"rules": [{"name": "more vehicles", "kind": "count_above_baseline", "class": "vehicle"}],
             "webhooks": [{"url": "http://127.0.0.1:9/hook", "secret": "s3cret"}]}
            """;
        var stored = await client.PutAsync(url, new StringContent(rules, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        var counts = await stored.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((1, 1), (counts.GetProperty("rules").GetInt32(), counts.GetProperty("webhooks").GetInt32()));
        Assert.Equal(rules, await client.GetStringAsync(url));

        var bad = await client.PutAsync(url, new StringContent("""{"rules": [{"name": "x", "kind": "no_such_kind"}]}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("no_such_kind", await bad.Content.ReadAsStringAsync());
        Assert.Equal(rules, await client.GetStringAsync(url));

        using var viewer = await server.SignedIn("vic");
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync(url)).StatusCode);
    }
}
