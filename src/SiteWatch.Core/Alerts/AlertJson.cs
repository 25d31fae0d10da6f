using System.Text.Json.Nodes;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Core.Alerts;

/// <summary>
/// The one JSON form of an alert, scene or video, stored in a site or not: the "alert" of every webhook payload, each
/// line of a watch's alerts.jsonl and the alerts of <c>--json</c> output. A reader parses one shape.
/// </summary>
public static class AlertJson
{
    /// <summary>
    /// The alert with its evidence and geometry as JSON objects. <paramref name="uid"/> is its stable id
    /// (<see cref="AlertIdentity"/>); the id is null for an alert not stored in a catalog.
    /// </summary>
    public static JsonObject Document(AlertRecord alert, string uid) => new()
    {
        ["id"] = alert.Id == 0 ? null : alert.Id,
        ["uid"] = uid,
        ["source"] = alert.Source,
        ["rule"] = alert.RuleName,
        ["kind"] = alert.Kind,
        ["severity"] = alert.Severity,
        ["message"] = alert.Message,
        ["observed_utc"] = alert.ObservedUtc,
        ["raised_utc"] = alert.RaisedUtc,
        ["geometry"] = alert.GeometryGeoJson is null ? null : JsonNode.Parse(alert.GeometryGeoJson),
        ["evidence"] = JsonNode.Parse(alert.Evidence),
    };

    /// <summary>The stable id of an alert that no site stores (a watch's own outbox and files): its video uid.</summary>
    public static string UnstoredUid(AlertRecord alert) =>
        alert.Track?.AlertUid ?? AlertIdentity.Uid(alert.Source, alert.Key);
}
