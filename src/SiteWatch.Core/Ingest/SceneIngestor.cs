using System.Security.Cryptography;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Geo;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Ingest;

/// <summary>Options of one ingest, as given on the command line.</summary>
public sealed record IngestOptions
{
    /// <summary>Acquisition time overriding the file's metadata (--date).</summary>
    public DateTime? AcquiredUtc { get; init; }
    public string? Sensor { get; init; }
    public Resampling Resampling { get; init; } = Resampling.Bilinear;
    /// <summary>Recorded as the scene's source instead of the file's path (e.g. the STAC item a download came from).</summary>
    public string? SourceLabel { get; init; }
    /// <summary>GDAL drivers the source may be opened with (the server: GTiff only for uploads); null allows all (the CLI opens what its user names).</summary>
    public IReadOnlyCollection<string>? AllowedDrivers { get; init; }
    /// <summary>Names of the bands in order (e.g. red, green, blue, nir for NAIP), for files that do not say; overrides the metadata.</summary>
    public IReadOnlyList<string>? BandNames { get; init; }
    /// <summary>Search scenes delivered without a cloud mask for clouds and their shadows (<see cref="CloudDetector"/>) and store what is found as their mask.</summary>
    public bool DetectClouds { get; init; } = true;
}

/// <summary>What happened to one file; <paramref name="Clouds"/> when the scene came without a cloud mask and was searched for clouds.</summary>
public sealed record IngestResult(Scene Scene, bool AlreadyPresent, CloudDetectionResult? Clouds = null);

/// <summary>
/// Puts a scene into a site: clips it to the AOI plus margin, warps it onto the site grid, stores it as a COG and
/// records it. The file is written in the staging area and moved in the same step as the catalog row is committed,
/// so a failure leaves neither a row nor a stray file.
/// </summary>
public sealed class SceneIngestor(Workspace workspace)
{
    public IngestResult Ingest(string siteName, string sourcePath, IngestOptions options, IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        var site = workspace.Catalog.GetSite(siteName);
        if (site.Gsd is null || workspace.Catalog.ListScenes(site.Id).Count == 0)
        {
            // The first scene fixes the site's grid: a concurrent first ingest waits for it, then uses that grid.
            workspace.EnsureWritable();
            using var held = workspace.Lock($"site-{site.Id}-grid", $"the first scene of site {site.Name}", cancel);
            return IngestOne(site.Name, sourcePath, options, progress, cancel);
        }
        return IngestOne(siteName, sourcePath, options, progress, cancel);
    }

