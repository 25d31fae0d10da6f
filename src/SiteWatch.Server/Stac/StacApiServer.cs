using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using NetTopologySuite.Geometries;
using SiteWatch.Core;
using SiteWatch.Core.Geo;

namespace SiteWatch.Server.Stac;

/// <summary>
/// `sitewatch stac serve`: a static STAC catalog on disk (e.g. the demo's) served as a STAC API for monitors and
/// silos to search: the landing page, collections, item search (GET and POST /search with intersects or bbox,
/// datetime, collections, ids, the query extension's eo:cloud_cover, limit and next-page links) and the items' assets
/// over HTTP with ranges. Read-only and anonymous, so it only listens on loopback addresses.
/// </summary>
public static class StacApiServer
{
    /// <summary>One item of the catalog, with its assets' files on disk by key.</summary>
    internal sealed record ServedItem(JsonObject Json, string Id, string? Collection, DateTime Acquired, double? CloudCover, Geometry? Footprint,
        IReadOnlyDictionary<string, string> AssetFiles);

    public static WebApplication Build(string catalog, string urls)
    {
        var root = Path.GetFullPath(catalog);
        if (Directory.Exists(root))
        {
            root = Path.Combine(root, "catalog.json");
        }
        if (!File.Exists(root))
        {
            throw new SiteWatchException($"{root}: no STAC catalog there (catalog.json)");
        }
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "http"
                || !(uri.Host == "localhost" || IPAddress.TryParse(uri.Host, out var address) && IPAddress.IsLoopback(address)))
            {
                throw SiteWatchException.About("urls", $"'{url}': the STAC server is anonymous and read-only, so it listens on loopback only (http://127.0.0.1:PORT)");
            }
        }
        var (items, collections) = Load(root);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var json = new JsonSerializerOptions { WriteIndented = false };

        app.MapGet("/", (HttpContext context) => Results.Text(new JsonObject
        {
            ["type"] = "Catalog",
            ["id"] = "sitewatch-stac",
            ["stac_version"] = "1.0.0",
            ["description"] = $"{root} served by SiteWatch",
            ["conformsTo"] = new JsonArray("https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/item-search",
                "https://api.stacspec.org/v1.0.0/collections"),
            ["links"] = new JsonArray(
                Link("self", Base(context)),
                new JsonObject { ["rel"] = "search", ["href"] = $"{Base(context)}search", ["method"] = "POST", ["type"] = "application/geo+json" },
                new JsonObject { ["rel"] = "search", ["href"] = $"{Base(context)}search", ["method"] = "GET", ["type"] = "application/geo+json" },
                Link("data", $"{Base(context)}collections")),
        }.ToJsonString(json), "application/json"));

        app.MapGet("/collections", (HttpContext context) => Results.Text(new JsonObject
        {
            ["collections"] = new JsonArray([.. collections.Values.Select(c => (JsonNode)c.DeepClone())]),
            ["links"] = new JsonArray(Link("self", $"{Base(context)}collections")),
        }.ToJsonString(json), "application/json"));

        app.MapGet("/collections/{id}", (string id) => collections.TryGetValue(id, out var c)
            ? Results.Text(c.ToJsonString(json), "application/json")
            : Error(404, $"no collection '{id}'"));

        app.MapGet("/search", (HttpContext context) =>
        {
            var q = context.Request.Query;
            var body = new JsonObject();
            foreach (var key in new[] { "bbox", "datetime", "collections", "ids", "limit", "page" })
            {
                if (q[key].ToString() is { Length: > 0 } value)
                {
                    body[key] = key is "bbox" or "collections" or "ids" ? new JsonArray([.. value.Split(',').Select(v => (JsonNode)v)]) : value;
                }
            }
            if (q["intersects"].ToString() is { Length: > 0 } intersects)
            {
                body["intersects"] = TryParse(intersects);
            }
            return Search(context, body, items, json);
        });

        app.MapPost("/search", async (HttpContext context) =>
        {
            JsonObject? body;
            try
            {
                body = await JsonNode.ParseAsync(context.Request.Body) as JsonObject;
            }
            catch (JsonException e)
            {
                return Error(400, $"the search body is not JSON: {e.Message}");
            }
            return body is null ? Error(400, "the search body must be a JSON object") : Search(context, body, items, json);
        });

        app.MapGet("/assets/{index:int}/{key}", (int index, string key) =>
            index >= 0 && index < items.Count && items[index].AssetFiles.TryGetValue(key, out var file) && File.Exists(file)
                ? Results.File(file, key.Contains("json", StringComparison.Ordinal) ? "application/json" : "image/tiff", enableRangeProcessing: true)
                : Error(404, $"no asset '{key}' of item {index}"));

        // Items as served: assets point at this server, links at the API.
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].Json["assets"] is JsonObject assets)
            {
                foreach (var (key, asset) in assets)
                {
                    if (asset is JsonObject a && items[i].AssetFiles.ContainsKey(key))
                    {
                        a["href"] = $"/assets/{i}/{Uri.EscapeDataString(key)}";
                    }
                }
            }
            items[i].Json["links"] = new JsonArray();
        }
        return app;
    }

    private static string Base(HttpContext context) => $"{context.Request.Scheme}://{context.Request.Host}/";

    private static JsonObject Link(string rel, string href) => new() { ["rel"] = rel, ["href"] = href, ["type"] = "application/json" };

    private static readonly JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static IResult Error(int status, string description) =>
        Results.Text(new JsonObject { ["code"] = status == 404 ? "NotFound" : "BadRequest", ["description"] = description }.ToJsonString(Readable), "application/json", statusCode: status);

    private static JsonNode? TryParse(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    private static IResult Search(HttpContext context, JsonObject body, IReadOnlyList<ServedItem> items, JsonSerializerOptions json)
    {
        Geometry? area = null;
        try
        {
            if (body["intersects"] is JsonObject intersects)
            {
                area = AoiReader.Parse(intersects.ToJsonString(), "intersects");
            }
            else if (body["bbox"] is JsonArray bbox)
            {
                var v = bbox.Select(n => double.Parse(n!.ToString(), CultureInfo.InvariantCulture)).ToArray();
                if (v.Length != 4)
                {
                    return Error(400, "bbox takes four numbers: west, south, east, north");
                }
                area = new GeometryFactory(new PrecisionModel(), 4326).ToGeometry(new Envelope(v[0], v[2], v[1], v[3]));
            }
        }
        catch (Exception e) when (e is SiteWatchException or FormatException or InvalidOperationException)
        {
            return Error(400, $"intersects / bbox: {e.Message}");
        }
        var (from, to) = (DateTime.MinValue, DateTime.MaxValue);
        if (body["datetime"]?.ToString() is { Length: > 0 } datetime)
        {
            var parts = datetime.Split('/');
            if (parts.Length > 2 || !parts.All(p => p is ".." or "" || DateTime.TryParse(p, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out _)))
            {
                return Error(400, $"datetime '{datetime}' is neither an RFC 3339 time nor an interval");
            }
            DateTime Parse(string p, DateTime open) => p is ".." or "" ? open : DateTime.Parse(p, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
            (from, to) = parts.Length == 1 ? (Parse(parts[0], DateTime.MinValue), Parse(parts[0], DateTime.MaxValue)) : (Parse(parts[0], DateTime.MinValue), Parse(parts[1], DateTime.MaxValue));
        }
        var collections = (body["collections"] as JsonArray)?.Select(c => c?.ToString()).ToHashSet();
        var ids = (body["ids"] as JsonArray)?.Select(c => c?.ToString()).ToHashSet();
        var maxCloud = body["query"]?["eo:cloud_cover"]?["lte"] is JsonValue lte && lte.TryGetValue<double>(out var c) ? c : (double?)null;
        var limit = int.TryParse(body["limit"]?.ToString(), CultureInfo.InvariantCulture, out var l) ? Math.Clamp(l, 1, 1000) : 10;
        var page = int.TryParse(body["page"]?.ToString(), CultureInfo.InvariantCulture, out var p0) ? Math.Max(0, p0) : 0;

        var matches = items.Where(i => (area is null || i.Footprint is null || i.Footprint.Intersects(area))
                && i.Acquired >= from && i.Acquired <= to
                && (collections is null || collections.Contains(i.Collection))
                && (ids is null || ids.Contains(i.Id))
                && (maxCloud is null || i.CloudCover is null || i.CloudCover <= maxCloud))
            .OrderByDescending(i => i.Acquired).ThenBy(i => i.Id, StringComparer.Ordinal).ToList();
        var pageItems = matches.Skip(page * limit).Take(limit).ToList();
        var links = new JsonArray();
        if ((page + 1) * limit < matches.Count)
        {
            // The next page as a POST with the same body and the page advanced (merge), as STAC API paging allows.
            links.Add(new JsonObject
            {
                ["rel"] = "next", ["href"] = $"{Base(context)}search", ["method"] = "POST", ["merge"] = true,
                ["body"] = new JsonObject { ["page"] = page + 1 }, ["type"] = "application/geo+json",
            });
        }
        var features = new JsonArray();
        foreach (var item in pageItems)
        {
            var copy = (JsonObject)item.Json.DeepClone();
            if (copy["assets"] is JsonObject assets)
            {
                foreach (var (_, asset) in assets)
                {
                    if (asset is JsonObject a && a["href"]?.ToString() is { } href && href.StartsWith('/'))
                    {
                        a["href"] = Base(context) + href.TrimStart('/');
                    }
                }
            }
            features.Add(copy);
        }
        return Results.Text(new JsonObject
        {
            ["type"] = "FeatureCollection",
            ["features"] = features,
            ["numberMatched"] = matches.Count,
            ["numberReturned"] = pageItems.Count,
            ["links"] = links,
        }.ToJsonString(json), "application/geo+json");
    }

    /// <summary>Every item and collection reachable from the catalog file (child and item links, relative or absolute file paths).</summary>
    private static (List<ServedItem> Items, Dictionary<string, JsonObject> Collections) Load(string catalogFile)
    {
        var items = new List<ServedItem>();
        var collections = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var visited = new HashSet<string>(StringComparer.Ordinal);
        void Walk(string file, int depth)
        {
            if (depth > 8 || !visited.Add(file))
            {
                return;
            }
            JsonObject node;
            try
            {
                node = JsonNode.Parse(File.ReadAllText(file)) as JsonObject ?? throw new JsonException("not an object");
            }
            catch (Exception e) when (e is JsonException or IOException)
            {
                throw new SiteWatchException($"{file}: not a STAC document ({e.Message})");
            }
            var folder = Path.GetDirectoryName(file)!;
            if ((string?)node["type"] == "Feature")
            {
                items.Add(Item(node, folder, file));
                return;
            }
            if ((string?)node["type"] == "Collection" && node["id"]?.ToString() is { } id)
            {
                var copy = (JsonObject)node.DeepClone();
                copy["links"] = new JsonArray();
                collections[id] = copy;
            }
            foreach (var link in (node["links"] as JsonArray)?.OfType<JsonObject>() ?? [])
            {
                if ((string?)link["rel"] is "child" or "item" && link["href"]?.ToString() is { } href && !href.Contains("://", StringComparison.Ordinal))
                {
                    Walk(Path.GetFullPath(Path.Combine(folder, href)), depth + 1);
                }
            }
        }
        Walk(catalogFile, 0);
        return (items, collections);
    }

    private static ServedItem Item(JsonObject node, string folder, string file)
    {
        var id = node["id"]?.ToString() ?? throw new SiteWatchException($"{file}: an item without an id");
        var time = node["properties"]?["datetime"]?.ToString();
        if (!DateTime.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var acquired))
        {
            throw new SiteWatchException($"{file}: item {id} has no RFC 3339 properties.datetime");
        }
        double? cloud = node["properties"]?["eo:cloud_cover"] is JsonValue v && v.TryGetValue<double>(out var cc) ? cc : null;
        Geometry? footprint = null;
        if (node["geometry"] is JsonObject geometry)
        {
            footprint = AoiReader.Parse(geometry.ToJsonString(), $"item {id} geometry");
        }
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, asset) in node["assets"] as JsonObject ?? [])
        {
            // Only files the catalog names, resolved from the item's folder: the asset route serves nothing else.
            if (asset?["href"]?.ToString() is { } href && !href.Contains("://", StringComparison.Ordinal))
            {
                files[key] = Path.GetFullPath(Path.Combine(folder, href));
            }
        }
        return new ServedItem(node, id, node["collection"]?.ToString(), acquired, cloud, footprint, files);
    }
}
