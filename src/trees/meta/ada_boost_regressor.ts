/**
 * @module
 */
import type { Matrix } from "../../tensor.ts";
import { Rng } from "../../_random.ts";
import {
  AdaBoostBase,
  type AdaBoostOptions,
  adaBoostParamTable,
  roundFitter,
} from "./_ada_boost.ts";
import { toLabels, toWeights } from "../../estimators/_input.ts";
import { features, weightedDrawCounts } from "./_meta.ts";
import type { ParamTable } from "../../estimators/_params.ts";
import { registerEstimator, restoreEstimator } from "../../estimators/_registry.ts";
import { checkFitOptions, type EnsembleFitOptions } from "../_tree_options.ts";
import { DecisionTreeRegressor } from "../cart/decision_tree_regressor.ts";

/** Losses of AdaBoost.R2, on errors scaled by the largest one to [0, 1]. */
export const R2_LOSSES = ["linear", "square", "exponential"] as const;

/** Options of AdaBoostRegressor. */
export interface AdaBoostRegressorOptions extends AdaBoostOptions {
  /** `"linear"` (default), `"square"` or `"exponential"`. */
  loss?: (typeof R2_LOSSES)[number];
}

/**
 * AdaBoost.R2 (Drucker 1997, "Improving Regressors using Boosting Techniques"), as
 * scikit-learn's AdaBoostRegressor: each round fits the base estimator to n rows drawn with
 * probabilities ∝ the sample weights (passed as draw counts), scores every row's error scaled
 * to [0, 1] by the largest (linear, squared or 1 − e^−x), and with L̄ the weighted mean loss and
 * β = L̄/(1 − L̄) gives the estimator the weight learningRate · ln(1/β) and multiplies each row's
 * weight by β^((1 − loss)·learningRate). Predictions are the weighted median of the estimators'.
 *
 * Boosting stops early, as scikit-learn's does: after a perfect estimator (L̄ = 0, kept with
 * weight 1), or when L̄ ≥ 0.5 (that estimator is dropped unless it is the first, which is then
 * kept with weight 1 as the whole ensemble).
 *
 * @example
 * ```ts
 * import { AdaBoostRegressor } from "./mod.ts";
 * const X = Array.from({ length: 50 }, (_, i) => [i / 10]);
 * const y = X.map(([v]) => v * v);
 * const model = await new AdaBoostRegressor({ nEstimators: 20, seed: 1 }).fit(X, y);
 * const [out] = await model.predict([[3]]);
 * if (Math.abs(out - 9) > 1.5) throw new Error(`got ${out}`);
 * ```
 */
export class AdaBoostRegressor extends AdaBoostBase<AdaBoostRegressorOptions> {
  /**
   * Stores the options; `fit` checks them.
   *
   * @param options See AdaBoostRegressorOptions.
   */
  constructor(options: AdaBoostRegressorOptions = {}) {
    super(options);
  }

  protected get estimatorName(): string {
    return "AdaBoostRegressor";
  }

  protected paramTable(): ParamTable {
    return {
      ...adaBoostParamTable(),
      loss: { default: "linear", rule: { kind: "choice", choices: R2_LOSSES } },
    };
  }

