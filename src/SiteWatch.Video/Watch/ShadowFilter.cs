using System.Globalization;
using SiteWatch.Video.Geo;
using SiteWatch.Video.Tracking;

namespace SiteWatch.Video.Watch;

/// <summary>
/// Drops person detections that lie where another person's shadow falls. From a drone at 0.3-0.5 m a pixel a person
/// is a dot of one or two pixels and so is the shadow beside it, which a detector takes for a second person; tracked,
/// that shadow walks with the person and crosses a watched line a moment after it, raising a second alert. The KLV's
/// time and place give the sun (<see cref="SunPosition"/>), so where each person's shadow lies on the ground is known:
/// a person detection there is the shadow. Shadows cast no shadows, so detections
/// are taken from the sun's side onwards and only a detection kept as a person can claim a shadow: people walking in
/// file straight away from the sun, each on the shadow of the one before, lose every second member, not all but one.
/// Vehicles are left alone: their shadows join their bodies. Box centres are cast onto the terrain; on an oblique view
/// a standing person's centre is some 0.9 m above its feet, which moves its ground point up to half a metre away
/// from the camera and can hide a shadow from the test (the simulator draws people flat, so it does not show this).
/// </summary>
public sealed class ShadowFilter
{
    /// <summary>Heights of standing people, metres: a person's shadow lies at this height over tan(sun elevation).</summary>
    public const double ShortestPerson = 1.5, TypicalPerson = 1.7, TallestPerson = 1.9;

    /// <summary>
    /// The shadow's detected centre lies between the middle of the shortest person's shadow and a quarter past the
    /// tallest one's end (a detector boxes the darkest part of the streak), and at most this far to either side of the
    /// line from the body away from the sun: half a body's width and the noise of two box centres of 2-3 pixels (a
    /// quarter of a pixel, 0.1 m at 0.4 m a pixel). Wider takes people walking in file beside the shadows for
    /// shadows: on most simulated flights a group member walks 0.7 m off the shadow line of the one before.
    /// </summary>
    public const double AcrossMetres = 0.35;

    private const double NearestAlong = 0.5, FarthestAlong = 1.25;

    /// <summary>A sun lower than this casts shadows too long to pair; one higher puts them under the body.</summary>
    public const double LowestSun = 10, HighestSun = 80;

    /// <summary>
    /// Only a detection scoring at least this may cast a shadow: the tracker's high gate, below which a detection is
    /// as often clutter (a stone, a shrub) as a person, and clutter must not take a real person for its shadow.
    /// </summary>
    public double BodyScore { get; }

    public ShadowFilter(double bodyScore)
    {
        BodyScore = bodyScore;
    }

    /// <summary>Detections dropped as shadows so far.</summary>
    public long Dropped { get; private set; }

    /// <summary>Detection frames where the sun was known and stood between <see cref="LowestSun"/> and <see cref="HighestSun"/>.</summary>
    public long FramesFiltered { get; private set; }

    /// <summary>The sun of the latest frame it was known for.</summary>
    public SunPosition? LastSun { get; private set; }

    /// <summary>Why the latest frame left as it was could not be searched (no KLV time, the sun too low or too high).</summary>
    public string? NotFilteredBecause { get; private set; }

    /// <summary>
    /// <paramref name="detections"/> without those taken for shadows. <paramref name="time"/> is the frame's KLV time
    /// (UTC); the sun is reckoned for the frame centre's ground point.
    /// </summary>
    public IReadOnlyList<BoxDetection> Apply(IReadOnlyList<BoxDetection> detections, DateTimeOffset? time, FrameGeolocator? geolocator, int frameWidth, int frameHeight)
    {
        var people = detections.Where(d => string.Equals(d.ClassName, "person", StringComparison.OrdinalIgnoreCase)).ToList();
        if (people.Count < 2)
        {
            return detections;
        }

        if (SunOver(time, geolocator, frameWidth, frameHeight) is not { } over)
        {
            return detections;
        }

        var (sun, centre) = over;

        FramesFiltered++;
        var (east, north) = Math.SinCos(sun.ShadowBearingDeg * Math.PI / 180);
        var nearest = NearestAlong * sun.ShadowLength(ShortestPerson);
        var farthest = FarthestAlong * sun.ShadowLength(TallestPerson);

        // Each person on the ground, in metres east and north of the frame centre, ordered from the sun's side.
        var placed = new List<(BoxDetection Detection, double Along, double Across)>(people.Count);
        foreach (var person in people)
        {
            var hit = geolocator!.PixelToGround(person.Box.CentreX, person.Box.CentreY);
            if (hit.IsHit)
            {
                var enu = Wgs84.ToEnu(centre, hit.Point);
                placed.Add((person, enu.X * east + enu.Y * north, -enu.X * north + enu.Y * east));
            }
        }

        placed.Sort((a, b) => a.Along.CompareTo(b.Along));
        var expected = sun.ShadowLength(TypicalPerson);
        var shadows = new HashSet<BoxDetection>(ReferenceEqualityComparer.Instance);
        for (var j = 0; j < placed.Count; j++)
        {
            // A body casts one shadow: of the detections in its shadow's window, the one nearest where a person of
            // typical height casts it (a neighbour standing beside the shadow is left alone).
            var body = placed[j];
            if (shadows.Contains(body.Detection) || body.Detection.Score < BodyScore)
            {
                continue;
            }

            int best = -1;
            var bestDistance = double.MaxValue;
            for (var i = j + 1; i < placed.Count; i++)
            {
                var along = placed[i].Along - body.Along;
                var across = placed[i].Across - body.Across;
                if (along >= nearest && along <= farthest && Math.Abs(across) <= AcrossMetres && !shadows.Contains(placed[i].Detection))
                {
                    var distance = Math.Sqrt((along - expected) * (along - expected) + across * across);
                    if (distance < bestDistance)
                    {
                        (best, bestDistance) = (i, distance);
                    }
                }
            }

            if (best >= 0)
            {
                shadows.Add(placed[best].Detection);
            }
        }

        if (shadows.Count == 0)
        {
            return detections;
        }

        Dropped += shadows.Count;
        return detections.Where(d => !shadows.Contains(d)).ToList();
    }

    /// <summary>The sun over the frame centre's ground point, or null (with the reason kept) where it is unknown or out of the range the test holds for.</summary>
    private (SunPosition Sun, GeoPoint Centre)? SunOver(DateTimeOffset? time, FrameGeolocator? geolocator, int frameWidth, int frameHeight)
    {
        if (time is null || geolocator is null)
        {
            NotFilteredBecause = time is null ? "no KLV time" : "no camera pose";
            return null;
        }

        var centre = geolocator.PixelToGround(frameWidth / 2.0, frameHeight / 2.0);
        if (!centre.IsHit)
        {
            NotFilteredBecause = "the frame centre is off the ground";
            return null;
        }

        var sun = SunPosition.At(time.Value, centre.Point.Latitude, centre.Point.Longitude);
        LastSun = sun;
        if (sun.ElevationDeg is < LowestSun or > HighestSun)
        {
            NotFilteredBecause = string.Create(CultureInfo.InvariantCulture, $"the sun {sun.ElevationDeg:0} degrees high");
            return null;
        }

        return (sun, centre.Point);
    }
}
