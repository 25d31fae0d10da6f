using System.Text;
using System.Text.Json;
using System.Xml;
using NetTopologySuite.Features;
using NetTopologySuite.Geometries;
using SiteWatch.Core.Geo;
using SiteWatch.Video.Geo;
using SiteWatch.Video.Tracking;

using SiteWatch.Core.Catalog;

namespace SiteWatch.Video.Watch;

/// <summary>One sampled frame footprint: its time and ground polygon (lon/lat, closed ring).</summary>
public sealed record FootprintSample(long FrameIndex, TimeSpan VideoTime, DateTimeOffset? SensorTime, IReadOnlyList<GeoPoint> Ring);

/// <summary>A finished or running track for export: its ground path with times.</summary>
public sealed record TrackRecord(int Id, string ClassName, double Score, IReadOnlyList<TrackPoint> Path);

/// <summary>What a watch run saw: footprints (sampled), tracks and alerts. <see cref="StartTime"/> anchors video times.</summary>
public sealed class FlightRecord
{
    public List<FootprintSample> Footprints { get; } = [];
    public List<TrackRecord> Tracks { get; } = [];
    public List<AlertRecord> Alerts { get; } = [];
    public IReadOnlyList<WatchZone> Zones { get; init; } = [];

    /// <summary>The absolute time of video time 0 (the first frame's KLV time stamp), when known.</summary>
    public DateTimeOffset? StartTime { get; set; }

    public DateTimeOffset? Absolute(TimeSpan videoTime) => StartTime + videoTime;
}

/// <summary>GeoJSON (RFC 7946) and KML 2.2 of a <see cref="FlightRecord"/>.</summary>
public static class FlightExport
{
    /// <summary>RFC 7946 GeoJSON through NetTopologySuite's writer: footprints, tracks (with per-point video times) and alerts, each with its kind.</summary>
    public static void WriteGeoJson(FlightRecord record, string path)
    {
        var features = new FeatureCollection();
        foreach (var footprint in record.Footprints)
        {
            var ring = footprint.Ring.Select(p => (Coordinate)Position(p)).ToList();
            if (ring.Count > 0 && !ring[0].Equals2D(ring[^1]))
            {
                ring.Add(ring[0].Copy());
            }
            if (ring.Count < 4)
            {
                continue; // not an area: nothing to draw
            }
            features.Add(Feature(Geometries.CreatePolygon(ring.ToArray()), "footprint", new()
            {
                ["frame"] = footprint.FrameIndex,
                ["video_seconds"] = Math.Round(footprint.VideoTime.TotalSeconds, 3),
                ["time"] = Time(footprint.SensorTime),
            }));
        }

        foreach (var track in record.Tracks.Where(t => t.Path.Count >= 2))
        {
            features.Add(Feature(Geometries.CreateLineString(track.Path.Select(p => Position(p.Position)).ToArray()), "track", new()
            {
                ["track_id"] = track.Id,
                ["class"] = track.ClassName,
                ["score"] = Math.Round(track.Score, 3),
                ["video_seconds"] = track.Path.Select(p => Math.Round(p.Time.TotalSeconds, 3)).ToArray(),
                ["start"] = Time(record.Absolute(track.Path[0].Time)),
                ["end"] = Time(record.Absolute(track.Path[^1].Time)),
            }));
        }

        foreach (var alert in record.Alerts)
        {
            var track = alert.Track!;
            features.Add(Feature(Geometries.CreatePoint(Position(new GeoPoint(track.Latitude, track.Longitude, track.HeightAboveEllipsoid))), "alert", new()
            {
                ["alert_id"] = track.AlertId,
                ["rule"] = alert.Kind,
                ["zone"] = track.Zone,
                ["track_id"] = track.TrackId,
                ["class"] = track.ClassName,
                ["score"] = Math.Round(track.Score, 3),
                ["video_seconds"] = Math.Round(track.VideoSeconds, 3),
                ["time"] = Time(new DateTimeOffset(alert.ObservedUtc, TimeSpan.Zero)),
                ["snapshot"] = track.Chip,
            }));
        }

        File.WriteAllText(path, JsonSerializer.Serialize(features, AoiReader.GeoJsonOptions));
    }

    private static readonly GeometryFactory Geometries = new(new PrecisionModel(), 4326);

    /// <summary>A feature whose properties start with its kind; unknown values (null) are left out.</summary>
    private static Feature Feature(Geometry geometry, string kind, Dictionary<string, object?> properties)
    {
        var attributes = new AttributesTable { { "kind", kind } };
        foreach (var (name, value) in properties)
        {
            if (value is not null)
            {
                attributes.Add(name, value);
            }
        }
        return new Feature(geometry, attributes);
    }

    /// <summary>Lon, lat (7 decimals: about a centimetre) and height above the ellipsoid (decimetres).</summary>
    private static CoordinateZ Position(GeoPoint p) =>
        new(Math.Round(p.Longitude, 7), Math.Round(p.Latitude, 7), Math.Round(p.HeightAboveEllipsoid, 1));

