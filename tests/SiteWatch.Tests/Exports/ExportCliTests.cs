using System.Text.Json;
using SiteWatch.Gdal;
using SiteWatch.Tests.Cli;

namespace SiteWatch.Tests.Exports;

/// <summary>`sitewatch export` run as a user runs it: a separate process against a real workspace.</summary>
public class ExportCliTests
{
    [Fact]
    public void Export_writes_every_format_and_names_bad_input()
    {
        using var dir = new TempDir();
        var (workspace, site) = SiteExportTests.Prepared(dir);
        var scenes = workspace.Catalog.ListScenes(site.Id).Count;
        workspace.Dispose();
        var ws = dir.File("ws");

        var (code, output, err) = CliTests.Run(null, "export", "-w", ws, "--site", "plant", "--format", "gpkg", "--out", dir.File("plant.gpkg"), "--json");
        Assert.True(code == 0, err);
        using (var json = JsonDocument.Parse(output))
        {
            var layers = json.RootElement.GetProperty("layers").EnumerateArray().ToDictionary(l => l.GetProperty("kind").GetString()!, l => l.GetProperty("features").GetInt32());
            Assert.Equal(scenes, layers["scenes"]);
            using var ds = VectorDataset.Open(dir.File("plant.gpkg"));
            Assert.All(ds.Layers, l => Assert.Equal(layers[l.Name], l.FeatureCount));
        }

        foreach (var (format, path) in new[] { ("kml", "plant.kml"), ("fgb", "fgb"), ("geojson", "geojson"), ("csv", "csv"), ("stac", "stac") })
        {
            (code, _, err) = CliTests.Run(ws, "export", "--site", "plant", "--format", format, "--out", dir.File(path), "--from", "2024-01-01", "--to", "2024-12-31");
            Assert.True(code == 0, $"{format}: {err}");
            Assert.True(File.Exists(dir.File(path)) || Directory.Exists(dir.File(path)), path);
        }
        Assert.True(File.Exists(Path.Combine(dir.File("stac"), "catalog.json")));

        (code, _, err) = CliTests.Run(ws, "export", "--site", "nowhere", "--format", "gpkg", "--out", dir.File("x.gpkg"));
        Assert.NotEqual(0, code);
        Assert.Contains("nowhere", err);
        (code, _, err) = CliTests.Run(ws, "export", "--site", "plant", "--format", "shp", "--out", dir.File("x.shp"));
        Assert.NotEqual(0, code);
        Assert.Contains("unknown export format 'shp'", err);
        (code, _, err) = CliTests.Run(ws, "export", "--site", "plant", "--format", "gpkg", "--out", dir.File("no/such/folder/x.gpkg"));
        Assert.NotEqual(0, code);
        Assert.Contains("does not exist", err);
        (code, _, err) = CliTests.Run(ws, "export", "--site", "plant", "--format", "gpkg", "--out", dir.File("plant.gpkg"));
        Assert.NotEqual(0, code);
        Assert.Contains("already exists", err);
        (code, _, err) = CliTests.Run(ws, "export", "--site", "plant", "--format", "gpkg", "--from", "March 3");
        Assert.NotEqual(0, code);
        Assert.Contains("YYYY-MM-DD", err);
        Assert.False(File.Exists(dir.File("x.gpkg")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path, ".*"));

        (code, output, _) = CliTests.Run(null, "export", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--workspace", "--site", "--format", "--what", "--from", "--to", "--out", "--overwrite", "--copy-assets", "--json" })
        {
            Assert.Contains(option, output);
        }
    }
}
