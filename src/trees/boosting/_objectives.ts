/**
 * The learning objectives of XGBoost-style boosting (the `OBJECTIVES` registry): per-row
 * gradients and hessians of the loss at the current margins, how margins become predictions,
 * and the base score's default and link. Definitions follow XGBoost 1.7.
 *
 * @module
 */
import type { Tensor } from "../../tensor.ts";
import { gradientsRef } from "../../backends/js/trees.ts";
import { interpolatedQuantile, weightedQuantile } from "./_quantile.ts";

/** How raw margins become predictions. */
export type Transform = "identity" | "sigmoid" | "exp" | "softmax";

/** Inputs of a gradient computation. Margins and gradients are row-major, K outputs per row. */
export interface GradientContext {
  margins: Float64Array;
  nOutputs: number;
  /** Regression targets, or class indices for classifiers. */
  labels: Float64Array;
  weights: Float64Array | null;
  huberSlope: number;
  /** count:poisson's safeguard: hessians use exp(margin + this). */
  poissonMaxDeltaStep: number;
  scalePosWeight: number;
}

export interface Objective {
  readonly name: string;
  readonly task: "regression" | "binary" | "multiclass";
  readonly transform: Transform;
  readonly defaultMetric: string;
  /** Throws a RangeError naming `name` when labels are outside the loss's domain. */
  checkLabels(name: string, labels: Float64Array): void;
  /** The base score (in prediction space) when none is given. */
  defaultBaseScore(labels: Float64Array, weights: Float64Array | null): number;
  /** The margin of a base score; throws a RangeError outside the link's domain. */
  margin(baseScore: number): number;
  /**
   * Writes gradient and hessian pairs of output k into out[k] (2 values per row). Rows are
   * weighted by their sample weight.
   */
  gradients(ctx: GradientContext, out: Float64Array[]): void;
  /** Leaves are refit to a quantile of the residuals after growth (reg:absoluteerror). */
  readonly leafQuantile?: number;
  /**
   * The loss of the `trees` kernels' gradients (TreesKernels.gradients) that `gradients` is,
   * when it is one of them: the fit then asks the kernels, which give the same bits faster.
   */
  readonly kernelLoss?: "logistic" | "softmax";
}

function anyLabels(): void {}

function unitInterval(name: string, labels: Float64Array): void {
  for (let i = 0; i < labels.length; i++) {
    if (!(labels[i] >= 0 && labels[i] <= 1)) {
      throw new RangeError(
        `Expected "${name}" to hold values in [0, 1] for this objective but entry ${i} is ${
          labels[i]
        }`,
      );
    }
  }
}

function logitMargin(baseScore: number): number {
  if (!(baseScore > 0 && baseScore < 1)) {
    throw new RangeError(
      `Expected "baseScore" to be in (0, 1) for a logistic objective but found ${baseScore}`,
    );
  }
  return Math.fround(-Math.log(1 / baseScore - 1));
}

/**
 * One pass over rows for single-output objectives: f(margin, label) writes [gradient, hessian]
 * into `pair` (a reused pair, so the hot loop allocates nothing).
 */
function pointwise(
  fn: (m: number, y: number, ctx: GradientContext, pair: Float64Array) => void,
) {
  const pair = new Float64Array(2);
  return (ctx: GradientContext, out: Float64Array[]) => {
    const { margins, labels, weights } = ctx;
    const gh = out[0];
    for (let r = 0; r < labels.length; r++) {
      fn(margins[r], labels[r], ctx, pair);
      const w = weights === null ? 1 : weights[r];
      gh[2 * r] = pair[0] * w;
      gh[2 * r + 1] = pair[1] * w;
    }
  };
}

/** Logistic gradients of output 0, as the kernels compute them (with a portable exp). */
function logistic(ctx: GradientContext, out: Float64Array[]): void {
  gradientsRef({ ...ctx, loss: "logistic", out });
}

const half = () => 0.5;
const identity = (b: number) => b;

function regression(
  name: string,
  gradients: Objective["gradients"],
  extra: Partial<Objective> = {},
): Objective {
  return {
    name,
    task: "regression",
    transform: "identity",
    defaultMetric: "rmse",
    checkLabels: anyLabels,
    defaultBaseScore: half,
    margin: identity,
    gradients,
    ...extra,
  };
}

/** Softmax gradients of every output, as the kernels compute them (with a portable exp). */
function softmaxGradients(ctx: GradientContext, out: Float64Array[]): void {
  gradientsRef({ ...ctx, loss: "softmax", out });
}

function multiclass(name: string): Objective {
  return {
    name,
    task: "multiclass",
    transform: "softmax",
    defaultMetric: "mlogloss",
    checkLabels: anyLabels,
    defaultBaseScore: half,
    margin: identity,
    gradients: softmaxGradients,
    kernelLoss: "softmax",
  };
}

