using System.Numerics;
using OpenCvSharp;

namespace SiteWatch.Core.Registration;

/// <summary>Where the content of one image lies in another: displacement in pixels and the peak response (0..1).</summary>
internal readonly record struct CorrelationPeak(double Dx, double Dy, double Response);

/// <summary>
/// Sub-pixel translation between two equally sized images by phase correlation. The whitened cross-power spectrum is
/// tapered by a radial low-pass (the highest frequencies of resampled, noisy imagery carry mostly noise and aliasing)
/// and the correlation surface is evaluated at fractional offsets as an exact band-limited sum (matrix-multiply DFT,
/// as Guizar-Sicairos et al. 2008), so the sub-pixel peak has no interpolation bias, unlike centroid or parabola fits.
/// One instance serves one image size; not thread-safe.
/// </summary>
internal sealed class PhaseCorrelator : IDisposable
{
    private readonly int _width;
    private readonly int _height;
    private readonly float[] _hann;
    private readonly float[] _weight;
    private readonly double _weightSum;
    private readonly int[] _freqX;
    private readonly int[] _freqY;
    /// <summary>Per spectrum row, the columns the low-pass keeps (rows it removes entirely are absent).</summary>
    private readonly (int Row, int[] Columns)[] _passband;
    private readonly Mat _spatial;
    private readonly Mat _spectrumA = new();
    private readonly Mat _spectrumB = new();
    private readonly Mat _surface = new();

    // Before the field initialisers above make the first OpenCV call.
    static PhaseCorrelator() => OpenCvLoadOrder.Ensure();

