/**
 * @module
 */
import type { Matrix } from "../../tensor.ts";
import { OBJECTIVES, REGRESSION_OBJECTIVES, transformMargins } from "./_objectives.ts";
import type { ParamTable } from "../../estimators/_params.ts";
import {
  type PreparedLabels,
  type XGBFitOptions,
  XGBModel,
  type XGBOptions,
  type XGBParams,
  xgbParamTable,
  type XGBState,
} from "./_xgb_base.ts";
import { registerEstimator } from "../../estimators/_registry.ts";

/**
 * Gradient-boosted regression trees, second order, on binned features: XGBoost's `hist`
 * algorithm with its parameters and objectives (`reg:squarederror` by default,
 * `reg:absoluteerror`, `reg:pseudohubererror`, `reg:logistic`, `count:poisson`). NaN features
 * are missing values; each split learns the side they go to.
 *
 * @example
 * ```ts
 * import { XGBRegressor } from "./mod.ts";
 * const X = [[0], [1], [2], [3], [4], [5], [6], [7]];
 * const y = [0, 0, 0, 0, 10, 10, 10, 10];
 * const model = await new XGBRegressor({ nEstimators: 20, learningRate: 0.5, minChildWeight: 0 })
 *   .fit(X, y);
 * const [low, high] = await model.predict([[1], [6]]);
 * if (!(Math.abs(low) < 0.1 && Math.abs(high - 10) < 0.1)) throw new Error(`${low}, ${high}`);
 * ```
 *
 * @example Categorical features: one split sends categories 0 and 2 one way, 1 and 3 the other
 * ```ts
 * import { XGBRegressor } from "./mod.ts";
 * const X = [[0], [1], [2], [3], [0], [1], [2], [3]];
 * const y = [10, 0, 10, 0, 10, 0, 10, 0];
 * const model = await new XGBRegressor({
 *   categoricalFeatures: [0],
 *   maxDepth: 1,
 *   nEstimators: 20,
 *   learningRate: 0.5,
 *   minChildWeight: 0,
 * }).fit(X, y);
 * const [a, b, c, d] = await model.predict([[0], [1], [2], [3]]);
 * if (!(a > 9.9 && c > 9.9 && b < 0.1 && d < 0.1)) throw new Error(`${a}, ${b}, ${c}, ${d}`);
 * ```
 */
export class XGBRegressor extends XGBModel {
  /**
   * Stores the options; they are checked by `fit`.
   *
   * @param options See XGBOptions; `objective` is one of the regression objectives.
   */
  constructor(options: XGBOptions = {}) {
    super(options);
  }

  protected get estimatorName(): string {
    return "XGBRegressor";
  }

  protected paramTable(): ParamTable {
    return xgbParamTable(REGRESSION_OBJECTIVES, "reg:squarederror");
  }

  protected prepareLabels(y: Float64Array, params: XGBParams): PreparedLabels {
    const objective = OBJECTIVES[params.objective!];
    objective.checkLabels("y", y);
    return {
      labels: y,
      objective,
      nOutputs: 1,
      classes: null,
      encode: (name, labels) => {
        objective.checkLabels(name, labels);
        return labels;
      },
    };
  }

  protected checkState(state: XGBState): void {
    if (OBJECTIVES[state.objective].task !== "regression" || state.model.nOutputs !== 1) {
      throw new RangeError(
        `Expected a regression model with one output but found objective "${state.objective}" with ${state.model.nOutputs} outputs`,
      );
    }
  }

  /**
   * Trains the model.
   *
   * @param X Rows of features; NaN marks a missing value.
   * @param y One finite target per row.
   * @param opts `sampleWeight`, `evalSet` with `earlyStoppingRounds`, `onProgress`.
   * @returns This estimator, fitted.
   * @throws {TypeError} When an argument has the wrong type.
   * @throws {RangeError} On row-count mismatch, NaN or ±Infinity in y, empty X, or an option
   *   unknown or out of range.
   */
  override fit(X: Matrix, y: ArrayLike<number>, opts?: XGBFitOptions): Promise<this> {
    return super.fit(X, y, opts);
  }

  /**
   * Predictions in the objective's output space (probabilities for reg:logistic, counts for
   * count:poisson).
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async predict(X: Matrix): Promise<Float32Array> {
    const margins = await this.predictMargin(X);
    return transformMargins(OBJECTIVES[this.fitted().objective].transform, margins.data, 1);
  }

  /** Restores an estimator written by `toJSON()`. */
  static fromJSON(json: object): XGBRegressor {
    return new XGBRegressor().restore(json);
  }
}

registerEstimator("XGBRegressor", XGBRegressor.fromJSON);
