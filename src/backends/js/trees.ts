/**
 * Reference implementation of the `trees` kernel family in plain TypeScript: the oracle that
 * the WASM kernels are tested against, and the backend wherever WASM is missing. Sums run in
 * float64 in a fixed order, so results never depend on how work is split.
 *
 * @module
 */
import {
  BIN_SET_WORDS,
  type BinArgs,
  BUILD_FIELD,
  BUILD_FIELD_COUNT,
  type Categorical,
  categoryGoesRight,
  categoryOrder,
  type GradientArgs,
  type GrowthStep,
  type HistogramArgs,
  type LeafStep,
  MAX_CAT_THRESHOLD,
  PARTITION_FIELD,
  PARTITION_FIELD_COUNT,
  type PartitionArgs,
  type PartitionStep,
  type PredictArgs,
  type SortDistinctArgs,
  SPLIT_FIELD_COUNT,
  SPLIT_PARAM,
  SPLIT_PARAM_COUNT,
  type SplitArgs,
  SplitScorer,
  SUBTRACT_FIELD,
  SUBTRACT_FIELD_COUNT,
  type SubtractArgs,
  type TreesKernels,
  type TreesWorkspace,
  usesOneHot,
  type WorkspaceArgs,
} from "../trees.ts";
import { shapRef } from "./tree_shap.ts";

/**
 * The bin of `v` among a feature's upper edges `splitValues[edges .. edges + count)`: how many
 * of them are <= v (an upper bound). Branch-free halving, so the comparisons do not depend on
 * the data; values beyond the last edge join the last bin.
 */
function upperBound(splitValues: Float32Array, edges: number, count: number, v: number): number {
  if (count === 0) return 0;
  let base = edges, n = count;
  while (n > 1) {
    const half = n >>> 1;
    base = splitValues[base + half - 1] <= v ? base + half : base;
    n -= half;
  }
  return base - edges + (splitValues[base] <= v ? 1 : 0);
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

/**
 * Sorts `values[0 .. n)` (no NaN) ascending in place and moves the distinct ones to the front,
 * each one's count to `counts`; returns how many there are. −0 and +0 are one value.
 */
export function sortDistinctRef(
  values: Float32Array,
  n: number,
  counts: Int32Array,
  scratch: Uint32Array,
): number {
  const sorted = sortFloat32(values.subarray(0, n), scratch);
  let distinct = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) {
      sorted[distinct++] = sorted[i];
      counts[distinct - 1] = 0;
    }
    counts[distinct - 1]++;
  }
  return distinct;
}

/** TreesKernels.sortDistinct: every column through sortDistinctRef. */
export function sortDistinctColumnsRef(args: SortDistinctArgs): void {
  const scratch = new Uint32Array(Math.max(0, ...args.lengths));
  args.columns.forEach((column, j) => {
    args.distinct[j] = sortDistinctRef(column, args.lengths[j], args.counts[j], scratch);
  });
}

/** Places every value among its feature's split values; NaN goes to the missing bin. */
export function binFeaturesRef(args: BinArgs): void {
  const { x, nRows, nCols, splitValues, binOffsets, bins } = args;
  // Rows outside, features inside: x is read in its row-major order, and each feature's bins
  // are written as one sequential stream.
  for (let r = 0; r < nRows; r++) {
    const row = r * nCols;
    for (let f = 0; f < nCols; f++) {
      const offset = binOffsets[f];
      const nBins = binOffsets[f + 1] - offset - 1;
      const v = x[row + f];
      // The upper edges of value bins 0 .. nBins − 2 are splitValues[offset + 1 ..]; the last
      // edge lies above every value seen when the edges were made.
      bins[f * nRows + r] = v !== v ? nBins : upperBound(splitValues, offset + 1, nBins - 1, v);
    }
  }
}

/**
 * The histogram kept simple: one row and one channel at a time. `buildHistogramRef` must agree
 * with it exactly; tests hold them together.
 */
