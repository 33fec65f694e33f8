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
import type { TreesKernels } from "../backends/trees.ts";

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

/** The lowest index i with cumulative[i] >= target (cumulative is non-decreasing). */
function lowerBound(cumulative: Float64Array, length: number, target: number): number {
  let lo = 0, hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Features whose columns are gathered in one pass over the row-major input. */
const COLUMN_GROUP = 8;

/**
 * Working arrays of the cut search, reused for every feature: the search would otherwise leave
 * a few bytes per cell of garbage behind, several times the input, before the collector runs.
 */
class CutScratch {
  /** The non-missing values of up to COLUMN_GROUP features, gathered together. */
  readonly columns: Float32Array[];
  readonly counts = new Int32Array(COLUMN_GROUP);
  readonly radix: Uint32Array;
  readonly mass: Float64Array;
  readonly below: Float64Array;

  constructor(nRows: number, nCols: number) {
    this.columns = Array.from(
      { length: Math.min(nCols, COLUMN_GROUP) },
      () => new Float32Array(nRows),
    );
    this.radix = new Uint32Array(nRows);
    this.mass = new Float64Array(nRows);
    this.below = new Float64Array(nRows);
  }

  /**
   * Gathers the non-missing values of features [first, first + count): one pass over the rows
   * reads every row's cells of the group together, where a pass per feature would stride
   * through the whole input once per feature.
   */
  gather(x: Float32Array, nRows: number, nCols: number, first: number, count: number): void {
    const { columns, counts } = this;
    counts.fill(0);
    for (let r = 0; r < nRows; r++) {
      const row = r * nCols + first;
      for (let j = 0; j < count; j++) {
        const v = x[row + j];
        if (v === v) columns[j][counts[j]++] = v;
      }
    }
  }
}

/**
 * The sorted distinct values of one gathered column (`j` of the group) and the weight below
 * each: views of the scratch arrays, valid until the next column.
 */
function distinctValues(
  x: Float32Array,
  nRows: number,
  nCols: number,
  feature: number,
  j: number,
  weights: Float64Array | null,
  scratch: CutScratch,
): { values: Float32Array; below: Float64Array; total: number } {
  const n = scratch.counts[j];
  const sorted = sortFloat32(scratch.columns[j].subarray(0, n), scratch.radix);
  const mass = scratch.mass;
  let distinct = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) {
      sorted[distinct++] = sorted[i];
      mass[distinct - 1] = 0;
    }
    mass[distinct - 1] += 1;
  }
  const values = sorted.subarray(0, distinct);
  if (weights !== null) {
    // Each row's weight lands on its distinct value, found by binary search.
    mass.fill(0, 0, distinct);
    for (let r = 0; r < nRows; r++) {
      const v = x[r * nCols + feature];
      if (v === v) mass[findValue(values, v)] += weights[r];
    }
  }
  const below = scratch.below.subarray(0, distinct);
  let total = 0;
  for (let i = 0; i < distinct; i++) {
    below[i] = total;
    total += mass[i];
  }
  return { values, below, total };
}

/**
 * Sorts float32 values (no NaN) in place, ascending: a radix sort (11 bits a digit, three
 * digits) of their bits made order-preserving, linear in n where a comparison sort is n log n.
 * One pass counts all three digits; a digit that every value shares moves nothing and is
 * skipped (the top digit often is: values of one sign and a few binades). `scratch` holds at
 * least n entries.
 */
function sortFloat32(values: Float32Array, scratch: Uint32Array): Float32Array {
  const n = values.length;
  if (n < 256) return values.sort();
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  const counts = new Int32Array(3 * 2048);
  // Negative floats order backwards by their bits: flip all of them; positives: the sign only.
  for (let i = 0; i < n; i++) {
    const b = bits[i];
    const key = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
    bits[i] = key;
    counts[key & 2047]++;
    counts[2048 + ((key >>> 11) & 2047)]++;
    counts[4096 + (key >>> 22)]++;
  }
  let from: Uint32Array = bits, to: Uint32Array = scratch.subarray(0, n);
  for (let digit = 0; digit < 3; digit++) {
    const base = digit * 2048, shift = digit * 11;
    if (counts[base + ((from[0] >>> shift) & 2047)] === n) continue;
    for (let b = 0, total = 0; b < 2048; b++) {
      const c = counts[base + b];
      counts[base + b] = total;
      total += c;
    }
    for (let i = 0; i < n; i++) {
      const key = from[i];
      to[counts[base + ((key >>> shift) & 2047)]++] = key;
    }
    [from, to] = [to, from];
  }
  // Undo the key transform into `bits`, from wherever the last pass left the keys.
  for (let i = 0; i < n; i++) {
    const key = from[i];
    bits[i] = key & 0x80000000 ? (key & 0x7fffffff) >>> 0 : ~key >>> 0;
  }
  return values;
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
  below: Float64Array,
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

/**
 * Cut points of every feature of a row-major float32 matrix (NaN = missing).
 *
 * @param weights Row weights (sample weights), or null for equal weights.
 * @param maxBin Bins per feature including the missing bin, 2..256.
 */
export function computeCuts(
  x: Float32Array,
  nRows: number,
  nCols: number,
  weights: Float64Array | null,
  maxBin: number,
  categorical: Uint8Array | null = null,
): BinCuts {
  const binOffsets = new Int32Array(nCols + 1);
  const perFeature: { split: number[]; max: number[] }[] = [];
  const scratch = new CutScratch(nRows, nCols);
  for (let f = 0; f < nCols; f++) {
    const j = f % COLUMN_GROUP;
    if (j === 0) scratch.gather(x, nRows, nCols, f, Math.min(COLUMN_GROUP, nCols - f));
    const { values, below, total } = distinctValues(x, nRows, nCols, f, j, weights, scratch);
    if (values.length === 0) {
      perFeature.push({ split: [0, 0], max: [0, 0] }); // all missing: one empty value bin, never split
    } else if (categorical !== null && categorical[f] === 1) {
      // Edges 1 .. max: code c has c edges at or below it, so it lands in bin c.
      const codes = values[values.length - 1] + 1;
      const split = Array.from({ length: codes + 1 }, (_, c) => c);
      perFeature.push({ split, max: [...split.slice(0, codes), 0] });
    } else {
      const min = values[0];
      const { edges, lastOfBin } = featureEdges(values, below, total, maxBin - 1);
      perFeature.push({
        split: [Math.fround(min - (Math.abs(min) + 1e-5)), ...edges],
        max: [...lastOfBin.map((i) => values[i]), 0],
      });
    }
    binOffsets[f + 1] = binOffsets[f] + perFeature[f].split.length;
  }
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
  weights: Float64Array | null,
  maxBin: number,
  categorical: Uint8Array | null = null,
): Promise<BinnedMatrix> {
  const cuts = computeCuts(x, nRows, nCols, weights, maxBin, categorical);
  const bins = new Uint8Array(nRows * nCols);
  await kernels.binFeatures({
    x,
    nRows,
    nCols,
    splitValues: cuts.splitValues,
    binOffsets: cuts.binOffsets,
    bins,
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