    private IngestResult IngestOne(string siteName, string sourcePath, IngestOptions options, IProgress<double>? progress, CancellationToken cancel)
    {
        var site = workspace.Catalog.GetSite(siteName);
        var fullPath = Path.GetFullPath(sourcePath);
        using var raster = OpenScene(fullPath, options.AllowedDrivers);
        var hash = HashFiles(raster, fullPath);
        if (workspace.Catalog.FindSceneBySource(site.Id, hash) is { } existing)
        {
            progress?.Report(1);
            return new IngestResult(existing, AlreadyPresent: true);
        }
        workspace.EnsureWritable();

        var metadata = SceneMetadataReader.Read(raster, fullPath);
        if (options.BandNames is { } names)
        {
            if (names.Count != raster.BandCount)
            {
                throw new SiteWatchException($"{fullPath}: has {raster.BandCount} bands but {names.Count} band names were given ({string.Join(", ", names)})");
            }
            metadata = metadata with { Bands = metadata.Bands.Select((b, i) => b with { Name = names[i].Trim().ToLowerInvariant() }).ToList() };
        }
        var acquired = options.AcquiredUtc ?? metadata.AcquiredUtc
            ?? throw new SiteWatchException($"{fullPath}: no acquisition time in its metadata (STAC item, TIFF DateTime, ENVI header)") { Next = new NextStep(NextStepKind.GiveDate) };
        // Provenance kept with the scene; "--date" is what catalogs have always stored for a date the user gave.
        var acquiredFrom = options.AcquiredUtc is not null ? "--date" : metadata.AcquiredFrom!;

        using var sourceCrs = raster.OpenCrs()!;
        var firstScene = site.Gsd is null || workspace.Catalog.ListScenes(site.Id).Count == 0;
        string? gridReason = null;
        if (firstScene)
        {
            (var epsg, gridReason) = ChooseCrs(site, sourceCrs);
            site = site with { CrsEpsg = epsg };
        }
        using var siteCrs = SpatialReference.FromEpsg(site.CrsEpsg);
        var (gsd, anchorX, anchorY) = site.Gsd is { } fixedGsd && !firstScene
            ? (fixedGsd, site.AnchorX, site.AnchorY)
            : ChooseGrid(raster, sourceCrs, siteCrs, site.Gsd);
        var grid = SiteGrid.For(site, gsd, anchorX, anchorY);
        CheckOverlap(raster, sourceCrs, siteCrs, site, fullPath);

        var staged = workspace.NewStagingPath(".tif");
        var stagedMask = metadata.CloudMaskPath is null && !options.DetectClouds ? null : workspace.NewStagingPath(".tif");
        CloudDetectionResult? clouds = null;
        try
        {
            var nodata = raster.NoData ?? (raster.DataType is RasterDataType.Float32 or RasterDataType.Float64 ? double.NaN : 0);
            var target = new WarpTarget
            {
                Crs = $"EPSG:{site.CrsEpsg}",
                Resolution = grid.Gsd,
                Extent = grid.Extent,
                Resampling = options.Resampling,
                NoData = nodata,
            };
            // A virtual warped raster: pixels are computed block by block as the COG writer pulls them.
            using (var warped = Warper.Warp(raster, "", target, "VRT", cancel: cancel))
            {
                for (var b = 1; b <= warped.BandCount; b++)
                {
                    warped.SetBandDescription(b, metadata.Bands[b - 1].Name);
                }
                // In the default domain: the COG driver writes no other domain (an IMAGERY item was silently dropped).
                warped.SetMetadataItem("ACQUISITIONDATETIME", SiteCatalog.Iso(acquired));
                // Reported in order on this thread: System.Progress would post each report to the thread pool, and a late 0.9
                // could land after the caller had reported the ingest finished.
                warped.CopyToCog(staged, new CogOptions(), new SyncProgress<double>(p => progress?.Report(0.9 * p)), cancel);
            }
            if (metadata.CloudMaskPath is { } maskPath)
            {
                WriteCloudMask(maskPath, grid, site.CrsEpsg, stagedMask!, options.AllowedDrivers, cancel);
            }
            else if (options.DetectClouds)
            {
                // No provider mask: look for clouds and their shadows on the stored scene itself.
                var spectral = Change.SpectralBands.Identify(metadata.Bands.Select(b => (string?)b.Name).ToArray(), metadata.Bands.Select(b => b.WavelengthMicrometres).ToArray());
                clouds = CloudDetector.Detect(staged, spectral, stagedMask, cancel: cancel);
                if (!clouds.Found)
                {
                    File.Delete(stagedMask!);
                    stagedMask = null;
                }
            }
            var (width, height, valid) = MeasureValid(staged);
            if (valid == 0)
            {
                throw new SiteWatchException($"{fullPath}: has no valid pixels inside the AOI of site {site.Name}");
            }
            var draft = new Scene
            {
                Id = 0,
                SiteId = site.Id,
                AcquiredUtc = acquired,
                AcquiredFrom = acquiredFrom,
                Sensor = options.Sensor ?? metadata.Sensor ?? "unknown",
                Bands = metadata.Bands,
                CloudCoverPercent = metadata.CloudCoverPercent ?? (clouds is { SkippedBecause: null } ? clouds.CoverPercent : null),
                SourcePath = options.SourceLabel ?? fullPath,
                SourceSha256 = hash,
                File = Path.Combine(Workspace.SiteFolder("imagery", site), StoredName(acquired, hash, workspace.Imagery)),
                FileSha256 = StoredFiles.Sha256(staged),
                CloudMaskSha256 = stagedMask is null ? null : StoredFiles.Sha256(stagedMask),
                Width = width,
                Height = height,
                DataType = raster.DataType.GdalName(),
                NoData = double.IsNaN(nodata) ? null : nodata,
                ValidFraction = valid,
                IngestedUtc = DateTime.UtcNow,
            };
            if (stagedMask is not null)
            {
                draft = draft with { CloudMaskFile = Path.ChangeExtension(draft.File, null) + "_cloudmask.tif" };
            }
            // The COG (and cloud mask) reach the imagery store with the row: renamed into the workspace inside the commit,
            // or uploaded to a bucket before it, so no row ever names a file the store does not hold.
            List<(string Staged, string Stored)> files = [(staged, draft.File)];
            if (stagedMask is not null)
            {
                files.Add((stagedMask, draft.CloudMaskFile!));
            }
            var store = workspace.Imagery;
            var fix = firstScene ? new SiteGridFix(gsd, anchorX, anchorY, site.CrsEpsg, gridReason!) : null;
            Scene scene;
            bool alreadyPresent;
            if (store.PublishesInsideCommit)
            {
                (scene, alreadyPresent) = workspace.Catalog.CommitScene(draft, fix,
                    publish: () => files.ForEach(f => store.Publish(f.Staged, f.Stored)),
                    unpublish: () => files.ForEach(f => store.Remove(f.Stored)));
            }
            else
            {
                // Uploaded under keys of this ingest alone, so removing them on failure, or when a concurrent ingest of
                // the same source won, never touches objects a row names.
                try
                {
                    files.ForEach(f => store.Publish(f.Staged, f.Stored, cancel));
                    (scene, alreadyPresent) = workspace.Catalog.CommitScene(draft, fix, publish: () => { }, unpublish: () => { });
                }
                catch
                {
                    files.ForEach(f => store.Remove(f.Stored));
                    throw;
                }
                if (alreadyPresent)
                {
                    files.ForEach(f => store.Remove(f.Stored));
                }
            }
            progress?.Report(1);
            return new IngestResult(scene, alreadyPresent, clouds);
        }
        catch (GdalException e)
        {
            throw new SiteWatchException(e.Message.StartsWith(fullPath, StringComparison.Ordinal) ? e.Message : $"{fullPath}: {e.Message}", e);
        }
        finally
        {
            foreach (var leftover in new[] { staged, stagedMask })
            {
                if (leftover is not null && File.Exists(leftover))
                {
                    File.Delete(leftover);
                }
            }
        }
    }

