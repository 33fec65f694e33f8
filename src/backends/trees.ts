/**
 * The `trees` kernel family: the hot loops of histogram tree growing and tree prediction, as a
 * narrow interface that the tree estimators call and every backend implements. Arguments are
 * flat typed arrays and integers only (real-valued settings travel in a Float64Array), so a
 * record can be copied into WASM memory or posted to a worker unchanged.
 *
 * Binned data and histograms (F features, n rows, C channels per row):
 *
 * ```
 *  bins    uint8, column-major      feature f, row r at  f·n + r
 *          value bins 0 .. nBins_f − 1, then the missing-value bin  nBins_f
 *  values  float64, row-major       channel c of row r at  r·C + c   (c0 = gradient, c1 = hessian,
 *                                   c2 = row count when C = 3)
 *  slots   feature f owns slots  binOffsets[f] .. binOffsets[f+1] − 1   (nBins_f + 1 of them),
 *          the last one being its missing bin, so  slot = binOffsets[f] + bins[f·n + r]
 *  hist    float64, slot-major      channel c of slot s at  s·C + c
 * ```
 *
 * A split of feature f at split bin `s` (0 ≤ s ≤ nBins_f) sends value bins < s left and the
 * missing bin the way `defaultLeft` says. In value space that is `x < splitValues[binOffsets[f]
 * + s]` (float32 comparison, as XGBoost): split value 0 lies below every value seen, split
 * value s ≥ 1 is the lower edge of value bin s. Rows of a tree node are a contiguous segment
 * `rows[rowBegin .. rowEnd)` of one row-index array, which `partition` splits in place, stably.
 *
 * Growing trees goes through a TreesWorkspace: the bin matrix, the tree's values and row order
 * and the node histograms stay in the backend's memory for a whole fit, and each growth step (a
 * level, or one node's children) is one call. The per-node kernels below are its building
 * blocks, kept on the interface so that every backend is tested on them one by one.
 *
 * Models (any number of trees, nodes numbered globally, tree t owning nodes
 * `treeStart[t] .. treeStart[t+1] − 1` with its root first):
 *
 * ```
 *  feature[i] < 0           node i is a leaf; its values are value[i·W .. i·W + W)  (W = leafWidth)
 *  x[feature[i]] < threshold[i]  → left[i],  ≥ → right[i],  NaN → defaultLeft[i] ? left : right
 *  tree t adds its leaf's W values to outputs treeGroup[t] .. treeGroup[t] + W − 1 of the row
 * ```
 *
 * @module
 */

/** Category sets of a model's categorical splits (see src/trees/_tree_model.ts). */
export interface CategorySplits {
  /** Per node: 1 for a categorical split, else 0. */
  splitType: Uint8Array;
  /** nNodes + 1 word offsets into catBits. */
  catBegin: Int32Array;
  catBits: Uint32Array;
}

/** Whether a value goes right at a categorical node whose bitset is words [begin, end). */
export function categoryGoesRight(
  bits: Uint32Array,
  begin: number,
  end: number,
  v: number,
): boolean {
  if (!(v >= 0 && v < 16777216)) return false;
  const c = Math.trunc(v);
  const word = begin + (c >>> 5);
  return word < end && ((bits[word] >>> (c & 31)) & 1) === 1;
}

/** Words of a bin bitset: one bit for each of the (at most 256) slots of a feature. */
export const BIN_SET_WORDS = 8;

/**
 * Most categories a partition-based split scans from either end of the sorted order (XGBoost's
 * `max_cat_threshold`, at its default).
 */
export const MAX_CAT_THRESHOLD = 64;

/**
 * Categorical features of a fit. Their bins are category codes (bin c holds category c) and
 * their splits are sets of categories going right, as XGBoost's `hist` with
 * `enable_categorical`:
 *
 * ```
 *  nBins < maxCatToOnehot   one-hot: one category right, the rest left; missing either way
 *  otherwise                partition: categories sorted by their weight −T(G)/(H + λ)
 *                           (categoryOrder); a prefix of that order goes right. Forward scan:
 *                           missing left; backward scan: missing right
 * ```
 *
 * The split's `splitBin` is the category sent right (one-hot) or the length of the prefix
 * (partition); categoryBins turns it back into the set.
 */
