using System.Globalization;

namespace SiteWatch.Core.Registration;

/// <summary>
/// One matched window: the target position and the reference position showing the same ground, in continuous pixel
/// coordinates ((0,0) = upper-left corner of pixel (0,0), GDAL's convention).
/// </summary>
/// <param name="Response">Phase-correlation peak of the window (0..1).</param>
public sealed record TiePoint(double TargetX, double TargetY, double ReferenceX, double ReferenceY, double Response)
{
    /// <summary>Whether the final model kept this point.</summary>
    public bool Inlier { get; init; }

    /// <summary>Distance between the reference position and where the final model puts the target position, pixels.</summary>
    public double ResidualPixels { get; init; }
}

/// <summary>
/// The fitted mapping from target pixels to reference pixels (continuous pixel coordinates, (0,0) = upper-left corner
/// of pixel (0,0)) and how far it can be trusted.
/// </summary>
public sealed record CoRegistrationResult
{
    /// <summary>Grid size the model applies to (reference and target share it).</summary>
    public required int Width { get; init; }

    public required int Height { get; init; }

    /// <summary>
    /// Displacement target -> reference at the scene centre, pixels: content at target column x lies at reference column
    /// x + ShiftX (equal to the translation for a pure shift).
    /// </summary>
    public required double ShiftX { get; init; }

    public required double ShiftY { get; init; }

    /// <summary>Whole-scene phase-correlation shift (step 1), before local refinement.</summary>
    public required double GlobalShiftX { get; init; }

    public required double GlobalShiftY { get; init; }

    /// <summary>Peak response of the whole-scene phase correlation (0..1): its confidence.</summary>
    public required double GlobalResponse { get; init; }

    /// <summary>The model used (the most flexible the tie points support, up to the one asked for).</summary>
    public required RegistrationModel Model { get; init; }

    /// <summary>
    /// Affine part in GDAL geotransform order: refX = A[0] + A[1] * x + A[2] * y, refY = A[3] + A[4] * x + A[5] * y
    /// (x, y = target pixel). For a <see cref="RegistrationModel.Polynomial2"/> model, the best affine through the same inliers.
    /// </summary>
    public required double[] Affine { get; init; }

    /// <summary>
    /// For <see cref="RegistrationModel.Polynomial2"/>: refX = P[0] + P[1]x + P[2]y + P[3]x^2 + P[4]xy + P[5]y^2 and
    /// refY = P[6] + P[7]x + P[8]y + P[9]x^2 + P[10]xy + P[11]y^2; null for the other models.
    /// </summary>
    public double[]? Polynomial { get; init; }

    /// <summary>Rotation of the affine part, degrees; positive turns the +x axis towards +y (clockwise as displayed).</summary>
    public required double RotationDegrees { get; init; }

    /// <summary>Scale of the affine part along target columns.</summary>
    public required double ScaleX { get; init; }

    /// <summary>Scale of the affine part along target rows.</summary>
    public required double ScaleY { get; init; }

    /// <summary>Shear of the affine part (0 = none).</summary>
    public required double Shear { get; init; }

    /// <summary>Windows that gave a tie point (passed the validity, texture and response checks).</summary>
    public required int TiePoints { get; init; }

    /// <summary>Tie points the model kept.</summary>
    public required int Inliers { get; init; }

    /// <summary>Windows tried in the final pass.</summary>
    public required int WindowsTried { get; init; }

    /// <summary>
    /// Root mean square distance of the inliers from the model, pixels, each weighted by its match confidence (the
    /// inverse variance its phase-correlation response implies); NaN when there are none.
    /// </summary>
    public required double RmsePixels { get; init; }

    /// <summary><see cref="RmsePixels"/> in metres on the ground (NaN when the grid's pixel size is not known in metres).</summary>
    public required double RmseMetres { get; init; }

    /// <summary>Largest inlier residual, pixels.</summary>
    public required double MaxResidualPixels { get; init; }

    /// <summary>Ground size of a pixel of the grid, metres (NaN when unknown).</summary>
    public required double PixelSizeMetres { get; init; }

    public required IReadOnlyList<TiePoint> Points { get; init; }

    /// <summary>Whether the model passed every quality check; when false, <see cref="Warning"/> says why.</summary>
    public required bool Reliable { get; init; }

    /// <summary>Why the model is unreliable, or a caveat on a reliable one; null when there is nothing to say.</summary>
    public string? Warning { get; init; }

    public TimeSpan Elapsed { get; init; }

    /// <summary>The reference position of a target position.</summary>
    public (double X, double Y) TargetToReference(double x, double y) => Polynomial is { } p
        ? ModelMath.Apply(p, x, y)
        : (Affine[0] + Affine[1] * x + Affine[2] * y, Affine[3] + Affine[4] * x + Affine[5] * y);

    /// <summary>The target position of a reference position (exact inverse for affine models, Newton iterations for the polynomial).</summary>
    public (double X, double Y) ReferenceToTarget(double x, double y)
    {
        var a = Affine;
        var det = a[1] * a[5] - a[2] * a[4];
        var dx = x - a[0];
        var dy = y - a[3];
        var guess = ((a[5] * dx - a[2] * dy) / det, (a[1] * dy - a[4] * dx) / det);
        return Polynomial is { } p ? ModelMath.Invert(p, x, y, guess) : guess;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Model} shift ({ShiftX:0.000}, {ShiftY:0.000}) px, rotation {RotationDegrees:0.0000} deg, scale ({ScaleX:0.00000}, {ScaleY:0.00000}), {Inliers}/{TiePoints} inliers, RMSE {RmsePixels:0.000} px ({RmseMetres:0.000} m), {(Reliable ? "reliable" : "UNRELIABLE")}{(Warning is null ? "" : ": " + Warning)}");
}
