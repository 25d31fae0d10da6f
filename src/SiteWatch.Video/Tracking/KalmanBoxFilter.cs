namespace SiteWatch.Video.Tracking;

/// <summary>
/// Constant-velocity Kalman filter on a box's centre x, centre y, aspect ratio (w/h) and height, with the noise model
/// of DeepSORT/ByteTrack (standard deviations proportional to the box height). With that model the transition,
/// measurement and noise matrices act on each of the four quantities separately, so the 8 x 8 covariance is exactly
/// four independent 2 x 2 (value, velocity) blocks; that is how it is stored. Time is in frames. One departure: a new
/// track's velocity is far less certain (half its height per frame, not a sixteenth), so a fast object seen only
/// every Nth frame gets its velocity from its second and third detections rather than after dozens.
/// </summary>
public sealed class KalmanBoxFilter
{
    private const double PositionWeight = 1.0 / 20;
    private const double VelocityWeight = 1.0 / 160;
    private const double InitialVelocityWeight = 0.5;

    // Per quantity (x, y, a, h): value, velocity and the covariance block [[P00, P01], [P01, P11]].
    private readonly double[] _value = new double[4];
    private readonly double[] _velocity = new double[4];
    private readonly double[] _p00 = new double[4];
    private readonly double[] _p01 = new double[4];
    private readonly double[] _p11 = new double[4];

    public KalmanBoxFilter(PixelBox box)
    {
        var m = Measure(box);
        var h = m[3];
        for (var i = 0; i < 4; i++)
        {
            _value[i] = m[i];
            var sp = i == 2 ? 1e-2 : 2 * PositionWeight * h;
            var sv = i == 2 ? 1e-5 : InitialVelocityWeight * h;
            _p00[i] = sp * sp;
            _p11[i] = sv * sv;
        }
    }

    public PixelBox Box => ToBox(_value[0], _value[1], _value[2], _value[3]);

    /// <summary>Centre velocity in pixels per frame.</summary>
    public (double X, double Y) Velocity => (_velocity[0], _velocity[1]);

    /// <summary>The box <paramref name="frames"/> frames ahead, without changing the state.</summary>
    public PixelBox Peek(double frames) =>
        ToBox(_value[0] + frames * _velocity[0], _value[1] + frames * _velocity[1], _value[2] + frames * _velocity[2], Math.Max(1, _value[3] + frames * _velocity[3]));

    /// <summary>Moves the state <paramref name="frames"/> frames ahead and grows its uncertainty.</summary>
    public void Predict(double frames = 1)
    {
        var h = Math.Max(1, _value[3]);
        for (var i = 0; i < 4; i++)
        {
            var qp = i == 2 ? 1e-2 : PositionWeight * h;
            var qv = i == 2 ? 1e-5 : VelocityWeight * h;
            _value[i] += frames * _velocity[i];
            _p00[i] += frames * (2 * _p01[i] + frames * _p11[i]) + frames * qp * qp;
            _p01[i] += frames * _p11[i];
            _p11[i] += frames * qv * qv;
        }

        _value[3] = Math.Max(1, _value[3]);
    }

    /// <summary>
    /// Moves the box by the camera's own motion between two frames (the picture of a still ground point moved by
    /// (dx, dy)), so the velocity keeps only the object's motion over the ground.
    /// </summary>
    public void Shift(double dx, double dy)
    {
        _value[0] += dx;
        _value[1] += dy;
    }

    /// <summary>Corrects the state with a measured box.</summary>
    public void Update(PixelBox box)
    {
        var m = Measure(box);
        var h = Math.Max(1, _value[3]);
        for (var i = 0; i < 4; i++)
        {
            var r = i == 2 ? 1e-1 : PositionWeight * h;
            var s = _p00[i] + r * r;
            var k0 = _p00[i] / s;
            var k1 = _p01[i] / s;
            var innovation = m[i] - _value[i];
            _value[i] += k0 * innovation;
            _velocity[i] += k1 * innovation;
            var p00 = _p00[i];
            var p01 = _p01[i];
            _p00[i] = (1 - k0) * p00;
            _p01[i] = (1 - k0) * p01;
            _p11[i] -= k1 * p01;
        }
    }

    private static double[] Measure(PixelBox box)
    {
        var h = Math.Max(1, box.Height);
        return [box.CentreX, box.CentreY, Math.Max(1e-3, box.Width) / h, h];
    }

    private static PixelBox ToBox(double x, double y, double aspect, double height) => new(x, y, aspect * height, height);
}
