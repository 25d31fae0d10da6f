using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Geo;

namespace SiteWatch.Core.Monitoring;

/// <summary>What to look for: scenes over an AOI in a period, from some collections, below a cloud cover.</summary>
public sealed record StacQuery
{
    public required Geometry Aoi { get; init; }
    public DateTime? FromUtc { get; init; }
    public DateTime? ToUtc { get; init; }
    public IReadOnlyList<string> Collections { get; init; } = [];
    /// <summary>Largest eo:cloud_cover (percent) kept; items that state none are kept.</summary>
    public double? MaxCloudCover { get; init; }
    /// <summary>Items per page asked of an API.</summary>
    public int PageSize { get; init; } = 100;
    /// <summary>Most items read in one search: a runaway catalog stops here with an error rather than filling the disk.</summary>
    public int MaxItems { get; init; } = 2000;
}

/// <summary>An asset of a found item: where it is, what it holds.</summary>
public sealed record StacAssetRef(string Key, Uri Href, string? MediaType, IReadOnlyList<string> Roles);

/// <summary>One STAC item found for a site, with the item's JSON kept as it came.</summary>
public sealed record StacFoundItem(string Id, string? Collection, DateTime AcquiredUtc, double? CloudCover, IReadOnlyList<StacAssetRef> Assets, JsonObject Json)
{
    /// <summary>The key a scene ingested from this item is recorded under: collection and id, stable across searches.</summary>
    public string SourceKey => $"stac:{Collection ?? "-"}/{Id}";
}

/// <summary>The outcome of a search: the items kept and what was passed over, each with its reason.</summary>
public sealed record StacSearchResult(IReadOnlyList<StacFoundItem> Items, IReadOnlyList<string> Skipped, int Pages);

/// <summary>
/// Finds scenes in a STAC API (<c>POST /search</c> with intersects, datetime, collections and a cloud filter, following
/// <c>next</c> links as the API gives them: POST with a body to merge, or GET) or in a static catalog (a catalog or
/// collection JSON whose child and item links are walked, filtered here). Transient failures (timeouts, 5xx, 429) are
/// retried with backoff; what stays wrong fails the search with the URL and the reason, before anything is ingested.
/// Items that break the STAC rules (no id, no datetime, no assets) or repeat an id are passed over and listed.
/// </summary>
public sealed class StacSource(HttpClient http, Action<string>? log = null)
{
    private const int Attempts = 4;
    private const int MaxDepth = 8;
    private const long MaxDocumentBytes = 64L << 20;

    public async Task<StacSearchResult> SearchAsync(string source, StacQuery query, CancellationToken cancel = default)
    {
        var uri = ToUri(source);
        var root = await GetJsonAsync(uri, cancel);
        var isApi = root["links"] is JsonArray links && links.OfType<JsonObject>().Any(l => (string?)l["rel"] == "search")
            || root["conformsTo"] is JsonArray conforms && conforms.Any(c => c?.ToString().Contains("item-search", StringComparison.Ordinal) == true);
        var found = new List<StacFoundItem>();
        var skipped = new List<string>();
        var pages = 0;
        if (isApi)
        {
            pages = await SearchApiAsync(uri, root, query, found, skipped, cancel);
        }
        else
        {
            await WalkAsync(uri, root, query, found, skipped, [], new HashSet<string>(StringComparer.Ordinal), 0, cancel);
            pages = 1;
        }
        return new StacSearchResult([.. found.OrderBy(i => i.AcquiredUtc).ThenBy(i => i.Id, StringComparer.Ordinal)], skipped, pages);
    }

