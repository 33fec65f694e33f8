/**
 * Meta-estimators that combine other estimators: AdaBoost (SAMME, AdaBoost.R2), bagging and
 * stacking. Nested estimators are restored through the registry in src/estimators/.
 *
 * @module
 */
export { AdaBoostClassifier } from "./ada_boost_classifier.ts";
export type { AdaBoostClassifierOptions } from "./ada_boost_classifier.ts";
export { AdaBoostRegressor } from "./ada_boost_regressor.ts";
export type { AdaBoostRegressorOptions } from "./ada_boost_regressor.ts";
export type { AdaBoostOptions } from "./_ada_boost.ts";
export { BaggingClassifier } from "./bagging_classifier.ts";
export { BaggingRegressor } from "./bagging_regressor.ts";
export type { BaggingOptions } from "./_bagging.ts";
export { StackingClassifier } from "./stacking_classifier.ts";
export { StackingRegressor } from "./stacking_regressor.ts";
export type { StackingOptions } from "./_stacking.ts";
