using System.Text.Json;

namespace SiteWatch.Core.Detection;

/// <summary>
/// MODEL.json beside MODEL.onnx: what a model's own metadata does not say (bands, scaling, classes, GSD ...). The
/// detector and change models each read their own fields; opening, size bound and the errors are shared.
/// </summary>
internal static class ModelSideCar
{
    public static string PathOf(string modelPath) => Path.ChangeExtension(modelPath, ".json");

    /// <summary>The side-car read by <paramref name="read"/> (given its root object and path); null when there is none. A broken one is an error naming the file.</summary>
    public static T? Read<T>(string modelPath, string what, Func<JsonElement, string, T> read) where T : class
    {
        var path = PathOf(modelPath);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(IO.BoundedFile.ReadText(path, what));
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new SiteWatchException($"{path}: the model's side-car must be a JSON object");
            }
            return read(doc.RootElement, path);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new SiteWatchException($"{path}: not a valid {what}: {e.Message}", e);
        }
    }
}
