/**
 * Tree ensembles: XGBoost-style histogram boosting, classic gradient boosting and XGBoost
 * model import.
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