export function buildHistogramNaive(args: HistogramArgs): void {
  const { bins, nRows, rows, rowBegin, rowEnd, values, nChannels, features, binOffsets, hist } =
    args;
  for (let k = 0; k < args.featureCount; k++) {
    const f = features[k];
    for (let s = binOffsets[f] * nChannels; s < binOffsets[f + 1] * nChannels; s++) hist[s] = 0;
    for (let i = rowBegin; i < rowEnd; i++) {
      const r = rows[i];
      const slot = binOffsets[f] + bins[f * nRows + r];
      for (let c = 0; c < nChannels; c++) hist[slot * nChannels + c] += values[r * nChannels + c];
    }
  }
}

/** The histogram with the channel loop unrolled for the two common widths. */
export function buildHistogramRef(args: HistogramArgs): void {
  const { bins, nRows, rows, rowBegin, rowEnd, values, nChannels, features, binOffsets, hist } =
    args;
  if (nChannels !== 2 && nChannels !== 3) {
    buildHistogramNaive(args);
    return;
  }
  for (let k = 0; k < args.featureCount; k++) {
    const f = features[k];
    const offset = binOffsets[f];
    hist.fill(0, offset * nChannels, binOffsets[f + 1] * nChannels);
    const column = bins.subarray(f * nRows, (f + 1) * nRows);
    if (nChannels === 2) {
      for (let i = rowBegin; i < rowEnd; i++) {
        const r = rows[i];
        const s = (offset + column[r]) << 1;
        hist[s] += values[r << 1];
        hist[s + 1] += values[(r << 1) + 1];
      }
    } else {
      for (let i = rowBegin; i < rowEnd; i++) {
        const r = rows[i];
        const s = (offset + column[r]) * 3, v = r * 3;
        hist[s] += values[v];
        hist[s + 1] += values[v + 1];
        hist[s + 2] += values[v + 2];
      }
    }
  }
}

/** out = parent − child over the listed features' slots. */
export function subtractHistogramRef(args: SubtractArgs): void {
  const { parent, child, out, nChannels, features, binOffsets } = args;
  for (let k = 0; k < args.featureCount; k++) {
    const f = features[k];
    for (let s = binOffsets[f] * nChannels; s < binOffsets[f + 1] * nChannels; s++) {
      out[s] = parent[s] - child[s];
    }
  }
}

/**
 * For each listed feature: every split bin, missing values right (forward scan) and, when the
 * node has missing values for the feature, left (backward scan); the first best wins ties.
 */
export function findSplitsRef(args: SplitArgs): void {
  const { hist, nChannels: C, features, binOffsets, monotone, params, out } = args;
  const scorer = new SplitScorer(params, monotone !== null);
  const minChildWeight = params[SPLIT_PARAM.minChildWeight];
  const minSamples = C >= 3 ? Math.max(1, params[SPLIT_PARAM.minSamplesLeaf]) : 0;
  const G = params[SPLIT_PARAM.sumGrad], H = params[SPLIT_PARAM.sumHess];
  const N = C >= 3 ? params[SPLIT_PARAM.count] : 0;
  const parentScore = scorer.score(G, H);
  const categorical = args.categorical ?? null;
  for (let k = 0; k < args.featureCount; k++) {
    const f = features[k];
    const offset = binOffsets[f];
    const nBins = binOffsets[f + 1] - offset - 1;
    if (categorical !== null && categorical.mask[f] === 1) {
      categoricalSplit(args, offset, nBins, categorical, scorer, parentScore, k);
      continue;
    }
    const constraint = monotone === null ? 0 : monotone[f];
    const m = (offset + nBins) * C;
    const missingG = hist[m], missingH = hist[m + 1], missingN = C >= 3 ? hist[m + 2] : 0;
    const hasMissing = missingH > 0 || missingN > 0;
    let bestGain = -Infinity, bestBin = 0, bestLeft = 0, bestG = 0, bestH = 0, bestN = 0;
    // Direction 0: missing right, split bins 1..nBins (nBins only separates the missing rows).
    // Direction 1: missing left, split bins 0..nBins − 1 (0 sends only the missing rows left).
    for (let direction = 0; direction < (hasMissing ? 2 : 1); direction++) {
      let lg = direction ? missingG : 0,
        lh = direction ? missingH : 0,
        ln = direction ? missingN : 0;
      const first = direction ? 0 : 1,
        last = hasMissing ? (direction ? nBins - 1 : nBins) : nBins - 1;
      for (let b = 0; b < first; b++) {
        lg += hist[(offset + b) * C];
        lh += hist[(offset + b) * C + 1];
        if (C >= 3) ln += hist[(offset + b) * C + 2];
      }
      for (let s = first; s <= last; s++) {
        if (s > first) {
          const slot = (offset + s - 1) * C;
          lg += hist[slot];
          lh += hist[slot + 1];
          if (C >= 3) ln += hist[slot + 2];
        }
        const rg = G - lg, rh = H - lh, rn = N - ln;
        if (lh < minChildWeight || rh < minChildWeight || lh <= 0 || rh <= 0) continue;
        if (C >= 3 && (ln < minSamples || rn < minSamples)) continue;
        if (constraint !== 0) {
          const wl = scorer.weight(lg, lh), wr = scorer.weight(rg, rh);
          if (constraint > 0 ? wl > wr : wl < wr) continue;
        }
        const gain = scorer.score(lg, lh) + scorer.score(rg, rh) - parentScore;
        if (gain > bestGain) {
          bestGain = gain;
          bestBin = s;
          bestLeft = direction;
          bestG = lg;
          bestH = lh;
          bestN = ln;
        }
      }
    }
    const o = k * SPLIT_FIELD_COUNT;
    out[o] = bestGain;
    out[o + 1] = bestBin;
    out[o + 2] = bestLeft;
    out[o + 3] = bestG;
    out[o + 4] = bestH;
    out[o + 5] = bestN;
  }
}

