/**
 * Explanations of tree ensembles: exact TreeSHAP values and SHAP interaction values, reached
 * through every tree estimator's `predictContributions` and `predictInteractions`.
 *
 * @module
 */
export { shapInteractions, shapValues } from "./_tree_shap.ts";
