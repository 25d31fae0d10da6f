using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using SiteWatch.Core.Geo;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace SiteWatch.Web.Tests;

/// <summary>
/// The web UI in Debian's chromium against the real server: what an analyst does, checked against what the API
/// says. Each test saves a screenshot of its view under TestResults/web-screenshots.
/// </summary>
public sealed class BrowserTests(WebFixture server) : IClassFixture<WebFixture>
{
    private async Task<JsonElement> Api(string path)
    {
        using var client = await server.SignedIn("admin");
        return await client.GetFromJsonAsync<JsonElement>(path);
    }

    private static Task<T> Eval<T>(IPage page, string script) => page.EvaluateAsync<T>(script);

    [Fact]
    public async Task Login_refuses_a_wrong_password_then_signs_in_to_the_sites_with_their_latest_alert()
    {
        await server.Browser.ClearCookiesAsync();
        var page = await server.Browser.NewPageAsync();
        await page.GotoAsync("/");
        await page.WaitForSelectorAsync("form.login");
        await WebFixture.Screenshot(page, "01-login");
        await page.FillAsync("input[name=username]", "ana");
        await page.FillAsync("input[name=password]", "wrong password");
        await page.ClickAsync("button[type=submit]");
        var error = await page.WaitForSelectorAsync(".login .error:not([hidden])");
        Assert.Contains("invalid user name or password", await error!.InnerTextAsync());

        await page.FillAsync("input[name=password]", WebFixture.Password);
        await page.ClickAsync("button[type=submit]");
        var item = await page.WaitForSelectorAsync($".site-item[data-site='{server.SiteId}']");
        Assert.Contains("plant", await item!.InnerTextAsync());
        var latest = (await Api($"/api/sites/{server.SiteId}/alerts?page_size=1")).GetProperty("items")[0];
        Assert.Contains(latest.GetProperty("message").GetString()!, await item.InnerTextAsync());
        Assert.Contains("ana · analyst", await page.InnerTextAsync(".who"));
        // The AOI is drawn on the overview map.
        await page.WaitForFunctionAsync("() => window.sitewatch.map?.loaded() && window.sitewatch.map.queryRenderedFeatures({ layers: ['sites-fill'] }).length === 1");
        await WebFixture.Screenshot(page, "02-sites");
        await page.CloseAsync();
    }

    [Fact]
    public async Task The_site_opens_on_its_last_scene_and_the_arrow_keys_step_the_timeline()
    {
        var page = await server.SignIn("ana");
        var tiles = new List<string>();
        page.Request += (_, r) =>
        {
            if (r.Url.Contains("/tiles/", StringComparison.Ordinal))
            {
                tiles.Add(r.Url);
            }
        };
        await page.ClickAsync($".site-item[data-site='{server.SiteId}'] a");
        await WebFixture.MapReady(page);
        Assert.Equal(3, await page.Locator(".tl-tick").CountAsync());
        Assert.Equal(WebFixture.LastDate, await page.GetAttributeAsync(".tl-tick.current", "data-date"));
        Assert.Contains($"/api/scenes/{server.AfterSceneId}/tiles/", string.Join(" ", tiles));
        // The scene's tiles are drawn: the map canvas is not the empty background.
        Assert.True(await Eval<bool>(page, "() => window.sitewatch.map.areTilesLoaded()"));
        await WebFixture.Screenshot(page, "03-site");

        tiles.Clear();
        await page.Keyboard.PressAsync("ArrowLeft");
        await WebFixture.MapReady(page);
        Assert.Equal(WebFixture.MidDate, await page.GetAttributeAsync(".tl-tick.current", "data-date"));
        Assert.Contains($"a={WebFixture.MidDate}", page.Url);
        Assert.Contains($"/api/scenes/{server.MidSceneId}/tiles/", string.Join(" ", tiles));
        await page.Keyboard.PressAsync("ArrowLeft");
        await page.Keyboard.PressAsync("ArrowLeft");
        await WebFixture.MapReady(page);
        Assert.Equal(WebFixture.FirstDate, await page.GetAttributeAsync(".tl-tick.current", "data-date"));
        await page.Keyboard.PressAsync("ArrowRight");
        await WebFixture.MapReady(page);
        Assert.Equal(WebFixture.MidDate, await page.GetAttributeAsync(".tl-tick.current", "data-date"));
        await WebFixture.Screenshot(page, "04-timeline-stepped");
        await page.CloseAsync();
    }

