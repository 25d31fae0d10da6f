using System.Text;

namespace SiteWatch.Video.Klv;

/// <summary>
/// Decoders for structured values (packs, lists, DLP/VLP types) that the tag tables point at.
/// Each reads through <see cref="KlvCursor"/> so truncated or garbled input raises only <see cref="KlvFormatException"/>.
/// </summary>
public static class KlvPacks
{
    private static readonly Imapb s_lat4 = Imapb.Create(-90, 90, 4);
    private static readonly Imapb s_lon4 = Imapb.Create(-180, 180, 4);

    /// <summary>Boxed double, or a <see cref="KlvSpecialValue"/> when IMAPB signals NaN/infinity.</summary>
    private static object ImapbValue(ref KlvCursor c, Imapb map)
    {
        var v = map.Decode(c.ReadUInt(map.Length), out var special);
        return special == ImapbSpecial.None ? v : new KlvSpecialValue(special);
    }

    private static object ImapbValue(ref KlvCursor c, double min, double max, int length) =>
        ImapbValue(ref c, Imapb.Create(min, max, length));

    private static string ReadPrefixedText(ref KlvCursor c) => Encoding.UTF8.GetString(c.ReadPrefixed());

    private static KlvEnumValue Enum(long value, string?[] labels) =>
        new(value, value >= 0 && value < labels.Length ? labels[value] : null);

    private static List<object?> Bits(ulong value, string[] names)
    {
        var list = new List<object?>();
        for (var i = 0; i < 64 && value >> i != 0; i++)
        {
            if (((value >> i) & 1) != 0)
            {
                list.Add(Enum(i, names));
            }
        }

        return list;
    }

    // ---------------------------------------------------------------- ST 0601

    /// <summary>ST 0601 tag 81: x0, y0, x1, y1 (percent of frame) and optionally the two horizon points' latitude/longitude.</summary>
    public static object? ImageHorizonPack(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var s = new KlvStruct()
            .Add("x0", (long)c.ReadByte(), "%")
            .Add("y0", (long)c.ReadByte(), "%")
            .Add("x1", (long)c.ReadByte(), "%")
            .Add("y1", (long)c.ReadByte(), "%");
        if (!c.IsEnd)
        {
            s.Add("latitude0", SignedMapped(c.ReadInt(4), 90), "deg")
             .Add("longitude0", SignedMapped(c.ReadInt(4), 180), "deg")
             .Add("latitude1", SignedMapped(c.ReadInt(4), 90), "deg")
             .Add("longitude1", SignedMapped(c.ReadInt(4), 180), "deg");
        }

        EndOfPack(ref c);
        return s;
    }

    private static object SignedMapped(long raw, double range) =>
        raw == int.MinValue ? new KlvSpecialValue(ImapbSpecial.OutOfRange) : raw * (range / int.MaxValue);

    private static readonly string?[] s_miisIdTypes = ["None", "Managed", "Virtual", "Physical"];

    /// <summary>ST 1204 MIIS core identifier (ST 0601 tag 94, ST 0903 tag 13).</summary>
    public static object? MiisCoreIdentifier(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var version = c.ReadOid();
        var usage = c.ReadByte();
        // Usage byte: bits 6-5 sensor id type, 4-3 platform id type, 2 window id present, 1 minor id present.
        var sensorType = (usage >> 5) & 3;
        var platformType = (usage >> 3) & 3;
        var s = new KlvStruct()
            .Add("version", (long)version)
            .Add("sensor_id_type", Enum(sensorType, s_miisIdTypes))
            .Add("platform_id_type", Enum(platformType, s_miisIdTypes));
        s.Add("sensor_id", sensorType != 0 ? new KlvBytes(c.ReadBytes(16).ToArray()) : null);
        s.Add("platform_id", platformType != 0 ? new KlvBytes(c.ReadBytes(16).ToArray()) : null);
        s.Add("window_id", (usage & 4) != 0 ? new KlvBytes(c.ReadBytes(16).ToArray()) : null);
        s.Add("minor_id", (usage & 2) != 0 ? new KlvBytes(c.ReadBytes(16).ToArray()) : null);
        EndOfPack(ref c);
        return s;
    }

