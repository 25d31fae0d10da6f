using SiteWatch.Video.Klv;

namespace SiteWatch.Video.Geo;

/// <summary>A latitude/longitude pair in degrees (WGS 84), as the KLV corner and centre tags carry them.</summary>
public readonly record struct LatLon(double Latitude, double Longitude)
{
    public override string ToString() => FormattableString.Invariant($"({Latitude:0.0000000}, {Longitude:0.0000000})");
}

/// <summary>
/// Where the sensor is and where it looks, as ST 0601 describes it. Angles are in degrees, exactly as the standard
/// defines them:
/// <list type="bullet">
/// <item>platform heading (tag 5): longitudinal axis from true north, clockwise seen from above, 0..360;</item>
/// <item>platform pitch (6, or full-range 90): longitudinal axis above the horizontal plane, nose up positive;</item>
/// <item>platform roll (7, or full-range 91): right wing down positive;</item>
/// <item>sensor relative azimuth (18): pointing direction from the platform's nose, clockwise seen from above;</item>
/// <item>sensor relative elevation (19): above the platform's longitudinal-transverse plane, negative down;</item>
/// <item>sensor relative roll (20): twist about the line of sight, top of image at 0, clockwise seen from behind the camera.</item>
/// </list>
/// <see cref="CameraModel"/> turns these into rotations (platform first, then gimbal).
/// </summary>
public sealed record CameraPose
{
    public required double SensorLatitude { get; init; }
    public required double SensorLongitude { get; init; }
    /// <summary>Sensor height, measured from <see cref="SensorHeightReference"/>.</summary>
    public required double SensorHeight { get; init; }
    public HeightReference SensorHeightReference { get; init; } = HeightReference.Msl;

    public double PlatformHeading { get; init; }
    public double PlatformPitch { get; init; }
    public double PlatformRoll { get; init; }
    public double SensorRelativeAzimuth { get; init; }
    public double SensorRelativeElevation { get; init; }
    public double SensorRelativeRoll { get; init; }

    /// <summary>Horizontal field of view, degrees (0..180 exclusive).</summary>
    public required double HorizontalFov { get; init; }

    /// <summary>Vertical field of view, degrees; null for square pixels (derived from the HFOV and frame size).</summary>
    public double? VerticalFov { get; init; }

    /// <summary>Frame size in pixels, from the video stream (KLV does not carry it).</summary>
    public required int FrameWidth { get; init; }
    public required int FrameHeight { get; init; }

    /// <summary>The three altitude tags as received (15 MSL, 75 and 104 HAE), for consistency checks.</summary>
    public double? SensorTrueAltitudeMsl { get; init; }
    public double? SensorEllipsoidHeight { get; init; }
    public double? SensorEllipsoidHeightExtended { get; init; }

    /// <summary>Slant range to the frame centre (tag 21), metres.</summary>
    public double? SlantRange { get; init; }

    /// <summary>Frame centre (tags 23/24).</summary>
    public LatLon? FrameCenter { get; init; }

    /// <summary>Frame-centre elevation above MSL (tag 25).</summary>
    public double? FrameCenterElevationMsl { get; init; }

    /// <summary>Frame-centre height above the ellipsoid (tag 78).</summary>
    public double? FrameCenterHeightAboveEllipsoid { get; init; }

    /// <summary>Full-precision corners (tags 82-89), upper-left, upper-right, lower-right, lower-left.</summary>
    public IReadOnlyList<LatLon>? CornersFull { get; init; }

    /// <summary>Corners from the offsets (tags 26-33) added to the frame centre (23/24), same order.</summary>
    public IReadOnlyList<LatLon>? CornersFromOffsets { get; init; }

    /// <summary>Precision time stamp (tag 2), microseconds since 1970.</summary>
    public ulong? Timestamp { get; init; }

    /// <summary>Which tags were used, defaults taken and problems seen while reading the KLV.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The corners the KLV reports: full-precision when present, else frame centre plus offsets.</summary>
    public IReadOnlyList<LatLon>? KlvCorners => CornersFull ?? CornersFromOffsets;

