/**
 * The base of BaggingClassifier and BaggingRegressor (Breiman 1996; random subspaces, Ho 1998),
 * as scikit-learn's: every estimator is a clone of the base fitted on a random sample of the
 * rows (drawn with replacement by default, passed as sample weights = draw counts) and of the
 * features; the ensemble averages their probabilities or predictions. Estimator i draws from
 * its own stream of the seed.
 *
 * @module
 */
import type { Matrix, Tensor } from "../../tensor.ts";
import { Rng } from "../../_random.ts";
import { show } from "../../_validate.ts";
import { roundFitter, seededClone } from "./_ada_boost.ts";
import { checkEstimator, type Estimator } from "../../estimators/_clone.ts";
import { encodeWith, type Features, toLabels, toWeights } from "../../estimators/_input.ts";
import {
  asTensor,
  checkNested,
  classesFrom,
  features,
  MetaEstimator,
  restoreList,
  type Restorer,
  selectColumns,
  selectRows,
  uniformDrawCounts,
} from "./_meta.ts";
import {
  countFrom,
  finiteFrom,
  integerList,
  type ParamTable,
  type Resolved,
} from "../../estimators/_params.ts";
import { checkFitOptions, type EnsembleFitOptions, fitWatch } from "../_tree_options.ts";

/** Options of the bagging estimators (scikit-learn's names in camelCase). */
export interface BaggingOptions {
  /** The base estimator, an unfitted template (default: a decision tree). */
  estimator?: Estimator;
  /** Estimators (default 10). */
  nEstimators?: number;
  /** Rows per estimator: a count ≥ 2 or a fraction in (0, 1] (default 1: n rows). */
  maxSamples?: number;
  /** Features per estimator: a count ≥ 2 or a fraction in (0, 1] (default 1: all). */
  maxFeatures?: number;
  /** Draw rows with replacement (default true). */
  bootstrap?: boolean;
  /** Draw features with replacement (default false). */
  bootstrapFeatures?: boolean;
  /** Score each row on the estimators that did not draw it (default false). */
  oobScore?: boolean;
  /** Seed of the draws and of the estimators' seeds (default 0). */
  seed?: number;
}

export interface BaggingState {
  estimators: Estimator[];
  /** The feature columns each estimator was fitted on. */
  features: Int32Array[];
  nFeatures: number;
  classes: Float64Array | null;
  oobScore: number | null;
}

type BaggingParams = Resolved<BaggingOptions, "estimator">;

function countOrFraction(name: string, value: unknown): void {
  const ok = typeof value === "number" && Number.isFinite(value) &&
    ((Number.isInteger(value) && value >= 1) || (value > 0 && value <= 1));
  if (!ok) {
    throw new RangeError(
      `Expected "${name}" to be an integer >= 2 or a fraction in (0, 1] but found ${show(value)}`,
    );
  }
}

/** A count ≥ 2 as is, a fraction of `total` (at least 1); refuses more than `total`. */
function resolveCount(name: string, value: number, total: number): number {
  const count = Number.isInteger(value) && value > 1
    ? value
    : Math.max(1, Math.floor(value * total));
  if (count > total) {
    throw new RangeError(`Expected "${name}" to be at most ${total} but found ${value}`);
  }
  return count;
}

export abstract class BaggingBase extends MetaEstimator<BaggingOptions, BaggingState> {
  constructor(options: BaggingOptions) {
    super(options);
  }

  /** The default base estimator. */
  protected abstract defaultEstimator(): Estimator;
  /** Checks labels; classes for classifiers, null for regressors. */
  protected abstract prepareTargets(y: Float64Array): Float64Array | null;
  /**
   * Adds one estimator's output for the rows of `x` to `sums` (n × width), at rows `rows` (or
   * in order).
   */
  protected abstract addOutput(
    estimator: Estimator,
    x: Tensor,
    sums: Float64Array,
    rows: ArrayLike<number> | null,
    classes: Float64Array | null,
  ): Promise<void>;
  /** The OOB score from summed OOB outputs (accuracy or R²). */
  protected abstract scoreOob(
    y: Float64Array,
    sums: Float64Array,
    counts: Float64Array,
    classes: Float64Array | null,
  ): number;

