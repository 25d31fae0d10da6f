using MathNet.Numerics.LinearAlgebra;

namespace SiteWatch.Core.Registration;

/// <summary>A correspondence for fitting: target position -> reference position, with its weight (inverse variance, relative).</summary>
internal readonly record struct Match(double Tx, double Ty, double Rx, double Ry, double Weight = 1)
{
    /// <summary>
    /// Weight of a phase-correlation match from its peak response r, read as the coherence of the two windows: the
    /// variance of a correlation delay estimate goes as (1 - r^2) / r^2, so the weight is its inverse.
    /// </summary>
    public static double WeightOf(double response)
    {
        var r = Math.Clamp(response, 1e-3, 0.99);
        return r * r / (1 - r * r);
    }
}

/// <summary>A fitted model in polynomial form (12 coefficients, see <see cref="CoRegistrationResult.Polynomial"/>) with its inliers.</summary>
internal sealed record ModelFit(RegistrationModel Kind, double[] Coefficients, bool[] Inliers, double[] Residuals)
{
    public int InlierCount => Inliers.Count(b => b);

    /// <summary>Weights of the matches the model was fitted to (same order as <see cref="Residuals"/>).</summary>
    public required double[] Weights { get; init; }

    /// <summary>Root mean square inlier residual, weighted by match confidence (NaN without inliers).</summary>
    public double Rmse
    {
        get
        {
            double sum = 0, weights = 0;
            for (var i = 0; i < Residuals.Length; i++)
            {
                if (Inliers[i])
                {
                    sum += Weights[i] * Residuals[i] * Residuals[i];
                    weights += Weights[i];
                }
            }
            return weights == 0 ? double.NaN : Math.Sqrt(sum / weights);
        }
    }

    /// <summary>Residual standard error per coordinate, corrected for the parameters spent (compares models of different sizes).</summary>
    public double Sigma
    {
        get
        {
            var parameters = Kind switch { RegistrationModel.Translation => 1, RegistrationModel.Affine => 3, _ => 6 };
            var n = InlierCount;
            var dof = 2 * (n - parameters);
            if (dof <= 0)
            {
                return double.PositiveInfinity;
            }
            double sum = 0, weights = 0;
            for (var i = 0; i < Residuals.Length; i++)
            {
                if (Inliers[i])
                {
                    sum += Weights[i] * Residuals[i] * Residuals[i];
                    weights += Weights[i];
                }
            }
            // Normalised so the weights only set the relative influence of the matches.
            return Math.Sqrt(sum / weights * n / dof);
        }
    }
}

/// <summary>Fitting and evaluating the target -> reference models: robust (RANSAC, then least squares on the inliers).</summary>
internal static class ModelMath
{
    public static double[] Identity => [0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0];

    public static double[] Translation(double dx, double dy) => [dx, 1, 0, 0, 0, 0, dy, 0, 1, 0, 0, 0];

    public static (double X, double Y) Apply(double[] p, double x, double y) =>
        (p[0] + p[1] * x + p[2] * y + p[3] * x * x + p[4] * x * y + p[5] * y * y,
         p[6] + p[7] * x + p[8] * y + p[9] * x * x + p[10] * x * y + p[11] * y * y);

    /// <summary>Solves Apply(p, x, y) = (rx, ry) by Newton iterations from a first guess.</summary>
    public static (double X, double Y) Invert(double[] p, double rx, double ry, (double X, double Y) guess)
    {
        var (x, y) = guess;
        for (var k = 0; k < 20; k++)
        {
            var (fx, fy) = Apply(p, x, y);
            double ex = fx - rx, ey = fy - ry;
            if (Math.Abs(ex) + Math.Abs(ey) < 1e-10)
            {
                break;
            }
            var j11 = p[1] + 2 * p[3] * x + p[4] * y;
            var j12 = p[2] + p[4] * x + 2 * p[5] * y;
            var j21 = p[7] + 2 * p[9] * x + p[10] * y;
            var j22 = p[8] + p[10] * x + 2 * p[11] * y;
            var det = j11 * j22 - j12 * j21;
            if (Math.Abs(det) < 1e-12)
            {
                break;
            }
            x -= (j22 * ex - j12 * ey) / det;
            y -= (j11 * ey - j21 * ex) / det;
        }
        return (x, y);
    }

