using TorchSharp;
using TorchSharp.Modules;
using SiteWatch.Training;
using static TorchSharp.torch;

namespace SiteWatch.TrainChange;

/// <summary>
/// A small fully convolutional Siamese change network in the spirit of FC-Siam-diff (Daudt et al. 2018): one encoder,
/// its weights shared by both dates, at strides 1, 2, 4 and 8 (the last stage dilated for context); at every stride the
/// absolute difference of the two dates' features, so the network sees what differs, never which date is which
/// (change is symmetric); a decoder that climbs back to full resolution, joining each level's difference; one 1x1
/// layer to a change logit per pixel. About 0.25 M parameters.
/// </summary>
internal sealed class ChangeNet : nn.Module<Tensor, Tensor>
{
    /// <summary>Input sides must be a multiple of this (three stride-2 stages).</summary>
    public const int Granularity = 8;

    public ChangeNet() : base("sitewatch-change")
    {
        E1a = new ConvBn("e1a", 3, 16);
        E1b = new ConvBn("e1b", 16, 16);
        E2a = new ConvBn("e2a", 16, 32, stride: 2);
        E2b = new ConvBn("e2b", 32, 32);
        E3a = new ConvBn("e3a", 32, 64, stride: 2);
        E3b = new ConvBn("e3b", 64, 64);
        E4a = new ConvBn("e4a", 64, 96, stride: 2);
        E4b = new ConvBn("e4b", 96, 96, dilation: 2);
        D3 = new ConvBn("d3", 96 + 64, 64);
        D2 = new ConvBn("d2", 64 + 32, 32);
        D1 = new ConvBn("d1", 32 + 16, 16);
        Head = nn.Conv2d(16, 1, 1);
        RegisterComponents();
        using (no_grad())
        {
            Head.bias!.fill_(-2.0f); // change is rare: start near p = 0.12 so the first steps are not spent unlearning 0.5
        }
    }

    public ConvBn E1a { get; }
    public ConvBn E1b { get; }
    public ConvBn E2a { get; }
    public ConvBn E2b { get; }
    public ConvBn E3a { get; }
    public ConvBn E3b { get; }
    public ConvBn E4a { get; }
    public ConvBn E4b { get; }
    public ConvBn D3 { get; }
    public ConvBn D2 { get; }
    public ConvBn D1 { get; }
    public Conv2d Head { get; }

    /// <summary>The encoder's stages in order, each a pair of blocks: what the export walks too.</summary>
    public IReadOnlyList<(ConvBn First, ConvBn Second)> Stages => [(E1a, E1b), (E2a, E2b), (E3a, E3b), (E4a, E4b)];

    /// <summary>The decoder blocks from the coarsest level down.</summary>
    public IReadOnlyList<ConvBn> Decoder => [D3, D2, D1];

    /// <summary>[N, 6, H, W] (before red, green, blue, then after) to change logits [N, 1, H, W].</summary>
    public override Tensor forward(Tensor x)
    {
        // Both dates through the encoder as one batch: the same weights and, in training, the same BatchNorm statistics.
        long n = x.shape[0];
        var features = cat([x[.., 0..3], x[.., 3..6]], 0);
        var differences = new List<Tensor>();
        foreach (var (first, second) in Stages)
        {
            features = second.forward(first.forward(features));
            differences.Add((features[..(int)n] - features[(int)n..]).abs());
        }
        var d = differences[^1];
        for (int level = 0; level < Decoder.Count; level++)
        {
            var up = nn.functional.interpolate(d, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
            d = Decoder[level].forward(cat([up, differences[^(level + 2)]], 1));
        }
        return Head.forward(d);
    }
}