    /// <summary>The provider's cloud mask, warped (nearest) onto the site grid: non-zero = cloud or cloud shadow.</summary>
    private static void WriteCloudMask(string maskPath, SiteGrid grid, int epsg, string output, IReadOnlyCollection<string>? drivers, CancellationToken cancel)
    {
        using var mask = OpenScene(maskPath, drivers);
        using var warped = Warper.Warp(mask, "", new WarpTarget
        {
            Crs = $"EPSG:{epsg}",
            Resolution = grid.Gsd,
            Extent = grid.Extent,
            Resampling = Resampling.Nearest,
            NoData = 0,
        }, "VRT", cancel: cancel);
        warped.CopyToCog(output, new CogOptions { OverviewResampling = "NEAREST" }, cancel: cancel);
    }

    private static RasterDataset OpenScene(string path, IReadOnlyCollection<string>? drivers)
    {
        RasterDataset raster;
        try
        {
            raster = RasterDataset.Open(path, update: false, drivers);
        }
        catch (GdalException e)
        {
            throw new SiteWatchException(e.Message, e);
        }
        if (raster.GeoTransform is null || raster.CrsWkt is null)
        {
            raster.Dispose();
            throw new SiteWatchException($"{path}: has no georeference (no geotransform or no coordinate reference system); SiteWatch needs georeferenced scenes");
        }
        return raster;
    }