    /// <summary>The linear part of a model at a point (its Jacobian there), as coefficients with zero offset and curvature.</summary>
    public static double[] LinearAt(double[] p, double x, double y) =>
        [0, p[1] + 2 * p[3] * x + p[4] * y, p[2] + p[4] * x + 2 * p[5] * y, 0, 0, 0,
         0, p[7] + 2 * p[9] * x + p[10] * y, p[8] + p[10] * x + 2 * p[11] * y, 0, 0, 0];

    /// <summary>The affine part of a model (its linearisation at the origin for a polynomial).</summary>
    public static double[] AffineOf(double[] p) => [p[0], p[1], p[2], p[6], p[7], p[8]];

    /// <summary>
    /// Splits the linear part [[a, b], [c, d]] (refX = .. + a x + b y, refY = .. + c x + d y) into rotation, scales and
    /// shear: A = R(theta) * [[sx, m], [0, sy]], shear = m / sy.
    /// </summary>
    public static (double RotationDegrees, double ScaleX, double ScaleY, double Shear) Decompose(double[] p)
    {
        double a = p[1], b = p[2], c = p[7], d = p[8];
        var sx = Math.Sqrt(a * a + c * c);
        var theta = Math.Atan2(c, a);
        var m = b * Math.Cos(theta) + d * Math.Sin(theta);
        var sy = -b * Math.Sin(theta) + d * Math.Cos(theta);
        return (theta * 180 / Math.PI, sx, sy, sy == 0 ? double.NaN : m / sy);
    }

    public static double Residual(double[] p, Match m)
    {
        var (x, y) = Apply(p, m.Tx, m.Ty);
        return Math.Sqrt((x - m.Rx) * (x - m.Rx) + (y - m.Ry) * (y - m.Ry));
    }

    /// <summary>Standard deviations of the target positions along their principal axes (small second value = nearly collinear).</summary>
    public static (double Major, double Minor) Spread(IReadOnlyList<Match> matches, bool[] use)
    {
        double sx = 0, sy = 0;
        var n = 0;
        for (var i = 0; i < matches.Count; i++)
        {
            if (use[i])
            {
                sx += matches[i].Tx;
                sy += matches[i].Ty;
                n++;
            }
        }
        if (n < 2)
        {
            return (0, 0);
        }
        double mx = sx / n, my = sy / n, cxx = 0, cxy = 0, cyy = 0;
        for (var i = 0; i < matches.Count; i++)
        {
            if (use[i])
            {
                double dx = matches[i].Tx - mx, dy = matches[i].Ty - my;
                cxx += dx * dx;
                cxy += dx * dy;
                cyy += dy * dy;
            }
        }
        cxx /= n;
        cxy /= n;
        cyy /= n;
        var mean = (cxx + cyy) / 2;
        var root = Math.Sqrt(Math.Max(0, (cxx - cyy) * (cxx - cyy) / 4 + cxy * cxy));
        return (Math.Sqrt(mean + root), Math.Sqrt(Math.Max(0, mean - root)));
    }

    /// <summary>Least squares on the selected matches. Coordinates are centred and scaled first, which keeps the quadratic terms well conditioned.</summary>
    public static double[] LeastSquares(IReadOnlyList<Match> matches, bool[] use, RegistrationModel kind)
    {
        var idx = Enumerable.Range(0, matches.Count).Where(i => use[i]).ToArray();
        if (kind == RegistrationModel.Translation)
        {
            if (idx.Length == 0)
            {
                throw new InvalidOperationException("no matches to fit");
            }
            var total = idx.Sum(i => matches[i].Weight);
            return Translation(idx.Sum(i => matches[i].Weight * (matches[i].Rx - matches[i].Tx)) / total,
                idx.Sum(i => matches[i].Weight * (matches[i].Ry - matches[i].Ty)) / total);
        }
        var terms = kind == RegistrationModel.Affine ? 3 : 6;
        if (idx.Length < terms)
        {
            throw new InvalidOperationException($"{idx.Length} matches cannot fix {terms} terms per axis");
        }
        double cx = idx.Average(i => matches[i].Tx), cy = idx.Average(i => matches[i].Ty);
        var s = Math.Max(1, idx.Max(i => Math.Max(Math.Abs(matches[i].Tx - cx), Math.Abs(matches[i].Ty - cy))));
        var design = Matrix<double>.Build.Dense(idx.Length, terms);
        var bx = Vector<double>.Build.Dense(idx.Length);
        var by = Vector<double>.Build.Dense(idx.Length);
        for (var r = 0; r < idx.Length; r++)
        {
            var m = matches[idx[r]];
            double u = (m.Tx - cx) / s, v = (m.Ty - cy) / s;
            var w = Math.Sqrt(m.Weight);
            design[r, 0] = w;
            design[r, 1] = w * u;
            design[r, 2] = w * v;
            if (terms == 6)
            {
                design[r, 3] = w * u * u;
                design[r, 4] = w * u * v;
                design[r, 5] = w * v * v;
            }
            // Fitting the displacement rather than the position keeps the unknowns small (better rounding).
            bx[r] = w * (m.Rx - m.Tx);
            by[r] = w * (m.Ry - m.Ty);
        }
        var qr = design.QR();
        var ax = qr.Solve(bx);
        var ay = qr.Solve(by);
        var px = Expand(ax, cx, cy, s);
        var py = Expand(ay, cx, cy, s);
        px[1] += 1;
        py[2] += 1;
        return [.. px, .. py];
    }

