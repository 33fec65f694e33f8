/**
 * Quantiles as the reference libraries define them, for base scores and line-search leaves.
 *
 * @module
 */

/**
 * XGBoost's unweighted quantile: linear interpolation at position α(n + 1) of the sorted values
 * (1-based), clamped to the extremes.
 */
export function interpolatedQuantile(values: ArrayLike<number>, alpha: number): number {
  const n = values.length;
  if (n === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  if (alpha <= 1 / (n + 1)) return sorted[0];
  if (alpha >= n / (n + 1)) return sorted[n - 1];
  const x = alpha * (n + 1);
  const k = Math.floor(x) - 1;
  const d = x - 1 - k;
  return sorted[k] + d * (sorted[k + 1] - sorted[k]);
}

/**
 * The lower weighted quantile: the smallest value whose cumulative weight (in sorted order)
 * reaches α times the total. scikit-learn's `_weighted_percentile` and XGBoost's weighted
 * quantile both take it.
 */
export function weightedQuantile(
  values: ArrayLike<number>,
  weights: ArrayLike<number>,
  alpha: number,
): number {
  const n = values.length;
  if (n === 0) return NaN;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
    values[a] - values[b] || a - b
  );
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[i];
  let target = alpha * total;
  // A zero target would pick a leading zero-weight value; step just past zero instead.
  if (target === 0) target = Number.MIN_VALUE;
  let cumulative = 0;
  for (let i = 0; i < n; i++) {
    cumulative += weights[order[i]];
    if (cumulative >= target) return values[order[i]];
  }
  return values[order[n - 1]];
}

/** NumPy's default percentile: linear interpolation at position α(n − 1) of the sorted values. */
export function interpolatedPercentile(values: ArrayLike<number>, alpha: number): number {
  const n = values.length;
  if (n === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const x = alpha * (n - 1);
  const k = Math.floor(x);
  return k + 1 < n ? sorted[k] + (x - k) * (sorted[k + 1] - sorted[k]) : sorted[n - 1];
}