/**
 * The best split of one categorical feature (see Categorical), written as feature k's result:
 * one-hot below `maxCatToOnehot` categories, else the best prefix of categoryOrder scanned
 * forward (missing left) then backward (missing right), at most MAX_CAT_THRESHOLD categories
 * from either end. Ties (in float32, as XGBoost compares loss changes) go to the first split
 * scanned, as in XGBoost's evaluator.
 */
function categoricalSplit(
  args: SplitArgs,
  offset: number,
  nBins: number,
  categorical: Categorical,
  scorer: SplitScorer,
  parentScore: number,
  k: number,
): void {
  const { hist, nChannels: C, params } = args;
  const minChildWeight = params[SPLIT_PARAM.minChildWeight];
  const minSamples = C >= 3 ? Math.max(1, params[SPLIT_PARAM.minSamplesLeaf]) : 0;
  const G = params[SPLIT_PARAM.sumGrad], H = params[SPLIT_PARAM.sumHess];
  const N = C >= 3 ? params[SPLIT_PARAM.count] : 0;
  const m = (offset + nBins) * C;
  const missingG = hist[m], missingH = hist[m + 1], missingN = C >= 3 ? hist[m + 2] : 0;
  let bestGain = -Infinity, bestBin = 0, bestLeft = 0, bestG = 0, bestH = 0, bestN = 0;
  // XGBoost's evaluator forms one child from histogram sums and the other as the node less it.
  const consider = (
    lg: number,
    lh: number,
    ln: number,
    rg: number,
    rh: number,
    rn: number,
    bin: number,
    defaultLeft: number,
  ) => {
    if (lh < minChildWeight || rh < minChildWeight || lh <= 0 || rh <= 0) return;
    if (C >= 3 && (ln < minSamples || rn < minSamples)) return;
    const gain = scorer.score(lg, lh) + scorer.score(rg, rh) - parentScore;
    // XGBoost keeps loss changes in float32: splits of one feature whose gains round alike
    // (the same partition reached by both scans, its sums added in another order) tie, and the
    // first one scanned stays.
    if (Math.fround(gain) > Math.fround(bestGain)) {
      bestGain = gain;
      bestBin = bin;
      bestLeft = defaultLeft;
      bestG = lg;
      bestH = lh;
      bestN = ln;
    }
  };
  const right = (rg: number, rh: number, rn: number, bin: number, defaultLeft: number) =>
    consider(G - rg, H - rh, N - rn, rg, rh, rn, bin, defaultLeft);
  const channel = (b: number, c: number) => C > c ? hist[(offset + b) * C + c] : 0;
  if (usesOneHot(nBins, categorical.maxCatToOnehot)) {
    for (let b = 0; b < nBins; b++) {
      const g = channel(b, 0), h = channel(b, 1), n = channel(b, 2);
      right(g, h, n, b, 1); // the category right, missing left with the other categories
      right(g + missingG, h + missingH, n + missingN, b, 0); // missing right with it
    }
  } else {
    const order = new Int32Array(nBins);
    categoryOrder(hist, offset, nBins, C, scorer, order);
    const scanned = Math.min(MAX_CAT_THRESHOLD, nBins);
    // Forward: the first j + 1 categories right, missing left.
    let rg = 0, rh = 0, rn = 0;
    for (let j = 0; j < scanned - 1; j++) {
      rg += channel(order[j], 0);
      rh += channel(order[j], 1);
      rn += channel(order[j], 2);
      right(rg, rh, rn, j + 1, 1);
    }
    // Backward: the last categories left, the first j right with the missing rows.
    let lg = 0, lh = 0, ln = 0;
    for (let j = nBins - 1; j > nBins - scanned; j--) {
      lg += channel(order[j], 0);
      lh += channel(order[j], 1);
      ln += channel(order[j], 2);
      consider(lg, lh, ln, G - lg, H - lh, N - ln, j, 0);
    }
  }
  const o = k * SPLIT_FIELD_COUNT;
  args.out[o] = bestGain;
  args.out[o + 1] = bestBin;
  args.out[o + 2] = bestLeft;
  args.out[o + 3] = bestG;
  args.out[o + 4] = bestH;
  args.out[o + 5] = bestN;
}

