/**
 * @module
 */
import type { Matrix, Tensor } from "../../tensor.ts";
import { CLASSIFICATION_CRITERIA } from "../cart/_criteria.ts";
import { ForestBase, type ForestOptions, forestParamTable } from "./_forest.ts";
import { encodeClasses } from "../../estimators/_input.ts";
import type { ParamTable } from "../../estimators/_params.ts";
import type { EnsembleFitOptions } from "../_tree_options.ts";
import { argmaxClasses } from "../cart/decision_tree_classifier.ts";
import { registerEstimator } from "../../estimators/_registry.ts";

/**
 * A random forest of classification trees (Breiman 2001), as scikit-learn's
 * RandomForestClassifier: each tree grows fully (by default) on a bootstrap sample of the rows
 * and tries `maxFeatures` random features (default `"sqrt"`) at every split; the forest
 * averages the trees' class probabilities. Trees are grown in parallel across the worker pool
 * and are the same for any thread count. `oobScore: true` scores each row on the trees that
 * did not draw it.
 *
 * @example
 * ```ts
 * import { RandomForestClassifier } from "./mod.ts";
 * const X = Array.from({ length: 40 }, (_, i) => [i % 10, Math.floor(i / 10)]);
 * const y = X.map(([a]) => (a < 5 ? 0 : 1));
 * const forest = await new RandomForestClassifier({ nEstimators: 10, seed: 1 }).fit(X, y);
 * const labels = await forest.predict([[1, 2], [8, 1]]);
 * if (labels.join() !== "0,1") throw new Error(`got ${labels}`);
 * ```
 */
export class RandomForestClassifier extends ForestBase {
  /**
   * Stores the options; `fit` checks them.
   *
   * @param options See ForestOptions; `criterion` is `"gini"` (default), `"entropy"` or
   *   `"log_loss"`.
   */
  constructor(options: ForestOptions = {}) {
    super(options);
  }

  protected get estimatorName(): string {
    return "RandomForestClassifier";
  }

  protected paramTable(): ParamTable {
    return forestParamTable(CLASSIFICATION_CRITERIA, "gini", "sqrt");
  }

  protected prepareTargets(y: Float64Array) {
    const { classes, encoded } = encodeClasses("y", y);
    return { labels: encoded, nClasses: classes.length, classes };
  }

  protected scoreOob(
    labels: Float64Array,
    oob: { sums: Float64Array; counts: Float64Array },
    width: number,
  ): number {
    let correct = 0;
    for (let r = 0; r < labels.length; r++) {
      let best = 0;
      for (let k = 1; k < width; k++) {
        if (oob.sums[r * width + k] > oob.sums[r * width + best]) best = k;
      }
      if (best === labels[r]) correct++;
    }
    return correct / labels.length;
  }

  protected get isClassifier(): boolean {
    return true;
  }

  /** The sorted class labels seen at fit. */
  get classes(): Float64Array {
    return this.fitted().classes!.slice();
  }

  /**
   * Out-of-bag class probabilities of the training rows, [n, classes] (zeros for a row that
   * every tree drew), from the last fit with `oobScore: true`.
   */
  get oobDecisionFunction(): Tensor {
    this.oobScore;
    const { sums, counts, width } = this.oob!;
    const data = new Float32Array(sums.length);
    for (let r = 0; r < counts.length; r++) {
      for (let k = 0; k < width; k++) {
        data[r * width + k] = sums[r * width + k] / Math.max(1, counts[r]);
      }
    }
    return { data, shape: [counts.length, width] };
  }

  override fit(X: Matrix, y: ArrayLike<number>, opts?: EnsembleFitOptions): Promise<this> {
    return super.fit(X, y, opts);
  }

  /**
   * Class probabilities: the mean of the trees' leaf class fractions, [n, classes].
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  predictProba(X: Matrix): Promise<Tensor> {
    return this.rawOutput(X);
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
  static fromJSON(json: object): RandomForestClassifier {
    return new RandomForestClassifier().restore(json);
  }
}

registerEstimator("RandomForestClassifier", RandomForestClassifier.fromJSON);
