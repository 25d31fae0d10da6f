using System.Globalization;
using Microsoft.Playwright;
using SiteWatch.Core.Catalog;

/// <summary>
/// The live view's delay: alerts stored in the served workspace by another process (as `watch --site` stores them)
/// against the moment each appears in a signed-in site page, on the same machine's clock.
/// </summary>
internal static class AlertDelay
{
    public static async Task<int> Measure(string baseUrl, string user, string password, long siteId, string workspaceDir, int count)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl, ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        context.SetDefaultTimeout(120_000);
        var login = await context.APIRequest.PostAsync("/api/auth/login", new APIRequestContextOptions { DataObject = new { username = user, password } });
        if (!login.Ok)
        {
            throw new InvalidOperationException($"login as {user}: {login.Status}");
        }
        var page = await context.NewPageAsync();
        await page.GotoAsync($"/#/site/{siteId}");
        await page.WaitForSelectorAsync(".live-state[data-live='live']");
        // The page notes when each of this run's alerts first appears in the document (its clock is the machine's);
        // the run's own tag keeps alerts of earlier runs, already listed, out of it.
        var run = Guid.NewGuid().ToString("N")[..8];
        await page.EvaluateAsync("""
            (run) => {
              window.benchSeen = {};
              const pattern = new RegExp(`bench alert ${run}-(\\d+) `, "g");
              new MutationObserver(() => {
                for (const m of document.body.innerText.matchAll(pattern)) window.benchSeen[m[1]] ??= Date.now();
              }).observe(document.body, { childList: true, subtree: true, characterData: true });
            }
            """, run);

        using var workspace = Workspace.Open(workspaceDir);
        var delays = new List<double>();
        var random = new Random(7);
        for (var i = 1; i <= count; i++)
        {
            // A random wait first, so alerts land at every phase of the server's poll.
            await Task.Delay(400 + random.Next(600));
            var now = DateTime.UtcNow;
            var stored = new DateTimeOffset(now).ToUnixTimeMilliseconds();
            workspace.Catalog.CommitAlert(new AlertRecord
            {
                Id = 0,
                SiteId = siteId,
                Source = AlertSource.Video,
                RuleName = "bench: enter",
                Kind = "enter",
                RaisedUtc = now,
                ObservedUtc = now,
                Severity = "info",
                Message = $"bench alert {run}-{i} (web bench)",
                Evidence = "{}",
                Key = $"bench:{Guid.NewGuid():N}",
            }, []);
            await page.WaitForFunctionAsync($"() => window.benchSeen['{i}'] !== undefined");
            var seen = await page.EvaluateAsync<double>($"() => window.benchSeen['{i}']");
            delays.Add(seen - stored);
        }
        var sorted = delays.Order().ToList();
        double Quantile(double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"alert stored -> shown in the site page (ms), {count} alerts: median {Quantile(0.5):0}, p95 {Quantile(0.95):0}, max {sorted[^1]:0}"));
        return 0;
    }
}
