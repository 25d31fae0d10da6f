using SiteWatch.Gdal.Native;

namespace SiteWatch.Gdal;

/// <summary>An error reported by GDAL, carrying GDAL's own message.</summary>
public class GdalException : Exception
{
    public GdalException(string message) : base(message) { }
    public GdalException(string message, Exception inner) : base(message, inner) { }

    /// <summary>GDAL's CPLErrorNum for the failure (0 when GDAL gave none).</summary>
    public int GdalErrorNumber { get; init; }

    /// <summary>The text GDAL itself reported, without our context.</summary>
    public string? GdalMessage { get; init; }

    internal static void Reset() => GdalNative.CPLErrorReset();

    /// <summary>Builds an exception from GDAL's last error on this thread, prefixed with what we were doing.</summary>
    internal static GdalException FromLastError(string context)
    {
        var message = GdalNative.Utf8(GdalNative.CPLGetLastErrorMsg());
        var number = GdalNative.CPLGetLastErrorNo();
        var text = string.IsNullOrWhiteSpace(message) ? context : $"{context}: {message.Trim()}";
        return new GdalException(text) { GdalErrorNumber = number, GdalMessage = message };
    }

    /// <summary>Throws when a CPLErr return value is CE_Failure or CE_Fatal.</summary>
    internal static void ThrowIfFailed(CplErr cplErr, string context)
    {
        if (cplErr >= CplErr.Failure)
        {
            throw FromLastError(context);
        }
    }
}