    /// <summary>ST 0601 tag 115: command id, command text, optional timestamp.</summary>
    public static object? ControlCommand(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var s = new KlvStruct()
            .Add("id", (long)c.ReadOid())
            .Add("string", ReadPrefixedText(ref c));
        s.Add("timestamp", c.IsEnd ? null : (object)(long)c.ReadUInt(c.Remaining), "us");
        return s;
    }

    /// <summary>A run of BER-OID values (ST 0601 tags 116, 121).</summary>
    public static object? OidList(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var list = new List<object?>();
        while (!c.IsEnd)
        {
            list.Add((long)c.ReadOid());
        }

        return list;
    }

    private static readonly string?[] s_countryCoding =
    [
        null, "ISO-3166 Two Letter", "ISO-3166 Three Letter", "FIPS 10-4 Two Letter", "FIPS 10-4 Four Letter",
        "ISO-3166 Numeric", "1059 Two Letter", "1059 Three Letter", "Omitted Value", "Omitted Value",
        "FIPS 10-4 Mixed", "ISO 3166 Mixed", "STANAG 1059 Mixed", "GENC Two Letter", "GENC Three Letter",
        "GENC Numeric", "GENC Mixed",
    ];

    internal static (long, string)[] CountryCodingLabels()
    {
        var list = new List<(long, string)>();
        for (var i = 1; i < s_countryCoding.Length; i++)
        {
            list.Add((i, s_countryCoding[i]!));
        }

        list.Add((64, "GENC AdminSub"));
        return list.ToArray();
    }

    /// <summary>ST 0601 tag 122: coding method, then overflight, operator and manufacture country (each optional).</summary>
    public static object? CountryCodes(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var methodBytes = c.ReadPrefixed();
        var mc = new KlvCursor(methodBytes);
        var s = new KlvStruct().Add("coding_method", Enum((long)mc.ReadOid(), s_countryCoding));
        foreach (var name in (ReadOnlySpan<string>)["overflight_country", "operator_country", "country_of_manufacture"])
        {
            string? text = null;
            if (!c.IsEnd)
            {
                var bytes = c.ReadPrefixed();
                text = bytes.IsEmpty ? null : Encoding.UTF8.GetString(bytes);
            }

            s.Add(name, text);
        }

        EndOfPack(ref c);
        return s;
    }

    /// <summary>ST 0601 tag 127: frames per second as numerator / denominator (default 1).</summary>
    public static object? FrameRatePack(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var numerator = c.ReadOid();
        var denominator = c.IsEnd ? 1UL : c.ReadOid();
        EndOfPack(ref c);
        return new KlvStruct().Add("numerator", (long)numerator).Add("denominator", (long)denominator);
    }

    private static readonly Imapb s_wavelength = Imapb.Create(0, 1e9, 4);

    /// <summary>ST 0601 tag 128: (id, min nm, max nm, name) per wavelength band.</summary>
    public static object? WavelengthsList(ReadOnlySpan<byte> value) => Series(value, static (ref KlvCursor e) => new KlvStruct()
        .Add("id", (long)e.ReadOid())
        .Add("min", ImapbValue(ref e, s_wavelength), "nm")
        .Add("max", ImapbValue(ref e, s_wavelength), "nm")
        .Add("name", Encoding.UTF8.GetString(e.ReadRest())));

    /// <summary>Reads one pack of a series from its own cursor.</summary>
    private delegate object? PackReader(ref KlvCursor pack);

    /// <summary>A series of BER-length-prefixed packs, each read by <paramref name="read"/> from a cursor over just that pack.</summary>
    private static List<object?> Series(ReadOnlySpan<byte> value, PackReader read)
    {
        var c = new KlvCursor(value);
        var list = new List<object?>();
        while (!c.IsEnd)
        {
            var e = new KlvCursor(c.ReadPrefixed());
            list.Add(read(ref e));
        }

        return list;
    }

    private static readonly Imapb s_hae0601 = Imapb.Create(-900, 9000, 3);

    /// <summary>ST 0601 location: latitude, longitude (IMAPB 4 bytes) and optional height (IMAPB -900..9000, 3 bytes).</summary>
    private static KlvStruct Location0601(ReadOnlySpan<byte> bytes)
    {
        var c = new KlvCursor(bytes);
        var s = new KlvStruct()
            .Add("latitude", ImapbValue(ref c, s_lat4), "deg")
            .Add("longitude", ImapbValue(ref c, s_lon4), "deg");
        s.Add("altitude", c.IsEnd ? null : ImapbValue(ref c, s_hae0601), "m");
        EndOfPack(ref c);
        return s;
    }

