/**
 * @module
 */
import type { Matrix, Tensor } from "../tensor.ts";
import { checkOptions } from "../_validate.ts";
import {
  asPromise,
  classList,
  countFrom,
  integerFrom,
  MAX_COUNT,
  numberList,
  type ParamTable,
} from "../estimators/_params.ts";
import { encodeClasses, toLabels, toWeights } from "../estimators/_input.ts";
import { toFiniteMatrix } from "./_input.ts";
import { LinearModel, type LinearState } from "./_linear_model.ts";
import { LogisticLoss, sigmoid } from "./_logistic_loss.ts";
import { minimizeLbfgs, minimizeNewton } from "./_optimize.ts";
import { registerEstimator } from "../estimators/_registry.ts";

/** Solvers of LogisticRegression, named as scikit-learn names them. */
export const LOGISTIC_SOLVERS = ["lbfgs", "newton-cholesky"] as const;
export type LogisticSolver = (typeof LOGISTIC_SOLVERS)[number];

/** Options of LogisticRegression (scikit-learn's names in camelCase). */
export interface LogisticRegressionOptions {
  /** Inverse L2 strength: the penalty is ‖coef‖² / (2C) against the summed log loss (default 1). */
  C?: number;
  /** Fit an unpenalised intercept per output (default true). */
  fitIntercept?: boolean;
  /** `"lbfgs"` (default) or `"newton-cholesky"` (exact Newton steps; small feature counts). */
  solver?: LogisticSolver;
  /** Most solver iterations (default 100). */
  maxIter?: number;
  /** Stop when the largest gradient entry is at most this (default 1e-4). */
  tol?: number;
}

/** Options of `fit`. */
export interface LogisticFitOptions {
  sampleWeight?: ArrayLike<number>;
}

/** Newton solves a dense system in the parameter count; beyond this it is refused. */
const NEWTON_MAX_PARAMETERS = 4096;

const PARAMS: ParamTable = {
  C: { default: 1, rule: { kind: "number", min: 0, minExclusive: true } },
  fitIntercept: { default: true, rule: { kind: "boolean" } },
  solver: { default: "lbfgs", rule: { kind: "choice", choices: LOGISTIC_SOLVERS } },
  maxIter: { default: 100, rule: { kind: "int", min: 1 } },
  tol: { default: 1e-4, rule: { kind: "number", min: 0, minExclusive: true } },
};

type Params = Required<LogisticRegressionOptions>;

/** Coefficient rows: 1 for two classes, else one per class. */
interface LogisticState extends LinearState {
  classes: Float64Array;
  nIter: number;
}

/**
 * Logistic regression with an L2 penalty, as scikit-learn's `LogisticRegression`: a binomial
 * model for two classes (one coefficient row) and a multinomial (softmax) model for more.
 * It minimises Σ sᵢ·logloss + ‖coef‖²/(2C) with L-BFGS or Newton's method. Classes are the
 * sorted distinct labels, whatever numbers they are.
 *
 * @example
 * ```ts
 * import { LogisticRegression } from "./mod.ts";
 * const X = [[0], [1], [2], [3], [8], [9], [10], [11]];
 * const y = [5, 5, 5, 5, 7, 7, 7, 7];
 * const model = await new LogisticRegression({ C: 10 }).fit(X, y);
 * const labels = await model.predict([[1.5], [9.5]]);
 * if (labels[0] !== 5 || labels[1] !== 7) throw new Error(`${labels}`);
 * const proba = await model.predictProba([[5.5]]);
 * if (Math.abs(proba.data[0] - 0.5) > 0.05) throw new Error(`${proba.data}`);
 * ```
 */
export class LogisticRegression extends LinearModel<LogisticRegressionOptions, LogisticState> {
  /**
   * Stores the options; `fit` checks them.
   *
   * @param options See LogisticRegressionOptions.
   */
  constructor(options: LogisticRegressionOptions = {}) {
    super(options);
  }

  protected get estimatorName(): string {
    return "LogisticRegression";
  }

  protected paramTable(): ParamTable {
    return PARAMS;
  }

  /** The sorted class labels seen at fit. */
  get classes(): Float64Array {
    return this.fitted().classes.slice();
  }

  /** Solver iterations of the last fit. */
  get nIter(): number {
    return this.fitted().nIter;
  }

