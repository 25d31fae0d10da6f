using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using SiteWatch.Core.Geo;
using SiteWatch.Gdal;
using SiteWatch.Server.Tests;

namespace SiteWatch.Web.Tests;

/// <summary>
/// The site view's notes, products, scene upload and change rasters in Debian's chromium against the real server,
/// each checked against what the API then holds. A fixture of their own: uploads add scenes.
/// </summary>
public sealed class PanelTests(WebFixture server) : IClassFixture<WebFixture>
{
    private async Task<JsonElement> Api(string path)
    {
        using var client = await server.SignedIn("admin");
        return await client.GetFromJsonAsync<JsonElement>(path);
    }

    private static async Task<float[]> ScreenPoint(IPage page, double lon, double lat) =>
        await page.EvaluateAsync<float[]>(string.Create(CultureInfo.InvariantCulture,
            $"() => {{ const m = window.sitewatch.map; const p = m.project([{lon:R}, {lat:R}]); const r = m.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }}"));

    [Fact]
    public async Task An_analyst_keeps_a_note_with_the_reference_outline_sees_a_bad_link_refused_and_deletes_it()
    {
        var page = await server.SignIn("ana");
        await server.OpenSite(page, $"?a={WebFixture.LastDate}&b={WebFixture.MidDate}");
        // A 60 m x 40 m reference outline, drawn corner by corner (UTM 52N metres).
        var corners = GeometryProjection.Transform(WebFixture.Rectangle(371_020, 4_420_890, 371_080, 4_420_930), 32652, 4326).Coordinates.Select(c => (c.X, c.Y)).ToArray();
        await page.ClickAsync("button[data-tool=reference]");
        foreach (var (lon, lat) in corners.Take(4).Append(corners[0]))
        {
            var p = await ScreenPoint(page, lon, lat);
            await page.Mouse.ClickAsync(p[0], p[1]);
        }
        await page.WaitForSelectorAsync("li[data-measure=reference]");

        var form = page.Locator("[data-testid=note-form]");
        await form.Locator("input[name=source]").FillAsync("Press report");
        await form.Locator("input[name=url]").FillAsync("javascript:alert(1)");
        await form.Locator("textarea[name=text]").FillAsync("Hall extension announced");
        await form.Locator("input[name=outline]").CheckAsync();
        // The browser's own URL check would stop the form first; the server's is what this is about.
        await page.EvalOnSelectorAsync("[data-testid=note-form] input[name=url]", "e => e.type = 'text'");
        await form.Locator("button[type=submit]").ClickAsync();
        var error = await page.WaitForSelectorAsync(".notes-panel .form-error:has-text('url')");
        Assert.Contains("not an absolute http or https URL", await error!.InnerTextAsync());
        Assert.Equal(0, (await Api($"/api/sites/{server.SiteId}/notes")).GetArrayLength());

        // What was typed is kept; with a real link the note is stored with the outline.
        await page.FillAsync("[data-testid=note-form] input[name=url]", "https://example.org/hall");
        await page.CheckAsync("[data-testid=note-form] input[name=outline]");
        await page.ClickAsync("[data-testid=note-form] button[type=submit]");
        await page.WaitForSelectorAsync("[data-testid=note-count]:has-text('1')");
        var note = (await Api($"/api/sites/{server.SiteId}/notes"))[0];
        Assert.Equal(WebFixture.LastDate, note.GetProperty("date").GetString());
        Assert.Equal("Press report", note.GetProperty("source").GetString());
        Assert.Equal("https://example.org/hall", note.GetProperty("url").GetString());
        Assert.Equal("Polygon", note.GetProperty("outline").GetProperty("type").GetString());
        Assert.InRange(note.GetProperty("outline_m2").GetDouble(), 2400 * 0.98, 2400 * 1.02);
        var link = page.Locator(".note-list a[href='https://example.org/hall']");
        Assert.Equal("noopener noreferrer", await link.GetAttributeAsync("rel"));
        await WebFixture.Screenshot(page, "11-notes");

        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await page.ClickAsync($"button[data-delete-note='{note.GetProperty("id").GetInt64()}']");
        await page.WaitForSelectorAsync("[data-testid=note-count]:has-text('0')");
        Assert.Equal(0, (await Api($"/api/sites/{server.SiteId}/notes")).GetArrayLength());
        await page.CloseAsync();
    }

