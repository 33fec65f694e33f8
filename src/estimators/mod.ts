/**
 * What every estimator of this library shares, trees and linear models alike: the base class
 * with its declarative option tables and serialised form (`_params.ts`), input checks
 * (`_input.ts`), `clone` (`_clone.ts`) and the registry that restores nested estimators by name
 * (`_registry.ts`, filled by the estimators themselves).
 *
 * @module
 */
export { clone } from "./_clone.ts";
export type { Estimator } from "./_clone.ts";
