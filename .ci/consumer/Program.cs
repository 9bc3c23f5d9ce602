// Consumer check: a brand-new project that installs RankSim.TorchSharp from a local feed and trains with it.
using RankSim;
using RankSim.Dir;
using TorchSharp;
using static TorchSharp.torch;

// Long-tailed integer labels 0..59, encoded non-monotonically in 16 noisy features.
manual_seed(0);
var t = distributions.Exponential(tensor(1.0f / 8)).sample(4096).clamp(0, 59).floor();
var x = (t.unsqueeze(1) * (rand(1, 16) * 0.5f) + rand(1, 16) * 6.28f).sin() + 0.05f * randn(4096, 16);
var y = t.unsqueeze(1);

var encoder = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU());
var head = nn.Linear(64, 1);
var rankSim = ranksim.nn.RankSimLoss(FeatureRanking.Blackbox(interpolationLambda: 0.5));
Loss<Tensor, Tensor, Tensor> l1 = ranksim.nn.WeightedL1Loss();   // a weighted loss, called without weights
const double Gamma = 1.0;
var optimizer = optim.Adam(encoder.parameters().Concat(head.parameters()), lr: 2e-3);
var terms = new List<double>();
for (int step = 0; step < 300; step++)
{
    using var scope = NewDisposeScope();
    var index = randint(0, 4096, 256);
    var features = encoder.call(x[index]);
    var regularizer = rankSim.call(features, y[index]);
    var loss = l1.call(head.call(features), y[index]) + Gamma * regularizer;
    if (step == 0)
    {
        // The functional form computes what the module computes.
        var functional = ranksim.nn.functional.ranksim_loss(features.detach(), y[index], FeatureRanking.Blackbox(0.5), subsample_distinct_labels: false);
        var module = ranksim.nn.RankSimLoss(FeatureRanking.Blackbox(0.5), subsample_distinct_labels: false).call(features.detach(), y[index]);
        if (functional.item<float>() != module.item<float>())
        {
            Console.Error.WriteLine("FAIL: ranksim_loss and RankSimLoss differ.");
            return 1;
        }

        // The 1.1 addition: OrdinalEntropyLoss, module and functional form.
        var entropy = ranksim.nn.OrdinalEntropyLoss().call(features.detach(), y[index]);
        var entropyFunctional = ranksim.nn.functional.ordinal_entropy_loss(features.detach(), y[index]);
        if (entropy.item<float>() != entropyFunctional.item<float>() || !(entropy.item<float>() is >= -2f and <= 2f))
        {
            Console.Error.WriteLine("FAIL: OrdinalEntropyLoss and ordinal_entropy_loss differ or leave [-2, 2].");
            return 1;
        }
    }
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    terms.Add(regularizer.item<float>());
}

double first = terms.Take(30).Average(), last = terms.TakeLast(30).Average();
Console.WriteLine($"RankSim term: mean of the first 30 steps {first:F4}, of the last 30 steps {last:F4}");
if (!double.IsFinite(last) || !(last < first))
{
    Console.Error.WriteLine("FAIL: the RankSim term did not go down.");
    return 1;
}

Console.WriteLine("OK: RankSim.TorchSharp installed from the local feed; training ran and the RankSim term went down.");
return 0;
