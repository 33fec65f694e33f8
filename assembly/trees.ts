// The `trees` kernels: feature binning, gradient histograms, split search, row partition and
// batch prediction. Layouts are those of src/backends/trees.ts:
//
//   bins    u8, column-major        feature f, row r at  f·nRows + r   (missing = nBins_f)
//   values  f64, row-major          channel c of row r at  r·C + c
//   hist    f64, slot-major         channel c of slot s at  s·C + c,  slot = binOffsets[f] + bin
//
// Every sum runs in the order of the TypeScript reference (src/backends/js/trees.ts): one
// feature's slots are accumulated row by row in segment order, prediction adds trees in order
// in float32. Results are bit-identical to it, whatever range of features or rows a call gets.

import { vectorAt } from "./_simd";

/** Rows per block of row-blocked prediction. */
const ROW_BLOCK = 256;

// @ts-ignore: decorator
@inline function i32At(base: usize, index: i32): i32 {
  return load<i32>(base + (<usize>index << 2));
}

// @ts-ignore: decorator
@inline function f64At(base: usize, index: i32): f64 {
  return load<f64>(base + (<usize>index << 3));
}

// @ts-ignore: decorator
@inline function edgeAt(edges: usize, i: i32): f32 {
  return load<f32>(edges + (<usize>i << 2));
}

// The bin of v among `count` upper edges (f32) at `edges`: how many are <= v. Branch-free
// halving (the select compiles to a conditional move), as the reference does it.
// @ts-ignore: decorator
@inline function binOf(edges: usize, count: i32, v: f32): i32 {
  if (count == 0) return 0;
  let base: i32 = 0, n = count;
  while (n > 1) {
    const half = n >>> 1;
    base = select<i32>(base + half, base, edgeAt(edges, base + half - 1) <= v);
    n -= half;
  }
  return base + select<i32>(1, 0, edgeAt(edges, base) <= v);
}

/**
 * Sorts `values` (n float32, no NaN) ascending in place, then moves the distinct ones to the
 * front, each one's count to `counts` (i32), and writes how many there are to `out`: the reference's
 * sortDistinctRef (src/backends/js/trees.ts), value for value. A radix sort of the bits made
 * order-preserving (negatives flipped whole, positives their sign bit), 11 bits a digit, all
 * three digits counted in one pass and a digit every value shares skipped. `scratch` holds n
 * u32 and `digits` 3 × 2048 i32. −0 and +0 count as one value (the first, −0), as `!=` says.
 * `counts` may be `scratch`: the last pass writes count d only after it has read key d.
 */
export function trees_sort_distinct_f32(
  values: usize, n: i32, counts: usize, scratch: usize, digits: usize, out: usize,
): void {
  store<i32>(out, 0);
  if (n == 0) return;
  memory.fill(digits, 0, 3 * 2048 * 4);
  for (let i = 0; i < n; i++) {
    const at = values + (<usize>i << 2);
    const bits = load<u32>(at);
    const key = (bits & 0x80000000) != 0 ? ~bits : bits | 0x80000000;
    store<u32>(at, key);
    countDigit(digits, key & 2047);
    countDigit(digits + 8192, (key >>> 11) & 2047);
    countDigit(digits + 16384, key >>> 22);
  }
  let from = values, to = scratch;
  for (let digit = 0; digit < 3; digit++) {
    const table = digits + <usize>(digit * 8192), shift = <u32>(digit * 11);
    if (load<i32>(table + (<usize>((load<u32>(from) >>> shift) & 2047) << 2)) == n) continue;
    for (let b = 0, total = 0; b < 2048; b++) {
      const at = table + (<usize>b << 2);
      const c = load<i32>(at);
      store<i32>(at, total);
      total += c;
    }
    for (let i = 0; i < n; i++) {
      const key = load<u32>(from + (<usize>i << 2));
      const at = table + (<usize>((key >>> shift) & 2047) << 2);
      const slot = load<i32>(at);
      store<i32>(at, slot + 1);
      store<u32>(to + (<usize>slot << 2), key);
    }
    const swap = from;
    from = to;
    to = swap;
  }
  // Keys back to floats, into `values`, keeping the first of each run of equal values.
  let distinct = 0;
  let last: f32 = 0;
  for (let i = 0; i < n; i++) {
    const key = load<u32>(from + (<usize>i << 2));
    const v = reinterpret<f32>((key & 0x80000000) != 0 ? key & 0x7fffffff : ~key);
    if (i == 0 || v != last) {
      store<f32>(values + (<usize>distinct << 2), v);
      store<i32>(counts + (<usize>distinct << 2), 0);
      distinct++;
      last = v;
    }
    const at = counts + (<usize>(distinct - 1) << 2);
    store<i32>(at, load<i32>(at) + 1);
  }
  store<i32>(out, distinct);
}

// @ts-ignore: decorator
@inline function countDigit(table: usize, digit: u32): void {
  const at = table + (<usize>digit << 2);
  store<i32>(at, load<i32>(at) + 1);
}

/**
 * Bins of rows [rowBegin, rowEnd) for every feature. Rows outside, features inside: x is read
 * in its row-major order and each feature's column of bins is written sequentially.
 */
export function trees_bin_f32(
  bins: usize, x: usize, splitValues: usize, binOffsets: usize,
  nRows: i32, nCols: i32, rowBegin: i32, rowEnd: i32,
): void {
  // Eight rows at a time (as trees_predict_f32 walks trees): their searches through a
  // feature's edges are independent, so the CPU overlaps their chains of dependent loads,
  // where one search alone waits on each load.
  let r = rowBegin;
  for (; r + 8 <= rowEnd; r += 8) {
    const row = x + ((<usize>r * <usize>nCols) << 2), stride = <usize>nCols << 2;
    for (let f = 0; f < nCols; f++) {
      const offset = i32At(binOffsets, f);
      const nBins = i32At(binOffsets, f + 1) - offset - 1;
      const at = row + (<usize>f << 2);
      const v0 = load<f32>(at), v1 = load<f32>(at + stride);
      const v2 = load<f32>(at + 2 * stride), v3 = load<f32>(at + 3 * stride);
      const v4 = load<f32>(at + 4 * stride), v5 = load<f32>(at + 5 * stride);
      const v6 = load<f32>(at + 6 * stride), v7 = load<f32>(at + 7 * stride);
      // Upper edges of value bins 0 .. nBins − 2 start at splitValues[offset + 1].
      const edges = splitValues + (<usize>(offset + 1) << 2);
      let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, b7 = 0;
      if (nBins > 1) {
        // binOf on eight values at once.
        for (let n = nBins - 1; n > 1;) {
          const half = n >>> 1;
          b0 = select<i32>(b0 + half, b0, edgeAt(edges, b0 + half - 1) <= v0);
          b1 = select<i32>(b1 + half, b1, edgeAt(edges, b1 + half - 1) <= v1);
          b2 = select<i32>(b2 + half, b2, edgeAt(edges, b2 + half - 1) <= v2);
          b3 = select<i32>(b3 + half, b3, edgeAt(edges, b3 + half - 1) <= v3);
          b4 = select<i32>(b4 + half, b4, edgeAt(edges, b4 + half - 1) <= v4);
          b5 = select<i32>(b5 + half, b5, edgeAt(edges, b5 + half - 1) <= v5);
          b6 = select<i32>(b6 + half, b6, edgeAt(edges, b6 + half - 1) <= v6);
          b7 = select<i32>(b7 + half, b7, edgeAt(edges, b7 + half - 1) <= v7);
          n -= half;
        }
        b0 += select<i32>(1, 0, edgeAt(edges, b0) <= v0);
        b1 += select<i32>(1, 0, edgeAt(edges, b1) <= v1);
        b2 += select<i32>(1, 0, edgeAt(edges, b2) <= v2);
        b3 += select<i32>(1, 0, edgeAt(edges, b3) <= v3);
        b4 += select<i32>(1, 0, edgeAt(edges, b4) <= v4);
        b5 += select<i32>(1, 0, edgeAt(edges, b5) <= v5);
        b6 += select<i32>(1, 0, edgeAt(edges, b6) <= v6);
        b7 += select<i32>(1, 0, edgeAt(edges, b7) <= v7);
      }
      const column = bins + <usize>f * <usize>nRows + <usize>r;
      store<u8>(column, <u8>(v0 != v0 ? nBins : b0));
      store<u8>(column + 1, <u8>(v1 != v1 ? nBins : b1));
      store<u8>(column + 2, <u8>(v2 != v2 ? nBins : b2));
      store<u8>(column + 3, <u8>(v3 != v3 ? nBins : b3));
      store<u8>(column + 4, <u8>(v4 != v4 ? nBins : b4));
      store<u8>(column + 5, <u8>(v5 != v5 ? nBins : b5));
      store<u8>(column + 6, <u8>(v6 != v6 ? nBins : b6));
      store<u8>(column + 7, <u8>(v7 != v7 ? nBins : b7));
    }
  }
  for (; r < rowEnd; r++) {
    const row = x + ((<usize>r * <usize>nCols) << 2);
    for (let f = 0; f < nCols; f++) {
      const offset = i32At(binOffsets, f);
      const nBins = i32At(binOffsets, f + 1) - offset - 1;
      const v = load<f32>(row + (<usize>f << 2));
      // Upper edges of value bins 0 .. nBins − 2 start at splitValues[offset + 1].
      const edges = splitValues + (<usize>(offset + 1) << 2);
      const bin = v != v ? nBins : binOf(edges, nBins - 1, v);
      store<u8>(bins + <usize>f * <usize>nRows + <usize>r, <u8>bin);
    }
  }
}

