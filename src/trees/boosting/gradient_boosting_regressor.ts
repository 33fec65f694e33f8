/**
 * @module
 */
import type { Matrix } from "../../tensor.ts";
import {
  type GBFitOptions,
  GBModel,
  type GBOptions,
  gbParamTable,
  type GBState,
} from "./_gbdt_base.ts";
import { LOSSES } from "./_gbdt_losses.ts";
import type { ParamTable } from "../../estimators/_params.ts";
import { registerEstimator } from "../../estimators/_registry.ts";

const REGRESSION_LOSSES = Object.keys(LOSSES).filter((k) => LOSSES[k].task === "regression");

/**
 * Classic gradient boosting for regression (Friedman 2001), as scikit-learn's
 * GradientBoostingRegressor: first-order stages of least-squares trees on the loss's negative
 * gradient, each leaf set by the loss's line search (mean, median, Huber step or quantile).
 * Splits are searched on binned features (at most `maxBin − 1` bins per feature: exact for
 * features with fewer distinct values); NaN features are missing values.
 *
 * @example
 * ```ts
 * import { GradientBoostingRegressor } from "./mod.ts";
 * const X = [[0], [1], [2], [3], [4], [5]];
 * const y = [1, 1, 1, 5, 5, 5];
 * const model = await new GradientBoostingRegressor({ nEstimators: 50, learningRate: 0.5 }).fit(X, y);
 * const [a, b] = await model.predict([[0.5], [4.5]]);
 * if (!(Math.abs(a - 1) < 1e-3 && Math.abs(b - 5) < 1e-3)) throw new Error(`${a}, ${b}`);
 * ```
 */
export class GradientBoostingRegressor extends GBModel {
  /**
   * Stores the options; they are checked by `fit`.
   *
   * @param options See GBOptions; `loss` is `"squared_error"` (default), `"absolute_error"`,
   *   `"huber"` or `"quantile"`.
   */
  constructor(options: GBOptions = {}) {
    super(options);
  }

  protected get estimatorName(): string {
    return "GradientBoostingRegressor";
  }

  protected paramTable(): ParamTable {
    return gbParamTable(REGRESSION_LOSSES, "squared_error");
  }

  protected prepareLabels(y: Float64Array) {
    return { labels: y, nOutputs: 1, classes: null };
  }

  protected checkState(state: GBState): void {
    if (LOSSES[state.loss].task !== "regression" || state.model.nOutputs !== 1) {
      throw new RangeError(
        `Expected a regression model with one output but found loss "${state.loss}"`,
      );
    }
  }

  /**
   * Trains the model.
   *
   * @param X Rows of features; NaN marks a missing value.
   * @param y One finite target per row.
   * @param opts `sampleWeight`, `onProgress`.
   * @returns This estimator, fitted.
   * @throws {TypeError} When an argument has the wrong type.
   * @throws {RangeError} On row-count mismatch, NaN or ±Infinity in y, empty X, or an option
   *   unknown or out of range.
   */
  override fit(X: Matrix, y: ArrayLike<number>, opts?: GBFitOptions): Promise<this> {
    return super.fit(X, y, opts);
  }

  /**
   * Predicted targets.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async predict(X: Matrix): Promise<Float32Array> {
    return (await this.rawOutput(X)).data;
  }

  /** Restores an estimator written by `toJSON()`. */
  static fromJSON(json: object): GradientBoostingRegressor {
    return new GradientBoostingRegressor().restore(json);
  }
}

registerEstimator("GradientBoostingRegressor", GradientBoostingRegressor.fromJSON);