    internal static Uri ToUri(string source)
    {
        if (Uri.TryCreate(source, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "file")
        {
            return uri;
        }
        if (source.Contains("://", StringComparison.Ordinal))
        {
            throw new SiteWatchException($"STAC source '{source}': only http, https and file URLs or a local path are read");
        }
        return new Uri(Path.GetFullPath(source));
    }

    private async Task<int> SearchApiAsync(Uri landing, JsonObject root, StacQuery query, List<StacFoundItem> found, List<string> skipped, CancellationToken cancel)
    {
        var searchLink = (root["links"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(l => (string?)l["rel"] == "search" && ((string?)l["method"] ?? "POST") == "POST")
            ?? (root["links"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(l => (string?)l["rel"] == "search");
        var searchUri = searchLink?["href"] is JsonValue h ? new Uri(landing, h.ToString()) : new Uri(landing, "search");
        var body = SearchBody(query);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        HttpMethod method = HttpMethod.Post;
        Uri? next = searchUri;
        var pages = 0;
        while (next is not null)
        {
            cancel.ThrowIfCancellationRequested();
            var page = await SendJsonAsync(method, next, method == HttpMethod.Post ? body : null, cancel);
            pages++;
            if (page["features"] is not JsonArray features)
            {
                throw new SiteWatchException($"{next}: not a STAC ItemCollection (no features array)");
            }
            foreach (var feature in features)
            {
                Accept(feature as JsonObject, next, query, seen, found, skipped, filter: false);
                if (found.Count > query.MaxItems)
                {
                    throw new SiteWatchException($"{searchUri}: more than {query.MaxItems} items match; narrow the period or the collections");
                }
            }
            next = null;
            if ((page["links"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(l => (string?)l["rel"] == "next") is { } link && link["href"] is JsonValue href)
            {
                next = new Uri(next ?? searchUri, href.ToString());
                method = string.Equals((string?)link["method"], "POST", StringComparison.OrdinalIgnoreCase) ? HttpMethod.Post : HttpMethod.Get;
                if (method == HttpMethod.Post && link["body"] is JsonObject extra)
                {
                    // STAC API paging: the next body is the previous one with the link's members merged in (merge: true) or replaced.
                    var merged = link["merge"] is JsonValue m && m.TryGetValue<bool>(out var merge) && merge ? (JsonObject)body.DeepClone() : [];
                    foreach (var (key, value) in extra)
                    {
                        merged[key] = value?.DeepClone();
                    }
                    body = merged;
                }
            }
            if (pages > 10_000)
            {
                throw new SiteWatchException($"{searchUri}: the search does not end after 10,000 pages");
            }
        }
        return pages;
    }

    private static JsonObject SearchBody(StacQuery query)
    {
        var body = new JsonObject
        {
            ["intersects"] = JsonNode.Parse(GeoJsonText.Write(query.Aoi)),
            ["limit"] = query.PageSize,
        };
        if (query.FromUtc is not null || query.ToUtc is not null)
        {
            body["datetime"] = $"{Rfc3339(query.FromUtc) ?? ".."}/{Rfc3339(query.ToUtc) ?? ".."}";
        }
        if (query.Collections.Count > 0)
        {
            body["collections"] = new JsonArray([.. query.Collections.Select(c => (JsonNode)c)]);
        }
        if (query.MaxCloudCover is { } cloud)
        {
            // The query extension, which most APIs accept; items are filtered here again in case one ignores it.
            body["query"] = new JsonObject { ["eo:cloud_cover"] = new JsonObject { ["lte"] = cloud } };
        }
        return body;
    }

    private static string? Rfc3339(DateTime? t) => t?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private async Task WalkAsync(Uri uri, JsonObject node, StacQuery query, List<StacFoundItem> found, List<string> skipped, HashSet<Uri> visited,
        HashSet<string> seen, int depth, CancellationToken cancel)
    {
        if (!visited.Add(uri))
        {
            return;
        }
        if ((string?)node["type"] == "Feature")
        {
            Accept(node, uri, query, seen, found, skipped, filter: true);
            return;
        }
        if ((string?)node["type"] == "FeatureCollection" && node["features"] is JsonArray features)
        {
            foreach (var f in features)
            {
                Accept(f as JsonObject, uri, query, seen, found, skipped, filter: true);
            }
        }
        if (depth >= MaxDepth)
        {
            skipped.Add($"{uri}: deeper than {MaxDepth} catalog levels; not followed");
            return;
        }
        if (node["links"] is not JsonArray links)
        {
            return;
        }
        foreach (var link in links.OfType<JsonObject>())
        {
            var rel = (string?)link["rel"];
            if (rel is not ("child" or "item") || link["href"] is not JsonValue href)
            {
                continue;
            }
            if (rel == "child" && node["type"]?.ToString() == "Collection" && query.Collections.Count > 0 && !query.Collections.Contains((string?)node["id"] ?? ""))
            {
                continue;
            }
            cancel.ThrowIfCancellationRequested();
            var target = new Uri(uri, href.ToString());
            var child = await GetJsonAsync(target, cancel);
            await WalkAsync(target, child, query, found, skipped, visited, seen, depth + 1, cancel);
            if (found.Count > query.MaxItems)
            {
                throw new SiteWatchException($"{uri}: more than {query.MaxItems} items match; narrow the period or the collections");
            }
        }
    }

    /// <summary>Checks one item and keeps it when it is usable, new and (for static catalogs) matches the query.</summary>
    private void Accept(JsonObject? item, Uri at, StacQuery query, HashSet<string> seen, List<StacFoundItem> found, List<string> skipped, bool filter)
    {
        if (item is null || (string?)item["type"] != "Feature" || item["id"] is not JsonValue idValue || idValue.GetValueKind() != JsonValueKind.String)
        {
            Skip(skipped, $"{at}: an entry that is not a STAC item with a string id");
            return;
        }
        var id = idValue.ToString();
        var collection = item["collection"] is JsonValue c && c.GetValueKind() == JsonValueKind.String ? c.ToString() : null;
        var key = $"stac:{collection ?? "-"}/{id}";
        if (!seen.Add(key))
        {
            Skip(skipped, $"{id}: listed twice by {at}; taken once");
            return;
        }
        if (item["properties"] is not JsonObject props)
        {
            Skip(skipped, $"{id}: no properties object");
            return;
        }
        var time = (props["datetime"] as JsonValue)?.ToString() ?? (props["start_datetime"] as JsonValue)?.ToString();
        if (time is null || !DateTime.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var acquired))
        {
            Skip(skipped, $"{id}: properties.datetime '{time}' is not an RFC 3339 time");
            return;
        }
        double? cloud = null;
        if (props["eo:cloud_cover"] is JsonValue cc)
        {
            if (!cc.TryGetValue<double>(out var v) || v is < 0 or > 100)
            {
                Skip(skipped, $"{id}: properties.eo:cloud_cover {cc.ToJsonString()} is not a percentage");
                return;
            }
            cloud = v;
        }
        var assets = new List<StacAssetRef>();
        if (item["assets"] is JsonObject assetObject)
        {
            foreach (var (name, value) in assetObject)
            {
                if (value is JsonObject a && a["href"] is JsonValue href && href.GetValueKind() == JsonValueKind.String
                    && Uri.TryCreate(at, href.ToString(), out var resolved))
                {
                    var roles = a["roles"] is JsonArray r ? r.Select(x => x?.ToString() ?? "").ToList() : [];
                    assets.Add(new StacAssetRef(name, resolved, (string?)a["type"], roles));
                }
            }
        }
        if (assets.Count == 0)
        {
            Skip(skipped, $"{id}: no asset with an href");
            return;
        }
        if (query.MaxCloudCover is { } max && cloud > max)
        {
            Skip(skipped, string.Create(CultureInfo.InvariantCulture, $"{id}: cloud cover {cloud:0.#} % above {max:0.#} %"));
            return;
        }
        if (filter)
        {
            // Static catalogs are filtered here; an API has filtered already (the cloud check above covers an API that ignored it).
            if (query.FromUtc is { } from && acquired < from || query.ToUtc is { } to && acquired > to)
            {
                return;
            }
            if (query.Collections.Count > 0 && (collection is null || !query.Collections.Contains(collection)))
            {
                return;
            }
            if (!Intersects(item, query.Aoi))
            {
                return;
            }
        }
        found.Add(new StacFoundItem(id, collection, acquired, cloud, assets, (JsonObject)item.DeepClone()));
    }

    private static bool Intersects(JsonObject item, Geometry aoi)
    {
        try
        {
            if (item["geometry"] is JsonObject g)
            {
                return AoiReader.Parse(g.ToJsonString(), "STAC item geometry").Intersects(aoi);
            }
            if (item["bbox"] is JsonArray { Count: >= 4 } b)
            {
                var v = b.Select(x => x!.GetValue<double>()).ToArray();
                var (minX, minY, maxX, maxY) = v.Length >= 6 ? (v[0], v[1], v[3], v[4]) : (v[0], v[1], v[2], v[3]);
                return new Envelope(minX, maxX, minY, maxY).Intersects(aoi.EnvelopeInternal);
            }
        }
        catch (Exception e) when (e is SiteWatchException or InvalidOperationException or FormatException or JsonException)
        {
            return false;
        }
        return false;
    }

    private void Skip(List<string> skipped, string line)
    {
        skipped.Add(line);
        log?.Invoke(line);
    }

    private async Task<JsonObject> GetJsonAsync(Uri uri, CancellationToken cancel)
    {
        if (uri.IsFile)
        {
            var text = IO.BoundedFile.ReadText(uri.LocalPath, "STAC document");
            return Parse(text, uri);
        }
        return await SendJsonAsync(HttpMethod.Get, uri, null, cancel);
    }

    private async Task<JsonObject> SendJsonAsync(HttpMethod method, Uri uri, JsonObject? body, CancellationToken cancel)
    {
        for (var attempt = 1; ; attempt++)
        {
            string? failure;
            try
            {
                using var request = new HttpRequestMessage(method, uri);
                if (body is not null)
                {
                    request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
                }
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel);
                if (response.IsSuccessStatusCode)
                {
                    if (response.Content.Headers.ContentLength > MaxDocumentBytes)
                    {
                        throw new SiteWatchException($"{uri}: a {response.Content.Headers.ContentLength:N0}-byte document is more than a STAC page should be");
                    }
                    var text = await response.Content.ReadAsStringAsync(cancel);
                    return Parse(text, uri);
                }
                failure = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
                if ((int)response.StatusCode is not (429 or >= 500))
                {
                    throw new SiteWatchException($"{method} {uri}: {failure}");
                }
            }
            catch (HttpRequestException e)
            {
                failure = e.Message;
            }
            catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
            {
                failure = "timed out";
            }
            if (attempt == Attempts)
            {
                throw new SiteWatchException($"{method} {uri}: {failure} (after {Attempts} attempts)");
            }
            log?.Invoke($"{method} {uri}: {failure}; retrying");
            await Task.Delay(TimeSpan.FromMilliseconds(250 * (1 << attempt)), cancel);
        }
    }

    private static JsonObject Parse(string text, Uri uri)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new SiteWatchException($"{uri}: a STAC document must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new SiteWatchException($"{uri}: invalid JSON: {e.Message.Split('\n')[0]}");
        }
    }
}
