namespace SiteWatch.Video.Klv;

/// <summary>
/// Says without allocating whether a pack decoder of <see cref="KlvPacks"/> would succeed on some bytes; each is paired
/// with its decoder and encoder in <see cref="KlvPackFormats"/>.
/// </summary>
/// <remarks>
/// A packet decoder that knows a pack is well formed stores the item as a <see cref="KlvValueKind.Struct"/> and
/// leaves building the struct (boxed fields, lists) to the first <see cref="KlvItem.AsStructured"/>, as text is
/// built only by <see cref="KlvItem.AsString"/>. This is what keeps packs whose values change from packet to packet
/// (image horizon, VMTI target locations, velocities) from allocating on every packet. A validator must be exact
/// where it says true (the decoder then cannot fail); it may say false for bytes the decoder would still accept,
/// which only means the pack is decoded at once as before.
/// </remarks>
internal delegate bool KlvPackValidator(ReadOnlySpan<byte> value);

internal static class KlvPackValidators
{
    public static bool ActivePayloads(ReadOnlySpan<byte> v) => true;

    /// <summary>One byte: data type and numeric id.</summary>
    public static bool UserDefinedId(ReadOnlySpan<byte> v) => v.Length == 1;

    /// <summary>At most 8 bytes of enumerations.</summary>
    public static bool RangeImageEnumerations(ReadOnlySpan<byte> v) => v.Length <= 8;

    /// <summary>x0, y0, x1, y1 bytes, optionally followed by four 4-byte signed mapped coordinates.</summary>
    public static bool ImageHorizonPack(ReadOnlySpan<byte> v) => v.Length is 4 or 20;

    /// <summary>Version OID, usage byte, then 16 bytes for each id the usage byte announces, nothing after.</summary>
    public static bool MiisCoreIdentifier(ReadOnlySpan<byte> v)
    {
        var n = Ber.TryReadOid(v, out _);
        if (n <= 0 || n >= v.Length)
        {
            return false;
        }

        var usage = v[n];
        var ids = (((usage >> 5) & 3) != 0 ? 1 : 0) + (((usage >> 3) & 3) != 0 ? 1 : 0) + ((usage & 4) != 0 ? 1 : 0) + ((usage & 2) != 0 ? 1 : 0);
        return v.Length - n - 1 == 16 * ids;
    }

    public static bool OidList(ReadOnlySpan<byte> v)
    {
        var pos = 0;
        while (pos < v.Length)
        {
            var n = Ber.TryReadOid(v[pos..], out _);
            if (n <= 0)
            {
                return false;
            }

            pos += n;
        }

        return true;
    }

    /// <summary>Numerator OID and an optional denominator OID.</summary>
    public static bool FrameRatePack(ReadOnlySpan<byte> v)
    {
        var n = Ber.TryReadOid(v, out _);
        if (n <= 0)
        {
            return false;
        }

        if (n == v.Length)
        {
            return true;
        }

        var d = Ber.TryReadOid(v[n..], out _);
        return d > 0 && n + d == v.Length;
    }

    /// <summary>Local id OID and an optional 16-byte universal id.</summary>
    public static bool MetadataSubstreamId(ReadOnlySpan<byte> v)
    {
        var n = Ber.TryReadOid(v, out _);
        return n > 0 && (v.Length - n is 0 or 16);
    }

    /// <summary>Latitude, longitude (4 bytes each) and height (2), then optionally 6 bytes of sigmas and 6 of correlations.</summary>
    public static bool Location0903(ReadOnlySpan<byte> v) => v.Length is 10 or 16 or 22;

    /// <summary>East, north, up (2 bytes each), then optionally 6 bytes of sigmas and 6 of correlations.</summary>
    public static bool VelocityPack(ReadOnlySpan<byte> v) => v.Length is 6 or 12 or 18;

    /// <summary>BER-length-prefixed location packs.</summary>
    public static bool LocationSeries(ReadOnlySpan<byte> v)
    {
        var pos = 0;
        while (pos < v.Length)
        {
            var n = Ber.TryReadLength(v[pos..], out var length);
            if (n <= 0 || length < 0 || length > v.Length - pos - n || !Location0903(v.Slice(pos + n, length)))
            {
                return false;
            }

            pos += n + length;
        }

        return true;
    }

    /// <summary>Row and column OIDs, nothing after.</summary>
    public static bool FpaIndexPack(ReadOnlySpan<byte> v)
    {
        var r = Ber.TryReadOid(v, out _);
        if (r <= 0)
        {
            return false;
        }

        var c = Ber.TryReadOid(v[r..], out _);
        return c > 0 && r + c == v.Length;
    }

    // ------------------------------------------------------------ helpers mirroring KlvCursor's reads