    [Fact]
    public async Task The_swipe_shows_before_on_the_left_and_after_on_the_right_and_side_by_side_keeps_both_in_step()
    {
        var page = await server.SignIn("ana");
        await server.OpenSite(page, $"?a={WebFixture.LastDate}&b={WebFixture.FirstDate}&mode=swipe");
        Assert.Equal(2, await page.Locator(".maps-host .maplibregl-map").CountAsync());
        Assert.Contains(WebFixture.FirstDate, await page.InnerTextAsync(".badge-before"));
        Assert.Contains(WebFixture.LastDate, await page.InnerTextAsync(".badge-after"));
        Assert.Contains($"/api/scenes/{server.BeforeSceneId}/tiles/", await Eval<string>(page, "() => window.sitewatch.beforeMap.getSource('scene').tiles[0]"));

        var swiper = page.Locator(".compare-swiper-vertical");
        var box = (await swiper.BoundingBoxAsync())!;
        var host = (await page.Locator(".maps-host").BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + box.Width / 2, box.Y + box.Height / 2);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(host.X + (host.Width * 0.25f), box.Y + (box.Height / 2), new MouseMoveOptions { Steps = 5 });
        await page.Mouse.UpAsync();
        // The before map now shows only its left quarter, the after map the rest.
        var clip = await Eval<string>(page, "() => window.sitewatch.beforeMap.getContainer().style.clip");
        var x = double.Parse(System.Text.RegularExpressions.Regex.Match(clip, @"rect\(0px, ([\d.]+)px").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(x, host.Width * 0.2, host.Width * 0.3);
        await WebFixture.Screenshot(page, "05-swipe");

        await page.CheckAsync("input[name=mode][value=side]");
        await WebFixture.MapReady(page);
        Assert.Contains("mode=side", page.Url);
        await Eval<bool>(page, "() => { window.sitewatch.map.jumpTo({ zoom: window.sitewatch.map.getZoom() + 1 }); return true; }");
        var zooms = await Eval<double[]>(page, "() => [window.sitewatch.map.getZoom(), window.sitewatch.beforeMap.getZoom()]");
        Assert.Equal(zooms[0], zooms[1], 6);
        await WebFixture.MapReady(page);
        await WebFixture.Screenshot(page, "06-side-by-side");
        await page.CloseAsync();
    }

    [Fact]
    public async Task Every_change_object_of_the_run_is_drawn_and_its_popup_tells_its_kind_area_and_dates()
    {
        var page = await server.SignIn("ana");
        await server.OpenSite(page, $"?a={WebFixture.MidDate}&b={WebFixture.FirstDate}");
        var runId = await Eval<int>(page, "() => window.sitewatch.changeRunId");
        var run = await Api($"/api/changes/{runId}");
        Assert.Equal(server.BeforeSceneId, run.GetProperty("before_scene_id").GetInt64());
        var objects = (await Api($"/api/changes/{runId}/objects")).GetProperty("features");
        Assert.True(objects.GetArrayLength() > 0, "the run found no change");
        // Zoom out a little so that objects at the grid's edge are inside the view too.
        await Eval<bool>(page, "() => { const m = window.sitewatch.map; m.jumpTo({ zoom: m.getZoom() - 1 }); return true; }");
        await WebFixture.MapReady(page);
        await page.WaitForFunctionAsync($"() => window.sitewatch.drawnChangeObjects() === {objects.GetArrayLength()}", null, new PageWaitForFunctionOptions { Timeout = 10_000 });
        Assert.Equal(objects.GetArrayLength().ToString(CultureInfo.InvariantCulture), await page.InnerTextAsync("[data-testid=change-count]"));

        // Click the largest appeared object: its popup carries the API's figures.
        var largest = objects.EnumerateArray().Where(f => f.GetProperty("properties").GetProperty("kind").GetString() == "appeared")
            .OrderByDescending(f => f.GetProperty("properties").GetProperty("area_m2").GetDouble()).First().GetProperty("properties");
        var point = await Eval<float[]>(page, $"() => {{ const p = window.sitewatch.map.project([{Num(largest.GetProperty("centroid_lon").GetDouble())}, {Num(largest.GetProperty("centroid_lat").GetDouble())}]); const r = window.sitewatch.map.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }}");
        await page.Mouse.ClickAsync(point[0], point[1]);
        var popup = await page.WaitForSelectorAsync(".popup.change");
        var text = await popup!.InnerTextAsync();
        Assert.Contains("appeared", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"{largest.GetProperty("area_m2").GetDouble():N0} m²", text);
        Assert.Contains($"{WebFixture.FirstDate} → {WebFixture.MidDate}", text);
        // The run's picture opens from the popup and is the PNG the run wrote.
        var quicklook = await popup.QuerySelectorAsync("a.quicklook");
        var picture = await page.APIRequest.GetAsync((await quicklook!.GetAttributeAsync("href"))!);
        Assert.Equal("image/png", picture.Headers["content-type"]);
        Assert.Equal(0x89, (await picture.BodyAsync())[0]);
        await WebFixture.Screenshot(page, "07-change-popup");
        await page.CloseAsync();
    }

    [Fact]
    public async Task Clicking_an_alert_opens_its_evidence_chip_and_outline_on_the_map_at_its_dates()
    {
        var page = await server.SignIn("ana");
        await server.OpenSite(page);
        var alerts = (await Api($"/api/sites/{server.SiteId}/alerts")).GetProperty("items");
        var alert = alerts.EnumerateArray().First(a => a.GetProperty("rule").GetString() == "new structure" && a.TryGetProperty("chip", out _));
        var id = alert.GetProperty("id").GetInt64();
        Assert.Equal(alerts.GetArrayLength(), await page.Locator(".alert-list [data-alert]").CountAsync());

        await page.ClickAsync($".alert-list [data-alert='{id}']");
        var evidence = await page.WaitForSelectorAsync($"[data-testid=evidence][data-alert='{id}']");
        Assert.Contains(alert.GetProperty("message").GetString()!, await evidence!.InnerTextAsync());
        await WebFixture.MapReady(page);
        // The chip (before | after) loaded from the server.
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('.evidence img.chip'); return i && i.complete && i.naturalWidth > 0; }");
        // The map shows the alert's date, its outline, and the URL says so.
        var observed = alert.GetProperty("observed_utc").GetString()![..10];
        Assert.Equal(observed, await page.GetAttributeAsync(".tl-tick.current", "data-date"));
        Assert.Contains($"alert={id}", page.Url);
        await page.WaitForFunctionAsync("() => window.sitewatch.map.queryRenderedFeatures({ layers: ['focus-line'] }).length > 0");
        await WebFixture.Screenshot(page, "08-alert-evidence");
        await page.CloseAsync();
    }