    /// <summary>
    /// The grid CRS the first scene settles: one the user chose stays; else the scene's own CRS when it is projected,
    /// in metres, known to EPSG and meant for the AOI's area (any UTM datum, a national grid), so native pixels are
    /// copied rather than resampled across a datum; else the provisional UTM zone of the AOI's centroid.
    /// </summary>
    private static (int Epsg, string Reason) ChooseCrs(Site site, SpatialReference sourceCrs)
    {
        if (site.GridReason is { } chosen)
        {
            return (site.CrsEpsg, chosen);
        }
        using var utm = SpatialReference.FromEpsg(site.CrsEpsg);
        var fallback = $"EPSG:{site.CrsEpsg} ({utm.Name}): the UTM zone of the AOI's centroid";
        if (!sourceCrs.IsProjected)
        {
            return (site.CrsEpsg, $"{fallback}; the first scene's CRS ({sourceCrs.Name}) is not projected");
        }
        if (Math.Abs(sourceCrs.LinearUnitMetres - 1) > 1e-9)
        {
            return (site.CrsEpsg, $"{fallback}; the first scene's CRS ({sourceCrs.Name}) is not in metres");
        }
        if (sourceCrs.Epsg is not { } native)
        {
            return (site.CrsEpsg, $"{fallback}; the first scene's CRS ({sourceCrs.Name}) has no EPSG code");
        }
        var aoi = site.Aoi.EnvelopeInternal;
        if (sourceCrs.AreaOfUse is { } area && !(area.West <= area.East
                ? aoi.MinX >= area.West - 1e-9 && aoi.MaxX <= area.East + 1e-9
                : aoi.MinX >= area.West - 1e-9 || aoi.MaxX <= area.East + 1e-9)
            || sourceCrs.AreaOfUse is { } a2 && (aoi.MinY < a2.South - 1e-9 || aoi.MaxY > a2.North + 1e-9))
        {
            return (site.CrsEpsg, $"{fallback}; the first scene's CRS (EPSG:{native}, {sourceCrs.Name}) is not meant for the AOI's area");
        }
        return (native, $"EPSG:{native} ({sourceCrs.Name}): the first scene's own projected CRS, kept so its pixels are stored without resampling");
    }

    /// <summary>
    /// The first scene of a site fixes its grid: the site's GSD when set (else the scene's own pixel size), aligned with
    /// the scene's pixels when it is already on the site's CRS at that GSD, so native data is not resampled.
    /// </summary>
    private static (double Gsd, double AnchorX, double AnchorY) ChooseGrid(RasterDataset raster, SpatialReference sourceCrs, SpatialReference siteCrs, double? siteGsd)
    {
        var gt = raster.GeoTransform!.Value;
        var sourcePixelMetres = NativePixelMetres(raster, sourceCrs);
        var gsd = siteGsd ?? RoundGsd(sourcePixelMetres);
        var sameCrs = sourceCrs.IsSame(siteCrs);
        if (sameCrs && gt.IsNorthUp && Math.Abs(gt.PixelWidth - gsd) < 1e-6 * gsd && Math.Abs(-gt.PixelHeight - gsd) < 1e-6 * gsd)
        {
            return (gsd, Mod(gt.OriginX, gsd), Mod(gt.OriginY, gsd));
        }
        return (gsd, 0, 0);
    }

    private static double Mod(double value, double step)
    {
        var r = value % step;
        return r < 0 ? r + step : r;
    }

    private static double NativePixelMetres(RasterDataset raster, SpatialReference crs)
    {
        var gt = raster.GeoTransform!.Value;
        var size = Math.Sqrt(Math.Abs(gt.PixelWidth * gt.PixelHeight - gt.RowRotation * gt.ColumnRotation));
        if (crs.IsGeographic)
        {
            var (_, centreY) = gt.PixelToMap(raster.Width / 2.0, raster.Height / 2.0);
            return size * 111_320 * Math.Sqrt(Math.Cos(centreY * Math.PI / 180));
        }
        return size * crs.LinearUnitMetres;
    }

