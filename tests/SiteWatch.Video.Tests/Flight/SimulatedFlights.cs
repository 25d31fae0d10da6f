using SiteWatch.Demo.Flight;

namespace SiteWatch.Video.Tests.Flight;

/// <summary>Simulates a flight into a test's folder: the MPEG-TS file, its truth and, when asked, its watch zones.</summary>
internal static class SimulatedFlights
{
    public static async Task<(string TsPath, FlightTruth Truth)> WriteAsync(FlightSimulationOptions options, string directory, string name = "flight.ts", string? zonesPath = null)
    {
        var tsPath = Path.Combine(directory, name);
        using var simulator = FlightSimulator.Create(options, directory);
        FlightTruth truth;
        await using (var file = File.Create(tsPath))
        {
            truth = await simulator.WriteTsAsync(file);
        }

        if (zonesPath is not null)
        {
            simulator.WriteZones(zonesPath);
        }

        return (tsPath, truth);
    }
}
