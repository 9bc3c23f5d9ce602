// Consumer check: a brand-new project that installs RankSim.TorchSharp from a local feed and trains with it.
using RankSim;
using TorchSharp;
using static TorchSharp.torch;

// Long-tailed integer labels 0..59, encoded non-monotonically in 16 noisy features.
manual_seed(0);
var t = distributions.Exponential(tensor(1.0f / 8)).sample(4096).clamp(0, 59).floor();
var x = (t.unsqueeze(1) * (rand(1, 16) * 0.5f) + rand(1, 16) * 6.28f).sin() + 0.05f * randn(4096, 16);
var y = t.unsqueeze(1);

var encoder = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU());
var head = nn.Linear(64, 1);
var rankSim = new RankSimLoss(interpolationLambda: 0.5);
const double Gamma = 1.0;
var optimizer = optim.Adam(encoder.parameters().Concat(head.parameters()), lr: 2e-3);
var terms = new List<double>();
for (int step = 0; step < 300; step++)
{
    using var scope = NewDisposeScope();
    var index = randint(0, 4096, 256);
    var features = encoder.call(x[index]);
    var regularizer = rankSim.call(features, y[index]);
    var loss = nn.functional.l1_loss(head.call(features), y[index]) + Gamma * regularizer;
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
