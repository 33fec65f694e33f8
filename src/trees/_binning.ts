/**
 * Feature binning for histogram growing, as XGBoost's `hist`: per feature, cut points at
 * weighted quantiles of its values, then every cell replaced by a one-byte bin index.
 *
 * Split values of feature f (see src/backends/trees.ts for the slot layout):
 *
 * ```
 *  s:            0            1        2      …    nBins
 *  splitValues:  below min    edge 1   edge 2 …    above max
 *  value bins:        [ bin 0 )[ bin 1 )[ …      bin nBins−1 )      missing bin = nBins
 * ```
 *
 * With at most `maxBin − 1` distinct values every value gets its own bin (edges at the distinct
 * values, so a split `x < edge` separates exactly the training values a sorted-threshold search
 * would); beyond that, the edges are the distinct values nearest to equal steps of cumulative
 * weight. The cut points are exact weighted quantiles: the answer XGBoost's streaming sketch
 * approximates.
 *
 * @module
 */
import type { CutBuffers, TreesKernels } from "../backends/trees.ts";
import type { AbortWatch } from "../_abort.ts";

/** Largest `maxBin`: value bins and the missing bin must fit one byte. */
export const MAX_BIN = 256;

/** Split values and slot offsets of every feature. */
export interface BinCuts {
  /** nFeatures + 1 entries: feature f owns slots binOffsets[f] .. binOffsets[f+1] − 1. */
  binOffsets: Int32Array;
  /** Float32 split values laid out like the slots. */
  splitValues: Float32Array;
  /**
   * Largest training value of each value bin, laid out like the slots (the missing slot holds
   * 0): with the split values it gives the midpoint between the values a split separates.
   */
  binMax: Float32Array;
}

/** A binned training matrix. */
export interface BinnedMatrix extends BinCuts {
  /** Column-major bins, nFeatures · nRows. */
  bins: Uint8Array;
  nRows: number;
  nFeatures: number;
}

/** Number of value bins (without the missing bin) of feature f. */
export function valueBins(cuts: BinCuts, feature: number): number {
  return cuts.binOffsets[feature + 1] - cuts.binOffsets[feature] - 1;
}

/** Weight below each distinct value: counts (equal weights) or sums of row weights. */
type Cumulative = Int32Array | Float64Array;

