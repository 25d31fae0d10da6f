using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SiteWatch.Server.Jobs;

namespace SiteWatch.Server.Tests;

/// <summary>Reports and timelapses made by jobs and downloaded from the job's files: only the names it wrote, only when it succeeded.</summary>
public sealed class ProductTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static async Task<JsonElement> Finished(HttpClient client, HttpResponseMessage started)
    {
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        for (var i = 0; i < 600; i++)
        {
            var job = await client.GetFromJsonAsync<JsonElement>($"/api/jobs/{id}");
            if (job.GetProperty("state").GetString() is not (JobStates.Queued or JobStates.Running))
            {
                return job;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"job {id} did not finish");
    }

    [Fact]
    public async Task An_analyst_gets_the_site_report_as_pdf_and_html_attachments()
    {
        using var client = await server.SignedIn("ana");
        var job = await Finished(client, await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/report", new { paper = "letter" }));
        Assert.Equal(JobStates.Succeeded, job.GetProperty("state").GetString());
        var files = job.GetProperty("result").GetProperty("files");

        var pdf = await client.GetAsync(files.GetProperty("pdf").GetString());
        Assert.Equal(HttpStatusCode.OK, pdf.StatusCode);
        Assert.Equal("application/pdf", pdf.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", pdf.Content.Headers.ContentDisposition!.DispositionType);
        Assert.StartsWith("%PDF-", System.Text.Encoding.ASCII.GetString((await pdf.Content.ReadAsByteArrayAsync())[..5]));
        var html = await client.GetAsync(files.GetProperty("html").GetString());
        Assert.Equal("attachment", html.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Contains("plant", await html.Content.ReadAsStringAsync());

        // Names the job did not write, and paths out of its folder, find nothing.
        var id = job.GetProperty("id").GetString();
        foreach (var name in new[] { "other.pdf", "..%2F..%2Fsitewatch.db", "%2E%2E%252Fetc%252Fpasswd", "..%5Csitewatch.db", ".%2Fplant.pdf" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/jobs/{id}/files/{name}")).StatusCode);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/jobs/not-a-job/files/x.pdf")).StatusCode);
    }

    [Fact]
    public async Task A_timelapse_is_made_as_gif_and_bad_requests_are_refused()
    {
        using var client = await server.SignedIn("ana");
        var job = await Finished(client, await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/timelapse", new { format = "gif", size = 128, fps = 2 }));
        Assert.True(job.GetProperty("state").GetString() == JobStates.Succeeded, job.ToString());
        Assert.Equal(2, job.GetProperty("result").GetProperty("frames").GetInt32());
        var gif = await client.GetByteArrayAsync(job.GetProperty("result").GetProperty("files").GetProperty("timelapse").GetString());
        Assert.Equal("GIF89a", System.Text.Encoding.ASCII.GetString(gif[..6]));

        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/timelapse", new { format = "avi" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/timelapse", new { size = 100000 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/report", new { from = "last week" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsJsonAsync("/api/sites/987654/report", new { })).StatusCode);

        // A job that fails offers no files: one scene left in the period is too few for a timelapse.
        var failed = await Finished(client, await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/timelapse", new { from = "2024-06-01" }));
        Assert.Equal(JobStates.Failed, failed.GetProperty("state").GetString());
        Assert.Contains("needs at least two", failed.GetProperty("error").GetString());
        var answer = await client.GetAsync($"/api/jobs/{failed.GetProperty("id").GetString()}/files/plant.mp4");
        Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        Assert.Contains("failed", await answer.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Exports_come_as_a_geopackage_or_one_kind_per_file_and_kml_stays_with_the_cli()
    {
        using var client = await server.SignedIn("ana");
        var gpkg = await Finished(client, await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/export", new { format = "gpkg" }));
        Assert.True(gpkg.GetProperty("state").GetString() == JobStates.Succeeded, gpkg.ToString());
        var bytes = await client.GetByteArrayAsync(gpkg.GetProperty("result").GetProperty("files").GetProperty("export").GetString());
        Assert.Equal("SQLite format 3", System.Text.Encoding.ASCII.GetString(bytes[..15]));
        Assert.Contains(gpkg.GetProperty("result").GetProperty("layers").EnumerateArray(), l => l.GetProperty("kind").GetString() == "scenes" && l.GetProperty("features").GetInt32() == 2);

        var scenes = await Finished(client, await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/export", new { format = "geojson", what = "scenes" }));
        var collection = await client.GetFromJsonAsync<JsonElement>(scenes.GetProperty("result").GetProperty("files").GetProperty("export").GetString());
        Assert.Equal("FeatureCollection", collection.GetProperty("type").GetString());
        Assert.Equal(2, collection.GetProperty("features").GetArrayLength());

        var kml = await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/export", new { format = "kml" });
        Assert.Equal(HttpStatusCode.BadRequest, kml.StatusCode);
        Assert.Contains("sitewatch export", await kml.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/export", new { format = "csv" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/export", new { format = "gpkg", what = "../x" })).StatusCode);
    }

    [Fact]
    public async Task A_viewer_cannot_start_one()
    {
        using var client = await server.SignedIn("vic");
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/report", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/timelapse", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/export", new { })).StatusCode);
    }
}
