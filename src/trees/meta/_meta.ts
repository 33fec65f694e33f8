/**
 * The base of the meta-estimators (AdaBoost, Bagging, Stacking), on BaseEstimator (options
 * checked against one table at fit): nested estimators serialised by their own `toJSON`, and
 * the sampling and cross-validation helpers they share.
 *
 * Serialised meta-estimators look like
 *
 * ```
 *  { format: "tessera.trees", version: 1, estimator: "BaggingClassifier",
 *    options: { ...as given, estimators replaced by their toJSON() },
 *    fitted: null | { estimators: [toJSON() of each fitted estimator], ...estimator fields } }
 * ```
 *
 * @module
 */
import type { Matrix } from "../../tensor.ts";
import { Rng } from "../../_random.ts";
import { show } from "../../_validate.ts";
import { type Estimator, isEstimator } from "../../estimators/_clone.ts";
import { FORMAT } from "../_estimator.ts";
import { type Features, toFeatures } from "../../estimators/_input.ts";
import { BaseEstimator, classList } from "../../estimators/_params.ts";

export { FORMAT };

/** Restores a nested estimator from its `toJSON()` (see src/estimators/_registry.ts). */
export type Restorer = (name: string, json: unknown) => Estimator;

function isSerialisedEstimator(value: unknown): boolean {
  return value !== null && typeof value === "object" &&
    (value as Record<string, unknown>).format !== undefined &&
    typeof (value as Record<string, unknown>).estimator === "string";
}

/** Options with every nested estimator replaced by its `toJSON()`. */
function serialiseOptions(options: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const write = (value: unknown): unknown =>
    isEstimator(value) ? value.toJSON() : Array.isArray(value) ? value.map(write) : value;
  for (const [key, value] of Object.entries(options)) out[key] = structuredClone(write(value));
  return out;
}

/** Options read back, nested estimators restored. */
function restoreOptions(
  options: Record<string, unknown>,
  restore: Restorer,
): Record<string, unknown> {
  const read = (name: string, value: unknown): unknown =>
    isSerialisedEstimator(value)
      ? restore(name, value)
      : Array.isArray(value)
      ? value.map((v, i) => read(`${name}[${i}]`, v))
      : value;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) out[key] = read(`json.options.${key}`, value);
  return out;
}

export abstract class MetaEstimator<O extends object, S> extends BaseEstimator<O, S> {
  protected get format(): string {
    return FORMAT;
  }

  /** Rebuilds the fitted state; throws a RangeError when it is inconsistent. */
  protected abstract stateFromJSON(fields: Record<string, unknown>, restore: Restorer): S;

  /** Whether the estimator has a `seed` option (meta-estimators give clones fresh seeds). */
  get acceptsSeed(): boolean {
    return "seed" in this.paramTable();
  }

  /** Options with every nested estimator replaced by its `toJSON()`. */
  protected override optionsToJSON(): Record<string, unknown> {
    return serialiseOptions(this.options);
  }

  /** Restores options and fitted state written by toJSON into this fresh estimator. */
  protected restore(json: unknown, restore: Restorer): this {
    return this.restoreWith(
      json,
      (fields) => this.stateFromJSON(fields, restore),
      (options) => restoreOptions(options as Record<string, unknown>, restore),
    );
  }
}

/** Reads a list of serialised estimators. */
export function restoreList(name: string, value: unknown, restore: Restorer): Estimator[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(
      `Expected "${name}" to be a non-empty array of estimators but found ${show(value)}`,
    );
  }
  return Array.from(value, (v, i) => restore(`${name}[${i}]`, v));
}

/** The sorted classes of serialised state: null, or an array of increasing finite numbers. */
export function classesFrom(value: unknown): Float64Array | null {
  return value === null || value === undefined ? null : classList("json.fitted.classes", value, 1);
}

/**
 * Throws a RangeError unless a restored nested estimator is fitted and takes `nFeatures`
 * columns, so that a loaded meta-estimator never fails at predict on a model it holds.
 */
export function checkNested(name: string, estimator: Estimator, nFeatures: number): void {
  let n: unknown;
  try {
    n = (estimator as { nFeatures?: unknown }).nFeatures;
  } catch {
    throw new RangeError(`Expected "${name}" to be a fitted estimator but its "fitted" is null`);
  }
  if (n !== undefined && n !== nFeatures) {
    throw new RangeError(`Expected "${name}" to take ${nFeatures} features but found ${show(n)}`);
  }
}

