using System.Text.Json;
using System.Text.Json.Nodes;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Cli.Commands;

/// <summary>The JSON shapes of catalog records (snake_case, stable for scripts).</summary>
internal static class Views
{
    /// <summary>A site as every host shows it; with its scenes (and their count) when given.</summary>
    public static JsonObject Site(Site s, IReadOnlyList<Scene>? scenes = null)
    {
        var json = RecordJson.Site(s);
        if (scenes is not null)
        {
            json["scene_count"] = scenes.Count;
            json["scenes"] = new JsonArray(scenes.Select(x => (JsonNode?)Scene(x)).ToArray());
        }
        return json;
    }

    /// <summary>A scene as every host shows it, and where its files are on this machine.</summary>
    public static JsonObject Scene(Scene s)
    {
        var json = RecordJson.Scene(s);
        json["file"] = s.File;
        json["cloud_mask_file"] = s.CloudMaskFile;
        json["source_path"] = s.SourcePath;
        return json;
    }

    public static JsonElement Element(object value) => JsonSerializer.SerializeToElement(value, Output.Json);
}