export interface Categorical {
  /** Per feature: 1 when categorical. */
  mask: Uint8Array;
  /** One-hot splits below this many categories (XGBoost's `max_cat_to_onehot`). */
  maxCatToOnehot: number;
}

/** Whether a categorical feature of `nBins` categories splits one-hot (XGBoost's UseOneHot). */
export function usesOneHot(nBins: number, maxCatToOnehot: number): boolean {
  return nBins < maxCatToOnehot;
}

/**
 * A category's weight as XGBoost sorts categories by it (CalcWeightCat): −T(G)/(H + λ) limited
 * by maxDeltaStep, 0 below minChildWeight, without node bounds, rounded to float32.
 */
function categoryWeight(scorer: SplitScorer, g: number, h: number): number {
  if (h < scorer.minChildWeight || h <= 0) return 0;
  let w = -scorer.threshold(g) / (h + scorer.lambda);
  if (scorer.maxDeltaStep !== 0 && Math.abs(w) > scorer.maxDeltaStep) {
    w = w > 0 ? scorer.maxDeltaStep : -scorer.maxDeltaStep;
  }
  return Math.fround(w);
}

/**
 * The bins 0 .. nBins − 1 of one categorical feature (its histogram slots from `offset`, C
 * channels each) in increasing order of categoryWeight, ties kept in bin order (a stable
 * sort, as XGBoost's). Written to `order[0 .. nBins)`.
 */
export function categoryOrder(
  hist: Float64Array,
  offset: number,
  nBins: number,
  nChannels: number,
  scorer: SplitScorer,
  order: Int32Array,
): void {
  const keys = new Float64Array(nBins);
  for (let b = 0; b < nBins; b++) {
    const s = (offset + b) * nChannels;
    keys[b] = categoryWeight(scorer, hist[s], hist[s + 1]);
  }
  // Insertion sort: stable, and nBins ≤ 255.
  for (let i = 0; i < nBins; i++) {
    const b = i, key = keys[b];
    let j = i - 1;
    while (j >= 0 && keys[order[j]] > key) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = b;
  }
}

/**
 * The bins a categorical split sends right, as a BIN_SET_WORDS-word bitset in `out` (bin b: bit
 * b & 31 of word b >> 5): the one category of a one-hot split, or the first `splitBin` bins of
 * categoryOrder for a partition. `featureHist` holds the feature's nBins + 1 slots.
 */
export function categoryBins(
  featureHist: Float64Array,
  nBins: number,
  nChannels: number,
  splitBin: number,
  params: Float64Array,
  categorical: Categorical,
  out: Uint32Array,
): void {
  out.fill(0);
  if (usesOneHot(nBins, categorical.maxCatToOnehot)) {
    out[splitBin >>> 5] |= 1 << (splitBin & 31);
    return;
  }
  const order = new Int32Array(nBins);
  categoryOrder(featureHist, 0, nBins, nChannels, new SplitScorer(params, false), order);
  for (let j = 0; j < splitBin; j++) out[order[j] >>> 5] |= 1 << (order[j] & 31);
}

/** Layout of `SplitArgs.params`: regularisation, child limits and the node being split. */
export const SPLIT_PARAM = {
  /** L2 penalty λ on leaf weights. */
  lambda: 0,
  /** L1 penalty α on leaf weights (soft-thresholds the gradient sum). */
  alpha: 1,
  /** Least hessian sum in each child. */
  minChildWeight: 2,
  /** Largest absolute leaf weight; 0 = none. */
  maxDeltaStep: 3,
  /** Least row count in each child; read only when `nChannels` is 3. */
  minSamplesLeaf: 4,
  /** Bounds of this node's weight under monotone constraints (−∞, +∞ without). */
  lowerBound: 5,
  upperBound: 6,
  /** The node's gradient, hessian and row sums. */
  sumGrad: 7,
  sumHess: 8,
  count: 9,
} as const;

