/**
 * Histogram CART on the shared bin matrix: the data a `forest` kernel session reads, the trees
 * it grows turned into CartTree (src/trees/cart/_cart_exact.ts) with value thresholds, and the exact
 * builder run on bin codes for criteria the kernels lack (absolute_error).
 *
 * A grown split separates value bins ≤ lowBin from bins ≥ splitBin; its threshold is halfway
 * between the largest training value of bin lowBin and the smallest of bin splitBin, as
 * scikit-learn places it between the two values it separates:
 *
 * ```
 *   bin lowBin          (empty in this node)        bin splitBin
 *   [ ...  binMax ]  ........... threshold .......... [ splitValue ... ]
 * ```
 *
 * @module
 */
import type { Backend } from "../../tensor.ts";
import { FOREST } from "../../backends/_families.ts";
import { selectKernels } from "../../backends/_select.ts";
import { jsForest } from "../../backends/js/forest.ts";
import {
  FOREST_CRITERIA,
  type ForestCriterion,
  type ForestData,
  type ForestKernels,
  GROW_PARAM,
  GROW_PARAM_COUNT,
  type GrownTree,
} from "../../backends/forest.ts";
import type { BinCuts, BinnedMatrix } from "../_binning.ts";
import { buildExactTree, type CartTree, type ExactTreeParams } from "./_cart_exact.ts";

/** The kernels for a `backend` option; `"js"` never starts the runtime. */
export function forestKernels(backend: Backend | undefined): Promise<ForestKernels> {
  if (backend === "js") return Promise.resolve(jsForest);
  return selectKernels(FOREST, backend);
}

/** Whether the kernels grow trees of this criterion (else: exact builder on bin codes). */
export function kernelCriterion(criterion: string): ForestCriterion | null {
  if (criterion === "log_loss") return "entropy";
  return criterion in FOREST_CRITERIA ? criterion as ForestCriterion : null;
}

/** The session data of a binned matrix with class indices or targets. */
export function forestData(
  binned: BinnedMatrix,
  target: { labels: Float64Array; nClasses: number },
): ForestData {
  const nBins = new Int32Array(binned.nFeatures);
  for (let f = 0; f < binned.nFeatures; f++) {
    nBins[f] = binned.binOffsets[f + 1] - binned.binOffsets[f] - 1;
  }
  const classification = target.nClasses > 0;
  return {
    bins: binned.bins,
    nRows: binned.nRows,
    nFeatures: binned.nFeatures,
    nBins,
    labels: classification ? Int32Array.from(target.labels) : null,
    targets: classification ? null : target.labels,
  };
}

/** Tree limits and sampling as the kernels' params record. */
export function growParams(
  limits: Omit<ExactTreeParams, "criterion" | "rng" | "minWeightLeaf">,
  opts: {
    criterion: ForestCriterion;
    nClasses: number;
    minWeightFractionLeaf: number;
    bootstrap: boolean;
    nDraws: number;
    seed: number;
  },
): Float64Array {
  const p = new Float64Array(GROW_PARAM_COUNT);
  p[GROW_PARAM.criterion] = FOREST_CRITERIA[opts.criterion];
  p[GROW_PARAM.nClasses] = opts.nClasses;
  p[GROW_PARAM.maxDepth] = limits.maxDepth;
  p[GROW_PARAM.minSamplesSplit] = limits.minSamplesSplit;
  p[GROW_PARAM.minSamplesLeaf] = limits.minSamplesLeaf;
  p[GROW_PARAM.minWeightFractionLeaf] = opts.minWeightFractionLeaf;
  p[GROW_PARAM.minImpurityDecrease] = limits.minImpurityDecrease;
  p[GROW_PARAM.maxFeatures] = limits.maxFeatures;
  p[GROW_PARAM.maxLeafNodes] = limits.maxLeafNodes;
  p[GROW_PARAM.bootstrap] = opts.bootstrap ? 1 : 0;
  p[GROW_PARAM.nDraws] = opts.nDraws;
  p[GROW_PARAM.seed] = opts.seed >>> 0;
  return p;
}

/** The value threshold t of a split between two value bins: x ≤ t goes left. */
function binThreshold(cuts: BinCuts, feature: number, lowBin: number, splitBin: number): number {
  const offset = cuts.binOffsets[feature];
  if (splitBin === cuts.binOffsets[feature + 1] - offset - 1) return Infinity;
  const below = cuts.binMax[offset + lowBin];
  const above = cuts.splitValues[offset + splitBin];
  // Half plus half never overflows; a midpoint that rounds onto the upper value is moved down.
  let t = below / 2 + above / 2;
  if (t === above || !Number.isFinite(t)) t = below;
  return t;
}

/**
 * A grown tree as a CartTree: value thresholds, class counts made fractions by weight.
 *
 * @param width Values per node (classes, or 1).
 */
export function grownToCart(
  tree: GrownTree,
  cuts: BinCuts,
  nFeatures: number,
  width: number,
  classification: boolean,
): CartTree {
  const n = tree.nodeCount;
  const threshold = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (tree.feature[i] >= 0) {
      threshold[i] = binThreshold(cuts, tree.feature[i], tree.lowBin[i], tree.splitBin[i]);
    }
  }
  const value = tree.value.slice();
  if (classification) {
    for (let i = 0; i < n; i++) {
      let total = 0;
      for (let k = 0; k < width; k++) total += value[i * width + k];
      if (total > 0) { for (let k = 0; k < width; k++) value[i * width + k] /= total; }
    }
  }
  return {
    nFeatures,
    leafWidth: width,
    nodeCount: n,
    feature: tree.feature,
    threshold,
    missingLeft: tree.missingLeft,
    left: tree.left,
    right: tree.right,
    value,
    impurity: tree.impurity,
    nNodeSamples: tree.nNodeSamples,
    weightedNNodeSamples: tree.weightedNNodeSamples,
    maxDepth: tree.maxDepth,
  };
}

/**
 * Grows a tree with the exact builder on the bin codes of `binned` (NaN for the missing bin),
 * then maps every threshold between codes back to a value threshold: what histogram splitting
 * means for criteria whose statistics are not sums (absolute_error).
 */
export function buildOnBinCodes(
  binned: BinnedMatrix,
  target: { y: Float64Array; weights: Float64Array | null; nClasses: number },
  params: ExactTreeParams,
): CartTree {
  const { nRows, nFeatures } = binned;
  const codes = new Float32Array(nRows * nFeatures);
  for (let f = 0; f < nFeatures; f++) {
    const missing = binned.binOffsets[f + 1] - binned.binOffsets[f] - 1;
    for (let r = 0; r < nRows; r++) {
      const b = binned.bins[f * nRows + r];
      codes[r * nFeatures + f] = b === missing ? NaN : b;
    }
  }
  const tree = buildExactTree({ x: codes, nRows, nCols: nFeatures, ...target }, params);
  for (let i = 0; i < tree.nodeCount; i++) {
    const f = tree.feature[i];
    if (f < 0) continue;
    const t = tree.threshold[i];
    // A threshold between codes a < b is (a + b)/2: bins ≤ floor(t) go left, and bins above it
    // up to b hold no row of the node.
    tree.threshold[i] = t === Infinity
      ? Infinity
      : binThreshold(binned, f, Math.floor(t), Math.floor(t) + 1);
  }
  return tree;
}
