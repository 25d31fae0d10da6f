using SiteWatch.Video.Frames;
using SiteWatch.Video.Tracking;

namespace SiteWatch.Video.Watch;

/// <summary>Finds objects in a frame for the watch pipeline.</summary>
public interface IFrameDetector : IDisposable
{
    /// <summary>For reports: e.g. "vmti" or the model file.</summary>
    string Name { get; }

    /// <summary>True when detection costs next to nothing (reading telemetry), so it runs in the frame loop itself.</summary>
    bool IsCheap { get; }

    IReadOnlyList<BoxDetection> Detect(VideoFrame frame);
}

/// <summary>The targets the sender put in the frame's ST 0903 VMTI set (no neural network).</summary>
public sealed class VmtiFrameDetector : IFrameDetector
{
    public string Name => "vmti";

    public bool IsCheap => true;

    public IReadOnlyList<BoxDetection> Detect(VideoFrame frame) =>
        frame.Telemetry is { } telemetry ? VmtiTargets.Read(telemetry, frame.Width, frame.Height) : [];

    public void Dispose()
    {
    }
}
