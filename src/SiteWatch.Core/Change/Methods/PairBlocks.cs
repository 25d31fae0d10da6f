using SiteWatch.Gdal;

namespace SiteWatch.Core.Change.Methods;

/// <summary>
/// One window of a <see cref="RasterPair"/> in memory: the core window being processed plus a halo of context pixels
/// (clamped to the scene), as 2 x Bands float planes (BEFORE bands then AFTER bands) and a validity mask. The buffers
/// are reused from window to window, so streaming allocates nothing per pixel or per window.
/// </summary>
public sealed class PairBlock
{
    private readonly float[] _data;
    private readonly byte[] _valid;

    internal PairBlock(int bands, int maxPixels)
    {
        Bands = bands;
        _data = new float[2 * bands * maxPixels];
        _valid = new byte[maxPixels];
    }

    public int Bands { get; }
    /// <summary>The window whose outputs are produced.</summary>
    public RasterWindow Core { get; private set; }
    /// <summary>The window actually read: Core grown by the halo, clamped to the scene.</summary>
    public RasterWindow Padded { get; private set; }
    /// <summary>Pixels of the padded window (the length of each plane).</summary>
    public int PixelCount => (int)Padded.PixelCount;
    public int CoreRowOffset => Core.Row - Padded.Row;
    public int CoreColumnOffset => Core.Column - Padded.Column;

    /// <summary>Plane k of the padded window: k &lt; Bands are BEFORE bands, the rest AFTER bands.</summary>
    public Span<float> Plane(int k) => _data.AsSpan(k * PixelCount, PixelCount);
    public Span<float> Before(int band) => Plane(band);
    public Span<float> After(int band) => Plane(Bands + band);
    /// <summary>All 2 x Bands planes, contiguous.</summary>
    public Span<float> Planes => _data.AsSpan(0, 2 * Bands * PixelCount);
    public Span<byte> Valid => _valid.AsSpan(0, PixelCount);

    /// <summary>The arrays behind <see cref="Planes"/> and <see cref="Valid"/> (longer than they), for work split across threads.</summary>
    internal float[] PlaneArray => _data;
    internal byte[] ValidArray => _valid;

    /// <summary>Index into the padded planes of core pixel (row, column), both relative to the core window.</summary>
    public int IndexOfCore(int row, int column) => (row + CoreRowOffset) * Padded.Width + column + CoreColumnOffset;

    internal void Load(RasterPair pair, RasterWindow core, int halo)
    {
        Core = core;
        var c0 = Math.Max(0, core.Column - halo);
        var r0 = Math.Max(0, core.Row - halo);
        var c1 = Math.Min(pair.Width, core.Column + core.Width + halo);
        var r1 = Math.Min(pair.Height, core.Row + core.Height + halo);
        Padded = new RasterWindow(c0, r0, c1 - c0, r1 - r0);
        var n = PixelCount;
        pair.Read(Padded, _data.AsSpan(0, Bands * n), _data.AsSpan(Bands * n, Bands * n), _valid.AsSpan(0, n));
    }
}

/// <summary>Streams a <see cref="RasterPair"/> window by window, reporting progress and honouring cancellation.</summary>
public static class PairBlocks
{
    public static int WindowCount(RasterPair pair, int blockSize) =>
        (int)(((long)pair.Width + blockSize - 1) / blockSize * (((long)pair.Height + blockSize - 1) / blockSize));

    /// <summary>
    /// Every window of at most blockSize x blockSize, loaded with a halo of context. The same <see cref="PairBlock"/>
    /// instance is returned each time, refilled.
    /// </summary>
    public static IEnumerable<PairBlock> Read(RasterPair pair, int blockSize, int halo = 0, Action<double>? progress = null, CancellationToken cancel = default)
    {
        if (blockSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(blockSize), "The block size must be positive.");
        }
        var side = Math.Min(blockSize, Math.Max(pair.Width, pair.Height));
        var maxW = Math.Min(pair.Width, side + 2 * halo);
        var maxH = Math.Min(pair.Height, side + 2 * halo);
        var block = new PairBlock(pair.BandCount, maxW * maxH);
        var total = WindowCount(pair, blockSize);
        var done = 0;
        foreach (var window in pair.Windows(blockSize))
        {
            cancel.ThrowIfCancellationRequested();
            block.Load(pair, window, halo);
            yield return block;
            progress?.Invoke(++done / (double)total);
        }
    }
}

/// <summary>Maps the progress of one stage into a slice [start, start + span) of the overall progress.</summary>
internal sealed class ProgressSlice(IProgress<double>? progress, double start, double span) : IProgress<double>
{
    public void Report(double fraction) => progress?.Report(Math.Clamp(start + span * Math.Clamp(fraction, 0, 1), 0, 1));

    public Action<double>? Callback => progress is null ? null : Report;

    public ProgressSlice Sub(double subStart, double subSpan) => new(progress, start + span * subStart, span * subSpan);

    /// <summary>This slice as an IProgress, or null when nobody listens.</summary>
    public IProgress<double>? OrNull => progress is null ? null : this;
}