/** Length of `SplitArgs.params`. */
export const SPLIT_PARAM_COUNT = 10;

/** Fields of one feature's result in `SplitArgs.out`. */
export const SPLIT_FIELD = {
  /** Loss reduction of the best split, −∞ when the feature has no valid split. */
  gain: 0,
  /** Value bins below this go left. */
  splitBin: 1,
  /** 1 when missing values go left. */
  defaultLeft: 2,
  /** Sums of the left child. */
  leftGrad: 3,
  leftHess: 4,
  leftCount: 5,
} as const;

/** Values per feature in `SplitArgs.out`. */
export const SPLIT_FIELD_COUNT = 6;

/** Assigns bins to raw values: each feature's value is placed among its split values. */
export interface BinArgs {
  /** Row-major float32 input, NaN for missing. */
  x: Float32Array;
  nRows: number;
  nCols: number;
  /** Split values per feature, laid out like histogram slots (see the module comment). */
  splitValues: Float32Array;
  /** nCols + 1 entries. */
  binOffsets: Int32Array;
  /** Written: column-major bins, nCols · nRows. */
  bins: Uint8Array;
  /**
   * Awaited between blocks of rows where the backend bins them in several calls (a fit's
   * watch: an abort arrives there, and a page's thread gets its turns). It may let other code
   * run, which may grow the backend's memory.
   */
  between?: () => Promise<void>;
}

/** Gradient statistics of one node's rows, for some of the features. */
export interface HistogramArgs {
  bins: Uint8Array;
  nRows: number;
  rows: Int32Array;
  rowBegin: number;
  rowEnd: number;
  values: Float64Array;
  /** 2 (gradient, hessian) or 3 (and a count). */
  nChannels: number;
  features: Int32Array;
  featureCount: number;
  binOffsets: Int32Array;
  /** Written: the slots of the listed features are overwritten, the others left alone. */
  hist: Float64Array;
}

/** The sibling's histogram: `out = parent − child` on the slots of the listed features. */
export interface SubtractArgs {
  parent: Float64Array;
  child: Float64Array;
  out: Float64Array;
  nChannels: number;
  features: Int32Array;
  featureCount: number;
  binOffsets: Int32Array;
}

/**
 * The best split of each listed feature for one node. Gains are XGBoost's loss change
 * `score(L) + score(R) − score(parent)` with the scores of SplitScorer (the paper's ½ is left
 * out, as XGBoost reports it); monotone constraints clip weights to the node's bounds and
 * reject splits whose child weights break the order.
 */
export interface SplitArgs {
  hist: Float64Array;
  nChannels: number;
  features: Int32Array;
  featureCount: number;
  binOffsets: Int32Array;
  /** Per feature (indexed by feature, not by list position): +1 increasing, −1 decreasing, 0. */
  monotone: Int8Array | null;
  /** Categorical features (never monotone), or null for none. */
  categorical?: Categorical | null;
  /** SPLIT_PARAM_COUNT values, see SPLIT_PARAM. */
  params: Float64Array;
  /** Written: featureCount × SPLIT_FIELD_COUNT, in the order of `features`. */
  out: Float64Array;
}

/** Splits a node's row segment in place: rows going left first, both parts in their old order. */
export interface PartitionArgs {
  bins: Uint8Array;
  nRows: number;
  rows: Int32Array;
  rowBegin: number;
  rowEnd: number;
  feature: number;
  splitBin: number;
  /** The feature's missing bin (its number of value bins). */
  missingBin: number;
  /** 1 when missing values go left. */
  defaultLeft: number;
  /**
   * For a categorical split: the bins going right (BIN_SET_WORDS words, see categoryBins);
   * `splitBin` is then unused.
   */
  rightBins?: Uint32Array | null;
  /** Room for rowEnd − rowBegin row indices. */
  scratch: Int32Array;
}

/**
 * A tree ensemble's node arrays as the predict and TreeSHAP kernels read them (the layout of
 * TreeEnsemble in src/trees/_tree_model.ts), over rows of raw float32 input.
 */
