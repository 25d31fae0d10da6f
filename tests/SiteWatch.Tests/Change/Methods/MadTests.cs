using MathNet.Numerics.LinearAlgebra;
using SiteWatch.Core.Change;
using SiteWatch.Gdal;
using SiteWatch.Core.Change.Methods;

namespace SiteWatch.Tests.Change.Methods;

public class MadTests
{
    [Theory]
    [InlineData("irmad")]
    [InlineData("mad")]
    public void Known_change_is_found_including_a_two_pixel_road(string method)
    {
        using var dir = new TempDir();
        var scene = new SyntheticPair();
        var (t1, t2) = scene.Write(dir.Path);
        using var pair = RasterPair.Open(t1, t2);
        var result = ChangeDetector.Detect(pair, new ChangeDetectionOptions { Method = ChangeChoices.ParseMethod(method) }, dir.File("mag.tif"), dir.File("mask.tif"));
        var (recall, roadRecall, falseAlarms) = scene.Score(SyntheticPair.ReadMask(dir.File("mask.tif")));
        Assert.True(recall > 0.95, $"{method}: recall {recall:0.000}");
        Assert.True(roadRecall > 0.9, $"{method}: the road is lost ({roadRecall:0.000}); the clean-up must keep thin changes");
        Assert.True(falseAlarms < 0.005, $"{method}: false alarms {falseAlarms:0.0000}");
        Assert.Equal("otsu-chi2", result.ThresholdMethod);
        Assert.Equal(scene.Bands, result.CanonicalCorrelations.Count);
        Assert.Equal(["chi2", "nochange_probability", "MAD1", "MAD2", "MAD3", "MAD4"], result.MagnitudeBands);
    }

    [Theory]
    [InlineData("irmad")]
    [InlineData("mad")]
    public void A_pure_per_band_affine_radiometric_change_is_not_change(string method)
    {
        using var dir = new TempDir();
        var scene = new SyntheticPair { WithChange = false, Gains = [0.55, 1.6, 0.8, 1.35], Offsets = [20, -40, 3, 15] };
        var (t1, t2) = scene.Write(dir.Path);
        using var pair = RasterPair.Open(t1, t2);
        var result = ChangeDetector.Detect(pair, new ChangeDetectionOptions { Method = ChangeChoices.ParseMethod(method) }, dir.File("mag.tif"), dir.File("mask.tif"));
        // MAD is invariant to affine changes per band: only noise remains, which the chi-square test (at 1 %) and the
        // area clean-up dismiss. Otsu alone would split even this unimodal noise in two; the default's chi-square floor stops it.
        Assert.True(result.ChangedFraction < 0.002, $"{method}: {result.ChangedFraction:P2} flagged");
        Assert.True(result.ChangedPixelsBeforeMorphology < 0.02 * result.ValidPixels, $"{method}: {result.ChangedPixelsBeforeMorphology} flagged before clean-up");
    }

