using SiteWatch.Video.Frames;
using SiteWatch.Demo.Flight;
using SiteWatch.Video.Klv;
using SiteWatch.Video.Ts;

namespace SiteWatch.Video.Tests.Ts;

/// <summary>33-bit PTS wrap-around: the demuxer and the frame pairing keep one monotonically extended timeline.</summary>
public class PtsWrapTests
{
    private const long Wrap = 1L << 33;

    [Fact]
    public void Unwrapper_extends_across_the_wrap_and_keeps_small_steps_back()
    {
        var clock = new PtsUnwrapper();
        Assert.Equal(Wrap - 3000, clock.Unwrap(Wrap - 3000));
        Assert.Equal(Wrap + 1000, clock.Unwrap(1000));
        Assert.Equal(Wrap - 500, clock.Unwrap(Wrap - 500)); // a B-frame presented just before the wrap
        Assert.Equal(Wrap + 4000, clock.Unwrap(4000));
        Assert.Equal(Wrap + 7000, clock.Unwrap(Wrap + 7000)); // already extended by someone else
        Assert.Equal(Wrap - 20, clock.Unwrap(-20)); // ffmpeg's negative form of a time just before the wrap

        // A reader seeded on the extended timeline (as VideoSource seeds its frame clock) continues it.
        var frames = new PtsUnwrapper();
        frames.Seed(3 * Wrap + 100);
        Assert.Equal(3 * Wrap + 3100, frames.Unwrap(3100));
        Assert.Null(clock.Unwrap((long?)null));
    }

    /// <summary>Frames whose PTS start 1 s before 2^33 and run 2 s past it, one KLV packet each (heading = frame number).</summary>
    private static void WriteAcrossWrap(Stream ts, int frames, Func<int, byte[]> accessUnit, Func<int, bool> keyframe)
    {
        var muxer = new TsMuxer(ts, new TsMuxerOptions { Klv = KlvTransport.Sync });
        for (var i = 0; i < frames; i++)
        {
            var pts = Wrap - 90_000 + i * 3000L;
            muxer.WriteVideo(accessUnit(i), pts, keyframe: keyframe(i));
            muxer.WriteKlv(KlvEncoder.EncodePacket(St0601.Schema,
                [KlvField.Integer(St0601.PrecisionTimeStamp, 1_700_000_000_000_000 + i * 33_333L), KlvField.Number(St0601.PlatformHeading, i)]), pts);
        }

        muxer.Flush();
    }

    [Fact]
    public void Demuxer_time_stamps_keep_increasing_past_two_to_the33()
    {
        using var ts = new MemoryStream();
        WriteAcrossWrap(ts, 90, _ => [0, 0, 0, 1, 9, 0xF0], i => i % 30 == 0);
        ts.Position = 0;
        var demuxer = new TsDemuxer { ReportVideoPes = true };
        var klv = TsDemuxer.ReadKlv(ts, demuxer).ToList();
        Assert.Equal(90, klv.Count);
        var pts = klv.Select(u => u.Pts!.Value).ToList();
        Assert.Equal(Wrap - 90_000, pts[0]);
        Assert.Equal(Wrap - 90_000 + 89 * 3000L, pts[^1]);
        Assert.True(pts.Zip(pts.Skip(1)).All(p => p.Second == p.First + 3000), "KLV PTS must step by 3000 across the wrap");

        var video = new List<long>();
        while (demuxer.TryReadVideoPes(out var pes))
        {
            video.Add(pes.Pts!.Value);
        }

        Assert.Equal(pts, video);
        Assert.All(klv.Where(u => u.Pcr is not null), u => Assert.InRange(u.Pts!.Value - u.Pcr!.Value, 0, 90_000));
    }

    [Fact]
    public async Task Frames_pair_with_their_telemetry_across_the_wrap()
    {
        const int w = 64, h = 48, frames = 90;
        var path = Path.Combine(Path.GetTempPath(), $"sitewatch-wrap-{Guid.NewGuid():N}.ts");
        try
        {
            var units = new List<(byte[] Bytes, bool Key)>();
            await using (var encoder = H264Encoder.Start(w, h, 30, gop: 30))
            {
                var writer = Task.Run(async () =>
                {
                    for (var i = 0; i < frames; i++)
                    {
                        await encoder.WriteFrameAsync(Enumerable.Repeat((byte)(20 + 2 * i), w * h * 3).ToArray());
                    }

                    await encoder.CompleteAsync();
                });
                await foreach (var au in encoder.AccessUnits.ReadAllAsync())
                {
                    units.Add((au.Bytes.ToArray(), au.Keyframe));
                }

                await writer;
            }

            await using (var file = File.Create(path))
            {
                WriteAcrossWrap(file, units.Count, i => units[i].Bytes, i => units[i].Key);
            }

            await using var source = VideoSource.Open(path);
            var got = new List<VideoFrame>();
            await foreach (var frame in source.ReadFramesAsync())
            {
                got.Add(frame);
            }

            Assert.Equal(frames, got.Count);
            Assert.Equal(0, source.Stats.FramesWithoutTelemetry);
            foreach (var frame in got)
            {
                Assert.Equal(Wrap - 90_000 + frame.Index * 3000L, frame.Pts90k);
                Assert.Equal(frame.Index, frame.Telemetry!.GetDouble(St0601.PlatformHeading), 2);
                Assert.Equal(frame.Index / 30.0, frame.Time.TotalSeconds, 6);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