// Histogram with two channels (gradient, hessian): one f64x2 add per row and feature.
//
//   slot s:  [ G | H ]  16 bytes        values row r:  [ g | h ]  16 bytes
//
// Eight features share each row's load of (g, h) and its row index, and their slots (8 × 4 KiB
// at 256 bins) stay in L1; each feature's slots still see the rows in segment order.

// @ts-ignore: decorator
@inline function addRow(h: usize, column: usize, r: usize, gh: v128): void {
  const s = h + (<usize>load<u8>(column + r) << 4);
  v128.store(s, f64x2.add(v128.load(s), gh));
}

// @ts-ignore: decorator
@inline function slotsOf(hist: usize, binOffsets: usize, features: usize, k: i32): usize {
  return hist + (<usize>i32At(binOffsets, i32At(features, k)) << 4);
}

// @ts-ignore: decorator
@inline function columnOf(bins: usize, features: usize, k: i32, nRows: i32): usize {
  return bins + <usize>i32At(features, k) * <usize>nRows;
}

function histogram2(
  hist: usize, bins: usize, rows: usize, values: usize, binOffsets: usize, features: usize,
  nRows: i32, rowBegin: i32, rowEnd: i32, featureBegin: i32, featureEnd: i32, gathered: usize,
): void {
  // As few passes over the rows as 8 features a pass allows, their widths as even as possible
  // (14 features: 7 + 7, not 8 + 4 + 2), so a task of a feature group reads the rows no more
  // often than its share of a single task's passes.
  const n = featureEnd - featureBegin;
  const passes = (n + 7) >> 3;
  let k = featureBegin;
  for (let p = 0; p < passes; p++) {
    const width = n / passes + <i32>(p < n % passes);
    switch (width) {
      case 8: histogramPass(8, hist, bins, rows, values, binOffsets, features, nRows, rowBegin, rowEnd, k, gathered); break;
      case 7: histogramPass(7, hist, bins, rows, values, binOffsets, features, nRows, rowBegin, rowEnd, k, gathered); break;
      case 6: histogramPass(6, hist, bins, rows, values, binOffsets, features, nRows, rowBegin, rowEnd, k, gathered); break;
      case 5: histogramPass(5, hist, bins, rows, values, binOffsets, features, nRows, rowBegin, rowEnd, k, gathered); break;
      case 4: histogramPass(4, hist, bins, rows, values, binOffsets, features, nRows, rowBegin, rowEnd, k, gathered); break;
      case 3: histogramPass(3, hist, bins, rows, values, binOffsets, features, nRows, rowBegin, rowEnd, k, gathered); break;
      case 2: histogramPass(2, hist, bins, rows, values, binOffsets, features, nRows, rowBegin, rowEnd, k, gathered); break;
      default: histogramPass(1, hist, bins, rows, values, binOffsets, features, nRows, rowBegin, rowEnd, k, gathered);
    }
    k += width;
  }
}

// One pass over the rows for features[k .. k + width), width 1..8: inlined at each call with a
// constant width, so the unused features' lines fold away. With `gathered` (the segment's
// (g, h) pairs copied out in segment order) it reads them sequentially instead of at scattered
// row indices.
// @ts-ignore: decorator
@inline function histogramPass(
  width: i32, hist: usize, bins: usize, rows: usize, values: usize, binOffsets: usize,
  features: usize, nRows: i32, rowBegin: i32, rowEnd: i32, k: i32, gathered: usize,
): void {
  const stepped = gathered != 0;
  const h0 = slotsOf(hist, binOffsets, features, k), c0 = columnOf(bins, features, k, nRows);
  const h1 = width > 1 ? slotsOf(hist, binOffsets, features, k + 1) : 0;
  const c1 = width > 1 ? columnOf(bins, features, k + 1, nRows) : 0;
  const h2 = width > 2 ? slotsOf(hist, binOffsets, features, k + 2) : 0;
  const c2 = width > 2 ? columnOf(bins, features, k + 2, nRows) : 0;
  const h3 = width > 3 ? slotsOf(hist, binOffsets, features, k + 3) : 0;
  const c3 = width > 3 ? columnOf(bins, features, k + 3, nRows) : 0;
  const h4 = width > 4 ? slotsOf(hist, binOffsets, features, k + 4) : 0;
  const c4 = width > 4 ? columnOf(bins, features, k + 4, nRows) : 0;
  const h5 = width > 5 ? slotsOf(hist, binOffsets, features, k + 5) : 0;
  const c5 = width > 5 ? columnOf(bins, features, k + 5, nRows) : 0;
  const h6 = width > 6 ? slotsOf(hist, binOffsets, features, k + 6) : 0;
  const c6 = width > 6 ? columnOf(bins, features, k + 6, nRows) : 0;
  const h7 = width > 7 ? slotsOf(hist, binOffsets, features, k + 7) : 0;
  const c7 = width > 7 ? columnOf(bins, features, k + 7, nRows) : 0;
  let g = gathered;
  for (let i = rowBegin; i < rowEnd; i++) {
    const r = <usize>i32At(rows, i);
    const gh = v128.load(stepped ? g : values + (r << 4));
    g += 16;
    addRow(h0, c0, r, gh);
    if (width > 1) addRow(h1, c1, r, gh);
    if (width > 2) addRow(h2, c2, r, gh);
    if (width > 3) addRow(h3, c3, r, gh);
    if (width > 4) addRow(h4, c4, r, gh);
    if (width > 5) addRow(h5, c5, r, gh);
    if (width > 6) addRow(h6, c6, r, gh);
    if (width > 7) addRow(h7, c7, r, gh);
  }
}

/** Any channel count: (gradient, hessian) as one f64x2 add, further channels one by one. */
function histogramN(
  hist: usize, bins: usize, rows: usize, values: usize, binOffsets: usize, features: usize,
  nRows: i32, rowBegin: i32, rowEnd: i32, nChannels: i32, featureBegin: i32, featureEnd: i32,
): void {
  const stride = <usize>nChannels << 3;
  for (let k = featureBegin; k < featureEnd; k++) {
    const f = i32At(features, k);
    const h = hist + <usize>i32At(binOffsets, f) * stride, c = bins + <usize>f * <usize>nRows;
    for (let i = rowBegin; i < rowEnd; i++) {
      const r = <usize>i32At(rows, i);
      const s = h + <usize>load<u8>(c + r) * stride;
      const v = values + r * stride;
      if (nChannels >= 2) {
        v128.store(s, f64x2.add(v128.load(s), v128.load(v)));
        for (let j = 2; j < nChannels; j++) {
          const o = <usize>j << 3;
          store<f64>(s + o, load<f64>(s + o) + load<f64>(v + o));
        }
      } else {
        store<f64>(s, load<f64>(s) + load<f64>(v));
      }
    }
  }
}

/** Zeroes the slots of features[featureBegin .. featureEnd); `stride` bytes per slot. */
function zeroSlots(
  hist: usize, binOffsets: usize, features: usize, stride: usize, featureBegin: i32, featureEnd: i32,
): void {
  for (let k = featureBegin; k < featureEnd; k++) {
    const f = i32At(features, k);
    const first = <usize>i32At(binOffsets, f), last = <usize>i32At(binOffsets, f + 1);
    memory.fill(hist + first * stride, 0, (last - first) * stride);
  }
}

/**
 * Histogram of rows[rowBegin .. rowEnd) for features[featureBegin .. featureEnd): their slots
 * are zeroed, then every row's channels are added to its bin's slot.
 */
export function trees_hist_build_f64(
  hist: usize, bins: usize, rows: usize, values: usize, binOffsets: usize, features: usize,
  nRows: i32, rowBegin: i32, rowEnd: i32, nChannels: i32, featureBegin: i32, featureEnd: i32,
): void {
  zeroSlots(hist, binOffsets, features, <usize>nChannels << 3, featureBegin, featureEnd);
  if (nChannels == 2) {
    histogram2(hist, bins, rows, values, binOffsets, features, nRows, rowBegin, rowEnd, featureBegin, featureEnd, 0);
  } else {
    histogramN(hist, bins, rows, values, binOffsets, features, nRows, rowBegin, rowEnd, nChannels, featureBegin, featureEnd);
  }
}

