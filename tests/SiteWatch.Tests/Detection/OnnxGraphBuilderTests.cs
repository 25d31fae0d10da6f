using Microsoft.ML.OnnxRuntime;
using SiteWatch.Demo.Models;

namespace SiteWatch.Tests.Detection;

public class OnnxGraphBuilderTests
{
    [Fact]
    public void Conv_relu_add_graph_runs_in_onnx_runtime_with_the_expected_numbers()
    {
        var b = new OnnxGraphBuilder("conv-relu-add");
        b.AddInput("x", [1, 1, 3, 3], ["batch", null, null, null]);
        b.AddOutput("y", [1, 2, 3, 3], ["batch", null, null, null]);
        // Two 1x1 filters: identity and negation; bias 0 and 1.
        b.AddInitializer("w", [2, 1, 1, 1], [1f, -1f]);
        b.AddInitializer("bias", [2], [0f, 1f]);
        b.AddInitializer("ten", [1], [10f]);
        b.AddNode("Conv", ["x", "w", "bias"], ["conv"], OnnxAttribute.Ints("kernel_shape", 1, 1), OnnxAttribute.Ints("strides", 1, 1));
        b.AddNode("Relu", ["conv"], ["relu"]);
        b.AddNode("Add", ["relu", "ten"], ["y"]);
        var metadata = new Dictionary<string, string> { ["names"] = "{0: 'plane', 1: 'ship'}", ["imgsz"] = "[640, 640]", ["task"] = "detect" };

        using var session = new InferenceSession(b.ToModelBytes(metadata: metadata));

        var x = new float[] { -2, -1, 0, 1, 2, 3, 4, 5, 6 };
        using var input = OrtValue.CreateTensorValueFromMemory(x, [1, 1, 3, 3]);
        using var outputs = session.Run(new RunOptions(), ["x"], [input], ["y"]);
        var y = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.Equal([1, 2, 3, 3], outputs[0].GetTensorTypeAndShape().Shape);
        for (var i = 0; i < 9; i++)
        {
            Assert.Equal(Math.Max(x[i], 0) + 10, y[i]);
            Assert.Equal(Math.Max(1 - x[i], 0) + 10, y[9 + i]);
        }
        Assert.Equal("SiteWatch", session.ModelMetadata.ProducerName);
        Assert.Equal("{0: 'plane', 1: 'ship'}", session.ModelMetadata.CustomMetadataMap["names"]);
        Assert.Equal("[640, 640]", session.ModelMetadata.CustomMetadataMap["imgsz"]);
        Assert.Equal("detect", session.ModelMetadata.CustomMetadataMap["task"]);
        // The symbolic batch axis is dynamic, the others fixed.
        Assert.Equal([-1, 1, 3, 3], session.InputMetadata["x"].Dimensions);
        Assert.Equal("batch", session.InputMetadata["x"].SymbolicDimensions[0]);
    }

    [Fact]
    public void Int64_initializers_and_float_attributes_reach_the_operators()
    {
        var b = new OnnxGraphBuilder("reshape-transpose");
        b.AddInput("x", [1, 6]);
        b.AddOutput("y", [3, 2]);
        b.AddInitializer("shape", [2], [2L, 3L]);
        b.AddNode("Reshape", ["x", "shape"], ["r"]);
        b.AddNode("Transpose", ["r"], ["t"], OnnxAttribute.Ints("perm", 1, 0));
        b.AddNode("LeakyRelu", ["t"], ["y"], OnnxAttribute.Float("alpha", 0.5f));

        using var session = new InferenceSession(b.ToModelBytes(opset: 13));
        var x = new float[] { 1, -2, 3, -4, 5, -6 };
        using var input = OrtValue.CreateTensorValueFromMemory(x, [1, 6]);
        using var outputs = session.Run(new RunOptions(), ["x"], [input], ["y"]);
        // [[1,-2,3],[-4,5,-6]] transposed = [[1,-4],[-2,5],[3,-6]], negatives halved.
        Assert.Equal([1f, -2f, -1f, 5f, 3f, -3f], outputs[0].GetTensorDataAsSpan<float>().ToArray());
    }

    [Fact]
    public void Dynamic_axes_accept_any_size_and_the_graph_keeps_input_dependence()
    {
        // The constant-output pattern detector tests use: output = 0 * ReduceMax(x) + constant.
        var b = new OnnxGraphBuilder("constant");
        b.AddInput("images", [1, 3, -1, -1], [null, null, "height", "width"]);
        b.AddOutput("output0", [1, 2, 3]);
        b.AddInitializer("zero", [1], [0f]);
        b.AddInitializer("c", [1, 2, 3], [1f, 2f, 3f, 4f, 5f, 6f]);
        b.AddNode("ReduceMax", ["images"], ["m"], OnnxAttribute.Int("keepdims", 0));
        b.AddNode("Mul", ["m", "zero"], ["z"]);
        b.AddNode("Add", ["c", "z"], ["output0"]);
        using var session = new InferenceSession(b.ToModelBytes());
        Assert.Equal([1, 3, -1, -1], session.InputMetadata["images"].Dimensions);
        using var input = OrtValue.CreateTensorValueFromMemory(new float[3 * 5 * 7], [1, 3, 5, 7]);
        using var outputs = session.Run(new RunOptions(), ["images"], [input], ["output0"]);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], outputs[0].GetTensorDataAsSpan<float>().ToArray());
    }

    [Fact]
    public void Misuse_is_refused()
    {
        var b = new OnnxGraphBuilder("g");
        b.AddInput("x", [1]);
        Assert.Throws<ArgumentException>(() => b.AddInput("x", [1]));
        Assert.Throws<ArgumentException>(() => b.AddInitializer("w", [2, 2], [1f, 2f, 3f]));
        Assert.Throws<ArgumentException>(() => b.AddOutput("y", [1, 2], ["a"]));
        Assert.Throws<InvalidOperationException>(() => b.ToModelBytes());
    }
}
