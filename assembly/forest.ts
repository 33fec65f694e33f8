// The `forest` kernel: grows one whole histogram CART tree per call, the port of the reference
// src/backends/js/forest.ts (same steps, same summation orders, same random draws, same
// logarithm), so trees agree with it bit for bit. Layouts are those of src/backends/forest.ts.
//
// Per-call state lives in module globals: each worker has its own instance (its own globals),
// and every buffer a call touches is its task's scratch or output region.
//
//   scratch  (8-byte aligned parts, sizes from forest_scratch_bytes)
//   ┌────────┬───────────┬──────────┬───────────┬────────────────┬──────┬─────────┬─────┬───────────────┐
//   │ w f64·n│ rows i32·n│ tmp i32·n│ feat i32·F│ hist f64·256·C │ left │ current │ occ │ stack or heap │
//   └────────┴───────────┴──────────┴───────────┴────────────────┴──────┴─────────┴─────┴───────────────┘
//   left: running left sums of a scan, current: the statistics of the node being evaluated
//   (f64·S each); occ: the histogram's occupancy bitmap (8 × u32)
//   stack entry (depth first)  i32 begin, end, depth, parent, isLeft, ·, ·, ·  then f64 stats[S]
//   heap record (best first)   i32 id, begin, pos, end, depth, ·, ·, ·, f64 improvement,
//                              f64 left stats[S], f64 right stats[S]
//
//   out      i32 nodeCount, i32 maxDepth, then per node (stride 48 + 8·W bytes):
//            i32 feature, lowBin, splitBin, missingLeft, left, right, nNodeSamples, ·,
//            f64 weightedNNodeSamples, f64 impurity, f64 value[W]

const EPSILON: f64 = 2.220446049250313e-16;
const LN2: f64 = 0.6931471805599453;

const CRITERION_GINI: i32 = 0;
const CRITERION_ENTROPY: i32 = 1;
const CRITERION_SQUARED_ERROR: i32 = 2;

// GROW_PARAM indices.
const P_CRITERION = 0;
const P_CLASSES = 1;
const P_MAX_DEPTH = 2;
const P_MIN_SPLIT = 3;
const P_MIN_LEAF = 4;
const P_MIN_WEIGHT_FRACTION = 5;
const P_MIN_DECREASE = 6;
const P_MAX_FEATURES = 7;
const P_MAX_LEAF_NODES = 8;
const P_BOOTSTRAP = 9;
const P_DRAWS = 10;
const P_SEED = 11;

const NODE_HEADER: usize = 8;
const ENTRY_INTS: usize = 32;

// ── the counter-based generator of src/_random.ts ──────────────────────────────────────────

// @ts-ignore: decorator
@inline function mix32(x: u32): u32 {
  x ^= x >>> 16;
  x *= 0x7feb352d;
  x ^= x >>> 15;
  x *= 0x846ca68b;
  x ^= x >>> 16;
  return x;
}

function streamKey(seed: u32, stream: u32): u32 {
  return mix32(mix32(seed) ^ (stream * 0x9e3779b9));
}

let rngKey: u32 = 0;
let rngCounter: u32 = 0;

// @ts-ignore: decorator
@inline function nextU32(): u32 {
  const c = rngCounter;
  rngCounter = c + 1;
  return mix32(rngKey ^ mix32(c + 0x6a09e667));
}

/** An integer in [0, n), unbiased by rejection (Rng.nextInt). */
function nextInt(n: u32): u32 {
  if (n <= 1) return 0;
  const limit: u64 = (<u64>4294967296 / <u64>n) * <u64>n;
  let u = nextU32();
  while (<u64>u >= limit) u = nextU32();
  return u % n;
}

// ── fdlibm's logarithm (portableLog in src/backends/forest.ts) ─────────────────────────────

const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const TWO54: f64 = 1.80143985094819840000e+16;
const LG1: f64 = 6.666666666666735130e-01;
const LG2: f64 = 3.999999999940941908e-01;
const LG3: f64 = 2.857142874366239149e-01;
const LG4: f64 = 2.222219843214978396e-01;
const LG5: f64 = 1.818357216161805012e-01;
const LG6: f64 = 1.531383769920937332e-01;
const LG7: f64 = 1.479819860511658591e-01;

