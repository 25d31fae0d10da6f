using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Ingest;
using SiteWatch.Gdal;
using SiteWatch.Server.Jobs;
using SiteWatch.Server.Tiles;

namespace SiteWatch.Server.Endpoints;

internal static class SceneEndpoints
{
    /// <summary>
    /// Uploads are opened by GDAL's GeoTIFF driver only: other drivers (VRT above all) follow references to other
    /// files and URLs, so an uploaded VRT could read the catalog or reach /vsicurl/ addresses from the server.
    /// </summary>
    public static readonly IReadOnlyCollection<string> UploadDrivers = ["GTiff", "COG"];

    public static Scene RequireScene(Workspace w, long id) => w.Catalog.TryGetScene(id) ?? throw HttpProblem.NotFound("scene", id);

    public static void Map(WebApplication app)
    {
        var scenes = app.MapGroup("/api/scenes").WithTags("scenes");
        scenes.MapGet("/{id:long}", (long id, WorkspaceHost host) => Results.Json(Views.Scene(host.Use(w => RequireScene(w, id)))));

        // The stored COG, with HTTP range requests for GIS tools. The path comes from the catalog row, resolved
        // inside the workspace; nothing of the request names a file.
        scenes.MapGet("/{id:long}/cog", (long id, WorkspaceHost host) =>
        {
            var (scene, file, exists, bucketUrl) = host.Use(w =>
            {
                var s = RequireScene(w, id);
                // In a bucket: the client downloads it there (a signed URL valid for 15 minutes), ranges and all.
                return (s, w.Resolve(s.File), w.StoredFileExists(s.File), w.Imagery.DownloadUrl(s.File, TimeSpan.FromMinutes(15)));
            });
            if (exists && bucketUrl is not null)
            {
                return Results.Redirect(bucketUrl.AbsoluteUri);
            }
            return exists
                ? Results.File(file, "image/tiff", $"scene-{scene.Id}.tif", enableRangeProcessing: true,
                    entityTag: scene.FileSha256 is null ? null : new EntityTagHeaderValue($"\"{scene.FileSha256}\""))
                : Problems.Of(StatusCodes.Status404NotFound, $"scene {id}: its stored file is missing (run 'sitewatch check')");
        });

        scenes.MapGet("/{id:long}/tiles/{z}/{x}/{y}.{format}", async (long id, string z, string x, string y, string format, HttpContext context,
            WorkspaceHost host, TileRenderer tiles, CancellationToken cancel) =>
        {
            format = TileRenderer.Format(format);
            var tile = TileAddress.Parse(z, x, y);
            var (scene, file) = host.Use(w => { var s = RequireScene(w, id); return (s, w.Resolve(s.File)); });
            var bands = TileRenderer.Bands(scene, context.Request.Query["bands"].ToString());
            var etag = TileRenderer.ETag(scene, tile, bands, format);
            context.Response.Headers.ETag = etag;
            context.Response.Headers.CacheControl = "private, max-age=3600";
            if (context.Request.Headers.IfNoneMatch.ToString().Split(',').Any(t => t.Trim() == etag))
            {
                return Results.StatusCode(StatusCodes.Status304NotModified);
            }
            if (!File.Exists(file))
            {
                return Problems.Of(StatusCodes.Status404NotFound, $"scene {id}: its stored file is missing (run 'sitewatch check')");
            }
            var bytes = await tiles.RenderAsync(scene, file, tile, bands, format, cancel);
            return Results.Bytes(bytes, TileRenderer.ContentType(format));
        });

        // Upload a raster into a site: streamed to the workspace's staging area (size-capped), checked by GDAL, then
        // ingested by a background job. On any failure nothing stays behind.
        app.MapPost("/api/sites/{id:long}/scenes", async (long id, HttpContext context, WorkspaceHost host, JobQueue jobs, ServerSettings settings,
            UploadGate gate, ClaimsPrincipal user, CancellationToken cancel) =>
        {
            var site = host.Use(w => SiteEndpoints.RequireSite(w, id));
            var date = ParseDate(context.Request.Query["date"].ToString());
            if (context.Request.ContentLength is { } length && length > settings.MaxUploadBytes)
            {
                throw new HttpProblem(StatusCodes.Status413PayloadTooLarge, $"upload of {length} bytes is larger than the limit of {settings.MaxUploadBytes} bytes; nothing was stored");
            }
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = settings.MaxUploadBytes;
            }
            CheckFileName(context.Request.Query["filename"].ToString());
            using var slot = gate.Enter();
            gate.CheckFreeSpace(host.Root, context.Request.ContentLength ?? 0);
            var staged = host.Use(w => { w.EnsureWritable(); return w.NewStagingPath(".tif"); });
            try
            {
                await using (var target = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                {
                    var buffer = new byte[1 << 16];
                    var head = new byte[4];
                    long total = 0;
                    int read;
                    while ((read = await context.Request.Body.ReadAsync(buffer, cancel)) > 0)
                    {
                        if (total < head.Length)
                        {
                            // The first bytes decide before anything is kept or handed to GDAL.
                            var n = (int)Math.Min(head.Length - total, read);
                            buffer.AsSpan(0, n).CopyTo(head.AsSpan((int)total));
                            if (total + n == head.Length)
                            {
                                CheckTiffSignature(head);
                            }
                        }
                        total += read;
                        if (total > settings.MaxUploadBytes)
                        {
                            throw new HttpProblem(StatusCodes.Status413PayloadTooLarge, $"upload is larger than the limit of {settings.MaxUploadBytes} bytes; nothing was stored");
                        }
                        if (context.Request.ContentLength is null && (total & UploadGate.FreeSpaceCheckMask) < read)
                        {
                            // No declared length: the disk is looked at again every few megabytes as the body arrives.
                            gate.CheckFreeSpace(host.Root, 0);
                        }
                        await target.WriteAsync(buffer.AsMemory(0, read), cancel);
                    }
                    if (total == 0)
                    {
                        throw HttpProblem.BadRequest("upload: the request body is empty; send the raster file as the body");
                    }
                    if (total < head.Length)
                    {
                        CheckTiffSignature(head.AsSpan(0, (int)total));
                    }
                }
                CheckRaster(staged);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                Delete(staged);
                throw new HttpProblem(StatusCodes.Status413PayloadTooLarge, $"upload is larger than the limit of {settings.MaxUploadBytes} bytes; nothing was stored");
            }
            catch
            {
                Delete(staged);
                throw;
            }
            var job = jobs.Enqueue("ingest", site.Id, user.Identity?.Name ?? "?", (workspace, progress, stop) =>
            {
                var result = new SceneIngestor(workspace).Ingest(site.Name, staged, new IngestOptions { AcquiredUtc = date, AllowedDrivers = UploadDrivers }, progress, stop);
                return new { scene_id = result.Scene.Id, already_present = result.AlreadyPresent };
            }, cleanup: () => Delete(staged));
            return Results.Accepted($"/api/jobs/{job.Id}", job.View());
        }).RequireAuthorization(ServerApp.AnalystPolicy).WithTags("scenes");
    }

