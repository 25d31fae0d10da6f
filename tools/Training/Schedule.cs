using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SiteWatch.Training;

/// <summary>
/// The training step both tools take: AdamW's learning rate on a cosine schedule after a 50-step warm-up (BatchNorm
/// statistics settle before large steps), gradients clipped at norm 10, and a smoothed loss for the log.
/// </summary>
internal sealed class Schedule(AdamW optimizer, nn.Module module, double peak, int steps)
{
    private double _smoothed = double.NaN;

    /// <summary>The loss averaged over about the last 20 steps.</summary>
    public double SmoothedLoss => _smoothed;

    /// <summary>Sets and returns the learning rate of <paramref name="step"/>.</summary>
    public double Begin(int step)
    {
        double lr = peak * 0.5 * (1 + Math.Cos(Math.PI * step / steps));
        if (step < 50)
        {
            lr *= (step + 1) / 50.0;
        }
        foreach (var g in optimizer.ParamGroups)
        {
            g.LearningRate = lr;
        }
        return lr;
    }

    /// <summary>One optimiser step on <paramref name="loss"/>.</summary>
    public void Step(Tensor loss)
    {
        optimizer.zero_grad();
        loss.backward();
        nn.utils.clip_grad_norm_(module.parameters(), 10.0);
        optimizer.step();
        double value = loss.item<float>();
        _smoothed = double.IsNaN(_smoothed) ? value : 0.95 * _smoothed + 0.05 * value;
    }
}
