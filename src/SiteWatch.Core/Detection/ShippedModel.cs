namespace SiteWatch.Core.Detection;

/// <summary>Where a model that ships with SiteWatch is found: an environment variable when set, else models/ beside the application.</summary>
internal static class ShippedModel
{
    /// <summary>The file's path, or null when this build does not have it.</summary>
    public static string? Find(string environmentVariable, string fileName)
    {
        var path = Environment.GetEnvironmentVariable(environmentVariable) is { Length: > 0 } env
            ? env
            : Path.Combine(AppContext.BaseDirectory, "models", fileName);
        return File.Exists(path) ? path : null;
    }
}
