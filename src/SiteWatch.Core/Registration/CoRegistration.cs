using System.Diagnostics;
using System.Globalization;
using System.Xml.Linq;
using OpenCvSharp;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Registration;

/// <summary>
/// Co-registration of a scene (target) to a reference scene of the same site grid: a whole-scene sub-pixel shift by
/// phase correlation, refined by phase correlation of a grid of windows into tie points, a robust model fit (RANSAC,
/// then least squares on the inliers) with quality figures, and GDAL resampling of the target onto the reference grid.
/// Matching works on the gradient magnitude of the band mean, which survives illumination, haze and seasonal change.
/// </summary>
public static class CoRegistration
{
    /// <summary>Passes of window matching: each places the windows with the previous fit until no window moves.</summary>
    private const int MaxPasses = 4;

    static CoRegistration() => OpenCvLoadOrder.Ensure();

    /// <summary>
    /// Estimates the mapping target pixel -> reference pixel. Throws <see cref="SiteWatchException"/> when nothing can
    /// be estimated (different grids, no valid overlap, no texture, no match at all); returns a result with
    /// Reliable = false and a reason when a model was fitted but fails a quality check (or throws then too when
    /// <see cref="CoRegistrationOptions.ThrowIfUnreliable"/> is set).
    /// </summary>
    public static CoRegistrationResult Estimate(RasterDataset reference, RasterDataset target, CoRegistrationOptions options, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = Stopwatch.StartNew();
        CheckSameGrid(reference, target);
        var bands = ResolveBands(reference, target, options.Bands);
        using var referenceMask = OpenMask(options.ReferenceExclusionMaskPath, reference);
        using var targetMask = OpenMask(options.ExclusionMaskPath, target);
        var referenceReader = new SceneReader(reference, bands, referenceMask);
        var targetReader = new SceneReader(target, bands, targetMask);

        try
        {
            var global = EstimateGlobal(referenceReader, targetReader, options, cancel);
            var local = RefineLocally(referenceReader, targetReader, global, options, cancel);
            var result = Assess(reference, target, global, local, options);
            result = result with { Elapsed = clock.Elapsed };
            if (options.ThrowIfUnreliable && !result.Reliable)
            {
                throw new SiteWatchException($"{Name(target, "target")}: co-registration to {Name(reference, "reference")} is unreliable: {result.Warning}");
            }
            return result;
        }
        catch (GdalException e)
        {
            throw new SiteWatchException(e.Message, e);
        }
    }

