/**
 * @module
 */
import type { Matrix, Tensor } from "../tensor.ts";
import { checkOptions, toMatrix } from "../_validate.ts";
import { asPromise, countFrom, numberList, type ParamTable } from "../estimators/_params.ts";
import { toLabels, toWeights } from "../estimators/_input.ts";
import { toFiniteMatrix } from "./_input.ts";
import { LinearModel, type LinearState } from "./_linear_model.ts";
import { solveSpd } from "./_linalg.ts";
import { registerEstimator } from "../estimators/_registry.ts";

/** Options of Ridge (scikit-learn's names in camelCase). */
export interface RidgeOptions {
  /** L2 strength α in ‖y − Xw − b‖² + α‖w‖² (default 1; 0 = least squares). */
  alpha?: number;
  /** Fit an unpenalised intercept (default true). */
  fitIntercept?: boolean;
}

/** Options of `fit`. */
export interface RidgeFitOptions {
  sampleWeight?: ArrayLike<number>;
}

const PARAMS: ParamTable = {
  alpha: { default: 1, rule: { kind: "number", min: 0 } },
  fitIntercept: { default: true, rule: { kind: "boolean" } },
};

type Params = Required<RidgeOptions>;

/** One coefficient row per target. */
interface RidgeState extends LinearState {
  nTargets: number;
  /** True when y was a matrix (predictions are then [n, nTargets]). */
  multiOutput: boolean;
}

/** Targets as row-major [rows, nTargets] float64, and whether they came as a matrix. */
function toTargets(
  value: unknown,
  rows: number,
): { y: Float64Array; nTargets: number; multiOutput: boolean } {
  const isMatrix = (Array.isArray(value) && Array.isArray(value[0])) ||
    (value !== null && typeof value === "object" && "shape" in value &&
      Array.isArray(value.shape) &&
      value.shape.length === 2);
  if (!isMatrix) return { y: toLabels("y", value, rows), nTargets: 1, multiOutput: false };
  const m = toMatrix("y", value);
  if (m.rows !== rows) {
    throw new RangeError(`Expected "y" to have ${rows} rows but found ${m.rows}`);
  }
  if (m.cols === 0) throw new RangeError(`Expected "y" to have at least one column but found 0`);
  const y = Float64Array.from(m.data);
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i])) {
      throw new RangeError(`Expected "y" to hold finite numbers but entry ${i} is ${y[i]}`);
    }
  }
  return { y, nTargets: m.cols, multiOutput: true };
}

/**
 * Linear least squares with an L2 penalty, as scikit-learn's `Ridge` with its Cholesky
 * solver: minimises Σ sᵢ‖yᵢ − xᵢW − b‖² + α‖W‖², the intercept by centring on the weighted
 * means. `y` may be a matrix (one column per target) for several targets at once.
 *
 * @example
 * ```ts
 * import { Ridge } from "./mod.ts";
 * const X = [[0], [1], [2], [3]];
 * const model = await new Ridge({ alpha: 0 }).fit(X, [1, 3, 5, 7]);
 * const [y] = await model.predict([[10]]);
 * if (Math.abs(y - 21) > 1e-4) throw new Error(`${y}`);
 * ```
 */
export class Ridge extends LinearModel<RidgeOptions, RidgeState> {
  /**
   * Stores the options; `fit` checks them.
   *
   * @param options See RidgeOptions.
   */
  constructor(options: RidgeOptions = {}) {
    super(options);
  }

  protected get estimatorName(): string {
    return "Ridge";
  }

  protected paramTable(): ParamTable {
    return PARAMS;
  }

  /** Number of targets (columns of y; 1 for a vector). */
  get nTargets(): number {
    return this.fitted().nTargets;
  }

