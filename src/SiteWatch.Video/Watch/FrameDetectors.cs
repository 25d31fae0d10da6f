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

    /// <summary>
    /// Objects in <paramref name="frame"/>, whose pixels near its centre are <paramref name="groundSampleDistance"/>
    /// metres on the ground (from the telemetry and terrain; null when unknown).
    /// </summary>
    IReadOnlyList<BoxDetection> Detect(VideoFrame frame, double? groundSampleDistance);

    /// <summary>The tracker's score gates this detector's scores call for (its model's metadata), or null for the tracker's defaults.</summary>
    (double High, double NewTrack)? TrackerGates { get; }
}

/// <summary>
/// The targets the sender put in the frame's ST 0903 VMTI set (no neural network). With
/// <paramref name="useReportedLocations"/> false, the sender's target locations are ignored and targets are placed by
/// our own ray casting like any detection (to compare the two).
/// </summary>
public sealed class VmtiFrameDetector(bool useReportedLocations = true) : IFrameDetector
{
    public string Name => useReportedLocations ? "vmti" : "vmti (boxes only, placed by ray casting)";

    public bool IsCheap => true;

    /// <summary>VMTI targets carry the sender's confidence (1 without one): the tracker's own gates.</summary>
    public (double High, double NewTrack)? TrackerGates => null;

    public IReadOnlyList<BoxDetection> Detect(VideoFrame frame, double? groundSampleDistance)
    {
        if (frame.Telemetry is not { } telemetry)
        {
            return [];
        }

        var targets = VmtiTargets.Read(telemetry, frame.Width, frame.Height);
        return useReportedLocations ? targets : targets.Select(t => t with { Location = null }).ToList();
    }

    public void Dispose()
    {
    }
}
