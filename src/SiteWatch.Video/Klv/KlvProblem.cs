namespace SiteWatch.Video.Klv;

public enum KlvProblemKind : byte
{
    /// <summary>Fewer bytes than the key and BER length announce.</summary>
    Truncated,
    /// <summary>BER length that is invalid or larger than allowed.</summary>
    BadLength,
    /// <summary>Tag, or item length, runs past the end of its set.</summary>
    BadItem,
    /// <summary>Value bytes do not fit the tag's traits; kept raw.</summary>
    BadValue,
    /// <summary>Value length differs from the length the standard fixes; decoded anyway.</summary>
    LengthMismatch,
    ChecksumMismatch,
    ChecksumMissing,
    /// <summary>Bytes after the packet's declared end, or junk between packets.</summary>
    ExtraBytes,
    /// <summary>Nesting deeper than the decoder allows.</summary>
    TooDeep,
}

/// <summary>A problem found while decoding; <see cref="Offset"/> is from the first byte of the packet.</summary>
public readonly record struct KlvProblem(KlvProblemKind Kind, long Offset, int Tag, string Message)
{
    public override string ToString() => Tag > 0 ? $"{Kind} at byte {Offset} (tag {Tag}): {Message}" : $"{Kind} at byte {Offset}: {Message}";
}
