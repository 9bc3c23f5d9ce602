namespace RankSim.Tests; public class Smoke { [Fact] public void Loads() { using var t = torch.ones(3); t.sum().item<float>().Should().Be(3); } }
