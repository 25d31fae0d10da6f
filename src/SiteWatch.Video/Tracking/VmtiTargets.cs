using SiteWatch.Video.Geo;
using SiteWatch.Video.Klv;

namespace SiteWatch.Video.Tracking;

/// <summary>Detections from the ST 0903 VMTI set nested in an ST 0601 packet (tag 74) or a standalone VMTI set.</summary>
public static class VmtiTargets
{
    /// <summary>The class name given to targets whose VObject names none.</summary>
    public const string DefaultClass = "target";

    /// <summary>
    /// The targets of a frame's telemetry, with boxes in the video's pixel grid. Pixel numbers follow ST 0903:
    /// 1-based, column + (row - 1) x frame width, where the frame width is VMTI tag 8 (else the video's).
    /// Targets without a usable centroid or box are skipped.
    /// </summary>
    public static List<BoxDetection> Read(KlvLocalSet telemetry, int videoWidth, int videoHeight)
    {
        var result = new List<BoxDetection>();
        var vmti = telemetry.Schema == St0903.Schema ? telemetry
            : telemetry.TryGetItem(St0601.VmtiLocalSet, out var nested) ? nested.AsSet() : null;
        if (vmti is null || !vmti.TryGetItem(St0903.VTargetSeries, out var seriesItem) || seriesItem.AsSeries() is not { } series)
        {
            return result;
        }

        var vmtiWidth = vmti.GetDouble(8);
        var vmtiHeight = vmti.GetDouble(9);
        var width = vmtiWidth > 0 ? (long)vmtiWidth : videoWidth;
        // VMTI pixels may be on a different grid than the decoded video (e.g. a scaled stream).
        var scaleX = vmtiWidth > 0 ? videoWidth / vmtiWidth : 1;
        var scaleY = vmtiHeight > 0 ? videoHeight / vmtiHeight : scaleX;
        foreach (var entry in series)
        {
            var target = entry.Set;
            if (ToBox(target, width) is not { } box)
            {
                continue;
            }

            var confidence = target.GetDouble(5);
            var scaled = new PixelBox(box.CentreX * scaleX, box.CentreY * scaleY, box.Width * scaleX, box.Height * scaleY);
            result.Add(new BoxDetection(scaled, double.IsNaN(confidence) ? 1.0 : Math.Clamp(confidence / 100, 0, 1), ClassOf(target))
            {
                SourceTargetId = entry.Id,
                Location = LocationOf(target),
            });
        }

        return result;
    }

    private static PixelBox? ToBox(KlvLocalSet target, long width)
    {
        (double Column, double Row)? Pixel(int tag)
        {
            var number = target.GetDouble(tag);
            if (double.IsNaN(number) || number < 1 || width <= 0)
            {
                return null;
            }

            var n = (long)number;
            var row = (n - 1) / width + 1;
            return (n - (row - 1) * width, row);
        }

        var topLeft = Pixel(2);
        var bottomRight = Pixel(3);
        if (topLeft is { } tl && bottomRight is { } br && br.Column >= tl.Column && br.Row >= tl.Row)
        {
            // Pixel (c, r), 1-based, covers [c - 1, c) x [r - 1, r) in continuous frame coordinates.
            return PixelBox.FromCorners(tl.Column - 1, tl.Row - 1, br.Column, br.Row);
        }

        var row19 = target.GetDouble(19);
        var column20 = target.GetDouble(20);
        var centroid = !double.IsNaN(row19) && !double.IsNaN(column20) ? (column20, row19) : Pixel(1);
        // A centroid alone gives a nominal 16-pixel box, enough to track and to place the point.
        return centroid is { } c ? new PixelBox(c.Item1 - 0.5, c.Item2 - 0.5, 16, 16) : null;
    }

    private static string ClassOf(KlvLocalSet target)
    {
        if (target.TryGetItem(102, out var vObject) && vObject.AsSet()?.GetString(2) is { Length: > 0 } name)
        {
            return name;
        }

        if (target.TryGetItem(107, out var objects) && objects.AsSeries() is { Count: > 0 } series
            && series.Select(e => e.Set.GetString(2)).FirstOrDefault(n => !string.IsNullOrEmpty(n)) is { } first)
        {
            return first;
        }

        return DefaultClass;
    }

    private static GeoPoint? LocationOf(KlvLocalSet target)
    {
        if (target.TryGetItem(17, out var item) && item.AsStructured() is KlvStruct location
            && location["latitude"] is double lat && location["longitude"] is double lon && !double.IsNaN(lat) && !double.IsNaN(lon))
        {
            var height = location["altitude"] is double h && !double.IsNaN(h) ? h : 0;
            return new GeoPoint(lat, lon, height);
        }

        return null;
    }
}
