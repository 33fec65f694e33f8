/**
 * Tree ensembles: CART decision trees, random forests, AdaBoost, bagging and stacking,
 * XGBoost-style histogram boosting, classic gradient boosting and XGBoost model import.
 *
 * ```
 *  trees/            the model format (_tree_model.ts), the estimator base, binning, options
 *    cart/           criteria, exact and histogram CART builders, pruning, decision trees
 *    boosting/       objectives, metrics, booster and grower, XGB*, GradientBoosting*
 *    forest/         random forests
 *    meta/           AdaBoost, Bagging, Stacking
 *    io/             XGBoost model import
 * ```
 *
 * @module
 */
export * from "./boosting/mod.ts";
export * from "./io/mod.ts";
export type { ImportanceType } from "./_tree_model.ts";
export * from "./cart/mod.ts";
export * from "./forest/mod.ts";
export type { EnsembleFitOptions, TreeOptions } from "./_tree_options.ts";
export * from "./meta/mod.ts";
export * from "../estimators/mod.ts";
