/**
 * @module
 */
import type { Matrix } from "../../tensor.ts";
import { REGRESSION_CRITERIA } from "./_criteria.ts";
import {
  DecisionTreeBase,
  type DecisionTreeOptions,
  decisionTreeParamTable,
  type TreeFitOptions,
} from "./_decision_tree.ts";
import type { ParamTable } from "../../estimators/_params.ts";
import { registerEstimator } from "../../estimators/_registry.ts";

/**
 * A CART regression tree, as scikit-learn's DecisionTreeRegressor: squared error (leaf mean),
 * absolute error (leaf median) or Poisson deviance splits, depth-first growth or best-first up
 * to `maxLeafNodes`, sample weights, missing values (NaN) sent to the side learnt at each
 * split, and minimal cost-complexity pruning (`ccpAlpha`). `splitter: "hist"` (default) splits
 * between the bins of the shared bin matrix; `"exact"` between sorted values, as scikit-learn.
 *
 * @example
 * ```ts
 * import { DecisionTreeRegressor } from "./mod.ts";
 * const X = [[0], [1], [2], [3], [4], [5]];
 * const y = [1, 1, 1, 5, 5, 5];
 * const tree = await new DecisionTreeRegressor().fit(X, y);
 * const out = await tree.predict([[0.5], [4.5]]);
 * if (out.join() !== "1,5") throw new Error(`got ${out}`);
 * ```
 */
export class DecisionTreeRegressor extends DecisionTreeBase {
  /**
   * Stores the options; `fit` checks them.
   *
   * @param options See DecisionTreeOptions; `criterion` is `"squared_error"` (default),
   *   `"absolute_error"` or `"poisson"` (non-negative targets with a positive sum).
   */
  constructor(options: DecisionTreeOptions = {}) {
    super(options);
  }

  protected get estimatorName(): string {
    return "DecisionTreeRegressor";
  }

  protected paramTable(): ParamTable {
    return decisionTreeParamTable(REGRESSION_CRITERIA, "squared_error");
  }

  protected prepareTargets(y: Float64Array) {
    return { targets: { y, nClasses: 0 }, classes: null };
  }

  protected get isClassifier(): boolean {
    return false;
  }

  override fit(X: Matrix, y: ArrayLike<number>, opts?: TreeFitOptions): Promise<this> {
    return super.fit(X, y, opts);
  }

  /**
   * The value of each row's leaf (mean, or median for absolute_error).
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async predict(X: Matrix): Promise<Float32Array> {
    return (await this.rawOutput(X)).data;
  }

  /** Restores an estimator written by `toJSON()`. */
  static fromJSON(json: object): DecisionTreeRegressor {
    return new DecisionTreeRegressor().restore(json);
  }
}

registerEstimator("DecisionTreeRegressor", DecisionTreeRegressor.fromJSON);
