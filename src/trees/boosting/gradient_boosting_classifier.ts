/**
 * @module
 */
import type { Matrix, Tensor } from "../../tensor.ts";
import {
  type GBFitOptions,
  GBModel,
  type GBOptions,
  gbParamTable,
  type GBState,
} from "./_gbdt_base.ts";
import { LOSSES } from "./_gbdt_losses.ts";
import { encodeClasses } from "../../estimators/_input.ts";
import { classProbabilities } from "./_objectives.ts";
import type { ParamTable } from "../../estimators/_params.ts";
import { argmaxClasses } from "../cart/decision_tree_classifier.ts";
import { registerEstimator } from "../../estimators/_registry.ts";

const CLASSIFICATION_LOSSES = Object.keys(LOSSES).filter((k) =>
  LOSSES[k].task === "classification"
);

/**
 * Classic gradient boosting for classification (Friedman 2001), as scikit-learn's
 * GradientBoostingClassifier with log-loss: one tree per stage for two classes (binomial
 * deviance), one per class per stage otherwise (multinomial), leaves set by a Newton step.
 * Labels may be any numbers; the classes are their sorted distinct values.
 *
 * @example
 * ```ts
 * import { GradientBoostingClassifier } from "./mod.ts";
 * const X = [[0], [1], [2], [3], [4], [5], [6], [7], [8]];
 * const y = [-1, -1, -1, 0, 0, 0, 1, 1, 1];
 * const model = await new GradientBoostingClassifier({ nEstimators: 20 }).fit(X, y);
 * const labels = await model.predict([[1], [4], [7]]);
 * if (labels.join() !== "-1,0,1") throw new Error(`got ${labels}`);
 * ```
 */
export class GradientBoostingClassifier extends GBModel {
  /**
   * Stores the options; they are checked by `fit`.
   *
   * @param options See GBOptions; `loss` is `"log_loss"`.
   */
  constructor(options: GBOptions = {}) {
    super(options);
  }

  protected get estimatorName(): string {
    return "GradientBoostingClassifier";
  }

  protected paramTable(): ParamTable {
    return gbParamTable(CLASSIFICATION_LOSSES, "log_loss");
  }

  protected prepareLabels(y: Float64Array) {
    const { classes, encoded } = encodeClasses("y", y);
    return { labels: encoded, nOutputs: classes.length === 2 ? 1 : classes.length, classes };
  }

  protected checkState(state: GBState): void {
    const k = state.classes?.length ?? 0;
    if (
      LOSSES[state.loss].task !== "classification" || k < 2 ||
      state.model.nOutputs !== (k === 2 ? 1 : k)
    ) {
      throw new RangeError(
        `Expected a classification model whose outputs match its classes but found ${k} classes, ${state.model.nOutputs} outputs`,
      );
    }
  }

  /** The sorted class labels seen at fit. */
  get classes(): Float64Array {
    return this.fitted().classes!.slice();
  }

  /**
   * Trains the model.
   *
   * @param X Rows of features; NaN marks a missing value.
   * @param y One finite label per row; at least two distinct values.
   * @param opts `sampleWeight`, `onProgress`.
   * @returns This estimator, fitted.
   * @throws {TypeError} When an argument has the wrong type.
   * @throws {RangeError} On row-count mismatch, NaN or ±Infinity in y, one class only, empty
   *   X, or an option unknown or out of range.
   */
  override fit(X: Matrix, y: ArrayLike<number>, opts?: GBFitOptions): Promise<this> {
    return super.fit(X, y, opts);
  }

  /**
   * Raw scores: log-odds of the second class for two classes, else one per class.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  decisionFunction(X: Matrix): Promise<Tensor> {
    return this.rawOutput(X);
  }

  /**
   * Class probabilities, [n, classes], columns in the order of `classes`.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async predictProba(X: Matrix): Promise<Tensor> {
    return classProbabilities(await this.rawOutput(X));
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
  static fromJSON(json: object): GradientBoostingClassifier {
    return new GradientBoostingClassifier().restore(json);
  }
}

registerEstimator("GradientBoostingClassifier", GradientBoostingClassifier.fromJSON);