/** Whether bin b is in a BIN_SET_WORDS-word bitset starting at word `at`. */
function inBinSet(set: Uint32Array, at: number, b: number): boolean {
  return ((set[at + (b >>> 5)] >>> (b & 31)) & 1) === 1;
}

/** Stable in-place partition of a row segment; returns the number of rows sent left. */
export function partitionRef(args: PartitionArgs): number {
  const { bins, nRows, rows, rowBegin, rowEnd, splitBin, missingBin, scratch } = args;
  const column = args.feature * nRows;
  const missingLeft = args.defaultLeft !== 0;
  const rightBins = args.rightBins ?? null;
  let nLeft = 0, nRight = 0;
  for (let i = rowBegin; i < rowEnd; i++) {
    const r = rows[i];
    const b = bins[column + r];
    const goLeft = b === missingBin
      ? missingLeft
      : rightBins !== null
      ? !inBinSet(rightBins, 0, b)
      : b < splitBin;
    if (goLeft) rows[rowBegin + nLeft++] = r;
    else scratch[nRight++] = r;
  }
  rows.set(scratch.subarray(0, nRight), rowBegin + nLeft);
  return nLeft;
}

/** Walks each row down each tree and adds the leaf values, rounding every sum to float32. */
export function predictRef(
  args: PredictArgs,
  firstRow = 0,
  rowCount = args.nRows - firstRow,
): void {
  const { x, nCols, feature, threshold, defaultLeft, left, right, value, leafWidth } = args;
  const { treeStart, treeGroup, treeBegin, treeEnd, nOutputs, out } = args;
  const cats = args.categories;
  const fround = Math.fround;
  for (let r = firstRow; r < firstRow + rowCount; r++) {
    const row = r * nCols;
    const outRow = r * nOutputs;
    for (let t = treeBegin; t < treeEnd; t++) {
      let node = treeStart[t];
      let f = feature[node];
      while (f >= 0) {
        const v = x[row + f];
        node = v !== v
          ? (defaultLeft[node] ? left[node] : right[node])
          : cats !== undefined && cats.splitType[node] === 1
          ? (categoryGoesRight(cats.catBits, cats.catBegin[node], cats.catBegin[node + 1], v)
            ? right[node]
            : left[node])
          : v < threshold[node]
          ? left[node]
          : right[node];
        f = feature[node];
      }
      const o = outRow + treeGroup[t];
      const leaf = node * leafWidth;
      for (let j = 0; j < leafWidth; j++) out[o + j] = fround(out[o + j] + value[leaf + j]);
    }
  }
}

