using RankSim;
using RankSim.Dir;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DirExperiment;

/// <summary>
/// What one method minimizes: the regression loss (weighted L1, Focal-R or BMC, with the method's re-weighting) plus,
/// for methods that use them, gamma times RankSim and the OrdinalEntropy term. A regularizer is computed only where
/// the method trains with it; a term recorded for logging only is computed without gradient.
/// </summary>
internal sealed class Objective
{
    private readonly RankSimArm arm;
    private readonly LabelWeights? weights;
    private readonly RankSimLoss? rankSim;
    private readonly RankSimLoss? recordedTerm;
    private readonly OrdinalEntropyLoss? ordinalEntropy;
    private readonly BMCLoss? bmc;
    private readonly FocalRLoss? focal;
    private readonly WeightedL1Loss l1 = new();

    public Objective(MethodSpec method, RankSimArm arm, LabelWeights? weights, FeatureDistributionSmoothing? fds, Generator subsampling, RankSimLoss? recordedTerm, Device device)
    {
        this.arm = arm;
        this.weights = weights;
        Fds = fds;
        rankSim = method.RankSim ? arm.CreateLoss(subsampling) : null;
        this.recordedTerm = recordedTerm;
        ordinalEntropy = method.OrdinalEntropy ? new OrdinalEntropyLoss() : null;
        bmc = method.Bmc ? new BMCLoss(initialNoiseSigma: 1.0) : null;
        bmc?.to(device);
        focal = method.Focal ? new FocalRLoss() : null;
    }

    private Objective(Objective stageOne, LabelWeights weights)
    {
        (arm, this.weights, recordedTerm, bmc, focal) = (stageOne.arm, weights, stageOne.recordedTerm, stageOne.bmc, stageOne.focal);
    }

    /// <summary>FDS between the encoder and the regressor, for methods with FDS (stage one only).</summary>
    public FeatureDistributionSmoothing? Fds { get; }

    /// <summary>Trainable parameters of the loss itself (BMC's noise scale), trained with the model.</summary>
    public IEnumerable<Parameter> Parameters => bmc?.parameters() ?? [];

    /// <summary>
    /// The objective of stage two of regressor re-training: the regression loss only, with the method's weights or
    /// SQINV + LDS, without FDS or regularizers.
    /// </summary>
    public Objective ForRetraining(LabelDistribution training) =>
        new(this, weights ?? training.Reweight(Reweighting.SqrtInverse, new KernelWindow()));

    /// <summary>Whether an epoch records a RankSim term (the logging term, or the one the method trains with).</summary>
    public bool RecordsTerm(bool stageOne) => recordedTerm is not null || (stageOne && rankSim is not null);

    /// <summary>The loss of a batch and the RankSim term to record (detached; null when none is recorded).</summary>
    public (Tensor Loss, Tensor? RecordedTerm) Loss(Tensor pred, Tensor features, Tensor y, bool stageOne)
    {
        var w = weights?.Lookup(y);
        var loss = bmc is not null ? bmc.call(pred, y) : focal is not null ? focal.call(pred, y, w) : l1.call(pred, y, w);
        Tensor? term = null;
        if (stageOne && rankSim is not null)
        {
            var regularizer = rankSim.call(features, y);
            loss = loss + (arm.Gamma * regularizer);
            term = regularizer.detach();
        }

        if (stageOne && ordinalEntropy is not null)
        {
            loss = loss + (arm.OrdinalEntropyWeight * ordinalEntropy.call(features, y));
        }

        if (recordedTerm is not null)
        {
            using var noGrad = no_grad();
            term = recordedTerm.call(features.detach(), y);
        }

        return (loss, term);
    }
}
