using System.Globalization;
using SiteWatch.Gdal.Native;

namespace SiteWatch.Gdal;

/// <summary>Resampling kernels, as gdalwarp names them.</summary>
public enum Resampling
{
    Nearest,
    Bilinear,
    Cubic,
    CubicSpline,
    Lanczos,
    Average,
    Mode,
}

/// <summary>The grid a raster is warped onto.</summary>
public sealed record WarpTarget
{
    /// <summary>Target CRS (EPSG:nnnn, WKT, ...). Null keeps the source CRS.</summary>
    public string? Crs { get; init; }
    /// <summary>Pixel size in target units (square pixels). Null lets GDAL choose.</summary>
    public double? Resolution { get; init; }
    /// <summary>Target extent in target CRS units. Null covers the whole source.</summary>
    public MapExtent? Extent { get; init; }
    /// <summary>Explicit output size; mutually exclusive with <see cref="Resolution"/>.</summary>
    public (int Width, int Height)? Size { get; init; }
    public Resampling Resampling { get; init; } = Resampling.Bilinear;
    /// <summary>Nodata of the output (areas the source does not cover). Null keeps the source's.</summary>
    public double? NoData { get; init; }
    /// <summary>
    /// Treat the source's nodata value as an ordinary value (gdalwarp -srcnodata None), so that it can be told apart
    /// from the areas the source does not cover, which get <see cref="NoData"/>.
    /// </summary>
    public bool IgnoreSourceNoData { get; init; }
    /// <summary>Warp memory in MB: bounds the working set regardless of scene size.</summary>
    public int WorkingMemoryMegabytes { get; init; } = 256;
}

/// <summary>Reprojection and resampling with GDAL's warper (the engine behind gdalwarp).</summary>
public static unsafe class Warper
{
    /// <summary>
    /// Warps onto the target grid into a new raster. Format "VRT" with an empty path gives a virtual, lazily computed
    /// raster (nothing is warped until windows are read or it is copied), which keeps memory bounded for any size;
    /// the source must then stay open while the result is used.
    /// </summary>
    public static RasterDataset Warp(RasterDataset source, string destination, WarpTarget target, string format = "GTiff",
        IReadOnlyCollection<string>? creationOptions = null, IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        var args = BuildArguments(source, target, format, creationOptions);
        using var argv = new Utf8StringArray(args);
        GdalException.Reset();
        var options = GdalNative.GDALWarpAppOptionsNew(argv.Pointer, 0);
        if (options == 0)
        {
            throw GdalException.FromLastError("Invalid warp options " + string.Join(' ', args));
        }
        using var nativeProgress = new NativeProgress(progress, cancel);
        try
        {
            GdalNative.GDALWarpAppOptionsSetProgress(options, nativeProgress.Function, nativeProgress.Argument);
            var sources = stackalloc nint[1];
            sources[0] = source.Handle.DangerousGetHandle();
            int usageError = 0;
            GdalException.Reset();
            var raw = GdalNative.GDALWarp(destination, 0, 1, sources, options, &usageError);
            GC.KeepAlive(source);
            if (raw == 0)
            {
                cancel.ThrowIfCancellationRequested();
                throw GdalException.FromLastError($"{source.Path}: could not warp to {target.Crs ?? "the target grid"}");
            }
            return new RasterDataset(new DatasetHandle(raw), destination);
        }
        finally
        {
            GdalNative.GDALWarpAppOptionsFree(options);
        }
    }

    internal static List<string> BuildArguments(RasterDataset source, WarpTarget target, string format, IReadOnlyCollection<string>? creationOptions)
    {
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var args = new List<string> { "-of", format, "-r", target.Resampling.ToString().ToLowerInvariant(), "-wm", target.WorkingMemoryMegabytes.ToString(CultureInfo.InvariantCulture) };
        if (target.Crs is { } crs)
        {
            args.AddRange(["-t_srs", crs]);
        }
        if (target.Resolution is { } res)
        {
            args.AddRange(["-tr", F(res), F(res)]);
        }
        if (target.Size is { } size)
        {
            args.AddRange(["-ts", size.Width.ToString(CultureInfo.InvariantCulture), size.Height.ToString(CultureInfo.InvariantCulture)]);
        }
        if (target.Extent is { } e)
        {
            args.AddRange(["-te", F(e.MinX), F(e.MinY), F(e.MaxX), F(e.MaxY)]);
        }
        if (target.IgnoreSourceNoData)
        {
            args.AddRange(["-srcnodata", "None"]);
        }
        var nodata = target.NoData ?? source.NoData;
        if (nodata is { } nd)
        {
            args.AddRange(["-dstnodata", F(nd)]);
        }
        foreach (var option in creationOptions ?? [])
        {
            args.AddRange(["-co", option]);
        }
        return args;
    }
}
