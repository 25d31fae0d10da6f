using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using SiteWatch.Gdal;

namespace SiteWatch.Tests.Monitoring;

/// <summary>Scenes and a STAC API on loopback for the monitoring and cluster tests.</summary>
public static class StacFixtures
{
    /// <summary>A 4-band UTM 52N scene around the AOI; later dates carry a brightened block (a change) and their own noise.</summary>
    public static string Scene(string path, int day, bool changed)
    {
        var (width, height) = (600, 500);
        var profile = new RasterProfile(width, height, 4, RasterDataType.UInt16)
        {
            GeoTransform = GeoTransform.NorthUp(543_000, 4_420_000, 1.0),
            Crs = "EPSG:32652",
            NoData = 0,
            BandDescriptions = ["blue", "green", "red", "nir"],
        };
        using var raster = RasterDataset.Create(path, profile);
        var rng = new Random(day);
        var data = new ushort[width * height];
        for (var b = 1; b <= 4; b++)
        {
            for (var r = 0; r < height; r++)
            {
                for (var c = 0; c < width; c++)
                {
                    var block = changed && c is >= 150 and < 200 && r is >= 120 and < 160;
                    data[r * width + c] = (ushort)(block ? 7000 + 300 * b : 600 + 150 * b + (c * 7 + r * 3) % 400 + rng.Next(20));
                }
            }
            raster.Write<ushort>(b, new RasterWindow(0, 0, width, height), data);
        }
        return path;
    }

    public static JsonObject Item(string id, string date, double cloud, string href) => new()
    {
        ["type"] = "Feature",
        ["stac_version"] = "1.0.0",
        ["id"] = id,
        ["collection"] = "demo",
        ["bbox"] = new JsonArray(129.50, 39.92, 129.51, 39.935),
        ["geometry"] = JsonNode.Parse("""{"type":"Polygon","coordinates":[[[129.50,39.92],[129.51,39.92],[129.51,39.935],[129.50,39.935],[129.50,39.92]]]}"""),
        ["properties"] = new JsonObject { ["datetime"] = $"{date}T02:30:00Z", ["eo:cloud_cover"] = cloud, ["platform"] = "testsat" },
        ["assets"] = new JsonObject
        {
            ["image"] = new JsonObject { ["href"] = href, ["type"] = "image/tiff; application=geotiff; profile=cloud-optimized", ["roles"] = new JsonArray("data") },
            ["thumbnail"] = new JsonObject { ["href"] = "thumb.png", ["type"] = "image/png", ["roles"] = new JsonArray("thumbnail") },
        },
        ["links"] = new JsonArray(),
    };

    /// <summary>A STAC API on 127.0.0.1: landing page, POST /search one item per page (next links with a POST body), GET /assets/NAME.</summary>
    public sealed class StacApi : IDisposable
    {
        private HttpListener _listener = new();
        private readonly Task _loop;
        public readonly List<JsonObject> Items = [];
        public readonly Dictionary<string, string> Assets = [];
        public int AssetRequests;
        public int SearchRequests;
        public Func<string, (int Status, string Body)?>? Fault;
        /// <summary>How long each asset download takes (to stop a client in the middle of a round).</summary>
        public TimeSpan AssetDelay = TimeSpan.Zero;

        public StacApi()
        {
            // A port free when asked can be taken by a test beside this one before it is bound: then another.
            for (var attempt = 1; ; attempt++)
            {
                Url = $"http://127.0.0.1:{TestPorts.Free()}/";
                _listener.Prefixes.Add(Url);
                try
                {
                    _listener.Start();
                    break;
                }
                catch (HttpListenerException) when (attempt < 5)
                {
                    _listener = new HttpListener(); // the failed one holds nothing (and closing it would bind the port again)
                }
            }
            _loop = Task.Run(Serve);
        }

        public string Url { get; }

        private async Task Serve()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                // One task per request: silos download at once, and a slow asset must not hold up the others.
                _ = Task.Run(async () =>
                {
                    try
                    {
                        if (AssetDelay > TimeSpan.Zero && context.Request.Url!.AbsolutePath.StartsWith("/assets/", StringComparison.Ordinal))
                        {
                            await Task.Delay(AssetDelay);
                        }
                        Handle(context);
                    }
                    catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
                    {
                        // The client went away (a killed silo).
                    }
                    finally
                    {
                        try
                        {
                            context.Response.Close();
                        }
                        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                        {
                        }
                    }
                });
            }
        }

        private void Handle(HttpListenerContext context)
        {
            var path = context.Request.Url!.AbsolutePath;
            if (Fault?.Invoke(path) is { } fault)
            {
                Reply(context, fault.Status, fault.Body);
                return;
            }
            if (path == "/")
            {
                Reply(context, 200, """{"type":"Catalog","id":"test","stac_version":"1.0.0","description":"t","conformsTo":["https://api.stacspec.org/v1.0.0/item-search"],"links":[{"rel":"search","href":"/search","method":"POST"}]}""");
            }
            else if (path == "/search" && context.Request.HttpMethod == "POST")
            {
                Interlocked.Increment(ref SearchRequests);
                var body = JsonNode.Parse(new StreamReader(context.Request.InputStream).ReadToEnd())!.AsObject();
                if (body["intersects"] is null || body["collections"]?[0]?.ToString() != "demo")
                {
                    Reply(context, 400, """{"code":"BadRequest","description":"intersects and collections expected"}""");
                    return;
                }
                var page = body["page"]?.GetValue<int>() ?? 0;
                var features = new JsonArray();
                if (page < Items.Count)
                {
                    features.Add(Items[page].DeepClone());
                }
                var links = new JsonArray();
                if (page + 1 < Items.Count)
                {
                    links.Add(new JsonObject { ["rel"] = "next", ["href"] = "/search", ["method"] = "POST", ["merge"] = true, ["body"] = new JsonObject { ["page"] = page + 1 } });
                }
                Reply(context, 200, new JsonObject { ["type"] = "FeatureCollection", ["features"] = features, ["links"] = links }.ToJsonString());
            }
            else if (path.StartsWith("/assets/", StringComparison.Ordinal) && Assets.TryGetValue(path["/assets/".Length..], out var file))
            {
                Interlocked.Increment(ref AssetRequests);
                var bytes = File.ReadAllBytes(file);
                context.Response.ContentType = "image/tiff";
                context.Response.ContentLength64 = bytes.Length;
                context.Response.OutputStream.Write(bytes);
            }
            else
            {
                Reply(context, 404, """{"code":"NotFound"}""");
            }
        }

        private static void Reply(HttpListenerContext context, int status, string body)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = bytes.Length;
            context.Response.OutputStream.Write(bytes);
        }

        public void Dispose()
        {
            // Close alone: it stops the listener too. Stop and then Close unregister the port twice, and .NET's managed
            // listener answers the second by binding the port again to look it up, which fails ("address already in
            // use") when a test running beside this one has taken the port since.
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
