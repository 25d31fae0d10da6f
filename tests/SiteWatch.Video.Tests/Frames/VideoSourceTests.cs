using System.Globalization;
using System.Net;
using System.Net.Sockets;
using SiteWatch.Video.Frames;
using SiteWatch.Video.Klv;
using SiteWatch.Video.Ts;
using Xunit.Abstractions;

using SiteWatch.Video.Tests.Ts;

namespace SiteWatch.Video.Tests.Frames;

public class VideoSourceTests(ITestOutputHelper output)
{
    private static async Task<List<VideoFrame>> ReadAllAsync(VideoSource source)
    {
        var frames = new List<VideoFrame>();
        await foreach (var frame in source.ReadFramesAsync())
        {
            frames.Add(frame);
        }

        return frames;
    }

    private static double Mean(VideoFrame frame) => frame.Bgr24.Average(b => (double)b);

    /// <summary>Grey levels step by 15 between frames; the RGB-YUV-RGB round trip moves them by a few levels at most.</summary>
    private static void AssertGrey(double expected, VideoFrame frame) => Assert.InRange(Mean(frame), expected - 5, expected + 5);

    private static string TempTs() => Path.Combine(Path.GetTempPath(), $"sitewatch-src-{Guid.NewGuid():N}.ts");

    [KlvDataTheory]
    [InlineData("h264_klv.ts")]
    [InlineData("h265_klv.ts")]
    [InlineData("mpeg2_klv.ts")]
    public async Task Shared_clips_give_ffprobes_frame_count_with_telemetry_on_every_frame(string clip)
    {
        var path = TestData.Klv(clip);
        var expected = int.Parse(TsMuxerTests.Run("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
            "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path).Split('\n', StringSplitOptions.RemoveEmptyEntries)[0].TrimEnd(','), CultureInfo.InvariantCulture);
        await using var source = VideoSource.Open(path);
        var frames = await ReadAllAsync(source);
        output.WriteLine($"{clip}: {source.Stats}");
        Assert.Equal(expected, frames.Count);
        Assert.All(frames, f => Assert.NotNull(f.Telemetry));
        Assert.All(frames, f => Assert.Equal(f.Width * f.Height * 3, f.Bgr24.Length));
        Assert.Equal(Enumerable.Range(0, expected).Select(i => (long)i), frames.Select(f => f.Index));
        Assert.True(source.Stats.KlvPackets > 0);
        Assert.Equal(0, source.Stats.FramesWithoutTelemetry);
        // Presentation order: time stamps strictly increase.
        Assert.True(frames.Zip(frames.Skip(1)).All(p => p.Second.Pts90k > p.First.Pts90k));
    }

    [Fact]
    public async Task Frames_pair_with_their_own_KLV_by_PTS()
    {
        var path = TempTs();
        try
        {
            await TsMuxerTests.WriteGreyRampAsync(path, 12, KlvTransport.Sync);
            await using var source = VideoSource.Open(path);
            var frames = await ReadAllAsync(source);
            Assert.Equal(12, frames.Count);
            foreach (var frame in frames)
            {
                var i = (int)((frame.Pts90k!.Value - 126_000) / 3000);
                Assert.Equal(frame.Index, i);
                AssertGrey(20 + 15 * i, frame);
                Assert.Equal(10 + i, frame.Telemetry!.GetDouble(St0601.PlatformHeading), 2);
                Assert.Equal(TimeSpan.FromSeconds(i / 30.0), frame.Time);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Max_width_scales_frames_down_keeping_the_aspect()
    {
        var path = TempTs();
        try
        {
            await TsMuxerTests.WriteGreyRampAsync(path, 3, KlvTransport.Sync);
            await using var source = VideoSource.Open(path, new VideoSourceOptions { MaxWidth = 32 });
            var frames = await ReadAllAsync(source);
            Assert.Equal(3, frames.Count);
            Assert.All(frames, f => Assert.Equal((32, 24, 32 * 24 * 3), (f.Width, f.Height, f.Bgr24.Length)));
            AssertGrey(35, frames[1]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task B_frames_come_out_in_presentation_order_with_their_PTS()
    {
        // ffmpeg's own muxer, B-frames on and no KLV at all: each frame's grey level must match its PTS.
        var path = TempTs();
        try
        {
            TsMuxerTests.Run("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
                "-i", "color=c=black:s=64x48:r=25:d=1.2,geq=lum='16+7*N':cb=128:cr=128",
                "-c:v", "libx264", "-bf", "2", "-g", "12", "-pix_fmt", "yuv420p", "-f", "mpegts", path);
            var probe = TsMuxerTests.Run("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts,dts", "-of", "csv=p=0", path);
            Assert.Contains(probe.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Split(',') is [var p, var d] && p != d);

            await using var source = VideoSource.Open(path);
            var frames = await ReadAllAsync(source);
            Assert.Equal(30, frames.Count);
            var first = frames[0].Pts90k!.Value;
            foreach (var frame in frames)
            {
                var n = (frame.Pts90k!.Value - first) / 3600;
                Assert.Equal(frame.Index, n);
                Assert.Null(frame.Telemetry);
                // Y 16 + 7N in limited range is grey 255 * 7N / 219 in full range.
                Assert.Equal(255.0 * 7 * n / 219, Mean(frame), 2.5);
            }

            Assert.Equal(30, source.Stats.FramesWithoutTelemetry);
            Assert.Equal(0, source.Stats.KlvPackets);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Truncated_stream_yields_the_frames_before_the_cut_and_counts_the_error()
    {
        var path = TempTs();
        try
        {
            await TsMuxerTests.WriteGreyRampAsync(path, 12, KlvTransport.Sync);
            var bytes = await File.ReadAllBytesAsync(path);
            var cut = bytes.Length * 6 / 10 + 100; // inside a TS packet
            await File.WriteAllBytesAsync(path, bytes[..cut]);
            await using var source = VideoSource.Open(path);
            var frames = await ReadAllAsync(source);
            output.WriteLine($"cut at {cut} of {bytes.Length}: {source.Stats}; {string.Join("; ", source.Stats.TsErrorList)}");
            Assert.InRange(frames.Count, 3, 11);
            for (var i = 0; i < frames.Count; i++)
            {
                AssertGrey(20 + 15 * i, frames[i]);
                Assert.NotNull(frames[i].Telemetry);
            }

            Assert.True(source.Stats.TsErrors >= 1);
            Assert.Contains(source.Stats.TsErrorList, e => e.Kind == TsErrorKind.TruncatedPacket && e.Position > 0);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Missing_ffmpeg_is_a_clear_error()
    {
        var path = TempTs();
        try
        {
            await TsMuxerTests.WriteGreyRampAsync(path, 2, KlvTransport.Sync);
            await using var source = VideoSource.Open(path, new VideoSourceOptions { FfmpegPath = "/nonexistent/ffmpeg" });
            var e = await Assert.ThrowsAsync<VideoException>(() => ReadAllAsync(source));
            Assert.Contains("/nonexistent/ffmpeg", e.Message);
            Assert.Contains(path, e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Not_a_video_stream_is_a_clear_error_with_ffmpegs_message()
    {
        var path = TempTs();
        try
        {
            await File.WriteAllTextAsync(path, string.Concat(Enumerable.Repeat("this is not a transport stream\n", 200)));
            await using var source = VideoSource.Open(path);
            var e = await Assert.ThrowsAsync<VideoException>(() => ReadAllAsync(source));
            output.WriteLine(e.Message);
            Assert.Contains("ffmpeg decoded no frame", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Stopping_early_ends_ffmpeg_and_does_not_hang()
    {
        var path = TempTs();
        try
        {
            await TsMuxerTests.WriteGreyRampAsync(path, 12, KlvTransport.Sync);
            await using var source = VideoSource.Open(path);
            var seen = 0;
            await foreach (var frame in source.ReadFramesAsync())
            {
                if (++seen == 2)
                {
                    break;
                }
            }

            Assert.Equal(2, source.Stats.Frames);
            Assert.NotNull(source.Stats.DecoderExitCode);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Missing_file_and_bad_UDP_address_are_clear_errors()
    {
        Assert.Contains("no such video file", Assert.Throws<VideoException>(() => VideoSource.Open("/nonexistent/clip.ts")).Message);
        Assert.Contains("udp://ADDRESS:PORT", Assert.Throws<VideoException>(() => VideoSource.Open("udp://127.0.0.1")).Message);
    }

    [Fact]
    public async Task UDP_stream_gives_the_same_frames_as_the_file()
    {
        var path = TempTs();
        try
        {
            await TsMuxerTests.WriteGreyRampAsync(path, 10, KlvTransport.Async);
            var bytes = await File.ReadAllBytesAsync(path);
            var port = FreeUdpPort();
            await using var source = VideoSource.Open($"udp://127.0.0.1:{port}", new VideoSourceOptions { UdpIdleTimeout = TimeSpan.FromSeconds(4) });
            var reading = ReadAllAsync(source);
            using (var sender = new UdpClient())
            {
                for (var offset = 0; offset < bytes.Length; offset += 7 * 188)
                {
                    await sender.SendAsync(bytes.AsMemory(offset, Math.Min(7 * 188, bytes.Length - offset)), new IPEndPoint(IPAddress.Loopback, port));
                    await Task.Delay(1);
                }
            }

            var frames = await reading;
            Assert.Equal(10, frames.Count);
            Assert.All(frames, f => AssertGrey(20 + 15 * f.Index, f));
            Assert.All(frames, f => Assert.Equal(10 + f.Index, f.Telemetry!.GetDouble(St0601.PlatformHeading), 2));
            Assert.True(source.Stats.Datagrams > 0);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task UDP_datagrams_from_strangers_are_dropped_and_counted()
    {
        var path = TempTs();
        try
        {
            await TsMuxerTests.WriteGreyRampAsync(path, 10, KlvTransport.Async);
            var bytes = await File.ReadAllBytesAsync(path);
            var port = FreeUdpPort();
            // Only 127.0.0.1 may send; a stranger (127.0.0.2) sends the same stream first.
            await using var source = VideoSource.Open($"udp://127.0.0.1:{port}?from=127.0.0.1", new VideoSourceOptions { UdpIdleTimeout = TimeSpan.FromSeconds(4) });
            var reading = ReadAllAsync(source);
            var strangerDatagrams = 0;
            using (var stranger = new UdpClient(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0)))
            {
                for (var offset = 0; offset < bytes.Length; offset += 7 * 188, strangerDatagrams++)
                {
                    await stranger.SendAsync(bytes.AsMemory(offset, Math.Min(7 * 188, bytes.Length - offset)), new IPEndPoint(IPAddress.Loopback, port));
                }
            }

            using (var sender = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
            {
                for (var offset = 0; offset < bytes.Length; offset += 7 * 188)
                {
                    await sender.SendAsync(bytes.AsMemory(offset, Math.Min(7 * 188, bytes.Length - offset)), new IPEndPoint(IPAddress.Loopback, port));
                    await Task.Delay(1);
                }
            }

            var frames = await reading;
            Assert.Equal(10, frames.Count);
            Assert.Equal(strangerDatagrams, source.Stats.ForeignDatagrams);
            Assert.Equal(strangerDatagrams, source.Stats.Datagrams);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("udp://:5600", "127.0.0.1:5600")]
    [InlineData("udp://@:5600", "127.0.0.1:5600")]
    [InlineData("udp://0.0.0.0:5600", "0.0.0.0:5600")]
    [InlineData("udp://lo:5600", "127.0.0.1:5600")]
    public void UDP_without_an_address_listens_on_loopback_only(string source, string expected) =>
        Assert.Equal(expected, VideoSource.ParseUdp(source).ToString());

    [Fact]
    public void UDP_sender_filter_takes_addresses_and_blocks()
    {
        var allowed = VideoSource.ParseSenders("udp://:1", ["10.0.0.5", "192.168.1.0/24"]);
        Assert.True(VideoSource.IsAllowed(IPAddress.Parse("10.0.0.5"), allowed));
        Assert.True(VideoSource.IsAllowed(IPAddress.Parse("192.168.1.77"), allowed));
        Assert.True(VideoSource.IsAllowed(IPAddress.Parse("::ffff:192.168.1.77"), allowed));
        Assert.False(VideoSource.IsAllowed(IPAddress.Parse("192.168.2.1"), allowed));
        Assert.False(VideoSource.IsAllowed(IPAddress.Parse("10.0.0.6"), allowed));
        Assert.Contains("allowed sender 'nope'", Assert.Throws<VideoException>(() => VideoSource.ParseSenders("udp://:1", ["nope"])).Message);
    }

    internal static int FreeUdpPort() => SiteWatch.Tests.TestPorts.FreeUdp();
}
