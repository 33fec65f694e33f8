/**
 * CART decision trees (scikit-learn 1.2): split criteria, the exact and histogram builders,
 * minimal cost-complexity pruning, and the two estimators.
 *
 * @module
 */
export { DecisionTreeClassifier } from "./decision_tree_classifier.ts";
export { DecisionTreeRegressor } from "./decision_tree_regressor.ts";
export type { DecisionTreeOptions, TreeFitOptions } from "./_decision_tree.ts";
