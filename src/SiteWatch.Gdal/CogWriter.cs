namespace SiteWatch.Gdal;

/// <summary>
/// Writes a Cloud Optimized GeoTIFF window by window. The COG driver can only copy a finished raster, so pixels go to
/// a staging raster first (in memory when small, else a tiled temporary GeoTIFF beside the target, so memory stays
/// bounded), and <see cref="Commit"/> computes its overviews and copies it to the target atomically (written under a
/// temporary name, then renamed). Disposing without committing leaves nothing behind.
/// </summary>
public sealed class CogWriter : IDisposable
{
    /// <summary>Rasters up to this size are staged in memory by default.</summary>
    public const long InMemoryLimitBytes = 256L << 20;

    private readonly string _stagingPath;
    private readonly CogOptions _options;
    private bool _committed;

    /// <param name="inMemoryLimitBytes">Rasters up to this uncompressed size are staged in memory, larger ones on disk.</param>
    public CogWriter(string path, RasterProfile profile, CogOptions? options = null, long inMemoryLimitBytes = InMemoryLimitBytes)
    {
        TargetPath = System.IO.Path.GetFullPath(path);
        _options = options ?? new CogOptions();
        var directory = System.IO.Path.GetDirectoryName(TargetPath)!;
        Directory.CreateDirectory(directory);
        if (profile.SizeInBytes <= inMemoryLimitBytes)
        {
            _stagingPath = "";
            Raster = RasterDataset.CreateInMemory(profile);
        }
        else
        {
            _stagingPath = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(TargetPath)}.{Guid.NewGuid():N}.staging.tif");
            // The staging file is read once and deleted: compressing it would only be paid for twice.
            Raster = RasterDataset.Create(_stagingPath, profile, creationOptions:
                ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "COMPRESS=NONE", "BIGTIFF=IF_SAFER", profile.BandCount > 1 ? "INTERLEAVE=PIXEL" : "INTERLEAVE=BAND"]);
        }
    }

    public string TargetPath { get; }

    /// <summary>The staging raster to write windows and metadata into.</summary>
    public RasterDataset Raster { get; }

    /// <summary>Copies the staged raster to the target COG; the target appears complete or not at all.</summary>
    public void Commit(IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        if (_committed)
        {
            throw new InvalidOperationException("This COG has already been written.");
        }
        var partial = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(TargetPath)!, $".{System.IO.Path.GetFileName(TargetPath)}.{Guid.NewGuid():N}.partial.tif");
        IReadOnlyList<string> levels = [];
        try
        {
            Raster.Flush();
            // On a raster staged on disk GDAL's overview computation (a nodata mask read beside every pixel, each mean in
            // double precision, on one thread per chunk) was a third of the commit; CogOverviews computes the same
            // pixels in a fraction of that and the COG driver copies them. A raster staged in memory is small, and
            // GDAL computes its overviews as before.
            if (_stagingPath.Length > 0 && CogOverviews.WhyNot(Raster, _options) is null)
            {
                levels = CogOverviews.Write(Raster, _stagingPath, _options.BlockSize, new ProgressSlice(progress, 0, 0.15), cancel);
                using var withOverviews = CogOverviews.WithOverviews(Raster, levels);
                withOverviews.CopyToCog(partial, _options, new ProgressSlice(progress, 0.15, 0.85), cancel);
            }
            else
            {
                Raster.CopyToCog(partial, _options, progress, cancel);
            }
            File.Move(partial, TargetPath, overwrite: true);
            _committed = true;
        }
        finally
        {
            TryDelete(partial);
            foreach (var level in levels)
            {
                TryDelete(level);
            }
        }
    }

    public void Dispose()
    {
        Raster.Dispose();
        if (_stagingPath.Length > 0)
        {
            TryDelete(_stagingPath);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover staging file is hidden (dot-prefixed) and swept by the workspace.
        }
    }
}