    private static string? Time(DateTimeOffset? time) => time is { } t ? Iso(t) : null;

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>KML 2.2: folders of footprints, tracks and alerts, each a styled Placemark with TimeStamp/TimeSpan when times are known.</summary>
    public static void WriteKml(FlightRecord record, string path)
    {
        using var stream = File.Create(path);
        using var xml = XmlWriter.Create(stream, new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) });
        const string ns = "http://www.opengis.net/kml/2.2";
        xml.WriteStartDocument();
        xml.WriteStartElement("kml", ns);
        xml.WriteStartElement("Document");
        xml.WriteElementString("name", "SiteWatch flight");
        Style(xml, "footprint", line: "ff00ffff", poly: "2000ffff", icon: null);
        Style(xml, "track", line: "ff0000ff", poly: null, icon: null);
        Style(xml, "alert", line: null, poly: null, icon: "http://maps.google.com/mapfiles/kml/shapes/caution.png");
        Style(xml, "zone", line: "ff0080ff", poly: "400080ff", icon: null);

        Folder(xml, "Watch zones", record.Zones, zone =>
        {
            Placemark(xml, zone.Name, "zone", null, null, () =>
            {
                if (zone.Line is { } line)
                {
                    xml.WriteStartElement("LineString");
                    xml.WriteElementString("coordinates", string.Join(" ", line.Select(p => Coordinate(p.Lon, p.Lat, 0))));
                    xml.WriteEndElement();
                    return;
                }

                xml.WriteStartElement("MultiGeometry");
                foreach (var polygon in zone.Polygons)
                {
                    xml.WriteStartElement("Polygon");
                    for (var r = 0; r < polygon.Count; r++)
                    {
                        xml.WriteStartElement(r == 0 ? "outerBoundaryIs" : "innerBoundaryIs");
                        xml.WriteStartElement("LinearRing");
                        xml.WriteElementString("coordinates", string.Join(" ", polygon[r].Select(p => Coordinate(p.Lon, p.Lat, 0))));
                        xml.WriteEndElement();
                        xml.WriteEndElement();
                    }

                    xml.WriteEndElement();
                }

                xml.WriteEndElement();
            });
        });

        Folder(xml, "Footprints", record.Footprints, f =>
        {
            Placemark(xml, string.Create(CultureInfo.InvariantCulture, $"frame {f.FrameIndex} ({f.VideoTime.TotalSeconds:0.0} s)"), "footprint",
                f.SensorTime, null, () =>
                {
                    xml.WriteStartElement("Polygon");
                    xml.WriteElementString("altitudeMode", "clampToGround");
                    xml.WriteStartElement("outerBoundaryIs");
                    xml.WriteStartElement("LinearRing");
                    xml.WriteElementString("coordinates", string.Join(" ", f.Ring.Select(p => Coordinate(p.Longitude, p.Latitude, 0))));
                    xml.WriteEndElement();
                    xml.WriteEndElement();
                    xml.WriteEndElement();
                });
        });

        Folder(xml, "Tracks", record.Tracks.Where(t => t.Path.Count >= 2), t =>
        {
            Placemark(xml, $"{t.ClassName} {t.Id}", "track", record.Absolute(t.Path[0].Time), record.Absolute(t.Path[^1].Time), () =>
            {
                xml.WriteStartElement("LineString");
                xml.WriteElementString("altitudeMode", "clampToGround");
                xml.WriteElementString("coordinates", string.Join(" ", t.Path.Select(p => Coordinate(p.Position.Longitude, p.Position.Latitude, 0))));
                xml.WriteEndElement();
            });
        });

        Folder(xml, "Alerts", record.Alerts, a =>
        {
            var t = a.Track!;
            Placemark(xml, $"{a.Kind} {t.Zone}: {t.ClassName} {t.TrackId}", "alert", new DateTimeOffset(a.ObservedUtc, TimeSpan.Zero), null, () =>
            {
                xml.WriteStartElement("Point");
                xml.WriteElementString("coordinates", Coordinate(t.Longitude, t.Latitude, 0));
                xml.WriteEndElement();
            }, t.Chip is null ? null : $"<img src=\"{t.Chip}\"/>");
        });

        xml.WriteEndElement();
        xml.WriteEndElement();
        xml.WriteEndDocument();
    }

    private static void Folder<T>(XmlWriter xml, string name, IEnumerable<T> items, Action<T> write)
    {
        xml.WriteStartElement("Folder");
        xml.WriteElementString("name", name);
        foreach (var item in items)
        {
            write(item);
        }

        xml.WriteEndElement();
    }

    private static void Placemark(XmlWriter xml, string name, string style, DateTimeOffset? begin, DateTimeOffset? end, Action geometry, string? description = null)
    {
        xml.WriteStartElement("Placemark");
        xml.WriteElementString("name", name);
        if (description is not null)
        {
            xml.WriteStartElement("description");
            xml.WriteCData(description);
            xml.WriteEndElement();
        }

        if (begin is { } b && end is { } e)
        {
            xml.WriteStartElement("TimeSpan");
            xml.WriteElementString("begin", Iso(b));
            xml.WriteElementString("end", Iso(e));
            xml.WriteEndElement();
        }
        else if (begin is { } t)
        {
            xml.WriteStartElement("TimeStamp");
            xml.WriteElementString("when", Iso(t));
            xml.WriteEndElement();
        }

        xml.WriteElementString("styleUrl", "#" + style);
        geometry();
        xml.WriteEndElement();
    }

    private static void Style(XmlWriter xml, string id, string? line, string? poly, string? icon)
    {
        xml.WriteStartElement("Style");
        xml.WriteAttributeString("id", id);
        if (icon is not null)
        {
            xml.WriteStartElement("IconStyle");
            xml.WriteStartElement("Icon");
            xml.WriteElementString("href", icon);
            xml.WriteEndElement();
            xml.WriteEndElement();
        }

        if (line is not null)
        {
            xml.WriteStartElement("LineStyle");
            xml.WriteElementString("color", line);
            xml.WriteElementString("width", "2");
            xml.WriteEndElement();
        }

        if (poly is not null)
        {
            xml.WriteStartElement("PolyStyle");
            xml.WriteElementString("color", poly);
            xml.WriteEndElement();
        }

        xml.WriteEndElement();
    }

    private static string Coordinate(double lon, double lat, double height) =>
        string.Create(CultureInfo.InvariantCulture, $"{lon:0.0000000},{lat:0.0000000},{height:0.#}");
}
