/**
 * @module
 */
import type { Matrix, Tensor } from "../../tensor.ts";
import { LogisticRegression } from "../../linear/logistic_regression.ts";
import type { Estimator } from "../../estimators/_clone.ts";
import { encodeClasses } from "../../estimators/_input.ts";
import { registerEstimator, restoreEstimator } from "../../estimators/_registry.ts";
import { StackingBase, type StackingOptions } from "./_stacking.ts";
import type { EnsembleFitOptions } from "../_tree_options.ts";

/**
 * Stacked generalization for classification (Wolpert 1992), as scikit-learn's
 * StackingClassifier: the base estimators' out-of-fold class probabilities (stratified K-fold,
 * no shuffling; one column for two classes) train the final estimator (default: an
 * L2-regularised LogisticRegression); the bases are refitted on all rows for prediction.
 * `passthrough: true` adds the original features to the final estimator's input.
 *
 * @example
 * ```ts
 * import { DecisionTreeClassifier, RandomForestClassifier, StackingClassifier } from "../mod.ts";
 * const X = Array.from({ length: 60 }, (_, i) => [i % 12, (i * 5) % 7]);
 * const y = X.map(([a]) => (a < 6 ? 0 : 1));
 * const model = await new StackingClassifier({
 *   estimators: [new RandomForestClassifier({ nEstimators: 10 }), new DecisionTreeClassifier()],
 *   cv: 3,
 * }).fit(X, y);
 * const labels = await model.predict([[1, 3], [10, 2]]);
 * if (labels.join() !== "0,1") throw new Error(`got ${labels}`);
 * ```
 */
export class StackingClassifier extends StackingBase {
  /**
   * Stores the options; `fit` checks them.
   *
   * @param options See StackingOptions; the base estimators are classifiers.
   */
  constructor(options: StackingOptions = {}) {
    super(options);
  }

  protected get estimatorName(): string {
    return "StackingClassifier";
  }

  protected defaultFinal(): Estimator {
    return new LogisticRegression();
  }

  protected prepareTargets(y: Float64Array): Float64Array {
    return encodeClasses("y", y).classes;
  }

  /** The sorted class labels seen at fit. */
  get classes(): Float64Array {
    return this.fitted().classes!.slice();
  }

  override fit(X: Matrix, y: ArrayLike<number>, opts?: EnsembleFitOptions): Promise<this> {
    return super.fit(X, y, opts);
  }

  /**
   * The final estimator's class probabilities, [n, classes].
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   * @throws {TypeError} When the final estimator has no predictProba.
   */
  async predictProba(X: Matrix): Promise<Tensor> {
    const final = this.fitted().finalEstimator;
    if (typeof final.predictProba !== "function") {
      throw new TypeError(`Expected the final estimator to have predictProba`);
    }
    return final.predictProba(await this.transform(X));
  }

  /**
   * The final estimator's classes.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async predict(X: Matrix): Promise<Float32Array> {
    return this.fitted().finalEstimator.predict(await this.transform(X));
  }

  /** Restores an estimator written by `toJSON()`. */
  static fromJSON(json: object): StackingClassifier {
    return new StackingClassifier().restore(json, restoreEstimator);
  }
}

registerEstimator("StackingClassifier", StackingClassifier.fromJSON);