export interface TreeNodeArgs {
  x: Float32Array;
  nRows: number;
  nCols: number;
  feature: Int32Array;
  threshold: Float32Array;
  defaultLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float32Array;
  leafWidth: number;
  /** nTrees + 1 entries. */
  treeStart: Int32Array;
  treeGroup: Int32Array;
  treeBegin: number;
  treeEnd: number;
  nOutputs: number;
  /** Category sets of categorical splits (see src/trees/_tree_model.ts), when there are any. */
  categories?: CategorySplits;
}

/** Sums trees over rows of raw float32 input. */
export interface PredictArgs extends TreeNodeArgs {
  /**
   * Accumulated (not overwritten): nRows × nOutputs. Each add is rounded to float32, tree by
   * tree in order, which is what XGBoost's CPU predictor does.
   */
  out: Float32Array;
}

/**
 * Exact path-dependent TreeSHAP values of rows (see src/backends/js/tree_shap.ts): the model as
 * for prediction plus each node's cover (the training hessian or weight sum reaching it, which
 * weighs a node's children when a feature is unknown).
 */
export interface ShapArgs extends TreeNodeArgs {
  /** Positive on every internal node and on each child of one. */
  cover: Float32Array;
  /** Depth of the deepest tree (a lone leaf: 0); sizes the path scratch. */
  maxDepth: number;
  /** 0: plain SHAP values; 1 / −1: `conditionFeature` always / never known (interactions). */
  condition: number;
  conditionFeature: number;
  /**
   * Accumulated (not overwritten): nRows × nOutputs × (nCols + 1), float64. Column nCols (the
   * bias) is left alone: the caller adds the trees' expected values there.
   */
  out: Float64Array;
}

/**
 * Gradient and hessian pairs of the two losses every classifier round starts with, at the
 * current margins (see src/trees/boosting/_objectives.ts for their definitions). Exponentials are the
 * portable `expPortable` of the reference, so that every backend gives the same bits.
 */
export interface GradientArgs {
  /** Logistic (one output) or softmax (one output per class). */
  loss: "logistic" | "softmax";
  /** nRows × nOutputs, row-major. */
  margins: Float64Array;
  /** 0/1 targets (logistic) or class indices (softmax). */
  labels: Float64Array;
  weights: Float64Array | null;
  nOutputs: number;
  /** Weight of positive rows (logistic). */
  scalePosWeight: number;
  /** Written: per output, nRows × 2 (gradient, hessian). */
  out: Float64Array[];
}

/** What a growth workspace holds for a whole fit (see TreesKernels.workspace). */
export interface WorkspaceArgs {
  bins: Uint8Array;
  nRows: number;
  nFeatures: number;
  binOffsets: Int32Array;
  /** 2 (gradient, hessian) or 3 (and a count). */
  nChannels: number;
  /** Per feature +1, −1 or 0, or null for none. */
  monotone: Int8Array | null;
  /** Categorical features, or null for none. */
  categorical?: Categorical | null;
  /**
   * Whether the caller reads histograms back (`readHistogram`) for any feature, not only the
   * categorical ones (scikit-learn's midpoint thresholds): a backend that keeps some features'
   * histograms elsewhere (a worker's own memory, see the WASM backend) keeps them all here then.
   */
  readsHistograms?: boolean;
  /** How many trees the fit grows at most, where known (a backend may plan by it). */
  trees?: number;
}

/** Fields of one histogram to build in `GrowthStep.build`. */
export const BUILD_FIELD = { slot: 0, rowBegin: 1, rowEnd: 2 } as const;
export const BUILD_FIELD_COUNT = 3;

/** Fields of one sibling in `GrowthStep.subtract`: `slot ← slot − childSlot`. */
export const SUBTRACT_FIELD = { slot: 0, childSlot: 1 } as const;
export const SUBTRACT_FIELD_COUNT = 2;

/** Fields of one node to split in `PartitionStep.nodes`. */
export const PARTITION_FIELD = {
  rowBegin: 0,
  rowEnd: 1,
  feature: 2,
  splitBin: 3,
  /** The feature's missing bin (its number of value bins). */
  missingBin: 4,
  defaultLeft: 5,
} as const;
export const PARTITION_FIELD_COUNT = 6;

