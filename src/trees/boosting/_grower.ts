/**
 * Grows one tree on a binned matrix from per-row gradient statistics: the orchestration above
 * the `trees` kernels (histograms, split search, partition), shared by every histogram-based
 * estimator. The kernels keep the fit's data in a workspace (see TreesWorkspace); this file
 * only sends them small step records.
 *
 * Nodes wait in a frontier; the policy picks what to expand next: `depthwise` a whole level,
 * `lossguide` the node with the largest loss reduction. Expanding partitions the nodes' rows in
 * one step, then one growth step builds the histogram of each child with fewer rows, gets its
 * sibling by subtraction from the parent's, and searches every new node's best split; a child
 * that can never split gets no histogram at all.
 *
 * ```
 *  rows:  [ ......... node ......... ]      partition (stable)
 *         [ .. left .. | ... right ... ]    each node keeps its segment [rowBegin, rowEnd)
 * ```
 *
 * @module
 */
import {
  BIN_SET_WORDS,
  BUILD_FIELD,
  BUILD_FIELD_COUNT,
  type Categorical,
  categoryBins,
  type GrowthStep,
  PARTITION_FIELD,
  PARTITION_FIELD_COUNT,
  type PartitionStep,
  SPLIT_FIELD,
  SPLIT_FIELD_COUNT,
  SPLIT_PARAM,
  SPLIT_PARAM_COUNT,
  SplitScorer,
  SUBTRACT_FIELD,
  SUBTRACT_FIELD_COUNT,
  type TreesKernels,
  type TreesWorkspace,
  type WorkspaceArgs,
} from "../../backends/trees.ts";
import type { Rng } from "../../_random.ts";
import type { AbortWatch } from "../../_abort.ts";
import { type BinnedMatrix, MAX_BIN, midpointThreshold, valueBins } from "../_binning.ts";

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
  /** Categorical features and their split kind (see Categorical), or null/absent for none. */
  categorical?: Categorical | null;
}

/**
 * The data a tree grows on. `rows[0 .. rowCount)` are its rows, increasing; they get reordered
 * (each node's rows are rows[rowBegin .. rowEnd) afterwards). `rows: null` grows on all rows
 * 0 … rowCount − 1 and leaves their order after growth in the workspace alone.
 */
export interface GrowInput {
  /** The fit's workspace, opened on `binned` with `nChannels` (see withGrowthWorkspace). */
  workspace: TreesWorkspace;
  binned: BinnedMatrix;
  /** Per row: gradient, hessian (and count when nChannels is 3). */
  values: Float64Array;
  nChannels: number;
  rows: Int32Array | null;
  rowCount: number;
  /** Features this tree may use, increasing. */
  features: Int32Array;
  /** Draws the by-level and by-node feature samples. */
  rng: Rng;
  /**
   * The fit's watch, checked before each batch of nodes is split: an abort arrives there, and
   * a page's thread gets a turn inside a tree (a first tree, whose kernels the engine has not
   * yet optimised, took 60–70 ms in Chromium).
   */
  watch?: AbortWatch;
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
  /** For a categorical split: the categories going right, increasing; else null. */
  categories: number[] | null;
}

interface Candidate {
  id: number;
  /** Workspace histogram slot, −1 when the node has none (it can never split). */
  slot: number;
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
    /** For a categorical split: the bins going right (BIN_SET_WORDS words), else null. */
    rightBins: Uint32Array | null;
  } | null;
}

/**
 * Opens a growth workspace on a binned matrix for the length of `fn` (a whole fit): the bin
 * matrix moves into the kernels' memory once, and histograms stay there between trees.
 * `options`: the categorical features, whether histograms are read back, the trees to grow.
 */
export async function withGrowthWorkspace<T>(
  kernels: TreesKernels,
  binned: BinnedMatrix,
  nChannels: number,
  monotone: Int8Array | null,
  fn: (workspace: TreesWorkspace) => Promise<T>,
  options: Pick<WorkspaceArgs, "categorical" | "readsHistograms" | "trees"> = {},
): Promise<T> {
  const workspace = kernels.workspace({
    bins: binned.bins,
    nRows: binned.nRows,
    nFeatures: binned.nFeatures,
    binOffsets: binned.binOffsets,
    nChannels,
    monotone,
    ...options,
  });
  try {
    return await fn(workspace);
  } finally {
    workspace.release();
  }
}

/** k of the given increasing features, drawn without replacement and kept increasing. */
export function sampleFeatures(rng: Rng, from: Int32Array, fraction: number): Int32Array {
  if (fraction >= 1) return from;
  const k = Math.max(1, Math.floor(fraction * from.length));
  const picked = rng.sampleIndices(from.length, k);
  return picked.map((i) => from[i]);
}