/** out = parent − child on the slots of features[featureBegin .. featureEnd). */
export function trees_hist_subtract_f64(
  out: usize, parent: usize, child: usize, binOffsets: usize, features: usize,
  nChannels: i32, featureBegin: i32, featureEnd: i32,
): void {
  for (let k = featureBegin; k < featureEnd; k++) {
    const f = i32At(features, k);
    const first = <usize>(i32At(binOffsets, f) * nChannels) << 3;
    const end = <usize>(i32At(binOffsets, f + 1) * nChannels) << 3;
    let o = first;
    for (; o + 16 <= end; o += 16) {
      v128.store(out + o, f64x2.sub(v128.load(parent + o), v128.load(child + o)));
    }
    for (; o < end; o += 8) store<f64>(out + o, load<f64>(parent + o) - load<f64>(child + o));
  }
}

// Split scoring: the maths of SplitScorer (src/backends/trees.ts), operation for operation.
// The parameters ride along as arguments of inlined helpers, so they stay in registers.

// @ts-ignore: decorator
@inline function softThreshold(g: f64, alpha: f64): f64 {
  if (g > alpha) return g - alpha;
  if (g < -alpha) return g + alpha;
  return 0;
}

// @ts-ignore: decorator
@inline function leafWeight(
  g: f64, h: f64, lambda: f64, alpha: f64, minChildWeight: f64, maxDeltaStep: f64, lower: f64, upper: f64,
): f64 {
  if (h <= 0 || h < minChildWeight) return 0;
  let w = -softThreshold(g, alpha) / (h + lambda);
  if (maxDeltaStep != 0 && Math.abs(w) > maxDeltaStep) w = w > 0 ? maxDeltaStep : -maxDeltaStep;
  if (w < lower) return lower;
  if (w > upper) return upper;
  return w;
}

// @ts-ignore: decorator
@inline function nodeScore(
  g: f64, h: f64, lambda: f64, alpha: f64, minChildWeight: f64, maxDeltaStep: f64, lower: f64, upper: f64,
  closedForm: bool,
): f64 {
  if (h <= 0 || h < minChildWeight) return 0;
  if (closedForm) {
    const t = softThreshold(g, alpha);
    return (t * t) / (h + lambda);
  }
  const w = leafWeight(g, h, lambda, alpha, minChildWeight, maxDeltaStep, lower, upper);
  return -(2 * g * w + (h + lambda) * w * w);
}

/**
 * Best split of each of features[featureBegin .. featureEnd) (see SplitArgs): out receives 6
 * f64 per feature, at the feature's position in the list. `monotone` is 0 for none.
 */
export function trees_find_splits_f64(
  out: usize, hist: usize, binOffsets: usize, features: usize, monotone: usize, params: usize,
  nChannels: i32, featureBegin: i32, featureEnd: i32,
): void {
  const lambda = f64At(params, 0), alpha = f64At(params, 1);
  const minChildWeight = f64At(params, 2), maxDeltaStep = f64At(params, 3);
  const lower = f64At(params, 5), upper = f64At(params, 6);
  const closedForm = maxDeltaStep == 0 && monotone == 0;
  const C = nChannels;
  const counted = C >= 3;
  const minSamples: f64 = counted ? max<f64>(1, f64At(params, 4)) : 0;
  const G = f64At(params, 7), H = f64At(params, 8);
  const N: f64 = counted ? f64At(params, 9) : 0;
  const parentScore = nodeScore(G, H, lambda, alpha, minChildWeight, maxDeltaStep, lower, upper, closedForm);
  const plain = !counted && closedForm && alpha == 0;
  for (let k = featureBegin; k < featureEnd; k++) {
    const f = i32At(features, k);
    const offset = i32At(binOffsets, f);
    const nBins = i32At(binOffsets, f + 1) - offset - 1;
    const constraint: i32 = monotone == 0 ? 0 : <i32>load<i8>(monotone + <usize>f);
    const m = (offset + nBins) * C;
    const missingG = f64At(hist, m), missingH = f64At(hist, m + 1);
    const missingN: f64 = counted ? f64At(hist, m + 2) : 0;
    const hasMissing = missingH > 0 || missingN > 0;
    let bestGain = -Infinity, bestBin: f64 = 0, bestLeft: f64 = 0;
    let bestG: f64 = 0, bestH: f64 = 0, bestN: f64 = 0;
    const directions = hasMissing ? 2 : 1;
    // Direction 0: missing right, split bins 1 .. nBins (nBins only separates the missing rows).
    // Direction 1: missing left, split bins 0 .. nBins − 1 (0 sends only the missing rows left).
    for (let direction = 0; direction < directions; direction++) {
      let lg: f64 = direction ? missingG : 0, lh: f64 = direction ? missingH : 0;
      let ln: f64 = direction ? missingN : 0;
      const first = direction ? 0 : 1;
      const last = hasMissing ? (direction ? nBins - 1 : nBins) : nBins - 1;
      for (let b = 0; b < first; b++) {
        lg += f64At(hist, (offset + b) * C);
        lh += f64At(hist, (offset + b) * C + 1);
        if (counted) ln += f64At(hist, (offset + b) * C + 2);
      }
      if (plain && constraint == 0) {
        // Two channels, free weights, no L1: the score is G²/(H + λ) with nothing to clip (the
        // child checks cover nodeScore's own). Two split bins at a time, s and s + 1: each
        // lane's sums, checks and gain are the general loop's operations in the same order
        // (f64x2 lanes round as scalars do), and the lanes meet the best in bin order: the
        // same bits. On histograms in cache, 2.0 ns a split bin against 3.5 one at a time
        // (bench/split_search_bench.ts).
        const gv = f64x2.splat(G), hv = f64x2.splat(H), lv = f64x2.splat(lambda);
        const mcw = f64x2.splat(minChildWeight), zero = f64x2.splat(0);
        const pv = f64x2.splat(parentScore), none = f64x2.splat(-Infinity);
        const secondLane = i64x2(0, -1);
        // The sums at split bin s: those of the bins below it.
        let sums = f64x2(lg, lh);
        for (let s = first; s <= last; s += 2) {
          const p0 = sums;
          // Slot s is the feature's own (its missing slot at most, where s = last = nBins).
          const p1 = f64x2.add(p0, v128.load(hist + (<usize>(offset + s) << 4)));
          if (s + 2 <= last) sums = f64x2.add(p1, v128.load(hist + (<usize>(offset + s + 1) << 4)));
          const lgs = v128.shuffle<f64>(p0, p1, 0, 2), lhs = v128.shuffle<f64>(p0, p1, 1, 3);
          const rgs = f64x2.sub(gv, lgs), rhs = f64x2.sub(hv, lhs);
          let invalid = v128.or(
            v128.or(f64x2.lt(lhs, mcw), f64x2.lt(rhs, mcw)),
            v128.or(f64x2.le(lhs, zero), f64x2.le(rhs, zero)),
          );
          if (s == last) invalid = v128.or(invalid, secondLane);
          // softThreshold(g, 0) is g, except for NaN, which it maps to 0.
          const tl = v128.bitselect(lgs, zero, f64x2.eq(lgs, lgs));
          const tr = v128.bitselect(rgs, zero, f64x2.eq(rgs, rgs));
          const score = f64x2.add(
            f64x2.div(f64x2.mul(tl, tl), f64x2.add(lhs, lv)),
            f64x2.div(f64x2.mul(tr, tr), f64x2.add(rhs, lv)),
          );
          const gains = v128.bitselect(none, f64x2.sub(score, pv), invalid);
          if (!v128.any_true(f64x2.gt(gains, f64x2.splat(bestGain)))) continue;
          const g0 = f64x2.extract_lane(gains, 0), g1 = f64x2.extract_lane(gains, 1);
          if (g0 > bestGain) {
            bestGain = g0;
            bestBin = <f64>s;
            bestLeft = <f64>direction;
            bestG = f64x2.extract_lane(p0, 0);
            bestH = f64x2.extract_lane(p0, 1);
          }
          if (g1 > bestGain) {
            bestGain = g1;
            bestBin = <f64>(s + 1);
            bestLeft = <f64>direction;
            bestG = f64x2.extract_lane(p1, 0);
            bestH = f64x2.extract_lane(p1, 1);
          }
        }
        continue;
      }
      for (let s = first; s <= last; s++) {
        if (s > first) {
          const slot = (offset + s - 1) * C;
          lg += f64At(hist, slot);
          lh += f64At(hist, slot + 1);
          if (counted) ln += f64At(hist, slot + 2);
        }
        const rg = G - lg, rh = H - lh, rn = N - ln;
        if (lh < minChildWeight || rh < minChildWeight || lh <= 0 || rh <= 0) continue;
        if (counted && (ln < minSamples || rn < minSamples)) continue;
        if (constraint != 0) {
          const wl = leafWeight(lg, lh, lambda, alpha, minChildWeight, maxDeltaStep, lower, upper);
          const wr = leafWeight(rg, rh, lambda, alpha, minChildWeight, maxDeltaStep, lower, upper);
          if (constraint > 0 ? wl > wr : wl < wr) continue;
        }
        const gain = nodeScore(lg, lh, lambda, alpha, minChildWeight, maxDeltaStep, lower, upper, closedForm) +
          nodeScore(rg, rh, lambda, alpha, minChildWeight, maxDeltaStep, lower, upper, closedForm) - parentScore;
        if (gain > bestGain) {
          bestGain = gain;
          bestBin = <f64>s;
          bestLeft = <f64>direction;
          bestG = lg;
          bestH = lh;
          bestN = ln;
        }
      }
    }
    const o = out + (<usize>(k * 6) << 3);
    store<f64>(o, bestGain);
    store<f64>(o, bestBin, 8);
    store<f64>(o, bestLeft, 16);
    store<f64>(o, bestG, 24);
    store<f64>(o, bestH, 32);
    store<f64>(o, bestN, 40);
  }
}

