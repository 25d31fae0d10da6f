using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Detection;
using SiteWatch.Core.Geo;
using SiteWatch.Core.Ingest;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Workflows;

public sealed record SiteDetectionOptions
{
    /// <summary>The ONNX model; null: the detector shipped with SiteWatch.</summary>
    public string? ModelPath { get; init; }
    /// <summary>Null: the model's own threshold (<see cref="DetectorModel.ScoreThreshold"/>).</summary>
    public float? ScoreThreshold { get; init; }
    /// <summary>cpu or cuda; where it runs does not change what is found, so it is not part of the cache key.</summary>
    public string Device { get; init; } = "cpu";
    public double TileOverlap { get; init; } = new SceneDetectionOptions().TileOverlap;
    /// <summary>Run again on scenes already processed with this model and parameters, replacing their detections.</summary>
    public bool Force { get; init; }
    /// <summary>Model class -> reported class (see <see cref="DetectorOptions.ClassMap"/>).</summary>
    public IReadOnlyDictionary<string, string>? ClassMap { get; init; }
    /// <summary>Resample tiles to the model's stated GSD (see <see cref="SceneDetectionOptions.ResampleToModelGsd"/>).</summary>
    public bool ResampleToModelGsd { get; init; } = true;
}

/// <summary>One scene's detections: stored now, or reused from the catalog.</summary>
public sealed record SceneDetectionResult(Scene Scene, DetectionRunRecord Record, bool Reused, SceneDetections? Detections);

public sealed record SiteDetectionResult(Site Site, string ModelPath, string ModelName, IReadOnlyList<string> Classes, IReadOnlyList<SceneDetectionResult> Scenes);

/// <summary>
/// Object detection on every scene of a site, each scene's detections stored (GeoJSON under detections/, counts in
/// the catalog) per model and parameters: re-running skips scenes already done.
/// </summary>
public static class SiteDetectionWorkflow
{
    private const int PipelineVersion = 1;

    /// <summary>The model to use: the given path, else the shipped default; a clear error naming the missing file otherwise.</summary>
    public static string ResolveModel(string? modelPath)
    {
        if (modelPath is not null)
        {
            return File.Exists(modelPath) ? Path.GetFullPath(modelPath) : throw new SiteWatchException($"{modelPath}: model file not found");
        }
        return DetectorModel.DefaultModelPath ?? throw new SiteWatchException(
            $"{Path.Combine(AppContext.BaseDirectory, "models", DetectorModel.DefaultModelFileName)}: the default detector is missing from this build; give a model file (a YOLO or YOLO-OBB ONNX model)") { Next = new NextStep(NextStepKind.GiveModel) };
    }

