/**
 * The exact CART builder: scikit-learn's `BestSplitter` (every distinct value of a feature is a
 * candidate; thresholds are midpoints) with its `DepthFirstTreeBuilder`, or its
 * `BestFirstTreeBuilder` when `maxLeafNodes` is set. On data without ties between features it
 * grows the tree scikit-learn grows, node for node, in scikit-learn's node order.
 *
 * ```
 *  input    x row-major float32 (NaN = missing), y class index or target, optional weights
 *  rows     Int32Array of the rows with positive weight; node = contiguous segment of it
 *  node     sort its rows by each drawn feature, scan left → right (criterion.update), keep
 *           the best proxy; then partition the segment stably into [left | right]
 *  output   CartTree: per node feature, threshold (x ≤ t left), missing side, children,
 *           value, impurity, sample counts; `cartNodes` turns it into the shared model format
 * ```
 *
 * Missing values: for a feature with NaN in the node, the scan runs twice (missing rows sent
 * right, then left) and also tries "all values left, missing right" (threshold +∞), as
 * scikit-learn ≥ 1.3. A split learnt without missing values sends NaN to the child with more
 * rows.
 *
 * Ties: features are visited in the order the Fisher–Yates draws give (scikit-learn's
 * algorithm, constant features skipped) and the first best split wins, so a random source that
 * replays scikit-learn's draws breaks ties between features as scikit-learn does.
 *
 * Known differences: child impurities are computed afresh, so a node whose targets are all
 * equal is pure here, where scikit-learn (deriving them by subtraction) may keep a rounding
 * residue of ~1e-14 and split it: node counts can differ, predictions do not. With uneven
 * weights, absolute_error uses the exact weighted median; scikit-learn 1.2's incremental one
 * drifts, so its splits can differ (ours have the smaller deviation).
 *
 * @module
 */
import type { Rng } from "../../_random.ts";
import { PriorityQueue } from "../../_priority_queue.ts";
import { CRITERIA, impurityImprovement, type NodeCriterion } from "./_criteria.ts";
import type { NodeSpec } from "../_tree_model.ts";
import type { TreeLimitOptions } from "../_tree_options.ts";

/** The training data of one tree. */
export interface ExactTreeInput {
  /** Row-major float32 features; NaN is a missing value. */
  x: Float32Array;
  nRows: number;
  nCols: number;
  /** Class index 0 .. nClasses − 1 (classification) or target (regression), one per row. */
  y: Float64Array;
  /** Sample weights (bootstrap counts for forests); rows of weight 0 are left out. */
  weights: Float64Array | null;
  /** Number of classes for a classification criterion; ignored for regression. */
  nClasses: number;
}

/** Resolved growth limits, as scikit-learn's tree builders take them. */
export interface ExactTreeParams {
  /** A key of CRITERIA. */
  criterion: string;
  /** Deepest level (root = 0); Infinity for none. */
  maxDepth: number;
  /** Least rows to split a node (already at least 2·minSamplesLeaf). */
  minSamplesSplit: number;
  /** Least rows in each child. */
  minSamplesLeaf: number;
  /** Least weight in each child (minWeightFractionLeaf × total weight). */
  minWeightLeaf: number;
  /** A split must improve the weighted impurity by at least this. */
  minImpurityDecrease: number;
  /** Features drawn per split, 1 .. nCols; fewer than nCols needs `rng`. */
  maxFeatures: number;
  /** 0: depth-first growth; ≥ 2: best-first growth to at most this many leaves. */
  maxLeafNodes: number;
  /**
   * The source of the per-split feature draws (an Rng of src/_random.ts). It also orders the
   * features when all are visited, which decides between exactly tied splits; without it they
   * are visited in a fixed order.
   */
  rng?: FeatureDraws;
}

/** What the builder needs from a random source: an integer in [0, n). */
export type FeatureDraws = Pick<Rng, "nextInt">;

/** A fitted tree with scikit-learn's per-node statistics, in full precision. */
export interface CartTree {
  nFeatures: number;
  /** Values per node: classes for classification, 1 for regression. */
  leafWidth: number;
  nodeCount: number;
  /** Feature tested, −1 at leaves. */
  feature: Int32Array;
  /** A non-missing x goes left when x ≤ threshold (scikit-learn's rule; 0 at leaves). */
  threshold: Float64Array;
  /** 1 when missing values go left. */
  missingLeft: Uint8Array;
  /** Children, −1 at leaves; each child's index exceeds its parent's. */
  left: Int32Array;
  right: Int32Array;
  /** nodeCount × leafWidth: class fractions by weight, or the mean / median target. */
  value: Float64Array;
  impurity: Float64Array;
  nNodeSamples: Int32Array;
  weightedNNodeSamples: Float64Array;
  /** Depth of the deepest node (root = 0). */
  maxDepth: number;
}

