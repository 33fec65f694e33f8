/**
 * The `forest` kernel family: grows whole histogram CART trees (scikit-learn's
 * DecisionTree / RandomForest semantics) on a binned training matrix, one tree per task, so a
 * forest's trees run in parallel across the worker pool. Every backend grows the same trees
 * bit for bit: the same row orders, the same summation orders, the same random draws (the
 * counter-based generator of src/_random.ts) and the same logarithm (`portableLog`).
 *
 * ```
 *  bins      uint8, column-major: feature f, row r at f·n + r; value bins 0 .. nBins[f] − 1,
 *            then the missing-value bin nBins[f]
 *  labels    int32 class index per row (classification)  |  targets float64 (regression)
 *  weights   float64 per row (sample weights) or none
 *
 *  tree t    bootstrap counts from Rng(seed, 2t + 1): nDraws draws of nextInt(n)
 *            feature draws  from Rng(seed, 2t + 2): Fisher–Yates over the features at each split
 *            row weight = bootstrap count (1 without bootstrap) × sample weight; rows of weight 0
 *            take no part
 * ```
 *
 * Growth is scikit-learn's: depth first (left child first, nodes numbered in preorder), or best
 * first when `maxLeafNodes` is set (the open node of largest impurity improvement next). At a
 * node, features are visited in a random order until `maxFeatures` have been seen and one of
 * them was not constant in the node; each visited feature's histogram (row count, weight and
 * class weights or weighted target sum per bin) is scanned in bin order over the occupied bins,
 * missing rows sent right and then left, and the split with the best proxy wins (strictly
 * better: ties keep the first found). A split separates value bins ≤ `lowBin` from bins ≥
 * `splitBin` (no row of the node lies between them); `splitBin = nBins[f]` sends every value
 * left and only the missing ones right.
 *
 * @module
 */

/** Split criteria the kernels know, by code. */
export const FOREST_CRITERIA = {
  gini: 0,
  entropy: 1,
  squared_error: 2,
  poisson: 3,
} as const;

export type ForestCriterion = keyof typeof FOREST_CRITERIA;

/** Layout of the `params` record of `ForestSession.grow`. */
export const GROW_PARAM = {
  /** A code of FOREST_CRITERIA. */
  criterion: 0,
  /** Classes (classification); 0 for regression. */
  nClasses: 1,
  /** Deepest level (root = 0); Infinity for none. */
  maxDepth: 2,
  /** Least rows to split a node. */
  minSamplesSplit: 3,
  /** Least rows in each child. */
  minSamplesLeaf: 4,
  /** Least fraction of the tree's total weight in each child. */
  minWeightFractionLeaf: 5,
  /** A split must improve the weighted impurity by at least this. */
  minImpurityDecrease: 6,
  /** Features to visit per split, 1 .. nFeatures. */
  maxFeatures: 7,
  /** 0: depth-first growth; ≥ 2: best first, at most this many leaves. */
  maxLeafNodes: 8,
  /** 1: weight rows by bootstrap counts. */
  bootstrap: 9,
  /** Bootstrap draws per tree. */
  nDraws: 10,
  /** Seed of the random streams (an unsigned 32-bit integer). */
  seed: 11,
} as const;

/** Length of the `params` record. */
export const GROW_PARAM_COUNT = 12;

/** The training data of a session: binned features and targets. */
export interface ForestData {
  bins: Uint8Array;
  nRows: number;
  nFeatures: number;
  /** Value bins per feature (without the missing bin), each ≤ 255. */
  nBins: Int32Array;
  /** Class index per row for classification, else null. */
  labels: Int32Array | null;
  /** Target per row for regression, else null. */
  targets: Float64Array | null;
}

/**
 * One grown tree; nodes in scikit-learn's order, every child after its parent. Leaves have
 * feature −1 and children −1.
 */
export interface GrownTree {
  nodeCount: number;
  feature: Int32Array;
  /** Highest value bin of the node going left. */
  lowBin: Int32Array;
  /** Lowest value bin going right; value bins below it go left. */
  splitBin: Int32Array;
  /** 1 when missing values go left. */
  missingLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  nNodeSamples: Int32Array;
  weightedNNodeSamples: Float64Array;
  impurity: Float64Array;
  /** nodeCount × width: weighted class counts, or the weighted mean target. */
  value: Float64Array;
  /** Depth of the deepest node. */
  maxDepth: number;
}

