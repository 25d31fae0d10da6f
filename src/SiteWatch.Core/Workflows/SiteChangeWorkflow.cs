using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Core.Ingest;
using SiteWatch.Core.Registration;
using SiteWatch.Gdal;
using SiteWatch.Core.Change.Learned;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Core.Workflows;

public sealed record SiteChangeOptions
{
    public ChangeDetectionOptions Detection { get; init; } = new();
    public double? MinAreaSquareMetres { get; init; }
    /// <summary>Co-register AFTER onto BEFORE before comparing (scenes of one site share a grid, not always their content's position).</summary>
    public bool CoRegister { get; init; } = true;
    /// <summary>
    /// Normalise AFTER's radiometry onto BEFORE's with IR-MAD no-change pixels first. Only for methods that need it:
    /// MAD and IR-MAD are invariant to per-band linear changes already.
    /// </summary>
    public bool Normalise { get; init; } = true;
}

/// <summary>One change run of a site, from the catalog (reused) or computed now.</summary>
public sealed record SiteChangeResult(Site Site, Scene Before, Scene After, ChangeRunRecord Record, bool Reused, IReadOnlyList<ChangeObject>? Objects, string Directory)
{
    public JsonElement Summary => JsonDocument.Parse(Record.Summary).RootElement.Clone();
}

/// <summary>
/// Change detection between scenes of a site: co-registration, radiometric normalisation where the method needs it,
/// detection, change objects; outputs stored under changes/ and recorded in the catalog. Re-running with the same
/// scenes and parameters reuses the stored run.
/// </summary>
public static class SiteChangeWorkflow
{
    private const int PipelineVersion = 1;

    public static SiteChangeResult Run(Workspace workspace, string siteName, string beforeDate, string afterDate, SiteChangeOptions options,
        IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        var site = workspace.Catalog.GetSite(siteName);
        var scenes = workspace.Catalog.ListScenes(site.Id);
        var before = FindScene(site, scenes, beforeDate, "before");
        var after = FindScene(site, scenes, afterDate, "after");
        if (before.Id == after.Id)
        {
            throw SiteWatchException.About("after", $"names the same scene ({before.AcquiredUtc:yyyy-MM-dd}) of site {site.Name} as before; compare two different scenes");
        }
        return RunPair(workspace, site, before, after, options, progress, cancel);
    }

    /// <summary>Every consecutive pair of the site's scenes, in time order.</summary>
    public static IReadOnlyList<SiteChangeResult> RunSeries(Workspace workspace, string siteName, SiteChangeOptions options,
        IProgress<(int Pair, int Pairs, double Fraction)>? progress = null, CancellationToken cancel = default)
    {
        var site = workspace.Catalog.GetSite(siteName);
        var scenes = workspace.Catalog.ListScenes(site.Id);
        if (scenes.Count < 2)
        {
            throw new SiteWatchException($"site {site.Name} has {scenes.Count} scene(s); a series needs at least two");
        }
        var results = new List<SiteChangeResult>();
        for (var i = 1; i < scenes.Count; i++)
        {
            var pair = i;
            results.Add(RunPair(workspace, site, scenes[i - 1], scenes[i], options,
                new SyncProgress<double>(p => progress?.Report((pair, scenes.Count - 1, p))), cancel));
        }
        return results;
    }

