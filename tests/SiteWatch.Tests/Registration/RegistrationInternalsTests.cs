using SiteWatch.Core.Registration;

namespace SiteWatch.Tests.Registration;

/// <summary>The building blocks: sub-pixel phase correlation and the robust model fits.</summary>
public sealed class RegistrationInternalsTests
{
    private const int N = 128;
    private static readonly SyntheticGround _ground = new(11, 400);

    private static float[] Prepared(PhaseCorrelator correlator, float[] image)
    {
        var texture = new float[N * N];
        var valid = new byte[N * N];
        var all = Enumerable.Repeat((byte)1, N * N).ToArray();
        Texture.GradientMagnitude(image, all, N, N, texture, valid);
        var output = new float[N * N];
        correlator.Prepare(texture, valid, output);
        return output;
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(1.3, -0.6)]
    [InlineData(-4.75, 2.2)]
    [InlineData(0.5, 0.5)]
    [InlineData(10.0, -7.0)]
    public void Phase_correlation_measures_where_the_content_moved_to_a_few_hundredths_of_a_pixel(double dx, double dy)
    {
        using var correlator = new PhaseCorrelator(N, N);
        // Image b shows at p the ground that image a shows at p - d: the content moved by +d.
        var a = Prepared(correlator, _ground.Render(N, N, SyntheticGround.Shift(100, 100), 1, 5));
        var b = Prepared(correlator, _ground.Render(N, N, SyntheticGround.Shift(100 - dx, 100 - dy), 2, 5));
        var peak = correlator.Correlate(a, b);
        Assert.Equal(dx, peak.Dx, 0.03);
        Assert.Equal(dy, peak.Dy, 0.03);
        Assert.InRange(peak.Response, 0.5, 1.0);
        var back = correlator.Correlate(b, a);
        Assert.Equal(-dx, back.Dx, 0.03);
        Assert.Equal(-dy, back.Dy, 0.03);
    }

    [Fact]
    public void Phase_correlation_gives_full_response_for_identical_images_and_low_for_unrelated_ones()
    {
        using var correlator = new PhaseCorrelator(N, N);
        var a = Prepared(correlator, _ground.Render(N, N, SyntheticGround.Shift(50, 60), 1, 0));
        var same = correlator.Correlate(a, a);
        Assert.Equal(0, same.Dx, 1e-3);
        Assert.Equal(0, same.Dy, 1e-3);
        Assert.True(same.Response > 0.99, $"response {same.Response}");
        var other = Prepared(correlator, new SyntheticGround(12, 400).Render(N, N, SyntheticGround.Shift(50, 60), 3, 0));
        Assert.True(correlator.Correlate(a, other).Response < 0.08);
    }

    [Fact]
    public void Prepare_reports_valid_fraction_and_no_texture_for_a_flat_image()
    {
        using var correlator = new PhaseCorrelator(N, N);
        var flat = Enumerable.Repeat(5f, N * N).ToArray();
        var valid = new byte[N * N];
        Array.Fill(valid, (byte)1, 0, N * N / 4);
        var (fraction, std) = correlator.Prepare(flat, valid, new float[N * N]);
        Assert.Equal(0.25, fraction, 6);
        Assert.Equal(0, std);
    }