/** Histogram slot numbers of one tree: freed slots are taken again first. */
class Slots {
  #next = 0;
  readonly #free: number[] = [];

  take(): number {
    return this.#free.pop() ?? this.#next++;
  }

  give(slot: number): void {
    if (slot >= 0) this.#free.push(slot);
  }
}

/** The records of one growth step, in growable arrays reused from step to step. */
class StepRecords {
  readonly step: GrowthStep;
  /** Candidate of each searched node. */
  readonly searched: Candidate[] = [];

  constructor(features: Int32Array) {
    this.step = {
      features,
      featureCount: features.length,
      build: new Int32Array(16 * BUILD_FIELD_COUNT),
      buildCount: 0,
      subtract: new Int32Array(16 * SUBTRACT_FIELD_COUNT),
      subtractCount: 0,
      search: new Int32Array(16),
      searchCount: 0,
      params: new Float64Array(16 * SPLIT_PARAM_COUNT),
      candidates: new Int32Array(16 * Math.max(1, features.length)),
      candidateOffsets: new Int32Array(17),
      best: new Float64Array(16 * SPLIT_FIELD_COUNT),
      bestFeature: new Int32Array(16),
    };
  }

  clear(): void {
    const s = this.step;
    s.buildCount = s.subtractCount = s.searchCount = 0;
    this.searched.length = 0;
  }

  build(slot: number, rowBegin: number, rowEnd: number): void {
    const s = this.step;
    s.build = fit(s.build, (s.buildCount + 1) * BUILD_FIELD_COUNT);
    const o = s.buildCount++ * BUILD_FIELD_COUNT;
    s.build[o + BUILD_FIELD.slot] = slot;
    s.build[o + BUILD_FIELD.rowBegin] = rowBegin;
    s.build[o + BUILD_FIELD.rowEnd] = rowEnd;
  }

  subtract(slot: number, childSlot: number): void {
    const s = this.step;
    s.subtract = fit(s.subtract, (s.subtractCount + 1) * SUBTRACT_FIELD_COUNT);
    const o = s.subtractCount++ * SUBTRACT_FIELD_COUNT;
    s.subtract[o + SUBTRACT_FIELD.slot] = slot;
    s.subtract[o + SUBTRACT_FIELD.childSlot] = childSlot;
  }

  /** Adds a node to search; returns its SPLIT_PARAM record to fill in. */
  search(candidate: Candidate, list: Int32Array): Float64Array {
    const s = this.step;
    const i = s.searchCount++;
    this.searched.push(candidate);
    s.search = fit(s.search, i + 1);
    s.search[i] = candidate.slot;
    s.candidateOffsets = fit(s.candidateOffsets, i + 2);
    const from = s.candidateOffsets[i];
    s.candidates = fit(s.candidates, from + list.length);
    s.candidates.set(list, from);
    s.candidateOffsets[i + 1] = from + list.length;
    s.params = fitFloat(s.params, (i + 1) * SPLIT_PARAM_COUNT);
    s.best = fitFloat(s.best, (i + 1) * SPLIT_FIELD_COUNT);
    s.bestFeature = fit(s.bestFeature, i + 1);
    return s.params.subarray(i * SPLIT_PARAM_COUNT, (i + 1) * SPLIT_PARAM_COUNT);
  }

  get empty(): boolean {
    const s = this.step;
    return s.buildCount + s.subtractCount + s.searchCount === 0;
  }
}

function fit(a: Int32Array, length: number): Int32Array {
  if (a.length >= length) return a;
  const grown = new Int32Array(Math.max(length, 2 * a.length));
  grown.set(a);
  return grown;
}

function fitFloat(a: Float64Array, length: number): Float64Array {
  if (a.length >= length) return a;
  const grown = new Float64Array(Math.max(length, 2 * a.length));
  grown.set(a);
  return grown;
}

/**
 * Grows one tree; nodes are numbered in the order they were created (root 0). Each growth
 * step handles a batch of nodes at once (a level when depthwise), so the kernels see a few
 * large calls per tree rather than several per node.
 */
export function growTree(input: GrowInput, params: GrowParams): Promise<GrownNode[]> {
  return new TreeGrower(input, params).grow();
}