/**
 * One step of tree growth over a batch of nodes (a whole level when growing depthwise, the
 * children of one node when loss-guided), in this order:
 *
 * ```
 *  build     hist[slot] ← histogram of rows[rowBegin .. rowEnd)       (the smaller children)
 *  subtract  hist[slot] ← hist[slot] − hist[childSlot]                (their larger siblings)
 *  search    best[i]    ← best split of node i over its candidate features, from hist[search[i]]
 * ```
 *
 * Histograms cover `features[0 .. featureCount)`. The best split of a node is the one of
 * highest gain; ties go to the earlier candidate (candidates are increasing, so the lower
 * feature) and, within a feature, to the first one scanned (see SplitArgs).
 */
export interface GrowthStep {
  /** The tree's features, increasing. */
  features: Int32Array;
  featureCount: number;
  /** BUILD_FIELD_COUNT integers per histogram. */
  build: Int32Array;
  buildCount: number;
  /** SUBTRACT_FIELD_COUNT integers per sibling. */
  subtract: Int32Array;
  subtractCount: number;
  /** The histogram slot of each node to search. */
  search: Int32Array;
  searchCount: number;
  /** SPLIT_PARAM_COUNT values per searched node. */
  params: Float64Array;
  /**
   * Candidate features of searched node i: `candidates[candidateOffsets[i] ..
   * candidateOffsets[i + 1])`, increasing, all among `features`.
   */
  candidates: Int32Array;
  /** searchCount + 1 entries. */
  candidateOffsets: Int32Array;
  /** Written: SPLIT_FIELD_COUNT values per searched node (gain −∞ when it cannot split). */
  best: Float64Array;
  /** Written: the feature of each node's best split, −1 when it cannot split. */
  bestFeature: Int32Array;
}

/** Splits the row segments of a batch of nodes (see PartitionArgs for one node). */
export interface PartitionStep {
  /** PARTITION_FIELD_COUNT integers per node; segments are disjoint. */
  nodes: Int32Array;
  nodeCount: number;
  /** Written: rows sent left, per node. */
  nLeft: Int32Array;
  /**
   * Per node, 1 for a categorical split, whose bins going right are words
   * `rightBins[i·BIN_SET_WORDS ..]`; absent when no node of the step is categorical.
   */
  categorical?: Uint8Array;
  rightBins?: Uint32Array;
}

/**
 * Adds each leaf's value to the margins of the leaf's rows, for output k: the margin update of
 * a boosting round, `margins[rows[j]·nOutputs + k] += values[i]` for the rows j of leaf i in
 * the workspace's current row order. Every row gets at most one add, so the result does not
 * depend on the order of the leaves.
 */
export interface LeafStep {
  /** nRows × nOutputs, row-major; written. */
  margins: Float64Array;
  nOutputs: number;
  k: number;
  /** Per leaf: rowBegin, rowEnd (positions in the workspace's row order). */
  segments: Int32Array;
  /** Per leaf: the value to add. */
  values: Float64Array;
  leafCount: number;
  /**
   * Whether each segment's rows are in ascending order: true where the rows given to
   * `setRows` were (partitions are stable). Backends may then look rows up by binary search.
   */
  ascending: boolean;
}

/**
 * The state of histogram growth for one fit, in the backend's own memory: the bin matrix, the
 * current tree's per-row values and row order, and node histograms addressed by slot number
 * (any non-negative integer; storage appears on first use). Between steps nothing crosses
 * over but the small step records. Nothing is valid after `release`.
 */