    /// <summary>ST 0601 tag 130: take-off and recovery locations, each BER-length prefixed (0 = absent).</summary>
    public static object? AirbaseLocations(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var takeOff = c.ReadPrefixed();
        var recovery = c.IsEnd ? default : c.ReadPrefixed();
        EndOfPack(ref c);
        return new KlvStruct()
            .Add("take_off_location", takeOff.IsEmpty ? null : Location0601(takeOff))
            .Add("recovery_location", recovery.IsEmpty ? null : Location0601(recovery));
    }

    private static readonly string?[] s_payloadTypes = ["Electro Optical MI Sensor", "LIDAR", "RADAR", "SIGINT", "SAR"];

    /// <summary>ST 0601 tag 138: payload count, then (id, type, name) per payload.</summary>
    public static object? PayloadList(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var count = c.ReadOid();
        var list = new List<object?>();
        while (!c.IsEnd)
        {
            var e = new KlvCursor(c.ReadPrefixed());
            list.Add(new KlvStruct()
                .Add("id", (long)e.ReadOid())
                .Add("type", Enum((long)e.ReadOid(), s_payloadTypes))
                .Add("name", ReadPrefixedText(ref e)));
        }

        if ((ulong)list.Count != count)
        {
            throw new KlvFormatException($"Payload list says {count} payloads but holds {list.Count}", 0);
        }

        return list;
    }

    /// <summary>ST 0601 tag 139: bit i (from the last byte's least significant bit) set = payload i active.</summary>
    public static object? ActivePayloads(ReadOnlySpan<byte> value)
    {
        var list = new List<object?>();
        for (var i = 0; i < value.Length * 8; i++)
        {
            if ((value[value.Length - 1 - (i >> 3)] >> (i & 7) & 1) != 0)
            {
                list.Add((long)i);
            }
        }

        return list;
    }

    private static readonly string?[] s_storeStatus =
    [
        "Off", "Initialization", "Ready/Degraded", "Ready/All Up Round", "Launch", "Free Flight", "Abort",
        "Miss Fire", "Hang Fire", "Jettisoned", "Stepped Over", "No Status Available",
    ];

    private static readonly string[] s_engagement = ["Fuze Enabled", "Laser Enabled", "Target Enabled", "Weapon Armed"];

    /// <summary>ST 0601 tag 140: one pack per store (station, hardpoint, carriage, store, status, weapon type).</summary>
    public static object? WeaponsStores(ReadOnlySpan<byte> value) => Series(value, static (ref KlvCursor e) =>
    {
        var s = new KlvStruct()
            .Add("station_id", (long)e.ReadOid())
            .Add("hardpoint_id", (long)e.ReadOid())
            .Add("carriage_id", (long)e.ReadOid())
            .Add("store_id", (long)e.ReadOid());
        // One BER-OID: general status in the low 8 bits, engagement flags above them.
        var status = e.ReadOid();
        return s.Add("general_status", Enum((long)(status & 0xFF), s_storeStatus))
            .Add("engagement_status", Bits(status >> 8, s_engagement))
            .Add("weapon_type", ReadPrefixedText(ref e));
    });

    private static readonly string[] s_waypointInfo = ["Mode Bit", "Source Bit"];

    /// <summary>ST 0601 tag 141: (id, prosecution order, info flags, optional location) per waypoint.</summary>
    public static object? WaypointList(ReadOnlySpan<byte> value) => Series(value, static (ref KlvCursor e) => new KlvStruct()
        .Add("id", (long)e.ReadOid())
        .Add("order", e.ReadInt(2))
        .Add("info", Bits(e.ReadOid(), s_waypointInfo))
        .Add("location", e.IsEnd ? null : Location0601(e.ReadRest())));

    /// <summary>ST 0601 tag 142: azimuth, elevation and roll domains, each BER-length prefixed start/range pair.</summary>
    public static object? ViewDomain(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var s = new KlvStruct();
        s.Add("azimuth", ViewInterval(ref c, 0, 360));
        s.Add("elevation", ViewInterval(ref c, -180, 180));
        s.Add("roll", ViewInterval(ref c, 0, 360));
        EndOfPack(ref c);
        return s;
    }

