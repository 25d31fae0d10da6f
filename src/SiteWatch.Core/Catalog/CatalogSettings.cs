using System.Text.Json;
using System.Text.Json.Serialization;
using Npgsql;

namespace SiteWatch.Core.Catalog;

/// <summary>
/// catalog.json: which PostgreSQL database holds a workspace's catalog. It never holds a password (Npgsql reads
/// ~/.pgpass or PGPASSWORD), so the workspace folder can be shared or backed up without one.
/// </summary>
internal sealed record CatalogSettings(
    [property: JsonPropertyName("engine")] string Engine,
    [property: JsonPropertyName("connection")] string Connection)
{
    private const string PostgresEngine = "postgresql";

    public static SiteCatalog InitPostgres(string root, string? connection)
    {
        var settingsFile = Path.Combine(root, Workspace.CatalogSettingsFileName);
        if (File.Exists(Path.Combine(root, Workspace.CatalogFileName)))
        {
            throw new SiteWatchException($"{root}: this workspace already keeps its catalog in {Workspace.CatalogFileName} (SQLite); make a new workspace folder for the PostgreSQL catalog; nothing was changed");
        }
        var existing = File.Exists(settingsFile) ? Read(root) : null;
        if (connection is null)
        {
            return SiteCatalog.OpenPostgres(existing!.Connection, root, create: true);
        }
        CheckHoldsNoPassword(connection);
        if (existing is not null && existing.Connection != connection)
        {
            throw new SiteWatchException($"{settingsFile}: this workspace's catalog is already {existing.Connection}; nothing was changed");
        }
        var catalog = SiteCatalog.OpenPostgres(connection, root, create: true);
        if (existing is null)
        {
            // Written only once the database holds the catalog: a failed init leaves no half-made workspace.
            var staged = settingsFile + ".tmp";
            File.WriteAllText(staged, JsonSerializer.Serialize(new CatalogSettings(PostgresEngine, connection), new JsonSerializerOptions { WriteIndented = true }));
            File.Move(staged, settingsFile, overwrite: false);
        }
        return catalog;
    }

    public static SiteCatalog OpenPostgres(string root) => SiteCatalog.OpenPostgres(Read(root).Connection, root, create: false);

    private static CatalogSettings Read(string root)
    {
        var file = Path.Combine(root, Workspace.CatalogSettingsFileName);
        CatalogSettings? settings;
        try
        {
            settings = JsonSerializer.Deserialize<CatalogSettings>(File.ReadAllText(file));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new SiteWatchException($"{file}: cannot read the catalog settings ({e.Message}); nothing was changed", e);
        }
        if (settings is not { Engine: PostgresEngine, Connection.Length: > 0 })
        {
            throw new SiteWatchException($"{file}: expected {{\"engine\": \"{PostgresEngine}\", \"connection\": \"Host=...;Database=...\"}}; nothing was changed");
        }
        return settings;
    }

    private static void CheckHoldsNoPassword(string connection)
    {
        try
        {
            if (!string.IsNullOrEmpty(new NpgsqlConnectionStringBuilder(connection).Password))
            {
                throw new SiteWatchException("the PostgreSQL connection string holds a password, which would be stored in the workspace; put it in ~/.pgpass or PGPASSWORD instead; nothing was changed");
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
        {
            throw new SiteWatchException($"'{connection}' is not a PostgreSQL connection string ({e.Message}); write it as Host=HOST;Port=5432;Database=DB;Username=USER");
        }
    }
}
