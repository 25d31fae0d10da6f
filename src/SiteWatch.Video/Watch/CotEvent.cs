using System.Globalization;
using System.Text;
using System.Xml;

namespace SiteWatch.Video.Watch;

/// <summary>How alerts appear in TAK tools.</summary>
public sealed record CotOptions
{
    /// <summary>CoT type: a-u-G (unknown ground unit) by default; a-h-G marks it hostile.</summary>
    public string Type { get; init; } = "a-u-G";

    /// <summary>How long the marker stays fresh in the clients.</summary>
    public TimeSpan Stale { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Circular error (m, 1 sigma) stated for positions placed from video.</summary>
    public double CircularErrorMetres { get; init; } = 15;
}

/// <summary>Cursor-on-Target 2.0 events for alerts.</summary>
public static class CotEvent
{
    /// <summary>The CoT "unknown" value for errors and heights.</summary>
    public const double Unknown = 9999999.0;

    /// <summary>One &lt;event&gt; element, UTF-8, no XML declaration (TAK clients accept either; UDP datagrams stay small).</summary>
    public static string ToXml(WatchAlert alert, CotOptions? options = null)
    {
        options ??= new CotOptions();
        var builder = new StringBuilder();
        using (var xml = XmlWriter.Create(builder, new XmlWriterSettings { OmitXmlDeclaration = true, Indent = false }))
        {
            xml.WriteStartElement("event");
            xml.WriteAttributeString("version", "2.0");
            xml.WriteAttributeString("uid", $"SiteWatch.{alert.Id}");
            xml.WriteAttributeString("type", options.Type);
            xml.WriteAttributeString("time", Iso(alert.WallTime));
            xml.WriteAttributeString("start", Iso(alert.EventTime));
            xml.WriteAttributeString("stale", Iso(alert.EventTime + options.Stale));
            // Machine-derived position: placed by casting the camera ray through the object onto the terrain.
            xml.WriteAttributeString("how", "m-p");
            xml.WriteStartElement("point");
            xml.WriteAttributeString("lat", Number(alert.Latitude, "0.0000000"));
            xml.WriteAttributeString("lon", Number(alert.Longitude, "0.0000000"));
            xml.WriteAttributeString("hae", Number(double.IsFinite(alert.HeightAboveEllipsoid) ? alert.HeightAboveEllipsoid : Unknown, "0.0"));
            xml.WriteAttributeString("ce", Number(options.CircularErrorMetres, "0.0"));
            xml.WriteAttributeString("le", Number(Unknown, "0.0"));
            xml.WriteEndElement();
            xml.WriteStartElement("detail");
            xml.WriteStartElement("contact");
            xml.WriteAttributeString("callsign", $"{alert.ClassName} {alert.TrackId} {alert.Rule} {alert.Zone}");
            xml.WriteEndElement();
            if (alert.HeadingDeg is { } course && alert.SpeedMps is { } speed)
            {
                xml.WriteStartElement("track");
                xml.WriteAttributeString("course", Number(course, "0.0"));
                xml.WriteAttributeString("speed", Number(speed, "0.00"));
                xml.WriteEndElement();
            }

            xml.WriteStartElement("remarks");
            xml.WriteString(Remarks(alert));
            xml.WriteEndElement();
            xml.WriteStartElement("sitewatch");
            xml.WriteAttributeString("zone", alert.Zone);
            xml.WriteAttributeString("rule", alert.Rule);
            xml.WriteAttributeString("track", alert.TrackId.ToString(CultureInfo.InvariantCulture));
            xml.WriteAttributeString("class", alert.ClassName);
            xml.WriteAttributeString("score", Number(alert.Score, "0.000"));
            xml.WriteAttributeString("frame", alert.FrameIndex.ToString(CultureInfo.InvariantCulture));
            xml.WriteEndElement();
            xml.WriteEndElement();
            xml.WriteEndElement();
        }

        return builder.ToString();
    }

    private static string Remarks(WatchAlert alert)
    {
        var motion = alert.SpeedMps is { } s && alert.HeadingDeg is { } h ? string.Create(CultureInfo.InvariantCulture, $", {s:0.0} m/s heading {h:000}") : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{alert.ClassName} (track {alert.TrackId}, score {alert.Score:0.00}) {RuleVerb(alert.Rule)} {alert.Zone}{motion}; video {alert.VideoSeconds:0.0} s, frame {alert.FrameIndex}");
    }

    private static string RuleVerb(string rule) => rule switch
    {
        Core.Alerts.RuleKind.Enter => "entered",
        Core.Alerts.RuleKind.Cross => "crossed",
        Core.Alerts.RuleKind.Loiter => "loitering in",
        _ => rule,
    };

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