  protected paramTable(): ParamTable {
    return {
      estimator: {
        default: undefined,
        rule: { kind: "custom", check: (n, v) => checkEstimator(n, v) },
      },
      nEstimators: { default: 10, rule: { kind: "int", min: 1 } },
      maxSamples: { default: 1, rule: { kind: "custom", check: countOrFraction } },
      maxFeatures: { default: 1, rule: { kind: "custom", check: countOrFraction } },
      bootstrap: { default: true, rule: { kind: "boolean" } },
      bootstrapFeatures: { default: false, rule: { kind: "boolean" } },
      oobScore: { default: false, rule: { kind: "boolean" } },
      seed: { default: 0, rule: { kind: "int", min: 0, max: 2 ** 32 - 1 } },
    };
  }

  /** Width of the summed outputs (classes, or 1). */
  protected width(classes: Float64Array | null): number {
    return classes === null ? 1 : classes.length;
  }

  /**
   * Fits the estimators; the previous fitted state stays until this succeeds.
   *
   * @param X Rows of features (NaN = missing, where the base estimator allows it).
   * @param y One label or target per row.
   * @param opts `sampleWeight` (multiplies the draw counts), `onProgress`, `signal`.
   * @returns This estimator, fitted.
   * @throws {TypeError} When an argument has the wrong type.
   * @throws {RangeError} On bad input or options.
   */
  async fit(X: Matrix, y: ArrayLike<number>, opts: EnsembleFitOptions = {}): Promise<this> {
    checkFitOptions(opts);
    const p = this.resolvedOptions() as BaggingParams;
    const x = features("X", X);
    const labels = toLabels("y", y, x.rows);
    const classes = this.prepareTargets(labels);
    const given = toWeights("sampleWeight", opts.sampleWeight, x.rows);
    if (p.oobScore && !p.bootstrap) {
      throw new RangeError(`Expected "oobScore" to be false when "bootstrap" is false`);
    }
    const nSamples = resolveCount("maxSamples", p.maxSamples, x.rows);
    const nFeatures = resolveCount("maxFeatures", p.maxFeatures, x.cols);
    const template = p.estimator ?? this.defaultEstimator();
    const allFeatures = nFeatures === x.cols && !p.bootstrapFeatures;
    // Every estimator on all features: one round fitter (for trees: bins cut once).
    const shared = allFeatures
      ? roundFitter(
        template,
        x,
        labels,
        {
          y: classes === null ? labels : encodeWith("y", labels, classes),
          nClasses: classes === null ? 0 : classes.length,
          classes,
        },
        p.seed,
        false,
      )
      : null;
    const width = this.width(classes);
    const oob = p.oobScore
      ? { sums: new Float64Array(x.rows * width), counts: new Float64Array(x.rows) }
      : null;
    const estimators: Estimator[] = [], columns: Int32Array[] = [];
    const watch = fitWatch(opts);
    try {
      for (let i = 0; i < p.nEstimators; i++) {
        await watch.check();
        const rng = new Rng(p.seed, i + 1);
        const cols = p.bootstrapFeatures
          ? Int32Array.from({ length: nFeatures }, () => rng.nextInt(x.cols))
          : rng.sampleIndices(x.cols, nFeatures);
        const counts = p.bootstrap
          ? uniformDrawCounts(rng, x.rows, nSamples)
          : indicator(rng.sampleIndices(x.rows, nSamples), x.rows);
        const weights = given === null ? counts : counts.map((c, r) => c * given[r]);
        let estimator: Estimator;
        if (shared !== null) {
          estimator = (await shared.fit(i, weights)).estimator;
        } else {
          estimator = seededClone(template, p.seed, i);
          await estimator.fit(asTensor(selectColumns(x, cols)), labels, { sampleWeight: weights });
        }
        estimators.push(estimator);
        columns.push(cols);
        if (oob !== null) await this.#addOob(estimator, x, { cols, counts, classes }, oob);
        opts.onProgress?.({ iteration: i + 1, total: p.nEstimators });
      }
    } finally {
      shared?.release();
    }
    this.state = {
      estimators,
      features: columns,
      nFeatures: x.cols,
      classes,
      oobScore: oob === null ? null : this.scoreOob(labels, oob.sums, oob.counts, classes),
    };
    return this;
  }

