using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;

namespace SiteWatch.TrainDetector;

/// <summary>Runs the exported ONNX graph in ONNX Runtime and the network in TorchSharp on the same tile and compares.</summary>
internal static class ExportCheck
{
    public static double MaxDifference(DetectorNet net, string onnxPath, LabelledScene scene, int tile)
    {
        var input = new float[3 * tile * tile];
        int n = scene.Width * scene.Height;
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < tile; y++)
            {
                for (int x = 0; x < tile; x++)
                {
                    input[c * tile * tile + y * tile + x] = scene[c * n + y * scene.Width + x];
                }
            }
        }
        using var session = new InferenceSession(onnxPath);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("images", new DenseTensor<float>(input, [1, 3, tile, tile]))]);
        var onnx = results[0].AsTensor<float>().ToArray();

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (logits, logDist) = net.forward(tensor(input, [1, 3, tile, tile]));
        int grid = tile / DetectorNet.OutputStride, cells = grid * grid, classes = net.Classes;
        var p = logits.sigmoid().reshape(classes, cells).data<float>().ToArray();
        var d = logDist.clamp(-6, 8).exp().reshape(4, cells).data<float>().ToArray();
        double worst = 0;
        const float s = DetectorNet.OutputStride;
        for (int i = 0; i < cells; i++)
        {
            float ax = (i % grid + 0.5f) * s, ay = (i / grid + 0.5f) * s;
            float l = d[i] * s, t = d[cells + i] * s, r = d[2 * cells + i] * s, b = d[3 * cells + i] * s;
            float[] expected = [ax + (r - l) / 2, ay + (b - t) / 2, l + r, t + b];
            for (int k = 0; k < 4; k++)
            {
                worst = Math.Max(worst, Math.Abs(expected[k] - onnx[k * cells + i]) / Math.Max(1, Math.Abs(expected[k])));
            }
            for (int c = 0; c < classes; c++)
            {
                worst = Math.Max(worst, Math.Abs(p[c * cells + i] - onnx[(4 + c) * cells + i]));
            }
        }
        return worst;
    }
}
