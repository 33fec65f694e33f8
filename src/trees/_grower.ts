/**
 * Grows one tree on a binned matrix from per-row gradient statistics: the orchestration above
 * the `trees` kernels (histograms, split search, partition), shared by every histogram-based
 * estimator.
 *
 * Nodes wait in a frontier; the policy picks the next one to expand: `depthwise` takes them
 * level by level, `lossguide` the one with the largest loss reduction first. Expanding a node
 * partitions its rows, builds the histogram of the child with fewer rows and gets the other by
 * subtraction from the parent's; a child that can never split gets no histogram at all.
 *
 * ```
 *  rows:  [ ......... node ......... ]      partition (stable)
 *         [ .. left .. | ... right ... ]    each node keeps its segment [rowBegin, rowEnd)
 * ```
 *
 * @module
 */
import {
  SPLIT_FIELD,
  SPLIT_FIELD_COUNT,
  SPLIT_PARAM,
  SPLIT_PARAM_COUNT,
  SplitScorer,
  type TreesKernels,
} from "../backends/trees.ts";
import type { Rng } from "../_random.ts";
import { type BinnedMatrix, midpointThreshold, valueBins } from "./_binning.ts";

/** Growth settings of one tree. */
export interface GrowParams {
  growPolicy: "depthwise" | "lossguide";
  /** 0 = no limit. */
  maxDepth: number;
  /** 0 = no limit. */
  maxLeaves: number;
  lambda: number;
  alpha: number;
  /** Least loss reduction of a split (XGBoost's `gamma`). */
  gamma: number;
  minChildWeight: number;
  maxDeltaStep: number;
  /** Row-count limits, used with three channels. */
  minSamplesLeaf: number;
  minSamplesSplit: number;
  /** A split must reduce the loss by more than this... */
  minGain: number;
  /** ...and by more than this fraction of its children's scores (guards rounding noise). */
  minRelativeGain: number;
  /** Per feature −1, 0, +1, or null. */
  monotone: Int8Array | null;
  colsampleByLevel: number;
  colsampleByNode: number;
  /**
   * Place thresholds halfway between the values a split separates (scikit-learn) instead of
   * at the right one's lower bin edge (XGBoost). Training rows split the same either way.
   */
  midpointThresholds?: boolean;
}

/** The data a tree grows on. `rows[0 .. rowCount)` are its rows; they get reordered. */
export interface GrowInput {
  kernels: TreesKernels;
  binned: BinnedMatrix;
  /** Per row: gradient, hessian (and count when nChannels is 3). */
  values: Float64Array;
  nChannels: number;
  rows: Int32Array;
  rowCount: number;
  /** Features this tree may use, increasing. */
  features: Int32Array;
  /** Draws the by-level and by-node feature samples. */
  rng: Rng;
}

/** One node of a grown tree; children are indices into the same node list. */
export interface GrownNode {
  /** −1 for a leaf. */
  feature: number;
  splitBin: number;
  threshold: number;
  defaultLeft: boolean;
  left: number;
  right: number;
  depth: number;
  sumGrad: number;
  sumHess: number;
  count: number;
  /** Loss reduction of the split (0 for leaves). */
  gain: number;
  /** The regularised weight −T(G)/(H + λ) within the node's bounds (not scaled). */
  weight: number;
  /** The node's rows are rows[rowBegin .. rowEnd). */
  rowBegin: number;
  rowEnd: number;
}

interface Candidate {
  id: number;
  hist: Float64Array | null;
  lower: number;
  upper: number;
  /** Best split found, or null when the node cannot split. */
  best: {
    feature: number;
    splitBin: number;
    defaultLeft: boolean;
    gain: number;
    g: number;
    h: number;
    n: number;
  } | null;
}

/** Reusable buffers of one growth. */
class Workspace {
  readonly #free: Float64Array[] = [];
  readonly histLength: number;
  readonly scratch: Int32Array;
  readonly params = new Float64Array(SPLIT_PARAM_COUNT);
  out: Float64Array;

  constructor(histLength: number, rows: number, features: number) {
    this.histLength = histLength;
    this.scratch = new Int32Array(rows);
    this.out = new Float64Array(features * SPLIT_FIELD_COUNT);
  }

  takeHist(): Float64Array {
    return this.#free.pop() ?? new Float64Array(this.histLength);
  }

