using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace SiteWatch.Tests.Catalog;

/// <summary>
/// A private PostgreSQL server for the tests: initdb in a temporary folder, a free loopback port, no password
/// (trust on loopback only), stopped and removed when disposed. As root (CI), the server runs as the postgres user,
/// which Debian's package creates: PostgreSQL refuses to run as root.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private readonly string _root;
    private readonly string _data;
    private readonly string _bin;
    private int _databases;

    public PostgresServer()
    {
        _bin = FindBinaries();
        _root = Path.Combine(Path.GetTempPath(), $"sitewatch-pg-{Guid.NewGuid():N}");
        _data = Path.Combine(_root, "data");
        Directory.CreateDirectory(_root);
        if (Environment.UserName == "root")
        {
            Run("chown", "postgres", _root);
        }
        RunAsServerUser(Path.Combine(_bin, "initdb"), "-D", _data, "-U", "sitewatch", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync");
        // The port is taken just before the start, and another one if a test beside this one took it first.
        for (var attempt = 1; ; attempt++)
        {
            Port = TestPorts.Free();
            try
            {
                Start();
                break;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
            }
        }
    }

    public int Port { get; private set; }

    /// <summary>The connection string of a database on this server (without a password: trust on loopback).</summary>
    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Database={database};Username=sitewatch;Timeout=15";

    /// <summary>A new, empty database: each test gets its own catalog.</summary>
    public string CreateDatabase()
    {
        var name = $"sw_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..24];
        using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"CREATE DATABASE {name}";
        command.ExecuteNonQuery();
        return ConnectionString(name);
    }

    /// <summary>Stops the server at once (as a crash would) and starts it again on the same port and data.</summary>
    public void Restart()
    {
        RunAsServerUser(Path.Combine(_bin, "pg_ctl"), "-D", _data, "-m", "immediate", "-w", "stop");
        Start();
        // The tests' own pooled connections (CreateDatabase) died with the server.
        NpgsqlConnection.ClearAllPools();
    }

    private void Start() =>
        RunAsServerUser(Path.Combine(_bin, "pg_ctl"), "-D", _data, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60",
            "-o", $"-p {Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={_root} -c fsync=off -c full_page_writes=off", "start");

    public void Dispose()
    {
        try
        {
            RunAsServerUser(Path.Combine(_bin, "pg_ctl"), "-D", _data, "-m", "immediate", "-w", "stop");
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>The newest installed PostgreSQL's programs (Debian keeps them out of PATH).</summary>
    private static string FindBinaries()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0).FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); scripts/bootstrap.sh installs postgresql-15-postgis-3");
    }


    private static void RunAsServerUser(string program, params string[] args)
    {
        if (Environment.UserName == "root")
        {
            Run("runuser", ["-u", "postgres", "--", program, .. args]);
        }
        else
        {
            Run(program, args);
        }
    }

    private static void Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({process.ExitCode}): {error.Result}{output.Result}");
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL";
}