function portableLog(x: f64): f64 {
  let bits = reinterpret<u64>(x);
  let hx = <i32>(bits >>> 32);
  const lx = <i32>(<u32>bits);
  let k: i32 = 0;
  if (hx < 0x00100000) {
    if (((hx & 0x7fffffff) | lx) == 0) return -Infinity;
    if (hx < 0) return NaN;
    k -= 54;
    x *= TWO54;
    bits = reinterpret<u64>(x);
    hx = <i32>(bits >>> 32);
  }
  if (hx >= 0x7ff00000) return x + x;
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  const i = (hx + 0x95f64) & 0x100000;
  x = reinterpret<f64>((<u64>(<u32>(hx | (i ^ 0x3ff00000))) << 32) | (bits & 0xffffffff));
  k += i >> 20;
  const f = x - 1.0;
  const dk = <f64>k;
  if ((0x000fffff & (2 + hx)) < 3) {
    if (f == 0) return k == 0 ? 0 : dk * LN2_HI + dk * LN2_LO;
    const r = f * f * (0.5 - 0.33333333333333333 * f);
    return k == 0 ? f - r : dk * LN2_HI - ((r - dk * LN2_LO) - f);
  }
  const s = f / (2.0 + f);
  const z = s * s;
  const w = z * z;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  const r = t2 + t1;
  if (((hx - 0x6147a) | (0x6b851 - hx)) > 0) {
    const hfsq = 0.5 * f * f;
    if (k == 0) return f - (hfsq - s * (hfsq + r));
    return dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f);
  }
  if (k == 0) return f - s * (f - r);
  return dk * LN2_HI - ((s * (f - r) - dk * LN2_LO) - f);
}

// ── per-call state ─────────────────────────────────────────────────────────────────────────

let gBins: usize = 0;
let gNBins: usize = 0;
let gLabels: usize = 0;
let gTargets: usize = 0;
let gN: i32 = 0;
let gF: i32 = 0;
let gK: i32 = 0;
let gS: i32 = 0;
let gC: i32 = 0;
let gW: i32 = 0;
let gCriterion: i32 = 0;
let gPoisson: bool = false;
let gMaxDepth: f64 = 0;
let gMinSplit: f64 = 0;
let gMinLeaf: f64 = 0;
let gMinWeightLeaf: f64 = 0;
let gMinDecrease: f64 = 0;
let gMaxFeatures: f64 = 0;
let gTotalWeight: f64 = 0;
let gWeights: usize = 0;
let gRows: usize = 0;
let gTmp: usize = 0;
let gFeatures: usize = 0;
let gHist: usize = 0;
let gLeft: usize = 0;
let gCurrent: usize = 0;
// Occupancy bitmap of the histogram: 256 bits in 8 u32 words.
let gOcc: usize = 0;
let gWork: usize = 0;
let gOut: usize = 0;
let gStride: usize = 0;
// Best split of the node being evaluated.
let bFeature: i32 = -1;
let bLow: i32 = 0;
let bSplit: i32 = 0;
let bMissingLeft: i32 = 0;
let bProxy: f64 = 0;

// @ts-ignore: decorator
@inline function f64At(base: usize, index: i32): f64 {
  return load<f64>(base + (<usize>index << 3));
}

// @ts-ignore: decorator
@inline function setF64(base: usize, index: i32, v: f64): void {
  store<f64>(base + (<usize>index << 3), v);
}

// @ts-ignore: decorator
@inline function i32At(base: usize, index: i32): i32 {
  return load<i32>(base + (<usize>index << 2));
}

// @ts-ignore: decorator
@inline function align8(bytes: usize): usize {
  return (bytes + 7) & ~<usize>7;
}