/**
 * Byte shuffles (i8x16.swizzle) that move the i32 lanes named by a 4-bit mask to the front, in
 * lane order: 16 bytes per mask, mask 0 first; the bytes after the moved lanes are don't-cares.
 */
const PACK_LANES: usize = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0,
  8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0,
  4, 5, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0,
  12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0,
  4, 5, 6, 7, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 0, 0, 0, 0,
  8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0,
  4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 0, 0, 0,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
]);

/**
 * The stable split of rows[i0 .. i1) by `column`: rows going left are written in order from
 * `leftAt`, the others from `rightAt`; returns how many went left. Four rows a step: their bins
 * gathered into one vector, compared at once, and each side's rows packed by a shuffle and
 * stored whole. A store may write up to three don't-care lanes past its side's count: both
 * sides' writes stay within the first (rows read so far + 4) slots from their start, so a side
 * written in place (leftAt or rightAt = rows + i0) never overwrites a row not yet read, and
 * later stores or the caller's moves overwrite the don't-cares.
 */
// @ts-ignore: decorator
@inline function splitRows(
  rows: usize, column: usize, i0: i32, i1: i32, leftAt: usize, rightAt: usize,
  splitBin: i32, missingBin: i32, missingLeft: bool,
): i32 {
  let nLeft = 0, nRight = 0, i = i0;
  const split = i32x4.splat(splitBin), missing = i32x4.splat(missingBin);
  const missingSide = i32x4.splat(missingLeft ? -1 : 0);
  for (; i + 4 <= i1; i += 4) {
    const at = rows + (<usize>i << 2);
    const r = v128.load(at);
    let b = i32x4.splat(<i32>load<u8>(column + <usize>load<i32>(at)));
    b = i32x4.replace_lane(b, 1, <i32>load<u8>(column + <usize>load<i32>(at, 4)));
    b = i32x4.replace_lane(b, 2, <i32>load<u8>(column + <usize>load<i32>(at, 8)));
    b = i32x4.replace_lane(b, 3, <i32>load<u8>(column + <usize>load<i32>(at, 12)));
    const left = v128.bitselect(missingSide, i32x4.lt_s(b, split), i32x4.eq(b, missing));
    const mask = i32x4.bitmask(left);
    const n = <i32>popcnt<u32>(mask);
    const toLeft = v128.load(PACK_LANES + (<usize>mask << 4));
    const toRight = v128.load(PACK_LANES + (<usize>(mask ^ 15) << 4));
    v128.store(leftAt + (<usize>nLeft << 2), i8x16.swizzle(r, toLeft));
    v128.store(rightAt + (<usize>nRight << 2), i8x16.swizzle(r, toRight));
    nLeft += n;
    nRight += 4 - n;
  }
  // The last rows one by one, branch-free: each row written to both sides, one count moved on.
  for (; i < i1; i++) {
    const r = i32At(rows, i);
    const b = <i32>load<u8>(column + <usize>r);
    const goLeft = <i32>select<bool>(missingLeft, b < splitBin, b == missingBin);
    store<i32>(leftAt + (<usize>nLeft << 2), r);
    store<i32>(rightAt + (<usize>nRight << 2), r);
    nLeft += goLeft;
    nRight += goLeft ^ 1;
  }
  return nLeft;
}

/**
 * Stable partition of rows[rowBegin .. rowEnd): rows going left first, then the others, each
 * part in its old order. Returns the number sent left. `scratch` holds the right part meanwhile.
 */
export function trees_partition(
  rows: usize, scratch: usize, bins: usize, nRows: i32, rowBegin: i32, rowEnd: i32,
  feature: i32, splitBin: i32, missingBin: i32, defaultLeft: i32,
): i32 {
  const column = bins + <usize>feature * <usize>nRows;
  const nLeft = splitRows(
    rows, column, rowBegin, rowEnd, rows + (<usize>rowBegin << 2), scratch, splitBin, missingBin,
    defaultLeft != 0,
  );
  const nRight = rowEnd - rowBegin - nLeft;
  memory.copy(rows + (<usize>(rowBegin + nLeft) << 2), scratch, <usize>nRight << 2);
  return nLeft;
}

// A growth step (src/backends/trees.ts, GrowthStep) for the features features[k0 .. k1): a
// task of one feature group, so tasks of one step write disjoint slots and results. Records
// hold byte offsets where the TypeScript record holds slot numbers:
//
//   build     i32 × 3 per histogram:  hist, rowBegin, rowEnd
//   subtract  i32 × 2 per sibling:    hist (parent in, sibling out), child hist
//   search    i32 per node:           hist;  params f64 × 10 per node
//   out       f64 × 6 per candidate, at the candidate's index in `candidates`
//
// With `claims` (shared memory, one task per lane), the lanes deal the step's features among
// themselves as they go, instead of each running a fixed group: a lane's speed varies from step
// to step (its features' bins, the other lane's load on the shared caches), and a fixed split
// left one lane waiting for the other 10% of a step (median; 28% at the 90th percentile). Each
// lane owns a range of features (the split learnt from the last steps) and takes chunks off its
// front, each half of what is left (at most 8, one histogram pass); a lane whose range is empty
// takes half of what is left off the back of another's. A feature's histograms, subtraction and
// search are still one lane's work, in the same order: the results do not depend on who ran it.
//
//   claims, per lane l (16 bytes):  i64 at 16·l: front (low 32 bits) | back (high 32 bits)
//                                   i32 at 16·l + 8: features this lane ran (written at its end)
//           after the lanes':       i32 × 2: gather chunks taken, gather chunks done (see
//                                   gatherShared; both 0 before the step)
export function trees_grow_step_f64(
  bins: usize, values: usize, rows: usize, binOffsets: usize, features: usize,
  build: usize, subtract: usize, search: usize, params: usize, candidates: usize,
  candidateOffsets: usize, monotone: usize, out: usize,
  nRows: i32, nChannels: i32, k0: i32, k1: i32, nBuild: i32, nSubtract: i32, nSearch: i32,
  scratch: usize, scratchRows: i32, claims: usize, lane: i32, lanes: i32,
): void {
  if (k1 <= k0) return;
  // A segment deep in the tree is a sparse subset of the rows: its (g, h) pairs are copied out
  // once for the step's passes (by a claimed step's lanes together, see gatherShared), then
  // read in order. Not for one pass a lane (8 features or fewer, e.g. a 16-feature fit's
  // groups on two threads), which would read them scattered once anyway: 200k-row fits without
  // that copy took 2.6–4.1% less time (six alternating fits each, 7 features on one thread
  // twice, 16 on two; same models).
  const share = claims == 0 ? k1 - k0 : (k1 - k0) / lanes;
  const gathered = nChannels == 2 && share > 8 ? scratch : 0;
  if (claims == 0) {
    growFeatures(
      bins, values, rows, binOffsets, features, build, subtract, search, params, candidates,
      candidateOffsets, monotone, out, nRows, nChannels, k0, k1, nBuild, nSubtract, nSearch,
      gathered, scratchRows, true,
    );
    return;
  }
  // The lanes gather the (g, h) pairs once, together, into the one block they all read.
  if (gathered != 0) {
    gatherShared(values, rows, build, nBuild, gathered, scratchRows, claims + (<usize>lanes << 4));
  }
  let ran = 0;
  for (let v = 0; v < lanes; v++) {
    // Its own range first (v = 0), then the others' from the back.
    const victim = (lane + v) % lanes;
    const word = claims + (<usize>victim << 4);
    for (;;) {
      const range = claimHalf(word, v == 0);
      const c0 = <i32>(range & 0xffffffff), c1 = <i32>(range >>> 32);
      if (c1 <= c0) break;
      growFeatures(
        bins, values, rows, binOffsets, features, build, subtract, search, params, candidates,
        candidateOffsets, monotone, out, nRows, nChannels, c0, c1, nBuild, nSubtract, nSearch,
        gathered, scratchRows, false,
      );
      ran += c1 - c0;
    }
  }
  store<i32>(claims + (<usize>lane << 4), ran, 8);
}

/** Rows of (g, h) pairs a lane gathers at a time in gatherShared. */
const GATHER_CHUNK: i32 = 4096;
/** Looks at the done counter before a lane gathers every chunk itself (~1–3 ms of polling). */
const GATHER_PATIENCE: i32 = 1 << 20;

