/**
 * @module
 */
import type { Matrix, Tensor } from "../../tensor.ts";
import { encodeClasses, encodeWith } from "../../estimators/_input.ts";
import { CLASSIFICATION_OBJECTIVES, classProbabilities, OBJECTIVES } from "./_objectives.ts";
import type { ParamTable } from "../../estimators/_params.ts";
import { argmaxClasses } from "../cart/decision_tree_classifier.ts";
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
 * Gradient-boosted classification trees, second order, on binned features: XGBoost's `hist`
 * algorithm. Labels may be any numbers; the classes are their sorted distinct values.
 * `binary:logistic` is the default for two classes, `multi:softprob` (one tree per class per
 * round) for more.
 *
 * @example
 * ```ts
 * import { XGBClassifier } from "./mod.ts";
 * const X = [[1, 0], [2, 1], [3, 0], [4, 1], [5, 0], [6, 1]];
 * const y = [7, 7, 7, 9, 9, 9];
 * const model = await new XGBClassifier({ nEstimators: 10, minChildWeight: 0 }).fit(X, y);
 * const labels = await model.predict([[1.5, 0], [5.5, 1]]);
 * if (labels.join() !== "7,9") throw new Error(`got ${labels}`);
 * ```
 */
export class XGBClassifier extends XGBModel {
  /**
   * Stores the options; they are checked by `fit`.
   *
   * @param options See XGBOptions; `objective` is `binary:logistic`, `binary:logitraw`,
   *   `multi:softprob` or `multi:softmax` (default: by class count).
   */
  constructor(options: XGBOptions = {}) {
    super(options);
  }

  protected get estimatorName(): string {
    return "XGBClassifier";
  }

  protected paramTable(): ParamTable {
    return xgbParamTable(CLASSIFICATION_OBJECTIVES, undefined);
  }

  protected prepareLabels(y: Float64Array, params: XGBParams): PreparedLabels {
    const { classes, encoded } = encodeClasses("y", y);
    const name = params.objective ?? (classes.length === 2 ? "binary:logistic" : "multi:softprob");
    const objective = OBJECTIVES[name];
    if (objective.task === "binary" && classes.length > 2) {
      throw new RangeError(
        `Expected "objective" to be a multi: objective for ${classes.length} classes but found "${name}"`,
      );
    }
    return {
      labels: encoded,
      objective,
      nOutputs: objective.task === "binary" ? 1 : classes.length,
      classes,
      encode: (field, labels) => encodeWith(field, labels, classes),
    };
  }

  protected checkState(state: XGBState): void {
    const objective = OBJECTIVES[state.objective];
    const classes = state.classes;
    const outputs = objective.task === "binary" ? 1 : classes?.length;
    if (
      objective.task === "regression" || classes === null || classes.length < 2 ||
      state.model.nOutputs !== outputs
    ) {
      throw new RangeError(
        `Expected a classification model whose outputs match its classes but found objective "${state.objective}", ${
          classes?.length ?? 0
        } classes, ${state.model.nOutputs} outputs`,
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
   * @param opts `sampleWeight`, `evalSet` with `earlyStoppingRounds`, `onProgress`.
   * @returns This estimator, fitted.
   * @throws {TypeError} When an argument has the wrong type.
   * @throws {RangeError} On row-count mismatch, NaN or ±Infinity in y, one class only, empty
   *   X, or an option unknown or out of range.
   */
  override fit(X: Matrix, y: ArrayLike<number>, opts?: XGBFitOptions): Promise<this> {
    return super.fit(X, y, opts);
  }

  /**
   * Class probabilities, [n, classes], columns in the order of `classes`.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async predictProba(X: Matrix): Promise<Tensor> {
    // Multiclass objectives have one margin per class, binary ones a single margin.
    return classProbabilities(await this.predictMargin(X));
  }

  /**
   * The most probable class of each row (for two classes: the second when its probability
   * exceeds 0.5).
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async predict(X: Matrix): Promise<Float32Array> {
    // For two classes p > 1 − p is p > 0.5: 1 − p is exact in float32 for p ≥ 0.5.
    return argmaxClasses(await this.predictProba(X), this.fitted().classes!);
  }

  /** Restores an estimator written by `toJSON()`. */
  static fromJSON(json: object): XGBClassifier {
    return new XGBClassifier().restore(json);
  }
}

registerEstimator("XGBClassifier", XGBClassifier.fromJSON);