export interface TreesWorkspace {
  /**
   * A host array of nRows × nChannels values that aliases buffer `index` of the workspace in the
   * backend's memory for the workspace's lifetime, or null where the backend has no such
   * memory. `setValues` of such an array copies nothing, and `TreesKernels.gradients` writes
   * into such arrays in place. Where the backend's memory is not shared, growing it detaches
   * the arrays lent before (their contents stay in the buffer): call again for a valid one
   * before reading or writing it in TypeScript; a detached one still names its buffer to the
   * kernels.
   */
  values(index: number): Float64Array | null;
  /**
   * A host array of nRows × `nOutputs` margins that aliases a buffer of the workspace in the
   * backend's memory for the workspace's lifetime (made on the first call; later calls return
   * it again, or a new view of it once the memory grew), or null where the backend has no such
   * memory. `addLeaves` and `TreesKernels.gradients` work on such an array in place. As for
   * `values`, fetch it again before each use in TypeScript.
   */
  margins(nOutputs: number): Float64Array | null;
  /** See LeafStep. */
  addLeaves(step: LeafStep): Promise<void>;
  /** Makes `values` (nRows × nChannels) the next tree's per-row values, copying unless aliased. */
  setValues(values: Float64Array): void;
  /** Copies the next tree's rows, `rows[0 .. count)`. */
  setRows(rows: Int32Array, count: number): void;
  /** Makes the next tree's rows 0 … count − 1, in order (`setRows` of them, with no array). */
  setRowsInOrder(count: number): void;
  /**
   * Writes to `out` each channel's sum of the current values over the first `count` rows of the
   * current order: per channel, one value after another in row order from 0 (so every backend
   * gives the same bits; see rowSumsRef).
   */
  rowSums(count: number, out: Float64Array): void;
  /** Copies the current row order, `count` entries, into `out`. */
  readRows(out: Int32Array, count: number): void;
  /** Copies the slots of one feature of histogram `slot` into `out` (nBins_f + 1 slots × C). */
  readHistogram(slot: number, feature: number, out: Float64Array): void;
  grow(step: GrowthStep): Promise<void>;
  partition(step: PartitionStep): Promise<void>;
  release(): void;
}

/**
 * Columns of values to sort and deduplicate (the first step of a feature's cut search): column
 * j's first `lengths[j]` values (no NaN) are sorted ascending in place and its distinct values
 * moved to the front, `distinct[j]` of them, each one's count in `counts[j]`. −0 and +0 are one
 * value (the first in the sorted order, −0).
 */
export interface SortDistinctArgs {
  columns: Float32Array[];
  lengths: Int32Array;
  /** Per column, at least lengths[j] entries. */
  counts: Int32Array[];
  distinct: Int32Array;
}

/**
 * The cut search's working columns in a backend's memory (see TreesKernels.cutBuffers). Each
 * read of `columns` or `tallies` gives views valid until the next kernel call: where the
 * backend's memory is not shared, growing it detaches the views made before.
 */
export interface CutBuffers {
  readonly columns: Float32Array[];
  readonly tallies: Int32Array[];
  release(): void;
}

/** A bin matrix in a backend's memory (see TreesKernels.binBuffer). */
export interface LentBins {
  bins: Uint8Array;
  release(): void;
}

/** Arrays a backend may keep resident between calls (see TreesKernels.retain). */
export type ResidentArray = Uint8Array | Int32Array | Float32Array | Float64Array;

