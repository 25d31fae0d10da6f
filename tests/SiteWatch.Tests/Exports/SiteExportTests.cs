using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using SiteWatch.Core;
using SiteWatch.Core.Activity;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Exports;
using SiteWatch.Core.Geo;
using SiteWatch.Core.Workflows;
using SiteWatch.Gdal;
using SiteWatch.Tests.Activity;
using SiteWatch.Tests.Change;
using SiteWatch.Tests.Cli;

namespace SiteWatch.Tests.Exports;

/// <summary>Every export format written from a real workspace (change, detect, alerts) and read back through OGR.</summary>
public class SiteExportTests
{
    private const string Rules = """
        {
          "rules": [
            {"name": "new structure", "kind": "new_structure", "min_area_m2": 300, "severity": "critical"},
            {"name": "activity in the yard", "kind": "change_area_in_zone", "min_area_m2": 5,
             "zone": {"type": "Polygon", "coordinates": [[[127.4907,39.9278],[127.4923,39.9278],[127.4923,39.9290],[127.4907,39.9290],[127.4907,39.9278]]]}}
          ]
        }
        """;

    /// <summary>Two scenes, a change run between them, detections of a real (tiny) ONNX model on both, and the alerts they raise.</summary>
    internal static (Workspace Workspace, Site Site) Prepared(TempDir dir)
    {
        var (workspace, site) = SiteChangeTests.Ingested(dir);
        SiteChangeWorkflow.RunSeries(workspace, "plant", new SiteChangeOptions());
        var model = SiteDetectionTests.WriteTileCentreModel(dir.File("tile-centre.onnx"));
        SiteDetectionWorkflow.Run(workspace, "plant", new SiteDetectionOptions { ModelPath = model });
        File.WriteAllText(dir.File("rules.json"), Rules);
        AlertWorkflow.StoreRules(workspace, "plant", dir.File("rules.json"));
        AlertWorkflow.Check(workspace, "plant", new DateTime(2024, 11, 1, 12, 0, 0, DateTimeKind.Utc));
        return (workspace, site);
    }

    /// <summary>What the catalog says each layer must hold: feature counts, and the dates features must carry.</summary>
    private sealed record Expected(int Scenes, int Changes, int Detections, int Alerts, int Zones,
        IReadOnlyList<DateTime> SceneDates, IReadOnlyList<(DateTime Before, DateTime After)> ChangeSpans, IReadOnlyList<DateTime> AlertDates);

    private static Expected FromCatalog(Workspace workspace, Site site)
    {
        var scenes = workspace.Catalog.ListScenes(site.Id);
        var byId = scenes.ToDictionary(s => s.Id);
        var spans = new List<(DateTime, DateTime)>();
        var changes = 0;
        foreach (var run in workspace.Catalog.ListChangeRuns(site.Id))
        {
            var n = GeoJsonText.ReadFeatures(workspace.Resolve(Path.Combine(run.Directory, "changes.geojson")), "changes").Count;
            changes += n;
            spans.AddRange(Enumerable.Repeat((byId[run.BeforeSceneId].AcquiredUtc, byId[run.AfterSceneId].AcquiredUtc), n));
        }
        var timeline = ActivityTimeline.Build(workspace.Catalog, site, new ActivityOptions());
        var detections = timeline.Dates.Where(d => d.Detections is not null).Sum(d => d.Detections!.Counts.Values.Sum());
        var alerts = workspace.Catalog.ListAlerts(site.Id);
        return new Expected(scenes.Count, changes, detections, alerts.Count, 1,
            scenes.Select(s => s.AcquiredUtc).Order().ToList(), spans.Order().ToList(), alerts.Select(a => a.ObservedUtc).Order().ToList());
    }

    private static DateTime Utc(object? value) => value switch
    {
        DateTime t => DateTime.SpecifyKind(t, DateTimeKind.Utc),
        string s => DateTime.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
        _ => throw new InvalidOperationException($"not a date: {value}"),
    };