    [Fact]
    public async Task Measuring_reads_the_new_structure_against_a_drawn_reference_outline()
    {
        var page = await server.SignIn("ana");
        await server.OpenSite(page, $"?a={WebFixture.LastDate}&b={WebFixture.MidDate}");
        var runId = await Eval<int>(page, "() => window.sitewatch.changeRunId");
        var structure = (await Api($"/api/changes/{runId}/objects")).GetProperty("features").EnumerateArray()
            .Where(f => f.GetProperty("properties").GetProperty("kind").GetString() == "appeared" && !f.GetProperty("properties").GetProperty("shadow").GetBoolean())
            .Max(f => f.GetProperty("properties").GetProperty("area_m2").GetDouble());

        // A 60 m x 40 m reference drawn corner by corner, as an analyst outlines an existing hall (UTM 52N metres).
        var corners = Corners(WebFixture.Rectangle(371_020, 4_420_890, 371_080, 4_420_930));
        await page.ClickAsync("button[data-tool=reference]");
        foreach (var (lon, lat) in corners.Take(4).Append(corners[0]))
        {
            var p = await ScreenPoint(page, lon, lat);
            await page.Mouse.ClickAsync(p[0], p[1]);
        }
        var reference = await page.WaitForSelectorAsync("li[data-measure=reference]");
        var measured = double.Parse((await reference!.GetAttributeAsync("data-value"))!, CultureInfo.InvariantCulture);
        // 2,400 m² on the UTM grid; on the ground a little more (scale factor 0.9998 here); clicks land on whole pixels.
        Assert.InRange(measured, 2400 * 0.99, 2400 * 1.01);
        var sentence = await page.InnerTextAsync("[data-testid=sentence]");
        var expected = string.Create(CultureInfo.InvariantCulture, $"New structure of {structure:N0} m² = {100 * structure / measured:0.0} % of the reference ({measured:N0} m²)");
        Assert.Equal(expected, sentence);

        // Distance: 40 m along the reference's western side.
        await page.ClickAsync("button[data-tool=distance]");
        foreach (var (lon, lat) in new[] { corners[0], corners[1] })
        {
            var p = await ScreenPoint(page, lon, lat);
            await page.Mouse.ClickAsync(p[0], p[1]);
        }
        await page.Keyboard.PressAsync("Enter");
        var distance = await page.WaitForSelectorAsync("li[data-measure=distance]");
        Assert.InRange(double.Parse((await distance!.GetAttributeAsync("data-value"))!, CultureInfo.InvariantCulture), 39.6, 40.4);
        await WebFixture.Screenshot(page, "09-measure");
        await page.CloseAsync();
    }

