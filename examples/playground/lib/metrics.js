// @ts-check
/**
 * Scores the playground shows: classification and regression metrics, the largest difference
 * between two outputs, and the sliced Wasserstein distance between two point clouds. No DOM,
 * so tests/playground/metrics_test.ts checks them in Deno.
 *
 * @module
 */

/**
 * @param {ArrayLike<number>} truth
 * @param {ArrayLike<number>} predicted
 */
export function accuracy(truth, predicted) {
  let hits = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === predicted[i]) hits++;
  return hits / truth.length;
}

/**
 * Counts[true class][predicted class] for classes 0 … k−1.
 *
 * @param {ArrayLike<number>} truth
 * @param {ArrayLike<number>} predicted
 * @param {number} k
 * @returns {number[][]}
 */
export function confusionMatrix(truth, predicted, k) {
  const counts = Array.from({ length: k }, () => new Array(k).fill(0));
  for (let i = 0; i < truth.length; i++) counts[truth[i]][predicted[i]]++;
  return counts;
}

/**
 * Root mean squared error, mean absolute error and the coefficient of determination R².
 *
 * @param {ArrayLike<number>} truth
 * @param {ArrayLike<number>} predicted
 */
export function regressionScores(truth, predicted) {
  const n = truth.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += truth[i] / n;
  let se = 0, ae = 0, total = 0;
  for (let i = 0; i < n; i++) {
    const e = predicted[i] - truth[i];
    se += e * e;
    ae += Math.abs(e);
    total += (truth[i] - mean) ** 2;
  }
  return { rmse: Math.sqrt(se / n), mae: ae / n, r2: 1 - se / total };
}

/**
 * max |a − b| over all entries: NaN when an entry is NaN, 0 for empty outputs.
 *
 * @param {ArrayLike<number>} a
 * @param {ArrayLike<number>} b
 */
export function maxAbsDifference(a, b) {
  if (a.length !== b.length) {
    throw new RangeError(
      `Expected outputs of the same length but found ${a.length} and ${b.length}`,
    );
  }
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = d;
  }
  return worst;
}

/**
 * Sliced 2-Wasserstein distance between two equally sized clouds of 2-D points (x, y pairs):
 * the root mean over `directions` evenly spaced angles in [0, π) of the squared W2 distance
 * between the two projections, which for sorted samples of equal size pairs them in order.
 *
 * @param {ArrayLike<number>} a n points, interleaved x, y.
 * @param {ArrayLike<number>} b n points, interleaved x, y.
 * @param {number} [directions]
 */
export function slicedWasserstein2d(a, b, directions = 64) {
  if (a.length !== b.length || a.length % 2 !== 0 || a.length === 0) {
    throw new RangeError(
      `Expected two non-empty clouds of 2-D points of the same size but found ${a.length} and ${b.length} values`,
    );
  }
  const n = a.length / 2;
  const pa = new Float64Array(n), pb = new Float64Array(n);
  let sum = 0;
  for (let l = 0; l < directions; l++) {
    const angle = (Math.PI * (l + 0.5)) / directions;
    const c = Math.cos(angle), s = Math.sin(angle);
    for (let i = 0; i < n; i++) {
      pa[i] = c * a[2 * i] + s * a[2 * i + 1];
      pb[i] = c * b[2 * i] + s * b[2 * i + 1];
    }
    pa.sort();
    pb.sort();
    let w = 0;
    for (let i = 0; i < n; i++) w += (pa[i] - pb[i]) ** 2;
    sum += w / n;
  }
  return Math.sqrt(sum / directions);
}
