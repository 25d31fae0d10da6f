using System.Text;

namespace SiteWatch.Video.Klv;

/// <summary>Encodes a structured value (the shape <see cref="KlvCustomDecoder"/> produces) into value bytes.</summary>
public delegate byte[] KlvCustomEncoder(object? value);

/// <summary>
/// Inverses of the <see cref="KlvPacks"/> decoders: they take the same <see cref="KlvStruct"/>/list
/// shapes (enums as <see cref="KlvEnumValue"/> or integers, ids as <see cref="KlvBytes"/> or byte arrays)
/// so a decoded value re-encodes to the bytes it came from.
/// </summary>
public static class KlvPackEncoders
{
    private static readonly Imapb s_lat4 = Imapb.Create(-90, 90, 4);
    private static readonly Imapb s_lon4 = Imapb.Create(-180, 180, 4);
    private static readonly Imapb s_hae0601 = Imapb.Create(-900, 9000, 3);
    private static readonly Imapb s_hae0903 = Imapb.Create(-900, 19000, 2);
    private static readonly Imapb s_sigma = Imapb.Create(0, 650, 2);
    private static readonly Imapb s_rho = Imapb.Create(-1, 1, 2);
    private static readonly Imapb s_velocity = Imapb.Create(-900, 900, 2);
    private static readonly Imapb s_wavelength = Imapb.Create(0, 1e9, 4);

    /// <summary>Small big-endian writer with the KLV primitives.</summary>
    private sealed class Writer
    {
        private readonly List<byte> _bytes = new(32);

        public byte[] ToArray() => _bytes.ToArray();

        public Writer Byte(long v)
        {
            if (v is < 0 or > 255)
            {
                throw new ArgumentOutOfRangeException(nameof(v), v, "Does not fit one byte");
            }

            _bytes.Add((byte)v);
            return this;
        }

        public Writer UInt(ulong v, int n)
        {
            if (n < 8 && v >> (8 * n) != 0)
            {
                throw new ArgumentOutOfRangeException(nameof(v), v, $"Does not fit {n} bytes");
            }

            for (var i = n - 1; i >= 0; i--)
            {
                _bytes.Add((byte)(v >> (8 * i)));
            }

            return this;
        }

        public Writer Int(long v, int n)
        {
            if (KlvPrimitives.IntSize(v) > n)
            {
                throw new ArgumentOutOfRangeException(nameof(v), v, $"Does not fit {n} bytes");
            }

            return UInt((ulong)v & (n == 8 ? ulong.MaxValue : (1UL << (8 * n)) - 1), n);
        }

        public Writer Oid(ulong v)
        {
            Span<byte> b = stackalloc byte[10];
            var n = Ber.WriteOid(b, v);
            foreach (var x in b[..n])
            {
                _bytes.Add(x);
            }

            return this;
        }

        public Writer Bytes(ReadOnlySpan<byte> bytes)
        {
            foreach (var x in bytes)
            {
                _bytes.Add(x);
            }

            return this;
        }

        public Writer Prefixed(ReadOnlySpan<byte> bytes)
        {
            Span<byte> b = stackalloc byte[9];
            var n = Ber.WriteLength(b, bytes.Length);
            return Bytes(b[..n]).Bytes(bytes);
        }

        public Writer Text(string? s) => Prefixed(s is null ? [] : Encoding.UTF8.GetBytes(s));

        public Writer Imapb(Imapb map, object? value) => UInt(map.Encode(Real(value)), map.Length);
    }

    // ---------------------------------------------------------------- value coercion

    private static KlvStruct Struct(object? value) =>
        value as KlvStruct ?? throw new ArgumentException($"Expected a KlvStruct, got {value?.GetType().Name ?? "null"}");

    private static IEnumerable<object?> List(object? value) =>
        value as IEnumerable<object?> ?? throw new ArgumentException($"Expected a list, got {value?.GetType().Name ?? "null"}");

    private static long Whole(object? value) => value switch
    {
        long l => l,
        int i => i,
        ulong u => (long)u,
        KlvEnumValue e => e.Value,
        double d when d == Math.Floor(d) => (long)d,
        _ => throw new ArgumentException($"Expected an integer, got {value ?? "null"}"),
    };

