namespace RankSim.Dir;

/// <summary>
/// Whether a trained regressor collapsed, judged by its outcome: its predictions hardly vary (their spread below
/// <c>minPredictionSpread</c> of the labels'), or its validation error is far worse than the same recipe's without the
/// regularizer (more than <c>maxErrorRatio</c> times it). The feature statistics of <see cref="FeatureDiagnostics"/>
/// (effective rank, cosines, similarity-label Spearman) are reported beside the verdict, not used for it: features
/// ordered by the label along few directions are what RankSim asks for.
/// </summary>
/// <example>
/// <code>
/// var diagnostics = FeatureDiagnostics.Compute(valFeatures, valLabels, valPredictions);
/// var verdict = CollapseCheck.Judge(diagnostics, validationError: valMaeWithRankSim, baselineValidationError: valMaeWithout);
/// if (verdict.Collapsed) Console.WriteLine(verdict.Reason);
/// </code>
/// </example>
public static class CollapseCheck
{
    /// <summary>The default least prediction spread, 0.1 of the labels' standard deviation.</summary>
    public static double DefaultMinPredictionSpread => 0.1;

    /// <summary>The default largest ratio of the validation error to the baseline's, 1.5.</summary>
    public static double DefaultMaxErrorRatio => 1.5;

    /// <summary>Judges one trained model from its diagnostics on validation data and its validation error.</summary>
    /// <param name="diagnostics">The model's <see cref="FeatureDiagnostics"/> on validation data, computed with its predictions.</param>
    /// <param name="validationError">The model's validation error (MAE or MSE, the same metric as the baseline's), finite, &gt;= 0.</param>
    /// <param name="baselineValidationError">
    /// The same recipe's validation error without the regularizer (same seed, data and schedule), or null when there is none
    /// to compare with (then only the prediction spread is judged).
    /// </param>
    /// <param name="minPredictionSpread">Predictions whose spread is below this fraction of the labels' are near-constant (default 0.1), in [0, 1].</param>
    /// <param name="maxErrorRatio">A validation error more than this times the baseline's is far worse (default 1.5), at least 1.</param>
    /// <returns>The verdict, with its reason and the feature statistics in words.</returns>
    /// <exception cref="ArgumentNullException">The diagnostics are null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An error that is negative or not finite, or a threshold out of range.</exception>
    /// <exception cref="ArgumentException">The diagnostics were computed without predictions (their spread is NaN).</exception>
    public static CollapseVerdict Judge(
        FeatureDiagnostics diagnostics,
        double validationError,
        double? baselineValidationError = null,
        double minPredictionSpread = 0.1,
        double maxErrorRatio = 1.5)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        RequireError(validationError, nameof(validationError));
        if (baselineValidationError is { } baseline)
        {
            RequireError(baseline, nameof(baselineValidationError));
        }

        if (!(minPredictionSpread >= 0 && minPredictionSpread <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(minPredictionSpread), minPredictionSpread, "minPredictionSpread must lie in [0, 1].");
        }

        if (!(maxErrorRatio >= 1) || double.IsPositiveInfinity(maxErrorRatio))
        {
            throw new ArgumentOutOfRangeException(nameof(maxErrorRatio), maxErrorRatio, "maxErrorRatio must be a finite number of at least 1.");
        }

        if (double.IsNaN(diagnostics.PredictionSpread))
        {
            throw new ArgumentException(
                "The diagnostics have no prediction spread: compute them with the model's predictions (FeatureDiagnostics.Compute(features, labels, predictions)).",
                nameof(diagnostics));
        }

        string features = $"effective rank {diagnostics.EffectiveRank:F1}, mean cosine {diagnostics.MeanCosine:F3} (centered {diagnostics.CenteredMeanCosine:F3}), "
            + $"similarity-label Spearman {diagnostics.SimilarityLabelSpearman:F3}";
        if (diagnostics.PredictionSpread < minPredictionSpread)
        {
            return new CollapseVerdict(true, $"the predictions hardly vary (spread {diagnostics.PredictionSpread:F3} of the labels', below {minPredictionSpread:G3}); {features}");
        }

        if (baselineValidationError is { } without && validationError > maxErrorRatio * without)
        {
            return new CollapseVerdict(true, $"the validation error {validationError:G4} is more than {maxErrorRatio:G3} times the {without:G4} without the regularizer; {features}");
        }

        string comparison = baselineValidationError is { } b ? $", validation error {validationError:G4} against {b:G4} without the regularizer" : "";
        return new CollapseVerdict(false, $"the regression works (prediction spread {diagnostics.PredictionSpread:F3}{comparison}); {features}");
    }

    private static void RequireError(double error, string name)
    {
        if (!double.IsFinite(error) || error < 0)
        {
            throw new ArgumentOutOfRangeException(name, error, $"{name} must be a finite number of at least 0.");
        }
    }
}

/// <summary>The outcome of <see cref="CollapseCheck.Judge"/>: whether the model collapsed, and why (with the feature statistics in words).</summary>
/// <param name="Collapsed">Whether the regression failed: near-constant predictions, or a validation error far worse than without the regularizer.</param>
/// <param name="Reason">One line: the rule that decided, the numbers behind it, and the feature statistics.</param>
public sealed record CollapseVerdict(bool Collapsed, string Reason);
