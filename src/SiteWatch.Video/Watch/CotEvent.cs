using System.Text;
using System.Xml;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;

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

    /// <summary>
    /// One &lt;event&gt; element for a video alert (one with <see cref="AlertRecord.Track"/>), UTF-8, no XML declaration
    /// (TAK clients accept either; UDP datagrams stay small).
    /// </summary>
    public static string ToXml(AlertRecord alert, CotOptions? options = null)
    {
        options ??= new CotOptions();
        var track = alert.Track ?? throw new ArgumentException($"alert {alert.Key}: a CoT event places a tracked object; this alert has no track evidence", nameof(alert));
        var raised = new DateTimeOffset(alert.RaisedUtc, TimeSpan.Zero);
        var observed = new DateTimeOffset(alert.ObservedUtc, TimeSpan.Zero);
        var builder = new StringBuilder();
        using (var xml = XmlWriter.Create(builder, new XmlWriterSettings { OmitXmlDeclaration = true, Indent = false }))
        {
            xml.WriteStartElement("event");
            xml.WriteAttributeString("version", "2.0");
            xml.WriteAttributeString("uid", $"SiteWatch.{track.AlertId}");
            xml.WriteAttributeString("type", options.Type);
            xml.WriteAttributeString("time", Iso(raised));
            xml.WriteAttributeString("start", Iso(observed));
            xml.WriteAttributeString("stale", Iso(observed + options.Stale));
            // Machine-derived position: placed by casting the camera ray through the object onto the terrain.
            xml.WriteAttributeString("how", "m-p");
            xml.WriteStartElement("point");
            xml.WriteAttributeString("lat", Number(track.Latitude, "0.0000000"));
            xml.WriteAttributeString("lon", Number(track.Longitude, "0.0000000"));
            xml.WriteAttributeString("hae", Number(double.IsFinite(track.HeightAboveEllipsoid) ? track.HeightAboveEllipsoid : Unknown, "0.0"));
            xml.WriteAttributeString("ce", Number(options.CircularErrorMetres, "0.0"));
            xml.WriteAttributeString("le", Number(Unknown, "0.0"));
            xml.WriteEndElement();
            xml.WriteStartElement("detail");
            xml.WriteStartElement("contact");
            xml.WriteAttributeString("callsign", $"{track.ClassName} {track.TrackId} {alert.Kind} {track.Zone}");
            xml.WriteEndElement();
            if (track.HeadingDeg is { } course && track.SpeedMps is { } speed)
            {
                xml.WriteStartElement("track");
                xml.WriteAttributeString("course", Number(course, "0.0"));
                xml.WriteAttributeString("speed", Number(speed, "0.00"));
                xml.WriteEndElement();
            }

            xml.WriteStartElement("remarks");
            xml.WriteString(Remarks(alert.Kind, track));
            xml.WriteEndElement();
            xml.WriteStartElement("sitewatch");
            xml.WriteAttributeString("zone", track.Zone);
            xml.WriteAttributeString("rule", alert.Kind);
            xml.WriteAttributeString("track", track.TrackId.ToString(CultureInfo.InvariantCulture));
            xml.WriteAttributeString("class", track.ClassName);
            xml.WriteAttributeString("score", Number(track.Score, "0.000"));
            xml.WriteAttributeString("frame", track.FrameIndex.ToString(CultureInfo.InvariantCulture));
            xml.WriteEndElement();
            xml.WriteEndElement();
            xml.WriteEndElement();
        }

        return builder.ToString();
    }

    private static string Remarks(string rule, TrackEvidence track)
    {
        var motion = track.SpeedMps is { } s && track.HeadingDeg is { } h ? string.Create(CultureInfo.InvariantCulture, $", {s:0.0} m/s heading {h:000}") : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{track.ClassName} (track {track.TrackId}, score {track.Score:0.00}) {RuleVerb(rule)} {track.Zone}{motion}; video {track.VideoSeconds:0.0} s, frame {track.FrameIndex}");
    }

    private static string RuleVerb(string rule) => rule switch
    {
        RuleKind.Enter => "entered",
        RuleKind.Cross => "crossed",
        RuleKind.Loiter => "loitering in",
        _ => rule,
    };

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
