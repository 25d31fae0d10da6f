using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using SiteWatch.Training;

namespace SiteWatch.TrainDetector;

/// <summary>
/// A small anchor-free detector (FCOS-style) for 0.5-1 m imagery: a stride-16 encoder with a dilated last stage,
/// a two-step top-down path back to stride 4 (vehicles are 5 px long), one shared 3x3 layer, and two 1x1 heads:
/// class logits and log distances (left, top, right, bottom, in stride units) from each cell centre to the box edges.
/// About 0.5 GMAC per 256x256 tile; the drone variant (<see cref="Small"/>) keeps the first stages and has two thirds
/// of the later channels, about 0.3 GMAC, as a 1280 x 720 frame is 24 tiles, several times a second on two cores.
/// (Stages 24 channels wide gave NaN logits from finite inputs on this LibTorch build; 32 train.)
/// </summary>
internal sealed class DetectorNet : nn.Module<Tensor, (Tensor Logits, Tensor LogDistances)>
{
    public const int OutputStride = 4;

    /// <summary>Channels of the scene model: stages 1-2, 3-4 (c4), 5 (c8), 6 (c16), the two top-down steps and the head.</summary>
    public static readonly int[] Standard = [16, 32, 64, 96, 64, 48];

    /// <summary>Channels of the drone model.</summary>
    public static readonly int[] Small = [16, 32, 48, 64, 48, 32];

    public DetectorNet(int classes, int[]? widths = null) : base("sitewatch-objects")
    {
        var w = widths ?? Standard;
        Classes = classes;
        S1 = new ConvBn("s1", 3, w[0], stride: 2);
        S2 = new ConvBn("s2", w[0], w[1], stride: 2);
        S3 = new ConvBn("s3", w[1], w[1]);
        S4 = new ConvBn("s4", w[1], w[2], stride: 2);
        S5 = new ConvBn("s5", w[2], w[2]);
        S6 = new ConvBn("s6", w[2], w[3], stride: 2);
        S7 = new ConvBn("s7", w[3], w[3], dilation: 2);
        U1 = new ConvBn("u1", w[3] + w[2], w[4]);
        U2 = new ConvBn("u2", w[4] + w[1], w[5]);
        Head = new ConvBn("head", w[5], w[5]);
        ClassHead = nn.Conv2d(w[5], classes, 1);
        BoxHead = nn.Conv2d(w[5], 4, 1);
        RegisterComponents();
        using (no_grad())
        {
            // Focal-loss prior: start every cell at p = 0.01 so the background does not swamp the first steps.
            ClassHead.bias!.fill_(-4.6f);
            BoxHead.bias!.fill_(0.5f);
        }
    }

    public int Classes { get; }
    public ConvBn S1 { get; }
    public ConvBn S2 { get; }
    public ConvBn S3 { get; }
    public ConvBn S4 { get; }
    public ConvBn S5 { get; }
    public ConvBn S6 { get; }
    public ConvBn S7 { get; }
    public ConvBn U1 { get; }
    public ConvBn U2 { get; }
    public ConvBn Head { get; }
    public Conv2d ClassHead { get; }
    public Conv2d BoxHead { get; }

    public override (Tensor Logits, Tensor LogDistances) forward(Tensor x)
    {
        var c4 = S3.forward(S2.forward(S1.forward(x)));
        var c8 = S5.forward(S4.forward(c4));
        var c16 = S7.forward(S6.forward(c8));
        var p8 = U1.forward(cat([Upsample(c16), c8], 1));
        var p4 = U2.forward(cat([Upsample(p8), c4], 1));
        var h = Head.forward(p4);
        return (ClassHead.forward(h), BoxHead.forward(h));
    }

    private static Tensor Upsample(Tensor x) =>
        nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
}