/** Bytes of one task's scratch (mirrored by forestScratchBytes in src/backends/wasm/forest.ts). */
export function forest_scratch_bytes(nRows: i32, nFeatures: i32, nClasses: i32, maxLeafNodes: i32): usize {
  const S = nClasses > 0 ? nClasses + 2 : 7;
  const C = nClasses > 0 ? nClasses + 2 : 3;
  const n = <usize>nRows;
  let bytes: usize = n * 8 + align8(n * 4) * 2 + align8(<usize>nFeatures * 4);
  bytes += <usize>256 * <usize>C * 8 + <usize>S * 16 + 32;
  // The heap's maxLeafNodes + 1 records, then the popped, fresh and swap records.
  if (maxLeafNodes > 0) bytes += (<usize>maxLeafNodes + 4) * (40 + <usize>S * 16);
  else bytes += (n + 1) * (ENTRY_INTS + <usize>S * 8);
  return bytes;
}

// ── statistics ─────────────────────────────────────────────────────────────────────────────

/** Statistics of rows[begin .. end) into `out` (S values), in row order. */
function nodeStats(begin: i32, end: i32, out: usize): void {
  memory.fill(out, 0, <usize>gS << 3);
  setF64(out, 0, <f64>(end - begin));
  if (gK > 0) {
    let weight: f64 = 0;
    for (let p = begin; p < end; p++) {
      const r = i32At(gRows, p);
      const w = f64At(gWeights, r);
      weight += w;
      const slot = out + (<usize>(2 + i32At(gLabels, r)) << 3);
      store<f64>(slot, load<f64>(slot) + w);
    }
    setF64(out, 1, weight);
    return;
  }
  let weight: f64 = 0, sy: f64 = 0, syy: f64 = 0, sylog: f64 = 0;
  let lo: f64 = Infinity, hi: f64 = -Infinity;
  for (let p = begin; p < end; p++) {
    const r = i32At(gRows, p);
    const w = f64At(gWeights, r);
    const y = f64At(gTargets, r);
    const wy = w * y;
    weight += w;
    sy += wy;
    syy += wy * y;
    if (gPoisson && y > 0) sylog += wy * portableLog(y);
    if (y < lo) lo = y;
    if (y > hi) hi = y;
  }
  setF64(out, 1, weight);
  setF64(out, 2, sy);
  setF64(out, 3, syy);
  setF64(out, 4, sylog);
  setF64(out, 5, lo);
  setF64(out, 6, hi);
}

function impurityOf(s: usize): f64 {
  const weight = f64At(s, 1);
  if (gCriterion == CRITERION_GINI) {
    let sq: f64 = 0;
    for (let k = 0; k < gK; k++) {
      const c = f64At(s, 2 + k);
      sq += c * c;
    }
    return 1.0 - sq / (weight * weight);
  }
  if (gCriterion == CRITERION_ENTROPY) {
    let entropy: f64 = 0;
    for (let k = 0; k < gK; k++) {
      const c = f64At(s, 2 + k);
      if (c > 0) {
        const q = c / weight;
        entropy -= q * (portableLog(q) / LN2);
      }
    }
    return entropy;
  }
  if (gCriterion == CRITERION_SQUARED_ERROR) {
    if (f64At(s, 5) == f64At(s, 6)) return 0;
    const mean = f64At(s, 2) / weight;
    return f64At(s, 3) / weight - mean * mean;
  }
  const sy = f64At(s, 2);
  if (f64At(s, 5) == f64At(s, 6) || !(sy > 0)) return 0;
  return (f64At(s, 4) - sy * portableLog(sy / weight)) / weight;
}

/**
 * The criterion's proxy of the split whose left sums are at gLeft; the right sums are the
 * node's minus the left ones (`wr` is already so).
 */