/** Hessians never fall below this (as XGBoost's). */
const HESSIAN_FLOOR = 1e-16;
const LOG2E = 1.4426950408889634;
/** ln 2 in two parts; the high one has enough trailing zero bits for k · LN2_HI to be exact. */
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
/** Above this, e^x is taken as +∞ (2^k would need k > 1023). */
export const EXP_MAX = 709.43;
/** Below this, e^x is 0. */
const EXP_MIN = -745.2;

/** 2^k for k in [−1074, 1023], exact (made by halving and doubling 1). */
const POW2 = (() => {
  const table = new Float64Array(2098);
  table[1074] = 1;
  for (let k = 1; k <= 1023; k++) table[1074 + k] = table[1073 + k] * 2;
  for (let k = 1; k <= 1074; k++) table[1074 - k] = table[1075 - k] / 2;
  return table;
})();

/**
 * e^r for |r| ≤ ½ ln 2: Taylor to r^13 (truncated below an ulp in that range), summed in
 * Estrin's order (pairs, then quadruples, then eights), so the additions do not wait on each
 * other in one long chain.
 */
function expPolynomial(r: number): number {
  const r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  const a0 = 1 + 1 * r, a1 = 0.5 + 1.6666666666666666e-1 * r;
  const a2 = 4.1666666666666664e-2 + 8.333333333333333e-3 * r,
    a3 = 1.3888888888888889e-3 + 1.984126984126984e-4 * r;
  const a4 = 2.48015873015873e-5 + 2.7557319223985893e-6 * r,
    a5 = 2.755731922398589e-7 + 2.505210838544172e-8 * r;
  const a6 = 2.08767569878681e-9 + 1.6059043836821613e-10 * r;
  const b0 = a0 + a1 * r2, b1 = a2 + a3 * r2, b2 = a4 + a5 * r2;
  return (b0 + b1 * r4) + (b2 + a6 * r4) * r8;
}

/**
 * e^x from additions, multiplications and a floor only, so that AssemblyScript (one lane or
 * two) reproduces it bit for bit, which Math.exp does not promise: x = k ln 2 + r, e^x = 2^k e^r.
 * Within two ulps of Math.exp.
 */
export function expPortable(x: number): number {
  if (x !== x) return x;
  if (x > EXP_MAX) return Infinity;
  if (x < EXP_MIN) return 0;
  const k = Math.floor(x * LOG2E + 0.5);
  const r = (x - k * LN2_HI) - k * LN2_LO;
  const p = expPolynomial(r);
  // Below 2^−1021 the result is subnormal: scale in two steps, both exact but the last.
  if (k < -1021) return p * POW2[1074 + k + 1022] * POW2[1074 - 1022];
  return p * POW2[1074 + k];
}

/**
 * Logistic loss: p = σ(m), g = (p − y)·s·w, h = max(p(1 − p), 10⁻¹⁶)·s·w, with s the weight of
 * positive rows.
 */
function logisticGradientsRef(args: GradientArgs): void {
  const { margins, labels, weights, scalePosWeight } = args;
  const gh = args.out[0];
  for (let r = 0; r < labels.length; r++) {
    const y = labels[r];
    const p = 1 / (1 + expPortable(-margins[r]));
    const scale = y === 1 ? scalePosWeight : 1;
    const w = weights === null ? 1 : weights[r];
    gh[2 * r] = (p - y) * scale * w;
    gh[2 * r + 1] = Math.max(p * (1 - p), HESSIAN_FLOOR) * scale * w;
  }
}

/**
 * Softmax loss over K classes: p_k from the margins less their maximum, g_k = (p_k − [y = k])·w,
 * h_k = max(2 p_k (1 − p_k), 10⁻¹⁶)·w (XGBoost's factor 2: a bound on the true diagonal).
 */
function softmaxGradientsRef(args: GradientArgs): void {
  const { margins, nOutputs: K, labels, weights, out } = args;
  const p = new Float64Array(K);
  for (let r = 0; r < labels.length; r++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, margins[r * K + k]);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += p[k] = expPortable(margins[r * K + k] - max);
    const w = weights === null ? 1 : weights[r];
    for (let k = 0; k < K; k++) {
      const pk = p[k] / sum;
      out[k][2 * r] = (pk - (labels[r] === k ? 1 : 0)) * w;
      out[k][2 * r + 1] = Math.max(2 * pk * (1 - pk), HESSIAN_FLOOR) * w;
    }
  }
}

