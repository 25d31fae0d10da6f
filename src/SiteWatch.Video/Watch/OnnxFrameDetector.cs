using SiteWatch.Core.Detection;
using SiteWatch.Video.Frames;
using SiteWatch.Video.Tracking;

namespace SiteWatch.Video.Watch;

/// <summary>
/// The ONNX object detector (the default drone model or --model) on video frames: each frame is brought to the
/// model's ground sample distance (from the frame's telemetry on the terrain) and run in tiles of the model's input
/// size (<see cref="ImageObjectDetector"/>).
/// </summary>
public sealed class OnnxFrameDetector : IFrameDetector
{
    private readonly ImageObjectDetector _detector;
    private float[] _chw = [];

    public OnnxFrameDetector(DetectorModel model, DetectorOptions? options = null)
    {
        // Low-score detections feed ByteTrack's second association pass, so the model's cut-off sits below its own.
        // Tiles overlap by an eighth: objects on the ground are a few dozen pixels at most, whole in one tile or the other.
        // A vehicle boxed twice starts a second track that raises its own alert. Boxes of two vehicles or people side
        // by side overlap only by the boxes' looseness, a pixel a side (under 0.25 of an 8-pixel box); more is one
        // object (bench/drone-eval.sh: vehicle precision 0.89 to 0.93 at equal recall, no false alert either way).
        _detector = new ImageObjectDetector(model, new SceneDetectionOptions
        {
            Detector = options ?? new DetectorOptions { ScoreThreshold = 0.1f },
            TileOverlap = 0.125,
            DuplicateOverlap = 0.3,
        });
    }

    public string Name => Path.GetFileName(_detector.Model.ModelPath);

    public bool IsCheap => false;

    public (double High, double NewTrack)? TrackerGates
    {
        get
        {
            // A model stating one gate gets the tracker's default for the other, kept on the right side of it.
            var (high, fresh) = (_detector.Model.TrackHighScore, _detector.Model.NewTrackScore);
            var defaults = new TrackerOptions();
            return high is null && fresh is null
                ? null
                : (high ?? Math.Min(defaults.HighScore, fresh!.Value), fresh ?? Math.Max(defaults.NewTrackScore, high!.Value));
        }
    }

    /// <summary>Frame pixels per model pixel in the last detection (1: the frame's own resolution).</summary>
    public double LastScale => _detector.LastScale;

    public IReadOnlyList<BoxDetection> Detect(VideoFrame frame, double? groundSampleDistance)
    {
        var plane = frame.Width * frame.Height;
        if (_chw.Length != 3 * plane)
        {
            _chw = new float[3 * plane];
        }

        // BGR24 interleaved -> RGB planes scaled to 0..1, as the runtime expects.
        var bgr = frame.Bgr24;
        for (var i = 0; i < plane; i++)
        {
            _chw[i] = bgr[3 * i + 2] / 255f;
            _chw[plane + i] = bgr[3 * i + 1] / 255f;
            _chw[2 * plane + i] = bgr[3 * i] / 255f;
        }

        return _detector.Detect(_chw, frame.Width, frame.Height, groundSampleDistance).Select(d =>
        {
            // Oriented boxes are tracked by their upright bounds.
            var corners = d.Corners();
            var box = d.AngleRadians == 0 ? new PixelBox(d.CentreX, d.CentreY, d.Width, d.Height)
                : PixelBox.FromCorners(corners.Min(c => c.X), corners.Min(c => c.Y), corners.Max(c => c.X), corners.Max(c => c.Y));
            return new BoxDetection(box, d.Score, d.ClassName);
        }).ToList();
    }

    public void Dispose()
    {
        _detector.Dispose();
        _detector.Model.Dispose();
    }
}