// @ts-ignore: decorator
@inline function proxyOf(node: usize, wl: f64, wr: f64): f64 {
  const left = gLeft;
  if (gCriterion == CRITERION_GINI) {
    let sl: f64 = 0, sr: f64 = 0;
    for (let k = 0; k < gK; k++) {
      const cl = f64At(left, 2 + k);
      const cr = f64At(node, 2 + k) - cl;
      sl += cl * cl;
      sr += cr * cr;
    }
    return sl / wl + sr / wr;
  }
  const sl = f64At(left, 2);
  const sr = f64At(node, 2) - sl;
  if (gCriterion == CRITERION_SQUARED_ERROR) return (sl * sl) / wl + (sr * sr) / wr;
  return slowProxy(node, wl, wr, sl, sr);
}

/** Entropy and Poisson proxies (logarithms; kept out of the inlined path). */
function slowProxy(node: usize, wl: f64, wr: f64, sl: f64, sr: f64): f64 {
  if (gCriterion == CRITERION_ENTROPY) {
    const left = gLeft;
    let pl: f64 = 0, pr: f64 = 0;
    for (let k = 0; k < gK; k++) {
      const cl = f64At(left, 2 + k);
      const cr = f64At(node, 2 + k) - cl;
      if (cl > 0) pl += cl * portableLog(cl / wl);
      if (cr > 0) pr += cr * portableLog(cr / wr);
    }
    return pl + pr;
  }
  if (sl <= EPSILON || sr <= EPSILON) return -Infinity;
  return sl * portableLog(sl / wl) + sr * portableLog(sr / wr);
}

/** Checks the candidate whose left sums are at gLeft; keeps it when strictly better. */
// @ts-ignore: decorator
@inline function tryCandidate(node: usize, f: i32, low: i32, split: i32, missingLeft: i32, hasMissing: bool): void {
  const nl = f64At(gLeft, 0), nr = f64At(node, 0) - nl;
  const wl = f64At(gLeft, 1), wr = f64At(node, 1) - wl;
  if (nl >= gMinLeaf && nr >= gMinLeaf && wl >= gMinWeightLeaf && wr >= gMinWeightLeaf) {
    const proxy = proxyOf(node, wl, wr);
    if (proxy > bProxy) {
      bProxy = proxy;
      bFeature = f;
      bLow = low;
      bSplit = split;
      bMissingLeft = hasMissing ? missingLeft : (nl > nr ? 1 : 0);
    }
  }
}

/** Zeroes the occupied slots of the histogram. */
function clearHistogram(): void {
  const bytes = <usize>gC << 3;
  for (let word = 0; word < 8; word++) {
    let bits = load<u32>(gOcc + (<usize>word << 2));
    while (bits != 0) {
      const b = (word << 5) + <i32>ctz(bits);
      bits &= bits - 1;
      memory.fill(gHist + <usize>b * bytes, 0, bytes);
    }
  }
}

/**
 * Builds feature f's histogram over rows[begin .. end) and scans it; returns false when the
 * feature is constant in the node.
 */
