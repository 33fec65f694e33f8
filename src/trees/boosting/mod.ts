/**
 * Gradient boosting: XGBoost-style second-order histogram boosting (objectives, metrics, the
 * booster and its grower, XGBRegressor and XGBClassifier) and scikit-learn's classic gradient
 * boosting (losses, GradientBoostingRegressor and GradientBoostingClassifier).
 *
 * @module
 */
export { XGBRegressor } from "./xgb_regressor.ts";
export { XGBClassifier } from "./xgb_classifier.ts";
export type { XGBFitOptions, XGBOptions } from "./_xgb_base.ts";
export { GradientBoostingRegressor } from "./gradient_boosting_regressor.ts";
export { GradientBoostingClassifier } from "./gradient_boosting_classifier.ts";
export type { GBFitOptions, GBOptions } from "./_gbdt_base.ts";
