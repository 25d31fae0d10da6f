using Microsoft.ML.OnnxRuntime;
using SiteWatch.Core.Change;
using SiteWatch.Core.Change.Methods;
using SiteWatch.Core.Change.Deep;

namespace SiteWatch.Tests.Change.Deep;

public class ResNetFeatureExtractorTests
{
    private static float[] Image(int batch, int height, int width, int seed)
    {
        var rng = new Random(seed);
        var data = new float[batch * 3 * height * width];
        for (var i = 0; i < data.Length; i++)
        {
            var p = i % (height * width);
            int r = p / width, c = p % width;
            data[i] = (float)Math.Clamp(128 + 70 * Math.Sin(r * 0.11 + i / (height * width)) * Math.Cos(c * 0.07) + rng.Next(-30, 30), 0, 255);
        }
        return data;
    }

    [Fact]
    public void Every_layer_has_the_expected_shape_for_any_aligned_size()
    {
        var extractor = ResNetFeatureExtractor.Get(ResNetLayer.All);
        Assert.Equal(32, extractor.Alignment);
        foreach (var (batch, h, w) in new[] { (1, 224, 224), (2, 96, 160) })
        {
            using var maps = extractor.Extract(Image(batch, h, w, 1), batch, h, w);
            for (var l = 0; l < ResNetLayer.All.Count; l++)
            {
                var layer = ResNetLayer.All[l];
                Assert.Equal((batch, layer.Channels, h / layer.Stride, w / layer.Stride), maps.Shape(l));
                Assert.Equal(batch * layer.Channels * (h / layer.Stride) * (w / layer.Stride), maps.Data(l).Length);
                // Every stage ends in a ReLU: non-negative, and not all zero.
                Assert.True(maps.Data(l).ToArray().Min() >= 0);
                Assert.True(maps.Data(l).ToArray().Max() > 0);
            }
        }
    }

    [Fact]
    public void A_session_for_shallow_layers_accepts_sizes_aligned_to_its_deepest_stride_only()
    {
        var extractor = ResNetFeatureExtractor.Get([ResNetLayer.Conv1, ResNetLayer.Layer1, ResNetLayer.Layer2]);
        Assert.Equal(8, extractor.Alignment);
        using (var maps = extractor.Extract(Image(1, 40, 56, 2), 1, 40, 56))
        {
            Assert.Equal((1, 128, 5, 7), maps.Shape(2));
        }
        Assert.Throws<ArgumentException>(() => extractor.Extract(Image(1, 44, 56, 2), 1, 44, 56));
        Assert.Same(extractor, ResNetFeatureExtractor.Get([ResNetLayer.Conv1, ResNetLayer.Layer1, ResNetLayer.Layer2]));
    }

    /// <summary>
    /// The in-memory graph edit must leave the network intact: the packaged, unedited model's pooled output equals
    /// the mean over the 7 x 7 layer4 map the edited graph exposes, fed the same BGR mean-subtracted image.
    /// </summary>
    [Fact]
    public void The_edited_graph_computes_what_the_packaged_model_computes()
    {
        var extractor = ResNetFeatureExtractor.Get([ResNetLayer.Layer1, ResNetLayer.Layer4]);
        var rgb = Image(1, 224, 224, 3);
        using var maps = extractor.Extract(rgb, 1, 224, 224);
        var layer4 = maps.Data(1);

        var plane = 224 * 224;
        var bgr = new float[3 * plane];
        for (var c = 0; c < 3; c++)
        {
            for (var k = 0; k < plane; k++)
            {
                bgr[c * plane + k] = rgb[(2 - c) * plane + k] - ResNetFeatureExtractor.MeanBgr[c];
            }
        }
        using var original = new InferenceSession(extractor.ModelPath);
        Assert.Equal([1, 3, 224, 224], original.InputMetadata[ResNetFeatureExtractor.InputName].Dimensions);
        using var input = OrtValue.CreateTensorValueFromMemory(bgr, [1, 3, 224, 224]);
        using var runOptions = new RunOptions();
        using var outputs = original.Run(runOptions, [ResNetFeatureExtractor.InputName], [input], ["Pooling395_Output_0"]);
        var pooled = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.Equal(512, pooled.Length);
        double worst = 0, scale = 0;
        for (var c = 0; c < 512; c++)
        {
            double mean = 0;
            for (var k = 0; k < 49; k++)
            {
                mean += layer4[c * 49 + k];
            }
            mean /= 49;
            worst = Math.Max(worst, Math.Abs(mean - pooled[c]));
            scale = Math.Max(scale, Math.Abs(pooled[c]));
        }
        Assert.True(scale > 0.1, $"pooled features suspiciously small ({scale})");
        Assert.True(worst < 1e-4 * Math.Max(1, scale), $"edited graph differs from the packaged model by {worst} (scale {scale})");
    }

    [Fact]
    public void A_feature_does_not_depend_on_pixels_beyond_its_receptive_radius()
    {
        var extractor = ResNetFeatureExtractor.Get([ResNetLayer.Layer2]);
        const int size = 256;
        var a = Image(1, size, size, 4);
        var b = (float[])a.Clone();
        // Change a block of pixels that lies just beyond layer2's receptive radius (49) of feature (16, 16) at pixel (128, 128).
        for (var c = 0; c < 3; c++)
        {
            for (var r = 178; r < 230; r++)
            {
                for (var k = 100; k < 160; k++)
                {
                    b[c * size * size + r * size + k] = 255 - b[c * size * size + r * size + k];
                }
            }
        }
        using var fa = extractor.Extract(a, 1, size, size);
        using var fb = extractor.Extract(b, 1, size, size);
        var (_, channels, h, w) = fa.Shape(0);
        double near = 0;
        for (var c = 0; c < channels; c++)
        {
            var ma = fa.Map(0, 0, c);
            var mb = fb.Map(0, 0, c);
            Assert.Equal(ma[16 * w + 16], mb[16 * w + 16]);
            near = Math.Max(near, Math.Abs(ma[22 * w + 16] - mb[22 * w + 16])); // pixel (176, 128): within reach
        }
        Assert.True(near > 1e-3, "the change should reach a feature within its receptive field");
    }
}
