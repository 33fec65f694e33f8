/**
 * Losses of classic gradient boosting (Friedman 2001) as scikit-learn 1.2 defines them (the
 * `LOSSES` registry): initial raw prediction, negative gradient (the pseudo-residual each tree
 * is fitted to) and the line search that sets each leaf's value.
 *
 * @module
 */
import { interpolatedPercentile, weightedQuantile } from "./_quantile.ts";

/** One stage's view of the data. Raw predictions are row-major, K per row. */
export interface LossContext {
  /** Targets, or class indices for classification. */
  labels: Float64Array;
  /** Sample weights (ones when none were given). */
  weights: Float64Array;
  /** True when the caller gave sample weights (some statistics differ then, as in scikit-learn). */
  weighted: boolean;
  raw: Float64Array;
  nOutputs: number;
  /** Huber's and quantile's α. */
  alpha: number;
}

export interface GbdtLoss {
  readonly name: string;
  readonly task: "regression" | "classification";
  /** Raw predictions before any tree, one per output. */
  init(ctx: LossContext): Float64Array;
  /**
   * Writes the negative gradient of output k for every row. Returns state the line search of
   * the same stage needs (Huber's γ), or 0.
   */
  negativeGradient(ctx: LossContext, k: number, out: Float64Array): number;
  /** The value of a leaf holding `rows[begin .. end)`, before shrinkage. */
  leafValue(
    ctx: LossContext,
    k: number,
    residual: Float64Array,
    rows: Int32Array,
    begin: number,
    end: number,
    state: number,
  ): number;
}

function gather(
  values: (r: number) => number,
  rows: Int32Array,
  begin: number,
  end: number,
): Float64Array {
  const out = new Float64Array(end - begin);
  for (let i = begin; i < end; i++) out[i - begin] = values(rows[i]);
  return out;
}

/** Weighted percentile in scikit-learn's sense (lower weighted percentile), α in [0, 1]. */
function percentileOf(values: Float64Array, weights: Float64Array, alpha: number): number {
  return weightedQuantile(values, weights, alpha);
}

/** scikit-learn's DummyRegressor quantile: np.percentile unweighted, else weighted. */
function initialQuantile(ctx: LossContext, alpha: number): Float64Array {
  const { labels, weights } = ctx;
  return Float64Array.of(
    ctx.weighted ? weightedQuantile(labels, weights, alpha) : interpolatedPercentile(labels, alpha),
  );
}

function leafDiffs(ctx: LossContext, k: number, rows: Int32Array, begin: number, end: number) {
  const K = ctx.nOutputs;
  return {
    diff: gather((r) => ctx.labels[r] - ctx.raw[r * K + k], rows, begin, end),
    weight: gather((r) => ctx.weights[r], rows, begin, end),
  };
}

const squaredError: GbdtLoss = {
  name: "squared_error",
  task: "regression",
  init({ labels, weights }) {
    let s = 0, w = 0;
    for (let i = 0; i < labels.length; i++) {
      s += weights[i] * labels[i];
      w += weights[i];
    }
    return Float64Array.of(s / w);
  },
  negativeGradient({ labels, raw }, _k, out) {
    for (let i = 0; i < labels.length; i++) out[i] = labels[i] - raw[i];
    return 0;
  },
  leafValue(ctx, _k, residual, rows, begin, end) {
    let s = 0, w = 0;
    for (let i = begin; i < end; i++) {
      s += ctx.weights[rows[i]] * residual[rows[i]];
      w += ctx.weights[rows[i]];
    }
    return w > 0 ? s / w : 0;
  },
};

const absoluteError: GbdtLoss = {
  name: "absolute_error",
  task: "regression",
  init: (ctx) => initialQuantile(ctx, 0.5),
  negativeGradient({ labels, raw }, _k, out) {
    for (let i = 0; i < labels.length; i++) out[i] = labels[i] - raw[i] > 0 ? 1 : -1;
    return 0;
  },
  leafValue(ctx, k, _residual, rows, begin, end) {
    const { diff, weight } = leafDiffs(ctx, k, rows, begin, end);
    return percentileOf(diff, weight, 0.5);
  },
};