    [Fact]
    public async Task An_analyst_runs_change_detection_from_the_page_and_watches_it_finish()
    {
        var page = await server.SignIn("ana");
        await server.OpenSite(page, $"?a={WebFixture.LastDate}&b={WebFixture.FirstDate}");
        var before = (await Api($"/api/sites/{server.SiteId}/changes")).GetProperty("total").GetInt32();
        // The method picker offers the server's methods, each with only the thresholds it takes.
        async Task<string[]> Thresholds() => (await page.Locator("select[name=change-threshold] option").AllInnerTextsAsync()).Select(t => t.Trim()).ToArray();
        Assert.Equal("irmad", await page.InputValueAsync("select[name=change-method]"));
        Assert.Contains("chi2", await Thresholds());
        await page.SelectOptionAsync("select[name=change-method]", "cva");
        Assert.DoesNotContain("chi2", await Thresholds());
        Assert.Equal(0, await page.Locator("input[name=segment-metres]").CountAsync());
        await page.SelectOptionAsync("select[name=change-method]", "objects");
        Assert.Contains("RGB", await page.InnerTextAsync("[data-testid=method-description]"));
        await page.SelectOptionAsync("select[name=change-threshold]", "chi2");
        await page.FillAsync("input[name=segment-metres]", "12");
        await page.DispatchEventAsync("input[name=segment-metres]", "change");
        await page.ClickAsync("button[data-run=change]");
        var job = await page.WaitForSelectorAsync(".job[data-state=succeeded]", new PageWaitForSelectorOptions { Timeout = 120_000 });
        Assert.Contains("succeeded", await job!.InnerTextAsync());
        Assert.Contains("(objects)", await job.InnerTextAsync());
        Assert.Equal("live", await page.GetAttributeAsync(".live-state", "data-live"));
        var runs = await Api($"/api/sites/{server.SiteId}/changes");
        Assert.Equal(before + 1, runs.GetProperty("total").GetInt32());
        var newest = runs.GetProperty("items").EnumerateArray().Last();
        Assert.Equal("objects", newest.GetProperty("method").GetString());
        Assert.Equal("chi2", newest.GetProperty("parameters").GetProperty("threshold").GetString());
        Assert.Equal(12, newest.GetProperty("parameters").GetProperty("segment_metres").GetDouble());
        await WebFixture.MapReady(page);
        // The map now shows the run just made (the exact pair of dates).
        Assert.Equal(newest.GetProperty("id").GetInt32(), await Eval<int>(page, "() => window.sitewatch.changeRunId"));
        await WebFixture.Screenshot(page, "10-analysis-job");
        await page.CloseAsync();
    }

    [Fact]
    public async Task A_viewer_sees_no_write_actions_and_the_server_refuses_them_anyway()
    {
        var page = await server.SignIn("vic");
        Assert.Equal(0, await page.Locator(".create-site").CountAsync());
        await server.OpenSite(page);
        Assert.True(await page.Locator(".analysis-panel").IsHiddenAsync());
        Assert.Equal(0, await page.Locator("button[data-run]").CountAsync());
        var status = await Eval<int>(page, $$"""
            async () => {
              const t = await (await fetch('/api/auth/antiforgery')).json();
              const r = await fetch('/api/sites/{{server.SiteId}}/detect', { method: 'POST', headers: { 'X-XSRF-TOKEN': t.token, 'Content-Type': 'application/json' }, body: '{}' });
              return r.status;
            }
            """);
        Assert.Equal(403, status);
        await WebFixture.Screenshot(page, "11-viewer");
        await page.CloseAsync();
    }

