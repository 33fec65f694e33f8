/**
 * The base of StackingClassifier and StackingRegressor (Wolpert 1992, "Stacked
 * Generalization"), as scikit-learn's: the base estimators' K-fold out-of-fold predictions
 * (class probabilities for classifiers, the second class's only when there are two) become the
 * features of a final estimator; the base estimators are then refitted on all rows.
 *
 * ```
 *  fold k of cv:  clone(base j).fit(rows ∉ k) ──predict──► meta[rows ∈ k, columns of j]
 *  then:          base j refitted on all rows; final.fit([meta | X if passthrough], y)
 *  predict:       final.predict([base j outputs … | X])
 * ```
 *
 * @module
 */
import type { Matrix, Tensor } from "../../tensor.ts";
import { show } from "../../_validate.ts";
import { checkEstimator, clone, type Estimator, isEstimator } from "../../estimators/_clone.ts";
import { type Features, toLabels, toWeights } from "../../estimators/_input.ts";
import {
  asTensor,
  checkNested,
  classesFrom,
  features,
  kFold,
  MetaEstimator,
  restoreList,
  type Restorer,
  selectRows,
  stratifiedKFold,
} from "./_meta.ts";
import { countFrom, type ParamTable } from "../../estimators/_params.ts";
import { checkFitOptions, type EnsembleFitOptions, fitWatch } from "../_tree_options.ts";

/** Options of the stacking estimators. */
export interface StackingOptions {
  /** The base estimators (unfitted templates, cloned); at least one. */
  estimators?: Estimator[];
  /** Fitted on the base estimators' out-of-fold outputs (default: LogisticRegression() for classification, Ridge() for regression). */
  finalEstimator?: Estimator;
  /** Folds of the out-of-fold predictions, ≥ 2 (default 5). */
  cv?: number;
  /** Give the final estimator the original features too (default false). */
  passthrough?: boolean;
}

export interface StackingState {
  estimators: Estimator[];
  finalEstimator: Estimator;
  nFeatures: number;
  classes: Float64Array | null;
}

function checkEstimators(name: string, value: unknown): void {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(
      `Expected "${name}" to be a non-empty array of estimators but found ${show(value)}`,
    );
  }
  value.forEach((e, i) => checkEstimator(`${name}[${i}]`, e));
}

type StackingParams = Required<StackingOptions>;

export abstract class StackingBase extends MetaEstimator<StackingOptions, StackingState> {
  constructor(options: StackingOptions) {
    super(options);
  }

  /** The default final estimator. */
  protected abstract defaultFinal(): Estimator;
  /** Checks labels; sorted classes for classifiers, null for regressors. */
  protected abstract prepareTargets(y: Float64Array): Float64Array | null;

  protected paramTable(): ParamTable {
    return {
      estimators: { default: undefined, rule: { kind: "custom", check: checkEstimators } },
      finalEstimator: {
        default: undefined,
        rule: { kind: "custom", check: (n, v) => checkEstimator(n, v) },
      },
      cv: { default: 5, rule: { kind: "int", min: 2 } },
      passthrough: { default: false, rule: { kind: "boolean" } },
    };
  }