  /**
   * Fits the model; the previous fitted state stays until this succeeds.
   *
   * @param X Rows of finite features.
   * @param y One label per row, at least two distinct values.
   * @param opts `sampleWeight`: non-negative weights, one per row.
   * @returns This estimator, fitted.
   * @throws {TypeError} When an argument or option has the wrong type.
   * @throws {RangeError} On an unknown or out-of-range option, NaN or ±Infinity in X or y,
   *   row-count mismatch, a single class, or `newton-cholesky` with too many parameters.
   */
  fit(X: Matrix, y: ArrayLike<number>, opts: LogisticFitOptions = {}): Promise<this> {
    return asPromise(() => {
      const params = this.resolvedOptions() as Params;
      checkOptions("opts", opts, ["sampleWeight"]);
      const x = toFiniteMatrix("X", X);
      const { classes, encoded } = encodeClasses("y", toLabels("y", y, x.rows));
      const weights = toWeights("sampleWeight", opts.sampleWeight, x.rows);
      const loss = new LogisticLoss(
        { x: x.data, rows: x.rows, cols: x.cols, y: encoded, weights, nClasses: classes.length },
        { C: params.C, fitIntercept: params.fitIntercept },
      );
      const start = new Float64Array(loss.size);
      const limits = { maxIter: params.maxIter, tol: params.tol };
      let result;
      if (params.solver === "newton-cholesky") {
        if (loss.size > NEWTON_MAX_PARAMETERS) {
          throw new RangeError(
            `Expected "solver" "newton-cholesky" to fit at most ${NEWTON_MAX_PARAMETERS} parameters but this fit has ${loss.size}; use "lbfgs"`,
          );
        }
        result = minimizeNewton(loss, start, limits, loss.nullDirection());
      } else {
        result = minimizeLbfgs(loss, start, limits);
      }
      const coef = new Float64Array(loss.rowsOut * x.cols);
      const intercept = new Float64Array(loss.rowsOut);
      for (let k = 0; k < loss.rowsOut; k++) {
        coef.set(result.w.subarray(k * loss.stride, k * loss.stride + x.cols), k * x.cols);
        if (params.fitIntercept) intercept[k] = result.w[k * loss.stride + x.cols];
      }
      this.state = { classes, nFeatures: x.cols, coef, intercept, nIter: result.nIter };
      return this;
    });
  }

  /**
   * Signed distances to the decision boundary: [n] for two classes (positive = the larger
   * class), else [n, nClasses] (the softmax inputs).
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  decisionFunction(X: Matrix): Promise<Tensor> {
    return asPromise(() => {
      const { z, rows, outs } = this.outputs(X);
      return { data: Float32Array.from(z), shape: outs === 1 ? [rows] : [rows, outs] };
    });
  }

  /**
   * Class probabilities, [n, nClasses], columns in the order of `classes`.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  predictProba(X: Matrix): Promise<Tensor> {
    return asPromise(() => {
      const { z, rows, outs } = this.outputs(X);
      const k = this.fitted().classes.length;
      const out = new Float32Array(rows * k);
      for (let i = 0; i < rows; i++) {
        if (outs === 1) {
          out[i * 2] = sigmoid(-z[i]);
          out[i * 2 + 1] = sigmoid(z[i]);
          continue;
        }
        let top = -Infinity, sum = 0;
        for (let c = 0; c < k; c++) top = Math.max(top, z[i * k + c]);
        for (let c = 0; c < k; c++) sum += Math.exp(z[i * k + c] - top);
        for (let c = 0; c < k; c++) out[i * k + c] = Math.exp(z[i * k + c] - top) / sum;
      }
      return { data: out, shape: [rows, k] };
    });
  }

  /**
   * The most probable class label of each row (the first on a tie).
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  predict(X: Matrix): Promise<Float32Array> {
    return asPromise(() => {
      const { z, rows, outs } = this.outputs(X);
      const classes = this.fitted().classes;
      const out = new Float32Array(rows);
      for (let i = 0; i < rows; i++) {
        let best = 0;
        if (outs === 1) best = z[i] > 0 ? 1 : 0;
        else for (let c = 1; c < outs; c++) if (z[i * outs + c] > z[i * outs + best]) best = c;
        out[i] = classes[best];
      }
      return out;
    });
  }

  protected stateToJSON(s: LogisticState): Record<string, unknown> {
    return {
      classes: Array.from(s.classes),
      nFeatures: s.nFeatures,
      coef: Array.from(s.coef),
      intercept: Array.from(s.intercept),
      nIter: s.nIter,
    };
  }

  protected stateFromJSON(f: Record<string, unknown>): LogisticState {
    const nFeatures = countFrom("json.fitted.nFeatures", f.nFeatures);
    const nClasses = Array.isArray(f.classes) ? f.classes.length : 0;
    const classes = classList("json.fitted.classes", f.classes, 2);
    const outs = nClasses === 2 ? 1 : nClasses;
    return {
      classes,
      nFeatures,
      coef: numberList("json.fitted.coef", f.coef, outs * nFeatures),
      intercept: numberList("json.fitted.intercept", f.intercept, outs),
      nIter: f.nIter === undefined ? 0 : integerFrom("json.fitted.nIter", f.nIter, 0, MAX_COUNT),
    };
  }

  /**
   * Restores an estimator written by `toJSON()`.
   *
   * @throws {TypeError} When `json` is not such an object.
   * @throws {RangeError} When it holds another estimator, bad options or inconsistent shapes.
   */
  static fromJSON(json: object): LogisticRegression {
    return new LogisticRegression().restore(json);
  }
}

registerEstimator("LogisticRegression", LogisticRegression.fromJSON);
