/**
 * Estimators by serialised name, for meta-estimators that restore the estimators they hold.
 * The registry is filled by the estimators themselves (each estimator's module registers its
 * class when it loads) and never imports them, so meta-estimators can use it without an import
 * cycle; loading `src/mod.ts` (or an area's `mod.ts`) registers every estimator of that area.
 *
 * @module
 */
import { show } from "../_validate.ts";
import type { Estimator } from "./_clone.ts";

const RESTORERS = new Map<string, (json: object) => Estimator>();

/** Records how to restore the estimator serialised under `name` (its `toJSON().estimator`). */
export function registerEstimator(name: string, restore: (json: object) => Estimator): void {
  RESTORERS.set(name, restore);
}

/**
 * The estimator a `toJSON()` object describes.
 *
 * @throws {TypeError} When `json` is not such an object.
 * @throws {RangeError} When it names no known estimator or its contents are inconsistent.
 */
export function restoreEstimator(name: string, json: unknown): Estimator {
  if (json === null || typeof json !== "object") {
    throw new TypeError(`Expected "${name}" to be a serialised estimator but found ${show(json)}`);
  }
  const estimator = (json as Record<string, unknown>).estimator;
  const restore = typeof estimator === "string" ? RESTORERS.get(estimator) : undefined;
  if (restore === undefined) {
    throw new RangeError(
      `Expected "${name}" to name a known estimator but found ${show(estimator)}`,
    );
  }
  return restore(json);
}