    [Fact]
    public void Cva_standardisation_absorbs_a_positive_affine_change_but_otsu_still_splits_the_noise()
    {
        using var dir = new TempDir();
        var scene = new SyntheticPair { WithChange = false, Gains = [0.55, 1.6, 0.8, 1.35], Offsets = [20, -40, 3, 15] };
        var (t1, t2) = scene.Write(dir.Path);
        using var pair = RasterPair.Open(t1, t2);
        var result = ChangeDetector.Detect(pair, new ChangeDetectionOptions { Method = ChangeMethodKind.Cva }, dir.File("mag.tif"), dir.File("mask.tif"));
        // What CVA does: the magnitude stays at the noise level (standardisation removes a positive gain and offset)...
        Assert.True(result.MagnitudeMean < 0.5, $"mean CVA magnitude {result.MagnitudeMean:0.000}");
        // ...but Otsu always finds two classes, so a scene without change is still split: CVA + Otsu is not safe there.
        Assert.True(result.ChangedFraction > 0.05, $"CVA flagged only {result.ChangedFraction:P1}");

        // A band whose gain is negative (e.g. inverted) is beyond a standardisation: CVA sees change everywhere, MAD does not.
        var inverted = new SyntheticPair { WithChange = false, Gains = [0.55, -1.6, 0.8, 1.35], Offsets = [20, 300, 3, 15] };
        var (u1, u2) = inverted.Write(dir.Path, "inv");
        using var invertedPair = RasterPair.Open(u1, u2);
        var cva = ChangeDetector.Detect(invertedPair, new ChangeDetectionOptions { Method = ChangeMethodKind.Cva }, dir.File("cva-mag.tif"), dir.File("cva-mask.tif"));
        var mad = ChangeDetector.Detect(invertedPair, new ChangeDetectionOptions { Method = ChangeMethodKind.IrMad }, dir.File("mad-mag.tif"), dir.File("mad-mask.tif"));
        Assert.True(cva.MagnitudeMean > 1, $"CVA magnitude {cva.MagnitudeMean:0.00}");
        Assert.True(mad.ChangedFraction < 0.002, $"IR-MAD flagged {mad.ChangedFraction:P2}");
    }

    [Fact]
    public void Canonical_correlations_match_a_direct_whole_image_computation()
    {
        using var dir = new TempDir();
        var scene = new SyntheticPair { Width = 120, Height = 90, Seed = 5 };
        var (before, after) = scene.Generate();
        var (t1, t2) = scene.Write(dir.Path);
        using var pair = RasterPair.Open(t1, t2);
        var options = new ChangeDetectionOptions { BlockSize = 32 };

        var mad = new MadMethod(iterative: false);
        mad.Fit(pair, options, null, default);
        var direct = DirectIrMad(before, after, scene.Bands, 1, options.ConvergenceTolerance);
        Assert.Equal(direct.Correlations.Length, mad.Transformation.Correlations.Count);
        for (var i = 0; i < direct.Correlations.Length; i++)
        {
            Assert.Equal(direct.Correlations[i], mad.Transformation.Correlations[i], 9);
        }

        var irmad = new MadMethod(iterative: true);
        irmad.Fit(pair, options, null, default);
        var directIr = DirectIrMad(before, after, scene.Bands, options.MaxIterations, options.ConvergenceTolerance);
        Assert.Equal(directIr.Iterations, irmad.CorrelationHistory.Count);
        for (var i = 0; i < directIr.Correlations.Length; i++)
        {
            Assert.Equal(directIr.Correlations[i], irmad.Transformation.Correlations[i], 6);
        }
        Assert.True(irmad.Converged);
        // Iterating moves the correlations up: the changed pixels no longer dilute them.
        Assert.True(irmad.Transformation.Correlations[0] > mad.Transformation.Correlations[0]);
    }

