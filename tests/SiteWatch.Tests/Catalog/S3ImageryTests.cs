using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using SiteWatch.Core;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Change;
using SiteWatch.Core.Change.Methods;
using SiteWatch.Core.Ingest;
using SiteWatch.Core.Workflows;
using SiteWatch.Gdal;

namespace SiteWatch.Tests.Catalog;

/// <summary>
/// An S3-compatible server (s3rver, from npm, installed by scripts/bootstrap.sh) on a loopback port, with one bucket;
/// its objects are files under <see cref="Directory"/>.
/// </summary>
public sealed class S3Server : IDisposable
{
    private readonly Process _process;
    public const string Bucket = "sitewatch";

    public S3Server()
    {
        var script = Path.Combine(TestPaths.RepoRoot, "tests", "s3server", "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"{script} is missing; scripts/bootstrap.sh installs it (npm ci in tests/s3server)");
        }
        Directory = Path.Combine(Path.GetTempPath(), $"sitewatch-s3-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        // A port free when asked can be taken by a test beside this one before node binds it: then another.
        for (var attempt = 1; ; attempt++)
        {
            Port = TestPorts.Free();
            var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { script, "-d", Directory, "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent", "--configure-bucket", Bucket })
            {
                info.ArgumentList.Add(arg);
            }
            _process = Process.Start(info)!;
            _process.StandardOutput.ReadToEndAsync();
            _process.StandardError.ReadToEndAsync();
            var clock = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    using var client = new TcpClient("127.0.0.1", Port);
                    break;
                }
                catch (SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(30) && !_process.HasExited)
                {
                    Thread.Sleep(100);
                }
                catch (SocketException) when (_process.HasExited && attempt < 3)
                {
                    break;
                }
            }
            if (!_process.HasExited || attempt >= 3)
            {
                break;
            }
            _process.Dispose();
        }
        // s3rver's own keys; the S3 client and GDAL read them from the environment, as they would a user's.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "S3RVER");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "S3RVER");
    }

    public int Port { get; private set; }
    public string Directory { get; }
    public string Endpoint => $"http://127.0.0.1:{Port}";

    public StorageSettings Settings(string prefix) => new($"s3://{Bucket}/{prefix}", Endpoint, "us-east-1");

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        _process.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>Scenes stored in an S3 bucket: uploaded before their row, read back by GDAL through /vsis3/, and an unreachable store changes nothing.</summary>
public sealed class S3ImageryTests : IClassFixture<S3Server>
{
    private readonly S3Server _s3;

    public S3ImageryTests(S3Server s3) => _s3 = s3;

    private static string Changed(string path)
    {
        using var raster = RasterDataset.Open(path, update: true);
        for (var b = 1; b <= 4; b++)
        {
            raster.Write<ushort>(b, new RasterWindow(30, 30, 30, 30), Enumerable.Repeat((ushort)9000, 900).ToArray());
        }
        return path;
    }