/** The state of one tree's growth. */
class TreeGrower {
  readonly #input: GrowInput;
  readonly #params: GrowParams;
  readonly #nodes: GrownNode[] = [];
  readonly #slots = new Slots();
  readonly #records: StepRecords;
  readonly #byLevel: Int32Array[] = [];
  readonly #hasCounts: boolean;
  readonly #scratchParams = new Float64Array(SPLIT_PARAM_COUNT);
  readonly #rootSums: Float64Array;
  readonly #partition: PartitionStep = {
    nodes: new Int32Array(PARTITION_FIELD_COUNT),
    nodeCount: 0,
    nLeft: new Int32Array(1),
  };
  /** One feature's slots of a histogram, for midpoint thresholds. */
  readonly #featureHist: Float64Array;

  constructor(input: GrowInput, params: GrowParams) {
    this.#input = input;
    this.#params = params;
    this.#records = new StepRecords(input.features);
    this.#hasCounts = input.nChannels >= 3;
    this.#rootSums = new Float64Array(input.nChannels);
    this.#featureHist = new Float64Array(MAX_BIN * input.nChannels);
  }

  async grow(): Promise<GrownNode[]> {
    const { workspace, values, rows, rowCount } = this.#input;
    workspace.setValues(values);
    if (rows === null) workspace.setRowsInOrder(rowCount);
    else workspace.setRows(rows, rowCount);
    const frontier = [await this.#root()];
    let leaves = 1;
    while (frontier.length > 0) {
      // Depthwise: the whole level, in creation order; loss-guided: the best node alone.
      const batch = this.#params.growPolicy === "depthwise"
        ? frontier.splice(0)
        : [popNext(frontier, this.#params.growPolicy)];
      const splitting: Candidate[] = [];
      for (const candidate of batch) {
        const full = this.#params.maxLeaves > 0 && leaves >= this.#params.maxLeaves;
        if (candidate.best === null || full) {
          this.#slots.give(candidate.slot);
          continue;
        }
        splitting.push(candidate);
        leaves++;
      }
      if (splitting.length === 0) continue;
      await this.#input.watch?.check();
      const nLeft = await this.#partitionRows(splitting);
      // Slots read by the step (the smaller children, needed for subtraction only) are given
      // back once it has run.
      const afterStep: number[] = [];
      splitting.forEach((candidate, i) => {
        frontier.push(...this.#split(candidate, nLeft[i], afterStep));
      });
      await this.#runStep();
      for (const slot of afterStep) this.#slots.give(slot);
    }
    if (rows !== null) workspace.readRows(rows, rowCount);
    return this.#nodes;
  }

  /** The root, with its sums in row order, its histogram built and its split searched. */
  async #root(): Promise<Candidate> {
    const { workspace, rowCount } = this.#input, sums = this.#rootSums;
    workspace.rowSums(rowCount, sums);
    const [g, h, n] = [sums[0], sums[1], this.#hasCounts ? sums[2] : rowCount];
    const id = this.#newNode(0, 0, rowCount, g, h, n);
    const root: Candidate = { id, slot: -1, lower: -Infinity, upper: Infinity, best: null };
    if (this.#canEverSplit(this.#nodes[id])) {
      root.slot = this.#slots.take();
      this.#records.build(root.slot, 0, rowCount);
    }
    this.#prepare(root);
    await this.#runStep();
    return root;
  }

  /** Partitions the rows of the nodes being split, in one step; returns the left counts. */
  async #partitionRows(splitting: Candidate[]): Promise<Int32Array> {
    const partition = this.#partition;
    partition.nodes = fit(partition.nodes, splitting.length * PARTITION_FIELD_COUNT);
    partition.nLeft = fit(partition.nLeft, splitting.length);
    partition.nodeCount = splitting.length;
    const categorical = splitting.some((c) => c.best!.rightBins !== null);
    if (categorical) {
      partition.categorical = new Uint8Array(splitting.length);
      partition.rightBins = new Uint32Array(splitting.length * BIN_SET_WORDS);
    } else {
      partition.categorical = partition.rightBins = undefined;
    }
    splitting.forEach((candidate, i) => {
      const node = this.#nodes[candidate.id], best = candidate.best!;
      const o = i * PARTITION_FIELD_COUNT;
      partition.nodes[o + PARTITION_FIELD.rowBegin] = node.rowBegin;
      partition.nodes[o + PARTITION_FIELD.rowEnd] = node.rowEnd;
      partition.nodes[o + PARTITION_FIELD.feature] = best.feature;
      partition.nodes[o + PARTITION_FIELD.splitBin] = best.splitBin;
      partition.nodes[o + PARTITION_FIELD.missingBin] = valueBins(this.#input.binned, best.feature);
      partition.nodes[o + PARTITION_FIELD.defaultLeft] = best.defaultLeft ? 1 : 0;
      if (best.rightBins !== null) {
        partition.categorical![i] = 1;
        partition.rightBins!.set(best.rightBins, i * BIN_SET_WORDS);
      }
    });
    await this.#input.workspace.partition(partition);
    return partition.nLeft;
  }

  /**
   * Turns a candidate into a split node with two children (the first nLeft of its rows go left)
   * and queues their histograms and searches; returns the children.
   */
  #split(candidate: Candidate, nLeft: number, afterStep: number[]): Candidate[] {
    const { binned, workspace, nChannels } = this.#input;
    const nodes = this.#nodes, best = candidate.best!, node = nodes[candidate.id];
    const middle = node.rowBegin + nLeft, depth = node.depth + 1, counts = this.#hasCounts;
    const leftId = this.#newNode(
      depth,
      node.rowBegin,
      middle,
      best.g,
      best.h,
      counts ? best.n : nLeft,
    );
    const rightId = this.#newNode(
      depth,
      middle,
      node.rowEnd,
      node.sumGrad - best.g,
      node.sumHess - best.h,
      counts ? node.count - best.n : node.rowEnd - middle,
    );
    let threshold = best.rightBins !== null
      ? 0
      : binned.splitValues[binned.binOffsets[best.feature] + best.splitBin];
    if (this.#params.midpointThresholds && best.rightBins === null) {
      workspace.readHistogram(candidate.slot, best.feature, this.#featureHist);
      threshold = thresholdOf(binned, this.#featureHist, nChannels, best.feature, best.splitBin);
    }
    Object.assign(node, {
      feature: best.feature,
      splitBin: best.splitBin,
      threshold,
      defaultLeft: best.defaultLeft,
      left: leftId,
      right: rightId,
      gain: best.gain,
      categories: best.rightBins === null ? null : binSet(best.rightBins),
    });
    const [leftBounds, rightBounds] = childBounds(
      candidate,
      node,
      nodes[leftId],
      nodes[rightId],
      (n, lower, upper) => this.#scorerFor(n, lower, upper),
      this.#params.monotone,
    );
    const children: Candidate[] = [
      { id: leftId, slot: -1, lower: leftBounds[0], upper: leftBounds[1], best: null },
      { id: rightId, slot: -1, lower: rightBounds[0], upper: rightBounds[1], best: null },
    ];
    // Plain locals, not arrays made per split: V8 threw away its compiled code for this
    // method at the arrays' loads (a map it had not seen), twice in a first fit.
    const left = nodes[leftId], right = nodes[rightId];
    const leftSplits = this.#canEverSplit(left), rightSplits = this.#canEverSplit(right);
    let parentSlot = candidate.slot;
    if (leftSplits || rightSplits) {
      const leftSmaller = left.rowEnd - left.rowBegin <= right.rowEnd - right.rowBegin;
      const small = leftSmaller ? children[0] : children[1];
      const large = leftSmaller ? children[1] : children[0];
      const smallNode = leftSmaller ? left : right;
      small.slot = this.#slots.take();
      this.#records.build(small.slot, smallNode.rowBegin, smallNode.rowEnd);
      if (leftSmaller ? rightSplits : leftSplits) {
        // The parent's histogram becomes the larger child's: parent − small, in place.
        large.slot = parentSlot;
        parentSlot = -1;
        this.#records.subtract(large.slot, small.slot);
      }
      if (!(leftSmaller ? leftSplits : rightSplits)) {
        afterStep.push(small.slot);
        small.slot = -1;
      }
    }
    this.#slots.give(parentSlot);
    for (const child of children) this.#prepare(child);
    return children;
  }

  #canEverSplit(node: GrownNode): boolean {
    const p = this.#params;
    return (p.maxDepth === 0 || node.depth < p.maxDepth) &&
      (!this.#hasCounts || node.count >= Math.max(2, p.minSamplesSplit, 2 * p.minSamplesLeaf)) &&
      node.rowEnd - node.rowBegin >= 2;
  }

  /** Fills a SPLIT_PARAM record for the node and returns its scorer. */
  #setParams(p: Float64Array, node: GrownNode, lower: number, upper: number): SplitScorer {
    const params = this.#params;
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
  }

  #scorerFor(node: GrownNode, lower: number, upper: number): SplitScorer {
    return this.#setParams(this.#scratchParams, node, lower, upper);
  }

  /**
   * Sets the node's weight and, when it has a histogram, queues its split search. Feature
   * samples are drawn here, in node order, so the draws do not depend on how steps batch nodes.
   */
  #prepare(candidate: Candidate): void {
    const { rng, features } = this.#input;
    const node = this.#nodes[candidate.id];
    node.weight = this.#scorerFor(node, candidate.lower, candidate.upper)
      .weight(node.sumGrad, node.sumHess);
    if (candidate.slot < 0) return;
    const level = this.#byLevel[node.depth] ??= sampleFeatures(
      rng,
      features,
      this.#params.colsampleByLevel,
    );
    const list = sampleFeatures(rng, level, this.#params.colsampleByNode);
    this.#setParams(this.#records.search(candidate, list), node, candidate.lower, candidate.upper);
  }

  /** Runs the queued step and turns each searched node's best split into its candidate. */
  async #runStep(): Promise<void> {
    const records = this.#records, params = this.#params;
    if (records.empty) return;
    const step = records.step;
    await this.#input.workspace.grow(step);
    for (let i = 0; i < step.searchCount; i++) {
      const candidate = records.searched[i];
      const feature = step.bestFeature[i];
      if (feature < 0) continue;
      const node = this.#nodes[candidate.id];
      const o = i * SPLIT_FIELD_COUNT;
      const gain = step.best[o + SPLIT_FIELD.gain];
      // Rounding noise scales with the children's scores (gain + the parent's score), not with
      // the parent's alone, which is ~0 for an impure node whose gradients cancel out.
      const parentScore = this.#scorerFor(node, candidate.lower, candidate.upper)
        .score(node.sumGrad, node.sumHess);
      const childScores = gain + parentScore;
      const floor = Math.max(params.minGain, params.minRelativeGain * Math.abs(childScores));
      if (!(gain > floor) || gain < params.gamma) continue;
      const splitBin = step.best[o + SPLIT_FIELD.splitBin];
      candidate.best = {
        feature,
        splitBin,
        defaultLeft: step.best[o + SPLIT_FIELD.defaultLeft] !== 0,
        gain,
        g: step.best[o + SPLIT_FIELD.leftGrad],
        h: step.best[o + SPLIT_FIELD.leftHess],
        n: step.best[o + SPLIT_FIELD.leftCount],
        rightBins: this.#rightBins(candidate, feature, splitBin, i),
      };
    }
    records.clear();
  }

  /**
   * The bins a categorical split of the searched node i sends right, read back from its
   * histogram (still in its slot: the step has just searched it); null for a numeric feature.
   */
  #rightBins(candidate: Candidate, feature: number, splitBin: number, i: number) {
    const categorical = this.#params.categorical ?? null;
    if (categorical === null || categorical.mask[feature] !== 1) return null;
    const { binned, nChannels: C, workspace } = this.#input;
    const nBins = valueBins(binned, feature);
    workspace.readHistogram(candidate.slot, feature, this.#featureHist);
    const params = this.#records.step.params.subarray(
      i * SPLIT_PARAM_COUNT,
      (i + 1) * SPLIT_PARAM_COUNT,
    );
    const out = new Uint32Array(BIN_SET_WORDS);
    categoryBins(this.#featureHist, nBins, C, splitBin, params, categorical, out);
    return out;
  }

  #newNode(depth: number, rowBegin: number, rowEnd: number, g: number, h: number, n: number) {
    this.#nodes.push({
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
      categories: null,
    });
    return this.#nodes.length - 1;
  }
}