/** Values within this of each other are one value (scikit-learn's FEATURE_THRESHOLD, float32). */
const FEATURE_THRESHOLD = Math.fround(1e-7);
/** Node impurity at or below this makes a leaf; it also pads `minImpurityDecrease`. */
const EPSILON = Number.EPSILON;
/** Rows of a node are sorted by packing (sortable value bits, offset) into one float64. */
const OFFSET_SPAN = 2 ** 21;

/**
 * scikit-learn's resolution of tree limits for data of `nRows` rows, `nCols` features and
 * total sample weight `totalWeight`.
 *
 * @throws {RangeError} When `maxFeatures` is not positive or counts more features than there are.
 */
export function resolveTreeLimits(
  opts: TreeLimitOptions,
  nRows: number,
  nCols: number,
  totalWeight: number,
): Omit<ExactTreeParams, "criterion" | "rng"> {
  const leafOpt = opts.minSamplesLeaf ?? 1;
  const minSamplesLeaf = Number.isInteger(leafOpt) && leafOpt >= 1
    ? leafOpt
    : Math.ceil(leafOpt * nRows);
  const splitOpt = opts.minSamplesSplit ?? 2;
  const minSamplesSplit = Number.isInteger(splitOpt) && splitOpt >= 2
    ? splitOpt
    : Math.max(2, Math.ceil(splitOpt * nRows));
  let maxFeatures: number;
  const mf = opts.maxFeatures;
  if (mf === null || mf === undefined) maxFeatures = nCols;
  else if (mf === "sqrt") maxFeatures = Math.max(1, Math.floor(Math.sqrt(nCols)));
  else if (mf === "log2") maxFeatures = Math.max(1, Math.floor(Math.log2(nCols)));
  else if (!(mf > 0)) throw new RangeError(`Expected "maxFeatures" to be > 0 but found ${mf}`);
  else if (mf <= 1) maxFeatures = Math.max(1, Math.floor(mf * nCols));
  else maxFeatures = mf;
  if (maxFeatures > nCols) {
    throw new RangeError(
      `Expected "maxFeatures" to be at most the ${nCols} features but found ${mf}`,
    );
  }
  return {
    maxDepth: opts.maxDepth ?? Infinity,
    minSamplesSplit: Math.max(minSamplesSplit, 2 * minSamplesLeaf),
    minSamplesLeaf,
    minWeightLeaf: (opts.minWeightFractionLeaf ?? 0) * totalWeight,
    minImpurityDecrease: opts.minImpurityDecrease ?? 0,
    maxFeatures,
    maxLeafNodes: opts.maxLeafNodes ?? 0,
  };
}

/** The best split of one node. */
interface Split {
  feature: number;
  threshold: number;
  /** First row of the right child after partitioning. */
  pos: number;
  missingLeft: boolean;
  improvement: number;
  impurityLeft: number;
  impurityRight: number;
}

/** A node waiting to be evaluated. */
interface NodeTask {
  begin: number;
  end: number;
  depth: number;
  parent: number;
  isLeft: boolean;
  /** Known from the parent's split; null at the root. */
  impurity: number | null;
  /** Features known to be constant here (scikit-learn's n_constant_features). */
  nConstant: number;
}

/** An evaluated node: added to the tree, possibly with a split to expand. */
interface NodeResult {
  id: number;
  split: Split | null;
  task: NodeTask;
  nConstant: number;
}

const floatBits = new Float32Array(1);
const uintBits = new Uint32Array(floatBits.buffer);

/** Float32 bits mapped to unsigned integers of the same order (NaN never reaches here). */
function sortableBits(v: number): number {
  floatBits[0] = v;
  const bits = uintBits[0];
  return bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
}