    private static double Real(object? value) => value switch
    {
        double d => d,
        float f => f,
        long l => l,
        int i => i,
        KlvSpecialValue { Kind: ImapbSpecial.PositiveInfinity } => double.PositiveInfinity,
        KlvSpecialValue { Kind: ImapbSpecial.NegativeInfinity } => double.NegativeInfinity,
        KlvSpecialValue => double.NaN,
        _ => throw new ArgumentException($"Expected a number, got {value ?? "null"}"),
    };

    private static byte[] Id(object? value) => value switch
    {
        KlvBytes b => b.Value,
        byte[] b => b,
        Guid g => g.ToByteArray(bigEndian: true),
        string s => Convert.FromHexString(s.Replace("-", "", StringComparison.Ordinal)),
        _ => throw new ArgumentException($"Expected 16 id bytes, got {value ?? "null"}"),
    };

    private static ulong Bits(object? list)
    {
        ulong bits = 0;
        if (list is null)
        {
            return 0;
        }

        foreach (var bit in List(list))
        {
            bits |= 1UL << (int)Whole(bit);
        }

        return bits;
    }

    // ---------------------------------------------------------------- ST 0601

    public static byte[] ImageHorizonPack(object? value)
    {
        var s = Struct(value);
        var w = new Writer().Byte(Whole(s["x0"])).Byte(Whole(s["y0"])).Byte(Whole(s["x1"])).Byte(Whole(s["y1"]));
        if (s["latitude0"] is not null)
        {
            w.Int(Mapped(s["latitude0"], 90), 4).Int(Mapped(s["longitude0"], 180), 4)
             .Int(Mapped(s["latitude1"], 90), 4).Int(Mapped(s["longitude1"], 180), 4);
        }

        return w.ToArray();
    }

    private static long Mapped(object? value, double range)
    {
        var v = Real(value);
        if (double.IsNaN(v))
        {
            return int.MinValue;
        }

        if (Math.Abs(v) > range * (1 + 1e-12))
        {
            throw new ArgumentOutOfRangeException(nameof(value), v, $"Outside +-{range}");
        }

        return (long)Math.Round(v / (range / int.MaxValue));
    }

    public static byte[] MiisCoreIdentifier(object? value)
    {
        var s = Struct(value);
        var sensorType = Whole(s["sensor_id_type"]);
        var platformType = Whole(s["platform_id_type"]);
        var usage = ((sensorType & 3) << 5) | ((platformType & 3) << 3) | (s["window_id"] is null ? 0L : 4L) | (s["minor_id"] is null ? 0L : 2L);
        var w = new Writer().Oid((ulong)Whole(s["version"])).Byte(usage);
        foreach (var (present, id) in new[] { (sensorType != 0, s["sensor_id"]), (platformType != 0, s["platform_id"]), (true, s["window_id"]), (true, s["minor_id"]) })
        {
            if (present && id is not null)
            {
                w.Bytes(Id(id));
            }
        }

        return w.ToArray();
    }

    public static byte[] ControlCommand(object? value)
    {
        var s = Struct(value);
        var w = new Writer().Oid((ulong)Whole(s["id"])).Text((string?)s["string"]);
        if (s["timestamp"] is { } t)
        {
            w.UInt((ulong)Whole(t), 8);
        }

        return w.ToArray();
    }

    public static byte[] OidList(object? value)
    {
        var w = new Writer();
        foreach (var v in List(value))
        {
            w.Oid((ulong)Whole(v));
        }

        return w.ToArray();
    }

    public static byte[] CountryCodes(object? value)
    {
        var s = Struct(value);
        var w = new Writer().Prefixed(new Writer().Oid((ulong)Whole(s["coding_method"])).ToArray());
        string?[] countries = [(string?)s["overflight_country"], (string?)s["operator_country"], (string?)s["country_of_manufacture"]];
        var last = Array.FindLastIndex(countries, c => c is not null);
        for (var i = 0; i <= last; i++)
        {
            w.Text(countries[i]);
        }

        return w.ToArray();
    }

