/**
 * Evaluation metrics for `evalSet` and early stopping (the `METRICS` registry), computed as
 * XGBoost 1.7 does on transformed predictions: values for regression, probabilities for
 * classifiers (one column for binary models, one per class otherwise).
 *
 * @module
 */

export interface Metric {
  readonly name: string;
  /** Early stopping keeps the iteration with the highest value when true. */
  readonly maximize: boolean;
  /**
   * @param predictions n × width, row-major.
   * @param width 1 for regression and binary models, the class count otherwise.
   * @param labels Targets, or class indices for classifiers.
   */
  evaluate(
    predictions: Float32Array,
    width: number,
    labels: Float64Array,
    weights: Float64Array | null,
  ): number;
}

const EPS = 1e-16;

/** Weighted mean of per-row losses. */
function meanOf(
  loss: (p: Float32Array, row: number, width: number, y: number) => number,
  finish: (mean: number) => number = (m) => m,
): Metric["evaluate"] {
  return (predictions, width, labels, weights) => {
    let sum = 0, total = 0;
    for (let r = 0; r < labels.length; r++) {
      const w = weights === null ? 1 : weights[r];
      sum += w * loss(predictions, r, width, labels[r]);
      total += w;
    }
    return finish(total > 0 ? sum / total : NaN);
  };
}

function argmax(p: Float32Array, row: number, width: number): number {
  let best = 0;
  for (let k = 1; k < width; k++) if (p[row * width + k] > p[row * width + best]) best = k;
  return best;
}

/** log Γ(x) for x > 0 (Lanczos, g = 7, n = 9): enough for the Poisson log-likelihood. */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Area under the ROC curve of scores for a positive class, ties counted half. */
function rocAuc(
  scores: Float32Array,
  column: number,
  width: number,
  positive: (r: number) => boolean,
  weights: Float64Array | null,
  n: number,
): number {
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
    scores[b * width + column] - scores[a * width + column]
  );
  let tp = 0, fp = 0, area = 0;
  for (let i = 0; i < n;) {
    // One group of tied scores moves the curve diagonally.
    let dtp = 0, dfp = 0;
    const s = scores[order[i] * width + column];
    for (; i < n && scores[order[i] * width + column] === s; i++) {
      const w = weights === null ? 1 : weights[order[i]];
      if (positive(order[i])) dtp += w;
      else dfp += w;
    }
    area += dfp * (tp + dtp / 2);
    tp += dtp;
    fp += dfp;
  }
  return tp > 0 && fp > 0 ? area / (tp * fp) : NaN;
}

function metric(name: string, maximize: boolean, evaluate: Metric["evaluate"]): Metric {
  return { name, maximize, evaluate };
}

/** Metrics by XGBoost name. */
export const METRICS: Readonly<Record<string, Metric>> = {
  rmse: metric("rmse", false, meanOf((p, r, _w, y) => (p[r] - y) ** 2, Math.sqrt)),
  mae: metric("mae", false, meanOf((p, r, _w, y) => Math.abs(p[r] - y))),
  mphe: metric("mphe", false, meanOf((p, r, _w, y) => Math.sqrt(1 + (p[r] - y) ** 2) - 1)),
  "poisson-nloglik": metric(
    "poisson-nloglik",
    false,
    meanOf((p, r, _w, y) => {
      const mu = Math.max(p[r], EPS);
      return logGamma(y + 1) + mu - Math.log(mu) * y;
    }),
  ),
  logloss: metric(
    "logloss",
    false,
    meanOf((p, r, _w, y) =>
      -(y * Math.log(Math.max(p[r], EPS)) + (1 - y) * Math.log(Math.max(1 - p[r], EPS)))
    ),
  ),
  error: metric("error", false, meanOf((p, r, _w, y) => ((p[r] > 0.5 ? 1 : 0) !== y ? 1 : 0))),
  mlogloss: metric(
    "mlogloss",
    false,
    meanOf((p, r, w, y) => -Math.log(Math.max(p[r * w + y], EPS))),
  ),
  merror: metric("merror", false, meanOf((p, r, w, y) => (argmax(p, r, w) !== y ? 1 : 0))),
  auc: metric("auc", true, (predictions, width, labels, weights) => {
    const n = labels.length;
    if (width === 1) return rocAuc(predictions, 0, 1, (r) => labels[r] === 1, weights, n);
    // One-vs-rest, averaged with each class weighted by its prevalence (as XGBoost).
    let sum = 0, total = 0;
    for (let k = 0; k < width; k++) {
      let mass = 0;
      for (let r = 0; r < n; r++) if (labels[r] === k) mass += weights === null ? 1 : weights[r];
      const auc = rocAuc(predictions, k, width, (r) => labels[r] === k, weights, n);
      if (mass > 0 && auc === auc) {
        sum += mass * auc;
        total += mass;
      }
    }
    return total > 0 ? sum / total : NaN;
  }),
};
