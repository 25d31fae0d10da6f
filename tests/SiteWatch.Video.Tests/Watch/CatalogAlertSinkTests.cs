using System.Text.Json;
using SiteWatch.Core.Alerts;
using SiteWatch.Core.Catalog;
using SiteWatch.Core.Workflows;
using SiteWatch.Video.Watch;

namespace SiteWatch.Video.Tests.Watch;

public sealed class CatalogAlertSinkTests
{
    [Fact]
    public async Task Video_alerts_are_stored_once_in_the_site_catalog_with_their_snapshot()
    {
        var dir = Directory.CreateTempSubdirectory("sw-video-catalog-");
        try
        {
            var aoi = Path.Combine(dir.FullName, "aoi.geojson");
            await File.WriteAllTextAsync(aoi, """{"type":"Polygon","coordinates":[[[-64.51,-22.51],[-64.49,-22.51],[-64.49,-22.49],[-64.51,-22.49],[-64.51,-22.51]]]}""");
            using var workspace = Workspace.Init(Path.Combine(dir.FullName, "ws"));
            SiteSetup.AddSite(workspace, "border", aoi, 1.0, null, [], null);
            var sink = new CatalogAlertSink(workspace, "border");
            var alert = new TrackEvidence
            {
                Video = "/data/flight.ts", AlertId = "alert-0001", AlertUid = "sw-test", Zone = "border line", TrackId = 7, ClassName = "vehicle", Score = 0.9,
                Latitude = -22.5, Longitude = -64.5, HeightAboveEllipsoid = 1900, SpeedMps = 8.5, HeadingDeg = 92,
                FrameIndex = 120, VideoSeconds = 4.0, LatencyMs = 150, Box = [10, 20, 30, 15], ChipPng = [0x89, 0x50, 0x4E, 0x47],
            }.ToAlert(0, "cross", new DateTimeOffset(2026, 11, 29, 6, 0, 0, TimeSpan.Zero), "sha256:abc|border line|cross|track 7|pts 360000");

            await sink.DeliverAsync(alert, CancellationToken.None);
            await sink.DeliverAsync(alert, CancellationToken.None); // the same recording watched again

            var site = workspace.Catalog.GetSite("border");
            var stored = Assert.Single(workspace.Catalog.ListAlerts(site.Id));
            Assert.Equal(1, sink.Stored);
            Assert.Equal(AlertSource.Video, stored.Source);
            Assert.Equal("border line: cross", stored.RuleName);
            Assert.Contains("vehicle (track 7) cross border line", stored.Message);
            using var evidence = JsonDocument.Parse(stored.Evidence);
            var chip = evidence.RootElement.GetProperty("chip").GetString()!;
            Assert.Equal([0x89, 0x50, 0x4E, 0x47], await File.ReadAllBytesAsync(Path.Combine(workspace.Root, chip)));
            Assert.Empty(Directory.EnumerateFiles(workspace.StagingDirectory, "*", SearchOption.AllDirectories));
            Assert.Contains("\"Point\"", stored.GeometryGeoJson);
            // The catalog gives the typed evidence back, the snapshot named by its place in the workspace.
            Assert.Equal(alert.Track! with { Chip = chip, ChipPng = null, Box = stored.Track!.Box }, stored.Track);
            Assert.Equal([10, 20, 30, 15], stored.Track.Box);

            Assert.Throws<SiteWatch.Core.SiteWatchException>(() => new CatalogAlertSink(workspace, "no-such-site"));
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
