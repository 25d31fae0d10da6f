using SiteWatch.Core.Detection;
using SiteWatch.Demo.Flight;
using SiteWatch.Video.Frames;
using SiteWatch.Video.Geo;
using SiteWatch.Video.Tests.Flight;
using SiteWatch.Video.Watch;
using Xunit.Abstractions;

namespace SiteWatch.Video.Tests.Watch;

/// <summary>
/// The shipped drone detector on a simulated flight it was not trained on (training used flight seeds 101-124): the
/// frames decoded from H.264 as `watch` reads them, brought to the model's GSD from their own KLV on the DEM.
/// </summary>
public sealed class DroneModelTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sitewatch-drone-model-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task The_shipped_drone_model_finds_the_vehicles_of_a_flight_it_never_saw()
    {
        Assert.True(DetectorModel.DroneModelPath is not null, $"models/{DetectorModel.DroneModelFileName} is not beside the tests; the build copies it from Core");
        var options = new FlightSimulationOptions { Seconds = 2, Fps = 3, Width = 1280, Height = 720, Seed = 7 };
        var (tsPath, truth) = await SimulatedFlights.WriteAsync(options, _dir);

        using var model = DetectorModel.Load(DetectorModel.DroneModelPath!);
        Assert.Equal(["vehicle", "person"], model.Classes(new DetectorOptions()).Names); // what it reports (a class learned only to be told apart is dropped)
        Assert.NotNull(model.GroundSampleDistance);
        using var detector = new OnnxFrameDetector(DetectorModel.Load(DetectorModel.DroneModelPath!), new DetectorOptions { ScoreThreshold = model.ScoreThreshold });
        // Its scores are lower than ByteTrack's gates assume (a person at 0.4 m is two pixels): it states its own.
        Assert.Equal((0.35, 0.45), detector.TrackerGates);
        using var dem = DemTerrain.Open(truth.Dem);
        int vehicles = 0, found = 0, falseBoxes = 0, frames = 0;
        await using (var source = VideoSource.Open(tsPath))
        {
            await foreach (var frame in source.ReadFramesAsync())
            {
                Assert.True(CameraPose.TryFromKlv(frame.Telemetry!, frame.Width, frame.Height, out var pose, out _));
                var gsd = FrameGeolocator.ForFrame(pose, dem).GroundSampleDistance(frame.Width / 2.0, frame.Height / 2.0);
                var boxes = detector.Detect(frame, gsd).Where(d => d.ClassName == "vehicle").ToList();
                var truthBoxes = truth.Frames[(int)frame.Index].Objects.Where(o => o.Class == "vehicle" && o.Box is not null).Select(o => o.Box!).ToList();
                frames++;
                vehicles += truthBoxes.Count;
                foreach (var d in boxes)
                {
                    var hit = truthBoxes.FirstOrDefault(b => Math.Abs((b[0] + b[2]) / 2 - d.Box.CentreX) < 6 && Math.Abs((b[1] + b[3]) / 2 - d.Box.CentreY) < 6);
                    if (hit is null)
                    {
                        falseBoxes++;
                    }
                    else
                    {
                        found++;
                        truthBoxes.Remove(hit);
                    }
                }
            }
        }

        output.WriteLine($"{frames} frames: {found} of {vehicles} vehicles found, {falseBoxes} vehicle boxes on nothing");
        Assert.True(vehicles >= 10, $"only {vehicles} vehicles in view");
        Assert.True(found >= 0.8 * vehicles, $"{found} of {vehicles} vehicles found");
        // Measured: 24 of 24, and 5 boxes on nothing in 6 frames (the scene detector finds hundreds of shrubs here).
        Assert.True(falseBoxes <= 2 * frames, $"{falseBoxes} vehicle boxes on nothing in {frames} frames");
    }
}
