using System.Globalization;
using Microsoft.Playwright;

// Time from navigation to the first complete map in Debian's chromium on loopback: SiteWatch's site view (sign-in
// check, site, scenes, runs, alerts, activity, change objects, detections and the scene's tiles, until MapLibre is
// idle) against a bare MapLibre page that draws only the same scene's tiles from the same server.
//   WebBench BASE_URL USER PASSWORD SITE_ID TILES_PATH BBOX_JSON RUNS
// With "shots" first, it instead saves the README's screenshots of the served workspace's views into OUT_DIR:
//   WebBench shots BASE_URL USER PASSWORD SITE_ID OUT_DIR
if (args is ["shots", _, _, _, _, _])
{
    return await Screenshots.Take(args[1], args[2], args[3], args[4], args[5]);
}
// With "alerts": the delay from an alert stored in the workspace to its appearance in the page.
//   WebBench alerts BASE_URL USER PASSWORD SITE_ID WORKSPACE COUNT
if (args is ["alerts", _, _, _, _, _, _])
{
    return await AlertDelay.Measure(args[1], args[2], args[3], long.Parse(args[4], CultureInfo.InvariantCulture), args[5], int.Parse(args[6], CultureInfo.InvariantCulture));
}
if (args.Length != 7)
{
    Console.Error.WriteLine("usage: WebBench BASE_URL USER PASSWORD SITE_ID TILES_PATH BBOX_JSON RUNS\n       WebBench shots BASE_URL USER PASSWORD SITE_ID OUT_DIR\n       WebBench alerts BASE_URL USER PASSWORD SITE_ID WORKSPACE COUNT");
    return 2;
}
var (baseUrl, user, password, siteId, tiles, bbox, runs) = (args[0], args[1], args[2], args[3], args[4], args[5], int.Parse(args[6], CultureInfo.InvariantCulture));

using var playwright = await Playwright.CreateAsync();
await using var browser = await Chromium.LaunchAsync(playwright);

async Task<double> Load(string url, string done, bool signIn)
{
    // A fresh context per load: an empty browser cache, like a first visit (the server's tile cache is warm after the first).
    await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl, ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
    if (signIn)
    {
        var login = await context.APIRequest.PostAsync("/api/auth/login", new APIRequestContextOptions { DataObject = new { username = user, password } });
        if (!login.Ok)
        {
            throw new InvalidOperationException($"login as {user}: {login.Status}");
        }
    }
    var page = await context.NewPageAsync();
    await page.GotoAsync(url);
    await page.WaitForFunctionAsync(done, null, new PageWaitForFunctionOptions { Timeout = 120_000 });
    return await page.EvaluateAsync<double>(done);
}

var app = $"/#/site/{siteId}";
var bare = $"/bare.html?tiles={Uri.EscapeDataString(tiles)}&bbox={Uri.EscapeDataString(bbox)}";
const string appDone = "() => window.sitewatch && window.sitewatch.firstCompleteMap";
const string bareDone = "() => window.benchDone";

// The first load of each fills the server's tile cache (reported as cold), then they alternate.
var coldApp = await Load(app, appDone, true);
var coldBare = await Load(bare, bareDone, false);
var appTimes = new List<double>();
var bareTimes = new List<double>();
for (var i = 0; i < runs; i++)
{
    appTimes.Add(await Load(app, appDone, true));
    bareTimes.Add(await Load(bare, bareDone, false));
}
static double Median(List<double> x) { var s = x.Order().ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }
static double P90(List<double> x) { var s = x.Order().ToList(); return s[(int)Math.Ceiling(0.9 * s.Count) - 1]; }
var inv = CultureInfo.InvariantCulture;
Console.WriteLine(string.Create(inv, $"navigation to first complete map (ms), {runs} warm loads each, fresh browser cache per load:"));
Console.WriteLine(string.Create(inv, $"  SiteWatch site view   cold {coldApp,7:0}   warm median {Median(appTimes),7:0}   p90 {P90(appTimes),7:0}"));
Console.WriteLine(string.Create(inv, $"  bare MapLibre (peer)  cold {coldBare,7:0}   warm median {Median(bareTimes),7:0}   p90 {P90(bareTimes),7:0}"));
Console.WriteLine(string.Create(inv, $"  ratio (warm medians)  {Median(appTimes) / Median(bareTimes):0.00}x"));
return 0;
