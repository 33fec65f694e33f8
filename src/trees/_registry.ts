/**
 * Estimators by serialised name, for meta-estimators that restore the estimators they hold.
 * The lookup runs only at call time, so the import cycle with the meta-estimators is harmless.
 *
 * @module
 */
import { show } from "../_validate.ts";
import { LogisticRegression } from "../linear/logistic_regression.ts";
import { Ridge } from "../linear/ridge.ts";
import type { Estimator } from "./_clone.ts";
import { AdaBoostClassifier } from "./ada_boost_classifier.ts";
import { AdaBoostRegressor } from "./ada_boost_regressor.ts";
import { BaggingClassifier } from "./bagging_classifier.ts";
import { BaggingRegressor } from "./bagging_regressor.ts";
import { DecisionTreeClassifier } from "./decision_tree_classifier.ts";
import { DecisionTreeRegressor } from "./decision_tree_regressor.ts";
import { GradientBoostingClassifier } from "./gradient_boosting_classifier.ts";
import { GradientBoostingRegressor } from "./gradient_boosting_regressor.ts";
import { RandomForestClassifier } from "./random_forest_classifier.ts";
import { RandomForestRegressor } from "./random_forest_regressor.ts";
import { StackingClassifier } from "./stacking_classifier.ts";
import { StackingRegressor } from "./stacking_regressor.ts";
import { XGBClassifier } from "./xgb_classifier.ts";
import { XGBRegressor } from "./xgb_regressor.ts";

function restorers(): Record<string, (json: object) => Estimator> {
  return {
    AdaBoostClassifier: AdaBoostClassifier.fromJSON,
    AdaBoostRegressor: AdaBoostRegressor.fromJSON,
    BaggingClassifier: BaggingClassifier.fromJSON,
    BaggingRegressor: BaggingRegressor.fromJSON,
    DecisionTreeClassifier: DecisionTreeClassifier.fromJSON,
    DecisionTreeRegressor: DecisionTreeRegressor.fromJSON,
    GradientBoostingClassifier: GradientBoostingClassifier.fromJSON,
    GradientBoostingRegressor: GradientBoostingRegressor.fromJSON,
    LogisticRegression: LogisticRegression.fromJSON,
    RandomForestClassifier: RandomForestClassifier.fromJSON,
    RandomForestRegressor: RandomForestRegressor.fromJSON,
    Ridge: Ridge.fromJSON,
    StackingClassifier: StackingClassifier.fromJSON,
    StackingRegressor: StackingRegressor.fromJSON,
    XGBClassifier: XGBClassifier.fromJSON,
    XGBRegressor: XGBRegressor.fromJSON,
  };
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
  const restore = typeof estimator === "string" ? restorers()[estimator] : undefined;
  if (restore === undefined) {
    throw new RangeError(
      `Expected "${name}" to name a known estimator but found ${show(estimator)}`,
    );
  }
  return restore(json);
}
