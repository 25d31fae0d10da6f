using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using NetTopologySuite.Geometries;
using Npgsql;
using NpgsqlTypes;
using SiteWatch.Core.Catalog;
using SiteWatch.Gdal;

// The catalog's engines side by side on the same rows (SQLite vs PostgreSQL/PostGIS), and the inputs of the cluster's
// throughput run (bench/cluster.sh):
//   CatalogBench queries DIR POSTGRES_CONNSTRING SITES SCENES ALERTS RUNS
//   CatalogBench make-stac DIR SCENES SIZE      (small scenes, a static STAC catalog over them, and aoi.geojson)
return args switch
{
    ["queries", var dir, var pg, var sites, var scenes, var alerts, var runs] =>
        Queries(dir, pg, int.Parse(sites, CultureInfo.InvariantCulture), int.Parse(scenes, CultureInfo.InvariantCulture),
            int.Parse(alerts, CultureInfo.InvariantCulture), int.Parse(runs, CultureInfo.InvariantCulture)),
    ["make-stac", var dir, var count, var size] => MakeStac(dir, int.Parse(count, CultureInfo.InvariantCulture), int.Parse(size, CultureInfo.InvariantCulture)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: CatalogBench queries DIR POSTGRES_CONNSTRING SITES SCENES ALERTS RUNS | make-stac DIR SCENES SIZE");
    return 2;
}

static int Queries(string dir, string postgres, int sites, int scenes, int alerts, int runs)
{
    Directory.CreateDirectory(dir);
    var engines = new (string Name, Workspace Workspace)[]
    {
        ("SQLite", Workspace.Init(Path.Combine(dir, "sqlite-ws"))),
        ("PostgreSQL", Workspace.Init(Path.Combine(dir, "pg-ws"), postgres)),
    };
    var rows = Rows.Make(sites, scenes, alerts, seed: 7);
    foreach (var (name, ws) in engines)
    {
        var clock = Stopwatch.StartNew();
        if (ws.Catalog.Engine == CatalogEngine.Sqlite)
        {
            Rows.LoadSqlite(ws.CatalogPath, rows);
        }
        else
        {
            Rows.LoadPostgres(postgres, rows);
        }
        Console.WriteLine($"{name}: loaded {sites:N0} sites, {scenes:N0} scenes, {alerts:N0} alerts in {clock.Elapsed.TotalSeconds:F1} s");
    }

    // The same random questions to both engines.
    var random = new Random(11);
    var boxes = Enumerable.Range(0, runs).Select(_ =>
    {
        var (lon, lat) = (random.NextDouble() * 350 - 175, random.NextDouble() * 120 - 55);
        return new Envelope(lon, lon + 2, lat, lat + 2);
    }).ToArray();
    var siteIds = Enumerable.Range(0, runs).Select(_ => (long)random.Next(1, sites + 1)).ToArray();
    var since = Rows.Epoch.AddDays(364);
    var queries = new (string Name, Func<SiteCatalog, int, int> Run)[]
    {
        ("sites in a 2° x 2° box", (c, i) => c.ListSitesIn(boxes[i]).Count),
        ("scenes of a site", (c, i) => c.ListScenes(siteIds[i]).Count),
        ("alerts since T (last day)", (c, _) => c.AlertsSince(since).Count),
        ("site by name", (c, i) => c.GetSite($"site-{siteIds[i]}").Id > 0 ? 1 : 0),
    };
    Console.WriteLine();
    Console.WriteLine($"| query ({runs} runs, median / p95 ms) | SQLite | PostgreSQL + PostGIS | PostgreSQL / SQLite |");
    Console.WriteLine("| --- | ---: | ---: | ---: |");
    foreach (var (name, run) in queries)
    {
        var results = engines.Select(e =>
        {
            var times = new List<double>();
            var answers = new List<int>();
            run(e.Workspace.Catalog, 0); // warm
            for (var i = 0; i < runs; i++)
            {
                var clock = Stopwatch.StartNew();
                answers.Add(run(e.Workspace.Catalog, i));
                times.Add(clock.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            return (Median: times[times.Count / 2], P95: times[(int)(times.Count * 0.95)], Answers: answers);
        }).ToArray();
        if (!results[0].Answers.SequenceEqual(results[1].Answers))
        {
            Console.Error.WriteLine($"error: the engines answer '{name}' differently");
            return 1;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} (mean {results[0].Answers.Average():F1} rows) | {results[0].Median:F2} / {results[0].P95:F2} | {results[1].Median:F2} / {results[1].P95:F2} | {results[1].Median / results[0].Median:F2} |"));
    }
    foreach (var (_, ws) in engines)
    {
        ws.Dispose();
    }
    return 0;
}

static int MakeStac(string dir, int count, int size)
{
    var scenes = Path.Combine(dir, "scenes");
    var stac = Path.Combine(dir, "stac");
    Directory.CreateDirectory(scenes);
    Directory.CreateDirectory(stac);
    var links = new List<object>();
    const double originX = 543_000, originY = 4_420_000;
    // The scene's footprint in WGS84 (the items' geometry), and an AOI over its inner 90 % (so ingest keeps most of it).
    using var utm = SpatialReference.FromEpsg(32652);
    using var wgs84 = SpatialReference.Wgs84();
    using var toWgs84 = new CoordinateTransform(utm, wgs84);
    double[][] Ring(double inset) =>
        new[] { (inset, inset), (size - inset, inset), (size - inset, size - inset), (inset, size - inset), (inset, inset) }
            .Select(p => toWgs84.Transform(originX + p.Item1, originY - p.Item2))
            .Select(p => new[] { Math.Round(p.X, 7), Math.Round(p.Y, 7) }).ToArray();
    var footprint = Ring(0);
    var bbox = new[] { footprint.Min(c => c[0]), footprint.Min(c => c[1]), footprint.Max(c => c[0]), footprint.Max(c => c[1]) };
    for (var i = 0; i < count; i++)
    {
        var file = Path.Combine(scenes, $"scene-{i}.tif");
        var profile = new RasterProfile(size, size, 4, RasterDataType.UInt16)
        {
            GeoTransform = GeoTransform.NorthUp(originX, originY, 1.0),
            Crs = "EPSG:32652",
            NoData = 0,
            BandDescriptions = ["blue", "green", "red", "nir"],
        };
        using (var raster = RasterDataset.Create(file, profile))
        {
            var rng = new Random(i);
            var data = new ushort[size * size];
            for (var b = 1; b <= 4; b++)
            {
                for (var r = 0; r < size; r++)
                {
                    for (var c = 0; c < size; c++)
                    {
                        // A roof that grows scene by scene: each later scene holds a change.
                        var roof = c >= size / 4 && c < size / 4 + 20 * (i + 1) && r >= size / 3 && r < size / 3 + 40;
                        data[r * size + c] = (ushort)(roof ? 7000 + 300 * b : 600 + 150 * b + (c * 7 + r * 3) % 400 + rng.Next(20));
                    }
                }
                raster.Write<ushort>(b, new RasterWindow(0, 0, size, size), data);
            }
        }
        var id = $"scene-{i}";
        File.WriteAllText(Path.Combine(stac, $"{id}.json"), JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["type"] = "Feature",
            ["stac_version"] = "1.0.0",
            ["id"] = id,
            ["collection"] = "bench",
            ["bbox"] = bbox,
            ["geometry"] = new { type = "Polygon", coordinates = new[] { footprint } },
            ["properties"] = new Dictionary<string, object?> { ["datetime"] = $"2024-{i + 1:00}-01T02:30:00Z", ["platform"] = "benchsat", ["eo:cloud_cover"] = 0 },
            ["assets"] = new Dictionary<string, object?> { ["image"] = new { href = $"../scenes/scene-{i}.tif", type = "image/tiff; application=geotiff", roles = new[] { "data" } } },
            ["links"] = Array.Empty<object>(),
        }));
        links.Add(new { rel = "item", href = $"./{id}.json" });
    }
    File.WriteAllText(Path.Combine(stac, "collection.json"), JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["type"] = "Collection", ["stac_version"] = "1.0.0", ["id"] = "bench", ["description"] = "bench scenes", ["license"] = "CC0-1.0",
        ["extent"] = new { spatial = new { bbox = new[] { bbox } }, temporal = new { interval = new[] { new[] { "2024-01-01T00:00:00Z", (string?)null } } } },
        ["links"] = links,
    }));
    File.WriteAllText(Path.Combine(stac, "catalog.json"), JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["type"] = "Catalog", ["stac_version"] = "1.0.0", ["id"] = "bench", ["description"] = "bench",
        ["links"] = new object[] { new { rel = "child", href = "./collection.json" } },
    }));
    File.WriteAllText(Path.Combine(dir, "aoi.geojson"), JsonSerializer.Serialize(new
    {
        type = "Feature",
        properties = new { },
        geometry = new { type = "Polygon", coordinates = new[] { Ring(size * 0.05) } },
    }));
    Console.WriteLine(Path.Combine(stac, "catalog.json"));
    return 0;
}