    [Fact]
    public async Task A_viewer_reads_notes_but_gets_no_form_no_products_and_no_upload()
    {
        using (var client = await server.SignedIn("ana"))
        {
            var created = await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/notes", new { date = WebFixture.FirstDate, source = "analyst", text = "Baseline date" });
            Assert.True(created.IsSuccessStatusCode);
        }
        var page = await server.SignIn("vic");
        await server.OpenSite(page);
        await page.WaitForSelectorAsync(".note-list li:has-text('Baseline date')");
        Assert.Equal(0, await page.Locator("[data-testid=note-form]").CountAsync());
        Assert.Equal(0, await page.Locator("button[data-delete-note]").CountAsync());
        Assert.Equal(0, await page.Locator(".products-panel").CountAsync());
        Assert.Equal(0, await page.Locator("[data-testid=upload-form]").CountAsync());
        await page.CloseAsync();
    }

    [Fact]
    public async Task The_report_and_a_geopackage_export_are_made_by_jobs_and_download_from_their_links()
    {
        var page = await server.SignIn("ana");
        await server.OpenSite(page);
        await page.ClickAsync("button[data-product=report]");
        var report = await page.WaitForSelectorAsync(".products-panel .job[data-product=report][data-state=succeeded]", new PageWaitForSelectorOptions { Timeout = 120_000 });
        var pdf = await report!.QuerySelectorAsync("a.download[data-file=pdf]");
        var html = await report.QuerySelectorAsync("a.download[data-file=html]");
        Assert.NotNull(pdf);
        Assert.NotNull(html);
        // The links download with the page's own session.
        var pdfBytes = await (await page.APIRequest.GetAsync((await pdf!.GetAttributeAsync("href"))!)).BodyAsync();
        Assert.Equal("%PDF", Encoding.ASCII.GetString(pdfBytes, 0, 4));
        var htmlText = await (await page.APIRequest.GetAsync((await html!.GetAttributeAsync("href"))!)).TextAsync();
        Assert.Contains("plant", htmlText);

        await page.SelectOptionAsync("select[name=export-format]", "gpkg");
        await page.ClickAsync("button[data-product=export]");
        var export = await page.WaitForSelectorAsync(".products-panel .job[data-product=export][data-state=succeeded]", new PageWaitForSelectorOptions { Timeout = 120_000 });
        var gpkg = await export!.QuerySelectorAsync("a.download[data-file=export]");
        var bytes = await (await page.APIRequest.GetAsync((await gpkg!.GetAttributeAsync("href"))!)).BodyAsync();
        Assert.Equal("SQLite format 3", Encoding.ASCII.GetString(bytes, 0, 15));
        Assert.EndsWith(".gpkg", await gpkg.InnerTextAsync());
        await WebFixture.Screenshot(page, "12-products");
        await page.CloseAsync();
    }

