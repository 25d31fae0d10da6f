using NetTopologySuite.Geometries;
using SiteWatch.Demo.Plant;

namespace SiteWatch.Tests.Demo;

public sealed class DemoInternalsTests
{
    [Fact]
    public void Sun_at_summer_solstice_noon_stands_high_in_the_south()
    {
        // Local solar noon at 127.5E is ~03:32 UTC on 21 June (equation of time about -1.7 min).
        var (elevation, azimuth) = SolarPosition.Compute(new DateTime(2024, 6, 21, 3, 32, 0, DateTimeKind.Utc), 39.93, 127.5);
        Assert.Equal(90 - 39.93 + 23.44, elevation, 0.3);
        Assert.Equal(180, azimuth, 2.0);
        var (morning, morningAz) = SolarPosition.Compute(new DateTime(2024, 3, 20, 2, 0, 0, DateTimeKind.Utc), 39.93, 127.5);
        Assert.InRange(morning, 40, 47);
        Assert.InRange(morningAz, 130, 155);
    }

    public static TheoryData<string> Polygons => new()
    {
        "POLYGON ((3.3 4.1, 12.7 5.2, 9.9 15.35, 2.05 11.8, 3.3 4.1))",
        // Rotated rectangle sticking out of the left, top and right sides of the 20 x 20 canvas.
        "POLYGON ((-6.5 8.2, 10 -3.7, 26.4 10.9, 9.9 22.6, -6.5 8.2))",
        // With a hole, which must be cut out.
        "POLYGON ((1.5 1.5, 18.25 1.5, 18.25 18.75, 1.5 18.75, 1.5 1.5), (6.1 6.2, 6.1 12.9, 13.3 12.9, 13.3 6.2, 6.1 6.2))",
        "POLYGON ((5.01 5.02, 5.61 5.02, 5.61 5.52, 5.01 5.52, 5.01 5.02))",
    };

    [Theory]
    [MemberData(nameof(Polygons))]
    public void Rasteriser_coverage_adds_up_to_the_clipped_area(string wkt)
    {
        var polygon = (Polygon)new NetTopologySuite.IO.WKTReader().Read(wkt);
        // 1 m pixels, local origin at the lower-left corner of a 20 x 20 canvas, no shift.
        var canvas = new SceneCanvas(20, 20, 1.0, 0, 20, 0, 0, 0, 0);
        canvas.Fill(Shape.FromGeometry(polygon), new SolidPaint(new Spectrum(1, 1, 1, 1)));
        var frame = new GeometryFactory().ToGeometry(new Envelope(0, 20, 0, 20));
        Assert.Equal(polygon.Intersection(frame).Area, canvas.B.Sum(), 2e-3);
        Assert.All(canvas.B, v => Assert.InRange(v, 0, 1.0001f));
    }

    [Fact]
    public void Rasteriser_honours_sub_pixel_shifts()
    {
        // The same square drawn on a grid shifted by +0.3 px lands 0.3 px further left.
        var square = Shape.Rect(5, 5, 10, 10);
        var reference = new SceneCanvas(20, 20, 1.0, 0, 20, 0, 0, 0, 0);
        var shifted = new SceneCanvas(20, 20, 1.0, 0, 20, 0, 0, 0.3, -0.2);
        reference.Fill(square, new SolidPaint(new Spectrum(1, 1, 1, 1)));
        shifted.Fill(square, new SolidPaint(new Spectrum(1, 1, 1, 1)));
        Assert.Equal(CentroidX(reference) - 0.3, CentroidX(shifted), 1e-4);
        Assert.Equal(CentroidY(reference) + 0.2, CentroidY(shifted), 1e-4);

        static double CentroidX(SceneCanvas c) =>
            Enumerable.Range(0, c.B.Length).Sum(i => c.B[i] * (i % c.Width + 0.5)) / c.B.Sum();

        static double CentroidY(SceneCanvas c) =>
            Enumerable.Range(0, c.B.Length).Sum(i => c.B[i] * (i / c.Width + 0.5)) / c.B.Sum();
    }

    [Fact]
    public void Noise_is_a_pure_function_of_position_and_seed()
    {
        Assert.Equal(Noise.Fbm(123.4, -56.7, 9, 4), Noise.Fbm(123.4, -56.7, 9, 4));
        Assert.NotEqual(Noise.Fbm(123.4, -56.7, 9, 4), Noise.Fbm(123.4, -56.7, 10, 4));
        // Smooth: neighbouring samples a hundredth of a lattice cell apart barely differ.
        Assert.True(Math.Abs(Noise.Value(10.50, 3.2, 1) - Noise.Value(10.51, 3.2, 1)) < 0.05);
    }
}
