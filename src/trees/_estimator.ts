/**
 * The base of every tree estimator, on BaseEstimator (options checked against one table at fit,
 * explicit fitted state): a fitted state holding a TreeEnsemble, its serialised form, raw
 * outputs and input checks at predict time.
 *
 * Serialised estimators look like
 *
 * ```
 *  { format: "tessera.trees", version: 1, estimator: "XGBClassifier",
 *    options: { ...as given to the constructor },
 *    fitted: null | { model: <ensembleToJSON>, classes: number[] | null, ...estimator fields } }
 * ```
 *
 * @module
 */
import type { Matrix, Tensor } from "../tensor.ts";
import type { Backend } from "../tensor.ts";
import { toFeatures } from "../estimators/_input.ts";
import { treesKernels } from "./_kernels.ts";
import { shapInteractions, shapValues } from "./explain/_tree_shap.ts";
import { BaseEstimator, classList } from "../estimators/_params.ts";
import { ensembleFromJSON, ensembleToJSON, predictRaw, type TreeEnsemble } from "./_tree_model.ts";

/** Serialised estimators carry this tag. */
export const FORMAT = "tessera.trees";

/** What every fitted tree estimator holds. */
export interface FittedTrees {
  model: TreeEnsemble;
  /** Sorted class labels of classifiers, else null. */
  classes: Float64Array | null;
}

export abstract class TreeEstimator<O extends { backend?: Backend }, S extends FittedTrees>
  extends BaseEstimator<O, S> {
  protected get format(): string {
    return FORMAT;
  }

  /** Estimator-specific fields of the serialised fitted state. */
  protected abstract fieldsToJSON(state: S): Record<string, unknown>;
  /** Rebuilds the fitted state; throws a RangeError when it is inconsistent. */
  protected abstract stateFromJSON(fields: Record<string, unknown>, base: FittedTrees): S;

  /** Number of features seen at fit. */
  get nFeatures(): number {
    return this.fitted().model.nFeatures;
  }

  /** Raw outputs (margins) of the ensemble, [n, outputs]. */
  protected async rawOutput(X: Matrix): Promise<Tensor> {
    const { model } = this.fitted();
    const x = toFeatures("X", X, model.nFeatures);
    const kernels = await treesKernels(this.options.backend);
    const data = await predictRaw(kernels, model, x.data, x.rows);
    return { data, shape: [x.rows, model.nOutputs] };
  }

  /**
   * SHAP values of each row (exact path-dependent TreeSHAP, as XGBoost's `pred_contribs`): how
   * much each feature moves the row's raw output away from the model's expected output. The
   * last column is the bias (that expectation, under the training cover); each row adds up to
   * the raw output: the margin of boosters, the prediction of trees and forests (class
   * probabilities for classifiers). A missing value follows the model's default direction.
   *
   * @param X Rows to explain, with the columns seen at fit (NaN = missing).
   * @returns [n, nFeatures + 1] for one output; [n, nOutputs, nFeatures + 1] for several
   *   (multi-class boosters; tree and forest classifiers, one block per class).
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   * @example
   * ```ts
   * import { DecisionTreeRegressor } from "../mod.ts";
   * const X = [[0, 0], [0, 1], [1, 0], [1, 1]], y = [0, 1, 2, 3];
   * const tree = await new DecisionTreeRegressor().fit(X, y);
   * const phi = await tree.predictContributions([[1, 1]]);
   * // Bias 1.5 (the mean), feature 0 adds 1, feature 1 adds 0.5: the prediction 3.
   * if (phi.data.join() !== "1,0.5,1.5") throw new Error(`got ${phi.data}`);
   * ```
   */
  async predictContributions(X: Matrix): Promise<Tensor> {
    const { model } = this.fitted();
    const x = toFeatures("X", X, model.nFeatures);
    const kernels = await treesKernels(this.options.backend);
    const data = Float32Array.from(await shapValues(kernels, model, x.data, x.rows));
    const F = model.nFeatures + 1;
    return { data, shape: model.nOutputs === 1 ? [x.rows, F] : [x.rows, model.nOutputs, F] };
  }

  /**
   * SHAP interaction values of each row (as XGBoost's `pred_interactions`): entry (i, j), i ≠ j,
   * is half the change in feature j's SHAP value between feature i always known and never
   * known; the diagonal holds the rest of each feature's SHAP value, so row i sums to φ_i and
   * the whole matrix to the raw output. The last row and column are zero except the bias at
   * (nFeatures, nFeatures).
   *
   * @param X Rows to explain, with the columns seen at fit (NaN = missing).
   * @returns [n, nFeatures + 1, nFeatures + 1], or [n, nOutputs, nFeatures + 1, nFeatures + 1].
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   * @example
   * ```ts
   * import { DecisionTreeRegressor } from "../mod.ts";
   * const X = [[0, 0], [0, 1], [1, 0], [1, 1]], y = [0, 0, 0, 4];
   * const tree = await new DecisionTreeRegressor().fit(X, y);
   * const phi = await tree.predictInteractions([[1, 1]]);
   * // y = 4·x0·x1 at (1, 1): φ = 1.5 each, 0.5 of which is their interaction; bias 1; sum 4.
   * const rows = [0, 1, 2].map((i) => Array.from(phi.data.slice(i * 3, i * 3 + 3)));
   * if (JSON.stringify(rows) !== "[[1,0.5,0],[0.5,1,0],[0,0,1]]") throw new Error(`${rows}`);
   * ```
   */
  async predictInteractions(X: Matrix): Promise<Tensor> {
    const { model } = this.fitted();
    const x = toFeatures("X", X, model.nFeatures);
    const kernels = await treesKernels(this.options.backend);
    const data = Float32Array.from(await shapInteractions(kernels, model, x.data, x.rows));
    const F = model.nFeatures + 1;
    return {
      data,
      shape: model.nOutputs === 1 ? [x.rows, F, F] : [x.rows, model.nOutputs, F, F],
    };
  }

  protected stateToJSON(s: S): Record<string, unknown> {
    return {
      ...this.fieldsToJSON(s),
      classes: s.classes === null ? null : Array.from(s.classes),
      model: ensembleToJSON(s.model),
    };
  }

  /** Restores options and fitted state written by toJSON into this fresh estimator. */
  protected restore(json: unknown): this {
    return this.restoreWith(json, (fields) => {
      const classes = fields.classes === null || fields.classes === undefined
        ? null
        : classList("json.fitted.classes", fields.classes, 1);
      const model = ensembleFromJSON("json.fitted.model", fields.model);
      return this.stateFromJSON(fields, { model, classes });
    });
  }
}
