using SiteWatch.Video.Geo;

namespace SiteWatch.Video.Tests.Geo;

/// <summary>A temporary folder for DEMs written by a test, removed afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sitewatch-geo-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind is harmless.
        }
    }
}

internal static class Poses
{
    public const double Latitude = 37.5;
    public const double Longitude = 127.0;

    /// <summary>A camera straight down (gimbal elevation -90) from a level platform heading north.</summary>
    public static CameraPose Nadir(double heightAboveEllipsoid, double hfov = 60, int width = 1280, int height = 720) => new()
    {
        SensorLatitude = Latitude,
        SensorLongitude = Longitude,
        SensorHeight = heightAboveEllipsoid,
        SensorHeightReference = HeightReference.Ellipsoid,
        SensorRelativeElevation = -90,
        HorizontalFov = hfov,
        FrameWidth = width,
        FrameHeight = height,
    };

    /// <summary>A flat ellipsoid at a given height: no geoid in play, so expectations are pure geometry.</summary>
    public static ConstantTerrain FlatEllipsoid(double height = 0) => new(height, HeightReference.Ellipsoid);

    /// <summary>East, North, Up offsets (metres) of a point from the sensor's ground position.</summary>
    public static Vec3 Enu(GeoPoint p, double originLatitude = Latitude, double originLongitude = Longitude) =>
        Wgs84.ToEnu(new GeoPoint(originLatitude, originLongitude, p.HeightAboveEllipsoid), p);
}