    /// <summary>Converts coefficients in u = (x - cx) / s, v = (y - cy) / s back to raw pixel coordinates.</summary>
    private static double[] Expand(Vector<double> a, double cx, double cy, double s)
    {
        double a0 = a[0], a1 = a[1], a2 = a[2];
        double a3 = a.Count > 3 ? a[3] : 0, a4 = a.Count > 3 ? a[4] : 0, a5 = a.Count > 3 ? a[5] : 0;
        double al = 1 / s, be = -cx / s, ga = -cy / s;
        return
        [
            a0 + a1 * be + a2 * ga + a3 * be * be + a4 * be * ga + a5 * ga * ga,
            a1 * al + 2 * a3 * al * be + a4 * al * ga,
            a2 * al + a4 * al * be + 2 * a5 * al * ga,
            a3 * al * al,
            a4 * al * al,
            a5 * al * al,
        ];
    }

    /// <summary>
    /// Robust fit: RANSAC over minimal samples (every triple when there are few points, else a fixed-seed random draw)
    /// scored by weighted truncated squared residuals (MSAC), then weighted least squares on the inliers, repeated until
    /// the inlier set settles. The translation model starts from the median displacement instead.
    /// </summary>
    public static ModelFit Robust(IReadOnlyList<Match> matches, RegistrationModel kind, double threshold, bool[]? start = null)
    {
        var n = matches.Count;
        double[] model;
        if (start is not null)
        {
            model = LeastSquares(matches, start, kind);
        }
        else if (kind == RegistrationModel.Translation)
        {
            model = Translation(Median(matches.Select(m => m.Rx - m.Tx)), Median(matches.Select(m => m.Ry - m.Ty)));
        }
        else
        {
            model = RansacAffine(matches, threshold);
            if (kind == RegistrationModel.Polynomial2)
            {
                model = LeastSquares(matches, Classify(matches, model, threshold).Inliers, RegistrationModel.Polynomial2);
            }
        }
        var minimum = kind switch { RegistrationModel.Translation => 1, RegistrationModel.Affine => 3, _ => 6 };
        var (inliers, residuals) = Classify(matches, model, threshold);
        for (var iteration = 0; iteration < 10; iteration++)
        {
            if (inliers.Count(b => b) < minimum)
            {
                break;
            }
            var refined = LeastSquares(matches, inliers, kind);
            var (next, nextResiduals) = Classify(matches, refined, threshold);
            model = refined;
            residuals = nextResiduals;
            if (next.SequenceEqual(inliers))
            {
                break;
            }
            inliers = next;
        }
        (inliers, residuals) = Classify(matches, model, threshold);

        // Data snooping: a match whose residual is large for its confidence is biased (moving shadows, changed ground),
        // not just noisy. Its residual scaled by sqrt(weight) is compared with the robust spread of all such scaled
        // residuals; points within a tenth of the threshold are always kept, so clean data is never thinned.
        for (var iteration = 0; iteration < 10; iteration++)
        {
            var scaled = Enumerable.Range(0, n).Where(i => inliers[i]).Select(i => residuals[i] * Math.Sqrt(matches[i].Weight)).ToList();
            if (scaled.Count < minimum + 1)
            {
                break;
            }
            // For isotropic 2-D Gaussian errors the distance is Rayleigh distributed: median = 1.1774 sigma.
            var sigma = Median(scaled) / 1.1774;
            var next = new bool[n];
            for (var i = 0; i < n; i++)
            {
                next[i] = residuals[i] <= threshold
                    && (residuals[i] <= 0.1 * threshold || residuals[i] * Math.Sqrt(matches[i].Weight) <= SnoopingLimit * sigma);
            }
            if (next.Count(b => b) < minimum || next.SequenceEqual(inliers))
            {
                break;
            }
            var refined = LeastSquares(matches, next, kind);
            inliers = next;
            model = refined;
            residuals = matches.Select(m => Residual(refined, m)).ToArray();
        }
        return new ModelFit(kind, model, inliers, residuals) { Weights = matches.Select(m => m.Weight).ToArray() };
    }

