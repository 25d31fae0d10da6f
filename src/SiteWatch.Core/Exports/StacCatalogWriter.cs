using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Geo;
using SiteWatch.Core.Ingest;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Exports;

/// <summary>What a STAC export wrote.</summary>
public sealed record StacExport(string CatalogFile, int SceneItems, int ChangeItems, bool AssetsCopied);

/// <summary>
/// A static STAC 1.0 catalog of a site's outputs: catalog.json linking one item per scene (its stored COG and cloud
/// mask, with projection, eo and file extension fields) and one per change run (its mask, magnitude, change objects,
/// quicklook and summary, linked to the two scene items it was derived from). Every link and asset href is relative:
/// assets point into the workspace where they are stored, or at copies beside their item (self-contained, movable).
/// </summary>
public static class StacCatalogWriter
{
    public const string StacVersion = "1.0.0";
    private const string Projection = "https://stac-extensions.github.io/projection/v1.1.0/schema.json";
    private const string Eo = "https://stac-extensions.github.io/eo/v1.1.0/schema.json";
    private const string FileExtension = "https://stac-extensions.github.io/file/v2.1.0/schema.json";
    private const string Cog = "image/tiff; application=geotiff; profile=cloud-optimized";
    private const string GeoTiff = "image/tiff; application=geotiff";