  giveHist(hist: Float64Array | null): void {
    if (hist) this.#free.push(hist);
  }
}

/** Workspaces by binned matrix: the histogram pool outlives one tree, for a whole fit. */
const workspaces = new WeakMap<BinnedMatrix, Workspace>();

function workspaceFor(binned: BinnedMatrix, nChannels: number, featureCount: number): Workspace {
  const histLength = binned.binOffsets[binned.nFeatures] * nChannels;
  let ws = workspaces.get(binned);
  if (!ws || ws.histLength !== histLength || ws.out.length < featureCount * SPLIT_FIELD_COUNT) {
    ws = new Workspace(histLength, binned.nRows, binned.nFeatures);
    workspaces.set(binned, ws);
  }
  return ws;
}

/** k of the given increasing features, drawn without replacement and kept increasing. */
export function sampleFeatures(rng: Rng, from: Int32Array, fraction: number): Int32Array {
  if (fraction >= 1) return from;
  const k = Math.max(1, Math.floor(fraction * from.length));
  const picked = rng.sampleIndices(from.length, k);
  return picked.map((i) => from[i]);
}

/**
 * Grows one tree; nodes are numbered in the order they were created (root 0). The gradient
 * values stay resident in the kernels' memory while the tree grows.
 */
export async function growTree(input: GrowInput, params: GrowParams): Promise<GrownNode[]> {
  await input.kernels.retain(input.values);
  try {
    return await grow(input, params);
  } finally {
    await input.kernels.release(input.values);
  }
}

