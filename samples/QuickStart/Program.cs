// QuickStart: an MLP on generated long-tailed data with SQINV + LDS weights, L1 + gamma * RankSim, and DIR evaluation.
using System.Diagnostics;
using RankSim;
using TorchSharp;
using static TorchSharp.torch;

const int Samples = 8000, Train = 6000, Epochs = 20, BatchSize = 256;
// The blackbox perturbation is lambda * gamma * dL/dranks. The paper's gamma = 100, lambda = 2 (tuned for deep encoders
// on AgeDB) makes the RankSim term of this small MLP rise; gamma = 1, lambda = 0.5 keeps it falling (see README).
const double Gamma = 1.0, Lambda = 0.5;
manual_seed(0);

// Long-tailed integer labels 0..59 (most samples near 0) and 8 noisy features that encode them.
var t = distributions.Exponential(tensor(1.0f / 8)).sample(Samples).clamp(0, 59).floor();
var phi = stack([t / 60, (t / 60).square(), (t / 8).sin(), (t / 8).cos()], dim: 1);
var x = phi.mm(randn(4, 8)) + 0.1 * randn(Samples, 8);
var (xTrain, yTrain, xTest, yTest) = (x[..Train], t[..Train], x[Train..], t[Train..]);

var distribution = LabelDistribution.FromLabels(yTrain);                                // integer label bins
var weights = distribution.Reweight(Reweighting.SqrtInverse, lds: new KernelWindow());   // SQINV + LDS (Gaussian, 5, 2)
var encoder = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU());  // features: last hidden layer
var head = nn.Linear(64, 1);
var rankSim = new RankSimLoss(interpolationLambda: Lambda);
var l1 = new WeightedL1Loss();
var optimizer = optim.Adam(encoder.parameters().Concat(head.parameters()), lr: 3e-3);

// One optimisation step on a batch; returns (weighted L1, RankSim); gamma 0 leaves RankSim out of the loss.
(double L1, double RankSim) Step(Tensor index, double gamma)
{
    using var scope = NewDisposeScope();
    var features = encoder.call(xTrain[index]);
    var regression = l1.call(head.call(features).squeeze(1), yTrain[index], weights.Lookup(yTrain[index]));
    var regularizer = gamma > 0 ? rankSim.call(features, yTrain[index]) : zeros(1);
    optimizer.zero_grad();
    (regression + gamma * regularizer).backward();
    optimizer.step();
    return (regression.item<float>(), regularizer.item<float>());
}

for (int epoch = 1; epoch <= Epochs; epoch++)
{
    var order = randperm(Train);
    var terms = Enumerable.Range(0, Train / BatchSize).Select(b => Step(order[(b * BatchSize)..((b + 1) * BatchSize)], Gamma)).ToList();
    double l1Mean = terms.Average(s => s.L1), rankSimMean = terms.Average(s => s.RankSim);
    Console.WriteLine($"epoch {epoch,2}: loss {l1Mean + Gamma * rankSimMean,6:F3} = weighted L1 {l1Mean:F3} + {Gamma} x RankSim {rankSimMean:F4}");
}

// DIR evaluation: many-shot bins have > 100 training samples, few-shot < 20.
var evaluator = new DirEvaluator(new ShotSplit(distribution));
using (no_grad())
{
    evaluator.Add(head.call(encoder.call(xTest)).squeeze(1), yTest);
}

Console.Write(evaluator.Compute().ToTable());

// RankSim's share of a training step for this model: steps with and without it, interleaved so that the machine's
// drifts hit both alike, compared by their median times.
var withoutRankSim = new List<double>();
var withRankSim = new List<double>();
for (int i = -20; i < 300; i++)
{
    foreach (double gamma in new[] { 0, Gamma })
    {
        using var scope = NewDisposeScope();
        var batch = randperm(Train)[..BatchSize];
        var watch = Stopwatch.StartNew();
        Step(batch, gamma);
        if (i >= 0)
        {
            (gamma > 0 ? withRankSim : withoutRankSim).Add(watch.Elapsed.TotalMilliseconds);
        }
    }
}

double plain = withoutRankSim.Order().ElementAt(withoutRankSim.Count / 2);
double regularized = withRankSim.Order().ElementAt(withRankSim.Count / 2);
Console.WriteLine($"training step (median of 300): {plain:F2} ms without RankSim, {regularized:F2} ms with it; RankSim takes {100 * (regularized - plain) / regularized:F0}% of the step");