    /// <summary>Reads a pose from a decoded ST 0601 set; throws <see cref="InvalidOperationException"/> naming missing tags.</summary>
    public static CameraPose FromKlv(KlvLocalSet set, int frameWidth, int frameHeight) =>
        TryFromKlv(set, frameWidth, frameHeight, out var pose, out var error) ? pose : throw new InvalidOperationException(error);

    /// <summary>Reads a pose from a decoded ST 0601 set; false (and why) when a tag it cannot do without is missing.</summary>
    public static bool TryFromKlv(KlvLocalSet set, int frameWidth, int frameHeight,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CameraPose? pose, out string error)
    {
        pose = null;
        error = "";
        if (frameWidth <= 0 || frameHeight <= 0)
        {
            error = $"frame size {frameWidth} x {frameHeight} is not a valid video frame size";
            return false;
        }

        var notes = new List<string>();
        var missing = new List<string>();
        // EG 0104 sets carry the same quantities as ST 0601 under the same tag numbers (St0104), except the sensor's
        // pointing, which is absolute there: the relative angles (18, 19, 20) are derived from it.
        var derived = set.Schema == St0104.Schema ? Eg0104Pointing.RelativeAngles(set, notes) : null;
        double Required(int tag, string name)
        {
            var value = Read(set, derived, tag, notes);
            if (value is null)
            {
                missing.Add($"{tag} ({name})");
                return double.NaN;
            }

            return value.Value;
        }

        var lat = Required(St0601.SensorLatitude, "sensor latitude");
        var lon = Required(St0601.SensorLongitude, "sensor longitude");
        var hfov = Required(St0601.HorizontalFov, "horizontal field of view");
        var heading = Required(St0601.PlatformHeading, "platform heading");
        var azimuth = Required(St0601.SensorRelativeAzimuth, "sensor relative azimuth");
        var elevation = Required(St0601.SensorRelativeElevation, "sensor relative elevation");

        // Height: an ellipsoid height is what the geometry needs; tag 75 first (as ST 0601 has carried it longest),
        // then its extended-range twin 104 (heights beyond 19 km), then the MSL true altitude 15 through the geoid.
        var msl15 = Read(set, derived, St0601.SensorTrueAltitude, notes);
        var hae75 = Read(set, derived, 75, notes);
        var hae104 = Read(set, derived, 104, notes);
        double height;
        HeightReference reference;
        if (hae75 is { } h75)
        {
            (height, reference) = (h75, HeightReference.Ellipsoid);
            notes.Add("sensor height from tag 75 (ellipsoid height)");
        }
        else if (hae104 is { } h104)
        {
            (height, reference) = (h104, HeightReference.Ellipsoid);
            notes.Add("sensor height from tag 104 (ellipsoid height extended)");
        }
        else if (msl15 is { } msl)
        {
            (height, reference) = (msl, HeightReference.Msl);
            notes.Add("sensor height from tag 15 (true altitude, MSL)");
        }
        else
        {
            missing.Add("15/75/104 (sensor altitude)");
            (height, reference) = (double.NaN, HeightReference.Msl);
        }

        if (missing.Count > 0)
        {
            error = derived is null
                ? "ST 0601 set lacks tags needed for a camera pose: " + string.Join(", ", missing)
                : "EG 0104 set lacks items needed for a camera pose (18/19 come from angle to north and obliquity): " + string.Join(", ", missing);
            return false;
        }

        // The full-range angles (90, 91) replace the short ones, which saturate at +-20 / +-50 degrees.
        var pitch = Read(set, derived, 90, notes) is { } fullPitch ? Noted(fullPitch, "platform pitch from tag 90 (full range)", notes)
            : Read(set, derived, St0601.PlatformPitch, notes) ?? Noted(0, "no platform pitch (tag 6/90): 0 assumed", notes);
        var roll = Read(set, derived, 91, notes) is { } fullRoll ? Noted(fullRoll, "platform roll from tag 91 (full range)", notes)
            : Read(set, derived, St0601.PlatformRoll, notes) ?? Noted(0, "no platform roll (tag 7/91): 0 assumed", notes);
        var sensorRoll = Read(set, derived, St0601.SensorRelativeRoll, notes) ?? Noted(0, "no sensor relative roll (tag 20): 0 assumed", notes);
        var vfov = Read(set, derived, St0601.VerticalFov, notes);
        if (vfov is null)
        {
            notes.Add("no vertical field of view (tag 17): square pixels assumed");
        }

        LatLon? centre = Read(set, derived, St0601.FrameCenterLatitude, notes) is { } cLat && Read(set, derived, St0601.FrameCenterLongitude, notes) is { } cLon
            ? new LatLon(cLat, cLon) : null;
        pose = new CameraPose
        {
            SensorLatitude = lat,
            SensorLongitude = lon,
            SensorHeight = height,
            SensorHeightReference = reference,
            PlatformHeading = heading,
            PlatformPitch = pitch,
            PlatformRoll = roll,
            SensorRelativeAzimuth = azimuth,
            SensorRelativeElevation = elevation,
            SensorRelativeRoll = sensorRoll,
            HorizontalFov = hfov,
            VerticalFov = vfov,
            FrameWidth = frameWidth,
            FrameHeight = frameHeight,
            SensorTrueAltitudeMsl = msl15,
            SensorEllipsoidHeight = hae75,
            SensorEllipsoidHeightExtended = hae104,
            SlantRange = Read(set, derived, St0601.SlantRange, notes),
            FrameCenter = centre,
            FrameCenterElevationMsl = Read(set, derived, St0601.FrameCenterElevation, notes),
            FrameCenterHeightAboveEllipsoid = Read(set, derived, 78, notes),
            CornersFull = ReadCorners(set, derived, 82, notes),
            CornersFromOffsets = centre is { } c ? ReadCorners(set, derived, 26, notes, c) : null,
            Timestamp = set.TryGetItem(St0601.PrecisionTimeStamp, out var ts) && ts.Kind == KlvValueKind.Timestamp ? ts.AsUInt64() : null,
            Notes = notes,
        };
        return true;
    }