/** The gradients of either loss (the reference of TreesKernels.gradients). */
export function gradientsRef(args: GradientArgs): void {
  if (args.loss === "logistic") logisticGradientsRef(args);
  else softmaxGradientsRef(args);
}

/**
 * The best of per-feature results `out` (SPLIT_FIELD_COUNT each, in candidate order): highest
 * gain, the earlier candidate on ties. Returns its position, −1 when no candidate can split.
 */
export function bestCandidate(out: Float64Array, count: number): number {
  let k = -1;
  for (let i = 0; i < count; i++) {
    if (out[i * SPLIT_FIELD_COUNT] > (k < 0 ? -Infinity : out[k * SPLIT_FIELD_COUNT])) k = i;
  }
  return k;
}

/** The reference of TreesWorkspace.addLeaves, on the workspace's row order `rows`. */
export function addLeavesRef(step: LeafStep, rows: Int32Array): void {
  const { margins, nOutputs: K, k, segments, values } = step;
  for (let i = 0; i < step.leafCount; i++) {
    const v = values[i];
    for (let j = segments[2 * i]; j < segments[2 * i + 1]; j++) margins[rows[j] * K + k] += v;
  }
}

/**
 * TreesWorkspace.rowSums: each of the C channels of `values` (C per row) summed over
 * rows[0 .. count), one value after another in row order, into out[0 .. C). A function of its
 * own (inside a larger method such a loop ran at ~7 ns a row; here ~0.8 ns a row and channel).
 */
export function rowSumsRef(
  values: Float64Array,
  C: number,
  rows: Int32Array,
  count: number,
  out: Float64Array,
): void {
  for (let j = 0; j < C; j++) {
    let sum = 0;
    for (let i = 0; i < count; i++) sum += values[rows[i] * C + j];
    out[j] = sum;
  }
}

/** The reference workspace: one step is the per-node kernels above, node after node. */
class JsWorkspace implements TreesWorkspace {
  readonly #args: WorkspaceArgs;
  readonly #values: Float64Array;
  readonly #rows: Int32Array;
  readonly #scratch: Int32Array;
  readonly #histLength: number;
  readonly #hists: Float64Array[] = [];
  #out = new Float64Array(0);

  constructor(args: WorkspaceArgs) {
    this.#args = args;
    this.#values = new Float64Array(args.nRows * args.nChannels);
    this.#rows = new Int32Array(args.nRows);
    this.#scratch = new Int32Array(args.nRows);
    this.#histLength = args.binOffsets[args.nFeatures] * args.nChannels;
  }

  values(): Float64Array | null {
    return null;
  }

  margins(): Float64Array | null {
    return null;
  }

