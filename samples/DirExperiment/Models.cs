using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DirExperiment;

/// <summary>A regressor whose penultimate layer is exposed as the features RankSim and FDS act on.</summary>
internal abstract class Regressor(string name) : nn.Module<Tensor, (Tensor Pred, Tensor Features)>(name)
{
    public abstract Linear Head { get; }

    public abstract long FeatureDim { get; }

    /// <summary>The features [B, FeatureDim] of a batch.</summary>
    public abstract Tensor Encode(Tensor input);

    public override (Tensor Pred, Tensor Features) forward(Tensor input)
    {
        var features = Encode(input);
        return (Head.call(features).squeeze(1), features);
    }
}

/// <summary>MLP inputs -> 128 -> 128 -> 1; the features are the last hidden layer.</summary>
internal sealed class MlpRegressor : Regressor
{
    private readonly Sequential encoder;
    private readonly Linear head;

    public MlpRegressor(long inputs) : base(nameof(MlpRegressor))
    {
        encoder = nn.Sequential(nn.Linear(inputs, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU());
        head = nn.Linear(128, 1);
        RegisterComponents();
    }

    public override Linear Head => head;

    public override long FeatureDim => 128;

    public override Tensor Encode(Tensor input) => encoder.call(input);
}

/// <summary>A small CNN for 24x24 grey images: two conv blocks, a 128-unit feature layer, a linear head.</summary>
internal sealed class CnnRegressor : Regressor
{
    private readonly Sequential encoder;
    private readonly Linear head;

    public CnnRegressor() : base(nameof(CnnRegressor))
    {
        encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 6 * 6, 128), nn.ReLU());
        head = nn.Linear(128, 1);
        RegisterComponents();
    }

    public override Linear Head => head;

    public override long FeatureDim => 128;

    public override Tensor Encode(Tensor input) => encoder.call(input);
}
