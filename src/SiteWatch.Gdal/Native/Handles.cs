using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace SiteWatch.Gdal.Native;

/// <summary>A GDALDatasetH; closing it flushes pending writes.</summary>
internal sealed unsafe class DatasetHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    // Native memory the dataset's bands live in (an in-memory raster over our buffer), freed once GDAL has closed it.
    private readonly void* _pixels;

    public DatasetHandle() : base(true) { }
    internal DatasetHandle(nint handle) : base(true) => SetHandle(handle);
    internal DatasetHandle(nint handle, void* pixels) : this(handle) => _pixels = pixels;

    protected override bool ReleaseHandle()
    {
        GdalNative.GDALClose(handle);
        NativeMemory.Free(_pixels);
        return true;
    }
}

/// <summary>
/// A GDALRasterBandH. Its dataset owns the band, so the handle does not free it: it holds a reference on the
/// dataset's handle instead, so the dataset cannot be closed (by Dispose or by the finalizer of a dataset nobody
/// refers to any more) while a native call uses one of its bands.
/// </summary>
internal sealed class BandHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private readonly DatasetHandle? _dataset;

    public BandHandle() : base(true) { }

    private BandHandle(DatasetHandle dataset, nint band) : base(true)
    {
        _dataset = dataset;
        SetHandle(band);
    }

    /// <summary>Band <paramref name="number"/> (1-based) of a dataset; null when GDAL has no such band.</summary>
    internal static BandHandle? Of(DatasetHandle dataset, int number)
    {
        var added = false;
        dataset.DangerousAddRef(ref added);
        var band = GdalNative.GDALGetRasterBand(dataset, number);
        if (band == 0)
        {
            dataset.DangerousRelease();
            return null;
        }
        return new BandHandle(dataset, band);
    }

    /// <summary>Overview <paramref name="level"/> (0 = largest) of a dataset's band; null when GDAL has no such overview.</summary>
    internal static BandHandle? OverviewOf(DatasetHandle dataset, int number, int level)
    {
        var added = false;
        dataset.DangerousAddRef(ref added);
        var band = GdalNative.GDALGetRasterBand(dataset, number);
        var overview = band == 0 ? 0 : GdalNative.GDALGetOverview(band, level);
        if (overview == 0)
        {
            dataset.DangerousRelease();
            return null;
        }
        return new BandHandle(dataset, overview);
    }

    protected override bool ReleaseHandle()
    {
        _dataset?.DangerousRelease();
        return true;
    }
}

/// <summary>An OGRSpatialReferenceH owned by us.</summary>
internal sealed class SpatialReferenceHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SpatialReferenceHandle() : base(true) { }
    internal SpatialReferenceHandle(nint handle) : base(true) => SetHandle(handle);

    protected override bool ReleaseHandle()
    {
        GdalNative.OSRDestroySpatialReference(handle);
        return true;
    }
}

/// <summary>An OGRCoordinateTransformationH.</summary>
internal sealed class CoordinateTransformationHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public CoordinateTransformationHandle() : base(true) { }
    internal CoordinateTransformationHandle(nint handle) : base(true) => SetHandle(handle);

    protected override bool ReleaseHandle()
    {
        GdalNative.OCTDestroyCoordinateTransformation(handle);
        return true;
    }
}

/// <summary>A NULL-terminated array of UTF-8 strings (GDAL's CSL "char **") allocated on the native heap for one call.</summary>
internal sealed unsafe class Utf8StringArray : IDisposable
{
    private readonly nint[] _items;
    private nint _array;

    public Utf8StringArray(IReadOnlyCollection<string>? strings)
    {
        strings ??= [];
        _items = new nint[strings.Count];
        _array = System.Runtime.InteropServices.Marshal.AllocHGlobal((strings.Count + 1) * sizeof(nint));
        var i = 0;
        foreach (var s in strings)
        {
            _items[i] = System.Runtime.InteropServices.Marshal.StringToCoTaskMemUTF8(s);
            ((nint*)_array)[i] = _items[i];
            i++;
        }
        ((nint*)_array)[strings.Count] = 0;
    }

    public nint Pointer => _array;

    public void Dispose()
    {
        foreach (var item in _items)
        {
            System.Runtime.InteropServices.Marshal.ZeroFreeCoTaskMemUTF8(item);
        }
        if (_array != 0)
        {
            System.Runtime.InteropServices.Marshal.FreeHGlobal(_array);
            _array = 0;
        }
    }
}
