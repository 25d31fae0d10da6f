/// <summary>
/// A .NET startup hook (the runtime looks for this name in no namespace): when a test starts `sitewatch` with
/// DOTNET_STARTUP_HOOKS naming this assembly and <see cref="ProbeVariable"/> set, it runs a probe in that fresh process
/// before the program's Main and exits with its result. See NativeLoadOrderTests.
/// </summary>
internal static class StartupHook
{
    public const string ProbeVariable = "SITEWATCH_TEST_LOAD_ORDER_PROBE";

    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(ProbeVariable) is not { Length: > 0 } folder)
        {
            return;
        }
        try
        {
            var problem = SiteWatch.Tests.Registration.NativeLoadOrderTests.Probe(folder);
            Console.WriteLine(problem ?? "read back exactly");
            Environment.Exit(problem is null ? 0 : 3);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine(e);
            Environment.Exit(4);
        }
    }
}