/** Grows one tree. */
class ExactBuilder {
  readonly #in: ExactTreeInput;
  readonly #p: ExactTreeParams;
  readonly #criterion: NodeCriterion;
  readonly #leafWidth: number;
  readonly #rows: Int32Array;
  readonly #scratch: Int32Array;
  readonly #values: Float32Array;
  readonly #keys: Float64Array;
  readonly #features: Int32Array;
  readonly #constants: Int32Array;
  readonly #totalWeight: number;
  // Growing node arrays.
  readonly feature: number[] = [];
  readonly threshold: number[] = [];
  readonly missingLeft: number[] = [];
  readonly left: number[] = [];
  readonly right: number[] = [];
  readonly value: number[] = [];
  readonly impurity: number[] = [];
  readonly nNodeSamples: number[] = [];
  readonly weightedNNodeSamples: number[] = [];
  maxDepthSeen = 0;

  constructor(input: ExactTreeInput, params: ExactTreeParams) {
    const spec = CRITERIA[params.criterion];
    if (spec === undefined) {
      throw new RangeError(
        `Expected "criterion" to be one of ${
          Object.keys(CRITERIA).join(", ")
        } but found ${params.criterion}`,
      );
    }
    if (params.maxFeatures < input.nCols && params.rng === undefined) {
      throw new RangeError(
        `Expected "rng" to be given when "maxFeatures" (${params.maxFeatures}) is below the ${input.nCols} features`,
      );
    }
    this.#in = input;
    this.#p = params;
    this.#leafWidth = spec.task === "classification" ? input.nClasses : 1;
    this.#criterion = spec.create(input.y, input.weights, input.nClasses);
    const kept: number[] = [];
    let total = 0;
    for (let i = 0; i < input.nRows; i++) {
      const w = input.weights === null ? 1 : input.weights[i];
      total += w;
      if (w !== 0) kept.push(i);
    }
    this.#totalWeight = total;
    this.#rows = Int32Array.from(kept);
    this.#scratch = new Int32Array(kept.length);
    this.#values = new Float32Array(kept.length);
    this.#keys = new Float64Array(kept.length);
    this.#features = new Int32Array(input.nCols).map((_, i) => i);
    this.#constants = new Int32Array(input.nCols);
  }

  get sampleCount(): number {
    return this.#rows.length;
  }

