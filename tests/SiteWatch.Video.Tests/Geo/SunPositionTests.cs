using SiteWatch.Video.Geo;

namespace SiteWatch.Video.Tests.Geo;

public class SunPositionTests
{
    // Checks from the geometry of the sky, not from the equations under test: at local solar noon the sun stands on
    // the meridian at 90 - |latitude - declination|, north of the zenith where the declination is north of the place.
    // Solar noon: 12:00 UTC less 4 minutes a degree of east longitude, less the equation of time (-1.7 min on 21 June, +2 on 21 December).
    [Theory]
    [InlineData(51.4779, 0.0, "2025-06-21T12:01:40Z", 61.96, 180)] // Greenwich, June solstice (declination +23.44)
    [InlineData(-33.87, 151.21, "2025-12-21T01:53:10Z", 79.57, 0)] // Sydney, December solstice: the sun in the north
    [InlineData(23.44, -90.0, "2025-06-21T18:01:40Z", 90, double.NaN)] // tropic of Cancer: overhead (azimuth undefined)
    public void The_noon_sun_stands_on_the_meridian_at_the_height_the_declination_gives(double lat, double lon, string utc, double elevation, double azimuth)
    {
        var sun = SunPosition.At(DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture), lat, lon);
        Assert.InRange(sun.ElevationDeg, elevation - 0.4, elevation + 0.4);
        if (!double.IsNaN(azimuth))
        {
            var off = Math.Abs((sun.AzimuthDeg - azimuth + 540) % 360 - 180);
            Assert.True(off < 1.5, $"azimuth {sun.AzimuthDeg:0.00}, expected {azimuth}");
        }
    }

    [Fact]
    public void On_the_equinox_the_sun_rises_due_east_at_the_equator_and_is_down_at_midnight()
    {
        // 20 March 2025, equator, Greenwich meridian: sunrise a little after 06:00 UTC, due east.
        var dawn = SunPosition.At(new DateTimeOffset(2025, 3, 20, 6, 7, 0, TimeSpan.Zero), 0, 0);
        Assert.InRange(dawn.ElevationDeg, -0.6, 0.6);
        Assert.InRange(dawn.AzimuthDeg, 89, 91);
        var dusk = SunPosition.At(new DateTimeOffset(2025, 3, 20, 18, 7, 0, TimeSpan.Zero), 0, 0);
        Assert.InRange(dusk.AzimuthDeg, 269, 271);
        var night = SunPosition.At(new DateTimeOffset(2025, 6, 21, 0, 0, 0, TimeSpan.Zero), 51.48, 0);
        Assert.InRange(night.ElevationDeg, -16, -14); // 90 - 51.48 - 23.44 below the horizon, due north
        Assert.Equal(double.PositiveInfinity, night.ShadowLength(1.7));
    }

    [Fact]
    public void Shadows_point_away_from_the_sun_and_lengthen_as_it_sinks()
    {
        var sun = new SunPosition(315, 45);
        Assert.Equal(135, sun.ShadowBearingDeg, 9);
        Assert.Equal(1.7, sun.ShadowLength(1.7), 9);
        Assert.True(new SunPosition(315, 20).ShadowLength(1.7) > 4.6);
        Assert.Throws<ArgumentOutOfRangeException>(() => SunPosition.At(DateTimeOffset.UnixEpoch, 91, 0));
    }
}