    public static SiteDetectionResult Run(Workspace workspace, string siteName, SiteDetectionOptions options,
        IProgress<(int Scene, int Scenes, double Fraction)>? progress = null, CancellationToken cancel = default)
    {
        var site = workspace.Catalog.GetSite(siteName);
        var scenes = workspace.Catalog.ListScenes(site.Id);
        if (scenes.Count == 0)
        {
            throw new SiteWatchException($"site {site.Name} has no scenes; add some first") { Next = new NextStep(NextStepKind.AddScenes, site.Name) };
        }
        var modelPath = ResolveModel(options.ModelPath);
        // The model's own threshold is part of the cache key: without --score the model is loaded even when every
        // scene turns out to be cached (and then reused for the scenes that are not).
        DetectorModel? model = options.ScoreThreshold is null ? DetectorModel.Load(modelPath) : null;
        try
        {
            var detector = new DetectorOptions { ScoreThreshold = options.ScoreThreshold ?? model!.ScoreThreshold, Device = options.Device, ClassMap = options.ClassMap };
            detector.Validate();
            var sceneOptions = new SceneDetectionOptions
            {
                Detector = detector,
                TileOverlap = options.TileOverlap,
                Aoi = GeometryProjection.Transform(site.Aoi, 4326, site.CrsEpsg),
                ResampleToModelGsd = options.ResampleToModelGsd,
            };
            var modelSha = ModelHash(modelPath);
            var parameters = JsonSerializer.Serialize(new
            {
                pipeline = PipelineVersion,
                score = Math.Round(detector.ScoreThreshold, 4),
                iou = detector.IouThreshold,
                max_detections = detector.MaxDetections,
                tile_overlap = sceneOptions.TileOverlap,
                seam_overlap = sceneOptions.SeamOverlap,
                aoi = true,
                class_map = options.ClassMap?.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value),
                resample_to_model_gsd = sceneOptions.ResampleToModelGsd,
                gsd_tolerance = sceneOptions.GsdTolerance,
            });
            var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(modelSha + "\n" + parameters)));
            var modelName = Path.GetFileNameWithoutExtension(modelPath);

            var results = new List<SceneDetectionResult>();
            for (var i = 0; i < scenes.Count; i++)
            {
                cancel.ThrowIfCancellationRequested();
                var scene = scenes[i];
                var index = i;
                if (!options.Force && FindDone(workspace, scene, key) is { } done)
                {
                    results.Add(new SceneDetectionResult(scene, done, Reused: true, null));
                    progress?.Report((index, scenes.Count, 1));
                    continue;
                }
                workspace.EnsureWritable();
                // One detection run of a scene and model at a time: a second process waits, then reuses the first one's.
                using var held = workspace.Lock($"detect-{scene.Id}-{key[..16]}", $"detection on scene #{scene.Id} of site {site.Name}", cancel);
                if (!options.Force && FindDone(workspace, scene, key) is { } finished)
                {
                    results.Add(new SceneDetectionResult(scene, finished, Reused: true, null));
                    progress?.Report((index, scenes.Count, 1));
                    continue;
                }
                // With --score, loaded only when a scene needs it: a fully cached site never touches ONNX Runtime.
                model ??= DetectorModel.Load(modelPath);
                var detections = SceneObjectDetector.Detect(workspace.Resolve(scene.File), model, sceneOptions,
                    new SyncProgress<double>(p => progress?.Report((index, scenes.Count, p))), cancel);
                var created = DateTime.UtcNow;
                var file = Path.Combine(Workspace.SiteFolder("detections", site),
                    $"{scene.AcquiredUtc:yyyyMMdd'T'HHmmss}_{scene.Id}_{key[..12]}_{created:yyyyMMddHHmmssfff}.geojson");
                var staged = workspace.NewStagingPath(".geojson");
                try
                {
                    detections.WriteGeoJson(staged);
                    var record = workspace.Catalog.CommitDetectionRun(new DetectionRunRecord
                    {
                        Id = 0,
                        SiteId = site.Id,
                        SceneId = scene.Id,
                        ModelSha256 = modelSha,
                        ModelName = modelName,
                        Parameters = parameters,
                        ParametersSha256 = key,
                        Counts = detections.CountsByClass.ToDictionary(),
                        DetectionsFile = file,
                        CreatedUtc = created,
                        FileSha256 = StoredFiles.Sha256(staged),
                    }, staged, workspace.Resolve(file));
                    results.Add(new SceneDetectionResult(scene, record, Reused: false, detections));
                }
                finally
                {
                    if (File.Exists(staged))
                    {
                        File.Delete(staged);
                    }
                }
                progress?.Report((index, scenes.Count, 1));
            }
            var classes = results.SelectMany(r => r.Record.Counts.Keys).Distinct().ToList();
            return new SiteDetectionResult(site, modelPath, modelName, classes, results);
        }
        catch (GdalException e)
        {
            throw new SiteWatchException(e.Message, e);
        }
        finally
        {
            model?.Dispose();
        }
    }

    private static DetectionRunRecord? FindDone(Workspace workspace, Scene scene, string key) =>
        workspace.Catalog.FindDetectionRun(scene.Id, key) is { } done && File.Exists(workspace.Resolve(done.DetectionsFile)) ? done : null;

    /// <summary>SHA-256 of the model and its side-car class names (other names, other counts), hex.</summary>
    private static string ModelHash(string modelPath)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var stream = File.OpenRead(modelPath))
        {
            var buffer = new byte[1 << 20];
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, read);
            }
        }
        var sideCar = DetectorModel.SideCarPath(modelPath);
        if (File.Exists(sideCar))
        {
            sha.AppendData(File.ReadAllBytes(sideCar));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
