/**
 * @module
 */
import type { Matrix, Tensor } from "../../tensor.ts";
import { BaggingBase, type BaggingOptions } from "./_bagging.ts";
import type { Estimator } from "../../estimators/_clone.ts";
import { registerEstimator, restoreEstimator } from "../../estimators/_registry.ts";
import type { EnsembleFitOptions } from "../_tree_options.ts";
import { DecisionTreeRegressor } from "../cart/decision_tree_regressor.ts";
import { r2Score } from "../forest/random_forest_regressor.ts";

/**
 * Bagging for regression (Breiman 1996, "Bagging Predictors"), as scikit-learn's
 * BaggingRegressor: each estimator is a clone of the base (default: a fully grown decision
 * tree) fitted on a bootstrap sample of the rows (draw counts as sample weights) and a random
 * subset of the features; the ensemble averages their predictions. `oobScore: true` computes
 * the out-of-bag R².
 *
 * @example
 * ```ts
 * import { BaggingRegressor } from "./mod.ts";
 * const X = Array.from({ length: 30 }, (_, i) => [i]);
 * const y = X.map(([v]) => (v < 15 ? 0 : 10));
 * const model = await new BaggingRegressor({ nEstimators: 8, seed: 4 }).fit(X, y);
 * const [low, high] = await model.predict([[3], [26]]);
 * if (Math.abs(low) > 0.5 || Math.abs(high - 10) > 0.5) throw new Error(`${low}, ${high}`);
 * ```
 */
export class BaggingRegressor extends BaggingBase {
  /**
   * Stores the options; `fit` checks them.
   *
   * @param options See BaggingOptions.
   */
  constructor(options: BaggingOptions = {}) {
    super(options);
  }

  protected get estimatorName(): string {
    return "BaggingRegressor";
  }

  protected defaultEstimator(): Estimator {
    return new DecisionTreeRegressor();
  }

  protected prepareTargets(): null {
    return null;
  }

  protected async addOutput(
    estimator: Estimator,
    x: Tensor,
    sums: Float64Array,
    rows: ArrayLike<number> | null,
  ): Promise<void> {
    const predicted = await estimator.predict(x);
    predicted.forEach((v, i) => (sums[rows === null ? i : rows[i]] += v));
  }

  protected scoreOob(y: Float64Array, sums: Float64Array, counts: Float64Array): number {
    return r2Score(y, sums.map((s, r) => s / Math.max(1, counts[r])));
  }

  override fit(X: Matrix, y: ArrayLike<number>, opts?: EnsembleFitOptions): Promise<this> {
    return super.fit(X, y, opts);
  }

  /**
   * The mean of the estimators' predictions.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async predict(X: Matrix): Promise<Float32Array> {
    return Float32Array.from((await this.averaged(X)).sums);
  }

  /** Restores an estimator written by `toJSON()`. */
  static fromJSON(json: object): BaggingRegressor {
    return new BaggingRegressor().restore(json, restoreEstimator);
  }
}

registerEstimator("BaggingRegressor", BaggingRegressor.fromJSON);