    [Fact]
    public void Scenes_go_to_the_bucket_and_change_detection_reads_them_there()
    {
        using var dir = new TempDir();
        var prefix = $"ws-{Guid.NewGuid():N}";
        using var ws = Workspace.Init(dir.File("ws"), imagery: _s3.Settings(prefix));
        File.WriteAllText(dir.File("aoi.geojson"), IngestTests.SceneAoi);
        SiteSetup.AddSite(ws, "plant", dir.File("aoi.geojson"), 1.0, null, [], null);
        var ingestor = new SceneIngestor(ws);

        var before = ingestor.Ingest("plant", Rasters.WriteUtmScene(dir.File("before.tif"), 200, 180, dateTag: "2024:03:14 02:30:00"), new IngestOptions());
        ingestor.Ingest("plant", Changed(Rasters.WriteUtmScene(dir.File("after.tif"), 200, 180, dateTag: "2024:10:15 02:30:00")), new IngestOptions());

        Assert.StartsWith($"/vsis3/{S3Server.Bucket}/{prefix}/imagery/", ws.Resolve(before.Scene.File));
        Assert.Empty(Directory.Exists(Path.Combine(ws.Root, "imagery")) ? Directory.EnumerateFiles(Path.Combine(ws.Root, "imagery"), "*", SearchOption.AllDirectories) : []);
        var store = Assert.IsType<S3ImageryStore>(ws.Imagery);
        Assert.Equal(2, store.List("imagery").Count);
        Assert.True(store.Exists(before.Scene.File));
        using (var stored = RasterDataset.Open(ws.Resolve(before.Scene.File)))
        {
            Assert.Equal("COG", stored.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE"));
            Assert.Equal(before.Scene.Width, stored.Width);
        }

        var options = new SiteChangeOptions { Detection = new ChangeDetectionOptions { Method = ChangeMethodKind.Cva }, CoRegister = false };
        var run = SiteChangeWorkflow.Run(ws, "plant", "2024-03-14", "2024-10-15", options);
        // The same scenes in a workspace folder give the same change, pixel for pixel counted.
        using var local = Workspace.Init(dir.File("local"));
        SiteSetup.AddSite(local, "plant", dir.File("aoi.geojson"), 1.0, null, [], null);
        new SceneIngestor(local).Ingest("plant", dir.File("before.tif"), new IngestOptions());
        new SceneIngestor(local).Ingest("plant", dir.File("after.tif"), new IngestOptions());
        var localRun = SiteChangeWorkflow.Run(local, "plant", "2024-03-14", "2024-10-15", options);
        Assert.True(run.Summary.GetProperty("changed_pixels").GetInt64() > 0);
        Assert.Equal(localRun.Summary.GetProperty("changed_pixels").GetInt64(), run.Summary.GetProperty("changed_pixels").GetInt64());

        // `sitewatch check` reads the objects back and finds their SHA-256 as recorded.
        var check = WorkspaceCheck.Run(ws);
        Assert.True(check.Healthy, string.Join("; ", check.Problems));
        Assert.True(check.FilesVerified >= 2);

        // A reopened workspace finds the bucket again from storage.json.
        using (var again = Workspace.Open(dir.File("ws")))
        {
            Assert.Equal(ws.Resolve(before.Scene.File), again.Resolve(before.Scene.File));
            Assert.Contains(prefix, Assert.IsType<S3ImageryStore>(again.Imagery).Location);
        }

        // Deleting the site keeps its objects (nothing stored is lost), and check lists them as orphans of the bucket.
        var notices = new List<string>();
        ws.Notice = notices.Add;
        Assert.True(ws.DeleteSite(ws.Catalog.GetSite("plant")).Deleted);
        Assert.Contains(notices, n => n.Contains("2 imagery object(s) stay in"));
        Assert.Equal(2, ws.FindBucketOrphans().Count);
        Assert.Equal(2, WorkspaceCheck.Run(ws).Problems.Count(p => p.Kind == "orphan"));
    }

    [Fact]
    public void A_scene_stored_after_another_of_its_site_was_read_opens_at_once()
    {
        using var dir = new TempDir();
        using var ws = Workspace.Init(dir.File("ws"), imagery: _s3.Settings($"ws-{Guid.NewGuid():N}"));
        File.WriteAllText(dir.File("aoi.geojson"), IngestTests.SceneAoi);
        SiteSetup.AddSite(ws, "plant", dir.File("aoi.geojson"), 1.0, null, [], null);
        var ingestor = new SceneIngestor(ws);
        // Each scene is read (as a change run or a tile would) before the next is stored in the same folder: GDAL must
        // not answer from what it remembered of the folder before the new object was there.
        for (var month = 3; month <= 6; month++)
        {
            var scene = ingestor.Ingest("plant", Rasters.WriteUtmScene(dir.File($"s{month}.tif"), 200, 180, dateTag: $"2024:0{month}:14 02:30:00"), new IngestOptions()).Scene;
            using var stored = RasterDataset.Open(ws.Resolve(scene.File));
            Assert.Equal(scene.Width, stored.Width);
        }
    }

    [Fact]
    public void The_same_source_ingested_at_once_is_one_scene_and_one_object()
    {
        using var dir = new TempDir();
        var prefix = $"ws-{Guid.NewGuid():N}";
        using (var ws = Workspace.Init(dir.File("ws"), imagery: _s3.Settings(prefix)))
        {
            File.WriteAllText(dir.File("aoi.geojson"), IngestTests.SceneAoi);
            SiteSetup.AddSite(ws, "plant", dir.File("aoi.geojson"), 1.0, null, [], null);
        }
        var source = Rasters.WriteUtmScene(dir.File("scene.tif"), 200, 180, dateTag: "2024:03:14 02:30:00");
        var results = new IngestResult[3];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = results.Length }, i =>
        {
            using var ws = Workspace.Open(dir.File("ws"));
            results[i] = new SceneIngestor(ws).Ingest("plant", source, new IngestOptions());
        });

        using var reopened = Workspace.Open(dir.File("ws"));
        var scene = Assert.Single(reopened.Catalog.ListScenes(reopened.Catalog.GetSite("plant").Id));
        Assert.Equal(2, results.Count(r => r.AlreadyPresent));
        Assert.All(results, r => Assert.Equal(scene.File, r.Scene.File));
        // The spare uploads of the ingests that lost were removed; the scene's own object is intact.
        Assert.Equal([scene.File.Replace('\\', '/')], Assert.IsType<S3ImageryStore>(reopened.Imagery).List("imagery"));
        Assert.True(WorkspaceCheck.Run(reopened).Healthy);
    }

    [Fact]
    public void An_unreachable_store_is_retried_then_named_and_the_catalog_is_unchanged()
    {
        using var dir = new TempDir();
        var closedPort = TestPorts.Free();
        // Short backoff for the test: 0.2 s, then 0.4 s (the default waits 1, 2, 4, 8, 16 s).
        var settings = new StorageSettings($"s3://{S3Server.Bucket}/down", $"http://127.0.0.1:{closedPort}", "us-east-1") { Attempts = 3, FirstBackoffSeconds = 0.2 };
        using var ws = Workspace.Init(dir.File("ws"), imagery: settings);
        File.WriteAllText(dir.File("aoi.geojson"), IngestTests.SceneAoi);
        var site = SiteSetup.AddSite(ws, "plant", dir.File("aoi.geojson"), 1.0, null, [], null);
        var source = Rasters.WriteUtmScene(dir.File("scene.tif"), 200, 180);
        var gridBefore = ws.Catalog.GetSite("plant").GridReason;

        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<SiteWatchException>(() => new SceneIngestor(ws).Ingest("plant", source, new IngestOptions()));

        Assert.Contains($"s3://{S3Server.Bucket}/down", error.Message);
        Assert.Contains("unreachable", error.Message);
        Assert.Contains("after 3 attempt(s)", error.Message);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.6), $"the upload was not retried with backoff ({clock.Elapsed})");
        Assert.Empty(ws.Catalog.ListScenes(site.Id));
        Assert.Equal(gridBefore, ws.Catalog.GetSite("plant").GridReason);
    }
}
