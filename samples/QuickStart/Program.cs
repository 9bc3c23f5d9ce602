// QuickStart: a small MLP regressor on generated long-tailed data, trained with L1 + gamma * RankSim.
using RankSim;
using TorchSharp;
using static TorchSharp.torch;

const int Samples = 8000, Epochs = 20, BatchSize = 256;
// The blackbox perturbation is lambda * gamma * dL/dranks. The paper's gamma = 100, lambda = 2 (tuned for deep encoders
// on AgeDB) makes the RankSim term of this small MLP rise; gamma = 1, lambda = 0.5 keeps it falling (see README).
const double Gamma = 1.0, Lambda = 0.5;
manual_seed(0);

// Long-tailed integer labels 0..59 (most samples near 0) and 8 noisy features that encode them.
var t = distributions.Exponential(tensor(1.0f / 8)).sample(Samples).clamp(0, 59).floor();
var phi = stack([t / 60, (t / 60).square(), (t / 8).sin(), (t / 8).cos()], dim: 1);
var x = phi.mm(randn(4, 8)) + 0.1 * randn(Samples, 8);
var y = t.unsqueeze(1);
var (xTrain, yTrain, xTest, yTest) = (x[..6000], y[..6000], x[6000..], y[6000..]);

var model = new Regressor();
var rankSim = new RankSimLoss(interpolationLambda: Lambda);
var l1 = nn.L1Loss();
var optimizer = optim.Adam(model.parameters(), lr: 3e-3);

for (int epoch = 1; epoch <= Epochs; epoch++)
{
    model.train();
    double l1Sum = 0, rankSimSum = 0;
    int batches = 0;
    var order = randperm(6000);
    for (int start = 0; start < 6000; start += BatchSize, batches++)
    {
        using var scope = NewDisposeScope();
        var index = order[start..Math.Min(start + BatchSize, 6000)];
        var (pred, features) = model.call(xTrain[index]);
        var regression = l1.call(pred, yTrain[index]);
        var regularizer = rankSim.call(features, yTrain[index]);
        var loss = regression + Gamma * regularizer;
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        l1Sum += regression.item<float>();
        rankSimSum += regularizer.item<float>();
    }

    model.eval();
    using (no_grad())
    using (NewDisposeScope())
    {
        var testMae = (model.call(xTest).Pred - yTest).abs().mean().item<float>();
        Console.WriteLine($"epoch {epoch,2}: loss {(l1Sum + Gamma * rankSimSum) / batches,7:F2} = L1 {l1Sum / batches:F3} + {Gamma} x RankSim {rankSimSum / batches:F4}   test MAE {testMae:F3}");
    }
}

/// <summary>MLP 8 -> 64 -> 64 -> 1; the last hidden layer is the feature RankSim regularizes.</summary>
internal sealed class Regressor : nn.Module<Tensor, (Tensor Pred, Tensor Features)>
{
    private readonly nn.Module<Tensor, Tensor> encoder = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU());
    private readonly nn.Module<Tensor, Tensor> head = nn.Linear(64, 1);

    public Regressor() : base(nameof(Regressor)) => RegisterComponents();

    public override (Tensor Pred, Tensor Features) forward(Tensor input)
    {
        var features = encoder.call(input);
        return (head.call(features), features);
    }
}
