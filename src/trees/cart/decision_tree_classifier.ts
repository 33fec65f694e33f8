/**
 * @module
 */
import type { Matrix, Tensor } from "../../tensor.ts";
import { CLASSIFICATION_CRITERIA } from "./_criteria.ts";
import {
  DecisionTreeBase,
  type DecisionTreeOptions,
  decisionTreeParamTable,
  type TreeFitOptions,
} from "./_decision_tree.ts";
import { encodeClasses } from "../../estimators/_input.ts";
import type { ParamTable } from "../../estimators/_params.ts";
import { registerEstimator } from "../../estimators/_registry.ts";

/** The most probable class of each row of [n, k] probabilities (the first on a tie). */
export function argmaxClasses(proba: Tensor, classes: Float64Array): Float32Array {
  const [n, k] = proba.shape;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (proba.data[i * k + j] > proba.data[i * k + best]) best = j;
    out[i] = classes[best];
  }
  return out;
}

/**
 * A CART classification tree, as scikit-learn's DecisionTreeClassifier: gini or entropy
 * (`"log_loss"` is the same) splits, depth-first growth or best-first up to `maxLeafNodes`,
 * sample weights, missing values (NaN) sent to the side learnt at each split, and minimal
 * cost-complexity pruning (`ccpAlpha`). `splitter: "hist"` (default) splits between the bins of
 * the shared bin matrix; `"exact"` between sorted values, which grows scikit-learn's tree.
 *
 * @example
 * ```ts
 * import { DecisionTreeClassifier } from "./mod.ts";
 * const X = [[0, 5], [1, 3], [2, 4], [3, 1], [4, 2], [5, 0]];
 * const y = [7, 7, 7, 9, 9, 9];
 * const tree = await new DecisionTreeClassifier({ maxDepth: 2 }).fit(X, y);
 * const labels = await tree.predict([[0.5, 4], [4.5, 1]]);
 * if (labels.join() !== "7,9") throw new Error(`got ${labels}`);
 * if (tree.leafCount !== 2) throw new Error(`got ${tree.leafCount} leaves`);
 * ```
 */
export class DecisionTreeClassifier extends DecisionTreeBase {
  /**
   * Stores the options; `fit` checks them.
   *
   * @param options See DecisionTreeOptions; `criterion` is `"gini"` (default), `"entropy"` or
   *   `"log_loss"`.
   */
  constructor(options: DecisionTreeOptions = {}) {
    super(options);
  }

  protected get estimatorName(): string {
    return "DecisionTreeClassifier";
  }

  protected paramTable(): ParamTable {
    return decisionTreeParamTable(CLASSIFICATION_CRITERIA, "gini");
  }

  protected prepareTargets(y: Float64Array) {
    const { classes, encoded } = encodeClasses("y", y);
    return { targets: { y: encoded, nClasses: classes.length }, classes };
  }

  protected get isClassifier(): boolean {
    return true;
  }

  /** The sorted class labels seen at fit. */
  get classes(): Float64Array {
    return this.fitted().classes!.slice();
  }

  override fit(X: Matrix, y: ArrayLike<number>, opts?: TreeFitOptions): Promise<this> {
    return super.fit(X, y, opts);
  }

  /**
   * Class probabilities: the weighted class fractions of each row's leaf, [n, classes], columns
   * in the order of `classes`.
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
  static fromJSON(json: object): DecisionTreeClassifier {
    return new DecisionTreeClassifier().restore(json);
  }
}

registerEstimator("DecisionTreeClassifier", DecisionTreeClassifier.fromJSON);