function scanFeature(f: i32, begin: i32, end: i32, node: usize): bool {
  const C = gC, hist = gHist;
  const column = gBins + <usize>f * <usize>gN;
  const nB = i32At(gNBins, f);
  const occ = gOcc;
  memory.fill(occ, 0, 32);
  const slotBytes = <usize>C << 3;
  if (gK > 0) {
    for (let p = begin; p < end; p++) {
      const r = i32At(gRows, p);
      const b = <u32>load<u8>(column + <usize>r);
      const word = occ + ((<usize>b >>> 5) << 2);
      store<u32>(word, load<u32>(word) | (<u32>1 << (b & 31)));
      const o = hist + <usize>b * slotBytes;
      const w = f64At(gWeights, r);
      store<f64>(o, load<f64>(o) + 1);
      store<f64>(o, load<f64>(o, 8) + w, 8);
      const slot = o + (<usize>(2 + i32At(gLabels, r)) << 3);
      store<f64>(slot, load<f64>(slot) + w);
    }
  } else {
    for (let p = begin; p < end; p++) {
      const r = i32At(gRows, p);
      const b = <u32>load<u8>(column + <usize>r);
      const word = occ + ((<usize>b >>> 5) << 2);
      store<u32>(word, load<u32>(word) | (<u32>1 << (b & 31)));
      const o = hist + <usize>b * slotBytes;
      const w = f64At(gWeights, r);
      store<f64>(o, load<f64>(o) + 1);
      store<f64>(o, load<f64>(o, 8) + w, 8);
      store<f64>(o, load<f64>(o, 16) + w * f64At(gTargets, r), 16);
    }
  }
  let slots: u32 = 0;
  for (let word = 0; word < 8; word++) slots += popcnt(load<u32>(occ + (<usize>word << 2)));
  if (slots <= 1) {
    clearHistogram();
    return false;
  }
  const missingSlot = hist + <usize>nB * slotBytes;
  const missingRows = load<f64>(missingSlot);
  const hasMissing = missingRows > 0;
  const passes = hasMissing ? 2 : 1;
  for (let pass = 0; pass < passes; pass++) {
    const missingLeft = pass == 1;
    for (let c = 0; c < C; c++) setF64(gLeft, c, missingLeft ? f64At(missingSlot, c) : 0);
    let prev: i32 = -1;
    for (let word = 0; word < 8; word++) {
      let bits = load<u32>(occ + (<usize>word << 2));
      while (bits != 0) {
        const b = (word << 5) + <i32>ctz(bits);
        bits &= bits - 1;
        if (b == nB) continue;
        if (prev >= 0) tryCandidate(node, f, prev, b, missingLeft ? 1 : 0, hasMissing);
        const o = hist + <usize>b * slotBytes;
        for (let c = 0; c < C; c++) setF64(gLeft, c, f64At(gLeft, c) + f64At(o, c));
        prev = b;
      }
    }
    if (!missingLeft && hasMissing && prev >= 0) tryCandidate(node, f, prev, nB, 0, true);
  }
  clearHistogram();
  return true;
}

/** Finds the best split of rows[begin .. end) into the b* globals (bFeature −1: none). */
function findSplit(begin: i32, end: i32, node: usize): void {
  bFeature = -1;
  bProxy = -Infinity;
  const F = gF;
  if (gMaxFeatures >= <f64>F) {
    for (let f = 0; f < F; f++) scanFeature(f, begin, end, node);
    return;
  }
  let remaining = F, visited = 0, constant = 0;
  while (remaining > 0 && (<f64>visited < gMaxFeatures || visited <= constant)) {
    const j = <i32>nextInt(<u32>remaining);
    const f = i32At(gFeatures, j);
    store<i32>(gFeatures + (<usize>j << 2), i32At(gFeatures, remaining - 1));
    store<i32>(gFeatures + (<usize>(remaining - 1) << 2), f);
    remaining--;
    visited++;
    if (!scanFeature(f, begin, end, node)) constant++;
  }
}

/** Splits rows[begin .. end) stably by the best split; returns the first row going right. */
function partitionRows(begin: i32, end: i32): i32 {
  const column = gBins + <usize>bFeature * <usize>gN;
  const nB = i32At(gNBins, bFeature);
  const split = bSplit, missingLeft = bMissingLeft != 0;
  let l = begin, r = 0;
  for (let p = begin; p < end; p++) {
    const row = i32At(gRows, p);
    const b = <i32>load<u8>(column + <usize>row);
    if (b == nB ? missingLeft : b < split) {
      store<i32>(gRows + (<usize>l << 2), row);
      l++;
    } else {
      store<i32>(gTmp + (<usize>r << 2), row);
      r++;
    }
  }
  memory.copy(gRows + (<usize>l << 2), gTmp, <usize>r << 2);
  return l;
}

// ── nodes ──────────────────────────────────────────────────────────────────────────────────

// @ts-ignore: decorator
@inline function nodeAt(id: i32): usize {
  return gOut + NODE_HEADER + <usize>id * gStride;
}

let eImprovement: f64 = 0;
let ePos: i32 = 0;

/**
 * Evaluates the node rows[begin .. end) with statistics `stats`: writes it out, links it to its
 * parent and looks for its split. Returns the node id; when a split is kept, the rows are
 * partitioned at ePos (> 0), the children's statistics are written to leftOut / rightOut and
 * eImprovement is set; otherwise ePos is 0.
 */
