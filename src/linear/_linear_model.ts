/**
 * The base of LogisticRegression and Ridge, on BaseEstimator (options checked against one table
 * at fit, explicit fitted state): coefficients and intercepts, the linear outputs X·Wᵀ + b, and
 * the serialised form
 *
 * ```
 *  { format: "tessera.linear", version: 1, estimator: "Ridge",
 *    options: { ...as given to the constructor },
 *    fitted: null | { nFeatures, coef: number[], intercept: number[], ...estimator fields } }
 * ```
 *
 * @module
 */
import type { Matrix } from "../tensor.ts";
import { show } from "../_validate.ts";
import { BaseEstimator } from "../estimators/_params.ts";
import { FORMAT, toFiniteMatrix } from "./_input.ts";

/** What every fitted linear model holds. */
export interface LinearState {
  nFeatures: number;
  /** Row-major [outputs, nFeatures]. */
  coef: Float64Array;
  /** One per output. */
  intercept: Float64Array;
}

export abstract class LinearModel<O extends object, S extends LinearState>
  extends BaseEstimator<O, S> {
  protected get format(): string {
    return FORMAT;
  }

  /** Rebuilds the fitted state; throws when it is inconsistent. */
  protected abstract stateFromJSON(fields: Record<string, unknown>): S;

  /** Number of features seen at fit. */
  get nFeatures(): number {
    return this.fitted().nFeatures;
  }

  /**
   * Coefficients, row-major [outputs, nFeatures]: one row per target (Ridge), per class
   * (LogisticRegression), or one row for two classes.
   */
  get coef(): Float64Array {
    return this.fitted().coef.slice();
  }

  /** Intercepts, one per coefficient row (zeros without `fitIntercept`). */
  get intercept(): Float64Array {
    return this.fitted().intercept.slice();
  }

  /** X·Wᵀ + b in float64, row-major [n, outputs], after checking X against fit. */
  protected outputs(X: Matrix): { z: Float64Array; rows: number; outs: number } {
    const s = this.fitted();
    const x = toFiniteMatrix("X", X, s.nFeatures);
    const outs = s.intercept.length, cols = s.nFeatures;
    const z = new Float64Array(x.rows * outs);
    for (let i = 0; i < x.rows; i++) {
      for (let k = 0; k < outs; k++) {
        let sum = s.intercept[k];
        for (let j = 0; j < cols; j++) sum += x.data[i * cols + j] * s.coef[k * cols + j];
        z[i * outs + k] = sum;
      }
    }
    return { z, rows: x.rows, outs };
  }

  /** The serialised fields, `options` (when present) checked to be an object. */
  protected override readSerialised(json: unknown): Record<string, unknown> {
    const o = super.readSerialised(json);
    if (o.options !== undefined && (o.options === null || typeof o.options !== "object")) {
      throw new TypeError(`Expected "json.options" to be an object but found ${show(o.options)}`);
    }
    return o;
  }

  /** Restores options and fitted state written by toJSON into this fresh estimator. */
  protected restore(json: unknown): this {
    return this.restoreWith(json, (fields) => this.stateFromJSON(fields));
  }
}
