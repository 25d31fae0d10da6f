using System.Globalization;

namespace SiteWatch.Core.Reports;

/// <summary>
/// The measured sentences an analyst writes ("new structure of 10,220 m², 63.1 % of the existing assembly hall"; "crane
/// removed between 2024-06-14 and 2024-07-16"), worded in one place for alerts, the demo and the site report alike.
/// </summary>
public static class MeasuredStatements
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>"10,220 m², 63.1 % of the existing assembly hall (16,200 m²)", or just the area without a reference.</summary>
    public static string AreaRelation(double areaSquareMetres, double? referenceSquareMetres = null, string? referenceName = null) =>
        referenceSquareMetres is > 0 && referenceName is not null
            ? string.Create(Inv, $"{areaSquareMetres:N0} m², {areaSquareMetres / referenceSquareMetres.Value:P1} of {referenceName} ({referenceSquareMetres.Value:N0} m²)")
            : string.Create(Inv, $"{areaSquareMetres:N0} m²");

    /// <summary>"new structure of 10,220 m², 63.1 % of the hall (16,200 m²) at 39.93036N 127.50169E between 2024-03-14 and 2024-10-15".</summary>
    public static string NewStructure(double areaSquareMetres, double lat, double lon, DateOnly before, DateOnly after,
        double? referenceSquareMetres = null, string? referenceName = null) =>
        $"new structure of {AreaRelation(areaSquareMetres, referenceSquareMetres, referenceName)} at {LatLon(lat, lon)} between {Day(before)} and {Day(after)}";

    /// <summary>"crane removed between 2024-06-14 and 2024-07-16: 247 m² gone at 39.93220N 127.49851E".</summary>
    public static string Removed(string what, DateOnly before, DateOnly after, double areaSquareMetres, double lat, double lon) =>
        string.Create(Inv, $"{what} removed between {Day(before)} and {Day(after)}: {areaSquareMetres:N0} m² gone at {LatLon(lat, lon)}");

    /// <summary>"freight_car count rose from 2 on 2024-03-14 to 21 on 2024-10-15 (+19)".</summary>
    public static string CountChange(string objectClass, int before, DateOnly beforeDate, int after, DateOnly afterDate) =>
        string.Create(Inv, $"{objectClass} count {(after > before ? "rose" : after < before ? "fell" : "stayed")} from {before} on {Day(beforeDate)} to {after} on {Day(afterDate)} ({after - before:+0;-0;0})");

    /// <summary>Latitude and longitude with their hemispheres, 5 decimals (about a metre).</summary>
    public static string LatLon(double lat, double lon) =>
        string.Create(Inv, $"{Math.Abs(lat):0.00000}{(lat < 0 ? 'S' : 'N')} {Math.Abs(lon):0.00000}{(lon < 0 ? 'W' : 'E')}");

    public static string Day(DateOnly date) => date.ToString("yyyy-MM-dd", Inv);
}