function evaluate(
  begin: i32, end: i32, depth: i32, parent: i32, isLeft: i32, stats: usize,
  leftOut: usize, rightOut: usize,
): i32 {
  const id = load<i32>(gOut);
  store<i32>(gOut, id + 1);
  const node = nodeAt(id);
  const impurity = impurityOf(stats);
  store<i32>(node, -1);
  store<i32>(node, 0, 4);
  store<i32>(node, 0, 8);
  store<i32>(node, 0, 12);
  store<i32>(node, -1, 16);
  store<i32>(node, -1, 20);
  store<i32>(node, <i32>f64At(stats, 0), 24);
  store<f64>(node, f64At(stats, 1), 32);
  store<f64>(node, impurity, 40);
  if (gK > 0) {
    for (let k = 0; k < gK; k++) setF64(node + 48, k, f64At(stats, 2 + k));
  } else {
    setF64(node + 48, 0, f64At(stats, 2) / f64At(stats, 1));
  }
  if (parent >= 0) store<i32>(nodeAt(parent) + <usize>(isLeft ? 16 : 20), id);
  if (depth > load<i32>(gOut, 4)) store<i32>(gOut, depth, 4);
  ePos = 0;
  const rowsHere = f64At(stats, 0);
  if (
    <f64>depth >= gMaxDepth || rowsHere < gMinSplit || rowsHere < 2 * gMinLeaf ||
    f64At(stats, 1) < 2 * gMinWeightLeaf || impurity <= EPSILON
  ) return id;
  findSplit(begin, end, stats);
  if (bFeature < 0) return id;
  const pos = partitionRows(begin, end);
  nodeStats(begin, pos, leftOut);
  nodeStats(pos, end, rightOut);
  const wl = f64At(leftOut, 1), wr = f64At(rightOut, 1), wn = f64At(stats, 1);
  const improvement = (wn / gTotalWeight) *
    (impurity - (wr / wn) * impurityOf(rightOut) - (wl / wn) * impurityOf(leftOut));
  if (improvement + EPSILON < gMinDecrease) return id;
  store<i32>(node, bFeature);
  store<i32>(node, bLow, 4);
  store<i32>(node, bSplit, 8);
  store<i32>(node, bMissingLeft, 12);
  ePos = pos;
  eImprovement = improvement;
  return id;
}

// ── growth ─────────────────────────────────────────────────────────────────────────────────

function growDepthFirst(m: i32): void {
  const entryBytes = ENTRY_INTS + (<usize>gS << 3);
  const stack = gWork;
  const current = gCurrent;
  // The root's statistics go in entry 0.
  nodeStats(0, m, stack + ENTRY_INTS);
  store<i32>(stack, 0);
  store<i32>(stack, m, 4);
  store<i32>(stack, 0, 8);
  store<i32>(stack, -1, 12);
  store<i32>(stack, 0, 16);
  let top = 1;
  while (top > 0) {
    top--;
    const entry = stack + <usize>top * entryBytes;
    const begin = load<i32>(entry), end = load<i32>(entry, 4), depth = load<i32>(entry, 8);
    const parent = load<i32>(entry, 12), isLeft = load<i32>(entry, 16);
    memory.copy(current, entry + ENTRY_INTS, <usize>gS << 3);
    // Children land in entries top (right, popped second) and top + 1 (left, popped first).
    const rightEntry = entry, leftEntry = entry + entryBytes;
    const id = evaluate(begin, end, depth, parent, isLeft, current, leftEntry + ENTRY_INTS, rightEntry + ENTRY_INTS);
    if (ePos == 0) continue;
    const pos = ePos;
    store<i32>(rightEntry, pos);
    store<i32>(rightEntry, end, 4);
    store<i32>(rightEntry, depth + 1, 8);
    store<i32>(rightEntry, id, 12);
    store<i32>(rightEntry, 0, 16);
    store<i32>(leftEntry, begin);
    store<i32>(leftEntry, pos, 4);
    store<i32>(leftEntry, depth + 1, 8);
    store<i32>(leftEntry, id, 12);
    store<i32>(leftEntry, 1, 16);
    top += 2;
  }
}

