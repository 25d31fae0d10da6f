namespace SiteWatch.Video.Ts;

/// <summary>
/// Turns 33-bit MPEG time stamps (PTS, DTS, PCR base; 90 kHz, wrapping every 2^33 ticks, about 26.5 hours) into one
/// monotonically extended 64-bit timeline: each value is placed in the 2^33 period nearest to the previous one, so a
/// stream that crosses the wrap keeps counting up (2^33 - 1 is followed by 2^33, not 0). Values already extended,
/// or negative ones (ffmpeg may report a stream starting just before the wrap that way), are reduced first.
/// Time stamps of one program are seconds apart, far below the half period, so one instance serves all its streams.
/// </summary>
public sealed class PtsUnwrapper
{
    /// <summary>The period of a 33-bit time stamp.</summary>
    public const long Period = 1L << 33;

    private long? _last;

    /// <summary>The previous value returned, or null before the first.</summary>
    public long? Last => _last;

    /// <summary>Places <paramref name="timestamp"/> on the extended timeline next to the previous value.</summary>
    public long Unwrap(long timestamp)
    {
        var raw = timestamp & (Period - 1);
        if (_last is not { } last)
        {
            _last = raw;
            return raw;
        }

        // The candidate raw + k * Period nearest to the previous value.
        var k = (last - raw + Period / 2) >> 33;
        var value = raw + k * Period;
        _last = value;
        return value;
    }

    public long? Unwrap(long? timestamp) => timestamp is { } t ? Unwrap(t) : null;

    /// <summary>Starts the timeline at <paramref name="reference"/> (an already extended value) without returning anything.</summary>
    public void Seed(long reference) => _last = reference;
}