    /// <summary>
    /// The scene a user names: a date (YYYY-MM-DD) when the site has one scene that day, a date and time
    /// (YYYY-MM-DDTHH:MM[:SS], UTC) or a scene id (#ID). Two scenes on one day are never guessed between.
    /// </summary>
    internal static Scene FindScene(Site site, IReadOnlyList<Scene> scenes, string text, string parameter)
    {
        // Dates alone while they name the scenes; with time and id once a day has two.
        string Known() => scenes.Count == 0 ? "none"
            : scenes.DistinctBy(s => s.AcquiredUtc.Date).Count() == scenes.Count
                ? string.Join(", ", scenes.Select(s => s.AcquiredUtc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))
                : string.Join(", ", scenes.Select(s => $"#{s.Id} {s.AcquiredUtc:yyyy-MM-dd'T'HH:mm:ss}"));
        var value = text.Trim();
        if (value.StartsWith('#'))
        {
            return long.TryParse(value[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var id) && scenes.FirstOrDefault(s => s.Id == id) is { } byId
                ? byId
                : throw SiteWatchException.About(parameter, $"{value}: site {site.Name} has no such scene; its scenes: {Known()}");
        }
        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            var sameDay = scenes.Where(s => DateOnly.FromDateTime(s.AcquiredUtc) == day).ToList();
            return sameDay.Count switch
            {
                1 => sameDay[0],
                0 => throw SiteWatchException.About(parameter, $"{value}: site {site.Name} has no scene acquired on {day:yyyy-MM-dd}; its scenes: {Known()}"),
                _ => throw SiteWatchException.About(parameter, $"{value}: site {site.Name} has {sameDay.Count} scenes on {day:yyyy-MM-dd}: " +
                    string.Join(", ", sameDay.Select(s => $"#{s.Id} at {s.AcquiredUtc:HH:mm:ss} UTC ({s.Sensor})")) + "; name one by its time (YYYY-MM-DDTHH:MM:SS) or id (#ID)"),
            };
        }
        if (DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time))
        {
            // Minutes or seconds, as given: a scene matches when it lies within the precision the user wrote.
            var precision = value.Count(c => c == ':') >= 2 ? TimeSpan.FromSeconds(1) : TimeSpan.FromMinutes(1);
            var matching = scenes.Where(s => s.AcquiredUtc >= time && s.AcquiredUtc < time + precision).ToList();
            return matching.Count == 1 ? matching[0] : throw SiteWatchException.About(parameter,
                $"{value}: site {site.Name} has {(matching.Count == 0 ? "no" : matching.Count.ToString(CultureInfo.InvariantCulture))} scene(s) acquired at {value} UTC; its scenes: {Known()}");
        }
        throw SiteWatchException.About(parameter, $"'{text}' is not a date (YYYY-MM-DD), a time (YYYY-MM-DDTHH:MM:SS) or a scene id (#ID)");
    }

    public static SiteChangeResult RunPair(Workspace workspace, Site site, Scene before, Scene after, SiteChangeOptions options,
        IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        // A change model is only loaded when it runs; its file (given, else the shipped default) must be known now.
        var method = ChangeChoices.Name(options.Detection.Method);
        if (options.Detection.Method == ChangeMethodKind.Model)
        {
            options = options with { Detection = options.Detection with { ModelPath = ChangeModel.Resolve(options.Detection.ModelPath) } };
        }
        // A learned model is known by its bytes and side-car, not its path: another file of the same name is another run.
        var model = method == "model" ? ModelFileHash(options.Detection.ModelPath!) : null;
        var normalise = options.Normalise && method is not ("mad" or "irmad");
        var parameterNode = JsonSerializer.SerializeToNode(new
        {
            pipeline = PipelineVersion,
            method,
            threshold = ChangeChoices.Name(options.Detection.Threshold),
            significance = options.Detection.Significance,
            morphology = ChangeChoices.Name(options.Detection.Morphology),
            min_region_pixels = options.Detection.MinRegionPixels,
            min_area_m2 = options.MinAreaSquareMetres,
            coregister = options.CoRegister,
            normalise,
            model,
        })!.AsObject();
        // Only the method that reads it names the segment size, so the runs of every other method keep their keys.
        if (ChangeChoices.TakesSegmentSize(options.Detection.Method))
        {
            parameterNode["segment_metres"] = options.Detection.SegmentMetres;
        }
        var parameters = parameterNode.ToJsonString();
        var sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(parameters)));
        if (FindComplete(workspace, before, after, sha) is { } existing)
        {
            progress?.Report(1);
            return new SiteChangeResult(site, before, after, existing, Reused: true, null, workspace.Resolve(existing.Directory));
        }
        workspace.EnsureWritable();
        if (before.Bands.Count != after.Bands.Count)
        {
            throw new SiteWatchException($"scenes {before.Id} and {after.Id} of site {site.Name} have {before.Bands.Count} and {after.Bands.Count} bands; compare their files with a band mapping instead");
        }
        // One run of a pair and parameters at a time: a second process waits, then shares the first one's result.
        using var held = workspace.Lock($"change-{before.Id}-{after.Id}-{sha[..16]}",
            $"the {method} change run of scenes #{before.Id} and #{after.Id} of site {site.Name}", cancel);
        if (FindComplete(workspace, before, after, sha) is { } finished)
        {
            progress?.Report(1);
            return new SiteChangeResult(site, before, after, finished, Reused: true, null, workspace.Resolve(finished.Directory));
        }

        var staging = workspace.NewStagingPath("");
        Directory.CreateDirectory(staging);
        try
        {
            IReadOnlyList<ChangeObject> objects;
            using (var beforeRaster = RasterDataset.Open(workspace.Resolve(before.File)))
            {
                var extra = new Dictionary<string, object?>
                {
                    ["site"] = site.Name,
                    ["before_scene"] = before.Id,
                    ["after_scene"] = after.Id,
                };
                var afterPath = workspace.Resolve(after.File);
                string? beforeMask = before.CloudMaskFile is { } bm ? workspace.Resolve(bm) : null;
                string? afterMask = after.CloudMaskFile is { } am ? workspace.Resolve(am) : null;
                var exclusionPath = beforeMask is null && afterMask is null ? null : Path.Combine(staging, "excluded_clouds.tif");
                if (exclusionPath is not null)
                {
                    extra["excluded_cloud_pixels"] = WriteExclusionMask(beforeRaster, beforeMask, afterMask, exclusionPath, cancel);
                }
                if (options.CoRegister)
                {
                    using var afterRaster = RasterDataset.Open(afterPath);
                    var registration = CoRegistration.Estimate(beforeRaster, afterRaster,
                        new CoRegistrationOptions { ExclusionMaskPath = afterMask, ReferenceExclusionMaskPath = beforeMask }, cancel);
                    extra["registration"] = new
                    {
                        model = registration.Model.ToString(),
                        shift_px = new[] { Math.Round(registration.ShiftX, 3), Math.Round(registration.ShiftY, 3) },
                        rotation_deg = Math.Round(registration.RotationDegrees, 5),
                        tie_points = registration.TiePoints,
                        inliers = registration.Inliers,
                        rmse_px = Finite(registration.RmsePixels, 4),
                        rmse_m = Finite(registration.RmseMetres, 4),
                        reliable = registration.Reliable,
                        warning = registration.Warning,
                    };
                    progress?.Report(0.15);
                    if (registration.Reliable)
                    {
                        var registered = Path.Combine(staging, "after_registered.tif");
                        CoRegistration.Resample(beforeRaster, afterRaster, registration, registered, cancel: cancel);
                        afterPath = registered;
                    }
                }
                if (normalise)
                {
                    NormalisationResult fit;
                    using (var afterForFit = RasterDataset.Open(afterPath))
                    using (var pairForFit = new RasterPair(beforeRaster, afterForFit))
                    {
                        fit = RadiometricNormalisation.Fit(pairForFit, cancel: cancel);
                    }
                    var normalised = Path.Combine(staging, "after_normalised.tif");
                    using (var source = RasterDataset.Open(afterPath))
                    {
                        RadiometricNormalisation.Apply(source, fit, normalised, cancel: cancel);
                    }
                    extra["normalisation"] = fit.Bands.Select(b => new { band = b.Band, gain = Math.Round(b.Gain, 5), offset = Math.Round(b.Offset, 3), correlation = Math.Round(b.Correlation, 4), pixels = b.Count }).ToArray();
                    afterPath = normalised;
                }
                progress?.Report(0.3);
                using var afterFinal = RasterDataset.Open(afterPath);
                using var exclusion = exclusionPath is null ? null : RasterDataset.Open(exclusionPath);
                using var pair = new RasterPair(beforeRaster, afterFinal) { ExclusionMask = exclusion };
                var spectral = SpectralBands.Identify(before.Bands.Select(b => (string?)b.Name).ToArray(), before.Bands.Select(b => b.WavelengthMicrometres).ToArray());
                var outcome = ChangePipeline.Run(pair, spectral, new ChangeRunOptions
                {
                    Detection = options.Detection,
                    MinAreaSquareMetres = options.MinAreaSquareMetres,
                    BeforeLabel = before.AcquiredUtc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    AfterLabel = after.AcquiredUtc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    Title = $"{site.Name}: {method} change {before.AcquiredUtc:yyyy-MM-dd} -> {after.AcquiredUtc:yyyy-MM-dd}",
                }, staging, extra, new SyncProgress<double>(p => progress?.Report(0.3 + 0.68 * p)), cancel);
                objects = outcome.Objects;
                // Rasters in the staging folder are closed before the folder is hashed and moved.
                pair.Dispose();
                exclusion?.Dispose();
                afterFinal.Dispose();
                beforeRaster.Dispose();
                var draft = new ChangeRunRecord
                {
                    Id = 0,
                    SiteId = site.Id,
                    BeforeSceneId = before.Id,
                    AfterSceneId = after.Id,
                    Method = method,
                    Parameters = parameters,
                    ParametersSha256 = sha,
                    Directory = "",
                    Summary = outcome.Summary.GetRawText(),
                    CreatedUtc = DateTime.UtcNow,
                    Manifest = StoredFiles.Manifest(staging),
                };
                // The folder is named by the run's row id: unique whatever the site's name, the dates or the scenes.
                var siteFolder = Workspace.SiteFolder("changes", site);
                var (committed, shared) = workspace.Catalog.PublishChangeRun(draft, staging,
                    id => Path.Combine(siteFolder, $"{id}_{before.AcquiredUtc:yyyyMMdd}_{after.AcquiredUtc:yyyyMMdd}_{method}"),
                    run => IsComplete(workspace, run));
                progress?.Report(1);
                return new SiteChangeResult(site, before, after, committed, Reused: shared, shared ? null : objects, workspace.Resolve(committed.Directory));
            }
        }
        catch (GdalException e)
        {
            throw new SiteWatchException(e.Message, e);
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    private static ChangeRunRecord? FindComplete(Workspace workspace, Scene before, Scene after, string sha) =>
        workspace.Catalog.FindChangeRun(before.Id, after.Id, sha) is { } run && IsComplete(workspace, run) ? run : null;

    /// <summary>A run's folder holds every file it was published with (its summary at least, for rows from before manifests).</summary>
    private static bool IsComplete(Workspace workspace, ChangeRunRecord run)
    {
        if (string.IsNullOrEmpty(run.Directory))
        {
            return false;
        }
        var directory = workspace.Resolve(run.Directory);
        return run.Manifest is { } manifest
            ? manifest.Keys.All(f => File.Exists(Path.Combine(directory, f)))
            : File.Exists(Path.Combine(directory, "summary.json"));
    }

    /// <summary>Cloud pixels of either date, grown by a few pixels (soft cloud edges, residual misregistration), left out of the comparison.</summary>
    private static long WriteExclusionMask(RasterDataset grid, string? beforeMask, string? afterMask, string output, CancellationToken cancel)
    {
        const int grow = 4;
        using var a = beforeMask is null ? null : RasterDataset.Open(beforeMask);
        using var b = afterMask is null ? null : RasterDataset.Open(afterMask);
        using var mask = RasterDataset.Create(output, new RasterProfile(grid.Width, grid.Height, 1, RasterDataType.Byte) { GeoTransform = grid.GeoTransform, Crs = grid.CrsWkt });
        long excluded = 0;
        foreach (var core in RasterWindow.Tile(grid.Width, grid.Height, 512, 512))
        {
            cancel.ThrowIfCancellationRequested();
            // Read with a halo so growing the mask is exact across block edges.
            var c0 = Math.Max(0, core.Column - grow);
            var r0 = Math.Max(0, core.Row - grow);
            var padded = new RasterWindow(c0, r0, Math.Min(grid.Width, core.Column + core.Width + grow) - c0, Math.Min(grid.Height, core.Row + core.Height + grow) - r0);
            var cloud = new byte[padded.PixelCount];
            foreach (var source in new[] { a, b })
            {
                if (source is null)
                {
                    continue;
                }
                var values = source.Read<byte>(1, padded);
                for (var i = 0; i < values.Length; i++)
                {
                    cloud[i] |= values[i] != 0 ? (byte)1 : (byte)0;
                }
            }
            var output2 = new byte[core.PixelCount];
            for (var r = 0; r < core.Height; r++)
            {
                for (var c = 0; c < core.Width; c++)
                {
                    var pr = core.Row + r - padded.Row;
                    var pc = core.Column + c - padded.Column;
                    var hit = false;
                    for (var dr = -grow; dr <= grow && !hit; dr++)
                    {
                        var rr = pr + dr;
                        if (rr < 0 || rr >= padded.Height)
                        {
                            continue;
                        }
                        for (var dc = -grow; dc <= grow; dc++)
                        {
                            var cc = pc + dc;
                            if (cc >= 0 && cc < padded.Width && cloud[rr * padded.Width + cc] != 0)
                            {
                                hit = true;
                                break;
                            }
                        }
                    }
                    output2[r * core.Width + c] = hit ? (byte)1 : (byte)0;
                    excluded += hit ? 1 : 0;
                }
            }
            mask.Write<byte>(1, core, output2);
        }
        return excluded;
    }

    private static double? Finite(double value, int digits) => double.IsFinite(value) ? Math.Round(value, digits) : null;

    private static string ModelFileHash(string path)
    {
        if (!File.Exists(path))
        {
            throw new SiteWatchException($"{path}: change model file not found");
        }
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var stream = File.OpenRead(path))
        {
            sha.AppendData(SHA256.HashData(stream));
        }
        var sideCar = Detection.DetectorModel.SideCarPath(path);
        if (File.Exists(sideCar))
        {
            sha.AppendData(File.ReadAllBytes(sideCar));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
