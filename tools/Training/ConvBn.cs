using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SiteWatch.Training;

/// <summary>Convolution without bias, batch normalisation, ReLU; folded into one ONNX Conv + Relu at export.</summary>
internal sealed class ConvBn : nn.Module<Tensor, Tensor>
{
    public ConvBn(string name, long input, long output, long stride = 1, long dilation = 1) : base(name)
    {
        Stride = stride;
        Dilation = dilation;
        Conv = nn.Conv2d(input, output, 3, stride: stride, padding: dilation, dilation: dilation, bias: false);
        Norm = nn.BatchNorm2d(output);
        RegisterComponents();
    }

    public Conv2d Conv { get; }
    public BatchNorm2d Norm { get; }
    public long Stride { get; }
    public long Dilation { get; }

    public override Tensor forward(Tensor x) => nn.functional.relu(Norm.forward(Conv.forward(x)));
}
