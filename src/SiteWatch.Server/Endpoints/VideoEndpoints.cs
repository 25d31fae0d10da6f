using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SiteWatch.Core.Catalog;
using SiteWatch.Video.Watch;

namespace SiteWatch.Server.Endpoints;

/// <summary>
/// Drone video: a site's recordings (kept by `watch --site`), their footprints, flight path and tracks as GeoJSON,
/// their HLS video as files; and the site's watch zones.
/// </summary>
internal static partial class VideoEndpoints
{
    public static void Map(WebApplication app)
    {
        var sites = app.MapGroup("/api/sites/{id:long}").WithTags("video");
        sites.MapGet("/recordings", (long id, HttpRequest request, WorkspaceHost host, ServerSettings settings) =>
        {
            var paging = Paging.From(request, settings.MaxPageSize);
            return Results.Json(host.Use(w =>
            {
                SiteEndpoints.RequireSite(w, id);
                return paging.Apply(w.Catalog.ListRecordings(id), r => Recording(w, r));
            }));
        });

        // The zone file's JSON schema (generated from the reader's own typed record), for editors and scripts.
        app.MapGet("/api/schemas/zones", () => Results.Text(ZoneSchema.Generate().ToJsonString(), "application/schema+json")).WithTags("zones");
        app.MapGet("/api/schemas/rules", () => Results.Text(Core.Alerts.AlertRuleSchema.Generate().ToJsonString(), "application/schema+json")).WithTags("alerts");

        sites.MapGet("/zones", (long id, WorkspaceHost host) => Results.Text(host.Use(w =>
        {
            SiteEndpoints.RequireSite(w, id);
            return w.Catalog.TryGetWatchZones(id)?.GeoJson ?? EmptyCollection;
        }), "application/geo+json"));

        sites.MapPost("/zones", async (long id, HttpRequest request, WorkspaceHost host, CancellationToken cancel) =>
        {
            var body = await Body.ReadObjectAsync(request, cancel);
            var added = ZoneFeatures(body);
            var stored = host.Use(w =>
            {
                SiteEndpoints.RequireSite(w, id);
                w.EnsureWritable();
                var collection = JsonNode.Parse(w.Catalog.TryGetWatchZones(id)?.GeoJson ?? EmptyCollection)!.AsObject();
                var features = collection["features"]!.AsArray();
                var names = features.Select(f => f?["properties"]?["name"]?.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
                foreach (var (feature, index) in added.Select((f, i) => (f, i)))
                {
                    var name = feature["properties"]?["name"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
                    if (string.IsNullOrWhiteSpace(name))
                    {
                        throw HttpProblem.BadRequest($"feature {index}: properties.name is required (a zone's name)");
                    }
                    if (!names.Add(name))
                    {
                        throw new HttpProblem(StatusCodes.Status409Conflict, $"feature {index}: the site already has a watch zone named '{name}'");
                    }
                    features.Add(feature.DeepClone());
                }
                var json = collection.ToJsonString();
                try
                {
                    // The same reader `watch --zones` uses: what is stored here is what a watch accepts.
                    WatchZoneFile.Parse(json, "request body");
                }
                catch (Core.SiteWatchException e)
                {
                    throw HttpProblem.BadRequest(e.Message);
                }
                w.Catalog.SaveWatchZones(id, json, "api");
                return json;
            });
            return Results.Text(stored, "application/geo+json", statusCode: StatusCodes.Status201Created);
        }).RequireAuthorization(ServerApp.AnalystPolicy);

        sites.MapDelete("/zones/{name}", (long id, string name, WorkspaceHost host) =>
        {
            host.Use(w =>
            {
                SiteEndpoints.RequireSite(w, id);
                w.EnsureWritable();
                var collection = JsonNode.Parse(w.Catalog.TryGetWatchZones(id)?.GeoJson ?? EmptyCollection)!.AsObject();
                var features = collection["features"]!.AsArray();
                var match = features.FirstOrDefault(f => f?["properties"]?["name"] is JsonValue v && v.TryGetValue<string>(out var s) && s == name)
                    ?? throw new HttpProblem(StatusCodes.Status404NotFound, $"site {id} has no watch zone named '{name}'");
                features.Remove(match);
                w.Catalog.SaveWatchZones(id, collection.ToJsonString(), "api");
            });
            return Results.NoContent();
        }).RequireAuthorization(ServerApp.AnalystPolicy);

        var recordings = app.MapGroup("/api/recordings/{id:long}").WithTags("video");
        recordings.MapGet("/", (long id, WorkspaceHost host) => Results.Json(host.Use(w => Recording(w, RequireRecording(w, id)))));
        recordings.MapGet("/footprints", (long id, WorkspaceHost host) => GeoJson(Footprints(Frames(host, id))));
        recordings.MapGet("/path", (long id, WorkspaceHost host) => GeoJson(FlightPath(Frames(host, id))));
        recordings.MapGet("/tracks", (long id, WorkspaceHost host) => GeoJson(Tracks(Frames(host, id))));
        recordings.MapGet("/hls/{name}", (long id, string name, WorkspaceHost host, HttpResponse response) =>
        {
            var folder = host.Use(w => Path.Combine(w.Root, RequireRecording(w, id).Directory, FlightRecorder.HlsFolder));
            // Only a plain name that is listed in the recording's HLS folder: no separators, no dot files, no traversal.
            var file = SafeName().IsMatch(name) && Directory.Exists(folder)
                ? Directory.EnumerateFiles(folder).FirstOrDefault(f => string.Equals(Path.GetFileName(f), name, StringComparison.Ordinal))
                : null;
            if (file is null || ContentType(name) is not { } type)
            {
                return Problems.Of(StatusCodes.Status404NotFound, $"recording {id} has no HLS file named '{Truncate(name)}'");
            }
            // The playlist of a recording in progress grows; segments never change once listed.
            response.Headers.CacheControl = type == PlaylistType ? "no-cache" : "private, max-age=86400";
            return Results.File(file, type, enableRangeProcessing: true);
        });
    }

    public const string PlaylistType = "application/vnd.apple.mpegurl";
    private const string EmptyCollection = """{"type":"FeatureCollection","features":[]}""";

    [GeneratedRegex("^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")]
    private static partial Regex SafeName();

    private static string? ContentType(string name) => Path.GetExtension(name) switch
    {
        ".m3u8" => PlaylistType,
        ".mp4" => "video/mp4",
        ".m4s" => "video/iso.segment",
        _ => null,
    };

    private static string Truncate(string s) => s.Length > 100 ? s[..100] + "..." : s;

    private static RecordingRecord RequireRecording(Workspace w, long id) => w.Catalog.TryGetRecording(id) ?? throw HttpProblem.NotFound("recording", id);

    /// <summary>
    /// "recording" while its watch runs, "complete" when it ran to the end of the video, "incomplete" when it was
    /// stopped, failed, or its watch is gone (the frames log stopped growing without the row being ended).
    /// </summary>
    public static string Status(Workspace w, RecordingRecord r) => r.State == RecordingStates.Live
        ? RecordingLiveness.IsAbandoned(w.Root, r, DateTime.UtcNow) ? "incomplete" : "recording"
        : r.EndNote is null ? "complete" : "incomplete";

    public static object Recording(Workspace w, RecordingRecord r) => new
    {
        id = r.Id,
        site_id = r.SiteId,
        source = r.Source,
        kind = r.Kind,
        status = Status(w, r),
        started_utc = r.StartedUtc,
        ended_utc = r.EndedUtc,
        media_start_utc = r.MediaStartUtc,
        frames = r.Frames,
        footprints = r.Footprints,
        duration_s = r.DurationSeconds,
        end_note = r.EndNote,
        playlist = $"/api/recordings/{r.Id}/hls/{FlightRecorder.Playlist}",
        footprints_url = $"/api/recordings/{r.Id}/footprints",
        path_url = $"/api/recordings/{r.Id}/path",
        tracks_url = $"/api/recordings/{r.Id}/tracks",
    };

    /// <summary>The features of a Feature or FeatureCollection body (400 naming the problem otherwise).</summary>
    private static List<JsonNode> ZoneFeatures(JsonElement body)
    {
        var type = body.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        var node = JsonNode.Parse(body.GetRawText())!;
        switch (type)
        {
            case "Feature":
                return [node];
            case "FeatureCollection" when node["features"] is JsonArray array && array.Count > 0:
                return array.Select((f, i) => f ?? throw HttpProblem.BadRequest($"feature {i}: null")).ToList();
            case "FeatureCollection":
                throw HttpProblem.BadRequest("field 'features': a non-empty array of zone Features is required");
            default:
                throw HttpProblem.BadRequest($"field 'type': expected a GeoJSON Feature or FeatureCollection, got {(type is null ? "none" : $"'{Truncate(type)}'")}");
        }
    }

    private static IResult GeoJson(object collection) => Results.Json(collection, contentType: "application/geo+json");

    private static List<JsonElement> Frames(WorkspaceHost host, long id)
    {
        var path = host.Use(w => Path.Combine(w.Root, RequireRecording(w, id).Directory, FlightRecorder.FramesFile));
        return RecordingFrames.ReadAll(path);
    }

    private static object Collection(IEnumerable<object> features) => new { type = "FeatureCollection", features = features.ToList() };

    private static object Footprints(List<JsonElement> frames) => Collection(frames
        .Where(f => f.TryGetProperty("footprint", out _))
        .Select(f => (object)new
        {
            type = "Feature",
            geometry = new { type = "Polygon", coordinates = new[] { f.GetProperty("footprint") } },
            properties = new { frame = f.GetProperty("frame").GetInt64(), t = f.GetProperty("t").GetDouble(), time = f.TryGetProperty("time", out var x) ? x.GetString() : null },
        }));

    private static object FlightPath(List<JsonElement> frames)
    {
        var points = frames.Where(f => f.TryGetProperty("sensor", out _)).Select(f => f.GetProperty("sensor")).ToList();
        return Collection(points.Count < 2 ? [] : [new
        {
            type = "Feature",
            geometry = new { type = "LineString", coordinates = points },
            properties = new { kind = "sensor", frames = points.Count },
        }]);
    }

    private static object Tracks(List<JsonElement> frames)
    {
        var tracks = new SortedDictionary<int, (string Class, List<JsonElement> Points, double First, double Last, bool Confirmed)>();
        foreach (var frame in frames)
        {
            var t = frame.GetProperty("t").GetDouble();
            foreach (var track in frame.GetProperty("tracks").EnumerateArray())
            {
                if (!track.TryGetProperty("at", out var at))
                {
                    continue;
                }
                var id = track.GetProperty("id").GetInt32();
                var entry = tracks.TryGetValue(id, out var e) ? e : (track.GetProperty("class").GetString()!, [], t, t, false);
                entry.Points.Add(at);
                tracks[id] = entry with { Last = t, Confirmed = entry.Confirmed || track.GetProperty("confirmed").GetBoolean() };
            }
        }
        return Collection(tracks.Select(kv => (object)new
        {
            type = "Feature",
            geometry = kv.Value.Points.Count == 1
                ? (object)new { type = "Point", coordinates = kv.Value.Points[0] }
                : new { type = "LineString", coordinates = kv.Value.Points },
            properties = new { track = kv.Key, @class = kv.Value.Class, confirmed = kv.Value.Confirmed, first_t = kv.Value.First, last_t = kv.Value.Last },
        }));
    }
}

/// <summary>Reads a recording's frames log (being appended to while its watch runs): complete lines only.</summary>
internal static class RecordingFrames
{
    public static List<JsonElement> ReadAll(string path)
    {
        var frames = new List<JsonElement>();
        long offset = 0;
        Read(path, ref offset, frames.Add);
        return frames;
    }

    /// <summary>Reads the complete lines after <paramref name="offset"/> and moves it past them; a half-written last line waits.</summary>
    public static void Read(string path, ref long offset, Action<JsonElement> onFrame)
    {
        if (!File.Exists(path))
        {
            return;
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length <= offset)
        {
            return;
        }
        stream.Position = offset;
        var bytes = new byte[stream.Length - offset];
        stream.ReadExactly(bytes);
        var end = Array.LastIndexOf(bytes, (byte)'\n');
        if (end < 0)
        {
            return;
        }
        var start = 0;
        for (var i = 0; i <= end; i++)
        {
            if (bytes[i] != '\n')
            {
                continue;
            }
            if (i > start)
            {
                try
                {
                    using var doc = JsonDocument.Parse(bytes.AsMemory(start, i - start));
                    onFrame(doc.RootElement.Clone());
                }
                catch (JsonException)
                {
                    // A damaged line (disk full, a killed writer) is skipped; the lines around it still count.
                }
            }
            start = i + 1;
        }
        offset += end + 1;
    }
}
