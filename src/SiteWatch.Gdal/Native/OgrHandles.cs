using Microsoft.Win32.SafeHandles;

namespace SiteWatch.Gdal.Native;

/// <summary>An OGRFeatureH we own (created by us or returned by OGR_L_GetNextFeature).</summary>
internal sealed class FeatureHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public FeatureHandle() : base(true) { }
    internal FeatureHandle(nint handle) : base(true) => SetHandle(handle);

    protected override bool ReleaseHandle()
    {
        GdalNative.OGR_F_Destroy(handle);
        return true;
    }
}

/// <summary>An OGRGeometryH we own (OGR_F_SetGeometry copies it into the feature).</summary>
internal sealed class GeometryHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public GeometryHandle() : base(true) { }
    internal GeometryHandle(nint handle) : base(true) => SetHandle(handle);

    protected override bool ReleaseHandle()
    {
        GdalNative.OGR_G_DestroyGeometry(handle);
        return true;
    }
}