    private static KlvStruct? ViewInterval(ref KlvCursor c, double startMin, double startMax)
    {
        if (c.IsEnd)
        {
            return null;
        }

        var bytes = c.ReadPrefixed();
        if (bytes.IsEmpty)
        {
            return null;
        }

        if ((bytes.Length & 1) != 0 || bytes.Length > 16)
        {
            throw new KlvFormatException($"View domain interval of {bytes.Length} bytes", c.Position);
        }

        var half = bytes.Length / 2;
        var e = new KlvCursor(bytes);
        return new KlvStruct()
            .Add("start", ImapbValue(ref e, startMin, startMax, half), "deg")
            .Add("range", ImapbValue(ref e, 0, 360, half), "deg")
            .Add("semi_length", (long)half);
    }

    /// <summary>ST 0601 tag 143: local substream id and optional 16-byte universal id.</summary>
    public static object? MetadataSubstreamId(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var s = new KlvStruct().Add("local_id", (long)c.ReadOid());
        s.Add("universal_id", c.IsEnd ? null : new KlvBytes(c.ReadBytes(16).ToArray()));
        EndOfPack(ref c);
        return s;
    }

    // ---------------------------------------------------------------- ST 0903

    private static readonly Imapb s_hae0903 = Imapb.Create(-900, 19000, 2);
    private static readonly Imapb s_sigma = Imapb.Create(0, 650, 2);
    private static readonly Imapb s_rho = Imapb.Create(-1, 1, 2);
    private static readonly Imapb s_velocity = Imapb.Create(-900, 900, 2);

    /// <summary>ST 0903 location pack: lat/lon (IMAPB 4), HAE (IMAPB 2), optional sigmas and correlations.</summary>
    public static object? Location0903(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var s = new KlvStruct()
            .Add("latitude", ImapbValue(ref c, s_lat4), "deg")
            .Add("longitude", ImapbValue(ref c, s_lon4), "deg")
            .Add("altitude", ImapbValue(ref c, s_hae0903), "m");
        AddSigmaRho(ref c, s);
        return s;
    }

    private static void AddSigmaRho(ref KlvCursor c, KlvStruct s)
    {
        KlvStruct? sigma = null;
        KlvStruct? rho = null;
        if (!c.IsEnd)
        {
            sigma = new KlvStruct()
                .Add("east", ImapbValue(ref c, s_sigma))
                .Add("north", ImapbValue(ref c, s_sigma))
                .Add("up", ImapbValue(ref c, s_sigma));
        }

        if (!c.IsEnd)
        {
            rho = new KlvStruct()
                .Add("east_north", ImapbValue(ref c, s_rho))
                .Add("east_up", ImapbValue(ref c, s_rho))
                .Add("north_up", ImapbValue(ref c, s_rho));
        }

        EndOfPack(ref c);
        s.Add("sigma", sigma).Add("rho", rho);
    }

    /// <summary>ST 0903 series of BER-length-prefixed location packs (boundary, track history).</summary>
    public static object? LocationSeries(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var list = new List<object?>();
        while (!c.IsEnd)
        {
            list.Add(Location0903(c.ReadPrefixed()));
        }

        return list;
    }

    /// <summary>ST 0903 velocity / acceleration pack: east, north, up (IMAPB -900..900) with optional sigmas and correlations.</summary>
    public static object? VelocityPack(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var s = new KlvStruct()
            .Add("east", ImapbValue(ref c, s_velocity))
            .Add("north", ImapbValue(ref c, s_velocity))
            .Add("up", ImapbValue(ref c, s_velocity));
        AddSigmaRho(ref c, s);
        return s;
    }

    /// <summary>ST 0903 tag 21: focal plane array row and column.</summary>
    public static object? FpaIndexPack(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var s = new KlvStruct().Add("row", (long)c.ReadOid()).Add("column", (long)c.ReadOid());
        EndOfPack(ref c);
        return s;
    }

    /// <summary>ST 0903 VMask polygon: BER-length-prefixed pixel numbers.</summary>
    public static object? PixelList(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var list = new List<object?>();
        while (!c.IsEnd)
        {
            var n = c.ReadLength();
            list.Add((long)c.ReadUInt(n));
        }

        return list;
    }