/// <summary>Synthetic catalog rows, identical for both engines, loaded in bulk (the load is not what is measured).</summary>
sealed record Rows(List<(string Name, Envelope Box)> Sites, List<(long Site, DateTime Acquired, string File)> Scenes, List<(long Site, DateTime Observed, string Key)> Alerts)
{
    public static readonly DateTime Epoch = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static Rows Make(int sites, int scenes, int alerts, int seed)
    {
        var random = new Random(seed);
        var siteRows = Enumerable.Range(1, sites).Select(i =>
        {
            var (lon, lat) = (random.NextDouble() * 350 - 175, random.NextDouble() * 120 - 55);
            return ($"site-{i}", new Envelope(lon, lon + 0.02, lat, lat + 0.02));
        }).ToList();
        var sceneRows = Enumerable.Range(0, scenes).Select(j => ((long)(j % sites) + 1, Epoch.AddHours(j / sites * 24.0 * 365 / Math.Max(1, scenes / sites)), $"imagery/{j % sites + 1}/{j}.tif")).ToList();
        var alertRows = Enumerable.Range(0, alerts).Select(k => ((long)random.Next(1, sites + 1), Epoch.AddMinutes(random.NextDouble() * 365 * 24 * 60), $"k{k}")).ToList();
        return new Rows(siteRows, sceneRows, alertRows);
    }