/** The lowest index i with cumulative[i] >= target (cumulative is non-decreasing). */
function lowerBound(cumulative: Cumulative, length: number, target: number): number {
  let lo = 0, hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Writes v at column[count] and returns the column's new count: count + 1, or count for a
 * missing value (NaN), which the next value then overwrites.
 */
function keepValue(column: Float32Array, count: number, v: number): number {
  column[count] = v;
  return v === v ? count + 1 : count;
}

/** Features whose columns are gathered in one pass over the row-major input. */
const COLUMN_GROUP = 8;

/**
 * Working arrays of the cut search, reused for every feature: the search would otherwise leave
 * a few bytes per cell of garbage behind, several times the input, before the collector runs.
 */
class CutScratch {
  readonly counts = new Int32Array(COLUMN_GROUP);
  readonly distinct = new Int32Array(COLUMN_GROUP);
  readonly #nRows: number;
  /** Columns and tallies in a backend's memory, or null where the scratch owns them. */
  readonly #lent: CutBuffers | null;
  readonly #own: { columns: Float32Array[]; tallies: Int32Array[] } | null;
  /** Weight per distinct value and below it, with row weights only (see `weighted`). */
  #weighted: { mass: Float64Array; below: Float64Array } | null = null;

  /** `lent`: columns and tallies in a backend's memory (TreesKernels.cutBuffers), else own. */
  constructor(nRows: number, nCols: number, lent: CutBuffers | null = null) {
    const group = Math.min(nCols, COLUMN_GROUP);
    this.#nRows = nRows;
    this.#lent = lent;
    this.#own = lent !== null ? null : {
      columns: Array.from({ length: group }, () => new Float32Array(nRows)),
      tallies: Array.from({ length: group }, () => new Int32Array(nRows)),
    };
  }

  /**
   * The non-missing values of up to COLUMN_GROUP features, gathered together... (views valid
   * until the next kernel call: lent ones are made again where the memory grew)
   */
  get columns(): Float32Array[] {
    return this.#lent?.columns ?? this.#own!.columns;
  }

  /** ...then sorted and deduplicated: distinct[j] values, each one's count in tallies[j]. */
  get tallies(): Int32Array[] {
    return this.#lent?.tallies ?? this.#own!.tallies;
  }

  /** The arrays of a weighted search, allocated at the first use. */
  weighted(): { mass: Float64Array; below: Float64Array } {
    const n = this.#nRows;
    return this.#weighted ??= { mass: new Float64Array(n), below: new Float64Array(n) };
  }

  /**
   * Gathers the non-missing values of features [first, first + count): one pass over the rows
   * reads every row's cells of the group together, where a pass per feature would stride
   * through the whole input once per feature.
   */
  gather(x: Float32Array, nRows: number, nCols: number, first: number, count: number): void {
    const { columns, counts } = this;
    if (count === COLUMN_GROUP) {
      this.#gatherGroup(x, nRows, nCols, first);
      return;
    }
    counts.fill(0);
    for (let r = 0; r < nRows; r++) {
      const row = r * nCols + first;
      for (let j = 0; j < count; j++) {
        const v = x[row + j];
        if (v === v) columns[j][counts[j]++] = v;
      }
    }
  }

  /**
   * gather() for a whole group of COLUMN_GROUP (8) features: the same values in the same order,
   * with the counts in local variables (see keepValue). 2–3× the general loop, whose counts went through memory at every value
   * (~16–22 ms of a 200k × 28 fit's cut search, all in the calling thread).
   */
  #gatherGroup(x: Float32Array, nRows: number, nCols: number, first: number): void {
    const [c0, c1, c2, c3, c4, c5, c6, c7] = this.columns;
    let n0 = 0, n1 = 0, n2 = 0, n3 = 0, n4 = 0, n5 = 0, n6 = 0, n7 = 0;
    for (let r = 0, at = first; r < nRows; r++, at += nCols) {
      n0 = keepValue(c0, n0, x[at]);
      n1 = keepValue(c1, n1, x[at + 1]);
      n2 = keepValue(c2, n2, x[at + 2]);
      n3 = keepValue(c3, n3, x[at + 3]);
      n4 = keepValue(c4, n4, x[at + 4]);
      n5 = keepValue(c5, n5, x[at + 5]);
      n6 = keepValue(c6, n6, x[at + 6]);
      n7 = keepValue(c7, n7, x[at + 7]);
    }
    this.counts.set([n0, n1, n2, n3, n4, n5, n6, n7]);
  }

  /** Sorts and deduplicates the first `count` gathered columns with `kernels`. */
  sortWith(kernels: TreesKernels, count: number): Promise<void> {
    return kernels.sortDistinct({
      columns: this.columns.slice(0, count),
      lengths: this.counts.subarray(0, count),
      counts: this.tallies.slice(0, count),
      distinct: this.distinct.subarray(0, count),
    });
  }
}

/**
 * The sorted distinct values of one gathered, sorted and deduplicated column (`j` of the
 * group) and the weight below each: views of the scratch arrays, valid until the next column.
 */
function distinctValues(
  x: Float32Array,
  nRows: number,
  nCols: number,
  feature: number,
  j: number,
  weights: Float64Array | null,
  scratch: CutScratch,
): { values: Float32Array; below: Cumulative; total: number } {
  const distinct = scratch.distinct[j], tally = scratch.tallies[j];
  const values = scratch.columns[j].subarray(0, distinct);
  let total = 0;
  if (weights === null) {
    // Each value weighs its count: the counts below it are summed in place, exactly (whole
    // numbers below 2^31), with no arrays of doubles to fill (and fault in) per fit.
    for (let i = 0; i < distinct; i++) {
      const count = tally[i];
      tally[i] = total;
      total += count;
    }
    return { values, below: tally.subarray(0, distinct), total };
  }
  const { mass, below } = scratch.weighted();
  // Each row's weight lands on its distinct value, found by binary search.
  mass.fill(0, 0, distinct);
  for (let r = 0; r < nRows; r++) {
    const v = x[r * nCols + feature];
    if (v === v) mass[findValue(values, v)] += weights[r];
  }
  for (let i = 0; i < distinct; i++) {
    below[i] = total;
    total += mass[i];
  }
  return { values, below: below.subarray(0, distinct), total };
}