    /// <summary>ST 0903 VMask bitmask series: (start pixel, run length) pairs.</summary>
    public static object? PixelRunSeries(ReadOnlySpan<byte> value) => Series(value, static (ref KlvCursor e) =>
    {
        var index = e.ReadUInt(e.ReadLength());
        var run = e.ReadUInt(e.Remaining);
        return new KlvStruct().Add("index", (long)index).Add("length", (long)run);
    });

    // ---------------------------------------------------------------- ST 0806, ST 1002

    private static readonly string?[] s_userDataTypes = ["String", "Signed Integer", "Unsigned Integer", "Experimental"];

    /// <summary>ST 0806 user-defined set tag 1: data type (bits 7-6) and numeric id (bits 5-0).</summary>
    public static object? UserDefinedId(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var b = c.ReadByte();
        EndOfPack(ref c);
        return new KlvStruct().Add("type", Enum(b >> 6, s_userDataTypes)).Add("id", (long)(b & 0x3F));
    }

    /// <summary>ST 1002 tag 12: range image source (bit 6), data type (bits 5-3), compression (bits 2-0).</summary>
    public static object? RangeImageEnumerations(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var b = (long)c.ReadUInt(c.Remaining);
        return new KlvStruct()
            .Add("compression_method", Enum(b & 7, ["None", "Planar Fit"]))
            .Add("data_type", Enum((b >> 3) & 7, ["Perspective Range Image", "Depth Range Image"]))
            .Add("source", Enum((b >> 6) & 1, ["Computationally Extracted", "Range Sensor"]));
    }

    // ---------------------------------------------------------------- ST 1303 multi-dimensional arrays

    /// <summary>How elements with the "natural" array processing algorithm are to be read for a given tag.</summary>
    public enum MdNatural : byte
    {
        /// <summary>IEEE float (element size 4 or 8).</summary>
        Float,
        /// <summary>Unsigned integer of the element size.</summary>
        UInt,
        /// <summary>Coded by another standard (ST 1010 SDCC values): kept as the element bytes.</summary>
        Opaque,
    }

    private static readonly string?[] s_apaNames = [null, "Natural", "IMAP", "Boolean", "Unsigned Integer", "Run-Length Encoding"];

    /// <summary>A decoder for an ST 1303 MDARRAY value whose natural elements are <paramref name="natural"/>.</summary>
    public static KlvCustomDecoder MdArray(MdNatural natural) => value => ReadMdArray(value, natural);