    /// <summary>
    /// Resamples the target onto the reference grid with the fitted model, through GDAL's warper: the model is composed
    /// into the target's georeference (a geotransform for shift and affine models, a grid of exact GCPs for the
    /// polynomial) in a temporary VRT, which is warped onto the reference's exact extent and size, block by block in
    /// bounded memory. The output keeps the target's bands, pixel type, band names and metadata, with the target's
    /// nodata (else the reference's) where the target does not reach; it appears complete or not at all. The target is
    /// read through its file (a raster still being written must be closed and reopened first); an in-memory target is
    /// streamed to a temporary GeoTIFF beside the output.
    /// </summary>
    public static void Resample(RasterDataset reference, RasterDataset target, CoRegistrationResult model, string outputPath,
        ResampleOptions? options = null, IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputPath);
        options ??= new ResampleOptions();
        if (!model.Reliable && !options.AllowUnreliable)
        {
            throw new SiteWatchException($"{Name(target, "target")}: refusing to resample with an unreliable co-registration model ({model.Warning}); allow it explicitly to override");
        }
        CheckSameGrid(reference, target);
        if (model.Width != reference.Width || model.Height != reference.Height)
        {
            throw new SiteWatchException($"{Name(target, "target")}: the co-registration model was estimated on a {model.Width} x {model.Height} grid, not this {reference.Width} x {reference.Height} one");
        }
        var gt = reference.GeoTransform ?? throw new SiteWatchException($"{Name(reference, "reference")}: has no georeference, so there is no reference grid to resample onto");
        if (!gt.IsNorthUp)
        {
            throw new SiteWatchException($"{Name(reference, "reference")}: its grid is rotated; resampling onto a site grid needs a north-up reference");
        }
        var output = System.IO.Path.GetFullPath(outputPath);
        var directory = System.IO.Path.GetDirectoryName(output)!;
        Directory.CreateDirectory(directory);
        var stem = $".{System.IO.Path.GetFileName(output)}.{Guid.NewGuid():N}";
        var vrtPath = System.IO.Path.Combine(directory, stem + ".coreg.vrt");
        var partialPath = System.IO.Path.Combine(directory, stem + ".partial.tif");
        var stagedPath = System.IO.Path.Combine(directory, stem + ".source.tif");
        try
        {
            // The VRT reads the target through a file; an in-memory target is first streamed to a temporary GeoTIFF.
            var sourcePath = target.Path.Length > 0 && target.Driver != "MEM" ? System.IO.Path.GetFullPath(target.Path) : "";
            if (sourcePath.Length == 0 || !File.Exists(sourcePath))
            {
                target.CopyTo(stagedPath, "GTiff", RasterDataset.DefaultGeoTiffOptions(new RasterProfile(target.Width, target.Height, target.BandCount, target.DataType)), null, cancel);
                sourcePath = stagedPath;
            }
            File.WriteAllText(vrtPath, SourceVrt(reference, target, model, sourcePath, gt));
            using var source = RasterDataset.Open(vrtPath);
            var grid = new WarpTarget
            {
                Crs = reference.CrsWkt,
                Extent = reference.Bounds,
                Size = (reference.Width, reference.Height),
                Resampling = options.Resampling,
                NoData = target.NoData ?? reference.NoData,
                WorkingMemoryMegabytes = options.WorkingMemoryMegabytes,
            };
            if (options.Cog)
            {
                // The COG driver only copies finished rasters: warp lazily into a VRT and stream it into the COG.
                using var warped = Warper.Warp(source, "", grid, "VRT", null, null, cancel);
                warped.CopyToCog(partialPath, options.CogOptions, progress, cancel);
            }
            else
            {
                var profile = new RasterProfile(reference.Width, reference.Height, target.BandCount, target.DataType) { NoData = grid.NoData };
                using var warped = Warper.Warp(source, partialPath, grid, "GTiff", RasterDataset.DefaultGeoTiffOptions(profile), progress, cancel);
                warped.Flush();
            }
            File.Move(partialPath, output, overwrite: true);
        }
        catch (GdalException e)
        {
            throw new SiteWatchException($"{Name(target, "target")}: could not resample onto the grid of {Name(reference, "reference")}: {e.Message}", e);
        }
        finally
        {
            TryDelete(vrtPath);
            TryDelete(partialPath);
            TryDelete(stagedPath);
        }
    }

    private sealed record GlobalEstimate(double ShiftX, double ShiftY, double Response, int Factor);

    private sealed record LocalEstimate(ModelFit? Fit, ModelFit? AffineFit, IReadOnlyList<TiePoint> Points, int WindowsTried, SkipCounts Skips, bool StartedAtZero, string? ModelNote);

    private sealed class SkipCounts
    {
        public int NoData;
        public int Weak;
        public int Far;

        public override string ToString()
        {
            var parts = new List<string>();
            if (NoData > 0)
            {
                parts.Add($"{NoData} mostly nodata or masked");
            }
            if (Weak > 0)
            {
                parts.Add($"{Weak} without texture or with a weak match");
            }
            if (Far > 0)
            {
                parts.Add($"{Far} matched implausibly far from the prediction");
            }
            return string.Join(", ", parts);
        }
    }

    /// <summary>Step 1: phase correlation of the whole scene, box-averaged to at most GlobalMaxSize pixels a side.</summary>
    private static GlobalEstimate EstimateGlobal(SceneReader reference, SceneReader target, CoRegistrationOptions options, CancellationToken cancel)
    {
        var factor = Math.Max(1, (int)Math.Ceiling(Math.Max(reference.Width, reference.Height) / (double)options.GlobalMaxSize));
        var (rm, rv, dw, dh) = reference.ReadDecimated(factor, cancel);
        var (tm, tv, _, _) = target.ReadDecimated(factor, cancel);
        long referenceValid = 0, targetValid = 0, both = 0;
        for (var i = 0; i < rv.Length; i++)
        {
            referenceValid += rv[i];
            targetValid += tv[i];
            both += rv[i] & tv[i];
        }
        if (referenceValid == 0)
        {
            throw new SiteWatchException($"{Name(reference, "reference")}: has no valid pixels to match (all nodata or masked)");
        }
        if (targetValid == 0)
        {
            throw new SiteWatchException($"{Name(target, "target")}: has no valid pixels to match (all nodata or masked)");
        }
        var minimumOverlap = (double)options.WindowSize * options.WindowSize / (factor * factor);
        if (both < minimumOverlap)
        {
            throw new SiteWatchException(both == 0
                ? $"{Name(target, "target")}: its valid area does not overlap the valid area of {Name(reference, "reference")}; there is nothing to match"
                : $"{Name(target, "target")}: its valid area overlaps {Name(reference, "reference")}'s by only {both * factor * factor:N0} pixels, less than one {options.WindowSize} x {options.WindowSize} matching window");
        }

        // Pad to a size the FFT handles fast; the padding is invalid and so contributes nothing.
        var pw = Cv2.GetOptimalDFTSize(dw);
        var ph = Cv2.GetOptimalDFTSize(dh);
        var referenceTexture = GlobalTexture(rm, rv, dw, dh, pw, ph);
        var targetTexture = GlobalTexture(tm, tv, dw, dh, pw, ph);
        using var correlator = new PhaseCorrelator(pw, ph);
        var a = new float[pw * ph];
        var b = new float[pw * ph];
        var (_, referenceStd) = correlator.Prepare(referenceTexture.Gradient, referenceTexture.Valid, b);
        var (_, targetStd) = correlator.Prepare(targetTexture.Gradient, targetTexture.Valid, a);
        if (referenceStd <= 0)
        {
            throw new SiteWatchException($"{Name(reference, "reference")}: has no texture to match (its valid area is uniform)");
        }
        if (targetStd <= 0)
        {
            throw new SiteWatchException($"{Name(target, "target")}: has no texture to match (its valid area is uniform)");
        }
        cancel.ThrowIfCancellationRequested();
        var peak = correlator.Correlate(a, b);
        // A reduced pixel j covers full-resolution [j f, (j + 1) f): displacements scale by f exactly.
        return new GlobalEstimate(peak.Dx * factor, peak.Dy * factor, peak.Response, factor);
    }

    private static (float[] Gradient, byte[] Valid) GlobalTexture(float[] mean, byte[] valid, int w, int h, int pw, int ph)
    {
        var gradient = new float[w * h];
        var gradientValid = new byte[w * h];
        Texture.GradientMagnitude(mean, valid, w, h, gradient, gradientValid);
        if (pw == w && ph == h)
        {
            return (gradient, gradientValid);
        }
        var paddedGradient = new float[pw * ph];
        var paddedValid = new byte[pw * ph];
        for (var r = 0; r < h; r++)
        {
            Array.Copy(gradient, r * w, paddedGradient, r * pw, w);
            Array.Copy(gradientValid, r * w, paddedValid, r * pw, w);
        }
        return (paddedGradient, paddedValid);
    }

    /// <summary>One matching window on the reference and what it gave in the latest pass.</summary>
    private sealed class Cell(int column, int row)
    {
        public int Column { get; } = column;
        public int Row { get; } = row;
        public (int Column, int Row)? TargetOrigin { get; set; }
        public TiePoint? Point { get; set; }
        public int Outcome { get; set; }
    }

    private const int OutcomeTie = 0;
    private const int OutcomeNoData = 1;
    private const int OutcomeWeak = 2;
    private const int OutcomeFar = 3;

    /// <summary>
    /// Step 2: windows on a regular grid, each phase-correlated against the target window the current model predicts
    /// (integer placement, so no resampling blurs or biases the measurement); the fit places the windows of the next
    /// pass, until no window moves.
    /// </summary>
    private static LocalEstimate RefineLocally(SceneReader reference, SceneReader target, GlobalEstimate global, CoRegistrationOptions options, CancellationToken cancel)
    {
        var width = reference.Width;
        var height = reference.Height;
        var n = Math.Min(options.WindowSize, Math.Min(width, height)) & ~1;
        if (n < 32)
        {
            throw new SiteWatchException($"{Name(reference, "reference")}: is {width} x {height} pixels, too small to co-register (at least 32 x 32 needed)");
        }
        var cells = GridCells(width, height, n, options);
        var startAtZero = global.Response < options.MinGlobalResponse;
        var model = startAtZero ? ModelMath.Identity : ModelMath.Translation(global.ShiftX, global.ShiftY);

        using var correlator = new PhaseCorrelator(n, n);
        var buffers = new WindowBuffers(n);
        var referenceCache = new Dictionary<Cell, (float[] Data, double ValidFraction, double Std)>();
        var cacheLimit = Math.Max(0, (int)((256L << 20) / ((long)n * n * sizeof(float))));
        ModelFit? fit = null;
        ModelFit? affine = null;
        string? note = null;
        var skips = new SkipCounts();
        for (var pass = 0; pass < MaxPasses; pass++)
        {
            var moved = 0;
            foreach (var cell in cells)
            {
                cancel.ThrowIfCancellationRequested();
                var (tx, ty) = Inverse(model, cell.Column + n / 2.0, cell.Row + n / 2.0);
                var origin = ((int)Math.Round(tx - n / 2.0), (int)Math.Round(ty - n / 2.0));
                if (cell.TargetOrigin == origin)
                {
                    continue;
                }
                moved++;
                cell.TargetOrigin = origin;
                if (!referenceCache.TryGetValue(cell, out var prepared))
                {
                    var data = new float[n * n];
                    var (fraction, std) = ReadPrepared(reference, cell.Column, cell.Row, n, correlator, buffers, data);
                    prepared = (data, fraction, std);
                    if (referenceCache.Count < cacheLimit)
                    {
                        referenceCache[cell] = prepared;
                    }
                }
                MeasureCell(cell, prepared, target, origin, n, correlator, buffers, options);
            }
            if (moved == 0)
            {
                break;
            }
            var ties = cells.Where(c => c.Outcome == OutcomeTie).ToList();
            if (ties.Count == 0)
            {
                (fit, affine, note) = (null, null, null);
                break;
            }
            var matches = ties.Select(c => new Match(c.Point!.TargetX, c.Point.TargetY, c.Point.ReferenceX, c.Point.ReferenceY, Match.WeightOf(c.Point.Response))).ToList();
            (fit, affine, note) = FitModel(matches, options, width, height, n);
            model = fit.Coefficients;
        }

        skips.NoData = cells.Count(c => c.Outcome == OutcomeNoData);
        skips.Weak = cells.Count(c => c.Outcome == OutcomeWeak);
        skips.Far = cells.Count(c => c.Outcome == OutcomeFar);
        // The last fit was made on exactly these tie points, in this order (the loop ends when no window moved).
        var tieCells = cells.Where(c => c.Outcome == OutcomeTie).ToList();
        var points = new List<TiePoint>(tieCells.Count);
        for (var i = 0; i < tieCells.Count; i++)
        {
            var p = tieCells[i].Point!;
            points.Add(fit is null ? p : p with { Inlier = fit.Inliers[i], ResidualPixels = fit.Residuals[i] });
        }
        return new LocalEstimate(fit, affine, points, cells.Count, skips, startAtZero, note);
    }

    private static List<Cell> GridCells(int width, int height, int n, CoRegistrationOptions options)
    {
        var spacing = Math.Max(16, options.GridSpacing ?? n);
        while (true)
        {
            var nx = (width - n) / spacing + 1;
            var ny = (height - n) / spacing + 1;
            if ((long)nx * ny <= options.MaxWindows)
            {
                // Centre the grid so both borders get the same margin.
                var x0 = (width - n - (nx - 1) * spacing) / 2;
                var y0 = (height - n - (ny - 1) * spacing) / 2;
                var cells = new List<Cell>(nx * ny);
                for (var j = 0; j < ny; j++)
                {
                    for (var i = 0; i < nx; i++)
                    {
                        cells.Add(new Cell(x0 + i * spacing, y0 + j * spacing));
                    }
                }
                return cells;
            }
            spacing = (int)Math.Ceiling(spacing * 1.1);
        }
    }

    private sealed class WindowBuffers(int n)
    {
        public readonly float[] Mean = new float[(n + 2) * (n + 2)];
        public readonly byte[] Valid = new byte[(n + 2) * (n + 2)];
        public readonly float[] Gradient = new float[(n + 2) * (n + 2)];
        public readonly byte[] GradientValid = new byte[(n + 2) * (n + 2)];
        public readonly float[] Inner = new float[n * n];
        public readonly byte[] InnerValid = new byte[n * n];
        public readonly float[] Target = new float[n * n];
    }

    /// <summary>Reads a window with a 1-pixel frame (so the gradient is defined up to its edge) and prepares it for correlation.</summary>
    private static (double ValidFraction, double Std) ReadPrepared(SceneReader reader, int column, int row, int n, PhaseCorrelator correlator, WindowBuffers buffers, float[] output)
    {
        var m = n + 2;
        reader.Read(column - 1, row - 1, m, m, buffers.Mean, buffers.Valid);
        Texture.GradientMagnitude(buffers.Mean, buffers.Valid, m, m, buffers.Gradient, buffers.GradientValid);
        for (var r = 0; r < n; r++)
        {
            Array.Copy(buffers.Gradient, (r + 1) * m + 1, buffers.Inner, r * n, n);
            Array.Copy(buffers.GradientValid, (r + 1) * m + 1, buffers.InnerValid, r * n, n);
        }
        return correlator.Prepare(buffers.Inner, buffers.InnerValid, output);
    }

    private static void MeasureCell(Cell cell, (float[] Data, double ValidFraction, double Std) reference, SceneReader target, (int Column, int Row) origin,
        int n, PhaseCorrelator correlator, WindowBuffers buffers, CoRegistrationOptions options)
    {
        cell.Point = null;
        if (reference.ValidFraction < options.MinValidFraction)
        {
            cell.Outcome = OutcomeNoData;
            return;
        }
        var (fraction, std) = ReadPrepared(target, origin.Column, origin.Row, n, correlator, buffers, buffers.Target);
        if (fraction < options.MinValidFraction)
        {
            cell.Outcome = OutcomeNoData;
            return;
        }
        if (reference.Std <= 0 || std <= 0)
        {
            cell.Outcome = OutcomeWeak;
            return;
        }
        var peak = correlator.Correlate(buffers.Target, reference.Data);
        if (peak.Response < options.MinResponse)
        {
            cell.Outcome = OutcomeWeak;
            return;
        }
        // The windows were placed by the model; a peak a quarter window away is more likely a repeated pattern than the match.
        if (Math.Abs(peak.Dx) > n / 4.0 || Math.Abs(peak.Dy) > n / 4.0)
        {
            cell.Outcome = OutcomeFar;
            return;
        }
        // Content at target window position p lies at reference window position p + d; both windows' weight is centred at n/2.
        cell.Outcome = OutcomeTie;
        cell.Point = new TiePoint(origin.Column + n / 2.0, origin.Row + n / 2.0, cell.Column + n / 2.0 + peak.Dx, cell.Row + n / 2.0 + peak.Dy, peak.Response);
    }

    /// <summary>
    /// The most flexible model the tie points support, up to the one asked for: an affine needs tie points spread in
    /// both directions (else a shift only), the polynomial at least 12 well-spread inliers and a lower residual
    /// standard error than the affine after paying for its extra terms.
    /// </summary>
    private static (ModelFit Fit, ModelFit? Affine, string? Note) FitModel(List<Match> matches, CoRegistrationOptions options, int width, int height, int n)
    {
        var threshold = options.RansacThresholdPixels;
        if (options.Model != RegistrationModel.Translation && matches.Count >= 3)
        {
            var affine = ModelMath.Robust(matches, RegistrationModel.Affine, threshold);
            var (_, minor) = ModelMath.Spread(matches, affine.Inliers);
            var minimumSpread = 0.1 * Math.Min(width, height);
            if (affine.InlierCount >= 3 && minor >= minimumSpread)
            {
                if (options.Model == RegistrationModel.Polynomial2 && affine.InlierCount >= 12 && minor >= 0.2 * Math.Min(width, height))
                {
                    var polynomial = ModelMath.Robust(matches, RegistrationModel.Polynomial2, threshold, affine.Inliers);
                    if (polynomial.InlierCount >= 12 && polynomial.Sigma < affine.Sigma)
                    {
                        return (polynomial, affine, null);
                    }
                    return (affine, affine, "the second-order polynomial fitted no better than the affine, which is used");
                }
                return (affine, affine, null);
            }
            var translation = ModelMath.Robust(matches, RegistrationModel.Translation, threshold);
            return (translation, null, $"the tie points lie too close to a line or a cluster (spread {minor:0} px) to fix rotation and scale; fitted a shift only");
        }
        var shift = ModelMath.Robust(matches, RegistrationModel.Translation, threshold);
        return (shift, null, options.Model == RegistrationModel.Translation ? null : $"only {matches.Count} tie point{(matches.Count == 1 ? "" : "s")}; fitted a shift only");
    }

    /// <summary>Step 3: quality figures and the reliability verdict.</summary>
    private static CoRegistrationResult Assess(RasterDataset reference, RasterDataset target, GlobalEstimate global, LocalEstimate local, CoRegistrationOptions options)
    {
        var width = reference.Width;
        var height = reference.Height;
        var pixelMetres = PixelSizeMetres(reference);
        var reasons = new List<string>();
        var notes = new List<string>();
        double[] coefficients;
        RegistrationModel kind;
        int inliers;
        double rmse, maxResidual;
        if (local.Fit is { } fit)
        {
            coefficients = fit.Coefficients;
            kind = fit.Kind;
            inliers = fit.InlierCount;
            rmse = fit.Rmse;
            maxResidual = local.Points.Where(p => p.Inlier).Select(p => p.ResidualPixels).DefaultIfEmpty(double.NaN).Max();
            if (local.ModelNote is { } note)
            {
                notes.Add(note);
            }
        }
        else
        {
            if (global.Response < options.MinGlobalResponse)
            {
                throw new SiteWatchException(
                    $"{Name(target, "target")}: cannot be matched to {Name(reference, "reference")}: none of {local.WindowsTried} windows matched ({local.Skips}) and the whole-scene correlation is weak " +
                    $"(peak response {global.Response:0.000} < {options.MinGlobalResponse}); the scenes may show different ground, lack texture, or be mostly cloud or nodata");
            }
            coefficients = ModelMath.Translation(global.ShiftX, global.ShiftY);
            kind = RegistrationModel.Translation;
            inliers = 0;
            rmse = double.NaN;
            maxResidual = double.NaN;
            reasons.Add($"none of {local.WindowsTried} windows gave a tie point ({local.Skips}); only the whole-scene shift is known (peak response {global.Response:0.000})");
        }

        // Rotation and scale of the model at the scene centre (where a polynomial's Jacobian is most representative).
        var (rotation, scaleX, scaleY, shear) = ModelMath.Decompose(ModelMath.LinearAt(coefficients, width / 2.0, height / 2.0));
        var (cx, cy) = ModelMath.Apply(coefficients, width / 2.0, height / 2.0);
        var shiftX = cx - width / 2.0;
        var shiftY = cy - height / 2.0;
        if (local.Fit is not null)
        {
            if (inliers < options.MinInliers)
            {
                reasons.Add($"only {inliers} inlier tie point{(inliers == 1 ? "" : "s")}, fewer than {options.MinInliers} ({local.Points.Count} of {local.WindowsTried} windows matched{(local.Skips.ToString() is { Length: > 0 } s ? "; skipped: " + s : "")})");
            }
            if (!(rmse <= options.MaxRmsePixels))
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"residual RMSE {rmse:0.000} px exceeds {options.MaxRmsePixels} px"));
            }
            if (local.Points.Count >= 2 * options.MinInliers && inliers < local.Points.Count / 2)
            {
                notes.Add($"only {inliers} of {local.Points.Count} tie points agree with the model (changed ground, clouds, or local distortion)");
            }
        }
        if (Math.Abs(rotation) > options.MaxRotationDegrees)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"implausible rotation of {rotation:0.###} degrees (limit {options.MaxRotationDegrees})"));
        }
        if (Math.Abs(scaleX - 1) > options.MaxScaleDeviation || Math.Abs(scaleY - 1) > options.MaxScaleDeviation)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"implausible scale ({scaleX:0.#####}, {scaleY:0.#####}) for scenes of one grid (limit 1 +- {options.MaxScaleDeviation})"));
        }
        if (!(Math.Abs(shear) <= options.MaxScaleDeviation))
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"implausible shear of {shear:0.#####} (limit {options.MaxScaleDeviation})"));
        }
        if (Math.Sqrt(shiftX * shiftX + shiftY * shiftY) > options.MaxShiftPixels)
        {
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"implausible shift of ({shiftX:0.##}, {shiftY:0.##}) px (limit {options.MaxShiftPixels} px)"));
        }
        if (local.StartedAtZero)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"the whole-scene correlation was weak (peak response {global.Response:0.000}), so matching started from zero shift"));
        }

        var reliable = reasons.Count == 0;
        var warning = string.Join("; ", reasons.Concat(notes));
        return new CoRegistrationResult
        {
            Width = width,
            Height = height,
            ShiftX = shiftX,
            ShiftY = shiftY,
            GlobalShiftX = global.ShiftX,
            GlobalShiftY = global.ShiftY,
            GlobalResponse = global.Response,
            Model = kind,
            Affine = ModelMath.AffineOf(kind == RegistrationModel.Polynomial2 && local.AffineFit is { } a ? a.Coefficients : coefficients),
            Polynomial = kind == RegistrationModel.Polynomial2 ? coefficients : null,
            RotationDegrees = rotation,
            ScaleX = scaleX,
            ScaleY = scaleY,
            Shear = shear,
            TiePoints = local.Points.Count,
            Inliers = inliers,
            WindowsTried = local.WindowsTried,
            RmsePixels = rmse,
            RmseMetres = rmse * pixelMetres,
            MaxResidualPixels = maxResidual,
            PixelSizeMetres = pixelMetres,
            Points = local.Points,
            Reliable = reliable,
            Warning = warning.Length == 0 ? null : warning,
        };
    }

    private static (double X, double Y) Inverse(double[] model, double x, double y)
    {
        double a = model[1], b = model[2], c = model[7], d = model[8];
        var det = a * d - b * c;
        var dx = x - model[0];
        var dy = y - model[6];
        var guess = ((d * dx - b * dy) / det, (a * dy - c * dx) / det);
        return model[3] == 0 && model[4] == 0 && model[5] == 0 && model[9] == 0 && model[10] == 0 && model[11] == 0
            ? guess
            : ModelMath.Invert(model, x, y, guess);
    }

    /// <summary>Ground size of a grid pixel in metres: projected CRS units, or degrees at the scene centre's latitude; NaN when unknown.</summary>
    private static double PixelSizeMetres(RasterDataset raster)
    {
        if (raster.GeoTransform is not { } gt)
        {
            return double.NaN;
        }
        var area = Math.Abs(gt.PixelWidth * gt.PixelHeight - gt.RowRotation * gt.ColumnRotation);
        using var crs = raster.OpenCrs();
        if (crs is null)
        {
            return double.NaN;
        }
        if (crs.IsProjected)
        {
            return Math.Sqrt(area) * crs.LinearUnitMetres;
        }
        if (crs.IsGeographic)
        {
            var (_, lat) = gt.PixelToMap(raster.Width / 2.0, raster.Height / 2.0);
            return Math.Sqrt(area * 111_320 * Math.Cos(lat * Math.PI / 180) * 110_574);
        }
        return double.NaN;
    }

    private static void CheckSameGrid(RasterDataset reference, RasterDataset target)
    {
        Change.RasterPair.RequireSameCrs(reference, target, "co-registration works on scenes of one site grid (ingest both into the site first)");
        if (reference.GeoTransform is { } rg && target.GeoTransform is { } tg && reference.Bounds.Intersect(target.Bounds).IsEmpty)
        {
            throw new SiteWatchException($"{Name(target, "target")}: does not overlap {Name(reference, "reference")} on the ground; there is nothing to co-register");
        }
        if (reference.Width != target.Width || reference.Height != target.Height)
        {
            throw new SiteWatchException($"{Name(target, "target")}: is {target.Width} x {target.Height} pixels but {Name(reference, "reference")} is {reference.Width} x {reference.Height}; co-registration works on scenes of one site grid (ingest both into the site first)");
        }
        if (reference.GeoTransform is { } a && target.GeoTransform is { } b)
        {
            const double tolerance = 1e-3;
            var sameGrid = Math.Abs(a.OriginX - b.OriginX) <= tolerance * Math.Abs(a.PixelWidth)
                && Math.Abs(a.OriginY - b.OriginY) <= tolerance * Math.Abs(a.PixelHeight)
                && Math.Abs(a.PixelWidth - b.PixelWidth) <= 1e-6 * Math.Abs(a.PixelWidth)
                && Math.Abs(a.PixelHeight - b.PixelHeight) <= 1e-6 * Math.Abs(a.PixelHeight)
                && Math.Abs(a.RowRotation - b.RowRotation) <= 1e-6 * Math.Abs(a.PixelWidth)
                && Math.Abs(a.ColumnRotation - b.ColumnRotation) <= 1e-6 * Math.Abs(a.PixelHeight);
            if (!sameGrid)
            {
                throw new SiteWatchException($"{Name(target, "target")}: is not on the grid of {Name(reference, "reference")} (its geotransform differs); co-registration works on scenes of one site grid (ingest both into the site first)");
            }
            using var rc = reference.OpenCrs();
            using var tc = target.OpenCrs();
            if (rc is not null && tc is not null && !rc.IsSame(tc))
            {
                throw new SiteWatchException($"{Name(target, "target")}: is in {tc} but {Name(reference, "reference")} is in {rc}; co-registration works on scenes of one site grid");
            }
        }
    }

    private static string Name(SceneReader reader, string role) => reader.Name(role);

    /// <summary>How messages name a raster: its path, or its role when it has none (in memory).</summary>
    internal static string Name(RasterDataset raster, string role) => raster.Path.Length > 0 ? raster.Path : $"the {role} (in memory)";

    private static int[] ResolveBands(RasterDataset reference, RasterDataset target, IReadOnlyList<int>? bands)
    {
        var chosen = (bands ?? Enumerable.Range(1, Math.Min(reference.BandCount, target.BandCount)).ToArray()).ToArray();
        foreach (var b in chosen)
        {
            foreach (var raster in new[] { reference, target })
            {
                if (b < 1 || b > raster.BandCount)
                {
                    throw new SiteWatchException($"{Name(raster, raster == reference ? "reference" : "target")}: has no band {b} (it has {raster.BandCount})");
                }
            }
        }
        return chosen;
    }

    private static RasterDataset? OpenMask(string? path, RasterDataset scene)
    {
        if (path is null)
        {
            return null;
        }
        RasterDataset mask;
        try
        {
            mask = RasterDataset.Open(path);
        }
        catch (GdalException e)
        {
            throw new SiteWatchException($"exclusion mask {e.Message}", e);
        }
        if (mask.Width != scene.Width || mask.Height != scene.Height)
        {
            var message = $"{path}: the exclusion mask is {mask.Width} x {mask.Height} pixels but {Name(scene, "scene")} is {scene.Width} x {scene.Height}; it must lie on the scene's grid";
            mask.Dispose();
            throw new SiteWatchException(message);
        }
        return mask;
    }

    /// <summary>
    /// A VRT of the target whose georeference carries the fitted model: target pixel -> reference pixel -> reference
    /// map coordinates. Warping it onto the reference grid therefore applies the model.
    /// </summary>
    private static string SourceVrt(RasterDataset reference, RasterDataset target, CoRegistrationResult model, string sourcePath, GeoTransform gt)
    {
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var wkt = reference.CrsWkt;
        var root = new XElement("VRTDataset",
            new XAttribute("rasterXSize", target.Width),
            new XAttribute("rasterYSize", target.Height));
        if (model.Polynomial is null)
        {
            var a = model.Affine;
            var composed = new GeoTransform(
                gt.OriginX + gt.PixelWidth * a[0] + gt.RowRotation * a[3],
                gt.PixelWidth * a[1] + gt.RowRotation * a[4],
                gt.PixelWidth * a[2] + gt.RowRotation * a[5],
                gt.OriginY + gt.ColumnRotation * a[0] + gt.PixelHeight * a[3],
                gt.ColumnRotation * a[1] + gt.PixelHeight * a[4],
                gt.ColumnRotation * a[2] + gt.PixelHeight * a[5]);
            if (wkt is not null)
            {
                root.Add(new XElement("SRS", wkt));
            }
            root.Add(new XElement("GeoTransform", string.Join(", ", composed.ToArray().Select(F))));
        }
        else
        {
            // GDAL fits a second-order polynomial to 10 or more GCPs; exact GCPs of our polynomial reproduce it.
            var gcps = new XElement("GCPList");
            if (wkt is not null)
            {
                gcps.Add(new XAttribute("Projection", wkt));
            }
            const int steps = 8;
            var id = 0;
            for (var j = 0; j < steps; j++)
            {
                for (var i = 0; i < steps; i++)
                {
                    var x = target.Width * i / (double)(steps - 1);
                    var y = target.Height * j / (double)(steps - 1);
                    var (rx, ry) = model.TargetToReference(x, y);
                    var (mx, my) = gt.PixelToMap(rx, ry);
                    gcps.Add(new XElement("GCP", new XAttribute("Id", (++id).ToString(CultureInfo.InvariantCulture)),
                        new XAttribute("Pixel", F(x)), new XAttribute("Line", F(y)), new XAttribute("X", F(mx)), new XAttribute("Y", F(my))));
                }
            }
            root.Add(gcps);
        }
        var metadata = new XElement("Metadata");
        foreach (var (key, value) in target.GetMetadata())
        {
            metadata.Add(new XElement("MDI", new XAttribute("key", key), value));
        }
        void Add(string key, double value) => metadata.Add(new XElement("MDI", new XAttribute("key", key), F(value)));
        Add("SITEWATCH_COREG_SHIFT_X", model.ShiftX);
        Add("SITEWATCH_COREG_SHIFT_Y", model.ShiftY);
        Add("SITEWATCH_COREG_RMSE_PX", model.RmsePixels);
        metadata.Add(new XElement("MDI", new XAttribute("key", "SITEWATCH_COREG_MODEL"), model.Model.ToString()));
        metadata.Add(new XElement("MDI", new XAttribute("key", "SITEWATCH_COREG_REFERENCE"), System.IO.Path.GetFileName(reference.Path)));
        root.Add(metadata);
        for (var b = 1; b <= target.BandCount; b++)
        {
            var band = new XElement("VRTRasterBand",
                new XAttribute("dataType", target.DataTypeOf(b).GdalName()),
                new XAttribute("band", b));
            if (target.BandDescription(b) is { } description)
            {
                band.Add(new XElement("Description", description));
            }
            if (target.NoDataOf(b) is { } nodata)
            {
                band.Add(new XElement("NoDataValue", F(nodata)));
            }
            band.Add(new XElement("SimpleSource",
                new XElement("SourceFilename", new XAttribute("relativeToVRT", "0"), sourcePath),
                new XElement("SourceBand", b)));
            root.Add(band);
        }
        return root.ToString();
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temporary file is hidden (dot-prefixed) and harmless.
        }
    }
}