function findValue(values: Float32Array, v: number): number {
  let lo = 0, hi = values.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Edges (upper bin boundaries) of one feature, at most maxValueBins − 1 of them plus the top,
 * and the index of the largest distinct value of each bin.
 */
function featureEdges(
  values: Float32Array,
  below: Cumulative,
  total: number,
  maxValueBins: number,
): { edges: number[]; lastOfBin: number[] } {
  const distinct = values.length;
  const starts: number[] = [];
  if (distinct <= maxValueBins) {
    for (let i = 1; i < distinct; i++) starts.push(i);
  } else {
    let last = 0;
    for (let k = 1; k < maxValueBins; k++) {
      const target = (total * k) / maxValueBins;
      let i = lowerBound(below, distinct, target);
      if (i > 0 && (i === distinct || target - below[i - 1] < below[i] - target)) i--;
      if (i > last) {
        starts.push(i);
        last = i;
      }
    }
  }
  const max = values[distinct - 1];
  const edges = starts.map((i) => values[i]);
  edges.push(Math.fround(max + (Math.abs(max) + 1e-5)));
  const lastOfBin = [...starts.map((i) => i - 1), distinct - 1];
  return { edges, lastOfBin };
}

/** How a matrix is cut into bins (computeCuts, binMatrix, withBinnedMatrix). */
export interface CutOptions {
  /** Row weights (sample weights), or null for equal weights. */
  weights: Float64Array | null;
  /** Bins per feature including the missing bin, 2..256. */
  maxBin: number;
  /** 1 for a categorical feature, whose codes are its own bins (default: none). */
  categorical?: Uint8Array | null;
  /**
   * The fit's watch, checked before each group of columns and after the last (before the
   * binning): an abort arrives there, and a page's thread gets a turn of its event loop.
   */
  watch?: AbortWatch;
}

/**
 * Cut points of every feature of a row-major float32 matrix (NaN = missing). The columns' sorts,
 * most of the time, run on `kernels` (sortDistinct): the WASM backend sorts a group's columns on
 * every thread at once; every backend gives the same cuts, value for value.
 */
export async function computeCuts(
  kernels: TreesKernels,
  x: Float32Array,
  nRows: number,
  nCols: number,
  { weights, maxBin, categorical = null, watch }: CutOptions,
): Promise<BinCuts> {
  // Columns in the backend's memory where it lends them: its sorts then copy nothing (~19 MB
  // a group of 8 columns of 200k rows, in and out).
  const lent = kernels.cutBuffers?.(nRows, Math.min(nCols, COLUMN_GROUP)) ?? null;
  try {
    const scratch = new CutScratch(nRows, nCols, lent);
    const perFeature: FeatureCuts[] = [];
    for (let f = 0; f < nCols; f += COLUMN_GROUP) {
      await watch?.check();
      const count = Math.min(COLUMN_GROUP, nCols - f);
      scratch.gather(x, nRows, nCols, f, count);
      await watch?.check();
      await scratch.sortWith(kernels, count);
      for (let j = 0; j < count; j++) {
        perFeature.push(
          featureCuts(x, nRows, nCols, f + j, j, weights, maxBin, categorical, scratch),
        );
      }
    }
    await watch?.check();
    return assembleCuts(perFeature);
  } finally {
    lent?.release();
  }
}

/** Split values and bin maxima of one feature (see BinCuts). */
interface FeatureCuts {
  split: number[];
  max: number[];
}

/** The cuts of `feature`, column `j` of the scratch's group, sorted and deduplicated. */
function featureCuts(
  x: Float32Array,
  nRows: number,
  nCols: number,
  feature: number,
  j: number,
  weights: Float64Array | null,
  maxBin: number,
  categorical: Uint8Array | null,
  scratch: CutScratch,
): FeatureCuts {
  const { values, below, total } = distinctValues(x, nRows, nCols, feature, j, weights, scratch);
  if (values.length === 0) {
    return { split: [0, 0], max: [0, 0] }; // all missing: one empty value bin, never split
  }
  if (categorical !== null && categorical[feature] === 1) {
    // Edges 1 .. max: code c has c edges at or below it, so it lands in bin c.
    const codes = values[values.length - 1] + 1;
    const split = Array.from({ length: codes + 1 }, (_, c) => c);
    return { split, max: [...split.slice(0, codes), 0] };
  }
  const min = values[0];
  const { edges, lastOfBin } = featureEdges(values, below, total, maxBin - 1);
  return {
    split: [Math.fround(min - (Math.abs(min) + 1e-5)), ...edges],
    max: [...lastOfBin.map((i) => values[i]), 0],
  };
}

function assembleCuts(perFeature: FeatureCuts[]): BinCuts {
  const nCols = perFeature.length;
  const binOffsets = new Int32Array(nCols + 1);
  for (let f = 0; f < nCols; f++) binOffsets[f + 1] = binOffsets[f] + perFeature[f].split.length;
  const splitValues = new Float32Array(binOffsets[nCols]);
  const binMax = new Float32Array(binOffsets[nCols]);
  for (let f = 0; f < nCols; f++) {
    splitValues.set(perFeature[f].split, binOffsets[f]);
    binMax.set(perFeature[f].max, binOffsets[f]);
  }
  return { binOffsets, splitValues, binMax };
}

/**
 * Cuts a matrix and bins it with the given kernels.
 */
export async function binMatrix(
  kernels: TreesKernels,
  x: Float32Array,
  nRows: number,
  nCols: number,
  opts: CutOptions,
): Promise<BinnedMatrix> {
  const cuts = await computeCuts(kernels, x, nRows, nCols, opts);
  return await binInto(kernels, x, nRows, nCols, cuts, new Uint8Array(nRows * nCols));
}

/**
 * binMatrix for the length of `fn` (a whole fit): the bins lie in the kernels' own memory where
 * they lend it (TreesKernels.binBuffer), which binning and the growth workspace then use in
 * place, and are given back once `fn` settles.
 */
export async function withBinnedMatrix<T>(
  kernels: TreesKernels,
  x: Float32Array,
  nRows: number,
  nCols: number,
  opts: CutOptions,
  fn: (binned: BinnedMatrix) => Promise<T>,
): Promise<T> {
  const cuts = await computeCuts(kernels, x, nRows, nCols, opts);
  const lent = kernels.binBuffer?.(nRows * nCols) ?? null;
  try {
    const bins = lent?.bins ?? new Uint8Array(nRows * nCols);
    const binned = await binInto(kernels, x, nRows, nCols, cuts, bins, opts.watch);
    await opts.watch?.check();
    return await fn(binned);
  } finally {
    lent?.release();
  }
}

/** Bins a matrix into `bins` with its cuts, checking `watch` between blocks of rows. */
async function binInto(
  kernels: TreesKernels,
  x: Float32Array,
  nRows: number,
  nCols: number,
  cuts: BinCuts,
  bins: Uint8Array,
  watch?: AbortWatch,
): Promise<BinnedMatrix> {
  await kernels.binFeatures({
    x,
    nRows,
    nCols,
    splitValues: cuts.splitValues,
    binOffsets: cuts.binOffsets,
    bins,
    between: watch && (() => watch.check()),
  });
  return { ...cuts, bins, nRows, nFeatures: nCols };
}

/** The largest float32 strictly below / above a finite float32. */
const scratch = new Float32Array(1);
const scratchBits = new Int32Array(scratch.buffer);
function stepFloat32(v: number, up: boolean): number {
  if (v === 0) return up ? 1.401298464324817e-45 : -1.401298464324817e-45;
  scratch[0] = v;
  scratchBits[0] += (v > 0) === up ? 1 : -1;
  return scratch[0];
}

/**
 * The float32 threshold that mimics scikit-learn's between value bins `lowBin` (the highest
 * one holding rows going left) and `highBin` (the lowest holding rows going right): halfway
 * between the largest value of the one and the smallest of the other, where scikit-learn's
 * `x <= t` test in float64 becomes an equivalent `x < threshold` in float32.
 */
export function midpointThreshold(
  cuts: BinCuts,
  feature: number,
  lowBin: number,
  highBin: number,
): number {
  const offset = cuts.binOffsets[feature];
  const below = cuts.binMax[offset + lowBin];
  const above = cuts.splitValues[offset + highBin];
  let t = below / 2 + above / 2;
  if (t === above || !Number.isFinite(t)) t = below;
  // Largest float32 <= t, then the next one up: x <= t  ⟺  x < that, for every float32 x.
  let floor = Math.fround(t);
  if (floor > t) floor = stepFloat32(floor, false);
  return stepFloat32(floor, true);
}
