/**
 * What AdaBoostClassifier (SAMME) and AdaBoostRegressor (AdaBoost.R2) share: options, the
 * fitted state (estimators, their weights and errors), and the round fitter, which fits round
 * m's clone of the base estimator with the current sample weights and returns its predictions
 * on the training rows.
 *
 * With one of this library's decision trees as the base (the default), the rows are checked and
 * binned once for all rounds and each round only grows a tree: the same trees a clone's `fit`
 * would grow, except that hist bins are cut once, from the initial weights.
 *
 * @module
 */
import type { Matrix, Tensor } from "../../tensor.ts";
import { Rng } from "../../_random.ts";
import { checkEstimator, clone, type Estimator } from "../../estimators/_clone.ts";
import {
  adoptTree,
  DecisionTreeBase,
  type TreeFitter,
  treeFitterFor,
  treePredictions,
} from "../cart/_decision_tree.ts";
import type { Features } from "../../estimators/_input.ts";
import {
  asTensor,
  checkNested,
  classesFrom,
  features,
  MetaEstimator,
  restoreList,
  type Restorer,
} from "./_meta.ts";
import { countFrom, numberList, type ParamTable } from "../../estimators/_params.ts";
import { TreeEstimator } from "../_estimator.ts";
import { type EnsembleFitOptions, fitWatch } from "../_tree_options.ts";

/** Options of the AdaBoost estimators (scikit-learn's names in camelCase). */
export interface AdaBoostOptions {
  /** The base estimator, an unfitted template cloned every round (default: a depth-1 tree classifier, a depth-3 tree regressor). */
  estimator?: Estimator;
  /** Most boosting rounds (default 50). */
  nEstimators?: number;
  /** Shrinks every estimator weight (default 1). */
  learningRate?: number;
  /** Seed of the base estimators' seeds and of resampling (default 0). */
  seed?: number;
}

export interface AdaBoostState {
  estimators: Estimator[];
  estimatorWeights: Float64Array;
  estimatorErrors: Float64Array;
  nFeatures: number;
  classes: Float64Array | null;
}

/** The options shared by both estimators' tables. */
export function adaBoostParamTable(): ParamTable {
  return {
    estimator: {
      default: undefined,
      rule: { kind: "custom", check: (n, v) => checkEstimator(n, v) },
    },
    nEstimators: { default: 50, rule: { kind: "int", min: 1 } },
    learningRate: { default: 1, rule: { kind: "number", min: 0, minExclusive: true } },
    seed: { default: 0, rule: { kind: "int", min: 0, max: 2 ** 32 - 1 } },
  };
}

/** The seed of round m's estimator. */
export function roundSeed(seed: number, round: number): number {
  return new Rng(seed, round + 1).nextU32();
}

/** Whether an estimator takes a `seed` option. */
function acceptsSeed(e: Estimator): boolean {
  return e instanceof TreeEstimator || (e instanceof MetaEstimator && e.acceptsSeed);
}

/** A clone of `template` whose seed (when it has one) is round m's. */
export function seededClone<E extends Estimator>(template: E, seed: number, round: number): E {
  return acceptsSeed(template)
    ? clone(template, { seed: roundSeed(seed, round) })
    : clone(template);
}

/** Fits one round's estimator; its training predictions come back with it (when asked for). */
export interface RoundFitter {
  fit(
    round: number,
    weights: Float64Array,
  ): Promise<{ estimator: Estimator; predicted: Float32Array }>;
  release(): void;
}

/**
 * The round fitter for a template on (x, y): the decision-tree path or any estimator's
 * `fit` / `predict`.
 *
 * @param targets Class indices (nClasses ≥ 2) or targets (nClasses 0) for the tree path.
 */
export function roundFitter(
  template: Estimator,
  x: Features,
  y: Float64Array,
  targets: { y: Float64Array; nClasses: number; classes: Float64Array | null },
  seed: number,
  predictTraining = true,
): RoundFitter {
  if (template instanceof DecisionTreeBase) {
    let fitter: TreeFitter | null = null;
    return {
      async fit(round, weights) {
        fitter ??= treeFitterFor(template, x, { y: targets.y, nClasses: targets.nClasses }, null);
        const estimator = seededClone(template, seed, round);
        const cart = await fitter.fit(weights, (estimator.options.seed ?? 0) as number);
        adoptTree(estimator, cart, targets.classes);
        const predicted = predictTraining ? treePredictions(estimator, x) : new Float32Array(0);
        return { estimator, predicted };
      },
      release: () => fitter?.release(),
    };
  }
  const X = asTensor(x);
  return {
    async fit(round, weights) {
      const estimator = seededClone(template, seed, round);
      await estimator.fit(X, y, { sampleWeight: weights });
      return {
        estimator,
        predicted: predictTraining ? await estimator.predict(X) : new Float32Array(0),
      };
    },
    release: () => {},
  };
}

/**
 * What one boosting round made of its estimator: kept with a vote weight and an error, or
 * dropped (null); and how the rows are reweighted for the next round (false: stop), or null to
 * stop now.
 */
