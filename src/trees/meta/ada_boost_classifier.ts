/**
 * @module
 */
import type { Matrix, Tensor } from "../../tensor.ts";
import { Rng } from "../../_random.ts";
import {
  AdaBoostBase,
  type AdaBoostOptions,
  adaBoostParamTable,
  type AdaBoostState,
  roundFitter,
} from "./_ada_boost.ts";
import { encodeClasses, toLabels, toWeights } from "../../estimators/_input.ts";
import { features, type Restorer, weightedDrawCounts } from "./_meta.ts";
import type { ParamTable } from "../../estimators/_params.ts";
import { registerEstimator, restoreEstimator } from "../../estimators/_registry.ts";
import { checkFitOptions, type EnsembleFitOptions } from "../_tree_options.ts";
import { argmaxClasses } from "../cart/decision_tree_classifier.ts";
import { DecisionTreeClassifier } from "../cart/decision_tree_classifier.ts";

/** Options of AdaBoostClassifier. */
export interface AdaBoostClassifierOptions extends AdaBoostOptions {
  /**
   * Fit each round on n rows drawn with probabilities ∝ the sample weights (passed to the base
   * as draw counts) instead of on the weights themselves (default false).
   */
  resample?: boolean;
}

/**
 * AdaBoost for classification with SAMME (Zhu, Zou, Rosset & Hastie 2009, "Multi-class
 * AdaBoost", Algorithm 2), as scikit-learn's `algorithm="SAMME"`: each round fits the base
 * estimator to the weighted rows; with e_m its weighted error over K classes its vote weight
 * is α_m = learningRate · (ln((1 − e_m)/e_m) + ln(K − 1)), and the weights of the rows it got
 * wrong grow by e^α_m (then all are renormalised). Predictions take the class of largest total
 * α. Any estimator of this library serves as the base (default: a depth-1 decision tree).
 *
 * Boosting stops early, as scikit-learn's does: after a perfect estimator (e_m = 0: it is kept
 * with weight 1 and error 0), or before keeping an estimator no better than chance
 * (e_m ≥ 1 − 1/K), which is dropped; a first estimator that bad is an error.
 *
 * @example
 * ```ts
 * import { AdaBoostClassifier } from "./mod.ts";
 * const X = Array.from({ length: 40 }, (_, i) => [i % 8, Math.floor(i / 8)]);
 * const y = X.map(([a, b]) => (a + b > 6 ? 1 : 0));
 * const model = await new AdaBoostClassifier({ nEstimators: 30 }).fit(X, y);
 * const labels = await model.predict([[0, 0], [7, 4]]);
 * if (labels.join() !== "0,1") throw new Error(`got ${labels}`);
 * ```
 */
export class AdaBoostClassifier extends AdaBoostBase<AdaBoostClassifierOptions> {
  /**
   * Stores the options; `fit` checks them.
   *
   * @param options See AdaBoostClassifierOptions.
   */
  constructor(options: AdaBoostClassifierOptions = {}) {
    super(options);
  }

  protected get estimatorName(): string {
    return "AdaBoostClassifier";
  }

  protected paramTable(): ParamTable {
    return { ...adaBoostParamTable(), resample: { default: false, rule: { kind: "boolean" } } };
  }

  /** The sorted class labels seen at fit. */
  get classes(): Float64Array {
    return this.fitted().classes!.slice();
  }

  /**
   * Boosts the base estimator; the previous fitted state stays until this succeeds.
   *
   * @param X Rows of features (NaN = missing, where the base estimator allows it).
   * @param y One label per row, at least two distinct values.
   * @param opts `sampleWeight` (initial weights), `onProgress` (after each round), `signal`.
   * @returns This estimator, fitted.
   * @throws {TypeError} When an argument has the wrong type.
   * @throws {RangeError} On bad input or options, or when the first estimator is no better
   *   than chance.
   */
  async fit(X: Matrix, y: ArrayLike<number>, opts: EnsembleFitOptions = {}): Promise<this> {
    checkFitOptions(opts);
    const p = this.resolvedOptions() as Required<AdaBoostClassifierOptions>;
    const x = features("X", X);
    const labels = toLabels("y", y, x.rows);
    const { classes, encoded } = encodeClasses("y", labels);
    // Estimators predict float32 labels.
    const expected = Float32Array.from(labels);
    const K = classes.length;
    const given = toWeights("sampleWeight", opts.sampleWeight, x.rows);
    const template = p.estimator ?? new DecisionTreeClassifier({ maxDepth: 1 });
    const w = normalised(given ?? new Float64Array(x.rows).fill(1));
    const resampler = new Rng(p.seed, 0);
    const rounds = roundFitter(template, x, labels, { y: encoded, nClasses: K, classes }, p.seed);
    await this.boostRounds(
      rounds,
      async (m) => {
        const fitWeights = p.resample ? weightedDrawCounts(resampler, w, x.rows) : w;
        const { estimator, predicted } = await rounds.fit(m, fitWeights);
        let error = 0, total = 0;
        for (let r = 0; r < x.rows; r++) {
          total += w[r];
          if (predicted[r] !== expected[r]) error += w[r];
        }
        error /= total;
        if (error <= 0) return { kept: { estimator, weight: 1, error: 0 }, reweight: null };
        if (error >= 1 - 1 / K) {
          if (m === 0) {
            throw new RangeError(
              `Expected the base estimator to beat chance (weighted error below ${
                1 - 1 / K
              }) but its first fit erred on ${error} of the weight; AdaBoostClassifier cannot be fitted`,
            );
          }
          return { kept: null, reweight: null };
        }
        const alpha = p.learningRate * (Math.log((1 - error) / error) + Math.log(K - 1));
        const reweight = () => {
          let sum = 0;
          for (let r = 0; r < x.rows; r++) {
            if (predicted[r] !== expected[r] && w[r] > 0) w[r] = Math.exp(Math.log(w[r]) + alpha);
            sum += w[r];
          }
          if (!(sum > 0) || !Number.isFinite(sum)) return false;
          for (let r = 0; r < x.rows; r++) w[r] /= sum;
          return true;
        };
        return { kept: { estimator, weight: alpha, error }, reweight };
      },
      { nEstimators: p.nEstimators, opts },
      { nFeatures: x.cols, classes },
    );
    return this;
  }