    public static byte[] FrameRatePack(object? value)
    {
        var s = Struct(value);
        var w = new Writer().Oid((ulong)Whole(s["numerator"]));
        var denominator = s["denominator"] is { } d ? Whole(d) : 1;
        if (denominator != 1)
        {
            w.Oid((ulong)denominator);
        }

        return w.ToArray();
    }

    public static byte[] WavelengthsList(object? value)
    {
        var w = new Writer();
        foreach (var e in List(value))
        {
            var s = Struct(e);
            w.Prefixed(new Writer().Oid((ulong)Whole(s["id"])).Imapb(s_wavelength, s["min"]).Imapb(s_wavelength, s["max"])
                .Bytes(Encoding.UTF8.GetBytes((string?)s["name"] ?? "")).ToArray());
        }

        return w.ToArray();
    }

    private static byte[] Location0601(object? value)
    {
        if (value is null)
        {
            return [];
        }

        var s = Struct(value);
        var w = new Writer().Imapb(s_lat4, s["latitude"]).Imapb(s_lon4, s["longitude"]);
        if (s["altitude"] is { } hae)
        {
            w.Imapb(s_hae0601, hae);
        }

        return w.ToArray();
    }

    public static byte[] AirbaseLocations(object? value)
    {
        var s = Struct(value);
        var w = new Writer().Prefixed(Location0601(s["take_off_location"]));
        if (s["recovery_location"] is { } recovery)
        {
            w.Prefixed(Location0601(recovery));
        }

        return w.ToArray();
    }

    public static byte[] PayloadList(object? value)
    {
        var payloads = List(value).ToList();
        var w = new Writer().Oid((ulong)payloads.Count);
        foreach (var p in payloads)
        {
            var s = Struct(p);
            w.Prefixed(new Writer().Oid((ulong)Whole(s["id"])).Oid((ulong)Whole(s["type"])).Text((string?)s["name"]).ToArray());
        }

        return w.ToArray();
    }

    public static byte[] ActivePayloads(object? value)
    {
        var indices = List(value).Select(Whole).ToList();
        var bytes = new byte[Math.Max(1, indices.Count == 0 ? 1 : (int)(indices.Max() / 8) + 1)];
        foreach (var i in indices)
        {
            bytes[bytes.Length - 1 - (int)(i >> 3)] |= (byte)(1 << (int)(i & 7));
        }

        return bytes;
    }

    public static byte[] WeaponsStores(object? value)
    {
        var w = new Writer();
        foreach (var e in List(value))
        {
            var s = Struct(e);
            var status = (ulong)Whole(s["general_status"]) | (Bits(s["engagement_status"]) << 8);
            w.Prefixed(new Writer()
                .Oid((ulong)Whole(s["station_id"])).Oid((ulong)Whole(s["hardpoint_id"]))
                .Oid((ulong)Whole(s["carriage_id"])).Oid((ulong)Whole(s["store_id"]))
                .Oid(status).Text((string?)s["weapon_type"]).ToArray());
        }

        return w.ToArray();
    }

    public static byte[] WaypointList(object? value)
    {
        var w = new Writer();
        foreach (var e in List(value))
        {
            var s = Struct(e);
            w.Prefixed(new Writer().Oid((ulong)Whole(s["id"])).Int(Whole(s["order"]), 2).Oid(Bits(s["info"]))
                .Bytes(Location0601(s["location"])).ToArray());
        }

        return w.ToArray();
    }

    public static byte[] ViewDomain(object? value)
    {
        var s = Struct(value);
        (object? Interval, double Min, double Max)[] parts = [(s["azimuth"], 0, 360), (s["elevation"], -180, 180), (s["roll"], 0, 360)];
        var last = Array.FindLastIndex(parts, p => p.Interval is not null);
        var w = new Writer();
        for (var i = 0; i <= last; i++)
        {
            if (parts[i].Interval is not { } interval)
            {
                w.Prefixed([]);
                continue;
            }

            var iv = Struct(interval);
            // semi_length is the byte length of start and of range; absent or 0 means the default of 3.
            var half = iv["semi_length"] is { } n && Whole(n) > 0 ? (int)Whole(n) : 3;
            w.Prefixed(new Writer().Imapb(Imapb.Create(parts[i].Min, parts[i].Max, half), iv["start"])
                .Imapb(Imapb.Create(0, 360, half), iv["range"]).ToArray());
        }

        return w.ToArray();
    }

