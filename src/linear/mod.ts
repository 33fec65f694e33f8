/**
 * Linear models: regularised logistic regression and ridge regression, the default final
 * estimators of stacking and usable on their own.
 *
 * @module
 */
export { LogisticRegression } from "./logistic_regression.ts";
export type {
  LogisticFitOptions,
  LogisticRegressionOptions,
  LogisticSolver,
} from "./logistic_regression.ts";
export { Ridge } from "./ridge.ts";
export type { RidgeFitOptions, RidgeOptions } from "./ridge.ts";
