/**
 * @module
 */
import type { Matrix, Tensor } from "../../tensor.ts";
import { BaggingBase, type BaggingOptions } from "./_bagging.ts";
import type { Estimator } from "../../estimators/_clone.ts";
import { encodeClasses } from "../../estimators/_input.ts";
import { registerEstimator, restoreEstimator } from "../../estimators/_registry.ts";
import type { EnsembleFitOptions } from "../_tree_options.ts";
import { argmaxClasses, DecisionTreeClassifier } from "../cart/decision_tree_classifier.ts";

/**
 * Bagging for classification (Breiman 1996, "Bagging Predictors"), as scikit-learn's
 * BaggingClassifier: each estimator is a clone of the base (default: a fully grown decision
 * tree) fitted on a bootstrap sample of the rows (draw counts as sample weights) and a random
 * subset of the features (`maxFeatures`, drawn with replacement when `bootstrapFeatures`); the
 * ensemble averages their class probabilities (votes, for a base without predictProba).
 * `oobScore: true` scores each row on the estimators that did not draw it.
 *
 * @example
 * ```ts
 * import { BaggingClassifier } from "./mod.ts";
 * const X = Array.from({ length: 40 }, (_, i) => [i % 10, (i * 7) % 5]);
 * const y = X.map(([a]) => (a < 5 ? 3 : 4));
 * const model = await new BaggingClassifier({ nEstimators: 5, seed: 2 }).fit(X, y);
 * const labels = await model.predict([[1, 0], [9, 2]]);
 * if (labels.join() !== "3,4") throw new Error(`got ${labels}`);
 * ```
 */
export class BaggingClassifier extends BaggingBase {
  /**
   * Stores the options; `fit` checks them.
   *
   * @param options See BaggingOptions.
   */
  constructor(options: BaggingOptions = {}) {
    super(options);
  }

  protected get estimatorName(): string {
    return "BaggingClassifier";
  }

  protected defaultEstimator(): Estimator {
    return new DecisionTreeClassifier();
  }

  protected prepareTargets(y: Float64Array): Float64Array {
    return encodeClasses("y", y).classes;
  }

  protected async addOutput(
    estimator: Estimator,
    x: Tensor,
    sums: Float64Array,
    rows: ArrayLike<number> | null,
    classes: Float64Array | null,
  ): Promise<void> {
    const K = classes!.length;
    const at = (i: number) => (rows === null ? i : rows[i]) * K;
    if (estimator.predictProba) {
      const proba = await estimator.predictProba(x);
      for (let i = 0; i < proba.shape[0]; i++) {
        for (let k = 0; k < K; k++) sums[at(i) + k] += proba.data[i * K + k];
      }
      return;
    }
    const index = new Map<number, number>();
    classes!.forEach((c, k) => index.set(Math.fround(c), k));
    const predicted = await estimator.predict(x);
    predicted.forEach((v, i) => {
      const k = index.get(v);
      if (k !== undefined) sums[at(i) + k] += 1;
    });
  }

  protected scoreOob(
    y: Float64Array,
    sums: Float64Array,
    _counts: Float64Array,
    classes: Float64Array | null,
  ): number {
    const K = classes!.length;
    let correct = 0;
    for (let r = 0; r < y.length; r++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (sums[r * K + k] > sums[r * K + best]) best = k;
      if (classes![best] === y[r]) correct++;
    }
    return correct / y.length;
  }

  /** The sorted class labels seen at fit. */
  get classes(): Float64Array {
    return this.fitted().classes!.slice();
  }

  override fit(X: Matrix, y: ArrayLike<number>, opts?: EnsembleFitOptions): Promise<this> {
    return super.fit(X, y, opts);
  }

  /**
   * Class probabilities: the mean of the estimators' (or their vote shares), [n, classes].
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async predictProba(X: Matrix): Promise<Tensor> {
    const { sums, rows } = await this.averaged(X);
    return { data: Float32Array.from(sums), shape: [rows, this.fitted().classes!.length] };
  }

  /**
   * The most probable class of each row.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async predict(X: Matrix): Promise<Float32Array> {
    return argmaxClasses(await this.predictProba(X), this.fitted().classes!);
  }

  /** Restores an estimator written by `toJSON()`. */
  static fromJSON(json: object): BaggingClassifier {
    return new BaggingClassifier().restore(json, restoreEstimator);
  }
}

registerEstimator("BaggingClassifier", BaggingClassifier.fromJSON);