  /**
   * Fits the model; the previous fitted state stays until this succeeds.
   *
   * @param X Rows of finite features.
   * @param y One finite target per row, or a matrix with one column per target.
   * @param opts `sampleWeight`: non-negative weights, one per row.
   * @returns This estimator, fitted.
   * @throws {TypeError} When an argument or option has the wrong type.
   * @throws {RangeError} On an unknown or out-of-range option, NaN or ±Infinity, row-count
   *   mismatch, or collinear features with `alpha` 0.
   */
  fit(X: Matrix, y: ArrayLike<number> | Matrix, opts: RidgeFitOptions = {}): Promise<this> {
    return asPromise(() => {
      const params = this.resolvedOptions() as Params;
      checkOptions("opts", opts, ["sampleWeight"]);
      const x = toFiniteMatrix("X", X);
      const t = toTargets(y, x.rows);
      const weights = toWeights("sampleWeight", opts.sampleWeight, x.rows);
      const { rows, cols } = x;
      const m = t.nTargets;
      const weightOf = (i: number) => (weights === null ? 1 : weights[i]);
      const xMean = new Float64Array(cols), yMean = new Float64Array(m);
      if (params.fitIntercept) {
        let total = 0;
        for (let i = 0; i < rows; i++) {
          const s = weightOf(i);
          total += s;
          for (let j = 0; j < cols; j++) xMean[j] += s * x.data[i * cols + j];
          for (let k = 0; k < m; k++) yMean[k] += s * t.y[i * m + k];
        }
        for (let j = 0; j < cols; j++) xMean[j] /= total;
        for (let k = 0; k < m; k++) yMean[k] /= total;
      }
      // Normal equations on centred data: (XcᵀSXc + αI)·W = XcᵀS·yc.
      const a = new Float64Array(cols * cols), b = new Float64Array(cols * m);
      const xc = new Float64Array(cols);
      for (let i = 0; i < rows; i++) {
        const s = weightOf(i);
        if (s === 0) continue;
        for (let j = 0; j < cols; j++) xc[j] = x.data[i * cols + j] - xMean[j];
        for (let j = 0; j < cols; j++) {
          const sx = s * xc[j];
          for (let l = 0; l <= j; l++) a[j * cols + l] += sx * xc[l];
          for (let k = 0; k < m; k++) b[j * m + k] += sx * (t.y[i * m + k] - yMean[k]);
        }
      }
      for (let j = 0; j < cols; j++) a[j * cols + j] += params.alpha;
      if (!solveSpd(a, cols, b, m)) {
        throw new RangeError(
          `Expected the columns of "X" to be linearly independent when "alpha" is ${params.alpha}; use alpha > 0`,
        );
      }
      const coef = new Float64Array(m * cols), intercept = new Float64Array(m);
      for (let k = 0; k < m; k++) {
        let offset = yMean[k];
        for (let j = 0; j < cols; j++) {
          coef[k * cols + j] = b[j * m + k];
          offset -= xMean[j] * b[j * m + k];
        }
        intercept[k] = params.fitIntercept ? offset : 0;
      }
      this.state = { nFeatures: cols, nTargets: m, multiOutput: t.multiOutput, coef, intercept };
      return this;
    });
  }

  /**
   * Predicted targets: one per row, or row-major [n, nTargets] when fitted on a matrix y.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  predict(X: Matrix): Promise<Float32Array> {
    return asPromise(() => {
      return Float32Array.from(this.outputs(X).z);
    });
  }

  /**
   * Predictions as a Tensor: [n] for a vector y, [n, nTargets] for a matrix y.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  predictTensor(X: Matrix): Promise<Tensor> {
    return asPromise(() => {
      const { z, rows } = this.outputs(X);
      const s = this.fitted();
      return { data: Float32Array.from(z), shape: s.multiOutput ? [rows, s.nTargets] : [rows] };
    });
  }

  protected stateToJSON(s: RidgeState): Record<string, unknown> {
    return {
      nFeatures: s.nFeatures,
      nTargets: s.nTargets,
      multiOutput: s.multiOutput,
      coef: Array.from(s.coef),
      intercept: Array.from(s.intercept),
    };
  }

  protected stateFromJSON(f: Record<string, unknown>): RidgeState {
    const nFeatures = countFrom("json.fitted.nFeatures", f.nFeatures);
    const nTargets = countFrom("json.fitted.nTargets", f.nTargets);
    return {
      nFeatures,
      nTargets,
      multiOutput: f.multiOutput === true || nTargets > 1,
      coef: numberList("json.fitted.coef", f.coef, nTargets * nFeatures),
      intercept: numberList("json.fitted.intercept", f.intercept, nTargets),
    };
  }

  /**
   * Restores an estimator written by `toJSON()`.
   *
   * @throws {TypeError} When `json` is not such an object.
   * @throws {RangeError} When it holds another estimator, bad options or inconsistent shapes.
   */
  static fromJSON(json: object): Ridge {
    return new Ridge().restore(json);
  }
}

registerEstimator("Ridge", Ridge.fromJSON);
