using SiteWatch.Core.Detection;
using SiteWatch.Video.Frames;
using SiteWatch.Video.Tracking;

namespace SiteWatch.Video.Watch;

/// <summary>The ONNX object detector (the default model or --model) on whole video frames.</summary>
public sealed class OnnxFrameDetector : IFrameDetector
{
    private readonly DetectorModel _model;
    private readonly DetectorOptions _options;
    private float[] _chw = [];

    public OnnxFrameDetector(DetectorModel model, DetectorOptions? options = null)
    {
        _model = model;
        // Low-score detections feed ByteTrack's second association pass, so the model's cut-off sits below its own.
        _options = options ?? new DetectorOptions { ScoreThreshold = 0.1f };
    }

    public string Name => Path.GetFileName(_model.ModelPath);

    public bool IsCheap => false;

    public IReadOnlyList<BoxDetection> Detect(VideoFrame frame)
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

        return _model.Detect(_chw, frame.Width, frame.Height, _options).Select(d =>
        {
            // Oriented boxes are tracked by their upright bounds.
            var corners = d.Corners();
            var box = d.AngleRadians == 0 ? new PixelBox(d.CentreX, d.CentreY, d.Width, d.Height)
                : PixelBox.FromCorners(corners.Min(c => c.X), corners.Min(c => c.Y), corners.Max(c => c.X), corners.Max(c => c.Y));
            return new BoxDetection(box, d.Score, d.ClassName);
        }).ToList();
    }

    public void Dispose() => _model.Dispose();
}