/**
 * The (g, h) pairs of the step's gathered builds (those that fit in `scratchRows` rows, placed
 * as growFeatures reads them), copied into `pairs` by every lane of a claimed step together:
 * each takes chunks of GATHER_CHUNK rows off a shared counter (`word`) until none are left,
 * then waits for the chunks still being copied by others (µs; never for a lane that has not
 * started, whose chunks this lane takes). A lane that waits past GATHER_PATIENCE copies every
 * chunk itself: the same values into the same places, so a lane stalled or gone mid-chunk
 * costs a few ms, never a hang. Each lane gathered every pair itself before, so the gather
 * (~85 ms of a 200k × 28 fit) did not shrink with more lanes.
 */
function gatherShared(
  values: usize, rows: usize, build: usize, nBuild: i32, pairs: usize, scratchRows: i32,
  word: usize,
): void {
  let total = 0;
  for (let j = 0; j < nBuild; j++) {
    const record = build + (<usize>(j * 3) << 2);
    const count = load<i32>(record, 8) - load<i32>(record, 4);
    if (count <= scratchRows - total) total += count;
  }
  const chunks = (total + GATHER_CHUNK - 1) / GATHER_CHUNK;
  for (;;) {
    const c = atomic.add<i32>(word, 1);
    if (c >= chunks) break;
    const g0 = c * GATHER_CHUNK;
    gatherRange(values, rows, build, nBuild, pairs, scratchRows, g0, min(total, g0 + GATHER_CHUNK));
    atomic.add<i32>(word + 4, 1);
  }
  for (let look = 0; atomic.load<i32>(word + 4) < chunks; look++) {
    if (look == GATHER_PATIENCE) {
      gatherRange(values, rows, build, nBuild, pairs, scratchRows, 0, total);
      break;
    }
  }
}

/** Pairs [g0, g1) of the gathered builds, each build at its place in `pairs` (see gatherShared). */
function gatherRange(
  values: usize, rows: usize, build: usize, nBuild: i32, pairs: usize, scratchRows: i32,
  g0: i32, g1: i32,
): void {
  let at = 0;
  for (let j = 0; j < nBuild && at < g1; j++) {
    const record = build + (<usize>(j * 3) << 2);
    const rowBegin = load<i32>(record, 4), count = load<i32>(record, 8) - rowBegin;
    if (count > scratchRows - at) continue;
    const lo = max(g0, at), hi = min(g1, at + count), from = rowBegin - at;
    copyPairs(values, rows, from + lo, from + hi, pairs + (<usize>lo << 4));
    at += count;
  }
}

/** The (g, h) pairs of rows[from .. to), in that order, into `pairs`. */
// @ts-ignore: decorator
@inline function copyPairs(values: usize, rows: usize, from: i32, to: i32, pairs: usize): void {
  for (let i = from; i < to; i++) {
    const r = <usize>i32At(rows, i);
    v128.store(pairs + (<usize>(i - from) << 4), v128.load(values + (r << 4)));
  }
}

/**
 * Takes half of what is left of the range at `word` (front | back << 32), at most 8 features
 * and at least 1: off its front for its owner, off its back for another lane. Returns the range
 * taken, c0 | c1 << 32 (empty where nothing was left).
 */
function claimHalf(word: usize, front: bool): u64 {
  let seen = atomic.load<u64>(word), taken: u64 = 0, done = false;
  while (!done) {
    const lo = <i32>(seen & 0xffffffff), hi = <i32>(seen >>> 32);
    const left = hi - lo;
    if (left <= 0) return 0;
    const take = min(8, max(1, (left + <i32>front) >> 1));
    const c0 = front ? lo : hi - take, c1 = front ? lo + take : hi;
    const rest = front
      ? (<u64>(<u32>c1)) | (<u64>(<u32>hi) << 32)
      : (<u64>(<u32>lo)) | (<u64>(<u32>c0) << 32);
    taken = (<u64>(<u32>c0)) | (<u64>(<u32>c1) << 32);
    const was = atomic.cmpxchg<u64>(word, seen, rest);
    done = was == seen;
    seen = was;
  }
  return taken;
}

/**
 * The step for features[k0 .. k1): each build's histograms, the siblings' subtractions, the
 * searches over this range's candidates. With `gathered`, builds read their (g, h) pairs from
 * there, each build at the sum of the sizes of the gathered builds before it (those that fit in
 * `scratchRows` rows; the others read in place), copied out first where `gather`.
 */
function growFeatures(
  bins: usize, values: usize, rows: usize, binOffsets: usize, features: usize,
  build: usize, subtract: usize, search: usize, params: usize, candidates: usize,
  candidateOffsets: usize, monotone: usize, out: usize,
  nRows: i32, nChannels: i32, k0: i32, k1: i32, nBuild: i32, nSubtract: i32, nSearch: i32,
  gathered: usize, scratchRows: i32, gather: bool,
): void {
  let at = 0;
  for (let j = 0; j < nBuild; j++) {
    const record = build + (<usize>(j * 3) << 2);
    const hist = <usize>load<i32>(record);
    const rowBegin = load<i32>(record, 4), rowEnd = load<i32>(record, 8);
    const count = rowEnd - rowBegin;
    if (gathered != 0 && count <= scratchRows - at) {
      const pairs = gathered + (<usize>at << 4);
      at += count;
      if (gather) copyPairs(values, rows, rowBegin, rowEnd, pairs);
      zeroSlots(hist, binOffsets, features, 16, k0, k1);
      histogram2(hist, bins, rows, values, binOffsets, features, nRows, rowBegin, rowEnd, k0, k1, pairs);
    } else {
      trees_hist_build_f64(hist, bins, rows, values, binOffsets, features, nRows, rowBegin, rowEnd, nChannels, k0, k1);
    }
  }
  for (let j = 0; j < nSubtract; j++) {
    const record = subtract + (<usize>(j * 2) << 2);
    const hist = <usize>load<i32>(record);
    trees_hist_subtract_f64(hist, hist, <usize>load<i32>(record, 4), binOffsets, features, nChannels, k0, k1);
  }
  // Candidates are increasing and among features: this range's are those in [lowest, highest].
  const lowest = i32At(features, k0), highest = i32At(features, k1 - 1);
  for (let i = 0; i < nSearch; i++) {
    let from = i32At(candidateOffsets, i), to = i32At(candidateOffsets, i + 1);
    while (from < to && i32At(candidates, from) < lowest) from++;
    while (to > from && i32At(candidates, to - 1) > highest) to--;
    trees_find_splits_f64(
      out, <usize>i32At(search, i), binOffsets, candidates, monotone,
      params + (<usize>(i * 10) << 3), nChannels, from, to,
    );
  }
}

/**
 * Partitions the segments of nodes[nodeBegin .. nodeEnd) (i32 × 6 each: rowBegin, rowEnd,
 * feature, splitBin, missingBin, defaultLeft) and writes each node's left count to nLeft. A
 * node's right part waits in scratch at its own segment's position, so tasks never share it.
 */
export function trees_partition_nodes(
  rows: usize, scratch: usize, bins: usize, nodes: usize, nLeft: usize,
  nRows: i32, nodeBegin: i32, nodeEnd: i32,
): void {
  for (let i = nodeBegin; i < nodeEnd; i++) {
    const node = nodes + (<usize>(i * 6) << 2);
    const rowBegin = load<i32>(node);
    const left = trees_partition(
      rows, scratch + (<usize>rowBegin << 2), bins, nRows, rowBegin, load<i32>(node, 4),
      load<i32>(node, 8), load<i32>(node, 12), load<i32>(node, 16), load<i32>(node, 20),
    );
    store<i32>(nLeft + (<usize>i << 2), left);
  }
}

// A level's partition dealt by row ranges, so one large node keeps every thread busy: each
// task partitions its pieces (contiguous parts of one node's segment), then one merge in the
// calling thread puts each cut node's parts in place. The result is the stable partition, the
// same whatever the pieces:
//
//   rows     [ p0 | p1 | p2 ]            a node's segment, cut into pieces
//   pieces:  scratch[p] ← its left rows (in order), rows[p] ← its right rows (in order)
//   merge:   rows ← [ L0 L1 L2 | R0 R1 R2 ]
//
// A piece that is its node's whole segment (all but the nodes cut at the tasks' boundaries)
// is put in place by its task, so the merge's serial copies are only the cut nodes'.
//
// Pieces: i32 × 3 each (node index into `nodes` as in trees_partition_nodes, begin, end);
// pieceLeft gets each piece's left count.
export function trees_partition_pieces(
  rows: usize, scratch: usize, bins: usize, nodes: usize, pieces: usize, pieceLeft: usize,
  nRows: i32, pieceBegin: i32, pieceEnd: i32,
): void {
  for (let p = pieceBegin; p < pieceEnd; p++) {
    const piece = pieces + (<usize>(p * 3) << 2);
    const node = nodes + (<usize>(load<i32>(piece) * 6) << 2);
    const begin = load<i32>(piece, 4), end = load<i32>(piece, 8);
    const column = bins + <usize>load<i32>(node, 8) * <usize>nRows;
    const splitBin = load<i32>(node, 12), missingBin = load<i32>(node, 16);
    const missingLeft = load<i32>(node, 20) != 0;
    let nLeft: i32;
    if (isWholeNode(nodes, pieces, p)) {
      // The node's whole segment, put in place here (as trees_partition): the merge skips it.
      nLeft = splitRows(
        rows, column, begin, end, rows + (<usize>begin << 2), scratch + (<usize>begin << 2),
        splitBin, missingBin, missingLeft,
      );
      memory.copy(
        rows + (<usize>(begin + nLeft) << 2), scratch + (<usize>begin << 2),
        <usize>(end - begin - nLeft) << 2,
      );
    } else {
      nLeft = splitRows(
        rows, column, begin, end, scratch + (<usize>begin << 2), rows + (<usize>begin << 2),
        splitBin, missingBin, missingLeft,
      );
    }
    store<i32>(pieceLeft + (<usize>p << 2), nLeft);
  }
}