  /**
   * Boosts the base estimator; the previous fitted state stays until this succeeds.
   *
   * @param X Rows of features (NaN = missing, where the base estimator allows it).
   * @param y One finite target per row.
   * @param opts `sampleWeight` (initial weights), `onProgress` (after each round), `signal`.
   * @returns This estimator, fitted.
   * @throws {TypeError} When an argument has the wrong type.
   * @throws {RangeError} On bad input or options.
   */
  async fit(X: Matrix, y: ArrayLike<number>, opts: EnsembleFitOptions = {}): Promise<this> {
    checkFitOptions(opts);
    const p = this.resolvedOptions() as Required<AdaBoostRegressorOptions>;
    const x = features("X", X);
    const target = toLabels("y", y, x.rows);
    const given = toWeights("sampleWeight", opts.sampleWeight, x.rows);
    const template = p.estimator ?? new DecisionTreeRegressor({ maxDepth: 3 });
    const w = given ?? new Float64Array(x.rows).fill(1);
    scale(w);
    const resampler = new Rng(p.seed, 0);
    const rounds = roundFitter(
      template,
      x,
      target,
      { y: target, nClasses: 0, classes: null },
      p.seed,
    );
    const loss = new Float64Array(x.rows);
    await this.boostRounds(
      rounds,
      async (m) => {
        const counts = weightedDrawCounts(resampler, w, x.rows);
        const { estimator, predicted } = await rounds.fit(m, counts);
        let largest = 0;
        for (let r = 0; r < x.rows; r++) {
          loss[r] = Math.abs(predicted[r] - target[r]);
          if (w[r] > 0 && loss[r] > largest) largest = loss[r];
        }
        let average = 0;
        for (let r = 0; r < x.rows; r++) {
          let l = largest !== 0 ? loss[r] / largest : loss[r];
          if (p.loss === "square") l *= l;
          else if (p.loss === "exponential") l = 1 - Math.exp(-l);
          loss[r] = l;
          if (w[r] > 0) average += w[r] * l;
        }
        if (average <= 0) return { kept: { estimator, weight: 1, error: 0 }, reweight: null };
        if (average >= 0.5) {
          // Only a first estimator this bad is kept, as the whole ensemble.
          return {
            kept: m === 0 ? { estimator, weight: 1, error: average } : null,
            reweight: null,
          };
        }
        const beta = average / (1 - average);
        const reweight = () => {
          for (let r = 0; r < x.rows; r++) {
            if (w[r] > 0) w[r] *= Math.pow(beta, (1 - loss[r]) * p.learningRate);
          }
          return scale(w);
        };
        return {
          kept: { estimator, weight: p.learningRate * Math.log(1 / beta), error: average },
          reweight,
        };
      },
      { nEstimators: p.nEstimators, opts },
      { nFeatures: x.cols, classes: null },
    );
    return this;
  }

  /**
   * The weighted median of the estimators' predictions: per row, the smallest prediction whose
   * estimators (in order of prediction) reach half the total weight.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async predict(X: Matrix): Promise<Float32Array> {
    const { each, rows } = await this.predictions(X);
    return weightedMedian(each, this.fitted().estimatorWeights, rows);
  }

  /**
   * Predictions after each round: element m is the weighted median of the first m + 1
   * estimators.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async stagedPredict(X: Matrix): Promise<Float32Array[]> {
    const s = this.fitted();
    const { each, rows } = await this.predictions(X);
    const out: Float32Array[] = [];
    for (let m = 1; m <= each.length; m++) {
      out.push(weightedMedian(each.slice(0, m), s.estimatorWeights, rows));
    }
    return out;
  }

  /** Restores an estimator written by `toJSON()`. */
  static fromJSON(json: object): AdaBoostRegressor {
    return new AdaBoostRegressor().restore(json, restoreEstimator);
  }
}

/** Scales weights to sum to 1; false when their sum is not positive and finite. */
function scale(w: Float64Array): boolean {
  let total = 0;
  for (const v of w) total += v;
  if (!(total > 0) || !Number.isFinite(total)) return false;
  for (let i = 0; i < w.length; i++) w[i] /= total;
  return true;
}

/** Per row, scikit-learn's weighted median of the estimators' predictions. */
function weightedMedian(each: Float32Array[], weights: Float64Array, rows: number): Float32Array {
  const out = new Float32Array(rows);
  const order = Array.from({ length: each.length }, (_, m) => m);
  for (let r = 0; r < rows; r++) {
    // Equal predictions may come in any order: the median is the same value either way.
    order.sort((a, b) => each[a][r] - each[b][r] || a - b);
    let total = 0;
    for (const m of order) total += weights[m];
    let cumulative = 0;
    out[r] = each[order[order.length - 1]][r];
    for (const m of order) {
      cumulative += weights[m];
      if (cumulative >= 0.5 * total) {
        out[r] = each[m][r];
        break;
      }
    }
  }
  return out;
}

registerEstimator("AdaBoostRegressor", AdaBoostRegressor.fromJSON);