  /**
   * SAMME's decision after each round: per class, the summed weights of the estimators that
   * chose it over the summed weights so far ([n, classes]); for two classes one column, the
   * second class's share minus the first's.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async stagedDecisionFunction(X: Matrix): Promise<Tensor[]> {
    return await this.#decisions(X, true);
  }

  /** SAMME's decision after every round (`staged`) or after the last only. */
  async #decisions(X: Matrix, staged: boolean): Promise<Tensor[]> {
    const s = this.fitted();
    const { each, rows } = await this.predictions(X);
    const K = s.classes!.length;
    const classes = Float32Array.from(s.classes!); // predictions are float32 class values
    const votes = new Float64Array(rows * K);
    const out: Tensor[] = [];
    let norm = 0;
    each.forEach((predicted, m) => {
      const alpha = s.estimatorWeights[m];
      norm += alpha;
      // Predictions repeat a few values: look the class up only when the value changes.
      let last = NaN, k = -1;
      for (let r = 0; r < rows; r++) {
        const v = predicted[r];
        if (v !== last) {
          last = v;
          k = classes.indexOf(v);
        }
        if (k >= 0) votes[r * K + k] += alpha;
      }
      if (!staged && m < each.length - 1) return;
      if (K === 2) {
        const data = new Float32Array(rows);
        for (let r = 0; r < rows; r++) data[r] = (votes[2 * r + 1] - votes[2 * r]) / norm;
        out.push({ data, shape: [rows] });
      } else {
        out.push({ data: Float32Array.from(votes, (v) => v / norm), shape: [rows, K] });
      }
    });
    return out;
  }

  /**
   * The decision of the whole ensemble (see stagedDecisionFunction).
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async decisionFunction(X: Matrix): Promise<Tensor> {
    return (await this.#decisions(X, false))[0];
  }

  /**
   * Class probabilities from the decision, as scikit-learn's SAMME: softmax of decision/(K − 1),
   * or of (−d/2, d/2) for two classes.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async predictProba(X: Matrix): Promise<Tensor> {
    return probaFromDecision(await this.decisionFunction(X), this.fitted().classes!.length);
  }

  /**
   * Probabilities after each round.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async stagedPredictProba(X: Matrix): Promise<Tensor[]> {
    const K = this.fitted().classes!.length;
    return (await this.stagedDecisionFunction(X)).map((d) => probaFromDecision(d, K));
  }

  /**
   * The class of largest weighted vote (the first on a tie).
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async predict(X: Matrix): Promise<Float32Array> {
    return argmaxClasses(await this.predictProba(X), this.fitted().classes!);
  }

  /**
   * Predicted classes after each round: element m uses the first m + 1 estimators.
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async stagedPredict(X: Matrix): Promise<Float32Array[]> {
    const classes = this.fitted().classes!;
    return (await this.stagedPredictProba(X)).map((p) => argmaxClasses(p, classes));
  }

  protected override stateFromJSON(
    f: Record<string, unknown>,
    restore: Restorer,
  ): AdaBoostState {
    const state = super.stateFromJSON(f, restore);
    if (state.classes === null || state.classes.length < 2) {
      throw new RangeError(`Expected "json.fitted.classes" to hold at least two classes`);
    }
    return state;
  }

  /** Restores an estimator written by `toJSON()`. */
  static fromJSON(json: object): AdaBoostClassifier {
    return new AdaBoostClassifier().restore(json, restoreEstimator);
  }
}

function normalised(w: Float64Array): Float64Array {
  let total = 0;
  for (const v of w) total += v;
  return w.map((v) => v / total);
}

/** Softmax of the SAMME decision scaled as scikit-learn scales it. */
function probaFromDecision(decision: Tensor, K: number): Tensor {
  const rows = decision.shape[0];
  const data = new Float32Array(rows * K);
  const z = new Float64Array(K);
  for (let r = 0; r < rows; r++) {
    if (K === 2) {
      z[0] = -decision.data[r] / 2;
      z[1] = decision.data[r] / 2;
    } else {
      for (let k = 0; k < K; k++) z[k] = decision.data[r * K + k] / (K - 1);
    }
    let top = -Infinity, sum = 0;
    for (let k = 0; k < K; k++) top = Math.max(top, z[k]);
    for (let k = 0; k < K; k++) sum += Math.exp(z[k] - top);
    for (let k = 0; k < K; k++) data[r * K + k] = Math.exp(z[k] - top) / sum;
  }
  return { data, shape: [rows, K] };
}

registerEstimator("AdaBoostClassifier", AdaBoostClassifier.fromJSON);