/** Whether piece p covers its node's whole segment. */
// @ts-ignore: decorator
@inline function isWholeNode(nodes: usize, pieces: usize, p: i32): bool {
  const node = nodes + (<usize>(i32At(pieces, p * 3) * 6) << 2);
  const begin = i32At(pieces, p * 3 + 1), end = i32At(pieces, p * 3 + 2);
  return begin == load<i32>(node) && end == load<i32>(node, 4);
}

/**
 * Puts the parts left by trees_partition_pieces in place (pieces ordered by node, then by
 * position; whole-segment pieces are in place already) and writes each node's left count to
 * nLeft. Right parts only move right: moved last piece first, none overwrites one still to move.
 */
export function trees_partition_merge(
  rows: usize, scratch: usize, nodes: usize, pieces: usize, pieceLeft: usize, nLeft: usize,
  nodeCount: i32, pieceCount: i32,
): void {
  for (let i = 0; i < nodeCount; i++) store<i32>(nLeft + (<usize>i << 2), 0);
  for (let p = 0; p < pieceCount; p++) {
    const at = nLeft + (<usize>i32At(pieces, p * 3) << 2);
    store<i32>(at, load<i32>(at) + i32At(pieceLeft, p));
  }
  // Right parts, last piece first: each ends where the next one's destination begins.
  let destination = 0, node = -1;
  for (let p = pieceCount - 1; p >= 0; p--) {
    const n = i32At(pieces, p * 3);
    if (n != node) {
      node = n;
      destination = i32At(nodes, n * 6 + 1);
    }
    const begin = i32At(pieces, p * 3 + 1), end = i32At(pieces, p * 3 + 2);
    const right = end - begin - i32At(pieceLeft, p);
    destination -= right;
    if (isWholeNode(nodes, pieces, p)) continue;
    memory.copy(rows + (<usize>destination << 2), rows + (<usize>begin << 2), <usize>right << 2);
  }
  // Left parts, first piece first, from the start of each node's segment.
  node = -1;
  for (let p = 0; p < pieceCount; p++) {
    const n = i32At(pieces, p * 3);
    if (n != node) {
      node = n;
      destination = i32At(nodes, n * 6);
    }
    const begin = i32At(pieces, p * 3 + 1), left = i32At(pieceLeft, p);
    if (!isWholeNode(nodes, pieces, p)) {
      memory.copy(
        rows + (<usize>destination << 2), scratch + (<usize>begin << 2), <usize>left << 2,
      );
    }
    destination += left;
  }
}

/** rows[i] = i for i in [0, count): a tree's rows when it grows on all of them, in order. */
export function trees_rows_in_order_i32(rows: usize, count: i32): void {
  let i = 0;
  let v = i32x4(0, 1, 2, 3);
  const four = i32x4.splat(4);
  for (; i + 4 <= count; i += 4) {
    v128.store(rows + (<usize>i << 2), v);
    v = i32x4.add(v, four);
  }
  for (; i < count; i++) store<i32>(rows + (<usize>i << 2), i);
}

/**
 * Each channel's sum over rows[0 .. count) of values (nChannels f64 per row) into out (f64 ×
 * nChannels): the root's sums, each channel's values added one at a time in row order, as
 * TreesWorkspace.rowSums says. Lanes of an f64x2 add are two such sums side by side, so
 * (gradient, hessian) pairs are added as one vector.
 */
export function trees_row_sums_f64(
  values: usize, rows: usize, count: i32, nChannels: i32, out: usize,
): void {
  const stride = <usize>nChannels << 3;
  let j = 0;
  if (nChannels >= 2) {
    let gh = f64x2.splat(0);
    for (let i = 0; i < count; i++) {
      gh = f64x2.add(gh, v128.load(values + <usize>i32At(rows, i) * stride));
    }
    v128.store(out, gh);
    j = 2;
  }
  for (; j < nChannels; j++) {
    const o = <usize>j << 3;
    let sum = 0.0;
    for (let i = 0; i < count; i++) sum += load<f64>(values + <usize>i32At(rows, i) * stride + o);
    store<f64>(out + o, sum);
  }
}

/**
 * The margin update of a boosting round (TreesWorkspace.addLeaves) for leaves
 * [leafBegin, leafEnd), restricted to rows [rowLo, rowHi): margins[rows[j]·K + k] += values[i]
 * over leaf i's segment (i32 × 2: rowBegin, rowEnd) where rowLo <= rows[j] < rowHi. Tasks split
 * by row ranges write disjoint stretches of the margins (tasks dealt leaves would write all
 * over them, as a leaf's rows lie everywhere). Where every segment is ascending (`ascending`),
 * a task finds its rows by binary search; else it reads every segment through.
 */
export function trees_add_leaves_f64(
  margins: usize, rows: usize, segments: usize, values: usize, k: i32, nOutputs: i32,
  leafBegin: i32, leafEnd: i32, rowLo: i32, rowHi: i32, ascending: i32,
): void {
  const base = margins + (<usize>k << 3), stride = <usize>nOutputs << 3;
  const span = <u32>(rowHi - rowLo);
  for (let i = leafBegin; i < leafEnd; i++) {
    const v = f64At(values, i);
    let j = i32At(segments, 2 * i), end = i32At(segments, 2 * i + 1);
    if (ascending) {
      // The first position whose row is >= rowLo; rows from there on stop at rowHi.
      let hi = end;
      while (j < hi) {
        const mid = (j + hi) >>> 1;
        if (i32At(rows, mid) < rowLo) j = mid + 1;
        else hi = mid;
      }
      for (; j < end; j++) {
        const r = i32At(rows, j);
        if (r >= rowHi) break;
        const at = base + <usize>r * stride;
        store<f64>(at, load<f64>(at) + v);
      }
    } else {
      for (; j < end; j++) {
        const r = i32At(rows, j);
        if (<u32>(r - rowLo) >= span) continue;
        const at = base + <usize>r * stride;
        store<f64>(at, load<f64>(at) + v);
      }
    }
  }
}

// Prediction walks a packed copy of the model, one 16-byte record per node, so a step reads one
// cache line:
//
//   node i (at byte 16·i):  [ left | right | feature word | threshold f32 ]
//
// left and right are the children's byte offsets (16·index), and the feature word is the
// feature's byte offset within a row (4·feature) with flags in bits 30 and 31 (31: missing goes
// left), so a step needs no shifts. A leaf points to itself with feature 0, so walking on from a
// leaf changes nothing and every row of a tree takes the same number of steps (the tree's
// depth), with no branch on the data. Eight rows walk a tree together: their steps are
// independent, which hides the latency of each step's loads. Models without categorical splits
// walk a copy of the loop without the categorical test (16-19% faster in Chromium and Firefox).

// Categorical nodes (bit 30 of the feature word) hold in their threshold slot the word offset,
// within `cats`, of their category set: [word count][bitset words…], category c at bit c & 31
// of word c >> 5. A value in the set goes right; NaN follows defaultLeft; any other value left.
const CATEGORICAL: i32 = 0x40000000;

/** Whether a present value goes right at a categorical node whose set starts at `set`. */
export function categoryGoesRight(set: usize, v: f32): bool {
  if (!(v >= 0 && v < 16777216)) return false;
  const c = <i32>v;
  const word = c >>> 5;
  if (word >= load<i32>(set)) return false;
  return ((load<u32>(set + 4 + (<usize>word << 2)) >>> (c & 31)) & 1) != 0;
}

function stepCategorical(nodes: usize, cats: usize, node: i32, row: usize): i32 {
  const p = nodes + <usize>node;
  const word = load<i32>(p, 8);
  const v = load<f32>(row + <usize>(word & 0x3fffffff));
  if (v != v) return word < 0 ? load<i32>(p) : load<i32>(p, 4);
  const set = cats + (<usize>load<i32>(p, 12) << 2);
  return categoryGoesRight(set, v) ? load<i32>(p, 4) : load<i32>(p);
}

// @ts-ignore: decorator
@inline function step(nodes: usize, cats: usize, node: i32, row: usize, categorical: bool): i32 {
  const p = nodes + <usize>node;
  const word = load<i32>(p, 8);
  if (categorical && (word & CATEGORICAL) != 0) return stepCategorical(nodes, cats, node, row);
  const v = load<f32>(row + <usize>(word & 0x3fffffff));
  const goLeft = select<bool>(word < 0, v < load<f32>(p, 12), v != v);
  return select<i32>(load<i32>(p), load<i32>(p, 4), goLeft);
}