  /** Meta columns of one base estimator: probabilities (two classes: one) or predictions. */
  #columns(e: Estimator, classes: Float64Array | null): number {
    if (classes === null || typeof e.predictProba !== "function") return 1;
    return classes.length === 2 ? 1 : classes.length;
  }

  /**
   * Writes estimator e's outputs for the rows of `x` into columns [offset, offset + width) of
   * `meta` (rows `rows`, or in order; `stride` columns per row).
   */
  async #write(
    e: Estimator,
    x: Features,
    classes: Float64Array | null,
    out: { meta: Float32Array; stride: number; offset: number; rows: ArrayLike<number> | null },
  ): Promise<void> {
    const { meta, stride, offset, rows } = out;
    const at = (i: number) => (rows === null ? i : rows[i]) * stride + offset;
    if (classes === null || typeof e.predictProba !== "function") {
      const predicted = await e.predict(asTensor(x));
      predicted.forEach((v, i) => (meta[at(i)] = v));
      return;
    }
    const proba = await e.predictProba(asTensor(x));
    const K = classes.length;
    // A fold may miss a class: its column stays 0, as scikit-learn fills it.
    const own = (e as { classes?: Float64Array }).classes ?? classes;
    const column = Array.from(own, (c) => classes.indexOf(c));
    const width = proba.shape[1];
    for (let i = 0; i < proba.shape[0]; i++) {
      const row = new Float32Array(K);
      for (let j = 0; j < width; j++) {
        if (column[j] >= 0) row[column[j]] = proba.data[i * width + j];
      }
      if (K === 2) meta[at(i)] = row[1];
      else meta.set(row, at(i));
    }
  }

  /**
   * Fits the base estimators fold by fold, refits them on all rows, then fits the final
   * estimator; the previous fitted state stays until this succeeds.
   *
   * @param X Rows of features.
   * @param y One label or target per row.
   * @param opts `sampleWeight` (passed to every fit), `onProgress` (after each fit), `signal`.
   * @returns This estimator, fitted.
   * @throws {TypeError} When an argument has the wrong type.
   * @throws {RangeError} On bad input or options, or more folds than rows.
   */
  async fit(X: Matrix, y: ArrayLike<number>, opts: EnsembleFitOptions = {}): Promise<this> {
    checkFitOptions(opts);
    const p = this.resolvedOptions() as StackingParams;
    if (p.estimators === undefined) {
      throw new TypeError(`Expected "estimators" to be a non-empty array of estimators`);
    }
    const x = features("X", X);
    const labels = toLabels("y", y, x.rows);
    const classes = this.prepareTargets(labels);
    const weights = toWeights("sampleWeight", opts.sampleWeight, x.rows);
    if (p.cv > x.rows) {
      throw new RangeError(`Expected "cv" to be at most the ${x.rows} rows but found ${p.cv}`);
    }
    const folds = classes === null ? kFold(x.rows, p.cv) : stratifiedKFold(labels, p.cv);
    const widths = p.estimators.map((e) => this.#columns(e, classes));
    const stride = widths.reduce((a, b) => a + b, 0) + (p.passthrough ? x.cols : 0);
    const meta = new Float32Array(x.rows * stride);
    const total = p.estimators.length * (p.cv + 1) + 1;
    let done = 0;
    const progress = () => opts.onProgress?.({ iteration: ++done, total });
    const fitted: Estimator[] = [];
    const watch = fitWatch(opts);
    let offset = 0;
    for (let j = 0; j < p.estimators.length; j++) {
      for (let k = 0; k < p.cv; k++) {
        await watch.check();
        const train: number[] = [], test: number[] = [];
        folds.forEach((f, r) => (f === k ? test : train).push(r));
        const e = clone(p.estimators[j]);
        await e.fit(asTensor(selectRows(x, train)), train.map((r) => labels[r]), {
          sampleWeight: weights === null ? undefined : train.map((r) => weights[r]),
        });
        await this.#write(e, selectRows(x, test), classes, { meta, stride, offset, rows: test });
        progress();
      }
      await watch.check();
      const e = clone(p.estimators[j]);
      await e.fit(asTensor(x), labels, { sampleWeight: weights ?? undefined });
      fitted.push(e);
      offset += widths[j];
      progress();
    }
    if (p.passthrough) copyColumns(x, meta, stride, offset);
    await watch.check();
    const final = clone(p.finalEstimator ?? this.defaultFinal());
    await final.fit({ data: meta, shape: [x.rows, stride] }, labels, {
      sampleWeight: weights ?? undefined,
    });
    progress();
    this.state = { estimators: fitted, finalEstimator: final, nFeatures: x.cols, classes };
    return this;
  }

  /**
   * The final estimator's input for X: the fitted base estimators' outputs (and X with
   * `passthrough`), [n, columns].
   *
   * @throws {RangeError} Before fit, or when X's column count differs from fit's.
   */
  async transform(X: Matrix): Promise<Tensor> {
    const s = this.fitted();
    const x = features("X", X, s.nFeatures);
    const widths = s.estimators.map((e) => this.#columns(e, s.classes));
    const passthrough = this.options.passthrough === true;
    const stride = widths.reduce((a, b) => a + b, 0) + (passthrough ? x.cols : 0);
    const meta = new Float32Array(x.rows * stride);
    let offset = 0;
    for (let j = 0; j < s.estimators.length; j++) {
      await this.#write(s.estimators[j], x, s.classes, { meta, stride, offset, rows: null });
      offset += widths[j];
    }
    if (passthrough) copyColumns(x, meta, stride, offset);
    return { data: meta, shape: [x.rows, stride] };
  }

  /** The fitted base estimators (refitted on all rows). */
  get estimators(): Estimator[] {
    return [...this.fitted().estimators];
  }

  /** The fitted final estimator. */
  get finalEstimator(): Estimator {
    return this.fitted().finalEstimator;
  }

  protected stateToJSON(s: StackingState): Record<string, unknown> {
    return {
      estimators: s.estimators.map((e) => e.toJSON()),
      finalEstimator: s.finalEstimator.toJSON(),
      nFeatures: s.nFeatures,
      classes: s.classes === null ? null : Array.from(s.classes),
    };
  }

  protected stateFromJSON(f: Record<string, unknown>, restore: Restorer): StackingState {
    const estimators = restoreList("json.fitted.estimators", f.estimators, restore);
    const finalEstimator = restore("json.fitted.finalEstimator", f.finalEstimator);
    if (!isEstimator(finalEstimator)) throw new RangeError(`Expected a final estimator`);
    const nFeatures = countFrom("json.fitted.nFeatures", f.nFeatures);
    const classes = classesFrom(f.classes);
    estimators.forEach((e, i) => checkNested(`json.fitted.estimators[${i}]`, e, nFeatures));
    const stride = estimators.reduce((sum, e) => sum + this.#columns(e, classes), 0) +
      (this.options.passthrough === true ? nFeatures : 0);
    checkNested("json.fitted.finalEstimator", finalEstimator, stride);
    return { estimators, finalEstimator, nFeatures, classes };
  }
}

/** Copies X's columns into meta columns [offset, offset + cols) of every row. */
function copyColumns(x: Features, meta: Float32Array, stride: number, offset: number): void {
  for (let r = 0; r < x.rows; r++) {
    meta.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), r * stride + offset);
  }
}