  async #addOob(
    estimator: Estimator,
    x: Features,
    draw: { cols: Int32Array; counts: Float64Array; classes: Float64Array | null },
    oob: { sums: Float64Array; counts: Float64Array },
  ): Promise<void> {
    const { cols, counts, classes } = draw;
    const rows: number[] = [];
    counts.forEach((c, r) => {
      if (c === 0) rows.push(r);
    });
    if (rows.length === 0) return;
    const sub = selectColumns(selectRows(x, rows), cols);
    await this.addOutput(estimator, asTensor(sub), oob.sums, rows, classes);
    for (const r of rows) oob.counts[r]++;
  }

  /** The estimators' outputs on X, averaged: [n, width]. */
  protected async averaged(X: Matrix): Promise<{ sums: Float64Array; rows: number }> {
    const s = this.fitted();
    const x = features("X", X, s.nFeatures);
    const sums = new Float64Array(x.rows * this.width(s.classes));
    for (let i = 0; i < s.estimators.length; i++) {
      const sub = asTensor(selectColumns(x, s.features[i]));
      await this.addOutput(s.estimators[i], sub, sums, null, s.classes);
    }
    for (let j = 0; j < sums.length; j++) sums[j] /= s.estimators.length;
    return { sums, rows: x.rows };
  }

  /** Out-of-bag accuracy (classifiers) or R² (regressors) of the last fit with `oobScore`. */
  get oobScore(): number {
    const score = this.fitted().oobScore;
    if (score === null) {
      throw new RangeError(`Expected the estimator to be fitted with "oobScore: true"`);
    }
    return score;
  }

  /** The fitted estimators. */
  get estimators(): Estimator[] {
    return [...this.fitted().estimators];
  }

  /** The feature columns of each estimator. */
  get estimatorsFeatures(): Int32Array[] {
    return this.fitted().features.map((f) => f.slice());
  }

  protected stateToJSON(s: BaggingState): Record<string, unknown> {
    return {
      estimators: s.estimators.map((e) => e.toJSON()),
      features: s.features.map((f) => Array.from(f)),
      nFeatures: s.nFeatures,
      classes: s.classes === null ? null : Array.from(s.classes),
      oobScore: s.oobScore,
    };
  }

  protected stateFromJSON(f: Record<string, unknown>, restore: Restorer): BaggingState {
    const estimators = restoreList("json.fitted.estimators", f.estimators, restore);
    const nFeatures = countFrom("json.fitted.nFeatures", f.nFeatures);
    if (!Array.isArray(f.features) || f.features.length !== estimators.length) {
      throw new RangeError(`Expected "json.fitted.features" to list one array per estimator`);
    }
    const columns = Array.from(f.features, (c, i) => {
      const list = integerList(`json.fitted.features[${i}]`, c, 0, nFeatures - 1);
      checkNested(`json.fitted.estimators[${i}]`, estimators[i], list.length);
      return Int32Array.from(list);
    });
    return {
      estimators,
      features: columns,
      nFeatures,
      classes: classesFrom(f.classes),
      oobScore: f.oobScore === null || f.oobScore === undefined
        ? null
        : finiteFrom("json.fitted.oobScore", f.oobScore),
    };
  }
}

/** 1 for the listed rows, 0 elsewhere. */
function indicator(rows: Int32Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (const r of rows) out[r] = 1;
  return out;
}