    /// <summary>Rejection limit in standard deviations (a Rayleigh tail of 0.2 %).</summary>
    private const double SnoopingLimit = 3.5;

    private static (bool[] Inliers, double[] Residuals) Classify(IReadOnlyList<Match> matches, double[] model, double threshold)
    {
        var inliers = new bool[matches.Count];
        var residuals = new double[matches.Count];
        for (var i = 0; i < matches.Count; i++)
        {
            residuals[i] = Residual(model, matches[i]);
            inliers[i] = residuals[i] <= threshold;
        }
        return (inliers, residuals);
    }

    private static double[] RansacAffine(IReadOnlyList<Match> matches, double threshold)
    {
        var n = matches.Count;
        if (n <= 3)
        {
            return n == 3 ? LeastSquares(matches, [true, true, true], RegistrationModel.Affine)
                : Translation(Median(matches.Select(m => m.Rx - m.Tx)), Median(matches.Select(m => m.Ry - m.Ty)));
        }
        const int maxSamples = 3000;
        var t2 = threshold * threshold;
        double[]? best = null;
        var bestCost = double.MaxValue;
        var combinations = (long)n * (n - 1) * (n - 2) / 6;
        var random = new Random(1234567);
        IEnumerable<(int, int, int)> Samples()
        {
            if (combinations <= maxSamples)
            {
                for (var i = 0; i < n; i++)
                {
                    for (var j = i + 1; j < n; j++)
                    {
                        for (var k = j + 1; k < n; k++)
                        {
                            yield return (i, j, k);
                        }
                    }
                }
            }
            else
            {
                for (var s = 0; s < maxSamples; s++)
                {
                    int i = random.Next(n), j = random.Next(n), k = random.Next(n);
                    if (i != j && j != k && i != k)
                    {
                        yield return (i, j, k);
                    }
                }
            }
        }
        foreach (var (i, j, k) in Samples())
        {
            var (a, b, c) = (matches[i], matches[j], matches[k]);
            // A nearly collinear triple fixes no affine; skip it.
            var area = Math.Abs((b.Tx - a.Tx) * (c.Ty - a.Ty) - (c.Tx - a.Tx) * (b.Ty - a.Ty));
            if (area < 1e-3 * (Sq(b.Tx - a.Tx) + Sq(b.Ty - a.Ty) + Sq(c.Tx - a.Tx) + Sq(c.Ty - a.Ty)) + 1e-9)
            {
                continue;
            }
            var model = AffineThrough(a, b, c);
            double cost = 0;
            for (var q = 0; q < n && cost < bestCost; q++)
            {
                var (x, y) = Apply(model, matches[q].Tx, matches[q].Ty);
                cost += matches[q].Weight * Math.Min(Sq(x - matches[q].Rx) + Sq(y - matches[q].Ry), t2);
            }
            if (cost < bestCost)
            {
                bestCost = cost;
                best = model;
            }
        }
        return best ?? Translation(Median(matches.Select(m => m.Rx - m.Tx)), Median(matches.Select(m => m.Ry - m.Ty)));
    }

    /// <summary>The affine through three correspondences (Cramer's rule on coordinates relative to the first).</summary>
    private static double[] AffineThrough(Match a, Match b, Match c)
    {
        double x1 = b.Tx - a.Tx, y1 = b.Ty - a.Ty, x2 = c.Tx - a.Tx, y2 = c.Ty - a.Ty;
        var det = x1 * y2 - x2 * y1;
        double u1 = b.Rx - a.Rx, u2 = c.Rx - a.Rx, v1 = b.Ry - a.Ry, v2 = c.Ry - a.Ry;
        var p1 = (u1 * y2 - u2 * y1) / det;
        var p2 = (x1 * u2 - x2 * u1) / det;
        var q1 = (v1 * y2 - v2 * y1) / det;
        var q2 = (x1 * v2 - x2 * v1) / det;
        return [a.Rx - p1 * a.Tx - p2 * a.Ty, p1, p2, 0, 0, 0, a.Ry - q1 * a.Tx - q2 * a.Ty, q1, q2, 0, 0, 0];
    }

    private static double Sq(double v) => v * v;

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
    }
}
