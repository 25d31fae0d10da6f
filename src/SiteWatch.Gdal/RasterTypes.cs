namespace SiteWatch.Gdal;

/// <summary>Pixel data types, numbered as GDALDataType.</summary>
public enum RasterDataType
{
    Unknown = 0,
    Byte = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Float64 = 7,
    UInt64 = 12,
    Int64 = 13,
    Int8 = 14,
}

public static class RasterDataTypes
{
    /// <summary>The GDAL data type matching a .NET pixel type.</summary>
    public static RasterDataType Of<T>() where T : unmanaged =>
        typeof(T) == typeof(byte) ? RasterDataType.Byte
        : typeof(T) == typeof(ushort) ? RasterDataType.UInt16
        : typeof(T) == typeof(short) ? RasterDataType.Int16
        : typeof(T) == typeof(uint) ? RasterDataType.UInt32
        : typeof(T) == typeof(int) ? RasterDataType.Int32
        : typeof(T) == typeof(float) ? RasterDataType.Float32
        : typeof(T) == typeof(double) ? RasterDataType.Float64
        : typeof(T) == typeof(ulong) ? RasterDataType.UInt64
        : typeof(T) == typeof(long) ? RasterDataType.Int64
        : typeof(T) == typeof(sbyte) ? RasterDataType.Int8
        : throw new NotSupportedException($"{typeof(T).Name} is not a raster pixel type.");

    public static int SizeInBytes(this RasterDataType type) => type switch
    {
        RasterDataType.Byte or RasterDataType.Int8 => 1,
        RasterDataType.UInt16 or RasterDataType.Int16 => 2,
        RasterDataType.UInt32 or RasterDataType.Int32 or RasterDataType.Float32 => 4,
        RasterDataType.Float64 or RasterDataType.UInt64 or RasterDataType.Int64 => 8,
        _ => throw new NotSupportedException($"Data type {type} is not supported."),
    };

    /// <summary>GDAL's name for the type, as used on the command line (-ot).</summary>
    public static string GdalName(this RasterDataType type) => type switch
    {
        RasterDataType.Byte => "Byte",
        _ => type.ToString(),
    };
}

/// <summary>A rectangle of pixels: column and row offsets plus size.</summary>
public readonly record struct RasterWindow(int Column, int Row, int Width, int Height)
{
    public long PixelCount => (long)Width * Height;

    public override string ToString() => $"[{Column},{Row} {Width}x{Height}]";

    /// <summary>Splits a raster of the given size into windows of at most blockWidth x blockHeight, row by row.</summary>
    public static IEnumerable<RasterWindow> Tile(int width, int height, int blockWidth, int blockHeight)
    {
        if (blockWidth <= 0 || blockHeight <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(blockWidth), "Block sizes must be positive.");
        }
        for (var row = 0; row < height; row += blockHeight)
        {
            for (var col = 0; col < width; col += blockWidth)
            {
                yield return new RasterWindow(col, row, Math.Min(blockWidth, width - col), Math.Min(blockHeight, height - row));
            }
        }
    }
}

/// <summary>
/// GDAL's affine geotransform: X = OriginX + col * PixelWidth + row * RowRotation,
/// Y = OriginY + col * ColumnRotation + row * PixelHeight (PixelHeight is negative for north-up images).
/// </summary>
public readonly record struct GeoTransform(double OriginX, double PixelWidth, double RowRotation, double OriginY, double ColumnRotation, double PixelHeight)
{
    public static GeoTransform NorthUp(double originX, double originY, double pixelSize) =>
        new(originX, pixelSize, 0, originY, 0, -pixelSize);

    public bool IsNorthUp => RowRotation == 0 && ColumnRotation == 0 && PixelHeight < 0;

    public double[] ToArray() => [OriginX, PixelWidth, RowRotation, OriginY, ColumnRotation, PixelHeight];

    public static GeoTransform FromArray(ReadOnlySpan<double> a) => new(a[0], a[1], a[2], a[3], a[4], a[5]);

    /// <summary>Map coordinates of a (fractional) pixel position; (0,0) is the upper-left corner of the first pixel.</summary>
    public (double X, double Y) PixelToMap(double column, double row) =>
        (OriginX + column * PixelWidth + row * RowRotation, OriginY + column * ColumnRotation + row * PixelHeight);

    /// <summary>The geotransform of a window of this raster taken as a raster of its own.</summary>
    public GeoTransform ForWindow(RasterWindow window)
    {
        var (x, y) = PixelToMap(window.Column, window.Row);
        return this with { OriginX = x, OriginY = y };
    }

    /// <summary>Fractional pixel position of map coordinates.</summary>
    public (double Column, double Row) MapToPixel(double x, double y)
    {
        var det = PixelWidth * PixelHeight - RowRotation * ColumnRotation;
        if (det == 0)
        {
            throw new InvalidOperationException("The geotransform is degenerate (zero determinant).");
        }
        var dx = x - OriginX;
        var dy = y - OriginY;
        return ((dx * PixelHeight - dy * RowRotation) / det, (dy * PixelWidth - dx * ColumnRotation) / det);
    }
}

/// <summary>An axis-aligned rectangle in map units.</summary>
public readonly record struct MapExtent(double MinX, double MinY, double MaxX, double MaxY)
{
    public double Width => MaxX - MinX;
    public double Height => MaxY - MinY;
    public bool IsEmpty => MaxX <= MinX || MaxY <= MinY;

    public MapExtent Intersect(MapExtent other) =>
        new(Math.Max(MinX, other.MinX), Math.Max(MinY, other.MinY), Math.Min(MaxX, other.MaxX), Math.Min(MaxY, other.MaxY));

    public MapExtent Expand(double margin) => new(MinX - margin, MinY - margin, MaxX + margin, MaxY + margin);

    /// <summary>Grows the extent outwards to whole multiples of the cell size, so grids of one site line up.</summary>
    public MapExtent SnapOutward(double cell) =>
        new(Math.Floor(MinX / cell) * cell, Math.Floor(MinY / cell) * cell, Math.Ceiling(MaxX / cell) * cell, Math.Ceiling(MaxY / cell) * cell);

    public override string ToString() => FormattableString.Invariant($"[{MinX:0.###}, {MinY:0.###}, {MaxX:0.###}, {MaxY:0.###}]");
}