    [Fact]
    public async Task An_upload_shows_its_progress_becomes_a_scene_on_the_timeline_and_a_non_raster_is_refused_with_the_servers_reason()
    {
        var page = await server.SignIn("ana");
        await server.OpenSite(page);
        var before = (await Api($"/api/sites/{server.SiteId}/scenes")).GetProperty("total").GetInt32();

        var bad = Path.Combine(server.Root, "notes.tif");
        File.WriteAllText(bad, "not a raster at all");
        await page.SetInputFilesAsync("[data-testid=upload-form] input[type=file]", bad);
        await page.ClickAsync("[data-testid=upload-form] button[type=submit]");
        var refused = await page.WaitForSelectorAsync(".upload-panel .job[data-state=failed]");
        Assert.Contains("upload", await refused!.InnerTextAsync());

        // A real GeoTIFF of the site, dated by the form (its metadata has no date): the later scene with a new shed.
        var file = Scenes.Write(Path.Combine(server.Root, "upload.tif"), after: true);
        using (var raster = RasterDataset.Open(file, update: true))
        {
            var shed = Enumerable.Repeat((ushort)5000, 10 * 10).ToArray();
            for (var b = 1; b <= raster.BandCount; b++)
            {
                raster.Write<ushort>(b, new RasterWindow(20, 20, 10, 10), shed);
            }
        }
        await page.SetInputFilesAsync("[data-testid=upload-form] input[type=file]", file);
        await page.FillAsync("[data-testid=upload-form] input[name=date]", "2024-12-01");
        await page.ClickAsync("[data-testid=upload-form] button[type=submit]");
        var done = await page.WaitForSelectorAsync(".upload-panel .job[data-upload='upload.tif'][data-state=succeeded]", new PageWaitForSelectorOptions { Timeout = 120_000 });
        Assert.Contains("added", await done!.InnerTextAsync());
        Assert.Equal(1.0, double.Parse((await page.EvalOnSelectorAsync<string>(".upload-panel .job[data-upload='upload.tif'] progress", "p => String(p.value)"))!, CultureInfo.InvariantCulture));
        Assert.Equal(before + 1, (await Api($"/api/sites/{server.SiteId}/scenes")).GetProperty("total").GetInt32());
        // The page shows the new date.
        await page.WaitForFunctionAsync("() => location.hash.includes('a=2024-12-01')");
        await WebFixture.MapReady(page);
        await WebFixture.Screenshot(page, "13-upload");
        await page.CloseAsync();
    }

    [Fact]
    public async Task The_change_magnitude_and_mask_layers_draw_the_runs_tiles_with_their_legend()
    {
        var page = await server.SignIn("vic");
        var tiles = new List<(string Url, int Status)>();
        page.Response += (_, r) =>
        {
            if (r.Url.Contains("/api/changes/", StringComparison.Ordinal) && r.Url.Contains("/tiles/", StringComparison.Ordinal))
            {
                lock (tiles)
                {
                    tiles.Add((r.Url, r.Status));
                }
            }
        };
        await server.OpenSite(page, $"?a={WebFixture.LastDate}&b={WebFixture.MidDate}&layers=changes,magnitude,mask");
        var runId = await page.EvaluateAsync<int>("() => window.sitewatch.changeRunId");
        var threshold = (await Api($"/api/changes/{runId}")).GetProperty("summary").GetProperty("threshold").GetDouble();
        var legend = await page.WaitForSelectorAsync("[data-legend=magnitude] .muted");
        Assert.Contains(threshold.ToString("G4", CultureInfo.InvariantCulture)[..4], await legend!.InnerTextAsync());
        await page.WaitForSelectorAsync("[data-legend=mask] .entry:has-text('changed')");
        Assert.Equal("visible", await page.EvaluateAsync<string>("() => window.sitewatch.map.getLayoutProperty('change-magnitude', 'visibility') ?? 'visible'"));
        lock (tiles)
        {
            Assert.Contains(tiles, t => t.Url.Contains($"/api/changes/{runId}/tiles/", StringComparison.Ordinal) && t.Url.Contains("layer=magnitude", StringComparison.Ordinal) && t.Status == 200);
            Assert.Contains(tiles, t => t.Url.Contains("layer=mask", StringComparison.Ordinal) && t.Status == 200);
        }
        await WebFixture.Screenshot(page, "14-change-rasters");

        // Switched off, the layer hides and the URL forgets it.
        await page.UncheckAsync("input[name=layer][value=magnitude]");
        Assert.Equal("none", await page.EvaluateAsync<string>("() => window.sitewatch.map.getLayoutProperty('change-magnitude', 'visibility')"));
        await page.WaitForFunctionAsync("() => !location.hash.includes('magnitude')");
        await page.CloseAsync();
    }
}