    private static bool Oid(ReadOnlySpan<byte> v, ref int pos)
    {
        var n = Ber.TryReadOid(v[pos..], out _);
        pos += Math.Max(n, 0);
        return n > 0;
    }

    /// <summary>A BER length and that many bytes (KlvCursor.ReadPrefixed).</summary>
    private static bool Prefixed(ReadOnlySpan<byte> v, ref int pos, out ReadOnlySpan<byte> body)
    {
        body = default;
        var n = Ber.TryReadLength(v[pos..], out var length);
        if (n <= 0 || length < 0 || length > v.Length - pos - n)
        {
            return false;
        }

        body = v.Slice(pos + n, length);
        pos += n + length;
        return true;
    }

    /// <summary>ST 0601 location: latitude and longitude (4 bytes each) and an optional 3-byte height.</summary>
    private static bool Location0601(ReadOnlySpan<byte> v) => v.Length is 8 or 11;

    /// <summary>Command id, prefixed text, then an optional timestamp of at most 8 bytes.</summary>
    public static bool ControlCommand(ReadOnlySpan<byte> v)
    {
        var pos = 0;
        return Oid(v, ref pos) && Prefixed(v, ref pos, out _) && v.Length - pos <= 8;
    }

    /// <summary>Prefixed coding method (starting with an OID), then up to three prefixed country texts.</summary>
    public static bool CountryCodes(ReadOnlySpan<byte> v)
    {
        var pos = 0;
        if (!Prefixed(v, ref pos, out var method))
        {
            return false;
        }

        var m = 0;
        if (!Oid(method, ref m))
        {
            return false;
        }

        for (var i = 0; i < 3 && pos < v.Length; i++)
        {
            if (!Prefixed(v, ref pos, out _))
            {
                return false;
            }
        }

        return pos == v.Length;
    }

    /// <summary>Prefixed elements: id OID, two 4-byte IMAPB bounds, then a name (the rest).</summary>
    public static bool WavelengthsList(ReadOnlySpan<byte> v)
    {
        var pos = 0;
        while (pos < v.Length)
        {
            var e = 0;
            if (!Prefixed(v, ref pos, out var element) || !Oid(element, ref e) || element.Length - e < 8)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Prefixed take-off location and optional prefixed recovery location (each empty or a location).</summary>
    public static bool AirbaseLocations(ReadOnlySpan<byte> v)
    {
        var pos = 0;
        if (!Prefixed(v, ref pos, out var takeOff) || !(takeOff.IsEmpty || Location0601(takeOff)))
        {
            return false;
        }

        if (pos < v.Length && (!Prefixed(v, ref pos, out var recovery) || !(recovery.IsEmpty || Location0601(recovery))))
        {
            return false;
        }

        return pos == v.Length;
    }

    /// <summary>Payload count OID, then that many prefixed (id OID, type OID, prefixed name) elements.</summary>
    public static bool PayloadList(ReadOnlySpan<byte> v)
    {
        var n = Ber.TryReadOid(v, out var count);
        if (n <= 0)
        {
            return false;
        }

        var pos = n;
        ulong elements = 0;
        while (pos < v.Length)
        {
            var e = 0;
            if (!Prefixed(v, ref pos, out var element) || !Oid(element, ref e) || !Oid(element, ref e) || !Prefixed(element, ref e, out _))
            {
                return false;
            }

            elements++;
        }

        return elements == count;
    }

    /// <summary>Prefixed elements: five OIDs (station, hardpoint, carriage, store, status) and a prefixed weapon type.</summary>
    public static bool WeaponsStores(ReadOnlySpan<byte> v)
    {
        var pos = 0;
        while (pos < v.Length)
        {
            var e = 0;
            if (!Prefixed(v, ref pos, out var element))
            {
                return false;
            }

            for (var i = 0; i < 5; i++)
            {
                if (!Oid(element, ref e))
                {
                    return false;
                }
            }

            if (!Prefixed(element, ref e, out _))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Prefixed elements: id OID, 2-byte order, info OID, then nothing or a location.</summary>
    public static bool WaypointList(ReadOnlySpan<byte> v)
    {
        var pos = 0;
        while (pos < v.Length)
        {
            var e = 0;
            if (!Prefixed(v, ref pos, out var element) || !Oid(element, ref e) || element.Length - e < 2)
            {
                return false;
            }

            e += 2;
            if (!Oid(element, ref e) || (e < element.Length && !Location0601(element[e..])))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Up to three prefixed intervals, each empty or an even number of bytes up to 16.</summary>
    public static bool ViewDomain(ReadOnlySpan<byte> v)
    {
        var pos = 0;
        for (var i = 0; i < 3 && pos < v.Length; i++)
        {
            if (!Prefixed(v, ref pos, out var interval) || (interval.Length & 1) != 0 || interval.Length > 16)
            {
                return false;
            }
        }

        return pos == v.Length;
    }
}