function binary(name: string, transform: Transform): Objective {
  return {
    name,
    task: "binary",
    transform,
    defaultMetric: "logloss",
    checkLabels: anyLabels,
    defaultBaseScore: half,
    // XGBoost takes logitraw's base score as a margin already.
    margin: transform === "identity" ? identity : logitMargin,
    gradients: logistic,
    kernelLoss: "logistic",
  };
}

/** Objectives by XGBoost name. */
export const OBJECTIVES: Readonly<Record<string, Objective>> = {
  "reg:squarederror": regression(
    "reg:squarederror",
    pointwise((m, y, _, pair) => {
      pair[0] = m - y;
      pair[1] = 1;
    }),
  ),
  "reg:absoluteerror": regression(
    "reg:absoluteerror",
    pointwise((m, y, _, pair) => {
      pair[0] = Math.sign(m - y);
      pair[1] = 1;
    }),
    {
      defaultMetric: "mae",
      leafQuantile: 0.5,
      defaultBaseScore: (
        y,
        w,
      ) => (w === null ? interpolatedQuantile(y, 0.5) : weightedQuantile(y, w, 0.5)),
    },
  ),
  "reg:pseudohubererror": regression(
    "reg:pseudohubererror",
    pointwise((m, y, ctx, pair) => {
      const z = m - y;
      const scale = 1 + (z / ctx.huberSlope) ** 2;
      const root = Math.sqrt(scale);
      pair[0] = z / root;
      pair[1] = 1 / (scale * root);
    }),
    { defaultMetric: "mphe" },
  ),
  "reg:logistic": regression("reg:logistic", logistic, {
    kernelLoss: "logistic",
    transform: "sigmoid",
    checkLabels: unitInterval,
    margin: logitMargin,
  }),
  "count:poisson": regression(
    "count:poisson",
    pointwise((m, y, ctx, pair) => {
      pair[0] = Math.exp(m) - y;
      pair[1] = Math.exp(m + ctx.poissonMaxDeltaStep);
    }),
    {
      transform: "exp",
      defaultMetric: "poisson-nloglik",
      checkLabels(name, labels) {
        for (let i = 0; i < labels.length; i++) {
          if (!(labels[i] >= 0)) {
            throw new RangeError(
              `Expected "${name}" to hold non-negative counts for count:poisson but entry ${i} is ${
                labels[i]
              }`,
            );
          }
        }
      },
      margin(baseScore) {
        if (!(baseScore > 0)) {
          throw new RangeError(
            `Expected "baseScore" to be > 0 for count:poisson but found ${baseScore}`,
          );
        }
        return Math.fround(Math.log(baseScore));
      },
    },
  ),
  "binary:logistic": binary("binary:logistic", "sigmoid"),
  "binary:logitraw": binary("binary:logitraw", "identity"),
  "multi:softprob": multiclass("multi:softprob"),
  "multi:softmax": multiclass("multi:softmax"),
};

/** Names of the objectives an XGBRegressor trains with. */
export const REGRESSION_OBJECTIVES = Object.keys(OBJECTIVES).filter((k) =>
  OBJECTIVES[k].task === "regression"
);
/** Names of the objectives an XGBClassifier trains with. */
export const CLASSIFICATION_OBJECTIVES = Object.keys(OBJECTIVES).filter((k) =>
  OBJECTIVES[k].task !== "regression"
);

/** Applies an objective's transform to raw margins (n × K), in float32 as XGBoost does. */
export function transformMargins(
  transform: Transform,
  margins: Float32Array,
  nOutputs: number,
): Float32Array {
  const out = new Float32Array(margins.length);
  const f = Math.fround;
  if (transform === "identity") out.set(margins);
  else if (transform === "sigmoid") {
    for (let i = 0; i < margins.length; i++) out[i] = f(1 / f(1 + f(Math.exp(-margins[i]))));
  } else if (transform === "exp") {
    for (let i = 0; i < margins.length; i++) out[i] = f(Math.exp(margins[i]));
  } else {
    for (let r = 0; r < margins.length / nOutputs; r++) {
      const o = r * nOutputs;
      let max = -Infinity;
      for (let k = 0; k < nOutputs; k++) max = Math.max(max, margins[o + k]);
      let sum = 0;
      for (let k = 0; k < nOutputs; k++) {
        sum = f(sum + (out[o + k] = f(Math.exp(f(margins[o + k] - max)))));
      }
      for (let k = 0; k < nOutputs; k++) out[o + k] = f(out[o + k] / sum);
    }
  }
  return out;
}

/**
 * Class probabilities from margins [n, outputs]: the softmax of each row for several outputs;
 * for one (two classes), the sigmoid as the second class's probability beside its complement,
 * [n, 2].
 */
export function classProbabilities(margins: Tensor): Tensor {
  const [n, outputs] = margins.shape;
  if (outputs > 1) {
    return { data: transformMargins("softmax", margins.data, outputs), shape: [n, outputs] };
  }
  const p = transformMargins("sigmoid", margins.data, 1);
  const data = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    data[2 * i] = 1 - p[i];
    data[2 * i + 1] = p[i];
  }
  return { data, shape: [n, 2] };
}