    private static void AssertLayers(Func<string, (long Count, IReadOnlyList<string> Fields, IReadOnlyList<VectorFeature> Features)> layer, Expected expected)
    {
        var aoi = layer(ExportKind.Aoi);
        Assert.Equal(1, aoi.Count);
        Assert.Equal("plant", Value(aoi.Features[0], "name"));

        var scenes = layer(ExportKind.Scenes);
        Assert.Equal(expected.Scenes, scenes.Count);
        Assert.Superset(new HashSet<string> { "sensor", "gsd_m", "cloud_cover_pct", SiteLayers.ObservedField }, scenes.Fields.ToHashSet());
        Assert.Equal(expected.SceneDates, scenes.Features.Select(f => Utc(Value(f, SiteLayers.ObservedField))).Order());
        Assert.All(scenes.Features, f => Assert.Equal(1.0, Convert.ToDouble(Value(f, "gsd_m"), CultureInfo.InvariantCulture)));

        var changes = layer(ExportKind.Changes);
        Assert.Equal(expected.Changes, changes.Count);
        Assert.Superset(new HashSet<string> { "kind", "area_m2", "confidence", "change_run_id", SiteLayers.BeforeField, SiteLayers.AfterField }, changes.Fields.ToHashSet());
        Assert.Equal(expected.ChangeSpans, changes.Features.Select(f => (Utc(Value(f, SiteLayers.BeforeField)), Utc(Value(f, SiteLayers.AfterField)))).Order());
        Assert.Contains(changes.Features, f => (string?)Value(f, "kind") == "appeared");

        var detections = layer(ExportKind.Detections);
        Assert.Equal(expected.Detections, detections.Count);
        Assert.Superset(new HashSet<string> { "class", "score", SiteLayers.ObservedField }, detections.Fields.ToHashSet());
        Assert.All(detections.Features, f => Assert.Equal("vehicle", Value(f, "class")));
        Assert.Equal(expected.SceneDates, detections.Features.Select(f => Utc(Value(f, SiteLayers.ObservedField))).Distinct().Order());

        var alerts = layer(ExportKind.Alerts);
        Assert.Equal(expected.Alerts, alerts.Count);
        Assert.Equal(expected.AlertDates, alerts.Features.Select(f => Utc(Value(f, SiteLayers.ObservedField))).Order());

        Assert.Equal(expected.Zones, layer(ExportKind.Zones).Count);
        Assert.All([aoi, scenes, changes, detections, alerts], l => Assert.All(l.Features, f => Assert.NotNull(f.Wkb)));
    }

    /// <summary>A field's value; LIBKML reads the "name" field back as the Placemark's "Name".</summary>
    private static object? Value(VectorFeature f, string field) => f.Values.First(v => string.Equals(v.Key, field, StringComparison.OrdinalIgnoreCase)).Value;

    private static (long, IReadOnlyList<string>, IReadOnlyList<VectorFeature>) Read(VectorLayer layer)
    {
        var features = layer.Features().ToList();
        Assert.Equal(layer.FeatureCount, features.Count);
        return (layer.FeatureCount, layer.Fields.Select(f => f.Name).ToList(), features);
    }

    [Fact]
    public void GeoPackage_holds_one_layer_per_kind_equal_to_the_catalog()
    {
        using var dir = new TempDir();
        var (workspace, site) = Prepared(dir);
        using var _ = workspace;
        var expected = FromCatalog(workspace, site);
        Assert.True(expected.Changes > 0 && expected.Detections > 0 && expected.Alerts > 0, "the workspace has results of every kind");

        var result = SiteExportWorkflow.Run(workspace, "plant", new ExportOptions { Format = ExportFormat.Parse("gpkg"), OutputPath = dir.File("plant.gpkg") });
        Assert.Equal(dir.File("plant.gpkg"), result.Path);
        using var ds = VectorDataset.Open(result.Path);
        Assert.Equal("GPKG", ds.Driver);
        Assert.Equal(["aoi", "scenes", "changes", "detections", "alerts", "zones"], ds.Layers.Select(l => l.Name));
        AssertLayers(kind => Read(ds.Layer(kind)), expected);
        Assert.Equal(result.Layers.Select(l => (long)l.Features), ds.Layers.Select(l => l.FeatureCount));
        Assert.Single(Directory.EnumerateFileSystemEntries(dir.Path, "plant*"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path, ".*"));
    }