const huber: GbdtLoss = {
  name: "huber",
  task: "regression",
  init: (ctx) => initialQuantile(ctx, 0.5),
  negativeGradient({ labels, raw, weights, alpha }, _k, out) {
    const absolute = new Float64Array(labels.length);
    for (let i = 0; i < labels.length; i++) absolute[i] = Math.abs(labels[i] - raw[i]);
    const gamma = percentileOf(absolute, weights, alpha);
    for (let i = 0; i < labels.length; i++) {
      const d = labels[i] - raw[i];
      out[i] = Math.abs(d) <= gamma ? d : gamma * Math.sign(d);
    }
    return gamma;
  },
  leafValue(ctx, k, _residual, rows, begin, end, gamma) {
    const { diff, weight } = leafDiffs(ctx, k, rows, begin, end);
    const median = percentileOf(diff, weight, 0.5);
    // scikit-learn averages the clipped deviations without weights.
    let s = 0;
    for (const d of diff) s += Math.sign(d - median) * Math.min(Math.abs(d - median), gamma);
    return median + s / diff.length;
  },
};

const quantile: GbdtLoss = {
  name: "quantile",
  task: "regression",
  init: (ctx) => initialQuantile(ctx, ctx.alpha),
  negativeGradient({ labels, raw, alpha }, _k, out) {
    for (let i = 0; i < labels.length; i++) out[i] = labels[i] > raw[i] ? alpha : alpha - 1;
    return 0;
  },
  leafValue(ctx, k, _residual, rows, begin, end) {
    const { diff, weight } = leafDiffs(ctx, k, rows, begin, end);
    return percentileOf(diff, weight, ctx.alpha);
  },
};

const FLOAT32_EPSILON = 2 ** -23;

/** Newton step of a leaf: Σ w·residual / Σ w·p(1 − p), with p = label − residual. */
const newtonStep: GbdtLoss["leafValue"] = (ctx, k, residual, rows, begin, end) => {
  let numerator = 0, denominator = 0;
  for (let i = begin; i < end; i++) {
    const r = rows[i];
    const y = ctx.nOutputs === 1 ? ctx.labels[r] : ctx.labels[r] === k ? 1 : 0;
    const p = y - residual[r];
    numerator += ctx.weights[r] * residual[r];
    denominator += ctx.weights[r] * p * (1 - p);
  }
  if (ctx.nOutputs > 1) numerator *= (ctx.nOutputs - 1) / ctx.nOutputs;
  return Math.abs(denominator) < 1e-150 ? 0 : numerator / denominator;
};

const logLoss: GbdtLoss = {
  name: "log_loss",
  task: "classification",
  init({ labels, weights, nOutputs }) {
    // The weighted class prior, clipped away from 0 and 1 (scikit-learn's DummyClassifier).
    const classes = Math.max(2, nOutputs);
    const prior = new Float64Array(classes);
    let total = 0;
    for (let i = 0; i < labels.length; i++) {
      prior[labels[i]] += weights[i];
      total += weights[i];
    }
    const clip = (p: number) => Math.min(Math.max(p / total, FLOAT32_EPSILON), 1 - FLOAT32_EPSILON);
    if (nOutputs === 1) {
      const p = clip(prior[1]);
      return Float64Array.of(Math.log(p / (1 - p)));
    }
    return prior.map((p) => Math.log(clip(p)));
  },
  negativeGradient({ labels, raw, nOutputs: K }, k, out) {
    if (K === 1) {
      for (let i = 0; i < labels.length; i++) out[i] = labels[i] - 1 / (1 + Math.exp(-raw[i]));
      return 0;
    }
    for (let i = 0; i < labels.length; i++) {
      let max = -Infinity;
      for (let j = 0; j < K; j++) max = Math.max(max, raw[i * K + j]);
      let sum = 0;
      for (let j = 0; j < K; j++) sum += Math.exp(raw[i * K + j] - max);
      out[i] = (labels[i] === k ? 1 : 0) - Math.exp(raw[i * K + k] - max) / sum;
    }
    return 0;
  },
  leafValue: newtonStep,
};

/** Losses by scikit-learn name. */
export const LOSSES: Readonly<Record<string, GbdtLoss>> = {
  squared_error: squaredError,
  absolute_error: absoluteError,
  huber,
  quantile,
  log_loss: logLoss,
};