let heapSize: i32 = 0;
let recordBytes: usize = 0;

// @ts-ignore: decorator
@inline function recordAt(i: i32): usize {
  return gWork + <usize>i * recordBytes;
}

/** Larger improvement first; ties: the older node. */
// @ts-ignore: decorator
@inline function before(a: usize, b: usize): bool {
  const ia = load<f64>(a, 32), ib = load<f64>(b, 32);
  return ia > ib || (ia == ib && load<i32>(a) < load<i32>(b));
}

function swapRecords(a: usize, b: usize, tmp: usize): void {
  memory.copy(tmp, a, recordBytes);
  memory.copy(a, b, recordBytes);
  memory.copy(b, tmp, recordBytes);
}

/** Pushes the record at `rec` (outside the heap) onto the heap. */
function heapPush(rec: usize, tmp: usize): void {
  let i = heapSize++;
  memory.copy(recordAt(i), rec, recordBytes);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(recordAt(i), recordAt(parent))) break;
    swapRecords(recordAt(i), recordAt(parent), tmp);
    i = parent;
  }
}

/** Pops the top record into `rec`. */
function heapPop(rec: usize, tmp: usize): void {
  memory.copy(rec, recordAt(0), recordBytes);
  heapSize--;
  if (heapSize > 0) {
    memory.copy(recordAt(0), recordAt(heapSize), recordBytes);
    let i = 0;
    while (true) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < heapSize && before(recordAt(l), recordAt(m))) m = l;
      if (r < heapSize && before(recordAt(r), recordAt(m))) m = r;
      if (m == i) break;
      swapRecords(recordAt(i), recordAt(m), tmp);
      i = m;
    }
  }
}

/** Evaluates a node into the record `rec` and pushes it when it was split. */
function evaluateAndPush(
  begin: i32, end: i32, depth: i32, parent: i32, isLeft: i32, stats: usize, rec: usize, tmp: usize,
): void {
  const sBytes = <usize>gS << 3;
  const id = evaluate(begin, end, depth, parent, isLeft, stats, rec + 40, rec + 40 + sBytes);
  if (ePos == 0) return;
  store<i32>(rec, id);
  store<i32>(rec, begin, 4);
  store<i32>(rec, ePos, 8);
  store<i32>(rec, end, 12);
  store<i32>(rec, depth, 16);
  store<f64>(rec, eImprovement, 32);
  heapPush(rec, tmp);
}

function growBestFirst(m: i32, maxLeafNodes: i32, rootStats: usize): void {
  const sBytes = <usize>gS << 3;
  recordBytes = 40 + sBytes * 2;
  heapSize = 0;
  // Three records beyond the heap's maxLeafNodes + 1: the popped one, a fresh one, a swap buffer.
  const popped = gWork + <usize>(maxLeafNodes + 1) * recordBytes;
  const fresh = popped + recordBytes;
  const tmp = fresh + recordBytes;
  nodeStats(0, m, rootStats);
  evaluateAndPush(0, m, 0, -1, 0, rootStats, fresh, tmp);
  let splitsLeft = maxLeafNodes - 1;
  while (heapSize > 0) {
    heapPop(popped, tmp);
    const id = load<i32>(popped);
    if (splitsLeft <= 0) {
      const node = nodeAt(id);
      store<i32>(node, -1);
      store<i32>(node, 0, 4);
      store<i32>(node, 0, 8);
      store<i32>(node, 0, 12);
      continue;
    }
    splitsLeft--;
    const begin = load<i32>(popped, 4), pos = load<i32>(popped, 8), end = load<i32>(popped, 12);
    const depth = load<i32>(popped, 16) + 1;
    evaluateAndPush(begin, pos, depth, id, 1, popped + 40, fresh, tmp);
    evaluateAndPush(pos, end, depth, id, 0, popped + 40 + sBytes, fresh, tmp);
  }
}

