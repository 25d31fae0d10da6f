using SiteWatch.Video.Geo;

namespace SiteWatch.Video.Tracking;

/// <summary>An axis-aligned box in frame pixels, by its centre and size.</summary>
public readonly record struct PixelBox(double CentreX, double CentreY, double Width, double Height)
{
    public double Left => CentreX - Width / 2;
    public double Top => CentreY - Height / 2;
    public double Right => CentreX + Width / 2;
    public double Bottom => CentreY + Height / 2;
    public double Area => Math.Max(0, Width) * Math.Max(0, Height);

    /// <summary>Where the object touches the ground, as NVR zones test it: the middle of the box's lower edge.</summary>
    public (double Column, double Row) BottomCentre => (CentreX, Bottom);

    public static PixelBox FromCorners(double left, double top, double right, double bottom) =>
        new((left + right) / 2, (top + bottom) / 2, right - left, bottom - top);

    /// <summary>Intersection over union; 0 when either box is empty.</summary>
    public double IoU(PixelBox other)
    {
        var w = Math.Min(Right, other.Right) - Math.Max(Left, other.Left);
        var h = Math.Min(Bottom, other.Bottom) - Math.Max(Top, other.Top);
        if (w <= 0 || h <= 0)
        {
            return 0;
        }

        var intersection = w * h;
        var union = Area + other.Area - intersection;
        return union > 0 ? intersection / union : 0;
    }
}

/// <summary>
/// One object found in one frame: by a neural detector, or carried in the stream's ST 0903 VMTI set (then with the
/// sender's target id as a hint and, when the sender located it, its ground position).
/// </summary>
public sealed record BoxDetection(PixelBox Box, double Score, string ClassName)
{
    /// <summary>The VMTI target id; detections with the same id keep their track.</summary>
    public ulong? SourceTargetId { get; init; }

    /// <summary>Ground position as the sender reported it (VMTI tag 17), else null (the pipeline casts a ray).</summary>
    public GeoPoint? Location { get; init; }
}
