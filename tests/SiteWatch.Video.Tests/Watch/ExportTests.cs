using System.Text.Json;
using System.Xml.Linq;
using SiteWatch.Video.Geo;
using SiteWatch.Video.Tracking;
using SiteWatch.Video.Watch;
using static SiteWatch.Video.Tests.Watch.ZoneTestSupport;

namespace SiteWatch.Video.Tests.Watch;

public sealed class ExportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sitewatch-export-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static FlightRecord Sample()
    {
        var record = new FlightRecord
        {
            Zones = Zones(Square(0, 0, 100, 100, """{"name":"yard"}"""), NorthLine(0, -50, 50, """{"name":"border"}""")),
            StartTime = new DateTimeOffset(2024, 5, 1, 3, 0, 0, TimeSpan.Zero),
        };
        record.Footprints.Add(new FootprintSample(0, TimeSpan.Zero, record.StartTime, [At(0, 0), At(50, 0), At(50, 40), At(0, 40), At(0, 0)]));
        record.Tracks.Add(new TrackRecord(3, "car", 0.8, [new TrackPoint(0, TimeSpan.Zero, At(1, 1)), new TrackPoint(30, TimeSpan.FromSeconds(1), At(11, 1))]));
        record.Alerts.Add(AlertDeliveryTests.Alert(AlertDeliveryTests.Track() with { Chip = "snapshots/run-0001.png" }));
        return record;
    }

    [Fact]
    public void GeoJSON_parses_back_with_every_kind()
    {
        var path = Path.Combine(_dir, "flight.geojson");
        FlightExport.WriteGeoJson(Sample(), path);
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var features = json.RootElement.GetProperty("features").EnumerateArray().ToList();
        Assert.Equal(["footprint", "track", "alert"], features.Select(f => f.GetProperty("properties").GetProperty("kind").GetString()));
        var ring = features[0].GetProperty("geometry").GetProperty("coordinates")[0];
        Assert.Equal(5, ring.GetArrayLength());
        Assert.Equal(127.0, ring[0][0].GetDouble(), 6);
        Assert.Equal(3, ring[0].GetArrayLength()); // lon, lat and height above the ellipsoid
        // NetTopologySuite reads it back as it wrote it.
        var read = JsonSerializer.Deserialize<NetTopologySuite.Features.FeatureCollection>(File.ReadAllText(path), SiteWatch.Core.Geo.AoiReader.GeoJsonOptions)!;
        Assert.Equal(3, read.Count);
        Assert.Equal(new[] { 0.0, 1.0 }, ((object[])read[1].Attributes["video_seconds"]).Select(Convert.ToDouble));
        var track = features[1];
        Assert.Equal("LineString", track.GetProperty("geometry").GetProperty("type").GetString());
        Assert.Equal("2024-05-01T03:00:01.000Z", track.GetProperty("properties").GetProperty("end").GetString());
        Assert.Equal(127.4985, features[2].GetProperty("geometry").GetProperty("coordinates")[0].GetDouble(), 6);
    }

    [Fact]
    public void KML_parses_back_with_styles_and_times()
    {
        var path = Path.Combine(_dir, "flight.kml");
        FlightExport.WriteKml(Sample(), path);
        var kml = XDocument.Load(path);
        XNamespace ns = "http://www.opengis.net/kml/2.2";
        var placemarks = kml.Descendants(ns + "Placemark").ToList();
        Assert.Equal(5, placemarks.Count); // 2 zones, 1 footprint, 1 track, 1 alert
        Assert.Equal(4, kml.Descendants(ns + "Style").Count());
        var track = placemarks.Single(p => p.Element(ns + "name")!.Value == "car 3");
        Assert.Equal("2024-05-01T03:00:00.000Z", track.Element(ns + "TimeSpan")!.Element(ns + "begin")!.Value);
        var coordinates = track.Descendants(ns + "coordinates").Single().Value.Split(' ');
        Assert.Equal(2, coordinates.Length);
        var alert = placemarks.Single(p => p.Element(ns + "styleUrl")!.Value == "#alert");
        Assert.Equal("2024-05-01T03:04:05.678Z", alert.Element(ns + "TimeStamp")!.Element(ns + "when")!.Value);
        Assert.Contains("snapshots/run-0001.png", alert.Element(ns + "description")!.Value);
        var border = placemarks.Single(p => p.Element(ns + "name")!.Value == "border");
        Assert.NotNull(border.Element(ns + "LineString"));
    }

    [Fact]
    public void PNG_crop_decodes_to_the_frame_pixels()
    {
        const int width = 8, height = 6;
        var bgr = new byte[width * height * 3];
        for (var i = 0; i < width * height; i++)
        {
            bgr[3 * i] = (byte)i; // blue
            bgr[3 * i + 1] = 100;
            bgr[3 * i + 2] = 200; // red
        }

        // Crop from (5, 4), 6 x 6: clipped to 3 x 2.
        var png = PngEncoder.EncodeBgr24Crop(bgr, width, height, 5, 4, 6, 6);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        using var decoded = SkiaSharp.SKBitmap.Decode(png);
        Assert.Equal((3, 2), (decoded.Width, decoded.Height));
        // Second row, first pixel: frame (5, 5) = index 45, as R, G, B; and the first pixel, frame (5, 4) = index 37.
        var second = decoded.GetPixel(0, 1);
        Assert.Equal((200, 100, 45), ((int)second.Red, (int)second.Green, (int)second.Blue));
        var first = decoded.GetPixel(0, 0);
        Assert.Equal((200, 100, 37), ((int)first.Red, (int)first.Green, (int)first.Blue));
    }
}
