namespace SiteWatch.Demo.Plant;

/// <summary>Decides what a pixel covered (fully or partly) by a shape becomes.</summary>
internal interface IPaint
{
    /// <param name="canvas">Target.</param>
    /// <param name="index">Pixel index row * width + col.</param>
    /// <param name="x">Local easting (m from the plant centre) of the pixel centre.</param>
    /// <param name="y">Local northing of the pixel centre.</param>
    /// <param name="coverage">Fraction of the pixel inside the shape, (0, 1].</param>
    void Apply(SceneCanvas canvas, int index, double x, double y, float coverage);
}

/// <summary>
/// Four float reflectance planes sampled on one scene's (shifted) pixel grid, plus a shadow mask plane.
/// Everything is drawn in local plant metres; the canvas maps them to pixels with the true misregistration.
/// </summary>
internal sealed class SceneCanvas
{
    private readonly CoverageRasterizer _raster = new();
    private readonly double _gsd;
    private readonly double _invGsd;
    private readonly double _ox;
    private readonly double _oy;
    private double[] _ringScratch = new double[256];
    private int _shadowX0;
    private int _shadowY0;
    private int _shadowX1;
    private int _shadowY1;

    /// <param name="width">Columns.</param>
    /// <param name="height">Rows.</param>
    /// <param name="gsd">Metres per pixel.</param>
    /// <param name="originX">Claimed UTM easting of the upper-left corner.</param>
    /// <param name="originY">Claimed UTM northing of the upper-left corner.</param>
    /// <param name="centreX">UTM easting of the local origin (plant centre).</param>
    /// <param name="centreY">UTM northing of the local origin.</param>
    /// <param name="shiftX">True misregistration in pixels (content sampled at col + shiftX).</param>
    /// <param name="shiftY">True misregistration in pixels (content sampled at row + shiftY).</param>
    public SceneCanvas(int width, int height, double gsd, double originX, double originY,
        double centreX, double centreY, double shiftX, double shiftY)
    {
        Width = width;
        Height = height;
        _gsd = gsd;
        _invGsd = 1.0 / gsd;
        // Pixel coordinate of a local point: px = x / gsd + ox, py = -y / gsd + oy.
        _ox = (centreX - originX) / gsd - shiftX;
        _oy = (originY - centreY) / gsd - shiftY;
        B = new float[width * height];
        G = new float[width * height];
        R = new float[width * height];
        N = new float[width * height];
        ShadowMask = new float[width * height];
        OccluderMask = new float[width * height];
        ResetShadowBounds();
    }

    public int Width { get; }

    public int Height { get; }

    public float[] B { get; }

    public float[] G { get; }

    public float[] R { get; }

    public float[] N { get; }

    /// <summary>Union of shadow coverage waiting to be applied (max of coverages, so overlaps do not double-darken).</summary>
    public float[] ShadowMask { get; }

    /// <summary>
    /// Coverage of the footprints of the objects casting the pending shadows. Their shadow hulls contain
    /// their own footprints, which the objects will cover when drawn; only the rest of a pixel may darken.
    /// </summary>
    public float[] OccluderMask { get; }

    /// <summary>Local easting of the centre of pixel column <paramref name="col"/>.</summary>
    public double LocalX(int col) => (col + 0.5 - _ox) * _gsd;

    /// <summary>Local northing of the centre of pixel row <paramref name="row"/>.</summary>
    public double LocalY(int row) => (_oy - row - 0.5) * _gsd;

    public double PixelX(double x) => x * _invGsd + _ox;

    public double PixelY(double y) => -y * _invGsd + _oy;

    public void Blend(int i, in Spectrum s, float a)
    {
        B[i] += a * (s.B - B[i]);
        G[i] += a * (s.G - G[i]);
        R[i] += a * (s.R - R[i]);
        N[i] += a * (s.N - N[i]);
    }

    public void Set(int i, in Spectrum s)
    {
        B[i] = s.B;
        G[i] = s.G;
        R[i] = s.R;
        N[i] = s.N;
    }

