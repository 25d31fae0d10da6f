namespace SiteWatch.Video.Geo;

/// <summary>A 3-vector of doubles (System.Numerics is single precision, far too coarse for ECEF metres).</summary>
public readonly record struct Vec3(double X, double Y, double Z)
{
    public static Vec3 operator +(Vec3 a, Vec3 b) => new(a.X + b.X, a.Y + b.Y, a.Z + b.Z);
    public static Vec3 operator -(Vec3 a, Vec3 b) => new(a.X - b.X, a.Y - b.Y, a.Z - b.Z);
    public static Vec3 operator -(Vec3 a) => new(-a.X, -a.Y, -a.Z);
    public static Vec3 operator *(double s, Vec3 a) => new(s * a.X, s * a.Y, s * a.Z);
    public static Vec3 operator *(Vec3 a, double s) => new(s * a.X, s * a.Y, s * a.Z);
    public static Vec3 operator /(Vec3 a, double s) => new(a.X / s, a.Y / s, a.Z / s);

    public double Dot(Vec3 b) => X * b.X + Y * b.Y + Z * b.Z;

    public Vec3 Cross(Vec3 b) => new(Y * b.Z - Z * b.Y, Z * b.X - X * b.Z, X * b.Y - Y * b.X);

    public double Length => Math.Sqrt(X * X + Y * Y + Z * Z);

    public Vec3 Normalized()
    {
        var length = Length;
        return length > 0 ? this / length : this;
    }

    public override string ToString() => FormattableString.Invariant($"({X:0.###}, {Y:0.###}, {Z:0.###})");
}

/// <summary>A row-major 3x3 matrix, used for rotations (columns are the rotated frame's axes).</summary>
public readonly record struct Mat3(
    double M11, double M12, double M13,
    double M21, double M22, double M23,
    double M31, double M32, double M33)
{
    public static Mat3 Identity => new(1, 0, 0, 0, 1, 0, 0, 0, 1);

    /// <summary>The matrix whose columns are <paramref name="c1"/>, <paramref name="c2"/>, <paramref name="c3"/>.</summary>
    public static Mat3 FromColumns(Vec3 c1, Vec3 c2, Vec3 c3) =>
        new(c1.X, c2.X, c3.X, c1.Y, c2.Y, c3.Y, c1.Z, c2.Z, c3.Z);

    public Vec3 Column1 => new(M11, M21, M31);
    public Vec3 Column2 => new(M12, M22, M32);
    public Vec3 Column3 => new(M13, M23, M33);

    public static Vec3 operator *(Mat3 m, Vec3 v) => new(
        m.M11 * v.X + m.M12 * v.Y + m.M13 * v.Z,
        m.M21 * v.X + m.M22 * v.Y + m.M23 * v.Z,
        m.M31 * v.X + m.M32 * v.Y + m.M33 * v.Z);

    public static Mat3 operator *(Mat3 a, Mat3 b) => new(
        a.M11 * b.M11 + a.M12 * b.M21 + a.M13 * b.M31, a.M11 * b.M12 + a.M12 * b.M22 + a.M13 * b.M32, a.M11 * b.M13 + a.M12 * b.M23 + a.M13 * b.M33,
        a.M21 * b.M11 + a.M22 * b.M21 + a.M23 * b.M31, a.M21 * b.M12 + a.M22 * b.M22 + a.M23 * b.M32, a.M21 * b.M13 + a.M22 * b.M23 + a.M23 * b.M33,
        a.M31 * b.M11 + a.M32 * b.M21 + a.M33 * b.M31, a.M31 * b.M12 + a.M32 * b.M22 + a.M33 * b.M32, a.M31 * b.M13 + a.M32 * b.M23 + a.M33 * b.M33);

    public Mat3 Transpose() => new(M11, M21, M31, M12, M22, M32, M13, M23, M33);

    /// <summary>Right-handed rotation by <paramref name="angle"/> radians about x.</summary>
    public static Mat3 RotationX(double angle)
    {
        var (s, c) = Math.SinCos(angle);
        return new(1, 0, 0, 0, c, -s, 0, s, c);
    }

    /// <summary>Right-handed rotation by <paramref name="angle"/> radians about y.</summary>
    public static Mat3 RotationY(double angle)
    {
        var (s, c) = Math.SinCos(angle);
        return new(c, 0, s, 0, 1, 0, -s, 0, c);
    }

    /// <summary>Right-handed rotation by <paramref name="angle"/> radians about z.</summary>
    public static Mat3 RotationZ(double angle)
    {
        var (s, c) = Math.SinCos(angle);
        return new(c, -s, 0, s, c, 0, 0, 0, 1);
    }
}