  /** Sorts rows[begin .. end) by feature f, missing values last; returns their count. */
  #sortByFeature(begin: number, end: number, f: number): number {
    const { x, nCols } = this.#in;
    const rows = this.#rows, scratch = this.#scratch, keys = this.#keys;
    const packed = end - begin <= OFFSET_SPAN;
    const offsets: number[] = [];
    let present = 0, missing = 0;
    for (let p = begin; p < end; p++) {
      const v = x[rows[p] * nCols + f];
      if (v !== v) scratch[end - 1 - missing++] = rows[p];
      else if (packed) keys[present++] = sortableBits(v) * OFFSET_SPAN + (p - begin);
      else offsets[present++] = p - begin;
    }
    if (packed) {
      // One native numeric sort: the value's order bits lead, the row's offset breaks ties.
      keys.subarray(0, present).sort();
      for (let i = 0; i < present; i++) scratch[begin + i] = rows[begin + (keys[i] % OFFSET_SPAN)];
    } else {
      const valueAt = (offset: number) => x[rows[begin + offset] * nCols + f];
      offsets.sort((a, b) => valueAt(a) - valueAt(b) || a - b);
      for (let i = 0; i < present; i++) scratch[begin + i] = rows[begin + offsets[i]];
    }
    // Missing rows were written from the end backwards; keep their original order.
    scratch.subarray(end - missing, end).reverse();
    rows.set(scratch.subarray(begin, end), begin);
    for (let p = begin; p < begin + present; p++) this.#values[p] = x[rows[p] * nCols + f];
    return missing;
  }

  /**
   * Scans feature f over the sorted node for splits better than `best`; returns the better
   * one (without child impurities yet) or `best`.
   */
  #scanFeature(
    f: number,
    begin: number,
    end: number,
    nMissing: number,
    best: Split | null,
    bestProxy: { v: number },
  ): Split | null {
    const values = this.#values, crit = this.#criterion;
    const { minSamplesLeaf, minWeightLeaf } = this.#p;
    const endPresent = end - nMissing;
    for (const missingLeft of nMissing > 0 ? [false, true] : [false]) {
      crit.reset(nMissing, missingLeft);
      let p = begin;
      while (p < endPresent) {
        while (p + 1 < endPresent && values[p + 1] <= Math.fround(values[p] + FEATURE_THRESHOLD)) {
          p++;
        }
        const previous = p++;
        if (p >= endPresent) continue;
        const nLeft = p - begin + (missingLeft ? nMissing : 0);
        const nRight = endPresent - p + (missingLeft ? 0 : nMissing);
        if (nLeft < minSamplesLeaf || nRight < minSamplesLeaf) continue;
        crit.update(p);
        if (crit.weightLeft < minWeightLeaf || crit.weightRight < minWeightLeaf) continue;
        const proxy = crit.proxyImprovement();
        if (!(proxy > bestProxy.v)) continue;
        bestProxy.v = proxy;
        // Half plus half never overflows; a midpoint that rounds onto the upper value is moved down.
        let threshold = values[previous] / 2 + values[p] / 2;
        if (threshold === values[p] || !Number.isFinite(threshold)) threshold = values[previous];
        best = {
          feature: f,
          threshold,
          pos: p,
          missingLeft: nMissing === 0 ? nLeft > nRight : missingLeft,
          improvement: 0,
          impurityLeft: 0,
          impurityRight: 0,
        };
      }
    }
    if (nMissing > 0 && endPresent - begin >= minSamplesLeaf && nMissing >= minSamplesLeaf) {
      crit.reset(nMissing, false);
      crit.update(endPresent);
      if (crit.weightLeft >= minWeightLeaf && crit.weightRight >= minWeightLeaf) {
        const proxy = crit.proxyImprovement();
        if (proxy > bestProxy.v) {
          bestProxy.v = proxy;
          best = {
            feature: f,
            threshold: Infinity,
            pos: endPresent,
            missingLeft: false,
            improvement: 0,
            impurityLeft: 0,
            impurityRight: 0,
          };
        }
      }
    }
    return best;
  }

  /** A feature index in [low, high): random, or `low` without a random source. */
  #draw(low: number, high: number): number {
    const rng = this.#p.rng;
    return rng === undefined ? low : low + rng.nextInt(high - low);
  }

  /**
   * The best split of rows[begin .. end), drawing features as scikit-learn's BestSplitter
   * does (Fisher–Yates over the features, skipping those known constant); partitions the rows
   * by it. Returns the split (or null) and the constant-feature count for the children.
   */
  #findSplit(
    task: NodeTask,
    nodeImpurity: number,
    weightNode: number,
  ): { split: Split | null; nConstant: number } {
    const { begin, end } = task;
    const features = this.#features, constants = this.#constants;
    const nCols = this.#in.nCols, nKnown = task.nConstant;
    let fI = nCols, nVisited = 0, nFound = 0, nDrawn = 0, nTotal = nKnown;
    let best: Split | null = null;
    const bestProxy = { v: -Infinity };
    const swap = (i: number, j: number) => {
      const t = features[i];
      features[i] = features[j];
      features[j] = t;
    };
    while (fI > nTotal && (nVisited < this.#p.maxFeatures || nVisited <= nFound + nDrawn)) {
      nVisited++;
      let fJ = this.#draw(nDrawn, fI - nFound);
      if (fJ < nKnown) {
        swap(nDrawn++, fJ);
        continue;
      }
      fJ += nFound;
      const f = features[fJ];
      const nMissing = this.#sortByFeature(begin, end, f);
      const endPresent = end - nMissing;
      if (
        endPresent === begin ||
        this.#values[endPresent - 1] <= Math.fround(this.#values[begin] + FEATURE_THRESHOLD)
      ) {
        swap(fJ, nTotal++);
        nFound++;
        continue;
      }
      swap(--fI, fJ);
      best = this.#scanFeature(f, begin, end, nMissing, best, bestProxy);
    }
    // Descendants must see the known constants first, in their original order.
    features.set(constants.subarray(0, nKnown), 0);
    constants.set(features.subarray(nKnown, nKnown + nFound), nKnown);
    if (best !== null) this.#finishSplit(task, best, nodeImpurity, weightNode);
    return { split: best, nConstant: nTotal };
  }

  /** Partitions the node by `split` (stably) and fills in its child impurities and improvement. */
  #finishSplit(task: NodeTask, split: Split, nodeImpurity: number, weightNode: number): void {
    const { begin, end } = task;
    const { x, nCols } = this.#in;
    const rows = this.#rows, scratch = this.#scratch;
    let l = begin, r = 0;
    for (let p = begin; p < end; p++) {
      const row = rows[p];
      const v = x[row * nCols + split.feature];
      if (v !== v ? split.missingLeft : v <= split.threshold) rows[l++] = row;
      else scratch[r++] = row;
    }
    rows.set(scratch.subarray(0, r), l);
    split.pos = l;
    const crit = this.#criterion;
    crit.init(rows, begin, l);
    const left = { weight: crit.weightNode, impurity: crit.nodeImpurity() };
    crit.init(rows, l, end);
    const right = { weight: crit.weightNode, impurity: crit.nodeImpurity() };
    split.impurityLeft = left.impurity;
    split.impurityRight = right.impurity;
    split.improvement = impurityImprovement(
      this.#totalWeight,
      { weight: weightNode, impurity: nodeImpurity },
      left,
      right,
    );
  }

  /** Evaluates a node, adds it to the tree and links it to its parent. */
  evaluate(task: NodeTask): NodeResult {
    const { begin, end, depth } = task;
    const p = this.#p;
    const crit = this.#criterion;
    crit.init(this.#rows, begin, end);
    const weight = crit.weightNode;
    const impurity = task.impurity ?? crit.nodeImpurity();
    const id = this.feature.length;
    const value = new Float64Array(this.#leafWidth);
    crit.nodeValue(value, 0);
    for (const v of value) this.value.push(v);
    const n = end - begin;
    let isLeaf = depth >= p.maxDepth || n < p.minSamplesSplit || n < 2 * p.minSamplesLeaf ||
      weight < 2 * p.minWeightLeaf || impurity <= EPSILON;
    let split: Split | null = null;
    let nConstant = task.nConstant;
    if (!isLeaf) {
      ({ split, nConstant } = this.#findSplit(task, impurity, weight));
      isLeaf = split === null || split.improvement + EPSILON < p.minImpurityDecrease;
      if (isLeaf) split = null;
    }
    this.feature.push(split === null ? -1 : split.feature);
    this.threshold.push(split === null ? 0 : split.threshold);
    this.missingLeft.push(split !== null && split.missingLeft ? 1 : 0);
    this.left.push(-1);
    this.right.push(-1);
    this.impurity.push(impurity);
    this.nNodeSamples.push(n);
    this.weightedNNodeSamples.push(weight);
    if (task.parent >= 0) (task.isLeft ? this.left : this.right)[task.parent] = id;
    this.maxDepthSeen = Math.max(this.maxDepthSeen, depth);
    return { id, split, task, nConstant };
  }

  /** Marks a node that will not be expanded as a leaf. */
  makeLeaf(id: number): void {
    this.feature[id] = -1;
    this.threshold[id] = 0;
    this.missingLeft[id] = 0;
  }

  childTasks(node: NodeResult): [NodeTask, NodeTask] {
    const { task, split, id, nConstant } = node;
    const depth = task.depth + 1;
    return [
      {
        begin: task.begin,
        end: split!.pos,
        depth,
        parent: id,
        isLeft: true,
        impurity: split!.impurityLeft,
        nConstant,
      },
      {
        begin: split!.pos,
        end: task.end,
        depth,
        parent: id,
        isLeft: false,
        impurity: split!.impurityRight,
        nConstant,
      },
    ];
  }

  tree(): CartTree {
    return {
      nFeatures: this.#in.nCols,
      leafWidth: this.#leafWidth,
      nodeCount: this.feature.length,
      feature: Int32Array.from(this.feature),
      threshold: Float64Array.from(this.threshold),
      missingLeft: Uint8Array.from(this.missingLeft),
      left: Int32Array.from(this.left),
      right: Int32Array.from(this.right),
      value: Float64Array.from(this.value),
      impurity: Float64Array.from(this.impurity),
      nNodeSamples: Int32Array.from(this.nNodeSamples),
      weightedNNodeSamples: Float64Array.from(this.weightedNNodeSamples),
      maxDepth: this.maxDepthSeen,
    };
  }
}

/** Depth first, left child first: nodes come out in preorder, as scikit-learn numbers them. */
function growDepthFirst(builder: ExactBuilder, root: NodeTask): void {
  const stack = [root];
  while (stack.length > 0) {
    const node = builder.evaluate(stack.pop()!);
    if (node.split === null) continue;
    const [left, right] = builder.childTasks(node);
    stack.push(right, left);
  }
}

/**
 * Best first: the open node with the largest improvement is expanded next (ties: the older
 * node); both children are evaluated, and numbered, when their parent is expanded.
 */
function growBestFirst(builder: ExactBuilder, root: NodeTask, maxLeafNodes: number): void {
  const open = new PriorityQueue<NodeResult>((a, b) =>
    a.split!.improvement > b.split!.improvement ||
    (a.split!.improvement === b.split!.improvement && a.id < b.id)
  );
  const push = (node: NodeResult) => {
    if (node.split !== null) open.push(node);
  };
  let splitsLeft = maxLeafNodes - 1;
  push(builder.evaluate(root));
  while (open.size > 0) {
    const node = open.pop();
    if (splitsLeft <= 0) {
      builder.makeLeaf(node.id);
      continue;
    }
    splitsLeft--;
    const [left, right] = builder.childTasks(node);
    push(builder.evaluate(left));
    push(builder.evaluate(right));
  }
}

/**
 * Grows one CART tree with exact (sorted-value) splits.
 *
 * @param input Features, labels (class indices or targets), weights, class count.
 * @param params Resolved limits (see `resolveTreeLimits`), criterion and random source.
 * @returns The tree with scikit-learn's node numbering and statistics.
 * @throws {RangeError} On an unknown criterion, feature sampling without `rng`, or no row
 *   with positive weight.
 */
export function buildExactTree(input: ExactTreeInput, params: ExactTreeParams): CartTree {
  const builder = new ExactBuilder(input, params);
  if (builder.sampleCount === 0) {
    throw new RangeError(`Expected at least one row with a positive weight`);
  }
  const root: NodeTask = {
    begin: 0,
    end: builder.sampleCount,
    depth: 0,
    parent: -1,
    isLeft: false,
    impurity: null,
    nConstant: 0,
  };
  if (params.maxLeafNodes > 0) growBestFirst(builder, root, params.maxLeafNodes);
  else growDepthFirst(builder, root);
  return builder.tree();
}

/** The leaf each row of a row-major float32 matrix reaches, by scikit-learn's rule. */
export function applyCart(tree: CartTree, x: Float32Array, nRows: number): Int32Array {
  const out = new Int32Array(nRows);
  const cols = tree.nFeatures;
  for (let r = 0; r < nRows; r++) {
    let node = 0;
    while (tree.feature[node] >= 0) {
      const v = x[r * cols + tree.feature[node]];
      const goLeft = v !== v ? tree.missingLeft[node] === 1 : v <= tree.threshold[node];
      node = goLeft ? tree.left[node] : tree.right[node];
    }
    out[r] = node;
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float32 after `v` (a float32), towards +∞. */
function nextUpFloat32(v: number): number {
  if (v === 0) return 1.401298464324817e-45;
  f32[0] = v;
  u32[0] += v > 0 ? 1 : -1;
  return f32[0];
}

/**
 * The float32 t with `x < t ⟺ x ≤ threshold` for every float32 x: the next float32 above the
 * largest float32 not exceeding the threshold. The shared model format tests `x < t`.
 */
export function strictThreshold(threshold: number): number {
  if (threshold === Infinity) return Infinity;
  let below = Math.fround(threshold);
  if (below > threshold) {
    f32[0] = below;
    if (below === 0) f32[0] = -1.401298464324817e-45;
    else u32[0] += below > 0 ? -1 : 1;
    below = f32[0];
  }
  return nextUpFloat32(below);
}

/**
 * The tree as nodes of the shared model format (src/trees/_tree_model.ts): thresholds made
 * strict for `x < t`, values as given (class fractions or targets; scale them before adding
 * for ensembles that need it), gain = wₙ·iₙ − w_l·i_l − w_r·i_r (scikit-learn's importance
 * contribution, unnormalised), cover = weighted samples.
 */
export function cartNodes(tree: CartTree): NodeSpec[] {
  const nodes: NodeSpec[] = [];
  const w = tree.weightedNNodeSamples, imp = tree.impurity;
  for (let i = 0; i < tree.nodeCount; i++) {
    const isLeaf = tree.feature[i] < 0;
    const l = tree.left[i], r = tree.right[i];
    nodes.push({
      feature: tree.feature[i],
      threshold: isLeaf ? 0 : strictThreshold(tree.threshold[i]),
      defaultLeft: tree.missingLeft[i] === 1,
      left: l,
      right: r,
      value: tree.value.subarray(i * tree.leafWidth, (i + 1) * tree.leafWidth),
      gain: isLeaf ? 0 : w[i] * imp[i] - w[l] * imp[l] - w[r] * imp[r],
      cover: w[i],
    });
  }
  return nodes;
}