    /// <summary>Writes the catalog into <paramref name="directory"/> (an empty folder); hrefs are made relative to <paramref name="finalDirectory"/>, where it will live.</summary>
    public static StacExport Write(Workspace workspace, Site site, string directory, string finalDirectory, bool copyAssets, ExportPeriod period, CancellationToken cancel = default)
    {
        var scenes = workspace.Catalog.ListScenes(site.Id).Where(s => period.Contains(s.AcquiredUtc)).ToList();
        if (scenes.Count == 0)
        {
            throw new SiteWatchException(period == ExportPeriod.Always
                ? $"site {site.Name} has no scenes: nothing to catalog (add some first)"
                : $"site {site.Name} has no scenes acquired {period}: nothing to catalog");
        }
        var inPeriod = scenes.Select(s => s.Id).ToHashSet();
        var runs = workspace.Catalog.ListChangeRuns(site.Id).Where(r => inPeriod.Contains(r.BeforeSceneId) && inPeriod.Contains(r.AfterSceneId)).ToList();
        var slug = SceneIngestor.Slug(site.Name);
        // catalog.json -> collection.json (extent, license) -> items; both at the root so items keep one relative depth.
        var links = new JsonArray
        {
            Link("root", "./catalog.json", "application/json", site.Name),
            Link("parent", "./catalog.json", "application/json", site.Name),
        };
        var spatial = new double[] { double.MaxValue, double.MaxValue, double.MinValue, double.MinValue };
        var sceneItemPaths = new Dictionary<long, string>();
        foreach (var scene in scenes)
        {
            cancel.ThrowIfCancellationRequested();
            var id = $"{slug}-scene-{scene.Id}-{scene.AcquiredUtc:yyyyMMddTHHmmss}";
            var relative = $"scenes/{id}/{id}.json";
            sceneItemPaths[scene.Id] = relative;
            var sceneItem = SceneItem(workspace, site, scene, id, slug);
            var box = ((JsonArray)sceneItem["bbox"]!).Select(v => v!.GetValue<double>()).ToArray();
            spatial = [Math.Min(spatial[0], box[0]), Math.Min(spatial[1], box[1]), Math.Max(spatial[2], box[2]), Math.Max(spatial[3], box[3])];
            WriteItem(directory, finalDirectory, relative, sceneItem, copyAssets, workspace);
            links.Add(Link("item", "./" + relative, "application/geo+json", $"scene {Iso(scene.AcquiredUtc)} ({scene.Sensor})"));
        }
        var sceneById = scenes.ToDictionary(s => s.Id);
        foreach (var run in runs)
        {
            cancel.ThrowIfCancellationRequested();
            var before = sceneById[run.BeforeSceneId];
            var after = sceneById[run.AfterSceneId];
            var id = $"{slug}-change-{run.Id}-{before.AcquiredUtc:yyyyMMdd}-{after.AcquiredUtc:yyyyMMdd}-{SceneIngestor.Slug(run.Method)}";
            var relative = $"changes/{id}/{id}.json";
            var item = ChangeItem(workspace, site, run, before, after, id, slug);
            var itemLinks = (JsonArray)item["links"]!;
            itemLinks.Add(Link("derived_from", "../../" + sceneItemPaths[before.Id], "application/geo+json", "before scene"));
            itemLinks.Add(Link("derived_from", "../../" + sceneItemPaths[after.Id], "application/geo+json", "after scene"));
            WriteItem(directory, finalDirectory, relative, item, copyAssets, workspace);
            links.Add(Link("item", "./" + relative, "application/geo+json", $"change {before.AcquiredUtc:yyyy-MM-dd} -> {after.AcquiredUtc:yyyy-MM-dd} ({run.Method})"));
        }
        var description = $"Outputs of SiteWatch for site {site.Name}: {scenes.Count} scene(s) on the site grid (EPSG:{site.CrsEpsg}, {site.Gsd?.ToString("0.###", CultureInfo.InvariantCulture) ?? "?"} m) and {runs.Count} change run(s).";
        var collection = new JsonObject
        {
            ["type"] = "Collection",
            ["stac_version"] = StacVersion,
            ["id"] = slug,
            ["title"] = $"SiteWatch site {site.Name}",
            ["description"] = description,
            // The imagery's own terms travel with the source; SiteWatch's derived files carry none of their own.
            ["license"] = "other",
            ["extent"] = new JsonObject
            {
                ["spatial"] = new JsonObject { ["bbox"] = new JsonArray(new JsonArray(spatial[0], spatial[1], spatial[2], spatial[3])) },
                ["temporal"] = new JsonObject { ["interval"] = new JsonArray(new JsonArray(Iso(scenes.Min(s => s.AcquiredUtc)), Iso(scenes.Max(s => s.AcquiredUtc)))) },
            },
            ["links"] = links,
        };
        File.WriteAllText(Path.Combine(directory, "collection.json"), collection.ToJsonString(JsonOptions));
        var catalog = new JsonObject
        {
            ["type"] = "Catalog",
            ["stac_version"] = StacVersion,
            ["id"] = slug + "-catalog",
            ["title"] = $"SiteWatch site {site.Name}",
            ["description"] = description,
            ["links"] = new JsonArray
            {
                Link("root", "./catalog.json", "application/json", site.Name),
                Link("child", "./collection.json", "application/json", $"site {site.Name}"),
            },
        };
        var catalogFile = Path.Combine(directory, "catalog.json");
        File.WriteAllText(catalogFile, catalog.ToJsonString(JsonOptions));
        return new StacExport(Path.Combine(finalDirectory, "catalog.json"), scenes.Count, runs.Count, copyAssets);
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private static JsonObject SceneItem(Workspace workspace, Site site, Scene scene, string id, string collection)
    {
        var file = workspace.Resolve(scene.File);
        var (geometry, bbox, projection) = Footprint(file, site);
        var properties = new JsonObject
        {
            ["datetime"] = Iso(scene.AcquiredUtc),
            ["created"] = Iso(scene.IngestedUtc),
            ["platform"] = scene.Sensor,
            ["gsd"] = site.Gsd,
            ["sitewatch:scene_id"] = scene.Id,
            ["sitewatch:acquired_from"] = scene.AcquiredFrom,
            ["sitewatch:source_sha256"] = scene.SourceSha256,
            ["sitewatch:valid_fraction"] = Math.Round(scene.ValidFraction, 4),
        };
        if (scene.CloudCoverPercent is { } cloud)
        {
            properties["eo:cloud_cover"] = cloud;
        }
        foreach (var (key, value) in projection)
        {
            properties[key] = value?.DeepClone();
        }
        var bands = new JsonArray();
        foreach (var band in scene.Bands)
        {
            var b = new JsonObject { ["name"] = band.Name };
            if (band.WavelengthMicrometres is { } wl)
            {
                b["center_wavelength"] = wl;
            }
            bands.Add(b);
        }
        var assets = new JsonObject
        {
            ["image"] = Asset(scene.File, Cog, ["data"], $"scene on the site grid ({scene.DataType}, {scene.Bands.Count} bands)", scene.FileSha256, bands),
        };
        if (scene.CloudMaskFile is { } mask)
        {
            assets["cloud_mask"] = Asset(mask, GeoTiff, ["cloud", "cloud-shadow"], "cloud mask on the site grid (non-zero = cloud or shadow)", scene.CloudMaskSha256, null);
        }
        return Item(id, collection, geometry, bbox, properties, assets, [Projection, Eo, FileExtension]);
    }

    private static JsonObject ChangeItem(Workspace workspace, Site site, ChangeRunRecord run, Scene before, Scene after, string id, string collection)
    {
        var folder = workspace.Resolve(run.Directory);
        var mask = Path.Combine(folder, "change_mask.tif");
        var (geometry, bbox, projection) = Footprint(File.Exists(mask) ? mask : workspace.Resolve(before.File), site);
        var properties = new JsonObject
        {
            ["datetime"] = null,
            ["start_datetime"] = Iso(before.AcquiredUtc),
            ["end_datetime"] = Iso(after.AcquiredUtc),
            ["created"] = Iso(run.CreatedUtc),
            ["gsd"] = site.Gsd,
            ["sitewatch:change_run_id"] = run.Id,
            ["sitewatch:method"] = run.Method,
            ["sitewatch:before_scene_id"] = before.Id,
            ["sitewatch:after_scene_id"] = after.Id,
            ["sitewatch:parameters_sha256"] = run.ParametersSha256,
        };
        using (var summary = JsonDocument.Parse(run.Summary))
        {
            foreach (var kind in new[] { "appeared", "removed", "altered" })
            {
                if (summary.RootElement.TryGetProperty(kind, out var k) && k.ValueKind == JsonValueKind.Object)
                {
                    properties[$"sitewatch:{kind}_count"] = k.TryGetProperty("count", out var c) ? c.GetInt32() : null;
                    properties[$"sitewatch:{kind}_area_m2"] = k.TryGetProperty("area_m2", out var a) ? a.GetDouble() : null;
                }
            }
            if (summary.RootElement.TryGetProperty("changed_area_m2", out var changed) && changed.ValueKind == JsonValueKind.Number)
            {
                properties["sitewatch:changed_area_m2"] = changed.GetDouble();
            }
        }
        foreach (var (key, value) in projection)
        {
            properties[key] = value?.DeepClone();
        }
        var files = run.Manifest ?? StoredFiles.Manifest(folder);
        var assets = new JsonObject();
        foreach (var (name, sha) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            var stored = Path.Combine(run.Directory, name);
            var (key, type, roles, title) = name switch
            {
                "change_mask.tif" => ("change_mask", GeoTiff, new[] { "data" }, "change mask (1 = changed)"),
                "change_magnitude.tif" => ("change_magnitude", GeoTiff, new[] { "data" }, "change magnitude bands"),
                "changes.geojson" => ("changes", "application/geo+json", new[] { "data" }, "change objects with kind, area and confidence (WGS84)"),
                "quicklook.png" => ("quicklook", "image/png", new[] { "overview", "visual" }, "before | after | change"),
                "summary.json" => ("summary", "application/json", new[] { "metadata" }, "run summary: method, threshold, counts and areas"),
                "after_registered.tif" => ("after_registered", GeoTiff, new[] { "data" }, "after scene co-registered onto the before scene"),
                _ => (Path.GetFileNameWithoutExtension(name).Replace('.', '_'), MediaType(name), new[] { "data" }, name),
            };
            assets[key] = Asset(stored, type, roles, title, sha, null);
        }
        return Item(id, collection, geometry, bbox, properties, assets, [Projection, FileExtension]);
    }

    private static JsonObject Item(string id, string collection, JsonNode geometry, JsonArray bbox, JsonObject properties, JsonObject assets, string[] extensions) => new()
    {
        ["type"] = "Feature",
        ["stac_version"] = StacVersion,
        ["stac_extensions"] = new JsonArray(extensions.Select(e => (JsonNode)JsonValue.Create(e)).ToArray()),
        ["id"] = id,
        ["geometry"] = geometry,
        ["bbox"] = bbox,
        ["properties"] = properties,
        ["collection"] = collection,
        ["links"] = new JsonArray
        {
            Link("root", "../../catalog.json", "application/json", null),
            Link("parent", "../../collection.json", "application/json", null),
            Link("collection", "../../collection.json", "application/json", null),
        },
        ["assets"] = assets,
    };

    /// <summary>An asset whose href is still the stored path (relative to the workspace); <see cref="WriteItem"/> makes it relative to the item.</summary>
    private static JsonObject Asset(string storedPath, string type, string[] roles, string title, string? sha256, JsonArray? bands)
    {
        var asset = new JsonObject
        {
            ["href"] = storedPath,
            ["type"] = type,
            ["title"] = title,
            ["roles"] = new JsonArray(roles.Select(r => (JsonNode)JsonValue.Create(r)).ToArray()),
        };
        if (sha256 is not null)
        {
            // Multihash: 0x12 = SHA2-256, 0x20 = 32 bytes.
            asset["file:checksum"] = "1220" + sha256.ToLowerInvariant();
        }
        if (bands is not null)
        {
            asset["eo:bands"] = bands;
        }
        return asset;
    }

    private static void WriteItem(string directory, string finalDirectory, string relative, JsonObject item, bool copyAssets, Workspace workspace)
    {
        var itemFile = Path.Combine(directory, relative);
        var itemFolder = Path.GetDirectoryName(itemFile)!;
        var finalItemFolder = Path.GetDirectoryName(Path.Combine(finalDirectory, relative))!;
        Directory.CreateDirectory(itemFolder);
        foreach (var (_, node) in (JsonObject)item["assets"]!)
        {
            var asset = (JsonObject)node!;
            var href = (string)asset["href"]!;
            var stored = workspace.Resolve(href);
            if (!workspace.StoredFileExists(href))
            {
                throw new SiteWatchException($"{stored}: a stored file is missing; nothing was written") { Next = new NextStep(NextStepKind.CheckWorkspace) };
            }
            if (copyAssets || stored.StartsWith("/vsis3/", StringComparison.Ordinal))
            {
                // A file in the imagery bucket is copied too: a catalog cannot link into a private bucket by path.
                var name = Path.GetFileName(stored);
                using (var source = workspace.OpenStoredFile(href))
                using (var target = File.Create(Path.Combine(itemFolder, name)))
                {
                    source.CopyTo(target);
                }
                asset["file:size"] = new FileInfo(Path.Combine(itemFolder, name)).Length;
                asset["href"] = "./" + name;
            }
            else
            {
                asset["file:size"] = new FileInfo(stored).Length;
                asset["href"] = Path.GetRelativePath(finalItemFolder, stored).Replace(Path.DirectorySeparatorChar, '/');
            }
        }
        File.WriteAllText(itemFile, item.ToJsonString(JsonOptions));
    }

    /// <summary>The raster's footprint in WGS84 (its four corners, densified), bbox and projection extension fields.</summary>
    private static (JsonNode Geometry, JsonArray Bbox, JsonObject Projection) Footprint(string raster, Site site)
    {
        var (polygon, width, height, gt) = RasterFootprint(raster, site);
        var env = polygon.EnvelopeInternal;
        var projection = new JsonObject
        {
            ["proj:epsg"] = site.CrsEpsg,
            ["proj:shape"] = new JsonArray(height, width),
            ["proj:transform"] = new JsonArray(gt.PixelWidth, gt.RowRotation, gt.OriginX, gt.ColumnRotation, gt.PixelHeight, gt.OriginY),
        };
        return (JsonNode.Parse(GeoJsonText.Write(polygon))!, new JsonArray(env.MinX, env.MinY, env.MaxX, env.MaxY), projection);
    }

    /// <summary>A stored raster's extent on the site grid as a WGS84 polygon (edges densified: UTM edges curve in lon/lat).</summary>
    internal static (Geometry Wgs84, int Width, int Height, GeoTransform Transform) RasterFootprint(string raster, Site site)
    {
        using var dataset = RasterDataset.Open(raster);
        var gt = dataset.GeoTransform ?? throw new SiteWatchException($"{raster}: has no georeference");
        var factory = new GeometryFactory(new PrecisionModel(), site.CrsEpsg);
        var ring = new List<Coordinate>();
        const int steps = 8;
        foreach (var (c0, r0, c1, r1) in new[] { (0.0, 0.0, 1.0, 0.0), (1, 0, 1, 1), (1, 1, 0, 1), (0, 1, 0, 0) })
        {
            for (var i = 0; i < steps; i++)
            {
                var t = i / (double)steps;
                var (x, y) = gt.PixelToMap((c0 + (c1 - c0) * t) * dataset.Width, (r0 + (r1 - r0) * t) * dataset.Height);
                ring.Add(new Coordinate(x, y));
            }
        }
        ring.Add(ring[0].Copy());
        return (GeometryProjection.Transform(factory.CreatePolygon(ring.ToArray()), site.CrsEpsg, 4326), dataset.Width, dataset.Height, gt);
    }

    private static JsonObject Link(string rel, string href, string type, string? title)
    {
        var link = new JsonObject { ["rel"] = rel, ["href"] = href, ["type"] = type };
        if (title is not null)
        {
            link["title"] = title;
        }
        return link;
    }

    private static string MediaType(string name) => Path.GetExtension(name).ToLowerInvariant() switch
    {
        ".tif" or ".tiff" => GeoTiff,
        ".png" => "image/png",
        ".json" => "application/json",
        ".geojson" => "application/geo+json",
        _ => "application/octet-stream",
    };

    private static string Iso(DateTime utc) => utc.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}
