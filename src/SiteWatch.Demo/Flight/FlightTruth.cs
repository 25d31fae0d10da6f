using System.Text.Json;
using System.Text.Json.Serialization;
using SiteWatch.Video;

namespace SiteWatch.Demo.Flight;

/// <summary>Ground truth of a simulated flight, written as truth.json (snake_case keys).</summary>
public sealed record FlightTruth
{
    public required string Dem { get; init; }
    public required string DemDescription { get; init; }
    public required double OriginLatitude { get; init; }
    public required double OriginLongitude { get; init; }
    public required double Fps { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required DateTimeOffset StartTime { get; init; }
    /// <summary>The border line, [longitude, latitude] pairs.</summary>
    public required IReadOnlyList<double[]> Border { get; init; }
    /// <summary>The polygon watch zone, closed ring of [longitude, latitude].</summary>
    public required IReadOnlyList<double[]> Zone { get; init; }
    public required IReadOnlyList<ObjectTruth> Objects { get; init; }
    public required IReadOnlyList<FrameTruth> Frames { get; init; }

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        WriteIndented = false,
    };

    public void Save(string path)
    {
        using var file = File.Create(path);
        JsonSerializer.Serialize(file, this, JsonOptions);
    }

    public static FlightTruth Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<FlightTruth>(Core.IO.BoundedFile.ReadText(path, "flight truth file"), JsonOptions)
                ?? throw new VideoException($"{path}: empty truth file");
        }
        catch (JsonException e)
        {
            throw new VideoException($"{path}: not a flight truth file: {e.Message.Split(". ")[0]}", e);
        }
    }
}

/// <summary>An object over the whole flight: what it is and when it crosses the border or enters the zone.</summary>
public sealed record ObjectTruth(int Id, string Class, double SpeedMps, IReadOnlyList<CrossingTruth> BorderCrossings, IReadOnlyList<double> ZoneEntries);

/// <summary>A border crossing: time in seconds from the first frame, and the side it went to ("left"/"right" of the line's direction).</summary>
public sealed record CrossingTruth(double Time, string ToSide, double Latitude, double Longitude);

/// <summary>The camera of one frame: position (HAE) and the angles written to KLV, in degrees.</summary>
public sealed record CameraTruth(double Latitude, double Longitude, double HeightAboveEllipsoid, double Heading, double Pitch, double Roll,
    double SensorAzimuth, double SensorElevation, double SensorRoll, double HorizontalFov, double VerticalFov);

/// <summary>
/// An object in one frame: its ground position and, when in view, its pixel box [x0, y0, x1, y1], and the pixel box of
/// its shadow when that lies apart from the object (people's; a vehicle's shadow joins its body).
/// </summary>
public sealed record FrameObjectTruth(int Id, string Class, double Latitude, double Longitude, double HeightAboveEllipsoid, double[]? Box,
    double[]? Shadow = null);

/// <summary>
/// One frame: time (s), PTS, camera, where the frame centre and corners land on the DEM ([longitude, latitude, HAE];
/// corners upper-left, upper-right, lower-right, lower-left; null for a corner above the horizon) and the objects.
/// </summary>
public sealed record FrameTruth(int Index, double Time, long Pts, CameraTruth Camera, double[]? Centre, IReadOnlyList<double[]?> Footprint,
    IReadOnlyList<FrameObjectTruth> Objects);
