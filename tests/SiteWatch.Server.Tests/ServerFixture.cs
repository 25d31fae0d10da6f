using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Ingest;
using SiteWatch.Core.Workflows;
using SiteWatch.Gdal;
using SiteWatch.Server;
using SiteWatch.Server.Auth;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace SiteWatch.Server.Tests;

/// <summary>
/// A real workspace (two synthetic 4-band scenes of one site ingested by Core, three users) served by the real
/// server on Kestrel at 127.0.0.1 with a free port.
/// </summary>
public class ServerFixture : IAsyncLifetime
{
    public const string Password = "correct horse battery staple";
    public const string Aoi = """{"type":"Polygon","coordinates":[[[127.4907,39.9278],[127.4923,39.9278],[127.4923,39.9290],[127.4907,39.9290],[127.4907,39.9278]]]}""";

    private WebApplication? _app;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "sitewatch-server-tests", Guid.NewGuid().ToString("N"));
    public string WorkspaceDirectory => Path.Combine(Root, "ws");
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The running server's services (its job queue, for tests that enqueue jobs of their own).</summary>
    public IServiceProvider Services => _app!.Services;
    public long SiteId { get; private set; }
    public long BeforeSceneId { get; private set; }
    public long AfterSceneId { get; private set; }

    /// <summary>Settings the server starts with (tests of limits use their own fixture).</summary>
    public virtual IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Server:MaxUploadBytes"] = (2 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Server:LoginPermitsPerMinute"] = "1000",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    public virtual bool WithScenes => true;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Root);
        using (var workspace = Workspace.Init(WorkspaceDirectory))
        {
            foreach (var (name, role) in new[] { ("admin", UserRoles.Admin), ("ana", UserRoles.Analyst), ("vic", UserRoles.Viewer) })
            {
                UserAccounts.Add(workspace.Catalog, name, role, Password);
            }
            if (WithScenes)
            {
                File.WriteAllText(Path.Combine(Root, "aoi.geojson"), Aoi);
                var site = SiteSetup.AddSite(workspace, "plant", Path.Combine(Root, "aoi.geojson"), 1.0, null, [], null);
                SiteId = site.Id;
                var ingestor = new SceneIngestor(workspace);
                BeforeSceneId = ingestor.Ingest("plant", Scenes.Write(Path.Combine(Root, "before.tif"), after: false), new IngestOptions()).Scene.Id;
                AfterSceneId = ingestor.Ingest("plant", Scenes.Write(Path.Combine(Root, "after.tif"), after: true), new IngestOptions()).Scene.Id;
            }
        }
        _app = ServerApp.Build(new ServeOptions(WorkspaceDirectory, "http://127.0.0.1:0") { Settings = Settings });
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Urls.First());
    }

    /// <summary>A client with its own cookie jar; redirects are not followed.</summary>
    public HttpClient Client() => new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseCookies = true })
    {
        BaseAddress = BaseAddress,
    };

    /// <summary>A client signed in as <paramref name="user"/> that sends the antiforgery header on every request.</summary>
    public async Task<HttpClient> SignedIn(string user)
    {
        var client = Client();
        var login = await client.PostAsJsonAsync("/api/auth/login", new { username = user, password = Password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = await client.GetFromJsonAsync<JsonElement>("/api/auth/antiforgery");
        client.DefaultRequestHeaders.Add("X-XSRF-TOKEN", token.GetProperty("token").GetString());
        return client;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A workspace without scenes whose login limit is 3 a minute.</summary>
public sealed class StrictLoginFixture : ServerFixture
{
    public override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Server:LoginPermitsPerMinute"] = "3" };

    public override bool WithScenes => false;
}

/// <summary>Synthetic 200 x 200 px 4-band uint16 scenes at 1 m in UTM 52N: a new roof appears, a tower goes.</summary>
public static class Scenes
{
    public static string Write(string path, bool after)
    {
        const int size = 200;
        var profile = new RasterProfile(size, size, 4, RasterDataType.UInt16)
        {
            GeoTransform = GeoTransform.NorthUp(371_000, 4_421_000, 1),
            Crs = "EPSG:32652",
            NoData = 0,
            BandDescriptions = ["blue", "green", "red", "nir"],
        };
        using var raster = RasterDataset.Create(path, profile);
        var random = new Random(after ? 2 : 1);
        var data = new ushort[size * size];
        for (var b = 0; b < 4; b++)
        {
            for (var r = 0; r < size; r++)
            {
                for (var c = 0; c < size; c++)
                {
                    double v = 1200 + 150 * b + 120 * Math.Sin(c / 7.0) * Math.Cos(r / 9.0) + random.Next(-40, 41);
                    var newRoof = after && c is >= 120 and < 150 && r is >= 60 and < 80;
                    var oldTower = !after && c is >= 40 and < 52 && r is >= 130 and < 142;
                    if (newRoof || oldTower)
                    {
                        v = 5200 + 100 * b + random.Next(-40, 41);
                    }
                    data[r * size + c] = (ushort)v;
                }
            }
            raster.Write<ushort>(b + 1, new RasterWindow(0, 0, size, size), data);
        }
        raster.SetMetadataItem("TIFFTAG_DATETIME", after ? "2024:10:15 02:00:00" : "2024:03:14 02:00:00");
        return path;
    }
}