    /// <param name="lowPassStart">Normalised radial frequency (1 = Nyquist) up to which all frequencies count fully.</param>
    /// <param name="lowPassEnd">Normalised radial frequency beyond which frequencies are ignored (raised-cosine taper between).</param>
    public PhaseCorrelator(int width, int height, double lowPassStart = 0.35, double lowPassEnd = 0.75)
    {
        if (width < 8 || height < 8)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"Phase correlation needs at least 8 x 8 pixels, not {width} x {height}.");
        }
        _width = width;
        _height = height;
        _hann = BuildHann(width, height);
        _freqX = SignedFrequencies(width);
        _freqY = SignedFrequencies(height);
        _weight = new float[width * height];
        double sum = 0;
        for (var ky = 0; ky < height; ky++)
        {
            for (var kx = 0; kx < width; kx++)
            {
                var fx = _freqX[kx] / (width / 2.0);
                var fy = _freqY[ky] / (height / 2.0);
                var rho = Math.Sqrt(fx * fx + fy * fy);
                // DC carries no position; the Nyquist bins have no defined sign (marked int.MinValue).
                double w = (kx == 0 && ky == 0) || _freqX[kx] == int.MinValue || _freqY[ky] == int.MinValue ? 0
                    : rho <= lowPassStart ? 1
                    : rho >= lowPassEnd ? 0
                    : 0.5 * (1 + Math.Cos(Math.PI * (rho - lowPassStart) / (lowPassEnd - lowPassStart)));
                _weight[ky * width + kx] = (float)w;
                sum += w;
            }
        }
        _weightSum = sum;
        var passband = new List<(int, int[])>();
        for (var ky = 0; ky < height; ky++)
        {
            var columns = Enumerable.Range(0, width).Where(kx => _weight[ky * width + kx] > 0).ToArray();
            if (columns.Length > 0)
            {
                passband.Add((ky, columns));
            }
        }
        _passband = passband.ToArray();
        _spatial = new Mat(height, width, MatType.CV_32FC1);
    }

    public int Width => _width;
    public int Height => _height;

    /// <summary>
    /// Turns a texture image into correlation input: removes the mean of the valid pixels, zeroes invalid ones and
    /// apodises with a Hann window (so the image edges do not correlate). Returns the valid fraction and the standard
    /// deviation of the valid pixels (0 = no texture at all).
    /// </summary>
    public (double ValidFraction, double StdDev) Prepare(ReadOnlySpan<float> texture, ReadOnlySpan<byte> valid, Span<float> output)
    {
        var n = _width * _height;
        double sum = 0, sumSq = 0;
        var count = 0;
        for (var i = 0; i < n; i++)
        {
            if (valid[i] != 0)
            {
                sum += texture[i];
                count++;
            }
        }
        if (count == 0)
        {
            output[..n].Clear();
            return (0, 0);
        }
        var mean = sum / count;
        for (var i = 0; i < n; i++)
        {
            if (valid[i] != 0)
            {
                var d = texture[i] - mean;
                sumSq += d * d;
                output[i] = (float)(d * _hann[i]);
            }
            else
            {
                output[i] = 0;
            }
        }
        return (count / (double)n, Math.Sqrt(sumSq / count));
    }

    /// <summary>
    /// Displacement (Dx, Dy) such that the content at pixel p of <paramref name="a"/> appears at p + (Dx, Dy) in
    /// <paramref name="b"/>, for inputs made by <see cref="Prepare"/>. Response is the correlation peak as a fraction of
    /// its value for identical images.
    /// </summary>
    public CorrelationPeak Correlate(float[] a, float[] b)
    {
        var n = _width * _height;
        var fa = Forward(a, _spectrumA);
        var fb = Forward(b, _spectrumB);
        var cross = new Vec2f[n];
        var spectrum = new Complex[n];
        double maxMagnitude = 0;
        for (var i = 0; i < n; i++)
        {
            // b * conj(a): a shift of +d from a to b makes this e^{-2 pi i k d / N}, whose inverse transform peaks at +d.
            var re = (double)fb[i].Item0 * fa[i].Item0 + (double)fb[i].Item1 * fa[i].Item1;
            var im = (double)fb[i].Item1 * fa[i].Item0 - (double)fb[i].Item0 * fa[i].Item1;
            spectrum[i] = new Complex(re, im);
            maxMagnitude = Math.Max(maxMagnitude, Math.Abs(re) + Math.Abs(im));
        }
        if (maxMagnitude == 0 || _weightSum == 0)
        {
            return new CorrelationPeak(0, 0, 0);
        }
        var floor = maxMagnitude * 1e-9;
        for (var i = 0; i < n; i++)
        {
            var z = spectrum[i];
            var m = z.Magnitude;
            var r = m > floor && _weight[i] > 0 ? z * (_weight[i] / m) : Complex.Zero;
            spectrum[i] = r;
            cross[i] = new Vec2f((float)r.Real, (float)r.Imaginary);
        }

        using (var crossMat = new Mat(_height, _width, MatType.CV_32FC2))
        {
            crossMat.SetArray(cross);
            Cv2.Dft(crossMat, _surface, DftFlags.Inverse);
        }
        _surface.GetArray(out Vec2f[] surface);
        var best = 0;
        for (var i = 1; i < n; i++)
        {
            if (surface[i].Item0 > surface[best].Item0)
            {
                best = i;
            }
        }
        double px = best % _width, py = best / _width;
        if (px > _width / 2)
        {
            px -= _width;
        }
        if (py > _height / 2)
        {
            py -= _height;
        }
        return Refine(spectrum, px, py);
    }

    private Vec2f[] Forward(float[] image, Mat spectrum)
    {
        _spatial.SetArray(image);
        Cv2.Dft(_spatial, spectrum, DftFlags.ComplexOutput);
        spectrum.GetArray(out Vec2f[] data);
        return data;
    }

    /// <summary>
    /// Finds the maximum of the continuous correlation surface near an integer peak: a 0.1 px grid over +-0.6 px (moved
    /// along if the maximum sits on its edge), a 0.01 px grid over +-0.06 px, then a parabola through the finest samples.
    /// </summary>
    private CorrelationPeak Refine(Complex[] spectrum, double px, double py)
    {
        const int half = 6;
        const int steps = 2 * half + 1;
        double cx = px, cy = py;
        double bestValue = double.MinValue;
        var xs = new double[steps];
        var ys = new double[steps];
        foreach (var step in new[] { 0.1, 0.01 })
        {
            for (var attempt = 0; attempt < 4; attempt++)
            {
                for (var m = 0; m < steps; m++)
                {
                    xs[m] = cx + (m - half) * step;
                    ys[m] = cy + (m - half) * step;
                }
                var grid = Evaluate(spectrum, xs, ys);
                int bi = half, bj = half;
                bestValue = double.MinValue;
                for (var j = 0; j < steps; j++)
                {
                    for (var i = 0; i < steps; i++)
                    {
                        if (grid[j, i] > bestValue)
                        {
                            bestValue = grid[j, i];
                            bi = i;
                            bj = j;
                        }
                    }
                }
                var onEdge = bi == 0 || bi == steps - 1 || bj == 0 || bj == steps - 1;
                cx = xs[bi];
                cy = ys[bj];
                if (onEdge && attempt < 3)
                {
                    continue;
                }
                if (step == 0.01)
                {
                    // Parabolic interpolation between the 0.01 px samples; the surface is smooth at this scale.
                    cx += (bi is > 0 and < steps - 1 ? ParabolaOffset(grid[bj, bi - 1], grid[bj, bi], grid[bj, bi + 1]) : 0) * step;
                    cy += (bj is > 0 and < steps - 1 ? ParabolaOffset(grid[bj - 1, bi], grid[bj, bi], grid[bj + 1, bi]) : 0) * step;
                }
                break;
            }
        }
        return new CorrelationPeak(cx, cy, Math.Max(0, bestValue / _weightSum));
    }

    private static double ParabolaOffset(double left, double centre, double right)
    {
        var denominator = left - 2 * centre + right;
        return denominator < 0 ? Math.Clamp(0.5 * (left - right) / denominator, -0.5, 0.5) : 0;
    }

    /// <summary>
    /// Re of the inverse DFT of the spectrum at fractional positions xs x ys, computed separably and only over the
    /// frequencies the low-pass keeps.
    /// </summary>
    private double[,] Evaluate(Complex[] spectrum, double[] xs, double[] ys)
    {
        var mx = xs.Length;
        var ex = new Complex[_width * mx];
        for (var kx = 0; kx < _width; kx++)
        {
            var f = _freqX[kx] == int.MinValue ? 0 : _freqX[kx];
            for (var m = 0; m < mx; m++)
            {
                ex[kx * mx + m] = Complex.FromPolarCoordinates(1, 2 * Math.PI * f * xs[m] / _width);
            }
        }
        var result = new double[ys.Length, mx];
        var partialRe = new double[mx];
        var partialIm = new double[mx];
        foreach (var (ky, columns) in _passband)
        {
            Array.Clear(partialRe);
            Array.Clear(partialIm);
            var row = ky * _width;
            foreach (var kx in columns)
            {
                var s = spectrum[row + kx];
                var o = kx * mx;
                for (var m = 0; m < mx; m++)
                {
                    var e = ex[o + m];
                    partialRe[m] += s.Real * e.Real - s.Imaginary * e.Imaginary;
                    partialIm[m] += s.Real * e.Imaginary + s.Imaginary * e.Real;
                }
            }
            var f = _freqY[ky] == int.MinValue ? 0 : _freqY[ky];
            for (var j = 0; j < ys.Length; j++)
            {
                var (sin, cos) = Math.SinCos(2 * Math.PI * f * ys[j] / _height);
                for (var m = 0; m < mx; m++)
                {
                    result[j, m] += partialRe[m] * cos - partialIm[m] * sin;
                }
            }
        }
        return result;
    }

    public void Dispose()
    {
        _spatial.Dispose();
        _spectrumA.Dispose();
        _spectrumB.Dispose();
        _surface.Dispose();
    }

    private static int[] SignedFrequencies(int n)
    {
        var f = new int[n];
        for (var k = 0; k < n; k++)
        {
            f[k] = n % 2 == 0 && k == n / 2 ? int.MinValue : k <= n / 2 ? k : k - n;
        }
        return f;
    }

    private static float[] BuildHann(int width, int height)
    {
        // Periodic-symmetric Hann about the window centre (width / 2 in corner coordinates), so a window's measured
        // displacement belongs to its geometric centre.
        var wx = new double[width];
        var wy = new double[height];
        for (var i = 0; i < width; i++)
        {
            wx[i] = 0.5 * (1 - Math.Cos(2 * Math.PI * (i + 0.5) / width));
        }
        for (var j = 0; j < height; j++)
        {
            wy[j] = 0.5 * (1 - Math.Cos(2 * Math.PI * (j + 0.5) / height));
        }
        var hann = new float[width * height];
        for (var j = 0; j < height; j++)
        {
            for (var i = 0; i < width; i++)
            {
                hann[j * width + i] = (float)(wx[i] * wy[j]);
            }
        }
        return hann;
    }
}