    private static string Aoi(Envelope e) => FormattableString.Invariant(
        $"{{\"type\":\"Polygon\",\"coordinates\":[[[{e.MinX},{e.MinY}],[{e.MaxX},{e.MinY}],[{e.MaxX},{e.MaxY}],[{e.MinX},{e.MaxY}],[{e.MinX},{e.MinY}]]]}}");

    private static string Iso(DateTime t) => t.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    public static void LoadSqlite(string path, Rows rows)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var tx = connection.BeginTransaction();
        void Insert(string sql, IEnumerable<object[]> values)
        {
            using var command = connection.CreateCommand();
            command.Transaction = tx;
            command.CommandText = sql;
            var count = sql.Count(c => c == '$');
            var parameters = Enumerable.Range(0, count).Select(i => command.Parameters.Add(new SqliteParameter($"$p{i}", null))).ToArray();
            command.Prepare();
            foreach (var row in values)
            {
                for (var i = 0; i < count; i++)
                {
                    parameters[i].Value = row[i];
                }
                command.ExecuteNonQuery();
            }
        }
        Insert("INSERT INTO sites (id, name, aoi_geojson, crs_epsg, gsd, min_lon, min_lat, max_lon, max_lat, created_utc) VALUES ($p0, $p1, $p2, 32633, 1.0, $p3, $p4, $p5, $p6, $p7)",
            rows.Sites.Select((s, i) => new object[] { i + 1, s.Name, Aoi(s.Box), s.Box.MinX, s.Box.MinY, s.Box.MaxX, s.Box.MaxY, Iso(Epoch) }));
        Insert("""
            INSERT INTO scenes (site_id, acquired_utc, acquired_from, sensor, bands, source_path, source_sha256, file, width, height, data_type, valid_fraction, ingested_utc)
            VALUES ($p0, $p1, 'bench', 'benchsat', '[]', $p2, $p3, $p4, 1000, 1000, 'UInt16', 1.0, $p5)
            """, rows.Scenes.Select(s => new object[] { s.Site, Iso(s.Acquired), s.File, s.File, s.File, Iso(s.Acquired) }));
        Insert("""
            INSERT INTO alerts (site_id, source, rule_name, kind, raised_utc, observed_utc, severity, message, evidence, alert_key)
            VALUES ($p0, 'scene', 'bench', 'change', $p1, $p2, 'high', 'bench', '{}', $p3)
            """, rows.Alerts.Select(a => new object[] { a.Site, Iso(a.Observed), Iso(a.Observed), a.Key }));
        tx.Commit();
        using var analyze = connection.CreateCommand();
        analyze.CommandText = "ANALYZE";
        analyze.ExecuteNonQuery();
    }

    public static void LoadPostgres(string connectionString, Rows rows)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using (var sites = connection.BeginBinaryImport("COPY sites (id, name, aoi_geojson, crs_epsg, gsd, min_lon, min_lat, max_lon, max_lat, created_utc) FROM STDIN (FORMAT BINARY)"))
        {
            var i = 0;
            foreach (var s in rows.Sites)
            {
                sites.WriteRow((long)++i, s.Name, Aoi(s.Box), 32633, 1.0, s.Box.MinX, s.Box.MinY, s.Box.MaxX, s.Box.MaxY, Iso(Epoch));
            }
            sites.Complete();
        }
        using (var scenes = connection.BeginBinaryImport("COPY scenes (site_id, acquired_utc, acquired_from, sensor, bands, source_path, source_sha256, file, width, height, data_type, valid_fraction, ingested_utc) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var s in rows.Scenes)
            {
                scenes.WriteRow(s.Site, Iso(s.Acquired), "bench", "benchsat", "[]", s.File, s.File, s.File, 1000, 1000, "UInt16", 1.0, Iso(s.Acquired));
            }
            scenes.Complete();
        }
        using (var alerts = connection.BeginBinaryImport("COPY alerts (site_id, source, rule_name, kind, raised_utc, observed_utc, severity, message, evidence, alert_key) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var a in rows.Alerts)
            {
                alerts.WriteRow(a.Site, "scene", "bench", "change", Iso(a.Observed), Iso(a.Observed), "high", "bench", "{}", a.Key);
            }
            alerts.Complete();
        }
        using var tidy = new NpgsqlCommand("SELECT setval(pg_get_serial_sequence('sites', 'id'), (SELECT max(id) FROM sites)); ANALYZE;", connection);
        tidy.ExecuteNonQuery();
    }
}