    /// <summary>
    /// IR-MAD on whole arrays, written independently of the streaming code: weighted covariances by plain sums, the
    /// generalised eigenproblem S12 S22^-1 S21 a = rho^2 S11 a solved as the eigenvalues of S11^-1 S12 S22^-1 S21.
    /// </summary>
    private static (double[] Correlations, int Iterations) DirectIrMad(float[] x, float[] y, int p, int maxIterations, double tolerance)
    {
        var n = x.Length / p;
        var w = Enumerable.Repeat(1.0, n).ToArray();
        double[]? previous = null;
        var iterations = 0;
        for (var it = 1; it <= maxIterations; it++)
        {
            iterations = it;
            var sw = w.Sum();
            var mean = new double[2 * p];
            for (var k = 0; k < 2 * p; k++)
            {
                var data = k < p ? x : y;
                var b = k % p;
                double s = 0;
                for (var i = 0; i < n; i++)
                {
                    s += w[i] * data[b * n + i];
                }
                mean[k] = s / sw;
            }
            var cov = Matrix<double>.Build.Dense(2 * p, 2 * p);
            for (var j = 0; j < 2 * p; j++)
            {
                for (var k = 0; k < 2 * p; k++)
                {
                    var dj = j < p ? x : y;
                    var dk = k < p ? x : y;
                    double s = 0;
                    for (var i = 0; i < n; i++)
                    {
                        s += w[i] * (dj[(j % p) * n + i] - mean[j]) * (dk[(k % p) * n + i] - mean[k]);
                    }
                    cov[j, k] = s / sw;
                }
            }
            var s11 = cov.SubMatrix(0, p, 0, p);
            var s22 = cov.SubMatrix(p, p, p, p);
            var s12 = cov.SubMatrix(0, p, p, p);
            var m = s11.Inverse() * s12 * s22.Inverse() * s12.Transpose();
            var evd = m.Evd();
            var order = Enumerable.Range(0, p).OrderBy(i => evd.EigenValues[i].Real).ToArray();
            var rho = order.Select(i => Math.Sqrt(evd.EigenValues[i].Real)).ToArray();
            if (previous is not null && rho.Zip(previous, (a, b) => Math.Abs(a - b)).Max() < tolerance)
            {
                return (rho, it);
            }
            // MAD variates and the next weights, with the consistency correction of the weighted variances.
            var scale = previous is null ? 1 : 1 / ChiSquare.WeightedVarianceShrinkage(p);
            var a = new Vector<double>[p];
            var bvec = new Vector<double>[p];
            for (var v = 0; v < p; v++)
            {
                var av = evd.EigenVectors.Column(order[v]);
                av /= Math.Sqrt(av * s11 * av);
                var bv = s22.Inverse() * s12.Transpose() * av;
                bv /= Math.Sqrt(bv * s22 * bv);
                a[v] = av;
                bvec[v] = bv;
            }
            for (var i = 0; i < n; i++)
            {
                double z = 0;
                for (var v = 0; v < p; v++)
                {
                    double u = 0, t = 0;
                    for (var b = 0; b < p; b++)
                    {
                        u += a[v][b] * (x[b * n + i] - mean[b]);
                        t += bvec[v][b] * (y[b * n + i] - mean[p + b]);
                    }
                    var mad = u - t;
                    z += mad * mad / (2 * (1 - rho[v]) * scale);
                }
                w[i] = ChiSquare.Survival(z, p);
            }
            previous = rho;
        }
        return (previous!, iterations);
    }

    [Fact]
    public void Chi_square_of_unchanged_pixels_follows_chi2_with_N_degrees_of_freedom()
    {
        using var dir = new TempDir();
        var scene = new SyntheticPair { Seed = 3 };
        var (t1, t2) = scene.Write(dir.Path);
        using var pair = RasterPair.Open(t1, t2);
        var result = ChangeDetector.Detect(pair, new ChangeDetectionOptions { Method = ChangeMethodKind.IrMad }, dir.File("mag.tif"), dir.File("mask.tif"));
        var (mean, exceed) = NoChangeChiSquare(scene, dir.File("mag.tif"), ChiSquare.Critical(0.05, 4));
        Assert.Equal(4, result.CanonicalCorrelations.Count);
        Assert.InRange(mean, 3.6, 4.4);    // E[chi2(4)] = 4
        Assert.InRange(exceed, 0.03, 0.07); // P(chi2(4) > critical at 5 %) = 5 %

        // Without the consistency correction IR-MAD settles where unchanged pixels have Z well above chi2(N)
        // (the weights shrink the variance they estimate): Nielsen's published iteration over-detects.
        ChangeDetector.Detect(pair, new ChangeDetectionOptions { Method = ChangeMethodKind.IrMad, ConsistencyCorrection = false }, dir.File("mag0.tif"), dir.File("mask0.tif"));
        var (meanUncorrected, _) = NoChangeChiSquare(scene, dir.File("mag0.tif"), ChiSquare.Critical(0.05, 4));
        Assert.True(meanUncorrected > 2 * 4, $"uncorrected mean Z {meanUncorrected:0.00}");
    }

