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
