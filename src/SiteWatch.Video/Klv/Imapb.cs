using System.Runtime.CompilerServices;

namespace SiteWatch.Video.Klv;

/// <summary>Non-finite or out-of-range markers that ST 1201 can carry in an IMAPB value.</summary>
public enum ImapbSpecial : byte
{
    None = 0,
    PositiveInfinity,
    NegativeInfinity,
    PositiveQuietNaN,
    NegativeQuietNaN,
    PositiveSignalingNaN,
    NegativeSignalingNaN,
    AboveMaximum,
    BelowMinimum,
    /// <summary>MSB set with a pattern ST 1201 leaves to users or reserves.</summary>
    UserDefined,
    /// <summary>Not ST 1201: the error sentinel of a signed mapped integer (e.g. 0x80000000) inside a pack.</summary>
    OutOfRange,
}

/// <summary>
/// MISB ST 1201 floating-point-to-integer mapping (IMAPB: bounds plus byte length).
/// Precomputed per (min, max, length) so decoding is one multiply-add.
/// </summary>
public readonly struct Imapb
{
    private Imapb(double min, double max, int length, double sf, double sr, double zOffset)
    {
        Min = min;
        Max = max;
        Length = length;
        ScaleForward = sf;
        ScaleReverse = sr;
        ZOffset = zOffset;
    }

    public double Min { get; }

    public double Max { get; }

    public int Length { get; }

    /// <summary>sF = 2^(dPow - bPow).</summary>
    public double ScaleForward { get; }

    /// <summary>sR = 2^(bPow - dPow), which is also the quantisation step.</summary>
    public double ScaleReverse { get; }

    /// <summary>Shift that makes zero exactly representable when the range straddles it.</summary>
    public double ZOffset { get; }

    public static Imapb Create(double min, double max, int length)
    {
        if (!(max > min) || double.IsInfinity(max - min))
        {
            throw new ArgumentException($"IMAPB needs min < max, got [{min}, {max}]");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, 8);

        var bPow = CeilLog2(max - min);
        var dPow = 8 * length - 1;
        var sf = Math.ScaleB(1.0, dPow - bPow);
        var sr = Math.ScaleB(1.0, bPow - dPow);
        var z = 0.0;
        if (min < 0 && max > 0)
        {
            var m = sf * min;
            z = m - Math.Floor(m);
        }

        return new Imapb(min, max, length, sf, sr, z);
    }

    /// <summary>Smallest integer b with 2^b >= x, exact at powers of two.</summary>
    private static int CeilLog2(double x)
    {
        var b = (int)Math.Ceiling(Math.Log2(x));
        while (Math.ScaleB(1.0, b) < x)
        {
            b++;
        }

        while (Math.ScaleB(1.0, b - 1) >= x)
        {
            b--;
        }

        return b;
    }

    /// <summary>Decodes an unsigned big-endian integer of <see cref="Length"/> bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Decode(ulong raw, out ImapbSpecial special)
    {
        if (((raw >> (8 * Length - 1)) & 1) == 0)
        {
            special = ImapbSpecial.None;
            return ScaleReverse * (raw - ZOffset) + Min;
        }

        return DecodeSpecial(raw, out special);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private double DecodeSpecial(ulong raw, out ImapbSpecial special)
    {
        var topBit = 8 * Length - 1;

        // ST 1201 special values: 1 1 S x x in the top bits; 1 0 ... is user defined.
        var top = (int)((raw >> (topBit - 4)) & 0x1F);
        special = top switch
        {
            0b11001 => ImapbSpecial.PositiveInfinity,
            0b11101 => ImapbSpecial.NegativeInfinity,
            0b11010 => ImapbSpecial.PositiveQuietNaN,
            0b11110 => ImapbSpecial.NegativeQuietNaN,
            0b11011 => ImapbSpecial.PositiveSignalingNaN,
            0b11111 => ImapbSpecial.NegativeSignalingNaN,
            0b11000 => ImapbSpecial.AboveMaximum,
            0b11100 => ImapbSpecial.BelowMinimum,
            _ => ImapbSpecial.UserDefined,
        };
        return special switch
        {
            ImapbSpecial.PositiveInfinity => double.PositiveInfinity,
            ImapbSpecial.NegativeInfinity => double.NegativeInfinity,
            _ => double.NaN,
        };
    }

    /// <summary>
    /// Encodes <paramref name="value"/>. NaN and infinities become ST 1201 special values; finite values
    /// outside [min, max] by more than half a step throw.
    /// </summary>
    public ulong Encode(double value)
    {
        var topBit = 8 * Length - 1;
        if (double.IsNaN(value))
        {
            return (ulong)0b11010 << (topBit - 4);
        }

        if (double.IsInfinity(value))
        {
            return (ulong)(value > 0 ? 0b11001 : 0b11101) << (topBit - 4);
        }

        var half = ScaleReverse / 2;
        if (value < Min - half || value > Max + half)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"Outside IMAPB range [{Min}, {Max}]");
        }

        // ST 1201 truncates. A decoded value can land a hair below its integer after the round trip through
        // (value - min) and zOffset, so allow a millionth of a step before truncating: decode then encode is exact.
        var y = Math.Floor(ScaleForward * (value - Min) + ZOffset + 1e-6);
        var limit = (double)((1UL << topBit) - 1);
        return (ulong)Math.Clamp(y, 0, limit);
    }

    public static string Describe(ImapbSpecial special) => special switch
    {
        ImapbSpecial.PositiveInfinity => "+Infinity",
        ImapbSpecial.NegativeInfinity => "-Infinity",
        ImapbSpecial.PositiveQuietNaN => "Quiet NaN",
        ImapbSpecial.NegativeQuietNaN => "-Quiet NaN",
        ImapbSpecial.PositiveSignalingNaN => "Signaling NaN",
        ImapbSpecial.NegativeSignalingNaN => "-Signaling NaN",
        ImapbSpecial.AboveMaximum => "Above Maximum",
        ImapbSpecial.BelowMinimum => "Below Minimum",
        ImapbSpecial.UserDefined => "User Defined",
        ImapbSpecial.OutOfRange => "Out of Range",
        _ => "None",
    };
}
