/**
 * @module
 */
import type { Matrix } from "../../tensor.ts";
import { Ridge } from "../../linear/ridge.ts";
import type { Estimator } from "../../estimators/_clone.ts";
import { registerEstimator, restoreEstimator } from "../../estimators/_registry.ts";
import { StackingBase, type StackingOptions } from "./_stacking.ts";
import type { EnsembleFitOptions } from "../_tree_options.ts";

/**
 * Stacked generalization for regression (Wolpert 1992), as scikit-learn's StackingRegressor:
 * the base estimators' out-of-fold predictions (K-fold, contiguous folds, no shuffling) train
 * the final estimator (default: Ridge regression, α = 1); the bases are refitted on all rows
 * for prediction. `passthrough: true` adds the original features to the final estimator's
 * input.
 *
 * @example
 * ```ts
 * import { DecisionTreeRegressor, RandomForestRegressor, StackingRegressor } from "../mod.ts";
 * const X = Array.from({ length: 40 }, (_, i) => [i]);
 * const y = X.map(([v]) => 2 * v + 1);
 * const model = await new StackingRegressor({
 *   estimators: [new RandomForestRegressor({ nEstimators: 10 }), new DecisionTreeRegressor()],
 * }).fit(X, y);
 * const [out] = await model.predict([[20]]);
 * if (Math.abs(out - 41) > 3) throw new Error(`got ${out}`);
 * ```
 */
export class StackingRegressor extends StackingBase {
  /**
   * Stores the options; `fit` checks them.
   *
   * @param options See StackingOptions; the base estimators are regressors.
   */
  constructor(options: StackingOptions = {}) {
    super(options);
  }

  protected get estimatorName(): string {
    return "StackingRegressor";
  }

  protected defaultFinal(): Estimator {
    return new Ridge();
  }

  protected prepareTargets(): null {
    return null;
  }

  override fit(X: Matrix, y: ArrayLike<number>, opts?: EnsembleFitOptions): Promise<this> {
    return super.fit(X, y, opts);
  }

  /**
   * The final estimator's predictions.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async predict(X: Matrix): Promise<Float32Array> {
    return this.fitted().finalEstimator.predict(await this.transform(X));
  }

  /** Restores an estimator written by `toJSON()`. */
  static fromJSON(json: object): StackingRegressor {
    return new StackingRegressor().restore(json, restoreEstimator);
  }
}

registerEstimator("StackingRegressor", StackingRegressor.fromJSON);