/**
 * Grows tree number `tree` into `out` (room for `capacity` nodes). `labels` (i32 per row) is 0
 * for regression, `targets` (f64 per row) 0 for classification, `sampleWeight` 0 for none.
 */
export function forest_grow_tree(
  out: usize, capacity: i32, bins: usize, nBins: usize, labels: usize, targets: usize,
  sampleWeight: usize, params: usize, scratch: usize, nRows: i32, nFeatures: i32, tree: i32,
): void {
  gBins = bins;
  gNBins = nBins;
  gLabels = labels;
  gTargets = targets;
  gN = nRows;
  gF = nFeatures;
  gCriterion = <i32>f64At(params, P_CRITERION);
  gPoisson = gCriterion == 3;
  gK = <i32>f64At(params, P_CLASSES);
  gS = gK > 0 ? gK + 2 : 7;
  gC = gK > 0 ? gK + 2 : 3;
  gW = gK > 0 ? gK : 1;
  gMaxDepth = f64At(params, P_MAX_DEPTH);
  gMinSplit = f64At(params, P_MIN_SPLIT);
  gMinLeaf = f64At(params, P_MIN_LEAF);
  gMinDecrease = f64At(params, P_MIN_DECREASE);
  gMaxFeatures = f64At(params, P_MAX_FEATURES);
  const maxLeafNodes = <i32>f64At(params, P_MAX_LEAF_NODES);
  const seed = <u32>f64At(params, P_SEED);
  gStride = 48 + (<usize>gW << 3);
  gOut = out;
  const n = <usize>nRows;
  gWeights = scratch;
  gRows = gWeights + n * 8;
  gTmp = gRows + align8(n * 4);
  gFeatures = gTmp + align8(n * 4);
  gHist = gFeatures + align8(<usize>nFeatures * 4);
  gLeft = gHist + <usize>256 * <usize>gC * 8;
  gCurrent = gLeft + (<usize>gS << 3);
  gOcc = gCurrent + (<usize>gS << 3);
  gWork = gOcc + 32;

  // Row weights: bootstrap counts (or 1) times sample weights.
  const w = gWeights;
  memory.fill(w, 0, n * 8);
  if (f64At(params, P_BOOTSTRAP) == 1) {
    rngKey = streamKey(seed, <u32>(2 * tree + 1));
    rngCounter = 0;
    const draws = <i32>f64At(params, P_DRAWS);
    for (let d = 0; d < draws; d++) {
      const r = <i32>nextInt(<u32>nRows);
      setF64(w, r, f64At(w, r) + 1);
    }
  } else {
    for (let r = 0; r < nRows; r++) setF64(w, r, 1);
  }
  if (sampleWeight != 0) {
    for (let r = 0; r < nRows; r++) setF64(w, r, f64At(w, r) * f64At(sampleWeight, r));
  }
  let m = 0;
  let total: f64 = 0;
  for (let r = 0; r < nRows; r++) {
    const v = f64At(w, r);
    if (v > 0) {
      store<i32>(gRows + (<usize>m << 2), r);
      m++;
      total += v;
    }
  }
  gTotalWeight = total;
  gMinWeightLeaf = f64At(params, P_MIN_WEIGHT_FRACTION) * total;
  for (let f = 0; f < nFeatures; f++) store<i32>(gFeatures + (<usize>f << 2), f);
  memory.fill(gHist, 0, <usize>256 * <usize>gC * 8);
  rngKey = streamKey(seed, <u32>(2 * tree + 2));
  rngCounter = 0;
  store<i32>(out, 0);
  store<i32>(out, 0, 4);
  if (m == 0) {
    // No row drawn with a positive weight: one empty leaf.
    store<i32>(out, 1);
    const node = nodeAt(0);
    memory.fill(node, 0, gStride);
    store<i32>(node, -1);
    store<i32>(node, -1, 16);
    store<i32>(node, -1, 20);
    return;
  }
  if (maxLeafNodes > 0) growBestFirst(m, maxLeafNodes, gCurrent);
  else growDepthFirst(m);
}