// @ts-ignore: decorator
@inline function addLeaf(out: usize, value: usize, node: i32, leafWidth: i32): void {
  if (leafWidth == 1) {
    // node is 16·index: the leaf's one value is at 4·index.
    store<f32>(out, load<f32>(out) + load<f32>(value + (<usize>node >> 2)));
    return;
  }
  const leaf = value + ((<usize>(node >> 4) * <usize>leafWidth) << 2);
  for (let j = 0; j < leafWidth; j++) {
    const at = out + (<usize>j << 2);
    store<f32>(at, load<f32>(at) + load<f32>(leaf + (<usize>j << 2)));
  }
}

/**
 * Adds trees [treeBegin, treeEnd) to out for rows [rowBegin, rowEnd), rounding every sum to
 * float32. Rows go in blocks of 256 with the tree loop outside, so a tree's nodes stay in cache
 * while a block walks it; each output still receives the trees in order.
 */
export function trees_predict_f32(
  out: usize, x: usize, nodes: usize, value: usize, treeStart: usize, treeDepth: usize,
  treeGroup: usize, cats: usize, nCols: i32, leafWidth: i32, nOutputs: i32, treeBegin: i32,
  treeEnd: i32, rowBegin: i32, rowEnd: i32,
): void {
  // `cats` is 0 for models without categorical splits: their walk has no categorical test.
  if (cats == 0) {
    predictRows(out, x, nodes, value, treeStart, treeDepth, treeGroup, 0, nCols, leafWidth,
      nOutputs, treeBegin, treeEnd, rowBegin, rowEnd, false);
  } else {
    predictRows(out, x, nodes, value, treeStart, treeDepth, treeGroup, cats, nCols, leafWidth,
      nOutputs, treeBegin, treeEnd, rowBegin, rowEnd, true);
  }
}

// trees_predict_f32's loops, inlined once per value of `categorical` (a constant there).
// @ts-ignore: decorator
@inline function predictRows(
  out: usize, x: usize, nodes: usize, value: usize, treeStart: usize, treeDepth: usize,
  treeGroup: usize, cats: usize, nCols: i32, leafWidth: i32, nOutputs: i32, treeBegin: i32,
  treeEnd: i32, rowBegin: i32, rowEnd: i32, categorical: bool,
): void {
  const rowBytes = <usize>nCols << 2, outBytes = <usize>nOutputs << 2;
  for (let r0 = rowBegin; r0 < rowEnd; r0 += ROW_BLOCK) {
    const r1 = min(rowEnd, r0 + ROW_BLOCK);
    for (let t = treeBegin; t < treeEnd; t++) {
      const root = i32At(treeStart, t) << 4, depth = i32At(treeDepth, t);
      const o = out + (<usize>i32At(treeGroup, t) << 2);
      let r = r0;
      for (; r + 8 <= r1; r += 8) {
        const x0 = x + <usize>r * rowBytes;
        let n0 = root, n1 = root, n2 = root, n3 = root, n4 = root, n5 = root, n6 = root, n7 = root;
        for (let d = 0; d < depth; d++) {
          n0 = step(nodes, cats, n0, x0, categorical);
          n1 = step(nodes, cats, n1, x0 + rowBytes, categorical);
          n2 = step(nodes, cats, n2, x0 + 2 * rowBytes, categorical);
          n3 = step(nodes, cats, n3, x0 + 3 * rowBytes, categorical);
          n4 = step(nodes, cats, n4, x0 + 4 * rowBytes, categorical);
          n5 = step(nodes, cats, n5, x0 + 5 * rowBytes, categorical);
          n6 = step(nodes, cats, n6, x0 + 6 * rowBytes, categorical);
          n7 = step(nodes, cats, n7, x0 + 7 * rowBytes, categorical);
        }
        const o0 = o + <usize>r * outBytes;
        addLeaf(o0, value, n0, leafWidth);
        addLeaf(o0 + outBytes, value, n1, leafWidth);
        addLeaf(o0 + 2 * outBytes, value, n2, leafWidth);
        addLeaf(o0 + 3 * outBytes, value, n3, leafWidth);
        addLeaf(o0 + 4 * outBytes, value, n4, leafWidth);
        addLeaf(o0 + 5 * outBytes, value, n5, leafWidth);
        addLeaf(o0 + 6 * outBytes, value, n6, leafWidth);
        addLeaf(o0 + 7 * outBytes, value, n7, leafWidth);
      }
      for (; r < r1; r++) {
        const row = x + <usize>r * rowBytes;
        let node = root;
        for (let d = 0; d < depth; d++) node = step(nodes, cats, node, row, categorical);
        addLeaf(o + <usize>r * outBytes, value, node, leafWidth);
      }
    }
  }
}

// Gradients of the logistic and softmax losses with the reference's portable exponential
// (src/backends/js/trees.ts, expPortable): the same operations, lane by lane, so every bit
// agrees with the reference. Two rows share each f64x2 vector.

const LOG2E: f64 = 1.4426950408889634;
const LN2_HI: f64 = 0.6931471803691238;
const LN2_LO: f64 = 1.9082149292705877e-10;
const EXP_MAX: f64 = 709.43;
const EXP_MIN: f64 = -745.2;
/** From here up to EXP_MAX, 2^k is a normal number and one multiplication scales. */
const EXP_NORMAL: f64 = -707.5;
/** 2^52 + 1023: k plus this holds k + 1023 (the biased exponent of 2^k) in its low bits. */
const BIASED_EXPONENT: f64 = 4503599627371519;
const HESSIAN_FLOOR: f64 = 1e-16;

// @ts-ignore: decorator
@inline function pow2(k: i64): f64 {
  return reinterpret<f64>((k + 1023) << 52);
}

/** expPortable, one value. */
function expScalar(x: f64): f64 {
  if (x != x) return x;
  if (x > EXP_MAX) return Infinity;
  if (x < EXP_MIN) return 0;
  const k = Math.floor(x * LOG2E + 0.5);
  const r = (x - k * LN2_HI) - k * LN2_LO;
  const p = expPolynomial(r);
  const ki = <i64>k;
  if (ki < -1021) return p * pow2(ki + 1022) * pow2(-1022);
  return p * pow2(ki);
}

/**
 * e^r, |r| ≤ ½ ln 2, in the reference's order (expPolynomial): Estrin's pairs, quadruples and
 * eights of the Taylor terms to r^13.
 */
// @ts-ignore: decorator
@inline function expPolynomial(r: f64): f64 {
  const r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  const a0 = 1 + 1 * r, a1 = 0.5 + 1.6666666666666666e-1 * r;
  const a2 = 4.1666666666666664e-2 + 8.333333333333333e-3 * r, a3 = 1.3888888888888889e-3 + 1.984126984126984e-4 * r;
  const a4 = 2.48015873015873e-5 + 2.7557319223985893e-6 * r, a5 = 2.755731922398589e-7 + 2.505210838544172e-8 * r;
  const a6 = 2.08767569878681e-9 + 1.6059043836821613e-10 * r;
  const b0 = a0 + a1 * r2, b1 = a2 + a3 * r2, b2 = a4 + a5 * r2;
  return (b0 + b1 * r4) + (b2 + a6 * r4) * r8;
}

/**
 * The exponential's and the gradients' constants, each as an f64x2 (both lanes alike), read with
 * vectorAt (see _simd.ts): the logistic gradients 6.2 → 4.0 ns a row on the same bits (Deno,
 * Sapphire Rapids), where they were v128 constants.
 */
const VC: usize = memory.data<f64>([
  EXP_NORMAL, EXP_NORMAL, EXP_MAX, EXP_MAX, LOG2E, LOG2E, 0.5, 0.5, LN2_HI, LN2_HI, LN2_LO, LN2_LO,
  BIASED_EXPONENT, BIASED_EXPONENT, 1, 1, 2, 2, HESSIAN_FLOOR, HESSIAN_FLOOR,
  // The Taylor terms of e^r, 1/0! to 1/13!.
  1, 1, 1, 1, 0.5, 0.5, 1.6666666666666666e-1, 1.6666666666666666e-1,
  4.1666666666666664e-2, 4.1666666666666664e-2, 8.333333333333333e-3, 8.333333333333333e-3,
  1.3888888888888889e-3, 1.3888888888888889e-3, 1.984126984126984e-4, 1.984126984126984e-4,
  2.48015873015873e-5, 2.48015873015873e-5, 2.7557319223985893e-6, 2.7557319223985893e-6,
  2.755731922398589e-7, 2.755731922398589e-7, 2.505210838544172e-8, 2.505210838544172e-8,
  2.08767569878681e-9, 2.08767569878681e-9, 1.6059043836821613e-10, 1.6059043836821613e-10,
]);
/** Indices of VC's vectors. */
const V_NORMAL = 0, V_MAX = 1, V_LOG2E = 2, V_HALF = 3, V_LN2_HI = 4, V_LN2_LO = 5;
const V_BIASED = 6, V_ONE = 7, V_TWO = 8, V_FLOOR = 9, V_TERMS = 10;

