namespace SiteWatch.Core.Detection;

/// <summary>
/// One object found in an image, in that image's pixels (x right, y down, (0, 0) the top-left corner of the first
/// pixel): a rectangle of <paramref name="Width"/> x <paramref name="Height"/> centred on (CentreX, CentreY), its
/// width axis turned by <paramref name="AngleRadians"/> (clockwise on screen, as Ultralytics OBB models report it;
/// 0 for axis-aligned boxes).
/// </summary>
public sealed record PixelDetection(int ClassId, string ClassName, float Score, double CentreX, double CentreY, double Width, double Height, double AngleRadians)
{
    /// <summary>The four corners in order around the rectangle.</summary>
    public (double X, double Y)[] Corners()
    {
        var (cos, sin) = (Math.Cos(AngleRadians), Math.Sin(AngleRadians));
        // Half the width axis and half the height axis (the height axis is the width axis turned by +90 degrees).
        double ux = Width / 2 * cos, uy = Width / 2 * sin;
        double vx = -Height / 2 * sin, vy = Height / 2 * cos;
        return
        [
            (CentreX + ux + vx, CentreY + uy + vy),
            (CentreX + ux - vx, CentreY + uy - vy),
            (CentreX - ux - vx, CentreY - uy - vy),
            (CentreX - ux + vx, CentreY - uy + vy),
        ];
    }

    /// <summary>The axis-aligned extent of the rectangle: min x, min y, max x, max y.</summary>
    public (double MinX, double MinY, double MaxX, double MaxY) Extent()
    {
        var (cos, sin) = (Math.Abs(Math.Cos(AngleRadians)), Math.Abs(Math.Sin(AngleRadians)));
        var halfX = (Width * cos + Height * sin) / 2;
        var halfY = (Width * sin + Height * cos) / 2;
        return (CentreX - halfX, CentreY - halfY, CentreX + halfX, CentreY + halfY);
    }

    public double Area => Width * Height;
}
