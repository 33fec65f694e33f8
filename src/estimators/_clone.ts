/**
 * What the meta-estimators (AdaBoost, Bagging, Stacking) need from the estimators they combine,
 * and `clone`: a fresh, unfitted estimator of the same class built from the template's
 * constructor options, nested estimators cloned in turn.
 *
 * @module
 */
import type { Matrix, Tensor } from "../tensor.ts";
import { show } from "../_validate.ts";

/** Any estimator of this library: options, fit, predict (and predictProba for classifiers). */
export interface Estimator {
  readonly options: object;
  fit(
    X: Matrix,
    y: ArrayLike<number>,
    opts?: { sampleWeight?: ArrayLike<number> },
  ): Promise<unknown>;
  predict(X: Matrix): Promise<Float32Array>;
  predictProba?(X: Matrix): Promise<Tensor>;
  toJSON(): Record<string, unknown>;
}

/** Whether `value` looks like an estimator. */
export function isEstimator(value: unknown): value is Estimator {
  if (value === null || typeof value !== "object") return false;
  const e = value as Partial<Estimator>;
  return typeof e.fit === "function" && typeof e.predict === "function" &&
    typeof e.toJSON === "function" && typeof e.options === "object" && e.options !== null;
}

/** Throws unless `value` is an estimator (with predictProba when `needsProba`). */
export function checkEstimator(name: string, value: unknown, needsProba = false): void {
  if (!isEstimator(value)) {
    throw new TypeError(
      `Expected "${name}" to be an estimator (with fit, predict, toJSON and options) but found ${
        show(value)
      }`,
    );
  }
  if (needsProba && typeof value.predictProba !== "function") {
    throw new TypeError(`Expected "${name}" to be a classifier with predictProba`);
  }
}

/** An option value with its nested estimators cloned; other values are kept as they are. */
function cloneValue(value: unknown): unknown {
  if (isEstimator(value)) return clone(value);
  if (Array.isArray(value)) return value.map(cloneValue);
  return value;
}

/**
 * A new, unfitted estimator of the template's class with a copy of its constructor options
 * (nested estimators cloned), and `overrides` on top.
 */
export function clone<E extends Estimator>(
  template: E,
  overrides: Record<string, unknown> = {},
): E {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template.options)) options[key] = cloneValue(value);
  const Class = template.constructor as new (options: object) => E;
  return new Class({ ...options, ...overrides });
}