/** Training data placed where a backend's trees read it, for any number of `grow` calls. */
export interface ForestSession {
  /**
   * Grows the trees numbered `trees` (their numbers pick their random streams) with the
   * given parameters (GROW_PARAM layout) and sample weights (null: all 1).
   */
  grow(params: Float64Array, trees: Int32Array, weights: Float64Array | null): Promise<GrownTree[]>;
  /** Frees the session's memory; nothing is valid afterwards. */
  release(): void;
}

/** What every backend of the family implements. */
export interface ForestKernels {
  readonly name: "js" | "wasm";
  /** Opens a session on `data`; the caller releases it in a `finally`. */
  open(data: ForestData): ForestSession;
}

/** Values per node: classes for classification, 1 for regression. */
export function valueWidth(params: Float64Array): number {
  return params[GROW_PARAM.nClasses] > 0 ? params[GROW_PARAM.nClasses] : 1;
}

/**
 * Most nodes a tree can have: 2·leaves − 1, leaves being bounded by the rows that take part
 * (n, or the bootstrap draws), by `maxLeafNodes` and by 2^maxDepth.
 */
export function nodeCapacity(params: Float64Array, nRows: number): number {
  let leaves = nRows;
  if (params[GROW_PARAM.bootstrap] === 1) leaves = Math.min(leaves, params[GROW_PARAM.nDraws]);
  const maxLeafNodes = params[GROW_PARAM.maxLeafNodes];
  if (maxLeafNodes > 0) leaves = Math.min(leaves, maxLeafNodes);
  const depth = params[GROW_PARAM.maxDepth];
  if (depth < 30) leaves = Math.min(leaves, 2 ** depth);
  return Math.max(1, 2 * leaves - 1);
}

// fdlibm's e_log.c constants (Sun Microsystems, freely distributable): ln 2 split in two and the
// minimax polynomial of log((1 + s)/(1 − s)).
const LN2_HI = 6.93147180369123816490e-01;
const LN2_LO = 1.90821492927058770002e-10;
const TWO54 = 1.80143985094819840000e+16;
const LG1 = 6.666666666666735130e-01;
const LG2 = 3.999999999940941908e-01;
const LG3 = 2.857142874366239149e-01;
const LG4 = 2.222219843214978396e-01;
const LG5 = 1.818357216161805012e-01;
const LG6 = 1.531383769920937332e-01;
const LG7 = 1.479819860511658591e-01;

const logBuffer = new Float64Array(1);
const logWords = new Int32Array(logBuffer.buffer);
// Little-endian hosts (every WASM host): word 1 is the high word.
const HI = 1, LO = 0;

/**
 * The natural logarithm by fdlibm's algorithm, written the same way in assembly/forest.ts, so
 * that entropy and Poisson criteria give bit-identical results on every backend (engines'
 * `Math.log` may differ in the last bit). Error below 1 ulp.
 */
export function portableLog(x: number): number {
  logBuffer[0] = x;
  let hx = logWords[HI];
  const lx = logWords[LO];
  let k = 0;
  if (hx < 0x00100000) {
    if (((hx & 0x7fffffff) | lx) === 0) return -Infinity;
    if (hx < 0) return NaN;
    k -= 54;
    logBuffer[0] = x * TWO54;
    hx = logWords[HI];
  }
  if (hx >= 0x7ff00000) return logBuffer[0] + logBuffer[0];
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  const i = (hx + 0x95f64) & 0x100000;
  logWords[HI] = hx | (i ^ 0x3ff00000);
  k += i >> 20;
  const f = logBuffer[0] - 1.0;
  const dk = k;
  if ((0x000fffff & (2 + hx)) < 3) {
    if (f === 0) return k === 0 ? 0 : dk * LN2_HI + dk * LN2_LO;
    const r = f * f * (0.5 - 0.33333333333333333 * f);
    return k === 0 ? f - r : dk * LN2_HI - ((r - dk * LN2_LO) - f);
  }
  const s = f / (2.0 + f);
  const z = s * s;
  const w = z * z;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  const r = t2 + t1;
  if (((hx - 0x6147a) | (0x6b851 - hx)) > 0) {
    const hfsq = 0.5 * f * f;
    if (k === 0) return f - (hfsq - s * (hfsq + r));
    return dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f);
  }
  if (k === 0) return f - s * (f - r);
  return dk * LN2_HI - ((s * (f - r) - dk * LN2_LO) - f);
}
