/**
 * The base of every tree estimator: options stored by the constructor and checked against one
 * table at fit, an explicit fitted state holding a TreeEnsemble, the serialised form, raw
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
import { show } from "../_validate.ts";
import { toFeatures } from "./_input.ts";
import { treesKernels } from "./_kernels.ts";
import { type ParamTable, resolveParams } from "./_params.ts";
import { ensembleFromJSON, ensembleToJSON, predictRaw, type TreeEnsemble } from "./_tree_model.ts";

/** Serialised estimators carry this tag. */
export const FORMAT = "tessera.trees";

/** What every fitted tree estimator holds. */
export interface FittedTrees {
  model: TreeEnsemble;
  /** Sorted class labels of classifiers, else null. */
  classes: Float64Array | null;
}

export abstract class TreeEstimator<O extends { backend?: Backend }, S extends FittedTrees> {
  /** The options as given to the constructor. */
  readonly options: O;
  protected state: S | null = null;

  constructor(options: O) {
    this.options = { ...options };
  }

  /** The estimator's name in messages and serialised form. */
  protected abstract get estimatorName(): string;
  /** The option table checked at fit. */
  protected abstract paramTable(): ParamTable;
  /** Estimator-specific fields of the serialised fitted state. */
  protected abstract stateToJSON(state: S): Record<string, unknown>;
  /** Rebuilds the fitted state; throws a RangeError when it is inconsistent. */
  protected abstract stateFromJSON(fields: Record<string, unknown>, base: FittedTrees): S;

  /** Options merged over defaults, after checking them. */
  protected resolvedOptions(): Record<string, unknown> {
    return resolveParams("options", this.paramTable(), this.options);
  }

  /** The fitted state; a RangeError before fit. */
  protected fitted(): S {
    if (this.state === null) {
      throw new RangeError(`This ${this.estimatorName} is not fitted yet; call fit() first`);
    }
    return this.state;
  }

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
   * A plain object holding the options and the fitted model; `fromJSON` of the same estimator
   * restores it.
   */
  toJSON(): Record<string, unknown> {
    const s = this.state;
    return {
      format: FORMAT,
      version: 1,
      estimator: this.estimatorName,
      options: structuredClone(this.options),
      fitted: s === null ? null : {
        ...this.stateToJSON(s),
        classes: s.classes === null ? null : Array.from(s.classes),
        model: ensembleToJSON(s.model),
      },
    };
  }

  /** Restores options and fitted state written by toJSON into this fresh estimator. */
  protected restore(json: unknown): this {
    if (json === null || typeof json !== "object") {
      throw new TypeError(
        `Expected "json" to be an object written by toJSON() but found ${show(json)}`,
      );
    }
    const o = json as Record<string, unknown>;
    if (o.format !== FORMAT || o.estimator !== this.estimatorName) {
      throw new RangeError(
        `Expected "json" to hold a serialised ${this.estimatorName} but found format ${
          show(o.format)
        }, estimator ${show(o.estimator)}`,
      );
    }
    Object.assign(this.options, o.options ?? {});
    this.resolvedOptions();
    if (o.fitted === null || o.fitted === undefined) return this;
    const fields = o.fitted as Record<string, unknown>;
    const classes = fields.classes === null || fields.classes === undefined
      ? null
      : Float64Array.from(fields.classes as number[]);
    const model = ensembleFromJSON("json.fitted.model", fields.model);
    this.state = this.stateFromJSON(fields, { model, classes });
    return this;
  }
}
