using System.Text.Json;

namespace SiteWatch.Server.Endpoints;

/// <summary>Reads JSON request bodies, answering 400 with the problem (and where) instead of a bare binding failure.</summary>
internal static class Body
{
    public static async Task<JsonElement> ReadObjectAsync(HttpRequest request, CancellationToken cancel)
    {
        if (!(request.ContentType ?? "").StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new HttpProblem(StatusCodes.Status415UnsupportedMediaType, "request body: send JSON (Content-Type: application/json)");
        }
        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 64 }, cancel);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw HttpProblem.BadRequest("request body: must be a JSON object");
            }
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw HttpProblem.BadRequest($"request body: invalid JSON (line {(e.LineNumber ?? 0) + 1}): {e.Message.Split('.')[0]}");
        }
    }

    /// <summary>
    /// The request's JSON object, or an empty one when the request has no body. A body may come without a length
    /// (chunked, as .NET's JsonContent sends it): its content type says it is there.
    /// </summary>
    public static async Task<JsonElement> ReadOptionalObjectAsync(HttpRequest request, CancellationToken cancel) =>
        request.ContentLength == 0 || (request.ContentLength is null && string.IsNullOrEmpty(request.ContentType))
            ? JsonDocument.Parse("{}").RootElement
            : await ReadObjectAsync(request, cancel);

    public static string? String(JsonElement body, string field, bool required = false, int maxLength = 1000)
    {
        if (!body.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return required ? throw HttpProblem.BadRequest($"field '{field}': required") : null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            throw HttpProblem.BadRequest($"field '{field}': must be a string");
        }
        var text = value.GetString()!;
        return text.Length > maxLength ? throw HttpProblem.BadRequest($"field '{field}': longer than {maxLength} characters") : text;
    }

    public static double? Number(JsonElement body, string field)
    {
        if (!body.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && double.IsFinite(d)
            ? d
            : throw HttpProblem.BadRequest($"field '{field}': must be a number");
    }

    public static IReadOnlyList<string> Strings(JsonElement body, string field)
    {
        if (!body.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String))
        {
            throw HttpProblem.BadRequest($"field '{field}': must be an array of strings");
        }
        return value.EnumerateArray().Select(v => v.GetString()!).ToList();
    }
}