    [Fact]
    public async Task A_link_reopens_the_same_dates_mode_layers_and_view()
    {
        var page = await server.SignIn("ana");
        await server.OpenSite(page, $"?a={WebFixture.MidDate}&b={WebFixture.LastDate}&mode=side&layers=changes&map=18.50/39.92840/127.49150");
        await Eval<bool>(page, "() => { window.sitewatch.map.jumpTo({ zoom: 19.25 }); return true; }");
        await WebFixture.MapReady(page);
        await page.WaitForFunctionAsync("() => location.hash.includes('map=19.25/')");
        var link = page.Url;

        var other = await server.Browser.NewPageAsync();
        await other.GotoAsync(link);
        await WebFixture.MapReady(other);
        Assert.Equal(WebFixture.MidDate, await other.GetAttributeAsync(".tl-tick.current", "data-date"));
        Assert.Equal(WebFixture.LastDate, await other.GetAttributeAsync(".tl-tick.before", "data-date"));
        Assert.True(await other.IsCheckedAsync("input[name=mode][value=side]"));
        Assert.True(await other.IsCheckedAsync("input[name=layer][value=changes]"));
        Assert.False(await other.IsCheckedAsync("input[name=layer][value=detections]"));
        Assert.Equal("none", await Eval<string>(other, "() => window.sitewatch.map.getLayoutProperty('aoi-line', 'visibility')"));
        Assert.Equal(19.25, await Eval<double>(other, "() => window.sitewatch.map.getZoom()"), 2);
        var center = await Eval<double[]>(other, "() => { const c = window.sitewatch.map.getCenter(); return [c.lng, c.lat]; }");
        Assert.Equal(127.4915, center[0], 4);
        Assert.Equal(39.9284, center[1], 4);
        await WebFixture.Screenshot(other, "12-shared-link");
        await other.CloseAsync();
        await page.CloseAsync();
    }

    [Fact]
    public async Task The_sites_page_shows_the_standing_feeds_and_monitoring_with_who_runs_them()
    {
        // As `sitewatch feed add` and `monitor --schedule` store them, and a silo notes its feed's state.
        long feedId;
        using (var workspace = Core.Catalog.Workspace.Open(server.WorkspaceDirectory))
        {
            var feed = workspace.Catalog.SaveFeed(server.SiteId, "ridge-east", "udp://239.10.0.1:5600", new Core.Monitoring.FeedOptions { Detector = Core.Monitoring.FrameDetectorKind.Vmti });
            workspace.Catalog.RecordFeedState(feed.Id, "silo-2", new DateTime(2026, 12, 4, 8, 43, 0, DateTimeKind.Utc), "watching");
            workspace.Catalog.SaveMonitor(server.SiteId, new Core.Monitoring.MonitorSchedule { Source = "http://127.0.0.1:8090/", Every = TimeSpan.FromHours(1) });
            workspace.Catalog.RecordMonitorRound(server.SiteId, new DateTime(2026, 12, 4, 8, 39, 0, DateTimeKind.Utc), "8 item(s) found, 2 new scene(s), 0 failed, 0 alert(s) raised");
            feedId = feed.Id;
        }
        try
        {
            var page = await server.SignIn("vic");
            var feedRow = await page.WaitForSelectorAsync($".standing-work .feed[data-feed='{feedId}']");
            var text = await feedRow!.InnerTextAsync();
            Assert.Contains("ridge-east", text);
            Assert.Contains("watched on silo-2 since 2026-12-04 08:43 UTC", text);
            Assert.Contains("vmti", text);
            var monitor = await page.InnerTextAsync($".standing-work .monitor[data-site='{server.SiteId}']");
            Assert.Contains("every 60 min", monitor);
            Assert.Contains("2 new scene(s)", monitor);
            // A single server is not a client of any cluster, and says nothing about one.
            Assert.Equal(0, await page.Locator(".standing-work .cluster").CountAsync());
            await WebFixture.Screenshot(page, "16-standing-work");
            await page.CloseAsync();
        }
        finally
        {
            using var workspace = Core.Catalog.Workspace.Open(server.WorkspaceDirectory);
            workspace.Catalog.RemoveFeed(server.SiteId, "ridge-east");
            workspace.Catalog.RemoveMonitor(server.SiteId);
        }
    }

    [Fact]
    public void The_ui_logic_passes_its_unit_tests_in_vitest()
    {
        // vitest runs in about two seconds; here it runs with every test run (scripts/test.sh) without a step of its own.
        var web = Path.Combine(WebFixture.RepositoryRoot, "web");
        Assert.True(Directory.Exists(Path.Combine(web, "node_modules", "vitest")), $"{web}/node_modules: missing; run 'npm ci' in web/ (scripts/bootstrap.sh does)");
        var (code, output) = WebFixture.Run("npx", "vitest run --reporter=dot", web, TimeSpan.FromMinutes(2));
        Assert.True(code == 0, output);
        Assert.Matches(@"Tests\s+\d+ passed", output);
    }

    private static async Task<float[]> ScreenPoint(IPage page, double lon, double lat) =>
        await page.EvaluateAsync<float[]>($"() => {{ const m = window.sitewatch.map; const p = m.project([{Num(lon)}, {Num(lat)}]); const r = m.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }}");

    private static (double Lon, double Lat)[] Corners(NetTopologySuite.Geometries.Geometry utm) =>
        GeometryProjection.Transform(utm, 32652, 4326).Coordinates.Select(c => (c.X, c.Y)).ToArray();

    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
