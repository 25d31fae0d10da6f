using Microsoft.Playwright;

/// <summary>The README's pictures of the web workspace: each view as an analyst opens it, in Debian's chromium.</summary>
internal static class Screenshots
{
    public static async Task<int> Take(string baseUrl, string user, string password, string siteId, string outDir)
    {
        Directory.CreateDirectory(outDir);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl, ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        context.SetDefaultTimeout(120_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        await page.FillAsync("input[name=username]", user);
        await page.FillAsync("input[name=password]", password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync(".site-item");
        await Save(page, outDir, "sites");

        async Task Open(string query)
        {
            await page.GotoAsync($"/#/site/{siteId}{query}");
            await page.ReloadAsync();
            await page.WaitForSelectorAsync(".maps-host[data-ready='1']", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        }

        await Open("");
        await Save(page, outDir, "site");
        await Open("?mode=swipe&b=2024-03-14&a=2024-10-15&layers=aoi");
        await Save(page, outDir, "swipe");
        await Open("?b=2024-03-14&a=2024-10-15&layers=magnitude,mask,aoi");
        await page.WaitForSelectorAsync("[data-legend=magnitude] .muted");
        await Save(page, outDir, "change-rasters");
        await Open("?b=2024-03-14&a=2024-10-15");
        await page.ClickAsync(".alert-list li.alert >> nth=0");
        await page.WaitForSelectorAsync("[data-testid=evidence]");
        await page.WaitForSelectorAsync(".maps-host[data-ready='1']", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        await Save(page, outDir, "alert");
        // The lower half of the side bar: measuring, notes, products and upload.
        await page.EvalOnSelectorAsync(".notes-panel", "e => e.scrollIntoView({ block: 'center' })");
        await Save(page, outDir, "panels");
        return 0;
    }

    private static async Task Save(IPage page, string outDir, string name)
    {
        // JPEG: imagery compresses ten times better than as PNG, and these live in the repository.
        var path = Path.Combine(outDir, name + ".jpg");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, Type = ScreenshotType.Jpeg, Quality = 82 });
        Console.WriteLine(path);
    }
}