/** Taylor terms i and i + 1 of e^r: c_i + c_(i+1)·r on two lanes. */
// @ts-ignore: decorator
@inline function pair(r: v128, i: i32): v128 {
  return f64x2.add(vectorAt(VC, V_TERMS + i), f64x2.mul(vectorAt(VC, V_TERMS + i + 1), r));
}

/**
 * expPortable on two lanes: the vector path while both lie in [EXP_NORMAL, EXP_MAX], each lane
 * alone otherwise (NaN, overflow, underflow, subnormal results). e^r (|r| ≤ ½ ln 2) in the
 * reference's order (expPolynomial): Estrin's pairs, quadruples and eights of the Taylor terms
 * to r^13.
 */
// @ts-ignore: decorator
@inline function exp2(x: v128): v128 {
  // Both lanes in the normal range, compared as a vector (a NaN fails, as it must).
  const normal = v128.and(f64x2.ge(x, vectorAt(VC, V_NORMAL)), f64x2.le(x, vectorAt(VC, V_MAX)));
  if (!i64x2.all_true(normal)) {
    const x0 = f64x2.extract_lane(x, 0), x1 = f64x2.extract_lane(x, 1);
    return f64x2.replace_lane(f64x2.splat(expScalar(x0)), 1, expScalar(x1));
  }
  const k = f64x2.floor(f64x2.add(f64x2.mul(x, vectorAt(VC, V_LOG2E)), vectorAt(VC, V_HALF)));
  const r = f64x2.sub(
    f64x2.sub(x, f64x2.mul(k, vectorAt(VC, V_LN2_HI))),
    f64x2.mul(k, vectorAt(VC, V_LN2_LO)),
  );
  const r2 = f64x2.mul(r, r), r4 = f64x2.mul(r2, r2), r8 = f64x2.mul(r4, r4);
  const a0 = pair(r, 0), a1 = pair(r, 2), a2 = pair(r, 4), a3 = pair(r, 6);
  const a4 = pair(r, 8), a5 = pair(r, 10), a6 = pair(r, 12);
  const b0 = f64x2.add(a0, f64x2.mul(a1, r2)), b1 = f64x2.add(a2, f64x2.mul(a3, r2));
  const b2 = f64x2.add(a4, f64x2.mul(a5, r2));
  const p = f64x2.add(
    f64x2.add(b0, f64x2.mul(b1, r4)),
    f64x2.mul(f64x2.add(b2, f64x2.mul(a6, r4)), r8),
  );
  // 2^k from k's bits: (k + 1023) << 52 in each 64-bit lane. k is a whole number in the normal
  // range, so k + 2^52 + 1023 holds k + 1023 exactly in its low mantissa bits, and the shift
  // drops the rest (one add, where converting k to an integer costs V8 a sequence).
  return f64x2.mul(p, i64x2.shl(f64x2.add(k, vectorAt(VC, V_BIASED)), 52));
}

/** [g0, h0] and [g1, h1] from g = [g0, g1], h = [h0, h1], stored at `at` (2 rows). */
// @ts-ignore: decorator
@inline function storePairs(at: usize, g: v128, h: v128): void {
  v128.store(at, v128.shuffle<f64>(g, h, 0, 2));
  v128.store(at, v128.shuffle<f64>(g, h, 1, 3), 16);
}

/**
 * Logistic gradients of rows [rowBegin, rowEnd) into out (row-major pairs). `weights` is 0 for
 * none.
 */
export function trees_logistic_gradients_f64(
  out: usize, margins: usize, labels: usize, weights: usize, scalePosWeight: f64,
  rowBegin: i32, rowEnd: i32,
): void {
  const positive = f64x2.splat(scalePosWeight);
  let r = rowBegin;
  for (; r + 2 <= rowEnd; r += 2) {
    // Loaded each row pair (see VC), as are the exponential's.
    const one = vectorAt(VC, V_ONE), floor = vectorAt(VC, V_FLOOR);
    const at = <usize>r << 3;
    const p = f64x2.div(one, f64x2.add(one, exp2(f64x2.neg(v128.load(margins + at)))));
    const y = v128.load(labels + at);
    const scale = v128.bitselect(positive, one, f64x2.eq(y, one));
    let g = f64x2.mul(f64x2.sub(p, y), scale);
    let h = f64x2.mul(f64x2.pmax(f64x2.mul(p, f64x2.sub(one, p)), floor), scale);
    if (weights != 0) {
      const w = v128.load(weights + at);
      g = f64x2.mul(g, w);
      h = f64x2.mul(h, w);
    }
    storePairs(out + (<usize>r << 4), g, h);
  }
  for (; r < rowEnd; r++) {
    const at = <usize>r << 3;
    const y = load<f64>(labels + at);
    const p = 1 / (1 + expScalar(-load<f64>(margins + at)));
    const scale: f64 = y == 1 ? scalePosWeight : 1;
    const w: f64 = weights != 0 ? load<f64>(weights + at) : 1;
    store<f64>(out + (<usize>r << 4), (p - y) * scale * w);
    store<f64>(out + (<usize>r << 4), max<f64>(p * (1 - p), HESSIAN_FLOOR) * scale * w, 8);
  }
}

/**
 * Softmax gradients of rows [rowBegin, rowEnd) over K classes. `outs` holds K i32 offsets, one
 * array of row pairs per class; `probabilities` is scratch for K·2 values.
 *
 * The vector maxima are pmax (one instruction; f64x2.max's NaN and −0 rules cost V8 a sequence
 * of them, and this kernel ran 1.2–1.5× as long with it), with the same results: a NaN margin
 * makes the sum, so every probability, NaN either way; a top of −0 or +0 changes no difference
 * m − top's exponential; and pmax(x, floor) is x for a NaN x, as max is.
 */
export function trees_softmax_gradients_f64(
  outs: usize, margins: usize, labels: usize, weights: usize, probabilities: usize,
  K: i32, rowBegin: i32, rowEnd: i32,
): void {

  let r = rowBegin;
  for (; r + 2 <= rowEnd; r += 2) {
    const one = vectorAt(VC, V_ONE), two = vectorAt(VC, V_TWO), floor = vectorAt(VC, V_FLOOR);
    const m0 = margins + ((<usize>r * <usize>K) << 3), m1 = m0 + (<usize>K << 3);
    // The two rows' margins of class k side by side, gathered once into the scratch.
    let top = f64x2.splat(-Infinity);
    for (let k = 0; k < K; k++) {
      const m = f64x2.replace_lane(f64x2.splat(load<f64>(m0 + (<usize>k << 3))), 1, load<f64>(m1 + (<usize>k << 3)));
      v128.store(probabilities + (<usize>k << 4), m);
      top = f64x2.pmax(top, m);
    }
    let sum = f64x2.splat(0);
    for (let k = 0; k < K; k++) {
      const e = exp2(f64x2.sub(v128.load(probabilities + (<usize>k << 4)), top));
      v128.store(probabilities + (<usize>k << 4), e);
      sum = f64x2.add(sum, e);
    }
    const y = v128.load(labels + (<usize>r << 3));
    const w = weights != 0 ? v128.load(weights + (<usize>r << 3)) : one;
    for (let k = 0; k < K; k++) {
      const p = f64x2.div(v128.load(probabilities + (<usize>k << 4)), sum);
      const hit = v128.and(f64x2.eq(y, f64x2.splat(<f64>k)), one);
      let g = f64x2.sub(p, hit);
      let h = f64x2.pmax(f64x2.mul(f64x2.mul(two, p), f64x2.sub(one, p)), floor);
      if (weights != 0) {
        g = f64x2.mul(g, w);
        h = f64x2.mul(h, w);
      }
      storePairs(<usize>i32At(outs, k) + (<usize>r << 4), g, h);
    }
  }
  for (; r < rowEnd; r++) {
    const m0 = margins + ((<usize>r * <usize>K) << 3);
    let top: f64 = -Infinity;
    for (let k = 0; k < K; k++) top = max<f64>(top, load<f64>(m0 + (<usize>k << 3)));
    let sum: f64 = 0;
    for (let k = 0; k < K; k++) {
      const e = expScalar(load<f64>(m0 + (<usize>k << 3)) - top);
      store<f64>(probabilities + (<usize>k << 3), e);
      sum += e;
    }
    const y = load<f64>(labels + (<usize>r << 3));
    const w: f64 = weights != 0 ? load<f64>(weights + (<usize>r << 3)) : 1;
    for (let k = 0; k < K; k++) {
      const p = load<f64>(probabilities + (<usize>k << 3)) / sum;
      const at = <usize>i32At(outs, k) + (<usize>r << 4);
      store<f64>(at, (p - (y == <f64>k ? 1 : 0)) * w);
      store<f64>(at, max<f64>(2 * p * (1 - p), HESSIAN_FLOOR) * w, 8);
    }
  }
}
