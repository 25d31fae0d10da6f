using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SiteWatch.Gdal;
using SiteWatch.Server.Tiles;
using SkiaSharp;

namespace SiteWatch.Server.Tests;

/// <summary>
/// A change run's magnitude and mask drawn as map tiles over the fixture's pair (a 30 x 20 m roof appears at columns
/// 120-149, rows 60-79; a 12 m tower goes at columns 40-51, rows 130-141; 1 m pixels in UTM 52N).
/// </summary>
public sealed class ChangeTileTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const int Zoom = 18;
    private const double Half = 20037508.342789244;

    private static long? _runId;
    private static readonly SemaphoreSlim RunOnce = new(1, 1);

    private async Task<long> RunId(HttpClient client)
    {
        await RunOnce.WaitAsync();
        try
        {
            if (_runId is { } known && (await client.GetAsync($"/api/changes/{known}")).StatusCode == HttpStatusCode.OK)
            {
                return known;
            }
            using var analyst = await server.SignedIn("ana");
            var accepted = await analyst.PostAsJsonAsync($"/api/sites/{server.SiteId}/change", new { before = "2024-03-14", after = "2024-10-15" });
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            while (true)
            {
                var job = await analyst.GetFromJsonAsync<JsonElement>(accepted.Headers.Location!);
                var state = job.GetProperty("state").GetString();
                if (state is "succeeded")
                {
                    _runId = job.GetProperty("result").GetProperty("change_run_id").GetInt64();
                    return _runId.Value;
                }
                Assert.True(state is "queued" or "running", $"change job ended {state}: {job}");
                await Task.Delay(100);
            }
        }
        finally
        {
            RunOnce.Release();
        }
    }

    /// <summary>The zoom-18 tile and the pixel in it that hold a pixel centre of the fixture's scenes.</summary>
    private static (int X, int Y, int Px, int Py) TilePixelOf(int column, int row)
    {
        using var utm = SpatialReference.FromEpsg(32652);
        using var mercator = SpatialReference.FromEpsg(3857);
        using var transform = new CoordinateTransform(utm, mercator);
        var (mx, my) = transform.Transform(371_000 + column + 0.5, 4_421_000 - row - 0.5);
        var span = 2 * Half / (1 << Zoom);
        double tx = (mx + Half) / span, ty = (Half - my) / span;
        return ((int)tx, (int)ty, (int)((tx - Math.Floor(tx)) * 256), (int)((ty - Math.Floor(ty)) * 256));
    }

    private static async Task<SKBitmap> Tile(HttpClient client, long run, int x, int y, string layer)
    {
        var response = await client.GetAsync($"/api/changes/{run}/tiles/{Zoom}/{x}/{y}.png?layer={layer}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        return SKBitmap.Decode(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task The_magnitude_is_strong_on_the_new_roof_faint_on_unchanged_ground_and_transparent_off_the_scene()
    {
        using var client = await server.SignedIn("vic");
        var run = await RunId(client);
        var view = await client.GetFromJsonAsync<JsonElement>($"/api/changes/{run}");
        Assert.Equal($"/api/changes/{run}/tiles/{{z}}/{{x}}/{{y}}.png?layer=magnitude", view.GetProperty("magnitude_tiles").GetString());

        var roof = TilePixelOf(135, 70);
        var ground = TilePixelOf(90, 170);
        using var tile = await Tile(client, run, roof.X, roof.Y, "magnitude");
        Assert.Equal(256, tile.Width);
        Assert.Equal(ChangeTileStyle.ChangedAlpha, tile.GetPixel(roof.Px, roof.Py).Alpha);
        if ((ground.X, ground.Y) == (roof.X, roof.Y))
        {
            Assert.True(tile.GetPixel(ground.Px, ground.Py).Alpha < ChangeTileStyle.ChangedAlpha, "unchanged ground is drawn fainter than change");
        }
        // A tile well off the scene (a whole tile to the west of its west edge) is empty.
        var west = TilePixelOf(-300, 100);
        using var off = await Tile(client, run, west.X, west.Y, "magnitude");
        Assert.All(off.Pixels, p => Assert.Equal(0, p.Alpha));
    }

    [Fact]
    public async Task The_mask_colours_the_roof_and_the_tower_as_changed_and_leaves_unchanged_ground_clear()
    {
        using var client = await server.SignedIn("vic");
        var run = await RunId(client);
        var changed = new SKColor(ChangeTileStyle.MaskChanged.R, ChangeTileStyle.MaskChanged.G, ChangeTileStyle.MaskChanged.B, ChangeTileStyle.MaskChanged.A);
        foreach (var (column, row) in new[] { (135, 70), (45, 135) })
        {
            var at = TilePixelOf(column, row);
            using var tile = await Tile(client, run, at.X, at.Y, "mask");
            Assert.Equal(changed, tile.GetPixel(at.Px, at.Py));
        }
        var ground = TilePixelOf(90, 170);
        using var clear = await Tile(client, run, ground.X, ground.Y, "mask");
        Assert.Equal(0, clear.GetPixel(ground.Px, ground.Py).Alpha);
        // The number of changed tile pixels follows the run's changed area: at zoom 18 (about 0.46 m pixels here) a
        // 1 m pixel covers about 4.7 tile pixels; the sum over the tiles the scene touches is compared.
        var summary = (await client.GetFromJsonAsync<JsonElement>($"/api/changes/{run}")).GetProperty("summary");
        var changedPixels = summary.GetProperty("changed_pixels").GetInt64();
        var first = TilePixelOf(0, 0);
        var last = TilePixelOf(199, 199);
        long drawn = 0;
        for (var x = first.X; x <= last.X; x++)
        {
            for (var y = first.Y; y <= last.Y; y++)
            {
                using var tile = await Tile(client, run, x, y, "mask");
                drawn += tile.Pixels.Count(p => p == changed);
            }
        }
        var corner = TilePixelOf(100, 100);
        var span = ((corner.X - first.X) * 256 + corner.Px - first.Px) / 100.0;
        var tilePixelsPerScenePixel = span * span;
        Assert.InRange(drawn / tilePixelsPerScenePixel, changedPixels * 0.85, changedPixels * 1.15);
    }

    [Fact]
    public async Task The_legend_gives_the_runs_threshold_and_the_ramp()
    {
        using var client = await server.SignedIn("vic");
        var run = await RunId(client);
        var threshold = (await client.GetFromJsonAsync<JsonElement>($"/api/changes/{run}")).GetProperty("summary").GetProperty("threshold").GetDouble();
        var legend = await client.GetFromJsonAsync<JsonElement>($"/api/changes/{run}/legend?layer=magnitude");
        Assert.Equal(threshold, legend.GetProperty("threshold").GetDouble(), 9);
        Assert.True(legend.GetProperty("top").GetDouble() >= threshold * 1.25 - 1e-9);
        var entries = legend.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(5, entries.Count);
        Assert.Equal("#000004", entries[0].GetProperty("colour").GetString());
        Assert.Equal("changed", entries[^1].GetProperty("label").GetString());
        var mask = await client.GetFromJsonAsync<JsonElement>($"/api/changes/{run}/legend?layer=mask");
        Assert.Equal(2, mask.GetProperty("entries").GetArrayLength());
    }

    [Fact]
    public async Task Bad_layers_unknown_runs_and_revalidation_answer_as_documented()
    {
        using var client = await server.SignedIn("vic");
        var run = await RunId(client);
        var bad = await client.GetAsync($"/api/changes/{run}/tiles/{Zoom}/0/0.png?layer=ndvi");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("layer", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/api/changes/{run}/tiles/{Zoom}/0/0.gif")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/api/changes/{run}/tiles/3/9/0.png")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/changes/987654/tiles/3/1/1.png")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/changes/987654/legend")).StatusCode);
        using var anonymous = server.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/changes/{run}/tiles/3/1/1.png")).StatusCode);

        var url = $"/api/changes/{run}/tiles/{Zoom}/{TilePixelOf(135, 70).X}/{TilePixelOf(135, 70).Y}.webp?layer=mask";
        var first = await client.GetAsync(url);
        Assert.Equal("image/webp", first.Content.Headers.ContentType?.MediaType);
        using var again = new HttpRequestMessage(HttpMethod.Get, url);
        again.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(again)).StatusCode);
    }

    [Fact]
    public async Task The_quicklook_and_the_zone_schema_are_served_to_signed_in_users()
    {
        using var client = await server.SignedIn("vic");
        var run = await RunId(client);
        var quicklook = await client.GetAsync($"/api/changes/{run}/quicklook.png");
        Assert.Equal(HttpStatusCode.OK, quicklook.StatusCode);
        using (var picture = SKBitmap.Decode(await quicklook.Content.ReadAsByteArrayAsync()))
        {
            Assert.True(picture.Width > 400, "before | after | change, side by side");
        }
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/changes/987654/quicklook.png")).StatusCode);
        var schema = await client.GetAsync("/api/schemas/zones");
        Assert.Equal("application/schema+json", schema.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(await schema.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("SiteWatch watch zones", json.GetProperty("title").GetString());
        var rules = JsonDocument.Parse(await client.GetStringAsync("/api/schemas/rules")).RootElement;
        Assert.Equal("SiteWatch alert rules", rules.GetProperty("title").GetString());
    }

    [Fact]
    public void The_ramp_runs_dark_to_light_and_opacity_marks_the_threshold()
    {
        Assert.Equal(((byte)0, (byte)0, (byte)4), ChangeTileStyle.Ramp(0));
        Assert.Equal(((byte)252, (byte)255, (byte)164), ChangeTileStyle.Ramp(1));
        Assert.Equal(ChangeTileStyle.Ramp(1), ChangeTileStyle.Ramp(7));
        double previous = -1;
        for (var t = 0.0; t <= 1.0; t += 0.05)
        {
            var (r, g, b) = ChangeTileStyle.Ramp(t);
            var luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
            Assert.True(luminance >= previous, $"luminance falls at {t}");
            previous = luminance;
        }
        var rgba = new byte[4 * 4];
        ChangeTileStyle.PaintMagnitude([float.NaN, 0, 1, 2], threshold: 2, top: 4, rgba);
        Assert.Equal(0, rgba[3]);
        Assert.Equal(0, rgba[7]);
        Assert.Equal(Math.Round(ChangeTileStyle.BelowThresholdAlpha / 4.0), rgba[11]);
        Assert.Equal(ChangeTileStyle.ChangedAlpha, rgba[15]);
        Assert.Equal(ChangeTileStyle.Ramp(0.5), (rgba[12], rgba[13], rgba[14]));
    }
}