async function grow(input: GrowInput, params: GrowParams): Promise<GrownNode[]> {
  const { kernels, binned, values, nChannels: C, rows, features, rng } = input;
  const ws = workspaceFor(binned, C, features.length);
  const nodes: GrownNode[] = [];
  const byLevel: Int32Array[] = [];
  const levelFeatures = (depth: number) =>
    byLevel[depth] ??= sampleFeatures(rng, features, params.colsampleByLevel);
  const hasCounts = C >= 3;

  const histogram = async (node: GrownNode, hist: Float64Array) => {
    await kernels.buildHistogram({
      bins: binned.bins,
      nRows: binned.nRows,
      rows,
      rowBegin: node.rowBegin,
      rowEnd: node.rowEnd,
      values,
      nChannels: C,
      features,
      featureCount: features.length,
      binOffsets: binned.binOffsets,
      hist,
    });
  };
  const canEverSplit = (node: GrownNode) =>
    (params.maxDepth === 0 || node.depth < params.maxDepth) &&
    (!hasCounts || node.count >= Math.max(2, params.minSamplesSplit, 2 * params.minSamplesLeaf)) &&
    node.rowEnd - node.rowBegin >= 2;

  const setParams = (node: GrownNode, lower: number, upper: number) => {
    const p = ws.params;
    p[SPLIT_PARAM.lambda] = params.lambda;
    p[SPLIT_PARAM.alpha] = params.alpha;
    p[SPLIT_PARAM.minChildWeight] = params.minChildWeight;
    p[SPLIT_PARAM.maxDeltaStep] = params.maxDeltaStep;
    p[SPLIT_PARAM.minSamplesLeaf] = params.minSamplesLeaf;
    p[SPLIT_PARAM.lowerBound] = lower;
    p[SPLIT_PARAM.upperBound] = upper;
    p[SPLIT_PARAM.sumGrad] = node.sumGrad;
    p[SPLIT_PARAM.sumHess] = node.sumHess;
    p[SPLIT_PARAM.count] = node.count;
    return new SplitScorer(p, params.monotone !== null);
  };

  const evaluate = async (candidate: Candidate) => {
    const node = nodes[candidate.id];
    const scorer = setParams(node, candidate.lower, candidate.upper);
    node.weight = scorer.weight(node.sumGrad, node.sumHess);
    if (candidate.hist === null) return;
    const list = sampleFeatures(rng, levelFeatures(node.depth), params.colsampleByNode);
    await kernels.findSplits({
      hist: candidate.hist,
      nChannels: C,
      features: list,
      featureCount: list.length,
      binOffsets: binned.binOffsets,
      monotone: params.monotone,
      params: ws.params,
      out: ws.out,
    });
    let k = -1;
    for (let i = 0; i < list.length; i++) {
      // Features are increasing and the comparison strict: ties go to the lower index.
      if (ws.out[i * SPLIT_FIELD_COUNT] > (k < 0 ? -Infinity : ws.out[k * SPLIT_FIELD_COUNT])) {
        k = i;
      }
    }
    if (k < 0) return;
    const o = k * SPLIT_FIELD_COUNT;
    const gain = ws.out[o + SPLIT_FIELD.gain];
    // Rounding noise scales with the children's scores (gain + the parent's score), not with
    // the parent's alone, which is ~0 for an impure node whose gradients cancel out.
    const childScores = gain + scorer.score(node.sumGrad, node.sumHess);
    const floor = Math.max(params.minGain, params.minRelativeGain * Math.abs(childScores));
    if (!(gain > floor) || gain < params.gamma) return;
    candidate.best = {
      feature: list[k],
      splitBin: ws.out[o + SPLIT_FIELD.splitBin],
      defaultLeft: ws.out[o + SPLIT_FIELD.defaultLeft] !== 0,
      gain,
      g: ws.out[o + SPLIT_FIELD.leftGrad],
      h: ws.out[o + SPLIT_FIELD.leftHess],
      n: ws.out[o + SPLIT_FIELD.leftCount],
    };
  };

  const newNode = (
    depth: number,
    rowBegin: number,
    rowEnd: number,
    g: number,
    h: number,
    n: number,
  ) => {
    nodes.push({
      feature: -1,
      splitBin: 0,
      threshold: 0,
      defaultLeft: false,
      left: -1,
      right: -1,
      depth,
      sumGrad: g,
      sumHess: h,
      count: n,
      gain: 0,
      weight: 0,
      rowBegin,
      rowEnd,
    });
    return nodes.length - 1;
  };

  // The root's sums, in row order.
  let g0 = 0, h0 = 0, n0 = 0;
  for (let i = 0; i < input.rowCount; i++) {
    const v = rows[i] * C;
    g0 += values[v];
    h0 += values[v + 1];
    if (hasCounts) n0 += values[v + 2];
  }
  const root = newNode(0, 0, input.rowCount, g0, h0, hasCounts ? n0 : input.rowCount);
  const rootCandidate: Candidate = {
    id: root,
    hist: null,
    lower: -Infinity,
    upper: Infinity,
    best: null,
  };
  if (canEverSplit(nodes[root])) {
    rootCandidate.hist = ws.takeHist();
    await histogram(nodes[root], rootCandidate.hist);
  }
  await evaluate(rootCandidate);

  const frontier: Candidate[] = [rootCandidate];
  let leaves = 1;
  while (frontier.length > 0) {
    const candidate = popNext(frontier, params.growPolicy);
    const best = candidate.best;
    if (best === null || (params.maxLeaves > 0 && leaves >= params.maxLeaves)) {
      ws.giveHist(candidate.hist);
      continue;
    }
    const node = nodes[candidate.id];
    const nLeft = await kernels.partition({
      bins: binned.bins,
      nRows: binned.nRows,
      rows,
      rowBegin: node.rowBegin,
      rowEnd: node.rowEnd,
      feature: best.feature,
      splitBin: best.splitBin,
      missingBin: valueBins(binned, best.feature),
      defaultLeft: best.defaultLeft ? 1 : 0,
      scratch: ws.scratch,
    });
    const middle = node.rowBegin + nLeft;
    const depth = node.depth + 1;
    const leftId = newNode(
      depth,
      node.rowBegin,
      middle,
      best.g,
      best.h,
      hasCounts ? best.n : nLeft,
    );
    const rightId = newNode(
      depth,
      middle,
      node.rowEnd,
      node.sumGrad - best.g,
      node.sumHess - best.h,
      hasCounts ? node.count - best.n : node.rowEnd - middle,
    );
    Object.assign(node, {
      feature: best.feature,
      splitBin: best.splitBin,
      threshold: thresholdOf(
        binned,
        candidate.hist,
        C,
        best.feature,
        best.splitBin,
        params.midpointThresholds ?? false,
      ),
      defaultLeft: best.defaultLeft,
      left: leftId,
      right: rightId,
      gain: best.gain,
    });
    leaves++;

    const [leftBounds, rightBounds] = childBounds(
      candidate,
      node,
      nodes[leftId],
      nodes[rightId],
      setParams,
      params.monotone,
    );
    const children: Candidate[] = [
      { id: leftId, hist: null, lower: leftBounds[0], upper: leftBounds[1], best: null },
      { id: rightId, hist: null, lower: rightBounds[0], upper: rightBounds[1], best: null },
    ];
    const splittable = children.filter((c) => canEverSplit(nodes[c.id]));
    if (splittable.length > 0) {
      const rowsOf = (c: Candidate) => nodes[c.id].rowEnd - nodes[c.id].rowBegin;
      const [small, large] = rowsOf(children[0]) <= rowsOf(children[1])
        ? children
        : [children[1], children[0]];
      small.hist = ws.takeHist();
      await histogram(nodes[small.id], small.hist);
      if (splittable.includes(large)) {
        // The parent's buffer becomes the larger child's: parent − small, in place.
        large.hist = candidate.hist!;
        candidate.hist = null;
        await kernels.subtractHistogram({
          parent: large.hist,
          child: small.hist,
          out: large.hist,
          nChannels: C,
          features,
          featureCount: features.length,
          binOffsets: binned.binOffsets,
        });
      }
      if (!splittable.includes(small)) {
        ws.giveHist(small.hist);
        small.hist = null;
      }
    }
    ws.giveHist(candidate.hist);
    for (const child of children) {
      await evaluate(child);
      frontier.push(child);
    }
  }
  return nodes;
}

