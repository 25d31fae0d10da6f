using System.Runtime.InteropServices;

namespace SiteWatch.Gdal.Native;

/// <summary>P/Invoke declarations for OGR's vector API (datasets through GDAL's unified GDALDatasetH, layers, features, geometries).</summary>
internal static unsafe partial class GdalNative
{
    // ---- vector datasets (GDAL >= 2: one dataset type for rasters and vectors) ----
    [LibraryImport(Lib)] internal static partial int GDALDatasetGetLayerCount(DatasetHandle dataset);
    [LibraryImport(Lib)] internal static partial nint GDALDatasetGetLayer(DatasetHandle dataset, int index);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial nint GDALDatasetGetLayerByName(DatasetHandle dataset, string name);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint GDALDatasetCreateLayer(DatasetHandle dataset, string name, SpatialReferenceHandle srs, int geometryType, nint options);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint GDALDatasetCreateLayer(DatasetHandle dataset, string name, nint srs, int geometryType, nint options);
    [LibraryImport(Lib)] internal static partial OgrErr GDALDatasetStartTransaction(DatasetHandle dataset, int force);
    [LibraryImport(Lib)] internal static partial OgrErr GDALDatasetCommitTransaction(DatasetHandle dataset);
    [LibraryImport(Lib)] internal static partial OgrErr GDALDatasetRollbackTransaction(DatasetHandle dataset);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial nint GDALGetDriverLongName(nint driver);

    // ---- layers (owned by their dataset: never freed by us) ----
    [LibraryImport(Lib)] internal static partial nint OGR_L_GetName(nint layer);
    [LibraryImport(Lib)] internal static partial nint OGR_L_GetLayerDefn(nint layer);
    [LibraryImport(Lib)] internal static partial long OGR_L_GetFeatureCount(nint layer, int force);
    [LibraryImport(Lib)] internal static partial OgrErr OGR_L_CreateFeature(nint layer, FeatureHandle feature);
    [LibraryImport(Lib)] internal static partial int OGR_L_GetGeomType(nint layer);
    [LibraryImport(Lib)] internal static partial nint OGR_L_GetSpatialRef(nint layer);

    // ---- field definitions ----
    [LibraryImport(Lib)] internal static partial int OGR_FD_GetFieldCount(nint definition);
    [LibraryImport(Lib)] internal static partial nint OGR_FD_GetFieldDefn(nint definition, int index);
    [LibraryImport(Lib)] internal static partial nint OGR_Fld_GetNameRef(nint field);
    [LibraryImport(Lib)] internal static partial int OGR_Fld_GetType(nint field);

    // ---- features ----
    [LibraryImport(Lib)] internal static partial nint OGR_F_Create(nint definition);
    [LibraryImport(Lib)] internal static partial long OGR_F_GetFID(FeatureHandle feature);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial int OGR_F_GetFieldIndex(FeatureHandle feature, string name);
    [LibraryImport(Lib)] internal static partial void OGR_F_SetFieldInteger64(FeatureHandle feature, int index, long value);
    [LibraryImport(Lib)] internal static partial void OGR_F_SetFieldDouble(FeatureHandle feature, int index, double value);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial void OGR_F_SetFieldString(FeatureHandle feature, int index, string value);
    [LibraryImport(Lib)]
    internal static partial void OGR_F_SetFieldDateTimeEx(FeatureHandle feature, int index, int year, int month, int day, int hour, int minute, float second, int tzFlag);
    [LibraryImport(Lib)] internal static partial void OGR_F_SetFieldNull(FeatureHandle feature, int index);
    [LibraryImport(Lib)] internal static partial int OGR_F_IsFieldSetAndNotNull(FeatureHandle feature, int index);
    [LibraryImport(Lib)] internal static partial long OGR_F_GetFieldAsInteger64(FeatureHandle feature, int index);
    [LibraryImport(Lib)] internal static partial double OGR_F_GetFieldAsDouble(FeatureHandle feature, int index);
    [LibraryImport(Lib)] internal static partial nint OGR_F_GetFieldAsString(FeatureHandle feature, int index);
    [LibraryImport(Lib)]
    internal static partial int OGR_F_GetFieldAsDateTimeEx(FeatureHandle feature, int index, int* year, int* month, int* day, int* hour, int* minute, float* second, int* tzFlag);
    [LibraryImport(Lib)] internal static partial OgrErr OGR_F_SetGeometry(FeatureHandle feature, GeometryHandle geometry);
    [LibraryImport(Lib)] internal static partial nint OGR_F_GetGeometryRef(FeatureHandle feature);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] internal static partial void OGR_F_SetStyleString(FeatureHandle feature, string style);
    [LibraryImport(Lib)] internal static partial nint OGR_F_GetStyleString(FeatureHandle feature);

    // ---- geometries ----
    [LibraryImport(Lib)] internal static partial OgrErr OGR_G_CreateFromWkb(byte* data, nint srs, nint* geometry, int bytes);
    [LibraryImport(Lib)] internal static partial OgrErr OGR_G_CreateFromWkt(nint* text, nint srs, nint* geometry);
    [LibraryImport(Lib)] internal static partial void OGR_G_DestroyGeometry(nint geometry);
    [LibraryImport(Lib)] internal static partial OgrErr OGR_G_ExportToIsoWkt(GeometryHandle geometry, nint* text);
    [LibraryImport(Lib)] internal static partial int OGR_GT_Flatten(int geometryType);
    [LibraryImport(Lib)] internal static partial int OGR_G_ExportToIsoWkb(nint geometry, int byteOrder, byte* buffer);
    [LibraryImport(Lib)] internal static partial void OGR_G_FlattenTo2D(nint geometry);
}