    private static DateTime? ParseDate(string text)
    {
        if (text.Length == 0)
        {
            return null;
        }
        return DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var d)
            ? d
            : throw HttpProblem.BadRequest($"query parameter 'date': '{Paging.Truncate(text)}' is not a date (YYYY-MM-DD or ISO 8601)");
    }

    /// <summary>Uploads are GeoTIFFs (COGs included): a client file name with another extension (.vrt above all) is refused; the stored name is always ours.</summary>
    private static void CheckFileName(string filename)
    {
        var ext = Path.GetExtension(filename).ToLowerInvariant();
        if (filename.Length > 0 && ext is not (".tif" or ".tiff"))
        {
            throw HttpProblem.BadRequest($"upload '{Paging.Truncate(Path.GetFileName(filename))}': only GeoTIFF files (.tif, .tiff) are accepted; nothing was stored");
        }
    }

    /// <summary>TIFF (II*\0, MM\0*) or BigTIFF (II+\0, MM\0+): anything else never reaches GDAL.</summary>
    private static void CheckTiffSignature(ReadOnlySpan<byte> head)
    {
        var tiff = head.Length == 4 && (
            (head[0] == 'I' && head[1] == 'I' && head[2] is (byte)'*' or (byte)'+' && head[3] == 0) ||
            (head[0] == 'M' && head[1] == 'M' && head[2] == 0 && head[3] is (byte)'*' or (byte)'+'));
        if (!tiff)
        {
            throw HttpProblem.BadRequest("upload: not a GeoTIFF (the file does not start with a TIFF or BigTIFF signature); only GeoTIFF and COG uploads are accepted; nothing was stored");
        }
    }

    /// <summary>The upload must be a georeferenced raster GDAL reads; otherwise 400 and the file is removed.</summary>
    private static void CheckRaster(string path)
    {
        try
        {
            using var raster = RasterDataset.Open(path, update: false, UploadDrivers);
            if (raster.GeoTransform is null || raster.CrsWkt is null)
            {
                throw HttpProblem.BadRequest("upload: the raster has no georeference (geotransform and CRS); SiteWatch needs georeferenced scenes");
            }
        }
        catch (GdalException e)
        {
            throw HttpProblem.BadRequest($"upload: not a raster GDAL can read ({e.GdalMessage ?? e.Message})".Replace(path, "upload"));
        }
        catch (Core.SiteWatchException e)
        {
            throw HttpProblem.BadRequest($"upload: {e.Message}".Replace(path, "upload"));
        }
    }

    private static void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The staging session is swept when the server stops.
        }
    }
}

/// <summary>
/// Bounds what uploads may take: Server:MaxConcurrentUploads received at once (503 beyond: disk bandwidth and staging
/// space are finite) and Server:UploadMinFreeBytes left free on the workspace's disk (507 when an upload would go below).
/// </summary>
internal sealed class UploadGate(ServerSettings settings)
{
    /// <summary>Free space is checked again after every 8 MiB of a body of unknown length.</summary>
    public const long FreeSpaceCheckMask = (8 << 20) - 1;

    private readonly SemaphoreSlim _slots = new(Math.Max(1, settings.MaxConcurrentUploads));

    public IDisposable Enter()
    {
        if (!_slots.Wait(0))
        {
            throw new HttpProblem(StatusCodes.Status503ServiceUnavailable, $"{settings.MaxConcurrentUploads} uploads are already being received; try again shortly; nothing was stored");
        }
        return new Slot(_slots);
    }

    /// <summary>Refuses with 507 when <paramref name="incoming"/> more bytes would leave less than the minimum free.</summary>
    public void CheckFreeSpace(string workspaceRoot, long incoming)
    {
        var free = new DriveInfo(workspaceRoot).AvailableFreeSpace;
        if (free - incoming < settings.UploadMinFreeBytes)
        {
            throw new HttpProblem(StatusCodes.Status507InsufficientStorage,
                $"upload refused: the server would have less than {settings.UploadMinFreeBytes} bytes of disk free (Server:UploadMinFreeBytes); nothing was stored");
        }
    }

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release();
            }
        }
    }
}
