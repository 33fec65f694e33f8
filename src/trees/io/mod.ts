/**
 * Model interchange with XGBoost: reading its JSON model format.
 *
 * @module
 */
export { fromXGBoostJSON } from "./from_xgboost_json.ts";
