/**
 * @module
 */
import type { Matrix } from "../../tensor.ts";
import { REGRESSION_CRITERIA } from "../cart/_criteria.ts";
import { ForestBase, type ForestOptions, forestParamTable } from "./_forest.ts";
import type { ParamTable } from "../../estimators/_params.ts";
import type { EnsembleFitOptions } from "../_tree_options.ts";
import { registerEstimator } from "../../estimators/_registry.ts";

/** R² of predictions against targets (0 predictions where a row has none). */
export function r2Score(y: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i];
  mean /= y.length;
  let residual = 0, total = 0;
  for (let i = 0; i < y.length; i++) {
    residual += (y[i] - predicted[i]) ** 2;
    total += (y[i] - mean) ** 2;
  }
  if (total === 0) return residual === 0 ? 1 : 0;
  return 1 - residual / total;
}

/**
 * A random forest of regression trees (Breiman 2001), as scikit-learn's RandomForestRegressor:
 * each tree grows fully (by default) on a bootstrap sample of the rows, trying `maxFeatures`
 * random features at every split (default 1.0, all of them); the forest averages the trees'
 * predictions. Trees are grown in parallel across the worker pool and are the same for any
 * thread count. `oobScore: true` computes the out-of-bag R².
 *
 * @example
 * ```ts
 * import { RandomForestRegressor } from "./mod.ts";
 * const X = Array.from({ length: 30 }, (_, i) => [i]);
 * const y = X.map(([v]) => (v < 15 ? 1 : 3));
 * const forest = await new RandomForestRegressor({ nEstimators: 20, seed: 3 }).fit(X, y);
 * const [low, high] = await forest.predict([[2], [27]]);
 * if (Math.abs(low - 1) > 0.01 || Math.abs(high - 3) > 0.01) throw new Error(`${low}, ${high}`);
 * ```
 */
export class RandomForestRegressor extends ForestBase {
  /**
   * Stores the options; `fit` checks them.
   *
   * @param options See ForestOptions; `criterion` is `"squared_error"` (default),
   *   `"absolute_error"` or `"poisson"`.
   */
  constructor(options: ForestOptions = {}) {
    super(options);
  }

  protected get estimatorName(): string {
    return "RandomForestRegressor";
  }

  protected paramTable(): ParamTable {
    return forestParamTable(REGRESSION_CRITERIA, "squared_error", 1);
  }

  protected prepareTargets(y: Float64Array) {
    return { labels: y, nClasses: 0, classes: null };
  }

  protected scoreOob(
    labels: Float64Array,
    oob: { sums: Float64Array; counts: Float64Array },
  ): number {
    const predicted = oob.sums.map((s, r) => s / Math.max(1, oob.counts[r]));
    return r2Score(labels, predicted);
  }

  protected get isClassifier(): boolean {
    return false;
  }

  /** Out-of-bag predictions of the training rows (0 for a row that every tree drew). */
  get oobPrediction(): Float32Array {
    this.oobScore;
    const { sums, counts } = this.oob!;
    return Float32Array.from(sums, (s, r) => s / Math.max(1, counts[r]));
  }

  override fit(X: Matrix, y: ArrayLike<number>, opts?: EnsembleFitOptions): Promise<this> {
    return super.fit(X, y, opts);
  }

  /**
   * The mean of the trees' predictions.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async predict(X: Matrix): Promise<Float32Array> {
    return (await this.rawOutput(X)).data;
  }

  /** Restores an estimator written by `toJSON()`. */
  static fromJSON(json: object): RandomForestRegressor {
    return new RandomForestRegressor().restore(json);
  }
}

registerEstimator("RandomForestRegressor", RandomForestRegressor.fromJSON);
