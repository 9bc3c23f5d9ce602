// QuickStart: an MLP on long-tailed data, trained with SQINV + LDS weights and L1 + gamma * RankSim, then evaluated
// per shot group. Copy it into a console app that references RankSim.TorchSharp and a TorchSharp backend.
using RankSim;
using RankSim.Dir;
using static TorchSharp.torch;

const int Samples = 8000, Train = 6000, Epochs = 20, BatchSize = 256;
const double Gamma = 0.1;                              // RankSim's weight: the recommended starting point (docs: tuning)
manual_seed(0);

// Long-tailed integer labels 0..59 (most samples near 0) and 8 noisy features that encode them.
var t = distributions.Exponential(tensor(1.0f / 8)).sample(Samples).clamp(0, 59).floor();
var phi = stack([t / 60, (t / 60).square(), (t / 8).sin(), (t / 8).cos()], dim: 1);
var x = phi.mm(randn(4, 8)) + 0.1 * randn(Samples, 8);
var (xTrain, yTrain, xTest, yTest) = (x[..Train], t[..Train], x[Train..], t[Train..]);

var distribution = LabelDistribution.FromLabels(yTrain);                                 // integer label bins
var weights = distribution.Reweight(Reweighting.SqrtInverse, lds: new KernelWindow());    // SQINV + LDS (Gaussian, 5, 2)
var encoder = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU());   // features: last hidden layer
var head = nn.Linear(64, 1);
var rankSim = ranksim.nn.RankSimLoss(FeatureRanking.Blackbox(interpolationLambda: 0.5));  // lambda 0.5 with gamma 0.1
var l1 = ranksim.nn.WeightedL1Loss();
var optimizer = optim.Adam(encoder.parameters().Concat(head.parameters()), lr: 3e-3);

for (int epoch = 1; epoch <= Epochs; epoch++)
{
    double l1Sum = 0, rankSimSum = 0;
    int batches = Train / BatchSize;
    var order = randperm(Train);
    for (int b = 0; b < batches; b++)
    {
        using var scope = NewDisposeScope();
        var index = order[(b * BatchSize)..((b + 1) * BatchSize)];
        var (xb, yb) = (xTrain[index], yTrain[index]);
        var features = encoder.call(xb);
        var regression = l1.call(head.call(features).squeeze(1), yb, weights.Lookup(yb));
        var regularizer = rankSim.call(features, yb);
        optimizer.zero_grad();
        (regression + Gamma * regularizer).backward();
        optimizer.step();
        l1Sum += regression.item<float>();
        rankSimSum += regularizer.item<float>();
    }

    Console.WriteLine($"epoch {epoch,2}: weighted L1 {l1Sum / batches:F3}, RankSim {rankSimSum / batches:F4}");
}

// DIR evaluation: many-shot bins have > 100 training samples, few-shot < 20.
var evaluator = new DirEvaluator(new ShotSplit(distribution));
using (no_grad())
{
    evaluator.Add(head.call(encoder.call(xTest)).squeeze(1), yTest);
}

Console.Write(evaluator.Compute().ToTable());
