using SiteWatch.Core.Catalog;
using SiteWatch.Core.Ingest;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Exports;

public sealed record ExportOptions
{
    public required ExportFormat Format { get; init; }
    /// <summary>Kinds to export; null: every kind the site has.</summary>
    public IReadOnlyList<string>? What { get; init; }
    /// <summary>Destination file or folder; null: SITE.EXT (or SITE-FORMAT/ for a folder) in the current directory.</summary>
    public string? OutputPath { get; init; }
    public bool Overwrite { get; init; }
    /// <summary>The period (inclusive, UTC): scenes acquired in it, change runs whose both scenes lie in it, detections and alerts observed in it; null: open.</summary>
    public DateTime? FromUtc { get; init; }
    public DateTime? ToUtc { get; init; }
    /// <summary>STAC: copy the assets beside their items instead of linking into the workspace.</summary>
    public bool CopyAssets { get; init; }
}

/// <summary>One exported layer: its kind, how many features, and the file that holds it.</summary>
public sealed record ExportedLayer(string Kind, int Features, string File);

/// <summary>An inclusive period of UTC instants; an open end is null.</summary>
public sealed record ExportPeriod(DateTime? From, DateTime? To)
{
    public static readonly ExportPeriod Always = new(null, null);

    public bool Contains(DateTime utc) => (From is null || utc >= From) && (To is null || utc <= To);

    public override string ToString() => From is null && To is null ? "any time"
        : $"{(From is { } f ? f.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : "the start")} to {(To is { } t ? t.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : "now")}";
}

public sealed record ExportResult(string Path, ExportFormat Format, bool IsDirectory, IReadOnlyList<ExportedLayer> Layers, IReadOnlyList<string> Notes, StacExport? Stac);

/// <summary>
/// `sitewatch export`: a site's results as files other GIS tools open (GeoPackage, KML/KMZ with time, GeoJSON, CSV
/// with WKT, FlatGeobuf, all through GDAL/OGR) or as a STAC catalog. Written beside the destination under a temporary
/// name and moved into place when complete: an export is there whole or not at all.
/// </summary>
public static class SiteExportWorkflow
{
    public static ExportResult Run(Workspace workspace, string siteName, ExportOptions options, CancellationToken cancel = default)
    {
        var site = workspace.Catalog.GetSite(siteName);
        var format = options.Format;
        var period = new ExportPeriod(options.FromUtc, options.ToUtc);
        if (period.From > period.To)
        {
            throw SiteWatchException.About("from", $"{period.From:yyyy-MM-dd} lies after the period's end ({period.To:yyyy-MM-dd})");
        }
        var slug = SceneIngestor.Slug(site.Name);
        if (format == ExportFormat.Stac)
        {
            if (options.What is not null)
            {
                throw SiteWatchException.About("what", "does not apply to a STAC export (it catalogs every scene and change run)");
            }
            using var target = ExportOutput.Begin(options.OutputPath ?? $"{slug}-stac", isDirectory: true, options.Overwrite);
            var stac = StacCatalogWriter.Write(workspace, site, target.TemporaryPath, target.Destination, options.CopyAssets, period, cancel);
            target.Publish();
            return new ExportResult(target.Destination, format, true, [], [], stac);
        }

        var kinds = options.What ?? ExportKind.Stored;
        var (layers, notes) = SiteLayers.Collect(workspace, site, kinds, kindsChosen: options.What is not null, period);
        // The AOI and the watch zones alone (they hold no dates) are no export unless asked for by name.
        if (layers.Count == 0 || options.What is null && layers.All(l => l.Kind is ExportKind.Aoi or ExportKind.Zones))
        {
            throw new SiteWatchException($"site {site.Name} has nothing to export for {period} ({string.Join("; ", notes)}); add scenes, or run change detection, object detection or an alert check first");
        }
        var path = options.OutputPath;
        bool folder;
        if (format.MultiLayer)
        {
            folder = false;
            path ??= slug + format.Extension;
        }
        else if (path is not null && path.EndsWith(format.Extension, StringComparison.OrdinalIgnoreCase))
        {
            // A file name: one layer in one file.
            if (layers.Count > 1)
            {
                throw new SiteWatchException($"{path}: a {format.Name} file holds one layer, but {layers.Count} kinds have results ({string.Join(", ", layers.Select(l => l.Kind))}); write to a folder or choose one kind");
            }
            folder = false;
        }
        else
        {
            folder = true;
            path ??= $"{slug}-{format.Name}";
        }

        using var output = ExportOutput.Begin(path, folder, options.Overwrite);
        IReadOnlyList<string> files;
        try
        {
            files = VectorExporter.Write(layers, format, output.TemporaryPath, folder, cancel);
        }
        catch (GdalException e)
        {
            throw new SiteWatchException($"{output.Destination}: the {format.Name} export failed: {e.Message}; nothing was written", e);
        }
        output.Publish();
        var exported = layers.Select((l, i) => new ExportedLayer(l.Kind, l.Features.Count,
            folder ? Path.Combine(output.Destination, Path.GetFileName(files[i])) : output.Destination)).ToList();
        return new ExportResult(output.Destination, format, folder, exported, notes, null);
    }
}