    [Theory]
    [InlineData("fgb", "FlatGeobuf")]
    [InlineData("geojson", "GeoJSON")]
    public void Single_layer_formats_write_one_file_per_kind(string format, string driver)
    {
        using var dir = new TempDir();
        var (workspace, site) = Prepared(dir);
        using var _ = workspace;
        var expected = FromCatalog(workspace, site);
        var result = SiteExportWorkflow.Run(workspace, "plant", new ExportOptions { Format = ExportFormat.Parse(format), OutputPath = dir.File("out") });
        Assert.True(result.IsDirectory);
        AssertLayers(kind =>
        {
            using var ds = VectorDataset.Open(Path.Combine(result.Path, kind + "." + format));
            Assert.Equal(driver, ds.Driver);
            return Read(Assert.Single(ds.Layers));
        }, expected);

        // One kind to one file.
        var one = SiteExportWorkflow.Run(workspace, "plant", new ExportOptions { Format = ExportFormat.Parse(format), What = ["changes"], OutputPath = dir.File("changes." + format) });
        Assert.False(one.IsDirectory);
        using var single = VectorDataset.Open(one.Path);
        Assert.Equal(expected.Changes, single.Layers[0].FeatureCount);
    }

    [Fact]
    public void Csv_holds_wkt_and_iso_dates()
    {
        using var dir = new TempDir();
        var (workspace, site) = Prepared(dir);
        using var _ = workspace;
        var expected = FromCatalog(workspace, site);
        var result = SiteExportWorkflow.Run(workspace, "plant", new ExportOptions { Format = ExportFormat.Csv, OutputPath = dir.File("csv") });
        AssertLayers(kind =>
        {
            var file = Path.Combine(result.Path, kind + ".csv");
            var header = File.ReadLines(file).First();
            Assert.StartsWith("WKT,", header);
            using var ds = VectorDataset.Open(file, openOptions: ["GEOM_POSSIBLE_NAMES=WKT", "KEEP_GEOM_COLUMNS=NO"]);
            Assert.Equal("CSV", ds.Driver);
            return Read(Assert.Single(ds.Layers));
        }, expected);
        var scenes = File.ReadAllText(Path.Combine(result.Path, "scenes.csv"));
        Assert.Contains("POLYGON ((127.", scenes);
        Assert.Contains("2024-03-14T02:00:00.000Z", scenes);
        // lon/lat columns: a point inside each feature, for spreadsheets.
        using (var aoi = VectorDataset.Open(Path.Combine(result.Path, "aoi.csv"), openOptions: ["GEOM_POSSIBLE_NAMES=WKT", "KEEP_GEOM_COLUMNS=NO"]))
        {
            var f = aoi.Layers[0].Features().Single();
            Assert.InRange(double.Parse((string)f.Values["lon"]!, CultureInfo.InvariantCulture), 127.4907, 127.4923);
            Assert.InRange(double.Parse((string)f.Values["lat"]!, CultureInfo.InvariantCulture), 39.9278, 39.9290);
        }
    }

