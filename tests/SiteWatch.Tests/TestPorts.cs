namespace SiteWatch.Tests;

/// <summary>
/// Loopback ports for servers the tests start, free at the time of asking. They are taken below the kernel's
/// ephemeral range (net.ipv4.ip_local_port_range), from a counter that starts at a random place per test process:
/// a port handed out by binding port 0 comes from that range, where the outgoing connections of the tests running
/// beside it take their source ports too, and one of them could take the port before its server binds it.
/// </summary>
public static class TestPorts
{
    private static readonly int s_low = 10000;
    private static readonly int s_high = EphemeralStart() - 1;
    private static int s_next = s_low + Random.Shared.Next(s_high - s_low);

    public static int Free() => Next(port =>
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
        probe.Start();
    });

    public static int FreeUdp() => Next(port =>
    {
        using var probe = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));
    });

    private static int Next(Action<int> bind)
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var port = s_low + (Interlocked.Increment(ref s_next) - s_low) % (s_high - s_low);
            try
            {
                bind(port);
                return port;
            }
            catch (System.Net.Sockets.SocketException)
            {
                // taken by another process: the next one
            }
        }

        throw new InvalidOperationException($"no free loopback port between {s_low} and {s_high}");
    }

    private static int EphemeralStart()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return Math.Clamp(int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture), 20000, 65000);
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return 32768; // Linux's default
        }
    }
}
