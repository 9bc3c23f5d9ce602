using RankSim;
using RankSim.Dir;
using static TorchSharp.torch;

const int Samples = 8000, Train = 6000, Epochs = 20, BatchSize = 256;
const double Gamma = 0.1;                                    // RankSim's weight: the recommended start
manual_seed(0);

// Long-tailed integer labels 0..59 (most samples near 0) and 8 noisy features that encode them.
var t = distributions.Exponential(tensor(1.0f / 8)).sample(Samples).clamp(0, 59).floor();
var phi = stack([t / 60, (t / 60).square(), (t / 8).sin(), (t / 8).cos()], dim: 1);
var x = phi.mm(randn(4, 8)) + 0.1 * randn(Samples, 8);
var (xTrain, yTrain, xTest, yTest) = (x[..Train], t[..Train], x[Train..], t[Train..]);

// SQINV + LDS weights from the training labels' histogram (integer bins).
var distribution = LabelDistribution.FromLabels(yTrain);
var weights = distribution.Reweight(Reweighting.SqrtInverse, lds: new KernelWindow());

var encoder = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU());
var regressor = nn.Linear(64, 1);
var l1 = ranksim.nn.WeightedL1Loss();
var rankSim = ranksim.nn.RankSimLoss(FeatureRanking.Blackbox(interpolationLambda: 0.5));
var optimizer = optim.Adam(encoder.parameters().Concat(regressor.parameters()), lr: 3e-3);

for (int epoch = 1; epoch <= Epochs; epoch++)
{
    var order = randperm(Train);
    double l1Sum = 0, rankSimSum = 0;
    for (int start = 0; start < Train; start += BatchSize)
    {
        using var scope = NewDisposeScope();
        var batch = order[start..Math.Min(start + BatchSize, Train)];
        var (xb, yb) = (xTrain[batch], yTrain[batch]);
        var features = encoder.call(xb);                     // [B, 64]: the layer before the regressor
        var pred = regressor.call(features).squeeze(1);      // [B]
        var regression = l1.call(pred, yb, weights.Lookup(yb));
        var regularizer = rankSim.call(features, yb);
        optimizer.zero_grad();
        (regression + Gamma * regularizer).backward();
        optimizer.step();
        l1Sum += regression.item<float>();
        rankSimSum += regularizer.item<float>();
    }

    if (epoch % 5 == 0)
    {
        int batches = (Train + BatchSize - 1) / BatchSize;
        Console.WriteLine($"epoch {epoch}: weighted L1 {l1Sum / batches:F3}, RankSim {rankSimSum / batches:F3}");
    }
}

// Test error overall and per shot group: many-shot bins have > 100 training samples, few-shot < 20.
var evaluator = new DirEvaluator(new ShotSplit(distribution));
using (no_grad())
{
    evaluator.Add(regressor.call(encoder.call(xTest)).squeeze(1), yTest);
}

Console.Write(evaluator.Compute().ToTable());