    /// <summary>
    /// ST 1303 array: dimension count, sizes, element size, array processing algorithm (APA) and its
    /// parameters, then the elements. IMAP elements are mapped with the array's own bounds (float32 or
    /// float64 pair). Natural, IMAP and Boolean elements are decoded; unsigned-integer and run-length APAs
    /// keep their parameter and element bytes.
    /// </summary>
    public static KlvStruct ReadMdArray(ReadOnlySpan<byte> value, MdNatural natural)
    {
        var c = new KlvCursor(value);
        var dimensions = c.ReadOid();
        if (dimensions is 0 or > 32)
        {
            throw new KlvFormatException($"MDARRAY with {dimensions} dimensions", 0);
        }

        var sizes = new List<object?>();
        ulong count = 1;
        for (ulong d = 0; d < dimensions; d++)
        {
            var size = c.ReadOid();
            sizes.Add((long)size);
            count *= size;
            if (count > (ulong)value.Length * 8)
            {
                throw new KlvFormatException("MDARRAY larger than its bytes", c.Position);
            }
        }

        var elementSize = c.ReadOid();
        if (elementSize > 8)
        {
            throw new KlvFormatException($"MDARRAY element size {elementSize}", c.Position);
        }

        var apa = (long)c.ReadOid();
        var s = new KlvStruct()
            .Add("sizes", sizes)
            .Add("element_size", (long)elementSize)
            .Add("apa", Enum(apa, s_apaNames));
        var e = (int)elementSize;
        var n = (int)count;
        switch (apa)
        {
            case 1:
            {
                s.Add("apa_params_length", 0L).Add("imap_params", null);
                if ((ulong)c.Remaining != count * elementSize)
                {
                    throw new KlvFormatException($"MDARRAY has {c.Remaining} element bytes, expected {count * elementSize}", c.Position);
                }

                if (natural == MdNatural.Opaque || (natural == MdNatural.Float && e is not (4 or 8)))
                {
                    s.Add("elements", new KlvBytes(c.ReadRest().ToArray()));
                    break;
                }

                var list = new List<object?>(n);
                for (var i = 0; i < n; i++)
                {
                    var bytes = c.ReadBytes(e);
                    list.Add(natural == MdNatural.UInt
                        ? (long)KlvPrimitives.ReadUInt(bytes)
                        : e == 4 ? (double)System.Buffers.Binary.BinaryPrimitives.ReadSingleBigEndian(bytes) : System.Buffers.Binary.BinaryPrimitives.ReadDoubleBigEndian(bytes));
                }

                s.Add("elements", list);
                break;
            }

            case 2:
            {
                // Bounds are a float32 or float64 pair: whichever leaves exactly the element bytes.
                var paramsLength = c.Remaining - n * e;
                if (paramsLength is not (8 or 16) || e == 0)
                {
                    throw new KlvFormatException($"MDARRAY IMAP parameters of {paramsLength} bytes", c.Position);
                }

                var half = paramsLength / 2;
                double min = half == 4 ? c.ReadFloat32() : System.Buffers.Binary.BinaryPrimitives.ReadDoubleBigEndian(c.ReadBytes(8));
                double max = half == 4 ? c.ReadFloat32() : System.Buffers.Binary.BinaryPrimitives.ReadDoubleBigEndian(c.ReadBytes(8));
                if (!(max > min) || !double.IsFinite(max - min))
                {
                    throw new KlvFormatException($"MDARRAY IMAP bounds [{min}, {max}]", c.Position);
                }

                var map = Imapb.Create(min, max, e);
                var list = new List<object?>(n);
                for (var i = 0; i < n; i++)
                {
                    list.Add(ImapbValue(ref c, map));
                }

                s.Add("apa_params_length", (long)paramsLength)
                 .Add("imap_params", new KlvStruct().Add("lower_bound", min).Add("upper_bound", max))
                 .Add("elements", list);
                break;
            }

            case 3:
            {
                var bytes = c.ReadBytes((n + 7) / 8);
                var list = new List<object?>(n);
                for (var i = 0; i < n; i++)
                {
                    list.Add((bytes[i >> 3] >> (7 - (i & 7)) & 1) != 0);
                }

                s.Add("apa_params_length", 0L).Add("imap_params", null).Add("elements", list);
                EndOfPack(ref c);
                break;
            }

            default:
                // Unsigned-integer bias and run-length patches: kept as bytes (parameters and elements together).
                s.Add("apa_params_and_elements", new KlvBytes(c.ReadRest().ToArray()));
                break;
        }

        return s;
    }

    /// <summary>ST 1002 tag 20: section numbers, measurement and uncertainty arrays, plane fit coefficients; each BER-length prefixed.</summary>
    public static object? SectionDataPack(ReadOnlySpan<byte> value)
    {
        var c = new KlvCursor(value);
        var s = new KlvStruct()
            .Add("section_x", (long)c.ReadUInt(c.ReadLength()))
            .Add("section_y", (long)c.ReadUInt(c.ReadLength()));
        var measurements = c.ReadPrefixed();
        s.Add("measurements", ReadMdArray(measurements, MdNatural.Float));
        var uncertainty = c.IsEnd ? default : c.ReadPrefixed();
        s.Add("uncertainty", uncertainty.IsEmpty ? null : ReadMdArray(uncertainty, MdNatural.Float));
        foreach (var name in (ReadOnlySpan<string>)["plane_x_scale", "plane_y_scale", "plane_constant"])
        {
            var bytes = c.IsEnd ? default : c.ReadPrefixed();
            s.Add(name, bytes.Length switch
            {
                0 => null,
                4 => (double)System.Buffers.Binary.BinaryPrimitives.ReadSingleBigEndian(bytes),
                8 => System.Buffers.Binary.BinaryPrimitives.ReadDoubleBigEndian(bytes),
                _ => throw new KlvFormatException($"Plane coefficient of {bytes.Length} bytes", c.Position),
            });
        }

        EndOfPack(ref c);
        return s;
    }

    private static void EndOfPack(ref KlvCursor c)
    {
        if (!c.IsEnd)
        {
            throw new KlvFormatException($"{c.Remaining} unexpected bytes at the end of the pack", c.Position);
        }
    }
}
