using SiteWatch.Core.Detection;
using SiteWatch.Demo.Flight;
using SiteWatch.Video.Frames;
using SiteWatch.Video.Geo;

namespace SiteWatch.TrainDetector;

/// <summary>
/// Training frames for the drone detector: simulated border flights (SiteWatch's flight simulator, each seed its own
/// mountains, road, border, palette and ground texture) with the camera's altitude, orbit, field of view and speed
/// drawn at random per flight, encoded to H.264 and decoded again through the product's video reader (so the model
/// learns the codec's blur and blocks), then brought to the model's ground sample distance the way the watch
/// pipeline brings frames to it: the frame-centre GSD from the frame's own KLV on the DEM, the product's resampler.
/// Labels are the simulator's truth boxes.
/// </summary>
internal static class DroneFrames
{
    /// <summary>
    /// The classes it learns. A person's shadow is a dark dot of a person's size two metres away, which a model taught
    /// only people boxes as a second person; taught as a class of its own, it is told apart, and the exported model
    /// maps it to nothing (metadata class_map), so it is never reported.
    /// </summary>
    public static readonly string[] ClassNames = ["vehicle", "person", "shadow"];

    /// <summary>Classes learned only to be told apart from the others, dropped by the exported model's class_map.</summary>
    public static readonly string[] DroppedClasses = ["shadow"];

    /// <summary>Metres per pixel the drone model is trained at (written to its metadata as gsd).</summary>
    public const double ModelGsd = 0.4;

    /// <summary>
    /// Labelled frames of flight <paramref name="seed"/>. <paramref name="extraPeople"/> adds people walking near the
    /// crossing (more people and shadows in more arrangements than the scenario's one group); <paramref name="randomSun"/>
    /// draws the shadows' bearing (any) and length (a sun 23-60 degrees high) per flight instead of the simulator's
    /// sun in the north-west.
    /// </summary>
    public static IEnumerable<LabelledScene> Simulate(int seed, string workDirectory, double seconds, double fps, TextWriter log,
        int extraPeople = 0, bool randomSun = false, double modelGsd = ModelGsd)
    {
        var random = new Random(seed * 7919 + 1);
        // Its own generator, so the camera drawn for a seed stays the same, and a scrambled one (the cameras' draws step
        // evenly with the seed: flights 101-105 are 380, 410, 440, 470 and 500 m up).
        var sun = FlightWorld.ScrambledRandom(seed, 0);
        var options = new FlightSimulationOptions
        {
            Seconds = seconds,
            Fps = fps,
            Width = 1280,
            Height = 720,
            Seed = seed,
            AltitudeAboveGround = 250 + 350 * random.NextDouble(),
            OrbitRadius = 150 + 250 * random.NextDouble(),
            HorizontalFov = 40 + 30 * random.NextDouble(),
            AirSpeed = 18 + 12 * random.NextDouble(),
            ExtraPeople = extraPeople,
        };
        if (randomSun)
        {
            options = options with { ShadowBearing = 360 * sun.NextDouble(), ShadowLength = 0.5 + 1.5 * sun.NextDouble() };
        }
        var directory = Path.Combine(workDirectory, $"flight-{seed}");
        var ts = Path.Combine(directory, "flight.ts");
        FlightTruth truth;
        using (var simulator = FlightSimulator.Create(options, directory))
        {
            using var file = File.Create(ts);
            truth = simulator.WriteTsAsync(file).GetAwaiter().GetResult();
            log.WriteLine($"flight {seed}: {options.AltitudeAboveGround:F0} m above the crossing, orbit {options.OrbitRadius:F0} m, "
                + $"field of view {options.HorizontalFov:F0} deg, {simulator.GroundSampleDistance:F2} m per pixel at the centre, "
                + $"{simulator.World.Objects.Count} objects, shadows towards {options.ShadowBearing:F0} deg x {options.ShadowLength:F2}");
        }

        using var dem = DemTerrain.Open(truth.Dem);
        var source = VideoSource.Open(ts);
        try
        {
            foreach (var frame in source.ReadFramesAsync().ToBlockingEnumerable())
            {
                if (frame.Index >= truth.Frames.Count || frame.Telemetry is null
                    || !CameraPose.TryFromKlv(frame.Telemetry, frame.Width, frame.Height, out var pose, out _))
                {
                    continue;
                }
                var gsd = FrameGeolocator.ForFrame(pose, dem).GroundSampleDistance(frame.Width / 2.0, frame.Height / 2.0);
                yield return Label(frame, truth.Frames[(int)frame.Index], gsd, seed, modelGsd);
            }
        }
        finally
        {
            source.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static LabelledScene Label(VideoFrame frame, FrameTruth truth, double? gsd, int seed, double modelGsd)
    {
        int w = frame.Width, h = frame.Height, plane = w * h;
        var rgb = new float[3 * plane];
        var bgr = frame.Bgr24;
        for (int i = 0; i < plane; i++)
        {
            rgb[i] = bgr[3 * i + 2] / 255f;
            rgb[plane + i] = bgr[3 * i + 1] / 255f;
            rgb[2 * plane + i] = bgr[3 * i] / 255f;
        }
        // The product's rule: resample only beyond its tolerance, so training sees the scales inference will see.
        double scale = SceneObjectDetector.ResampleScale(modelGsd, gsd, new SceneDetectionOptions());
        int nw = Math.Max(1, (int)Math.Round(w / scale)), nh = Math.Max(1, (int)Math.Round(h / scale));
        var resampled = rgb;
        if (scale != 1)
        {
            resampled = new float[3 * nw * nh];
            PlaneResampler.Resize(rgb, w, h, 3, resampled, nw, nh);
        }
        var bytes = new byte[resampled.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)Math.Clamp((int)MathF.Round(resampled[i] * 255), 0, 255);
        }
        float fx = nw / (float)w, fy = nh / (float)h;
        var boxes = new List<LabelledBox>();
        foreach (var o in truth.Objects)
        {
            if (o.Box is not [var x0, var y0, var x1, var y1])
            {
                continue;
            }
            int cls = Array.IndexOf(ClassNames, o.Class);
            if (cls >= 0)
            {
                boxes.Add(new LabelledBox(cls, (float)x0 * fx, (float)y0 * fy, (float)x1 * fx, (float)y1 * fy));
            }
        }
        foreach (var o in truth.Objects)
        {
            if (o.Shadow is [var x0, var y0, var x1, var y1])
            {
                boxes.Add(new LabelledBox(Array.IndexOf(ClassNames, "shadow"), (float)x0 * fx, (float)y0 * fy, (float)x1 * fx, (float)y1 * fy));
            }
        }
        return new LabelledScene($"flight{seed}-frame{frame.Index}", nw, nh, bytes, boxes);
    }
}
