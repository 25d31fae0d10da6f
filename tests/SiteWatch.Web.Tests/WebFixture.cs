using System.Diagnostics;
using Microsoft.Playwright;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Detection;
using SiteWatch.Core.Ingest;
using SiteWatch.Core.Workflows;
using SiteWatch.Gdal;
using SiteWatch.Server.Tests;

namespace SiteWatch.Web.Tests;

/// <summary>
/// The server tests' workspace (one site, synthetic 1 m scenes in UTM 52N where a roof appears and a tower goes)
/// with a third date between, change runs between the dates, detections, alert rules and their alerts; served with
/// the built web UI (web/dist) by the real server on 127.0.0.1, and driven by Debian's chromium through Playwright.
/// </summary>
public sealed class WebFixture : ServerFixture, IAsyncLifetime
{
    public const string MidDate = "2024-07-16";
    public const string FirstDate = "2024-03-14";
    public const string LastDate = "2024-10-15";

    private IPlaywright? _playwright;
    private string? _profile;

    public static string RepositoryRoot { get; } = FindRoot();
    public static string WebDist => Path.Combine(RepositoryRoot, "web", "dist");
    /// <summary>Screenshots of every view, kept after the run for a person to look at.</summary>
    public static string Screenshots { get; } = Path.Combine(RepositoryRoot, "TestResults", "web-screenshots");

    public IBrowserContext Browser { get; private set; } = null!;
    public long MidSceneId { get; private set; }

    public override IReadOnlyDictionary<string, string?> Settings
    {
        get
        {
            if (!File.Exists(Path.Combine(WebDist, "index.html")))
            {
                throw new InvalidOperationException($"{WebDist}: the web UI is not built; run 'npm ci && npm run build' in web/ (scripts/bootstrap.sh does)");
            }
            return new Dictionary<string, string?>(base.Settings) { ["Server:WebRoot"] = WebDist, ["Server:LivePollSeconds"] = "0.2" };
        }
    }

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        // The server is up; add what an analyst would have run, through Core as the CLI does (another catalog connection).
        using (var workspace = Workspace.Open(WorkspaceDirectory))
        {
            MidSceneId = new SceneIngestor(workspace).Ingest("plant", WriteMidScene(Path.Combine(Root, "mid.tif")),
                new IngestOptions { AcquiredUtc = DateTime.Parse(MidDate + "T02:00:00Z", null, System.Globalization.DateTimeStyles.AdjustToUniversal) }).Scene.Id;
            var options = new SiteChangeOptions { Detection = new Core.Change.Methods.ChangeDetectionOptions { Method = Core.Change.Methods.ChangeMethodKind.Cva } };
            SiteChangeWorkflow.Run(workspace, "plant", FirstDate, MidDate, options);
            SiteChangeWorkflow.Run(workspace, "plant", MidDate, LastDate, options);
            if (DetectorModel.DefaultModelPath is not null)
            {
                SiteDetectionWorkflow.Run(workspace, "plant", new SiteDetectionOptions());
            }
            var rules = Path.Combine(Root, "rules.json");
            File.WriteAllText(rules, """
                {"rules": [
                  {"name": "new structure", "kind": "new_structure", "min_area_m2": 100, "severity": "critical"},
                  {"name": "tower removed", "kind": "object_removed", "min_area_m2": 50, "severity": "critical",
                   "zone": {"type": "Polygon", "coordinates": [[[127.49080, 39.92800], [127.49100, 39.92800], [127.49100, 39.92815], [127.49080, 39.92815], [127.49080, 39.92800]]]}}
                ]}
                """);
            AlertWorkflow.StoreRules(workspace, "plant", rules);
            AlertWorkflow.Check(workspace, "plant", DateTime.UtcNow);
        }

        Directory.CreateDirectory(Screenshots);
        _playwright = await Playwright.CreateAsync();
        _profile = Path.Combine(Root, "chromium-profile");
        Browser = await _playwright.Chromium.LaunchPersistentContextAsync(_profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            // --enable-unsafe-swiftshader: MapLibre needs WebGL; with --disable-gpu that is SwiftShader, which chromium
            // now only offers when asked.
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
            BaseURL = BaseAddress.ToString(),
            Timeout = 60_000,
        });
        Browser.SetDefaultTimeout(30_000);
    }

    public new async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
        await base.DisposeAsync();
    }

    /// <summary>A new page signed in through the login page as <paramref name="user"/>, on the sites list.</summary>
    public async Task<IPage> SignIn(string user)
    {
        await Browser.ClearCookiesAsync();
        var page = await Browser.NewPageAsync();
        await page.GotoAsync("/");
        await page.FillAsync("input[name=username]", user);
        await page.FillAsync("input[name=password]", Password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForSelectorAsync(".site-item");
        return page;
    }

    /// <summary>Opens the site view at a hash and waits until its map has drawn everything it asked for.</summary>
    public async Task OpenSite(IPage page, string query = "")
    {
        await page.GotoAsync($"/#/site/{SiteId}{query}");
        await MapReady(page);
    }

    public static async Task MapReady(IPage page)
    {
        await page.WaitForSelectorAsync(".maps-host[data-ready='1']", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
    }

    public static async Task Screenshot(IPage page, string name)
    {
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png") });
    }

    /// <summary>The after scene half built: the roof's west half is up and the tower is gone.</summary>
    private static string WriteMidScene(string path)
    {
        Scenes.Write(path, after: false);
        using var raster = RasterDataset.Open(path, update: true);
        var size = raster.Width;
        for (var b = 1; b <= 4; b++)
        {
            var data = raster.Read<ushort>(b, new RasterWindow(0, 0, size, size));
            for (var r = 0; r < size; r++)
            {
                for (var c = 0; c < size; c++)
                {
                    if (c is >= 120 and < 135 && r is >= 60 and < 80)
                    {
                        data[r * size + c] = (ushort)(5200 + 100 * (b - 1));
                    }
                    else if (c is >= 40 and < 52 && r is >= 130 and < 142)
                    {
                        data[r * size + c] = (ushort)(1200 + 150 * (b - 1));
                    }
                }
            }
            raster.Write<ushort>(b, new RasterWindow(0, 0, size, size), data);
        }
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SiteWatch.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no SiteWatch.slnx above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs a command in the repository and returns its exit code and output.</summary>
    public static (int Code, string Output) Run(string file, string arguments, string directory, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file, arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["CI"] = "1";
        info.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(true);
            return (-1, $"{file} {arguments}: still running after {timeout.TotalSeconds} s");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    public static Geometry Rectangle(double minX, double minY, double maxX, double maxY) =>
        new GeometryFactory().ToGeometry(new Envelope(minX, maxX, minY, maxY));
}