export interface RoundOutcome {
  kept: { estimator: Estimator; weight: number; error: number } | null;
  reweight: (() => boolean) | null;
}

/** The base of both AdaBoost estimators. */
export abstract class AdaBoostBase<O extends AdaBoostOptions>
  extends MetaEstimator<O, AdaBoostState> {
  constructor(options: O) {
    super(options);
  }

  /**
   * The boosting loop of SAMME and R2 alike: `round(m)` fits and weighs round m's estimator;
   * after a round that goes on, progress is reported and, unless it was the last round, the
   * rows are reweighted. Sets the fitted state; the previous one stays if a round throws.
   */
  protected async boostRounds(
    rounds: RoundFitter,
    round: (m: number) => Promise<RoundOutcome>,
    { nEstimators, opts }: { nEstimators: number; opts: EnsembleFitOptions },
    fitted: { nFeatures: number; classes: Float64Array | null },
  ): Promise<void> {
    const estimators: Estimator[] = [], weights: number[] = [], errors: number[] = [];
    const watch = fitWatch(opts);
    try {
      for (let m = 0; m < nEstimators; m++) {
        await watch.check();
        const { kept, reweight } = await round(m);
        if (kept !== null) {
          estimators.push(kept.estimator);
          weights.push(kept.weight);
          errors.push(kept.error);
        }
        if (reweight === null) break;
        opts.onProgress?.({ iteration: m + 1, total: nEstimators });
        if (m === nEstimators - 1 || !reweight()) break;
      }
    } finally {
      rounds.release();
    }
    this.state = {
      estimators,
      estimatorWeights: Float64Array.from(weights),
      estimatorErrors: Float64Array.from(errors),
      ...fitted,
    };
  }

  /** The fitted estimators, in boosting order. */
  get estimators(): Estimator[] {
    return [...this.fitted().estimators];
  }

  /** Each estimator's weight in the vote (α for SAMME, ln(1/β) for R2, times learningRate). */
  get estimatorWeights(): Float64Array {
    return this.fitted().estimatorWeights.slice();
  }

  /** Each estimator's weighted training error (SAMME) or average loss (R2). */
  get estimatorErrors(): Float64Array {
    return this.fitted().estimatorErrors.slice();
  }

  /**
   * The estimators' feature importances averaged with their weights (estimators must have
   * `featureImportances`).
   */
  get featureImportances(): Float32Array {
    const s = this.fitted();
    const out = new Float64Array(s.nFeatures);
    let total = 0;
    s.estimators.forEach((e, m) => {
      const imp = (e as { featureImportances?: Float32Array }).featureImportances;
      if (imp === undefined) {
        throw new RangeError(`Expected the base estimators to have featureImportances`);
      }
      for (let f = 0; f < out.length; f++) out[f] += s.estimatorWeights[m] * imp[f];
      total += s.estimatorWeights[m];
    });
    return Float32Array.from(out, (v) => (total > 0 ? v / total : 0));
  }

  /** Every estimator's predictions on X (checked once). */
  protected async predictions(X: Matrix): Promise<{ each: Float32Array[]; rows: number }> {
    const s = this.fitted();
    const x = features("X", X, s.nFeatures);
    const tensor: Tensor = asTensor(x);
    const each: Float32Array[] = [];
    for (const e of s.estimators) {
      each.push(e instanceof DecisionTreeBase ? treePredictions(e, x) : await e.predict(tensor));
    }
    return { each, rows: x.rows };
  }

  protected stateToJSON(s: AdaBoostState): Record<string, unknown> {
    return {
      estimators: s.estimators.map((e) => e.toJSON()),
      estimatorWeights: Array.from(s.estimatorWeights),
      estimatorErrors: Array.from(s.estimatorErrors),
      nFeatures: s.nFeatures,
      classes: s.classes === null ? null : Array.from(s.classes),
    };
  }

  protected stateFromJSON(f: Record<string, unknown>, restore: Restorer): AdaBoostState {
    const estimators = restoreList("json.fitted.estimators", f.estimators, restore);
    const m = estimators.length;
    const nFeatures = countFrom("json.fitted.nFeatures", f.nFeatures);
    estimators.forEach((e, i) => checkNested(`json.fitted.estimators[${i}]`, e, nFeatures));
    // Predictions divide by the running sum of the weights: each must be positive, all finite.
    const estimatorWeights = numberList("json.fitted.estimatorWeights", f.estimatorWeights, m);
    let total = 0;
    estimatorWeights.forEach((w, i) => {
      total += w;
      if (!(w > 0) || !Number.isFinite(total)) {
        throw new RangeError(
          `Expected "json.fitted.estimatorWeights[${i}]" to be positive with a finite sum but found ${w}`,
        );
      }
    });
    return {
      estimators,
      estimatorWeights,
      estimatorErrors: numberList("json.fitted.estimatorErrors", f.estimatorErrors, m),
      nFeatures,
      classes: classesFrom(f.classes),
    };
  }
}

export type { EnsembleFitOptions };
