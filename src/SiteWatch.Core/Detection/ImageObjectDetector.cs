using Microsoft.ML.OnnxRuntime;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Detection;

/// <summary>
/// <see cref="SceneObjectDetector"/>'s tiling for an image already in memory (a video frame): the image is resampled
/// to the model's ground sample distance when both are known and differ by more than the tolerance, cut into tiles
/// of the model's input size with overlap, each tile run, and the detections merged across seams and mapped back to
/// the image's pixels. A frame whose pixels are finer or coarser than the model's training imagery thus meets the
/// model at its own scale, and a frame is never squeezed into the input (a 1280 x 720 frame letterboxed to 256 x 256
/// shrinks a car to two pixels). Holds its buffers between calls: one caller at a time.
/// </summary>
public sealed class ImageObjectDetector : IDisposable
{
    private readonly DetectorModel _model;
    private readonly SceneDetectionOptions _options;
    private readonly float[] _tile;
    private readonly OrtValue _input;
    private readonly RunOptions _runOptions = new();
    private float[] _resampled = [];

    public ImageObjectDetector(DetectorModel model, SceneDetectionOptions? options = null)
    {
        _model = model;
        _options = options ?? new SceneDetectionOptions();
        _options.Validate();
        _tile = new float[3 * model.InputWidth * model.InputHeight];
        _input = model.CreateInput(_tile);
    }

    public DetectorModel Model => _model;

    /// <summary>Image pixels per model pixel used for the last image (1: run at the image's own resolution).</summary>
    public double LastScale { get; private set; } = 1;

    /// <summary>
    /// Detects objects in 3 planes (the model's channels) of <paramref name="width"/> x <paramref name="height"/>
    /// values scaled to 0..1, whose pixels are <paramref name="groundSampleDistance"/> metres on the ground (null:
    /// unknown, the image is run as it is).
    /// </summary>
    public IReadOnlyList<PixelDetection> Detect(ReadOnlySpan<float> chw, int width, int height, double? groundSampleDistance)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (chw.Length != 3L * width * height)
        {
            throw new ArgumentException($"Expected 3 x {width} x {height} values, got {chw.Length}.", nameof(chw));
        }
        var scale = SceneObjectDetector.ResampleScale(_model.GroundSampleDistance, groundSampleDistance, _options);
        var (w, h) = (width, height);
        var image = chw;
        if (scale != 1)
        {
            w = Math.Max(1, (int)Math.Round(width / scale));
            h = Math.Max(1, (int)Math.Round(height / scale));
            if (_resampled.Length != 3 * w * h)
            {
                _resampled = new float[3 * w * h];
            }
            PlaneResampler.Resize(chw, width, height, 3, _resampled, w, h);
            image = _resampled;
        }
        LastScale = scale;
        var (sx, sy) = (width / (double)w, height / (double)h);
        int inW = _model.InputWidth, inH = _model.InputHeight;
        var candidates = new List<SceneObjectDetector.SeamCandidate>();
        foreach (var window in SceneObjectDetector.Tiles(w, h, inW, inH, _options.TileOverlap))
        {
            // An image smaller than the input is one padded tile, not enlarged: its GSD stays the model's.
            Fill(image, w, h, window);
            var tile = new SceneObjectDetector.DetectionTile(window, window.Width, window.Height);
            foreach (var d in _model.DetectInput(_input, _runOptions, _options.Detector, out _))
            {
                candidates.Add(new SceneObjectDetector.SeamCandidate(
                    d with { CentreX = d.CentreX + window.Column, CentreY = d.CentreY + window.Row },
                    SceneObjectDetector.CutByTileEdge(d, tile, w, h)));
            }
        }
        var found = SceneObjectDetector.MergeAcrossSeams(candidates, _options.Detector.IouThreshold, _options.SeamOverlap, _options.DuplicateOverlap);
        if (sx == 1 && sy == 1)
        {
            return found;
        }
        return found.ConvertAll(d => d with { CentreX = d.CentreX * sx, CentreY = d.CentreY * sy, Width = d.Width * sx, Height = d.Height * sy });
    }

    /// <summary>Copies a window of the image to the top left of the model input, padding the rest with the letterbox grey.</summary>
    private void Fill(ReadOnlySpan<float> image, int width, int height, RasterWindow window)
    {
        int inW = _model.InputWidth, inH = _model.InputHeight, plane = inW * inH;
        if (window.Width < inW || window.Height < inH)
        {
            _tile.AsSpan().Fill(Letterbox.PadValue);
        }
        for (var c = 0; c < 3; c++)
        {
            var src = image.Slice(c * width * height, width * height);
            for (var r = 0; r < window.Height; r++)
            {
                src.Slice((window.Row + r) * width + window.Column, window.Width).CopyTo(_tile.AsSpan(c * plane + r * inW, window.Width));
            }
        }
    }

    public void Dispose()
    {
        _input.Dispose();
        _runOptions.Dispose();
    }
}