/** What every backend of the family implements. */
export interface TreesKernels {
  readonly name: "js" | "wasm" | "webgpu";
  /**
   * Announces that `array` will be passed to many calls and not change until the matching
   * `release`: a backend with its own memory (WASM) copies it in once instead of at every call.
   * Calls nest (each retain needs its release); the reference does nothing.
   */
  retain(array: ResidentArray): Promise<void>;
  /** Ends one `retain` of `array`; after the last one it may change again. */
  release(array: ResidentArray): Promise<void>;
  sortDistinct(args: SortDistinctArgs): Promise<void>;
  /**
   * `count` columns of `nRows` values and as many tallies in the backend's own memory, for the
   * cut search to gather into and hand to `sortDistinct`, which then sorts them in place with
   * no copies; null where the backend has no such memory (or it is full). Valid until
   * `release()`; read `columns` and `tallies` again after each kernel call (see CutBuffers).
   */
  cutBuffers?(nRows: number, count: number): CutBuffers | null;
  /**
   * `cells` bytes in the backend's own memory for a fit's bin matrix: `binFeatures` writes it
   * where it lies and `workspace` reads it there, where each would otherwise copy it (a fresh
   * host array of a byte per cell, and a second copy in, ~35 ms of a 200k × 28 fit's serial
   * part, mostly page faults); null where the backend has no such memory (or it is full).
   * Valid until `release()`. Only for those kernels: where the backend's memory is not shared,
   * growing it detaches the host view (the kernels still find the buffer through it).
   */
  binBuffer?(cells: number): LentBins | null;
  binFeatures(args: BinArgs): Promise<void>;
  buildHistogram(args: HistogramArgs): Promise<void>;
  subtractHistogram(args: SubtractArgs): Promise<void>;
  findSplits(args: SplitArgs): Promise<void>;
  /** Resolves to the number of rows that went left. */
  partition(args: PartitionArgs): Promise<number>;
  /** Rows `[firstRow, firstRow + rowCount)` only, when given. */
  predict(args: PredictArgs, firstRow?: number, rowCount?: number): Promise<void>;
  /** Rows `[firstRow, firstRow + rowCount)` only, when given. */
  shap(args: ShapArgs, firstRow?: number, rowCount?: number): Promise<void>;
  gradients(args: GradientArgs): Promise<void>;
  /** Opens a growth workspace; the caller releases it in a `finally`. */
  workspace(args: WorkspaceArgs): TreesWorkspace;
}

/**
 * Leaf weights and node scores under XGBoost's regularisation: the one place where that maths
 * lives on the TypeScript side (the grower uses it for leaf weights and monotone bounds, the
 * reference kernel for split gains). A node's score is −2 × its regularised loss
 * `Gw + ½(H + λ)w² + α|w|` at its best weight, T(G)²/(H + λ) with T the soft threshold by α.
 * When weights are clipped (maxDeltaStep, monotone bounds) the score is `−(2Gw + (H + λ)w²)`
 * at the clipped weight, without the α term, exactly as XGBoost computes it.
 */
export class SplitScorer {
  readonly lambda: number;
  readonly alpha: number;
  readonly minChildWeight: number;
  readonly maxDeltaStep: number;
  readonly lower: number;
  readonly upper: number;
  /** The closed form T(G)²/(H + λ) holds only while weights are never clipped. */
  readonly closedForm: boolean;

  /** Reads λ, α, minChildWeight, maxDeltaStep and the bounds from a SPLIT_PARAM record. */
  constructor(params: Float64Array, constrained: boolean) {
    this.lambda = params[SPLIT_PARAM.lambda];
    this.alpha = params[SPLIT_PARAM.alpha];
    this.minChildWeight = params[SPLIT_PARAM.minChildWeight];
    this.maxDeltaStep = params[SPLIT_PARAM.maxDeltaStep];
    this.lower = params[SPLIT_PARAM.lowerBound];
    this.upper = params[SPLIT_PARAM.upperBound];
    this.closedForm = this.maxDeltaStep === 0 && !constrained;
  }

  /** The gradient sum soft-thresholded by α (the L1 penalty's subgradient). */
  threshold(g: number): number {
    if (g > this.alpha) return g - this.alpha;
    if (g < -this.alpha) return g + this.alpha;
    return 0;
  }

  /** −T(G)/(H + λ), limited by maxDeltaStep and the bounds; 0 below minChildWeight. */
  weight(g: number, h: number): number {
    if (h <= 0 || h < this.minChildWeight) return 0;
    let w = -this.threshold(g) / (h + this.lambda);
    if (this.maxDeltaStep !== 0 && Math.abs(w) > this.maxDeltaStep) {
      w = w > 0 ? this.maxDeltaStep : -this.maxDeltaStep;
    }
    if (w < this.lower) return this.lower;
    if (w > this.upper) return this.upper;
    return w;
  }

  /** The node's score at its weight. */
  score(g: number, h: number): number {
    if (h <= 0 || h < this.minChildWeight) return 0;
    if (this.closedForm) {
      const t = this.threshold(g);
      return (t * t) / (h + this.lambda);
    }
    // XGBoost scores clipped weights without the α term; kept so trained trees match its own.
    const w = this.weight(g, h);
    return -(2 * g * w + (h + this.lambda) * w * w);
  }
}