    private static double Noted(double value, string note, List<string> notes)
    {
        notes.Add(note);
        return value;
    }

    /// <summary>A finite number for the tag, or null when absent, empty, out of range (the error sentinel) or not a number.</summary>
    private static double? Read(KlvLocalSet set, IReadOnlyDictionary<int, double>? derived, int tag, List<string> notes)
    {
        if (derived is not null && derived.TryGetValue(tag, out var value0104))
        {
            return value0104;
        }

        if (!set.TryGetItem(tag, out var item))
        {
            return null;
        }

        if (item.Kind == KlvValueKind.OutOfRange)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"tag {tag} carries the out-of-range sentinel; ignored"));
            return null;
        }

        var value = item.AsDouble();
        return double.IsFinite(value) ? value : null;
    }

    private static IReadOnlyList<LatLon>? ReadCorners(KlvLocalSet set, IReadOnlyDictionary<int, double>? derived, int firstTag, List<string> notes, LatLon? centre = null)
    {
        var corners = new LatLon[4];
        for (var k = 0; k < 4; k++)
        {
            var lat = Read(set, derived, firstTag + 2 * k, notes);
            var lon = Read(set, derived, firstTag + 2 * k + 1, notes);
            if (lat is null || lon is null)
            {
                return null;
            }

            corners[k] = centre is { } c
                ? new LatLon(c.Latitude + lat.Value, Wgs84.NormalizeLongitude(c.Longitude + lon.Value))
                : new LatLon(lat.Value, lon.Value);
        }

        return corners;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"sensor ({SensorLatitude:0.000000}, {SensorLongitude:0.000000}, {SensorHeight:0.0} m {SensorHeightReference}) platform hpr ({PlatformHeading:0.00}, {PlatformPitch:0.00}, {PlatformRoll:0.00}) gimbal aer ({SensorRelativeAzimuth:0.00}, {SensorRelativeElevation:0.00}, {SensorRelativeRoll:0.00}) fov {HorizontalFov:0.00} x {VerticalFov?.ToString("0.00", CultureInfo.InvariantCulture) ?? "-"} frame {FrameWidth} x {FrameHeight}");
}