    private static (double Mean, double Exceed) NoChangeChiSquare(SyntheticPair scene, string magnitude, double critical)
    {
        var z = SyntheticPair.ReadBand(magnitude);
        double sum = 0;
        long n = 0, above = 0;
        for (var r = 0; r < scene.Height; r++)
        {
            for (var c = 0; c < scene.Width; c++)
            {
                if (SyntheticPair.NearChange(r, c))
                {
                    continue;
                }
                var v = z[r * scene.Width + c];
                sum += v;
                n++;
                above += v > critical ? 1 : 0;
            }
        }
        return (sum / n, (double)above / n);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(6)]
    public void The_weighted_variance_shrinkage_matches_a_monte_carlo_estimate(int dof)
    {
        // Z ~ chi2(N), w = P(chi2(N) > Z): E[w Z] / (N E[w]) is the factor IR-MAD's weights shrink a variance by.
        var rng = new Random(11);
        double sw = 0, swz = 0;
        for (var i = 0; i < 400_000; i++)
        {
            double z = 0;
            for (var k = 0; k < dof; k++)
            {
                var u1 = 1 - rng.NextDouble();
                var g = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * rng.NextDouble());
                z += g * g;
            }
            var w = ChiSquare.Survival(z, dof);
            sw += w;
            swz += w * z;
        }
        Assert.Equal(swz / (dof * sw), ChiSquare.WeightedVarianceShrinkage(dof), 2);
    }

    [Fact]
    public void Survival_function_matches_the_incomplete_gamma_function()
    {
        foreach (var dof in new[] { 1, 2, 3, 4, 5, 6, 7, 12, 13, 250 })
        {
            foreach (var z in new[] { 0.01, 0.5, 1, 3.3, 6, 12.5, 30, 80, 300 })
            {
                var expected = MathNet.Numerics.SpecialFunctions.GammaUpperRegularized(dof / 2.0, z / 2);
                Assert.True(Math.Abs(expected - ChiSquare.Survival(z, dof)) < 1e-12 + 1e-9 * expected, $"dof {dof}, z {z}");
            }
        }
        Assert.Equal(1, ChiSquare.Survival(0, 6));
        Assert.Equal(16.8119, ChiSquare.Critical(0.01, 6), 3);
    }

    [Fact]
    public void Constant_bands_are_left_out_with_a_note()
    {
        using var dir = new TempDir();
        var scene = new SyntheticPair { Width = 100, Height = 80 };
        var (before, after) = scene.Generate();
        var n = scene.Width * scene.Height;
        var profile = new RasterProfile(scene.Width, scene.Height, scene.Bands + 1, RasterDataType.Float32);
        using var x = RasterDataset.CreateInMemory(profile);
        using var y = RasterDataset.CreateInMemory(profile);
        var window = new RasterWindow(0, 0, scene.Width, scene.Height);
        for (var b = 0; b < scene.Bands; b++)
        {
            x.Write<float>(b + 1, window, before.AsSpan(b * n, n));
            y.Write<float>(b + 1, window, after.AsSpan(b * n, n));
        }
        var constant = Enumerable.Repeat(255f, n).ToArray(); // like the alpha band of an RGBA PNG
        x.Write<float>(scene.Bands + 1, window, constant);
        y.Write<float>(scene.Bands + 1, window, constant);
        using var pair = new RasterPair(x, y);
        var result = ChangeDetector.Detect(pair, new ChangeDetectionOptions(), dir.File("mag.tif"), dir.File("mask.tif"));
        Assert.Equal(scene.Bands, result.CanonicalCorrelations.Count);
        Assert.Contains(result.Notes, note => note.Contains("collinear or constant"));
        var cva = ChangeDetector.Detect(pair, new ChangeDetectionOptions { Method = ChangeMethodKind.Cva }, dir.File("cmag.tif"), dir.File("cmask.tif"));
        Assert.Contains(cva.Notes, note => note.Contains("band 5 is constant"));
    }
}
