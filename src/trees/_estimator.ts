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
import { BaseEstimator } from "../estimators/_params.ts";
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
        : Float64Array.from(fields.classes as number[]);
      const model = ensembleFromJSON("json.fitted.model", fields.model);
      return this.stateFromJSON(fields, { model, classes });
    });
  }
}
