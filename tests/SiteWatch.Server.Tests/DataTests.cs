using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using SiteWatch.Core.Catalog;
using SkiaSharp;

namespace SiteWatch.Server.Tests;

public sealed class DataTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    /// <summary>The XYZ tile holding a WGS84 point.</summary>
    private static (int X, int Y) TileOf(double lon, double lat, int z)
    {
        var n = 1 << z;
        var x = (int)Math.Floor((lon + 180) / 360 * n);
        var rad = lat * Math.PI / 180;
        var y = (int)Math.Floor((1 - Math.Log(Math.Tan(rad) + 1 / Math.Cos(rad)) / Math.PI) / 2 * n);
        return (x, y);
    }

    [Theory]
    [InlineData("25/0/0.png", "z")]
    [InlineData("3/8/0.png", "x")]
    [InlineData("3/0/8.png", "y")]
    [InlineData("3/-1/0.png", "x")]
    [InlineData("3/0/abc.png", "y")]
    [InlineData("3/0/0.gif", "format")]
    public async Task Tile_coordinates_out_of_range_answer_400_naming_them(string tile, string field)
    {
        using var client = await server.SignedIn("vic");
        var response = await client.GetAsync($"/api/scenes/{server.BeforeSceneId}/tiles/{tile}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("png", null)]
    [InlineData("png", "4,3,2")]
    [InlineData("webp", null)]
    public async Task A_tile_is_256_px_opaque_over_the_scene_transparent_beside_it_and_revalidates_with_its_etag(string format, string? bands)
    {
        using var client = await server.SignedIn("vic");
        var (x, y) = TileOf(127.4915, 39.9284, 16);
        var url = $"/api/scenes/{server.AfterSceneId}/tiles/16/{x}/{y}.{format}" + (bands is null ? "" : $"?bands={bands}");
        var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"image/{format}", response.Content.Headers.ContentType?.MediaType);
        using var bitmap = SKBitmap.Decode(await response.Content.ReadAsByteArrayAsync());
        Assert.NotNull(bitmap);
        Assert.Equal(256, bitmap.Width);
        Assert.Equal(256, bitmap.Height);
        int opaque = 0, transparent = 0, bright = 0;
        for (var r = 0; r < 256; r++)
        {
            for (var c = 0; c < 256; c++)
            {
                var p = bitmap.GetPixel(c, r);
                if (p.Alpha == 255)
                {
                    opaque++;
                    bright += p.Red > 200 && p.Green > 200 ? 1 : 0;
                }
                else if (p.Alpha == 0)
                {
                    transparent++;
                }
            }
        }
        // The stored scene (about 240 m a side) covers part of a zoom-16 tile (about 470 m a side).
        Assert.InRange(opaque, 256 * 256 / 20, 256 * 256 * 9 / 10);
        Assert.InRange(transparent, 256 * 256 / 20, 256 * 256 * 9 / 10);
        Assert.True(bright > 0, "the stretched new roof is bright");

        var etag = response.Headers.ETag;
        Assert.NotNull(etag);
        Assert.Contains("max-age", response.Headers.CacheControl?.ToString());
        using var again = new HttpRequestMessage(HttpMethod.Get, url);
        again.Headers.IfNoneMatch.Add(etag);
        var revalidated = await client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        Assert.Empty(await revalidated.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_tile_far_from_the_scene_is_fully_transparent()
    {
        using var client = await server.SignedIn("vic");
        var response = await client.GetAsync($"/api/scenes/{server.AfterSceneId}/tiles/5/3/3.png");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var bitmap = SKBitmap.Decode(await response.Content.ReadAsByteArrayAsync());
        Assert.All(bitmap.Pixels, p => Assert.Equal(0, p.Alpha));
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/api/scenes/{server.AfterSceneId}/tiles/5/3/3.png?bands=9")).StatusCode);
    }

    [Fact]
    public async Task The_stored_cog_downloads_with_range_requests()
    {
        using var client = await server.SignedIn("vic");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/scenes/{server.BeforeSceneId}/cog");
        request.Headers.Range = new RangeHeaderValue(0, 99);
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(100, bytes.Length);
        Assert.True(bytes[0] == (byte)'I' && bytes[1] == (byte)'I', "a little-endian TIFF");
        Assert.Equal("image/tiff", response.Content.Headers.ContentType?.MediaType);
        var full = await client.GetAsync($"/api/scenes/{server.BeforeSceneId}/cog");
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal("bytes", full.Headers.AcceptRanges.Single());
    }

    public static TheoryData<string> Traversals => new()
    {
        "/api/scenes/..%2F..%2Fsitewatch.db/cog",
        "/api/scenes/1/cog/..%2F..%2F..%2Fsitewatch.db",
        "/api/scenes/%2e%2e%2f%2e%2e%2fsitewatch.db/cog",
        "/api/scenes/%252e%252e%252fsitewatch.db/cog",
        "/api/scenes/1/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/api/scenes/1/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
        "/api/scenes/1/tiles/..%2F..%2F/0/0.png",
        "/api/scenes/1/tiles/1/%2e%2e/0.png",
        "/api/changes/..%2F..%2Fsitewatch.db/objects",
        "/api/changes/1/objects%2F..%2F..%2F..%2Fsitewatch.db",
        "/api/detections/%252e%252e%252f/features",
        "/api/alerts/..%2F..%2Fsitewatch.db/chip.png",
        "/api/alerts/1/chip.png%2F..%2F..%2F..%2Fsitewatch.db",
        "/api/scenes/1/../../../sitewatch.db",
        "/api/scenes/1/cog/../../../../etc/passwd",
        "/..%2F..%2Fsitewatch.db",
        "/%2e%2e/%2e%2e/etc/passwd",
    };

    [Theory]
    [MemberData(nameof(Traversals))]
    public async Task Traversal_attempts_never_serve_a_file_outside_the_stored_ones(string path)
    {
        using var client = await server.SignedIn("admin");
        var cookies = client.DefaultRequestHeaders.Contains("Cookie") ? "" : CookieHeader(client);
        // Sent as raw bytes so no client library normalises the path first.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        var stream = tcp.GetStream();
        var request = $"GET {path} HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\nCookie: {cookies}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.Latin1);
        var answer = await reader.ReadToEndAsync();
        var status = int.Parse(answer.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(status is 400 or 404 or 405, $"{path}: {status}");
        Assert.DoesNotContain("SQLite format", answer);
        Assert.DoesNotContain("root:", answer);
    }

    private string CookieHeader(HttpClient client)
    {
        // The fixture's clients keep their cookies in the handler; re-login on a jar we can read.
        var jar = new CookieContainer();
        using var handler = new HttpClientHandler { CookieContainer = jar };
        using var c = new HttpClient(handler) { BaseAddress = server.BaseAddress };
        var login = c.PostAsJsonAsync("/api/auth/login", new { username = "admin", password = ServerFixture.Password }).GetAwaiter().GetResult();
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        _ = client;
        return jar.GetCookieHeader(server.BaseAddress);
    }

    private int StoredFileCount() =>
        Directory.EnumerateFiles(Path.Combine(server.WorkspaceDirectory, "imagery"), "*", SearchOption.AllDirectories).Count() +
        Directory.EnumerateFiles(Path.Combine(server.WorkspaceDirectory, ".staging"), "*", SearchOption.AllDirectories).Count();

    private int SceneCount()
    {
        using var workspace = Workspace.Open(server.WorkspaceDirectory);
        return workspace.Catalog.ListScenes(server.SiteId).Count;
    }

    [Fact]
    public async Task An_oversized_upload_answers_413_and_stores_nothing()
    {
        using var client = await server.SignedIn("ana");
        var files = StoredFileCount();
        var scenes = SceneCount();
        var big = new byte[3 * 1024 * 1024];
        "II*\0"u8.CopyTo(big);
        // Expect: 100-continue, as a client sending megabytes should: the refusal comes before the body is sent.
        using var declaredRequest = new HttpRequestMessage(HttpMethod.Post, $"/api/sites/{server.SiteId}/scenes?filename=big.tif") { Content = new ByteArrayContent(big) };
        declaredRequest.Headers.ExpectContinue = true;
        Assert.True(await StatusOrCut(client.SendAsync(declaredRequest)) is null or HttpStatusCode.RequestEntityTooLarge);
        // Without a declared length (chunked), the stream is cut at the limit.
        var chunked = new StreamContent(new NonSeekable(big));
        Assert.True(await StatusOrCut(client.PostAsync($"/api/sites/{server.SiteId}/scenes?filename=big.tif", chunked)) is null or HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(files, StoredFileCount());
        Assert.Equal(scenes, SceneCount());
    }

    /// <summary>
    /// The response's status; null when the server answered and closed the connection while the client was still
    /// sending, so that the client saw only a broken pipe (a race on loopback; what was stored is checked either way).
    /// </summary>
    private static async Task<HttpStatusCode?> StatusOrCut(Task<HttpResponseMessage> sending)
    {
        try
        {
            using var response = await sending;
            return response.StatusCode;
        }
        catch (HttpRequestException e) when (e.InnerException is IOException { InnerException: System.Net.Sockets.SocketException })
        {
            return null;
        }
    }

    [Theory]
    [InlineData("notes.txt", "hello, this is not a raster")]
    [InlineData("fake.tif", "II*\0 not really a TIFF")]
    public async Task A_non_raster_upload_answers_400_and_stores_nothing(string name, string content)
    {
        using var client = await server.SignedIn("ana");
        var files = StoredFileCount();
        var response = await client.PostAsync($"/api/sites/{server.SiteId}/scenes?filename={name}", new ByteArrayContent(Encoding.ASCII.GetBytes(content)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.Contains("upload", detail);
        Assert.DoesNotContain(server.WorkspaceDirectory, detail);
        Assert.Equal(files, StoredFileCount());
    }

    [Fact]
    public async Task Background_jobs_run_change_detection_and_ingest_an_upload_to_succeeded()
    {
        using var client = await server.SignedIn("ana");
        var accepted = await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/change", new { before = "2024-03-14", after = "2024-10-15" });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var job = await Finish(client, accepted);
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        Assert.Equal(1.0, job.GetProperty("progress").GetDouble());
        var runId = job.GetProperty("result").GetProperty("change_run_id").GetInt64();

        var objects = await client.GetAsync($"/api/changes/{runId}/objects");
        Assert.Equal(HttpStatusCode.OK, objects.StatusCode);
        Assert.Equal("application/geo+json", objects.Content.Headers.ContentType?.MediaType);
        var collection = await objects.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("FeatureCollection", collection.GetProperty("type").GetString());
        Assert.True(collection.GetProperty("features").GetArrayLength() >= 1);
        var runs = await client.GetFromJsonAsync<JsonElement>($"/api/sites/{server.SiteId}/changes");
        Assert.Contains(runs.GetProperty("items").EnumerateArray(), r => r.GetProperty("id").GetInt64() == runId);
        var activity = await client.GetFromJsonAsync<JsonElement>($"/api/sites/{server.SiteId}/activity");
        Assert.Equal(runId, activity.GetProperty("dates")[1].GetProperty("change_run_id").GetInt64());

        // A segment size that is not a size is a 400 naming the field; the object method runs with a good one.
        var badSize = await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/change", new { before = "2024-03-14", after = "2024-10-15", method = "objects", segment_metres = -3 });
        Assert.Equal(HttpStatusCode.BadRequest, badSize.StatusCode);
        Assert.Contains("segment_metres", await badSize.Content.ReadAsStringAsync());
        var objectRun = await Finish(client, await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/change", new { before = "2024-03-14", after = "2024-10-15", method = "objects", segment_metres = 12, threshold = "chi2" }));
        Assert.Equal("succeeded", objectRun.GetProperty("state").GetString());
        var objectRunId = objectRun.GetProperty("result").GetProperty("change_run_id").GetInt64();
        var objectRecord = await client.GetFromJsonAsync<JsonElement>($"/api/changes/{objectRunId}");
        Assert.Equal("objects", objectRecord.GetProperty("method").GetString());
        Assert.Equal("chi2", objectRecord.GetProperty("parameters").GetProperty("threshold").GetString());

        // The methods on offer say which thresholds each takes; a pairing that cannot work is a 400 before any job.
        var methods = await client.GetFromJsonAsync<JsonElement>("/api/change/methods");
        Assert.Equal("irmad", methods.GetProperty("default_method").GetString());
        var offered = methods.GetProperty("methods").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!,
            m => m.GetProperty("thresholds").EnumerateArray().Select(t => t.GetString()).ToList());
        Assert.Contains("chi2", offered["objects"]);
        Assert.DoesNotContain("chi2", offered["cva"]);
        var badPairing = await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/change", new { before = "2024-03-14", after = "2024-10-15", method = "cva", threshold = "chi2" });
        Assert.Equal(HttpStatusCode.BadRequest, badPairing.StatusCode);
        Assert.Contains("chi-square", await badPairing.Content.ReadAsStringAsync());

        // A bad date fails the job with Core's message, and stores nothing.
        var bad = await Finish(client, await client.PostAsJsonAsync($"/api/sites/{server.SiteId}/change", new { before = "2024-05-01", after = "2024-10-15" }));
        Assert.Equal("failed", bad.GetProperty("state").GetString());
        Assert.Contains("2024-05-01", bad.GetProperty("error").GetString());

        // An upload of a real raster becomes a scene.
        var scenes = SceneCount();
        var file = Scenes.Write(Path.Combine(server.Root, "upload.tif"), after: true);
        using (var raster = SiteWatch.Gdal.RasterDataset.Open(file, update: true))
        {
            raster.SetMetadataItem("TIFFTAG_DATETIME", "2024:07:01 02:00:00");
        }
        var upload = await client.PostAsync($"/api/sites/{server.SiteId}/scenes?filename=upload.tif&date=2024-07-01", new ByteArrayContent(File.ReadAllBytes(file)));
        Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
        var ingested = await Finish(client, upload);
        Assert.Equal("succeeded", ingested.GetProperty("state").GetString());
        Assert.False(ingested.GetProperty("result").GetProperty("already_present").GetBoolean());
        Assert.Equal(scenes + 1, SceneCount());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(server.WorkspaceDirectory, ".staging"), "*", SearchOption.AllDirectories));
    }

    /// <summary>Polls the job until it ends (no time limit of its own: a hung job hangs the run instead of passing).</summary>
    private static async Task<JsonElement> Finish(HttpClient client, HttpResponseMessage accepted)
    {
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var location = accepted.Headers.Location!;
        while (true)
        {
            var job = await client.GetFromJsonAsync<JsonElement>(location);
            if (job.GetProperty("state").GetString() is "succeeded" or "failed" or "cancelled")
            {
                return job;
            }
            await Task.Delay(100);
        }
    }

    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => base.Position; set => throw new NotSupportedException(); }
    }
}