  addLeaves(step: LeafStep): Promise<void> {
    addLeavesRef(step, this.#rows);
    return Promise.resolve();
  }

  setValues(values: Float64Array): void {
    this.#values.set(values.subarray(0, this.#values.length));
  }

  setRows(rows: Int32Array, count: number): void {
    this.#rows.set(rows.subarray(0, count));
  }

  setRowsInOrder(count: number): void {
    for (let i = 0; i < count; i++) this.#rows[i] = i;
  }

  rowSums(count: number, out: Float64Array): void {
    rowSumsRef(this.#values, this.#args.nChannels, this.#rows, count, out);
  }

  readRows(out: Int32Array, count: number): void {
    out.set(this.#rows.subarray(0, count));
  }

  readHistogram(slot: number, feature: number, out: Float64Array): void {
    const C = this.#args.nChannels, offsets = this.#args.binOffsets;
    out.set(this.#hist(slot).subarray(offsets[feature] * C, offsets[feature + 1] * C));
  }

  grow(step: GrowthStep): Promise<void> {
    const { bins, nRows, nChannels, binOffsets, monotone } = this.#args;
    const { features, featureCount } = step;
    for (let j = 0; j < step.buildCount; j++) {
      const o = j * BUILD_FIELD_COUNT;
      buildHistogramRef({
        bins,
        nRows,
        rows: this.#rows,
        rowBegin: step.build[o + BUILD_FIELD.rowBegin],
        rowEnd: step.build[o + BUILD_FIELD.rowEnd],
        values: this.#values,
        nChannels,
        features,
        featureCount,
        binOffsets,
        hist: this.#hist(step.build[o + BUILD_FIELD.slot]),
      });
    }
    for (let j = 0; j < step.subtractCount; j++) {
      const o = j * SUBTRACT_FIELD_COUNT;
      const hist = this.#hist(step.subtract[o + SUBTRACT_FIELD.slot]);
      subtractHistogramRef({
        parent: hist,
        child: this.#hist(step.subtract[o + SUBTRACT_FIELD.childSlot]),
        out: hist,
        nChannels,
        features,
        featureCount,
        binOffsets,
      });
    }
    for (let i = 0; i < step.searchCount; i++) {
      const from = step.candidateOffsets[i], count = step.candidateOffsets[i + 1] - from;
      if (this.#out.length < count * SPLIT_FIELD_COUNT) {
        this.#out = new Float64Array(count * SPLIT_FIELD_COUNT);
      }
      findSplitsRef({
        hist: this.#hist(step.search[i]),
        nChannels,
        features: step.candidates.subarray(from),
        featureCount: count,
        binOffsets,
        monotone,
        categorical: this.#args.categorical ?? null,
        params: step.params.subarray(i * SPLIT_PARAM_COUNT, (i + 1) * SPLIT_PARAM_COUNT),
        out: this.#out,
      });
      const k = bestCandidate(this.#out, count);
      const best = step.best.subarray(i * SPLIT_FIELD_COUNT, (i + 1) * SPLIT_FIELD_COUNT);
      if (k < 0) {
        best.fill(0);
        best[0] = -Infinity;
      } else best.set(this.#out.subarray(k * SPLIT_FIELD_COUNT, (k + 1) * SPLIT_FIELD_COUNT));
      step.bestFeature[i] = k < 0 ? -1 : step.candidates[from + k];
    }
    return Promise.resolve();
  }

  partition(step: PartitionStep): Promise<void> {
    const { bins, nRows } = this.#args;
    for (let i = 0; i < step.nodeCount; i++) {
      const o = i * PARTITION_FIELD_COUNT;
      step.nLeft[i] = partitionRef({
        bins,
        nRows,
        rows: this.#rows,
        rowBegin: step.nodes[o + PARTITION_FIELD.rowBegin],
        rowEnd: step.nodes[o + PARTITION_FIELD.rowEnd],
        feature: step.nodes[o + PARTITION_FIELD.feature],
        splitBin: step.nodes[o + PARTITION_FIELD.splitBin],
        missingBin: step.nodes[o + PARTITION_FIELD.missingBin],
        defaultLeft: step.nodes[o + PARTITION_FIELD.defaultLeft],
        rightBins: step.categorical?.[i] === 1
          ? step.rightBins!.subarray(i * BIN_SET_WORDS, (i + 1) * BIN_SET_WORDS)
          : null,
        scratch: this.#scratch,
      });
    }
    return Promise.resolve();
  }

  release(): void {
    this.#hists.length = 0;
  }

  #hist(slot: number): Float64Array {
    return this.#hists[slot] ??= new Float64Array(this.#histLength);
  }
}

export const jsTrees: TreesKernels = {
  name: "js",
  retain: () => Promise.resolve(),
  release: () => Promise.resolve(),
  sortDistinct(args) {
    sortDistinctColumnsRef(args);
    return Promise.resolve();
  },
  binFeatures(args) {
    binFeaturesRef(args);
    return Promise.resolve();
  },
  buildHistogram(args) {
    buildHistogramRef(args);
    return Promise.resolve();
  },
  subtractHistogram(args) {
    subtractHistogramRef(args);
    return Promise.resolve();
  },
  findSplits(args) {
    findSplitsRef(args);
    return Promise.resolve();
  },
  partition(args) {
    return Promise.resolve(partitionRef(args));
  },
  shap(args, firstRow, rowCount) {
    shapRef(args, firstRow, rowCount);
    return Promise.resolve();
  },
  predict(args, firstRow, rowCount) {
    predictRef(args, firstRow, rowCount);
    return Promise.resolve();
  },
  gradients(args) {
    gradientsRef(args);
    return Promise.resolve();
  },
  workspace: (args) => new JsWorkspace(args),
};
