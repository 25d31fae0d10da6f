using TorchSharp.Modules;
using static TorchSharp.torch;
using SiteWatch.Demo.Models;

namespace SiteWatch.Training;

/// <summary>
/// The ONNX nodes of the training tools' layers, written with the product's <see cref="OnnxGraphBuilder"/>:
/// convolution + batch normalisation + ReLU folded into one Conv and a Relu, 1x1 heads, nearest 2x upsampling.
/// </summary>
internal static class OnnxLayers
{
    /// <summary>The name of the one shared 2x upsampling scales initializer; call <see cref="AddUpsampleScales"/> once.</summary>
    public const string UpScales = "up_scales";

    public static void AddUpsampleScales(OnnxGraphBuilder g) => g.AddInitializer(UpScales, [4], [1f, 1f, 2f, 2f]);

    /// <summary>Nearest-neighbour 2x upsampling, as TorchSharp's interpolate(scale 2, nearest).</summary>
    public static string Upsample(OnnxGraphBuilder g, string input, string output)
    {
        g.AddNode("Resize", [input, "", UpScales], [output],
            OnnxAttribute.String("mode", "nearest"),
            OnnxAttribute.String("coordinate_transformation_mode", "asymmetric"),
            OnnxAttribute.String("nearest_mode", "floor"));
        return output;
    }

    /// <summary>
    /// A <see cref="ConvBn"/> block applied to <paramref name="input"/>. Its weights are added once under the block's
    /// name, so a Siamese encoder can apply the same block to both dates (<paramref name="suffix"/> names the outputs).
    /// </summary>
    public static string ConvBnRelu(OnnxGraphBuilder g, ConvBn block, string input, string suffix = "", HashSet<string>? added = null)
    {
        string name = block.GetName();
        if (added is null || added.Add(name))
        {
            var (weight, bias) = FoldBatchNorm(block.Conv, block.Norm);
            long outC = block.Conv.weight!.shape[0], inC = block.Conv.weight.shape[1];
            g.AddInitializer(name + ".w", [outC, inC, 3, 3], weight);
            g.AddInitializer(name + ".b", [outC], bias);
        }
        long d = block.Dilation;
        g.AddNode("Conv", [input, name + ".w", name + ".b"], [name + suffix + "_conv"],
            OnnxAttribute.Ints("kernel_shape", 3, 3),
            OnnxAttribute.Ints("strides", block.Stride, block.Stride),
            OnnxAttribute.Ints("pads", d, d, d, d),
            OnnxAttribute.Ints("dilations", d, d));
        g.AddNode("Relu", [name + suffix + "_conv"], [name + suffix]);
        return name + suffix;
    }

    public static void Conv1x1(OnnxGraphBuilder g, Conv2d conv, string input, string output)
    {
        long outC = conv.weight!.shape[0], inC = conv.weight.shape[1];
        g.AddInitializer(output + ".w", [outC, inC, 1, 1], Floats(conv.weight));
        g.AddInitializer(output + ".b", [outC], Floats(conv.bias!));
        g.AddNode("Conv", [input, output + ".w", output + ".b"], [output], OnnxAttribute.Ints("kernel_shape", 1, 1));
    }

    private static (float[] Weight, float[] Bias) FoldBatchNorm(Conv2d conv, BatchNorm2d norm)
    {
        var w = Floats(conv.weight!);
        var gamma = Floats(norm.weight!);
        var beta = Floats(norm.bias!);
        var mean = Floats(norm.running_mean!);
        var variance = Floats(norm.running_var!);
        int outC = gamma.Length, per = w.Length / outC;
        var bias = new float[outC];
        for (int o = 0; o < outC; o++)
        {
            float scale = gamma[o] / MathF.Sqrt(variance[o] + 1e-5f);
            for (int k = 0; k < per; k++)
            {
                w[o * per + k] *= scale;
            }
            bias[o] = beta[o] - mean[o] * scale;
        }
        return (w, bias);
    }

    public static float[] Floats(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();
}
