using System.Diagnostics;
using SiteWatch.Video.Klv;
using SiteWatch.Demo.Flight;
using SiteWatch.Video.Ts;

namespace SiteWatch.Video.Tests.Ts;

public class TsMuxerTests
{
    internal static byte[] Telemetry(int frame) => KlvEncoder.EncodePacket(St0601.Schema,
    [
        KlvField.Integer(St0601.PrecisionTimeStamp, 1_700_000_000_000_000 + frame * 100_000L),
        KlvField.Number(St0601.PlatformHeading, 10 + frame),
        KlvField.Number(St0601.SensorLatitude, 38.5 + frame * 1e-4),
        KlvField.Number(St0601.SensorLongitude, 127.25),
        KlvField.Integer(St0601.UasLsVersion, St0601.Version),
    ]);

    [Theory]
    [InlineData(KlvTransport.Sync)]
    [InlineData(KlvTransport.Async)]
    public void Demuxer_reads_back_video_timing_and_KLV(KlvTransport transport)
    {
        // Access-unit sizes around the packet payload boundaries (183, 184, 185 bytes after the PES header) and large ones.
        int[] sizes = [1, 164, 165, 166, 167, 170, 183, 184, 185, 368, 5000, 70_000];
        var random = new Random(5);
        var units = sizes.Select(n => { var b = new byte[n]; random.NextBytes(b); return b; }).ToArray();
        using var output = new MemoryStream();
        var muxer = new TsMuxer(output, new TsMuxerOptions { Klv = transport, PsiIntervalFrames = 4 });
        for (var i = 0; i < units.Length; i++)
        {
            var pts = 126_000 + i * 3000L;
            muxer.WriteVideo(units[i], pts, keyframe: i % 6 == 0);
            muxer.WriteKlv(Telemetry(i), pts);
        }

        var bytes = output.ToArray();
        Assert.Equal(0, bytes.Length % 188);
        var demuxer = new TsDemuxer { ReportVideoPes = true };
        demuxer.Write(bytes);
        demuxer.Complete();
        Assert.Equal(0, demuxer.Diagnostics.TotalErrors);
        Assert.Contains(demuxer.Streams, s => s.Pid == 0x100 && s.StreamType == 0x1B && s.Kind == TsStreamKind.Video);
        Assert.Contains(demuxer.Streams, s => s.Pid == 0x101 && s.Kind == (transport == KlvTransport.Sync ? TsStreamKind.KlvSync : TsStreamKind.KlvAsync));

        var video = new List<TsVideoPes>();
        while (demuxer.TryReadVideoPes(out var pes))
        {
            video.Add(pes);
        }

        Assert.Equal(units.Select((_, i) => (long?)(126_000 + i * 3000L)), video.Select(v => v.Pts));
        var klv = new List<KlvAccessUnit>();
        while (demuxer.TryRead(out var unit))
        {
            klv.Add(unit);
        }

        Assert.Equal(units.Length, klv.Count);
        for (var i = 0; i < klv.Count; i++)
        {
            Assert.Equal(126_000 + i * 3000L, klv[i].Pts);
            Assert.Equal(transport, klv[i].Transport);
            Assert.Equal(Convert.ToHexString(Telemetry(i)), Convert.ToHexString(klv[i].Payload.Span));
            var packet = KlvDecoder.Decode(klv[i].Payload);
            Assert.True(packet.ChecksumOk);
            Assert.Equal(10 + i, packet.Set!.GetDouble(St0601.PlatformHeading), 2);
        }
    }

    [Fact]
    public async Task Ffprobe_lists_H264_and_KLV_with_every_frame()
    {
        const int frames = 12;
        var path = Path.Combine(Path.GetTempPath(), $"sitewatch-mux-{Guid.NewGuid():N}.ts");
        try
        {
            await WriteGreyRampAsync(path, frames, KlvTransport.Sync);
            var streams = Run("ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name", "-of", "csv=p=0", path);
            Assert.Contains("h264,video", streams);
            Assert.Contains("klv,data", streams);
            var counted = Run("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path);
            Assert.Equal(frames.ToString(System.Globalization.CultureInfo.InvariantCulture), counted.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0]);
            var dataPackets = Run("ffprobe", "-v", "error", "-select_streams", "d:0", "-show_entries", "packet=pts", "-of", "csv=p=0", path);
            Assert.Equal(frames, dataPackets.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A TS whose frame i is a flat grey of level 20 + 15 i, with one ST 0601 packet per frame.</summary>
    internal static async Task WriteGreyRampAsync(string path, int frames, KlvTransport transport)
    {
        const int w = 64, h = 48;
        await using var file = File.Create(path);
        var muxer = new TsMuxer(file, new TsMuxerOptions { Klv = transport });
        await using var encoder = H264Encoder.Start(w, h, 30, gop: 30);
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < frames; i++)
            {
                await encoder.WriteFrameAsync(Enumerable.Repeat((byte)(20 + 15 * i), w * h * 3).ToArray());
            }

            await encoder.CompleteAsync();
        });
        await foreach (var au in encoder.AccessUnits.ReadAllAsync())
        {
            var pts = 126_000 + au.Index * 3000;
            muxer.WriteVideo(au.Bytes, pts, keyframe: au.Keyframe);
            muxer.WriteKlv(Telemetry((int)au.Index), pts);
        }

        await writer;
        muxer.Flush();
    }

    internal static string Run(string tool, params string[] args)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{tool} failed: {stderr.Result}");
        return stdout;
    }
}
