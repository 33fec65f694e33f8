/**
 * Random forests (Breiman 2001, as scikit-learn 1.2): bootstrap rows, random feature subsets at
 * each split, trees grown in parallel batches.
 *
 * @module
 */
export { RandomForestClassifier } from "./random_forest_classifier.ts";
export { RandomForestRegressor } from "./random_forest_regressor.ts";
export type { ForestOptions } from "./_forest.ts";