    public static byte[] MetadataSubstreamId(object? value)
    {
        var s = Struct(value);
        var w = new Writer().Oid((ulong)Whole(s["local_id"]));
        if (s["universal_id"] is { } id)
        {
            w.Bytes(Id(id));
        }

        return w.ToArray();
    }

    // ---------------------------------------------------------------- ST 0903

    public static byte[] Location0903(object? value)
    {
        var s = Struct(value);
        var w = new Writer().Imapb(s_lat4, s["latitude"]).Imapb(s_lon4, s["longitude"]).Imapb(s_hae0903, s["altitude"]);
        SigmaRho(w, s);
        return w.ToArray();
    }

    private static void SigmaRho(Writer w, KlvStruct s)
    {
        if (s["sigma"] is { } sigma)
        {
            var g = Struct(sigma);
            w.Imapb(s_sigma, g["east"]).Imapb(s_sigma, g["north"]).Imapb(s_sigma, g["up"]);
            if (s["rho"] is { } rho)
            {
                var r = Struct(rho);
                w.Imapb(s_rho, r["east_north"]).Imapb(s_rho, r["east_up"]).Imapb(s_rho, r["north_up"]);
            }
        }
        else if (s["rho"] is not null)
        {
            throw new ArgumentException("Correlations need standard deviations before them");
        }
    }

    public static byte[] LocationSeries(object? value)
    {
        var w = new Writer();
        foreach (var e in List(value))
        {
            w.Prefixed(Location0903(e));
        }

        return w.ToArray();
    }

    public static byte[] VelocityPack(object? value)
    {
        var s = Struct(value);
        var w = new Writer().Imapb(s_velocity, s["east"]).Imapb(s_velocity, s["north"]).Imapb(s_velocity, s["up"]);
        SigmaRho(w, s);
        return w.ToArray();
    }

    public static byte[] FpaIndexPack(object? value)
    {
        var s = Struct(value);
        return new Writer().Oid((ulong)Whole(s["row"])).Oid((ulong)Whole(s["column"])).ToArray();
    }

    public static byte[] PixelList(object? value)
    {
        var w = new Writer();
        foreach (var p in List(value))
        {
            var v = (ulong)Whole(p);
            var n = KlvPrimitives.UIntSize(v);
            w.Prefixed(new Writer().UInt(v, n).ToArray());
        }

        return w.ToArray();
    }

    public static byte[] PixelRunSeries(object? value)
    {
        var w = new Writer();
        foreach (var e in List(value))
        {
            var s = Struct(e);
            var index = (ulong)Whole(s["index"]);
            var run = (ulong)Whole(s["length"]);
            w.Prefixed(new Writer().Prefixed(new Writer().UInt(index, KlvPrimitives.UIntSize(index)).ToArray())
                .UInt(run, KlvPrimitives.UIntSize(run)).ToArray());
        }

        return w.ToArray();
    }

    // ---------------------------------------------------------------- ST 0806, ST 1002

    public static byte[] UserDefinedId(object? value)
    {
        var s = Struct(value);
        var type = Whole(s["type"]);
        var id = Whole(s["id"]);
        if (type is < 0 or > 3 || id is < 0 or > 63)
        {
            throw new ArgumentException($"User-defined type {type} / id {id} out of range");
        }

        return [(byte)((type << 6) | id)];
    }

    public static byte[] RangeImageEnumerations(object? value)
    {
        var s = Struct(value);
        return [(byte)(((Whole(s["source"]) & 1) << 6) | ((Whole(s["data_type"]) & 7) << 3) | (Whole(s["compression_method"]) & 7))];
    }

    internal static string Describe(object? value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null";
}
