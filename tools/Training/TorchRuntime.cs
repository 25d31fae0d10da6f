using TorchSharp;

namespace SiteWatch.Training;

/// <summary>What every training command does before TorchSharp runs: native libraries, threads, a fixed seed.</summary>
internal static class TorchRuntime
{
    public static void Start(ToolOptions options)
    {
        LibTorchSharpLoader.PrepareNativeLibraries();
        torch.set_num_threads(options.Int("threads", Environment.ProcessorCount));
        torch.manual_seed(1); // deterministic initialisation for a given seed list, step count and thread count
    }
}