/**
 * The float32 threshold of a split at the midpoint between the node's nearest values on
 * either side (scikit-learn), found from the non-empty bins of the node's histogram of the
 * feature (`featureHist`: its nBins + 1 slots); at the edges, the split bin's lower edge.
 */
function thresholdOf(
  binned: BinnedMatrix,
  featureHist: Float64Array,
  nChannels: number,
  feature: number,
  splitBin: number,
): number {
  const edge = binned.splitValues[binned.binOffsets[feature] + splitBin];
  const nBins = valueBins(binned, feature);
  if (splitBin === 0 || splitBin === nBins) return edge;
  // A bin holds rows when its count (or, without counts, its hessian) is positive.
  const channel = nChannels >= 3 ? 2 : 1;
  const filled = (b: number) => featureHist[b * nChannels + channel] > 0;
  let low = splitBin - 1, high = splitBin;
  while (low > 0 && !filled(low)) low--;
  while (high < nBins - 1 && !filled(high)) high++;
  return midpointThreshold(binned, feature, low, high);
}

/** The members of a bin bitset, increasing. */
function binSet(bits: Uint32Array): number[] {
  const out: number[] = [];
  for (let b = 0; b < bits.length * 32; b++) if ((bits[b >>> 5] >>> (b & 31)) & 1) out.push(b);
  return out;
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