    /// <summary>Rasterises <paramref name="shape"/> with exact coverage and hands each touched pixel to the paint.</summary>
    public void Fill<TPaint>(Shape shape, ref TPaint paint)
        where TPaint : struct, IPaint
    {
        double minPx = PixelX(shape.MinX), maxPx = PixelX(shape.MaxX);
        double minPy = PixelY(shape.MaxY), maxPy = PixelY(shape.MinY);
        if (!_raster.Begin(minPx, minPy, maxPx, maxPy, Width, Height))
        {
            return;
        }

        foreach (var ring in shape.Rings)
        {
            if (_ringScratch.Length < ring.Length)
            {
                _ringScratch = new double[ring.Length * 2];
            }

            for (int i = 0; i < ring.Length; i += 2)
            {
                _ringScratch[i] = PixelX(ring[i]);
                _ringScratch[i + 1] = PixelY(ring[i + 1]);
            }

            _raster.AddRing(_ringScratch.AsSpan(0, ring.Length));
        }

        int x0 = _raster.X0, y0 = _raster.Y0, w = _raster.W, h = _raster.H, stride = _raster.Stride;
        float[] acc = _raster.Buffer;
        for (int r = 0; r < h; r++)
        {
            int row = y0 + r;
            double y = LocalY(row);
            int line = r * stride;
            int pix = row * Width + x0;
            float sum = 0;
            for (int c = 0; c < w; c++)
            {
                sum += acc[line + c];
                acc[line + c] = 0;
                float cov = Math.Abs(sum);
                if (cov < 1e-3f)
                {
                    continue;
                }

                paint.Apply(this, pix + c, LocalX(x0 + c), y, cov > 1f ? 1f : cov);
            }

            acc[line + w] = 0;
            acc[line + w + 1] = 0;
        }
    }

    public void Fill<TPaint>(Shape shape, TPaint paint)
        where TPaint : struct, IPaint => Fill(shape, ref paint);

    /// <summary>
    /// Adds a shadow to the pending shadow mask; <paramref name="standingOn"/> is the footprint of the
    /// caster when it stands on the ground (and will be drawn over its own shadow), null when elevated.
    /// </summary>
    public void AddShadow(Shape shadow, Shape? standingOn)
    {
        var paint = new MaskPaint(occluder: false);
        Fill(shadow, ref paint);
        if (standingOn is not null)
        {
            paint = new MaskPaint(occluder: true);
            Fill(standingOn, ref paint);
        }
    }

    internal void MarkShadow(int index, float coverage, bool occluder)
    {
        var mask = occluder ? OccluderMask : ShadowMask;
        if (coverage > mask[index])
        {
            mask[index] = coverage;
        }

        int row = index / Width, col = index - row * Width;
        _shadowX0 = Math.Min(_shadowX0, col);
        _shadowX1 = Math.Max(_shadowX1, col + 1);
        _shadowY0 = Math.Min(_shadowY0, row);
        _shadowY1 = Math.Max(_shadowY1, row + 1);
    }

    /// <summary>
    /// Darkens everything under the pending shadow mask to the diffuse (sky) share of illumination and
    /// clears the masks. In a pixel partly covered by a caster, the shadowed share of the uncovered rest is
    /// (shadow - caster) / (1 - caster); without this the ground beside a building's edge would darken.
    /// </summary>
    public void ApplyShadows(Spectrum diffuse)
    {
        for (int row = _shadowY0; row < _shadowY1; row++)
        {
            int i0 = row * Width + _shadowX0, i1 = row * Width + _shadowX1;
            for (int i = i0; i < i1; i++)
            {
                float m = ShadowMask[i], o = OccluderMask[i];
                ShadowMask[i] = 0;
                OccluderMask[i] = 0;
                if (o > 0)
                {
                    m = o >= 0.999f ? 0f : Math.Max(0f, (m - o) / (1f - o));
                }

                if (m <= 0)
                {
                    continue;
                }

                B[i] *= 1f - m * (1f - diffuse.B);
                G[i] *= 1f - m * (1f - diffuse.G);
                R[i] *= 1f - m * (1f - diffuse.R);
                N[i] *= 1f - m * (1f - diffuse.N);
            }
        }

        ResetShadowBounds();
    }

    private void ResetShadowBounds()
    {
        _shadowX0 = int.MaxValue;
        _shadowY0 = int.MaxValue;
        _shadowX1 = int.MinValue;
        _shadowY1 = int.MinValue;
    }

    private readonly struct MaskPaint(bool occluder) : IPaint
    {
        public void Apply(SceneCanvas canvas, int index, double x, double y, float coverage) =>
            canvas.MarkShadow(index, coverage, occluder);
    }
}