/**
 * The float32 threshold of a split: the split bin's lower edge (XGBoost), or with `midpoint`
 * the midpoint between the node's nearest values on either side (scikit-learn), found from
 * the non-empty bins of the node's histogram.
 */
function thresholdOf(
  binned: BinnedMatrix,
  hist: Float64Array | null,
  nChannels: number,
  feature: number,
  splitBin: number,
  midpoint: boolean,
): number {
  const offset = binned.binOffsets[feature];
  const edge = binned.splitValues[offset + splitBin];
  const nBins = valueBins(binned, feature);
  if (!midpoint || hist === null || splitBin === 0 || splitBin === nBins) return edge;
  // A bin holds rows when its count (or, without counts, its hessian) is positive.
  const channel = nChannels >= 3 ? 2 : 1;
  const filled = (b: number) => hist[(offset + b) * nChannels + channel] > 0;
  let low = splitBin - 1, high = splitBin;
  while (low > 0 && !filled(low)) low--;
  while (high < nBins - 1 && !filled(high)) high++;
  return midpointThreshold(binned, feature, low, high);
}

/** Removes and returns the next node to expand under the policy. */
function popNext(frontier: Candidate[], policy: GrowParams["growPolicy"]): Candidate {
  let pick = 0;
  if (policy === "lossguide") {
    // Largest gain first; among equals the oldest node (lowest id); unsplittable nodes last.
    for (let i = 1; i < frontier.length; i++) {
      const a = frontier[i].best?.gain ?? -Infinity, b = frontier[pick].best?.gain ?? -Infinity;
      if (a > b || (a === b && frontier[i].id < frontier[pick].id)) pick = i;
    }
  }
  return frontier.splice(pick, 1)[0];
}

/**
 * Weight bounds of the two children: the parent's, tightened at the midpoint of the children's
 * weights when the split feature is monotone, so every later leaf respects the order.
 */
function childBounds(
  parent: Candidate,
  node: GrownNode,
  left: GrownNode,
  right: GrownNode,
  scorerFor: (node: GrownNode, lower: number, upper: number) => SplitScorer,
  monotone: Int8Array | null,
): [[number, number], [number, number]] {
  const bounds = (): [number, number] => [parent.lower, parent.upper];
  const constraint = monotone === null ? 0 : monotone[node.feature];
  if (constraint === 0) return [bounds(), bounds()];
  const wl = scorerFor(left, parent.lower, parent.upper).weight(left.sumGrad, left.sumHess);
  const wr = scorerFor(right, parent.lower, parent.upper).weight(right.sumGrad, right.sumHess);
  const mid = (wl + wr) / 2;
  return constraint > 0
    ? [[parent.lower, mid], [mid, parent.upper]]
    : [[mid, parent.upper], [parent.lower, mid]];
}
