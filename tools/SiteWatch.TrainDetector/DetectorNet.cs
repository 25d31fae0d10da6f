using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using SiteWatch.Training;

namespace SiteWatch.TrainDetector;

/// <summary>
/// A small anchor-free detector (FCOS-style) for 0.5-1 m imagery: a stride-16 encoder with a dilated last stage,
/// a two-step top-down path back to stride 4 (vehicles are 5 px long), one shared 3x3 layer, and two 1x1 heads:
/// class logits and log distances (left, top, right, bottom, in stride units) from each cell centre to the box edges.
/// About 0.5 GMAC per 256x256 tile.
/// </summary>
internal sealed class DetectorNet : nn.Module<Tensor, (Tensor Logits, Tensor LogDistances)>
{
    public const int OutputStride = 4;

    public DetectorNet(int classes) : base("sitewatch-objects")
    {
        Classes = classes;
        S1 = new ConvBn("s1", 3, 16, stride: 2);
        S2 = new ConvBn("s2", 16, 32, stride: 2);
        S3 = new ConvBn("s3", 32, 32);
        S4 = new ConvBn("s4", 32, 64, stride: 2);
        S5 = new ConvBn("s5", 64, 64);
        S6 = new ConvBn("s6", 64, 96, stride: 2);
        S7 = new ConvBn("s7", 96, 96, dilation: 2);
        U1 = new ConvBn("u1", 96 + 64, 64);
        U2 = new ConvBn("u2", 64 + 32, 48);
        Head = new ConvBn("head", 48, 48);
        ClassHead = nn.Conv2d(48, classes, 1);
        BoxHead = nn.Conv2d(48, 4, 1);
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
