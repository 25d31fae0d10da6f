using System.Diagnostics;
using System.Globalization;
using SiteWatch.Video.Geo;

namespace SiteWatch.Video.Tests.Geo;

public class GeodesyTests
{
    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(37.5, 127, 1500)]
    [InlineData(-33.9, 151.2, -40)]
    [InlineData(89.9999, -45, 10_000)]
    [InlineData(-60.2, -179.99, 35_786_000)]
    public void Geodetic_ECEF_round_trip_is_sub_millimetre(double lat, double lon, double h)
    {
        var back = Wgs84.FromEcef(Wgs84.ToEcef(lat, lon, h));
        Assert.Equal(lat, back.Latitude, 9);
        Assert.Equal(lon, back.Longitude, 9);
        Assert.Equal(h, back.HeightAboveEllipsoid, 4);
    }

    [Fact]
    public void ECEF_of_known_points_matches_the_ellipsoid()
    {
        var equator = Wgs84.ToEcef(0, 0, 0);
        Assert.Equal(Wgs84.SemiMajorAxis, equator.X, 6);
        var pole = Wgs84.ToEcef(90, 0, 0);
        Assert.Equal(Wgs84.SemiMinorAxis, pole.Z, 6);
        Assert.Equal(6356752.3142, Wgs84.SemiMinorAxis, 4);
    }

    [Fact]
    public void Vincenty_matches_the_classic_flinders_peak_to_buninyong_distance()
    {
        // Vincenty (1975) / Geoscience Australia example: 54 972.271 m.
        var d = Wgs84.Distance(-(37 + 57 / 60.0 + 3.72030 / 3600), 144 + 25 / 60.0 + 29.52440 / 3600,
            -(37 + 39 / 60.0 + 10.15610 / 3600), 143 + 55 / 60.0 + 35.38390 / 3600);
        Assert.Equal(54972.271, d, 3);
    }

    [Fact]
    public void ENU_offsets_round_trip()
    {
        var origin = new GeoPoint(37.5, 127, 100);
        var p = Wgs84.FromEnu(origin, new Vec3(1234.5, -678.9, 42));
        var enu = Wgs84.ToEnu(origin, p);
        Assert.Equal(1234.5, enu.X, 6);
        Assert.Equal(-678.9, enu.Y, 6);
        Assert.Equal(42, enu.Z, 6);
        Assert.True(p.Longitude > origin.Longitude && p.Latitude < origin.Latitude);
    }

    [SkippableFact]
    public void EGM96_grid_agrees_with_PROJ()
    {
        var geoid = GeoidModel.Egm96;
        Skip.If(geoid is null, "EGM96 grid (egm96_15.gtx / us_nga_egm96_15.tif) is not installed; MSL heights are then taken as HAE");
        // Known undulations: 17.16 m at (0, 0); the EGM96 low south of India and the high over New Guinea.
        Assert.Equal(17.16, geoid.Undulation(0, 0), 1);
        Assert.InRange(geoid.Undulation(5, 78), -107, -90);
        Assert.InRange(geoid.Undulation(-5, 145), 60, 80);

        // Against PROJ itself (EPSG:4326+5773 -> EPSG:4979 applies the same grid) when cs2cs is on the path.
        var points = new (double Lat, double Lon)[] { (60.176823, 128.426759), (-10.542389, 29.157890), (37.5, 127), (51.5, -0.12), (-33.9, 151.2), (0.3, 179.9), (0.3, -179.95) };
        var input = string.Join('\n', points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Lat} {p.Lon} 0"))) + "\n";
        string output;
        try
        {
            using var process = Process.Start(new ProcessStartInfo("cs2cs", "-f %.4f EPSG:4326+5773 EPSG:4979")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            process.StandardInput.Write(input);
            process.StandardInput.Close();
            output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Skip.If(true, "cs2cs (PROJ) is not installed");
            return;
        }

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(points.Length, lines.Length);
        for (var i = 0; i < points.Length; i++)
        {
            var proj = double.Parse(lines[i].Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[2], CultureInfo.InvariantCulture);
            var ours = geoid.Undulation(points[i].Lat, points[i].Lon);
            Assert.True(Math.Abs(proj - ours) < 0.002, $"{points[i]}: PROJ {proj} vs ours {ours}");
        }
    }
}
