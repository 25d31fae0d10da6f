using System.Text;
using SiteWatch.Core;
using SiteWatch.Core.IO;

namespace SiteWatch.Tests.IO;

public class BoundedFileTests
{
    [Fact]
    public void Reads_utf8_with_or_without_a_byte_order_mark()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("plain.json"), "{\"name\":\"Hamhüng\"}", new UTF8Encoding(false));
        File.WriteAllText(dir.File("bom.json"), "{\"name\":\"Hamhüng\"}", new UTF8Encoding(true));
        Assert.Equal("{\"name\":\"Hamhüng\"}", BoundedFile.ReadText(dir.File("plain.json"), "test file"));
        Assert.Equal("{\"name\":\"Hamhüng\"}", BoundedFile.ReadText(dir.File("bom.json"), "test file"));
        File.WriteAllText(dir.File("empty.json"), "");
        Assert.Equal("", BoundedFile.ReadText(dir.File("empty.json"), "test file"));
    }

    [Fact]
    public void A_file_over_the_limit_is_refused_and_one_at_the_limit_read()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("big.json"), new string(' ', 1001));
        File.WriteAllText(dir.File("fits.json"), new string(' ', 1000));
        var e = Assert.Throws<SiteWatchException>(() => BoundedFile.ReadText(dir.File("big.json"), "zones file", maxBytes: 1000));
        Assert.Equal($"{dir.File("big.json")}: larger than 1000 bytes, the size limit for zones files; is it the right file?", e.Message);
        Assert.Equal(1000, BoundedFile.ReadText(dir.File("fits.json"), "zones file", maxBytes: 1000).Length);
    }

    [Fact]
    public void Endless_devices_stop_at_the_limit()
    {
        var e = Assert.Throws<SiteWatchException>(() => BoundedFile.ReadText("/dev/zero", "AOI file", maxBytes: 1 << 20));
        Assert.Equal("/dev/zero: larger than 1 MiB, the size limit for AOI files; is it the right file?", e.Message);
    }

    [Fact]
    public void Fifos_are_read_to_their_end_or_to_the_limit()
    {
        using var dir = new TempDir();
        var fifo = dir.File("pipe");
        Assert.Equal(0, Rasters.RunTool("mkfifo", fifo).ExitCode);
        var writer = new Thread(() => File.WriteAllText(fifo, "{\"rules\":[]}"));
        writer.Start();
        Assert.Equal("{\"rules\":[]}", BoundedFile.ReadText(fifo, "rules file"));
        writer.Join();

        // A writer that never stops: the reader gives up at the limit and closes; the writer then fails with a broken pipe.
        var endless = new Thread(() =>
        {
            try
            {
                using var stream = new FileStream(fifo, FileMode.Open, FileAccess.Write);
                var chunk = new byte[4096];
                chunk.AsSpan().Fill((byte)' ');
                while (true)
                {
                    stream.Write(chunk);
                }
            }
            catch (IOException)
            {
                // The reader closed the pipe.
            }
        });
        endless.Start();
        var e = Assert.Throws<SiteWatchException>(() => BoundedFile.ReadText(fifo, "rules file", maxBytes: 100_000));
        Assert.Contains("larger than 100000 bytes", e.Message);
        endless.Join();
    }

    [Fact]
    public void Missing_directories_and_binary_files_are_named()
    {
        using var dir = new TempDir();
        Assert.Equal($"{dir.File("nope.json")}: file not found",
            Assert.Throws<SiteWatchException>(() => BoundedFile.ReadText(dir.File("nope.json"), "AOI file")).Message);
        Assert.Equal($"{dir.Path}: is a directory (expected: AOI file)",
            Assert.Throws<SiteWatchException>(() => BoundedFile.ReadText(dir.Path, "AOI file")).Message);
        File.WriteAllBytes(dir.File("image.tif"), [0x49, 0x49, 0x2a, 0x00, 0xff, 0xfe, 0xc3]);
        Assert.Equal($"{dir.File("image.tif")}: not a text file, invalid UTF-8 (expected: AOI file)",
            Assert.Throws<SiteWatchException>(() => BoundedFile.ReadText(dir.File("image.tif"), "AOI file")).Message);
    }
}