/** The rows of a float32 matrix, as a Tensor. */
export function asTensor(x: Features): { data: Float32Array; shape: number[] } {
  return { data: x.data, shape: [x.rows, x.cols] };
}

/** Checks X and returns it as float32 rows (NaN kept). */
export function features(name: string, X: Matrix, expectedCols?: number): Features {
  return toFeatures(name, X, expectedCols);
}

/** Columns `columns` of a matrix (all of it when they are every column in order). */
export function selectColumns(x: Features, columns: Int32Array): Features {
  if (columns.length === x.cols && columns.every((c, i) => c === i)) return x;
  const data = new Float32Array(x.rows * columns.length);
  for (let r = 0; r < x.rows; r++) {
    for (let j = 0; j < columns.length; j++) {
      data[r * columns.length + j] = x.data[r * x.cols + columns[j]];
    }
  }
  return { data, rows: x.rows, cols: columns.length };
}

/** Rows `rows` of a matrix. */
export function selectRows(x: Features, rows: ArrayLike<number>): Features {
  const data = new Float32Array(rows.length * x.cols);
  for (let i = 0; i < rows.length; i++) {
    data.set(x.data.subarray(rows[i] * x.cols, (rows[i] + 1) * x.cols), i * x.cols);
  }
  return { data, rows: rows.length, cols: x.cols };
}

/** How often each row is drawn in `draws` draws with probabilities ∝ `weights` (inverse CDF). */
export function weightedDrawCounts(rng: Rng, weights: Float64Array, draws: number): Float64Array {
  const n = weights.length;
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cumulative[i] = total += weights[i];
  const counts = new Float64Array(n);
  for (let d = 0; d < draws; d++) {
    const u = rng.next() * total;
    let lo = 0, hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]++;
  }
  return counts;
}

/** How often each of n rows is drawn in `draws` uniform draws with replacement. */
export function uniformDrawCounts(rng: Rng, n: number, draws: number): Float64Array {
  const counts = new Float64Array(n);
  for (let d = 0; d < draws; d++) counts[rng.nextInt(n)]++;
  return counts;
}

/**
 * Test fold of each row for K-fold cross-validation without shuffling, as scikit-learn's
 * KFold: contiguous blocks, the first n mod k one row larger.
 */
export function kFold(n: number, k: number): Int32Array {
  const fold = new Int32Array(n);
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
    fold.fill(f, start, start + size);
    start += size;
  }
  return fold;
}

/**
 * Test fold of each row as scikit-learn 1.2's StratifiedKFold without shuffling: classes in
 * order of first appearance, the sorted labels dealt round-robin to decide how many rows of
 * each class each fold gets, and each class's rows given to folds in blocks, in row order.
 *
 * @throws {RangeError} When every class has fewer than k rows.
 */
export function stratifiedKFold(labels: ArrayLike<number>, k: number): Int32Array {
  const n = labels.length;
  const order = new Map<number, number>();
  const encoded = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (!order.has(labels[i])) order.set(labels[i], order.size);
    encoded[i] = order.get(labels[i])!;
  }
  const nClasses = order.size;
  const counts = new Int32Array(nClasses);
  for (const c of encoded) counts[c]++;
  if (counts.every((c) => c < k)) {
    throw new RangeError(
      `Expected "cv" (${k}) to be at most the number of rows of some class, but every class has fewer`,
    );
  }
  // Sorted labels y_order[i] dealt to fold i mod k: allocation[f][c] rows of class c in fold f.
  const allocation = Array.from({ length: k }, () => new Int32Array(nClasses));
  let position = 0;
  for (let c = 0; c < nClasses; c++) {
    for (let j = 0; j < counts[c]; j++) allocation[position++ % k][c]++;
  }
  const fold = new Int32Array(n);
  const next = new Int32Array(nClasses);
  const remaining = allocation.map((a) => a.slice());
  for (let i = 0; i < n; i++) {
    const c = encoded[i];
    while (remaining[next[c]][c] === 0) next[c]++;
    fold[i] = next[c];
    remaining[next[c]][c]--;
  }
  return fold;
}
