namespace RankSim;

/// <summary>
/// How far the blackbox backward pass of <see cref="RankSimLoss"/> perturbs each anchor's similarities. The blackbox
/// gradient of a row (Vlastelica et al., ICLR 2020) is dL/ds = -(rk(s) - rk(s + lambda_i g)) / lambda_i for the row's
/// similarities s, their upstream gradient g and an interpolation strength lambda_i.
/// </summary>
public enum PerturbationScaling
{
    /// <summary>
    /// The paper's rule: lambda_i = lambda for every row. The step lambda * g then depends on the size of g (on the loss
    /// weight gamma, on M and on the reduction) while the gaps between neighbouring similarities depend on the features:
    /// often nothing moves (an exactly zero gradient) or everything does.
    /// </summary>
    Paper = 0,

    /// <summary>
    /// A per-row, dimensionless strength: lambda_i = lambda * std(s) / mean|g| (population standard deviation of the row's
    /// similarities, mean absolute upstream gradient; lambda_i = lambda where either is 0; at most 1e30), so that the
    /// perturbation lambda_i g moves the similarities by about lambda of their own standard deviations whatever the size of
    /// g. Rows are ranked independently, so each row is a separate blackbox solver and may use its own strength; the result
    /// is exactly linear in the loss weight (the perturbed ranks do not change with gamma, the divisor scales with 1 / gamma).
    /// </summary>
    PerRow = 1,
}
