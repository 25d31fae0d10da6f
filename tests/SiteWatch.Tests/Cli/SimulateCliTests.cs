using System.Text.Json;

namespace SiteWatch.Tests.Cli;

/// <summary>`sitewatch simulate flight` as a user runs it.</summary>
public class SimulateCliTests
{
    [Fact]
    public void Simulate_flight_has_help_with_examples()
    {
        var (code, output, _) = CliTests.Run(null, "simulate", "flight", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--udp", output);
        Assert.Contains("EXAMPLES", output);
    }

    [Theory]
    [InlineData("--size", "big")]
    [InlineData("--udp", "localhost")]
    [InlineData("--fps", "fast")]
    public void Bad_options_are_usage_errors(string option, string value)
    {
        var (code, _, err) = CliTests.Run(null, "simulate", "flight", option, value);
        Assert.Equal(2, code);
        Assert.StartsWith("error:", err);
    }

    [Fact]
    public void Video_info_of_a_missing_file_is_one_line_and_exit_1()
    {
        var (code, _, err) = CliTests.Run(null, "video", "info", "/nonexistent/flight.ts");
        Assert.Equal(1, code);
        Assert.Equal("error: /nonexistent/flight.ts: no such video file", err.Trim());
    }

    [Fact]
    public void A_missing_dem_is_one_line_and_exit_1()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"sitewatch-simcli-{Guid.NewGuid():N}");
        try
        {
            var (code, _, err) = CliTests.Run(null, "simulate", "flight", "--out", dir, "--dem", "/nonexistent/dem.tif");
            Assert.Equal(1, code);
            Assert.Contains("/nonexistent/dem.tif", err);
            Assert.Single(err.Trim().Split('\n'));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public void A_short_flight_writes_the_stream_truth_dem_and_zones()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"sitewatch-simcli-{Guid.NewGuid():N}");
        try
        {
            var (code, output, err) = CliTests.Run(null, "simulate", "flight", "--out", dir, "--seconds", "0.5", "--fps", "10", "--size", "160x96", "--vmti", "--json");
            Assert.True(code == 0, err);
            using var json = JsonDocument.Parse(output);
            Assert.Equal(5, json.RootElement.GetProperty("frames").GetInt32());
            foreach (var name in new[] { "flight.ts", "truth.json", "dem.tif", "zones.geojson" })
            {
                Assert.True(new FileInfo(Path.Combine(dir, name)).Length > 0, name);
            }

            using var zones = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "zones.geojson")));
            var features = zones.RootElement.GetProperty("features");
            Assert.Equal("LineString", features[0].GetProperty("geometry").GetProperty("type").GetString());
            Assert.Equal(25, features[0].GetProperty("properties").GetProperty("buffer_m").GetDouble());
            Assert.Equal("Polygon", features[1].GetProperty("geometry").GetProperty("type").GetString());
            Assert.False(File.Exists(Path.Combine(dir, "flight.ts.partial")));

            // video info reads it back: every frame with its telemetry.
            var (infoCode, info, infoErr) = CliTests.Run(null, "video", "info", Path.Combine(dir, "flight.ts"), "--json");
            Assert.True(infoCode == 0, infoErr);
            using var summary = JsonDocument.Parse(info);
            Assert.Equal(5, summary.RootElement.GetProperty("frames").GetInt64());
            Assert.Equal(0, summary.RootElement.GetProperty("frames_without_telemetry").GetInt64());
            Assert.Equal(160, summary.RootElement.GetProperty("width").GetInt32());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
