namespace SiteWatch.Demo.Plant;

/// <summary>
/// Exact-area anti-aliased polygon rasteriser (signed-area accumulation as in font-rs / stb_truetype):
/// each edge deposits the signed area it sweeps in every pixel it crosses, and a running sum along a row
/// gives each pixel's exact coverage. Sub-pixel geometry, and thus sub-pixel misregistration, survives.
/// The accumulation buffer only spans the shape's clipped bounding box and is reused between shapes.
/// </summary>
internal sealed class CoverageRasterizer
{
    private float[] _acc = new float[1 << 16];
    private int _w;
    private int _h;

    /// <summary>Left column of the current bounding box in image pixels.</summary>
    public int X0 { get; private set; }

    /// <summary>Top row of the current bounding box in image pixels.</summary>
    public int Y0 { get; private set; }

    public int W => _w;

    public int H => _h;

    /// <summary>Row stride of <see cref="Buffer"/>: two spare columns take the deposits of edges on the right bound.</summary>
    public int Stride => _w + 2;

    /// <summary>Accumulated signed areas; consumers prefix-sum each row and must zero what they read.</summary>
    public float[] Buffer => _acc;

    /// <summary>Starts a shape whose pixel-space bounds are given; returns false when it misses the image.</summary>
    public bool Begin(double minX, double minY, double maxX, double maxY, int imageWidth, int imageHeight)
    {
        if (!(minX <= maxX && minY <= maxY) || double.IsInfinity(minX) || double.IsInfinity(maxY))
        {
            return false;
        }

        int x0 = (int)Math.Floor(Math.Clamp(minX, 0, imageWidth));
        int x1 = (int)Math.Ceiling(Math.Clamp(maxX, 0, imageWidth));
        int y0 = (int)Math.Floor(Math.Clamp(minY, 0, imageHeight));
        int y1 = (int)Math.Ceiling(Math.Clamp(maxY, 0, imageHeight));
        if (x1 <= x0 || y1 <= y0)
        {
            return false;
        }

        X0 = x0;
        Y0 = y0;
        _w = x1 - x0;
        _h = y1 - y0;
        int needed = (_w + 2) * _h;
        if (needed > _acc.Length)
        {
            _acc = new float[Math.Max(needed, _acc.Length * 2)];
        }

        return true;
    }

    /// <summary>Adds one closed ring given as interleaved x,y in image pixel coordinates.</summary>
    public void AddRing(ReadOnlySpan<double> xy)
    {
        int n = xy.Length / 2;
        if (n < 3)
        {
            return;
        }

        double ox = X0, oy = Y0;
        double px = xy[2 * (n - 1)] - ox, py = xy[2 * (n - 1) + 1] - oy;
        for (int i = 0; i < n; i++)
        {
            double x = xy[2 * i] - ox, y = xy[2 * i + 1] - oy;
            AddEdge(px, py, x, y);
            px = x;
            py = y;
        }
    }

    private void AddEdge(double xa, double ya, double xb, double yb)
    {
        double w = _w;
        if (xa >= 0 && xa <= w && xb >= 0 && xb <= w)
        {
            Line(xa, ya, xb, yb);
            return;
        }

        if (ya == yb)
        {
            return;
        }

        // Split where the edge leaves the box sideways: left of the box its whole area lands in column 0,
        // right of it in the spare column, which is what clamping each piece's x does.
        double t1 = 2, t2 = 2;
        if ((xa < 0) != (xb < 0))
        {
            t1 = -xa / (xb - xa);
        }

        if ((xa > w) != (xb > w))
        {
            t2 = (w - xa) / (xb - xa);
        }

        if (t2 < t1)
        {
            (t1, t2) = (t2, t1);
        }

        double prevT = 0;
        double prevX = Math.Clamp(xa, 0, w), prevY = ya;
        for (int k = 0; k < 3; k++)
        {
            double t = k == 0 ? t1 : k == 1 ? t2 : 1;
            if (t > 1)
            {
                t = 1;
            }

            if (t <= prevT && k < 2)
            {
                continue;
            }

            double x = Math.Clamp(xa + (xb - xa) * t, 0, w);
            double y = ya + (yb - ya) * t;
            Line(prevX, prevY, x, y);
            prevT = t;
            prevX = x;
            prevY = y;
            if (t >= 1)
            {
                break;
            }
        }
    }

    private void Line(double x0, double y0, double x1, double y1)
    {
        if (y0 == y1)
        {
            return;
        }

        double dir;
        if (y0 < y1)
        {
            dir = 1;
        }
        else
        {
            dir = -1;
            (x0, x1) = (x1, x0);
            (y0, y1) = (y1, y0);
        }

        double dxdy = (x1 - x0) / (y1 - y0);
        double x = x0;
        int yStart;
        if (y0 < 0)
        {
            x -= y0 * dxdy;
            yStart = 0;
        }
        else
        {
            yStart = (int)y0;
        }

        int yEnd = (int)Math.Min(_h, Math.Ceiling(y1));
        int stride = _w + 2;
        var acc = _acc;
        for (int y = yStart; y < yEnd; y++)
        {
            int line = y * stride;
            double dy = Math.Min(y + 1, y1) - Math.Max(y, y0);
            // Clamp against round-off so an edge on the box bound never indexes outside its row.
            double xNext = Math.Clamp(x + dxdy * dy, 0, _w);
            x = Math.Clamp(x, 0, _w);
            double d = dy * dir;
            double xa, xb;
            if (x < xNext)
            {
                xa = x;
                xb = xNext;
            }
            else
            {
                xa = xNext;
                xb = x;
            }

            double xaFloor = Math.Floor(xa);
            int xai = (int)xaFloor;
            double xbCeil = Math.Ceiling(xb);
            int xbi = (int)xbCeil;
            if (xbi <= xai + 1)
            {
                // The edge stays within one pixel column on this row: split by its mean x.
                double xmf = 0.5 * (x + xNext) - xaFloor;
                acc[line + xai] += (float)(d - d * xmf);
                acc[line + xai + 1] += (float)(d * xmf);
            }
            else
            {
                double s = 1.0 / (xb - xa);
                double xaf = xa - xaFloor;
                double a0 = 0.5 * s * (1 - xaf) * (1 - xaf);
                double xbf = xb - xbCeil + 1.0;
                double am = 0.5 * s * xbf * xbf;
                acc[line + xai] += (float)(d * a0);
                if (xbi == xai + 2)
                {
                    acc[line + xai + 1] += (float)(d * (1.0 - a0 - am));
                }
                else
                {
                    double a1 = s * (1.5 - xaf);
                    acc[line + xai + 1] += (float)(d * (a1 - a0));
                    for (int xi = xai + 2; xi < xbi - 1; xi++)
                    {
                        acc[line + xi] += (float)(d * s);
                    }

                    double a2 = a1 + (xbi - xai - 3) * s;
                    acc[line + xbi - 1] += (float)(d * (1.0 - a2 - am));
                }

                acc[line + xbi] += (float)(d * am);
            }

            x = xNext;
        }
    }
}
