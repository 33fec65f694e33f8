/**
 * Tree ensembles: CART decision trees, random forests, AdaBoost, bagging and stacking,
 * XGBoost-style histogram boosting, classic gradient boosting and XGBoost model import.
 *
 * @module
 */
export { XGBRegressor } from "./xgb_regressor.ts";
export { XGBClassifier } from "./xgb_classifier.ts";
export { fromXGBoostJSON } from "./from_xgboost_json.ts";
export type { XGBFitOptions, XGBOptions } from "./_xgb_base.ts";
export type { ImportanceType } from "./_tree_model.ts";
export { GradientBoostingRegressor } from "./gradient_boosting_regressor.ts";
export { GradientBoostingClassifier } from "./gradient_boosting_classifier.ts";
export type { GBFitOptions, GBOptions } from "./_gbdt_base.ts";
export { DecisionTreeClassifier } from "./decision_tree_classifier.ts";
export { DecisionTreeRegressor } from "./decision_tree_regressor.ts";
export type { DecisionTreeOptions, TreeFitOptions } from "./_decision_tree.ts";
export { RandomForestClassifier } from "./random_forest_classifier.ts";
export { RandomForestRegressor } from "./random_forest_regressor.ts";
export type { ForestOptions } from "./_forest.ts";
export type { EnsembleFitOptions, TreeOptions } from "./_tree_options.ts";
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
export { clone } from "./_clone.ts";
export type { Estimator } from "./_clone.ts";