    /// <summary>Rounds a pixel size to three significant digits so a 0.4999999 m product gives a 0.5 m grid.</summary>
    private static double RoundGsd(double metres)
    {
        if (!(metres > 0) || !double.IsFinite(metres))
        {
            throw new SiteWatchException($"the scene's pixel size ({metres}) is not usable");
        }
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(metres)) - 2);
        return Math.Round(metres / magnitude) * magnitude;
    }

    private static void CheckOverlap(RasterDataset raster, SpatialReference sourceCrs, SpatialReference siteCrs, Site site, string path)
    {
        Geometry footprint;
        Geometry aoi;
        try
        {
            using var toSite = new CoordinateTransform(sourceCrs, siteCrs);
            footprint = GeometryProjection.Transform(Footprint(raster), toSite, site.CrsEpsg);
            aoi = GeometryProjection.Transform(site.Aoi, 4326, site.CrsEpsg);
        }
        catch (GdalException e)
        {
            throw new SiteWatchException($"{path}: its coordinate reference system ({sourceCrs}) cannot be transformed to the site's EPSG:{site.CrsEpsg}: {e.GdalMessage ?? e.Message}", e);
        }
        if (!footprint.Intersects(aoi))
        {
            using var toWgs84 = new CoordinateTransform(siteCrs, SpatialReference.Wgs84());
            var c = footprint.Centroid;
            var (lon, lat) = toWgs84.Transform(c.X, c.Y);
            throw new SiteWatchException(FormattableString.Invariant(
                $"{path}: does not overlap the AOI of site {site.Name} (the scene is centred at {lat:0.####}N {lon:0.####}E)"));
        }
    }

    /// <summary>The raster's outline in its own CRS, with points along each edge so curved reprojections stay faithful.</summary>
    private static Polygon Footprint(RasterDataset raster)
    {
        const int steps = 16;
        var gt = raster.GeoTransform!.Value;
        var ring = new List<Coordinate>(steps * 4 + 1);
        void Edge(double c0, double r0, double c1, double r1)
        {
            for (var i = 0; i < steps; i++)
            {
                var t = i / (double)steps;
                var (x, y) = gt.PixelToMap(c0 + (c1 - c0) * t, r0 + (r1 - r0) * t);
                ring.Add(new Coordinate(x, y));
            }
        }
        Edge(0, 0, raster.Width, 0);
        Edge(raster.Width, 0, raster.Width, raster.Height);
        Edge(raster.Width, raster.Height, 0, raster.Height);
        Edge(0, raster.Height, 0, 0);
        ring.Add(ring[0].Copy());
        return new GeometryFactory().CreatePolygon(ring.ToArray());
    }

    /// <summary>
    /// A stored scene's file name: acquisition time and source hash, so one source has one name. A bucket, written
    /// before the commit, adds a token of this ingest so concurrent ingests of one source never share an object.
    /// </summary>
    private static string StoredName(DateTime acquired, string sourceHash, ImageryStore store) =>
        store.PublishesInsideCommit
            ? $"{acquired:yyyyMMdd'T'HHmmss}_{sourceHash[..12]}.tif"
            : $"{acquired:yyyyMMdd'T'HHmmss}_{sourceHash[..12]}_{Guid.NewGuid().ToString("N")[..8]}.tif";

    /// <summary>Size and fraction of valid pixels of a stored scene (any band valid), read block by block.</summary>
    private static (int Width, int Height, double Valid) MeasureValid(string path)
    {
        using var cog = RasterDataset.Open(path);
        var nodata = cog.NoData;
        long valid = 0;
        var buffer = new double[0];
        var any = new bool[0];
        foreach (var window in cog.BlockWindows())
        {
            var n = (int)window.PixelCount;
            if (buffer.Length < n)
            {
                buffer = new double[n];
                any = new bool[n];
            }
            Array.Clear(any, 0, n);
            for (var b = 1; b <= cog.BandCount; b++)
            {
                cog.Read<double>(b, window, buffer.AsSpan(0, n));
                for (var i = 0; i < n; i++)
                {
                    var v = buffer[i];
                    any[i] |= nodata is { } nd ? !(v == nd || double.IsNaN(v)) : !double.IsNaN(v);
                }
            }
            for (var i = 0; i < n; i++)
            {
                valid += any[i] ? 1 : 0;
            }
        }
        return (cog.Width, cog.Height, valid / ((double)cog.Width * cog.Height));
    }

    /// <summary>SHA-256 over every file of the dataset (an ENVI raster's header counts too), streamed.</summary>
    private static string HashFiles(RasterDataset raster, string path)
    {
        var files = raster.Files.Count > 0 ? raster.Files.Select(Path.GetFullPath).Distinct().Order(StringComparer.Ordinal).ToList() : [path];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        foreach (var file in files)
        {
            using var stream = File.OpenRead(file);
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>A file-system-safe folder name for a site.</summary>
    public static string Slug(string name)
    {
        var chars = name.Trim().ToLowerInvariant().Select(ch => char.IsAsciiLetterOrDigit(ch) ? ch : '-').ToArray();
        var slug = new string(chars).Trim('-');
        return slug.Length == 0 ? "site" : slug;
    }
}