    [Theory]
    [InlineData("kml")]
    [InlineData("kmz")]
    public void Kml_carries_time_stamps_and_spans_for_the_time_slider(string format)
    {
        using var dir = new TempDir();
        var (workspace, site) = Prepared(dir);
        var expected = FromCatalog(workspace, site);
        workspace.Dispose();
        // LIBKML runs in a child process (the CLI, then ogrinfo): in the shared test host it corrupted the native heap
        // that later GDAL tests use (double free), though each export on its own is correct.
        var path = dir.File("plant." + format);
        var (code, _, err) = CliTests.Run(dir.File("ws"), "export", "--site", "plant", "--format", format, "--out", path);
        Assert.True(code == 0, err);
        var info = new System.Diagnostics.ProcessStartInfo("ogrinfo") { RedirectStandardOutput = true, ArgumentList = { "-ro", "-so", "-al", path } };
        using (var ogrinfo = System.Diagnostics.Process.Start(info)!)
        {
            var text = ogrinfo.StandardOutput.ReadToEnd();
            ogrinfo.WaitForExit();
            Assert.Equal(0, ogrinfo.ExitCode);
            Assert.Contains("using driver `LIBKML'", text);
            var counts = System.Text.RegularExpressions.Regex.Matches(text, @"Layer name: (\w+)[\s\S]*?Feature Count: (\d+)")
                .ToDictionary(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
            Assert.Equal(new Dictionary<string, int>
            {
                ["aoi"] = 1, ["scenes"] = expected.Scenes, ["changes"] = expected.Changes, ["detections"] = expected.Detections,
                ["alerts"] = expected.Alerts, ["zones"] = expected.Zones,
            }, counts);
        }
        var result = new { Path = path };

        // A KMZ holds doc.kml and one KML per layer (layers/*.kml).
        var documents = new List<XDocument>();
        if (format == "kmz")
        {
            using var zip = System.IO.Compression.ZipFile.OpenRead(result.Path);
            foreach (var entry in zip.Entries.Where(e => e.FullName.EndsWith(".kml", StringComparison.Ordinal)))
            {
                using var stream = entry.Open();
                documents.Add(XDocument.Load(stream));
            }
        }
        else
        {
            documents.Add(XDocument.Load(result.Path));
        }
        XNamespace ns = "http://www.opengis.net/kml/2.2";
        var placemarks = documents.SelectMany(d => d.Descendants(ns + "Placemark")).ToList();
        Assert.Equal(1 + expected.Scenes + expected.Changes + expected.Detections + expected.Alerts + expected.Zones, placemarks.Count);
        var spans = placemarks.Select(p => p.Element(ns + "TimeSpan")).OfType<XElement>().ToList();
        Assert.Equal(expected.ChangeSpans, spans.Select(s => (Utc((string)s.Element(ns + "begin")!), Utc((string)s.Element(ns + "end")!))).Order());
        var stamps = placemarks.Select(p => p.Element(ns + "TimeStamp")).OfType<XElement>().Select(s => Utc((string)s.Element(ns + "when")!)).ToList();
        Assert.Equal(expected.Scenes + expected.Detections + expected.Alerts, stamps.Count);
        Assert.Superset(expected.SceneDates.ToHashSet(), stamps.ToHashSet());
    }

    [Fact]
    public void Stac_catalog_has_the_required_fields_and_relative_links_that_resolve()
    {
        using var dir = new TempDir();
        var (workspace, site) = Prepared(dir);
        using var _ = workspace;
        var scenes = workspace.Catalog.ListScenes(site.Id);
        var runs = workspace.Catalog.ListChangeRuns(site.Id);
        var result = SiteExportWorkflow.Run(workspace, "plant", new ExportOptions { Format = ExportFormat.Stac, OutputPath = dir.File("stac") });
        Assert.Equal(scenes.Count, result.Stac!.SceneItems);

        using var catalog = JsonDocument.Parse(File.ReadAllText(Path.Combine(result.Path, "catalog.json")));
        var root = catalog.RootElement;
        Assert.Equal("Catalog", root.GetProperty("type").GetString());
        Assert.Equal("1.0.0", root.GetProperty("stac_version").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("id").GetString()));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("description").GetString()));
        var child = Assert.Single(root.GetProperty("links").EnumerateArray(), l => l.GetProperty("rel").GetString() == "child").GetProperty("href").GetString()!;
        using var collectionJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(result.Path, child)));
        var collection = collectionJson.RootElement;
        Assert.Equal("Collection", collection.GetProperty("type").GetString());
        Assert.Equal("1.0.0", collection.GetProperty("stac_version").GetString());
        Assert.False(string.IsNullOrEmpty(collection.GetProperty("license").GetString()));
        Assert.False(string.IsNullOrEmpty(collection.GetProperty("description").GetString()));
        Assert.Equal(4, collection.GetProperty("extent").GetProperty("spatial").GetProperty("bbox")[0].GetArrayLength());
        var interval = collection.GetProperty("extent").GetProperty("temporal").GetProperty("interval")[0];
        Assert.Equal((scenes.Min(s => s.AcquiredUtc), scenes.Max(s => s.AcquiredUtc)), (Utc(interval[0].GetString()), Utc(interval[1].GetString())));
        var collectionId = collection.GetProperty("id").GetString();
        var items = collection.GetProperty("links").EnumerateArray().Where(l => l.GetProperty("rel").GetString() == "item").ToList();
        Assert.Equal(scenes.Count + runs.Count, items.Count);
        var sceneDates = new List<DateTime>();
        foreach (var link in items)
        {
            var href = link.GetProperty("href").GetString()!;
            Assert.False(Path.IsPathRooted(href), href);
            var itemFile = Path.GetFullPath(Path.Combine(result.Path, href));
            using var item = JsonDocument.Parse(File.ReadAllText(itemFile));
            var i = item.RootElement;
            Assert.Equal("Feature", i.GetProperty("type").GetString());
            Assert.Equal("1.0.0", i.GetProperty("stac_version").GetString());
            Assert.Equal(JsonValueKind.String, i.GetProperty("id").ValueKind);
            Assert.Equal(collectionId, i.GetProperty("collection").GetString());
            Assert.Equal("Polygon", i.GetProperty("geometry").GetProperty("type").GetString());
            Assert.Equal(4, i.GetProperty("bbox").GetArrayLength());
            Assert.Equal(JsonValueKind.Array, i.GetProperty("links").ValueKind);
            var properties = i.GetProperty("properties");
            if (properties.GetProperty("datetime").ValueKind == JsonValueKind.Null)
            {
                Assert.True(Utc(properties.GetProperty("start_datetime").GetString()) < Utc(properties.GetProperty("end_datetime").GetString()));
            }
            else
            {
                sceneDates.Add(Utc(properties.GetProperty("datetime").GetString()));
                Assert.Equal("image/tiff; application=geotiff; profile=cloud-optimized", i.GetProperty("assets").GetProperty("image").GetProperty("type").GetString());
            }
            foreach (var l in i.GetProperty("links").EnumerateArray())
            {
                Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(itemFile)!, l.GetProperty("href").GetString()!)), l.GetProperty("href").GetString());
            }
            foreach (var asset in i.GetProperty("assets").EnumerateObject())
            {
                var assetHref = asset.Value.GetProperty("href").GetString()!;
                Assert.False(Path.IsPathRooted(assetHref), assetHref);
                var file = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(itemFile)!, assetHref));
                Assert.True(File.Exists(file), assetHref);
                Assert.Equal(new FileInfo(file).Length, asset.Value.GetProperty("file:size").GetInt64());
            }
        }
        Assert.Equal(scenes.Select(s => s.AcquiredUtc).Order(), sceneDates.Order());
    }

    [Fact]
    public void The_period_keeps_what_lies_in_it()
    {
        using var dir = new TempDir();
        var (workspace, _) = Prepared(dir);
        using var __ = workspace;
        var march = new DateTime(2024, 3, 1, 0, 0, 0, DateTimeKind.Utc);
        var result = SiteExportWorkflow.Run(workspace, "plant", new ExportOptions
        {
            Format = ExportFormat.GeoPackage, OutputPath = dir.File("march.gpkg"), FromUtc = march, ToUtc = march.AddMonths(1).AddTicks(-1),
        });
        var layers = result.Layers.ToDictionary(l => l.Kind, l => l.Features);
        Assert.Equal(1, layers["scenes"]);
        Assert.False(layers.ContainsKey("changes"), "the change run ends in October");
        Assert.Contains(result.Notes, n => n.StartsWith("changes: none stored", StringComparison.Ordinal));

        var empty = Assert.Throws<SiteWatchException>(() => SiteExportWorkflow.Run(workspace, "plant", new ExportOptions
        {
            Format = ExportFormat.GeoPackage, OutputPath = dir.File("2020.gpkg"), FromUtc = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc), ToUtc = new DateTime(2020, 12, 31, 0, 0, 0, DateTimeKind.Utc),
        }));
        Assert.Contains("nothing to export for 2020-01-01 to 2020-12-31", empty.Message);
        Assert.False(File.Exists(dir.File("2020.gpkg")));
    }

    [Fact]
    public void Bad_input_is_named_and_a_failed_export_leaves_nothing_behind()
    {
        using var dir = new TempDir();
        var (workspace, site) = Prepared(dir);
        using var _ = workspace;
        var output = Directory.CreateDirectory(dir.File("out")).FullName;

        Assert.Contains("unknown export format 'shp'", Assert.Throws<SiteWatchException>(() => ExportFormat.Parse("shp")).Message);
        Assert.Contains("'roads' is not a kind", Assert.Throws<SiteWatchException>(() => ExportKind.ParseList("changes,roads")).Message);
        Assert.Contains("tracks are not stored in a workspace", Assert.Throws<SiteWatchException>(() =>
            SiteExportWorkflow.Run(workspace, "plant", new ExportOptions { Format = ExportFormat.GeoPackage, What = ["tracks"], OutputPath = Path.Combine(output, "x.gpkg") })).Message);
        Assert.Contains("nowhere", Assert.Throws<SiteWatchException>(() =>
            SiteExportWorkflow.Run(workspace, "nowhere", new ExportOptions { Format = ExportFormat.GeoPackage, OutputPath = Path.Combine(output, "x.gpkg") })).Message);
        Assert.Contains("does not exist", Assert.Throws<SiteWatchException>(() =>
            SiteExportWorkflow.Run(workspace, "plant", new ExportOptions { Format = ExportFormat.GeoPackage, OutputPath = Path.Combine(output, "missing", "x.gpkg") })).Message);

        // A cancelled export stops after GDAL created its file: the temporary file goes, nothing is published.
        using (var cancelled = new CancellationTokenSource())
        {
            cancelled.Cancel();
            Assert.Throws<OperationCanceledException>(() =>
                SiteExportWorkflow.Run(workspace, "plant", new ExportOptions { Format = ExportFormat.GeoPackage, OutputPath = Path.Combine(output, "x.gpkg") }, cancelled.Token));
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(output));

        // An existing export survives a failed overwrite: STAC fails on a missing stored file after items were written.
        var stac = Path.Combine(output, "stac");
        SiteExportWorkflow.Run(workspace, "plant", new ExportOptions { Format = ExportFormat.Stac, OutputPath = stac });
        var before = File.ReadAllText(Path.Combine(stac, "catalog.json"));
        Assert.Contains("already exists", Assert.Throws<SiteWatchException>(() =>
            SiteExportWorkflow.Run(workspace, "plant", new ExportOptions { Format = ExportFormat.Stac, OutputPath = stac })).Message);
        var run = workspace.Catalog.ListChangeRuns(site.Id)[0];
        File.Delete(Path.Combine(workspace.Resolve(run.Directory), "quicklook.png"));
        var missing = Assert.Throws<SiteWatchException>(() =>
            SiteExportWorkflow.Run(workspace, "plant", new ExportOptions { Format = ExportFormat.Stac, OutputPath = stac, Overwrite = true }));
        Assert.Contains("quicklook.png", missing.Message);
        Assert.Equal(before, File.ReadAllText(Path.Combine(stac, "catalog.json")));
        Assert.Equal(["stac"], Directory.EnumerateFileSystemEntries(output).Select(Path.GetFileName));

        // A read-only folder is refused before any work.
        var locked = Directory.CreateDirectory(dir.File("locked")).FullName;
        File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            var e = Assert.Throws<SiteWatchException>(() =>
                SiteExportWorkflow.Run(workspace, "plant", new ExportOptions { Format = ExportFormat.GeoPackage, OutputPath = Path.Combine(locked, "x.gpkg") }));
            Assert.Contains("read-only", e.Message);
            Assert.Empty(Directory.EnumerateFileSystemEntries(locked));
        }
        finally
        {
            File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