    [Fact]
    public void Robust_affine_recovers_the_model_and_rejects_gross_outliers()
    {
        var rng = new Random(3);
        var truth = new[] { 2.5, 1.0004, -0.0052, 0, 0, 0, -1.25, 0.0052, 0.9997, 0, 0, 0 };
        var matches = new List<Match>();
        for (var i = 0; i < 50; i++)
        {
            double x = rng.NextDouble() * 2000, y = rng.NextDouble() * 2000;
            var (rx, ry) = ModelMath.Apply(truth, x, y);
            var outlier = i % 5 == 0;
            matches.Add(new Match(x, y, rx + (outlier ? 3 + 5 * rng.NextDouble() : 0.02 * (rng.NextDouble() - 0.5)), ry + (outlier ? -4 : 0), 1));
        }
        var fit = ModelMath.Robust(matches, RegistrationModel.Affine, 1.0);
        Assert.Equal(40, fit.InlierCount);
        for (var i = 0; i < matches.Count; i++)
        {
            Assert.Equal(i % 5 != 0, fit.Inliers[i]);
        }
        foreach (var (x, y) in new[] { (0.0, 0.0), (2000.0, 0.0), (0.0, 2000.0), (2000.0, 2000.0) })
        {
            var (ex, ey) = ModelMath.Apply(fit.Coefficients, x, y);
            var (tx, ty) = ModelMath.Apply(truth, x, y);
            Assert.True(Math.Abs(ex - tx) < 0.02 && Math.Abs(ey - ty) < 0.02, $"at ({x}, {y}): ({ex}, {ey}) vs ({tx}, {ty})");
        }
        Assert.True(fit.Rmse < 0.02);
    }

    [Fact]
    public void Robust_fit_drops_a_confidently_measured_but_biased_point_by_its_weight()
    {
        // Twenty precise points and one low-confidence point 0.6 px off: within the 1 px threshold, yet inconsistent with its precision.
        var matches = new List<Match>();
        for (var i = 0; i < 20; i++)
        {
            matches.Add(new Match(i * 100, (i * 37) % 1000, i * 100 + 1.5 + 0.01 * Math.Sin(i), (i * 37) % 1000 - 0.5 + 0.01 * Math.Cos(i), Match.WeightOf(0.85)));
        }
        matches.Add(new Match(500, 500, 502.1, 499.5, Match.WeightOf(0.3)));
        var fit = ModelMath.Robust(matches, RegistrationModel.Translation, 1.0);
        Assert.False(fit.Inliers[^1]);
        Assert.Equal(1.5, fit.Coefficients[0], 0.01);
        Assert.Equal(-0.5, fit.Coefficients[6], 0.01);
    }

    [Fact]
    public void Decompose_reads_rotation_scale_and_shear()
    {
        var t = 0.3 * Math.PI / 180;
        double sx = 1.001, sy = 0.998, m = 0.002 * sy;
        // A = R(t) [[sx, m], [0, sy]]
        double a = Math.Cos(t) * sx, b = Math.Cos(t) * m - Math.Sin(t) * sy, c = Math.Sin(t) * sx, d = Math.Sin(t) * m + Math.Cos(t) * sy;
        var (rotation, scaleX, scaleY, shear) = ModelMath.Decompose([0, a, b, 0, 0, 0, 0, c, d, 0, 0, 0]);
        Assert.Equal(0.3, rotation, 9);
        Assert.Equal(sx, scaleX, 9);
        Assert.Equal(sy, scaleY, 9);
        Assert.Equal(0.002, shear, 9);
    }

    [Fact]
    public void Polynomial_least_squares_is_exact_and_inverts()
    {
        double[] truth = [3.1, 1.001, -0.002, 2e-6, -1e-6, 3e-6, -2.4, 0.0015, 0.9992, -1.5e-6, 2.5e-6, 1e-6];
        var matches = new List<Match>();
        for (var j = 0; j < 6; j++)
        {
            for (var i = 0; i < 6; i++)
            {
                var (rx, ry) = ModelMath.Apply(truth, i * 300, j * 250);
                matches.Add(new Match(i * 300, j * 250, rx, ry));
            }
        }
        var p = ModelMath.LeastSquares(matches, Enumerable.Repeat(true, matches.Count).ToArray(), RegistrationModel.Polynomial2);
        for (var k = 0; k < 12; k++)
        {
            Assert.Equal(truth[k], p[k], 1e-9 + Math.Abs(truth[k]) * 1e-6);
        }
        var (fx, fy) = ModelMath.Apply(p, 812.5, 401.25);
        var (x, y) = ModelMath.Invert(p, fx, fy, (fx, fy));
        Assert.Equal(812.5, x, 1e-7);
        Assert.Equal(401.25, y, 1e-7);
    }
}
