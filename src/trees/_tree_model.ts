/**
 * The one model format of every tree estimator: all trees of an ensemble in flat arrays, nodes
 * numbered globally. Boosted trees, forests and single CART trees all fit it; the prediction
 * kernel (src/backends/trees.ts) reads it as is.
 *
 * ```
 *  tree t owns nodes  treeStart[t] .. treeStart[t+1] − 1, its root first
 *
 *  node i     feature[i]   −1 for a leaf, else the feature tested
 *             threshold[i] float32; x < threshold → left[i], x ≥ threshold → right[i]
 *             defaultLeft  1: a missing (NaN) x goes left, 0: right
 *             left, right  global node indices (−1 for leaves); each child lies after its
 *                          parent within the same tree
 *             value[i·W .. i·W + W)   the leaf's W = leafWidth outputs, already scaled by any
 *                                     learning rate (internal nodes: the value they would have
 *                                     as a leaf, or 0 where unknown)
 *             gain[i]      the split's loss reduction (0 for leaves), for importances
 *             cover[i]     hessian (or weighted sample) sum reaching the node
 *
 *  categorical splits (XGBoost's categorical models, imported or trained with
 *  `categoricalFeatures`; absent otherwise):
 *             splitType[i] 1: node i tests category membership instead of a threshold
 *             catBits[catBegin[i] .. catBegin[i+1])  the node's category set as a bitset
 *                          (category c: bit c & 31 of word c >> 5); a row whose value
 *                          truncates to a category in the set goes right, any other value
 *                          (negative, ≥ 2^24, beyond the bitset) left, NaN by defaultLeft
 *
 *  raw output of a row (nOutputs values) = baseMargin + Σ over trees t of the leaf's values,
 *  added at outputs treeGroup[t] .. treeGroup[t] + W − 1, summed in float32 in tree order.
 * ```
 *
 * Serialised (`ensembleToJSON`), every array becomes a plain number array under the same name,
 * except that infinite thresholds are written as the strings "Infinity" and "-Infinity" (JSON
 * has no infinities). `ensembleFromJSON` checks every number of that form.
 *
 * @module
 */
import type { CategorySplits, TreeNodeArgs, TreesKernels } from "../backends/trees.ts";
import { show } from "../_validate.ts";
import {
  denseList,
  float32From,
  float32List,
  integerFrom,
  integerList,
  MAX_COUNT,
} from "../estimators/_params.ts";

/** All trees of a fitted ensemble. */
export interface TreeEnsemble {
  nFeatures: number;
  /** Raw outputs per row: 1 for regression and binary models, classes for multiclass. */
  nOutputs: number;
  /** Values per leaf. */
  leafWidth: number;
  /** Starting raw output of every row (float32 values), length nOutputs. */
  baseMargin: Float32Array;
  treeStart: Int32Array;
  treeGroup: Int32Array;
  feature: Int32Array;
  threshold: Float32Array;
  defaultLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float32Array;
  gain: Float32Array;
  cover: Float32Array;
  /** Category sets of categorical splits, when the model has any. */
  categories?: CategorySplits;
}

/** One node as a builder takes it; children are indices within the same tree. */
export interface NodeSpec {
  feature: number;
  threshold: number;
  defaultLeft: boolean;
  left: number;
  right: number;
  value: number | ArrayLike<number>;
  gain: number;
  cover: number;
  /** For a categorical split: the categories going right; absent or null otherwise. */
  categories?: readonly number[] | null;
}

/** Collects trees one at a time, then packs them into a TreeEnsemble. */
export class EnsembleBuilder {
  readonly nFeatures: number;
  readonly nOutputs: number;
  readonly leafWidth: number;
  readonly baseMargin: Float32Array;
  #treeStart: number[] = [0];
  #treeGroup: number[] = [];
  #feature: number[] = [];
  #threshold: number[] = [];
  #defaultLeft: number[] = [];
  #left: number[] = [];
  #right: number[] = [];
  #value: number[] = [];
  #gain: number[] = [];
  #cover: number[] = [];
  /** Per node: the categories going right of a categorical split, else null. */
  #categories: (readonly number[] | null)[] = [];
  #anyCategorical = false;

  constructor(
    opts: { nFeatures: number; nOutputs: number; leafWidth: number; baseMargin: ArrayLike<number> },
  ) {
    this.nFeatures = opts.nFeatures;
    this.nOutputs = opts.nOutputs;
    this.leafWidth = opts.leafWidth;
    this.baseMargin = Float32Array.from(opts.baseMargin);
  }

  /** Trees added so far. */
  get treeCount(): number {
    return this.#treeGroup.length;
  }

  /** Adds one tree whose outputs start at `group`; returns its index. */
  addTree(nodes: readonly NodeSpec[], group: number): number {
    const base = this.#feature.length;
    for (const node of nodes) {
      const isLeaf = node.feature < 0;
      this.#feature.push(isLeaf ? -1 : node.feature);
      this.#threshold.push(isLeaf ? 0 : node.threshold);
      this.#defaultLeft.push(node.defaultLeft ? 1 : 0);
      this.#left.push(isLeaf ? -1 : base + node.left);
      this.#right.push(isLeaf ? -1 : base + node.right);
      if (typeof node.value === "number") this.#value.push(node.value);
      else for (let j = 0; j < this.leafWidth; j++) this.#value.push(node.value[j]);
      this.#gain.push(isLeaf ? 0 : node.gain);
      this.#cover.push(node.cover);
      const categories = isLeaf ? null : node.categories ?? null;
      this.#categories.push(categories);
      if (categories !== null) this.#anyCategorical = true;
    }
    this.#treeStart.push(this.#feature.length);
    this.#treeGroup.push(group);
    return this.#treeGroup.length - 1;
  }

  /**
   * The ensemble of the first `treeCount` trees (all by default).
   *
   * @throws {RangeError} When the leaves could add up to an output beyond float32's range (a
   *   booster fitted to targets near float32's largest value): such a model could predict ±∞,
   *   and fromJSON would refuse it.
   */
  build(treeCount = this.treeCount): TreeEnsemble {
    const model = this.#ensemble(treeCount);
    const bound = marginBounds(model), k = overflowingOutput(bound);
    if (k >= 0) {
      throw new RangeError(
        `Expected "y" to be small enough for the model's outputs to stay within float32's range but the trees of output ${k} can add up to ${
          bound[k]
        }; scale the targets down`,
      );
    }
    return model;
  }

  #ensemble(treeCount: number): TreeEnsemble {
    const end = this.#treeStart[treeCount];
    return {
      nFeatures: this.nFeatures,
      nOutputs: this.nOutputs,
      leafWidth: this.leafWidth,
      baseMargin: this.baseMargin.slice(),
      treeStart: Int32Array.from(this.#treeStart.slice(0, treeCount + 1)),
      treeGroup: Int32Array.from(this.#treeGroup.slice(0, treeCount)),
      feature: Int32Array.from(this.#feature.slice(0, end)),
      threshold: Float32Array.from(this.#threshold.slice(0, end)),
      defaultLeft: Uint8Array.from(this.#defaultLeft.slice(0, end)),
      left: Int32Array.from(this.#left.slice(0, end)),
      right: Int32Array.from(this.#right.slice(0, end)),
      value: Float32Array.from(this.#value.slice(0, end * this.leafWidth)),
      gain: saturatedFloat32(this.#gain.slice(0, end)),
      cover: saturatedFloat32(this.#cover.slice(0, end)),
      ...(this.#anyCategorical ? { categories: categorySplits(this.#categories, end) } : {}),
    };
  }
}

/** The largest float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * A gain or cover as the model keeps it, beyond float32's range held at its largest value:
 * large targets or weights give split gains (squares of gradient sums) beyond it, and a model
 * must stay finite to be saved and loaded again.
 */
export function saturateFloat32(v: number): number {
  return Math.max(-FLOAT32_MAX, Math.min(FLOAT32_MAX, v));
}

function saturatedFloat32(values: readonly number[]): Float32Array {
  return Float32Array.from(values, saturateFloat32);
}

/** The category sets of nodes [0, end) as bitsets (see the module comment). */
function categorySplits(sets: (readonly number[] | null)[], end: number): CategorySplits {
  const splitType = new Uint8Array(end);
  const catBegin = new Int32Array(end + 1);
  const words: number[] = [];
  for (let i = 0; i < end; i++) {
    const set = sets[i];
    if (set !== null) {
      splitType[i] = 1;
      const first = words.length;
      for (const c of set) {
        const w = first + (c >>> 5);
        while (words.length <= w) words.push(0);
        words[w] = (words[w] | (1 << (c & 31))) >>> 0;
      }
    }
    catBegin[i + 1] = words.length;
  }
  return { splitType, catBegin, catBits: Uint32Array.from(words) };
}

/** Number of trees in an ensemble. */
export function treeCount(model: TreeEnsemble): number {
  return model.treeGroup.length;
}

/**
 * Raw outputs (margins) of rows of a row-major float32 matrix: baseMargin plus trees
 * [treeBegin, treeEnd), nRows × nOutputs.
 */
export async function predictRaw(
  kernels: TreesKernels,
  model: TreeEnsemble,
  x: Float32Array,
  nRows: number,
  treeBegin = 0,
  treeEnd = treeCount(model),
): Promise<Float32Array> {
  const out = new Float32Array(nRows * model.nOutputs);
  for (let r = 0; r < nRows; r++) out.set(model.baseMargin, r * model.nOutputs);
  await addTrees(kernels, model, x, nRows, treeBegin, treeEnd, out);
  return out;
}

/** Adds the outputs of trees [treeBegin, treeEnd) to `out` (nRows × nOutputs, float32 sums). */
export async function addTrees(
  kernels: TreesKernels,
  model: TreeEnsemble,
  x: Float32Array,
  nRows: number,
  treeBegin: number,
  treeEnd: number,
  out: Float32Array,
): Promise<void> {
  if (treeEnd <= treeBegin || nRows === 0) return;
  await kernels.predict({ ...treeNodeArgs(model, x, nRows, treeBegin, treeEnd), out });
}

/** The model's node arrays over rows of x, trees [treeBegin, treeEnd), as the kernels read them. */
export function treeNodeArgs(
  model: TreeEnsemble,
  x: Float32Array,
  nRows: number,
  treeBegin: number,
  treeEnd: number,
): TreeNodeArgs {
  return {
    x,
    nRows,
    nCols: model.nFeatures,
    feature: model.feature,
    threshold: model.threshold,
    defaultLeft: model.defaultLeft,
    left: model.left,
    right: model.right,
    value: model.value,
    leafWidth: model.leafWidth,
    treeStart: model.treeStart,
    treeGroup: model.treeGroup,
    treeBegin,
    treeEnd,
    nOutputs: model.nOutputs,
    categories: model.categories,
  };
}

/**
 * Adds one tree's outputs on all `scratch.length` rows of x to column k of row-major margins
 * [rows, K]: for a tree grown on a row sample, whose left-out rows sit in no leaf's segment.
 * `scratch` holds the tree's float32 outputs. `margins.values` gives the margins once the
 * outputs are in (a view lent by a workspace may have to be fetched again after a kernel call).
 */
export async function addTreeColumn(
  kernels: TreesKernels,
  tree: { specs: NodeSpec[]; nFeatures: number },
  x: Float32Array,
  margins: { values: () => Float64Array; k: number; K: number },
  scratch: Float32Array,
): Promise<void> {
  const single = new EnsembleBuilder({
    nFeatures: tree.nFeatures,
    nOutputs: 1,
    leafWidth: 1,
    baseMargin: [0],
  });
  single.addTree(tree.specs, 0);
  scratch.fill(0);
  await addTrees(kernels, single.build(), x, scratch.length, 0, 1, scratch);
  const values = margins.values(), { k, K } = margins;
  for (let r = 0; r < scratch.length; r++) values[r * K + k] += scratch[r];
}

/** Ways to measure a feature's importance, as XGBoost's `get_score` names them. */
export const IMPORTANCE_TYPES = ["gain", "weight", "cover", "totalGain", "totalCover"] as const;
export type ImportanceType = (typeof IMPORTANCE_TYPES)[number];

/**
 * Per-feature importance over all splits: split count (`weight`), summed or mean gain and
 * cover. Not normalised.
 */
export function featureScores(model: TreeEnsemble, type: ImportanceType): Float64Array {
  const count = new Float64Array(model.nFeatures);
  const gain = new Float64Array(model.nFeatures);
  const cover = new Float64Array(model.nFeatures);
  for (let i = 0; i < model.feature.length; i++) {
    const f = model.feature[i];
    if (f < 0) continue;
    count[f] += 1;
    gain[f] += model.gain[i];
    cover[f] += model.cover[i];
  }
  if (type === "weight") return count;
  if (type === "totalGain") return gain;
  if (type === "totalCover") return cover;
  const sums = type === "gain" ? gain : cover;
  return sums.map((s, f) => (count[f] > 0 ? s / count[f] : 0));
}

/** Scores scaled to sum to 1 (all zeros stay zeros), as float32. */
export function normalise(scores: Float64Array): Float32Array {
  let total = 0;
  for (const s of scores) total += s;
  const out = new Float32Array(scores.length);
  if (total > 0) { for (let i = 0; i < scores.length; i++) out[i] = scores[i] / total; }
  return out;
}

/** The shortest decimal that reads back as the same float32. */
function shortFloat32(v: number): number {
  for (let digits = 6; digits < 9; digits++) {
    const d = Number(v.toPrecision(digits));
    if (Math.fround(d) === v) return d;
  }
  return Number(v.toPrecision(9));
}

/** Serialisable form of an ensemble: plain numbers, float32 values as short decimals. */
export function ensembleToJSON(model: TreeEnsemble): Record<string, unknown> {
  const floats = (a: Float32Array) => Array.from(a, shortFloat32);
  return {
    nFeatures: model.nFeatures,
    nOutputs: model.nOutputs,
    leafWidth: model.leafWidth,
    baseMargin: floats(model.baseMargin),
    treeStart: Array.from(model.treeStart),
    treeGroup: Array.from(model.treeGroup),
    feature: Array.from(model.feature),
    // +∞ (a split of present values from missing ones, as scikit-learn writes it) and −∞ are
    // written as strings: JSON has no infinities.
    threshold: Array.from(
      model.threshold,
      (t) => (Number.isFinite(t) ? shortFloat32(t) : String(t)),
    ),
    defaultLeft: Array.from(model.defaultLeft),
    left: Array.from(model.left),
    right: Array.from(model.right),
    value: floats(model.value),
    gain: floats(model.gain),
    cover: floats(model.cover),
    ...(model.categories === undefined ? {} : {
      splitType: Array.from(model.categories.splitType),
      catBegin: Array.from(model.categories.catBegin),
      catBits: Array.from(model.categories.catBits),
    }),
  };
}

/** The largest number of outputs or features a serialised ensemble may declare. */
const MAX_WIDTH = 2 ** 24;

/**
 * Reads and checks a serialised ensemble, so that a model file from anywhere either loads into
 * an ensemble that predicts finite numbers on finite rows, or is refused: every array dense
 * (no holes) and of the length its counts imply; thresholds float32 values or ±∞ (never
 * NaN); leaf values, gains, covers and base margins finite float32 values, covers >= 0; indices integers in range; each tree a proper tree
 * (every node reached once from its root, children after their parent), so prediction always
 * ends; category bitsets well formed; and the largest leaves of all trees add up to a finite
 * float32 margin, so that no sum of them overflows. Nothing is returned half-checked.
 *
 * @param name Where the object came from, for error messages.
 * @throws {TypeError} When a field has the wrong type (not an object, an array, a number).
 * @throws {RangeError} When a number is not finite, out of range, or inconsistent.
 */
export function ensembleFromJSON(name: string, json: unknown): TreeEnsemble {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new TypeError(`Expected "${name}" to be a tree ensemble object but found ${show(json)}`);
  }
  const o = json as Record<string, unknown>;
  const nFeatures = integerFrom(`${name}.nFeatures`, o.nFeatures, 1, MAX_COUNT);
  const nOutputs = integerFrom(`${name}.nOutputs`, o.nOutputs, 1, MAX_WIDTH);
  const leafWidth = integerFrom(`${name}.leafWidth`, o.leafWidth, 1, nOutputs);
  const treeStart = integerList(`${name}.treeStart`, o.treeStart, 0, MAX_COUNT);
  const nTrees = treeStart.length - 1;
  if (nTrees < 0) throw new RangeError(`Expected "${name}.treeStart" to have at least one entry`);
  if (treeStart[0] !== 0) {
    throw new RangeError(`Expected "${name}.treeStart[0]" to be 0 but found ${treeStart[0]}`);
  }
  const nNodes = treeStart[nTrees];
  if (nNodes * leafWidth > MAX_COUNT) {
    throw new RangeError(
      `Expected "${name}" to hold at most ${MAX_COUNT} leaf values but found ${nNodes} nodes of ${leafWidth}`,
    );
  }
  const nodeIndex = (key: string) => integerList(`${name}.${key}`, o[key], -1, nNodes - 1, nNodes);
  const model: TreeEnsemble = {
    nFeatures,
    nOutputs,
    leafWidth,
    baseMargin: float32List(`${name}.baseMargin`, o.baseMargin, nOutputs),
    treeStart: Int32Array.from(treeStart),
    treeGroup: Int32Array.from(
      integerList(`${name}.treeGroup`, o.treeGroup, 0, nOutputs - leafWidth, nTrees),
    ),
    feature: Int32Array.from(
      integerList(`${name}.feature`, o.feature, -1, nFeatures - 1, nNodes),
    ),
    threshold: Float32Array.from(
      denseList(`${name}.threshold`, o.threshold, nNodes, "thresholds", thresholdFrom),
    ),
    defaultLeft: Uint8Array.from(integerList(`${name}.defaultLeft`, o.defaultLeft, 0, 1, nNodes)),
    left: Int32Array.from(nodeIndex("left")),
    right: Int32Array.from(nodeIndex("right")),
    value: float32List(`${name}.value`, o.value, nNodes * leafWidth),
    gain: float32List(`${name}.gain`, o.gain, nNodes),
    cover: float32List(`${name}.cover`, o.cover, nNodes),
  };
  const hasCategories = o.splitType !== undefined || o.catBegin !== undefined ||
    o.catBits !== undefined;
  if (hasCategories) {
    const catBegin = integerList(`${name}.catBegin`, o.catBegin, 0, MAX_COUNT, nNodes + 1);
    model.categories = {
      splitType: Uint8Array.from(integerList(`${name}.splitType`, o.splitType, 0, 1, nNodes)),
      catBegin: Int32Array.from(catBegin),
      catBits: Uint32Array.from(
        integerList(`${name}.catBits`, o.catBits, 0, 2 ** 32 - 1, catBegin[nNodes]),
      ),
    };
  }
  // Covers are hessian or weight sums: never negative.
  const negative = model.cover.findIndex((c) => c < 0);
  if (negative >= 0) {
    throw new RangeError(
      `Expected "${name}.cover[${negative}]" to be >= 0 but found ${model.cover[negative]}`,
    );
  }
  checkEnsemble(name, model);
  checkMarginBound(name, model);
  return model;
}

/**
 * A split threshold: a float32 value, or ±∞ (as a number, or the string "Infinity" or
 * "-Infinity" that `ensembleToJSON` writes); +∞ sends every present value left.
 */
function thresholdFrom(path: string, value: unknown): number {
  if (value === "Infinity" || value === Infinity) return Infinity;
  if (value === "-Infinity" || value === -Infinity) return -Infinity;
  return float32From(path, value);
}

/**
 * Per output, |baseMargin| plus, over trees, the largest |leaf value| of each: no raw output can
 * exceed it, whatever leaves a row reaches.
 */
function marginBounds(model: TreeEnsemble): Float64Array {
  const { leafWidth: W, treeStart, treeGroup, feature, value } = model;
  const bound = Float64Array.from(model.baseMargin, Math.abs);
  for (let t = 0; t < treeGroup.length; t++) {
    for (let j = 0; j < W; j++) {
      let largest = 0;
      for (let i = treeStart[t]; i < treeStart[t + 1]; i++) {
        if (feature[i] < 0) largest = Math.max(largest, Math.abs(value[i * W + j]));
      }
      bound[treeGroup[t] + j] += largest;
    }
  }
  return bound;
}

/** The first output whose bound is beyond float32's range, or −1. */
function overflowingOutput(bound: Float64Array): number {
  return bound.findIndex((b) => !Number.isFinite(Math.fround(b)));
}

/**
 * Throws unless the margin bounds stay finite float32 values for every output: then no raw
 * output can overflow to ±∞.
 */
function checkMarginBound(name: string, model: TreeEnsemble): void {
  const bound = marginBounds(model), k = overflowingOutput(bound);
  if (k >= 0) {
    throw new RangeError(
      `Expected the leaves of "${name}" to add up to finite float32 outputs but output ${k} can reach ${
        bound[k]
      }`,
    );
  }
}

/** Throws unless every tree of the ensemble is well formed. */
export function checkEnsemble(name: string, model: TreeEnsemble): void {
  const { treeStart, treeGroup, feature, left, right } = model;
  const seen = new Uint8Array(feature.length);
  for (let t = 0; t < treeGroup.length; t++) {
    const begin = treeStart[t], end = treeStart[t + 1];
    if (!(begin < end) || begin < 0 || end > feature.length) {
      throw new RangeError(
        `Expected tree ${t} of "${name}" to own a non-empty node range but found [${begin}, ${end})`,
      );
    }
    const group = treeGroup[t];
    if (!(group >= 0 && group + model.leafWidth <= model.nOutputs)) {
      throw new RangeError(
        `Expected tree ${t} of "${name}" to write outputs within ${model.nOutputs} but found group ${group}`,
      );
    }
    const cats = model.categories;
    if (cats !== undefined) {
      for (let i = begin; i < end; i++) {
        if (!(cats.catBegin[i] >= 0 && cats.catBegin[i] <= cats.catBegin[i + 1])) {
          throw new RangeError(
            `Expected "${name}.catBegin" to be non-decreasing from 0 but entry ${i} is ${
              cats.catBegin[i]
            }`,
          );
        }
      }
    }
    const stack = [begin];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (seen[node]) {
        throw new RangeError(`Expected tree ${t} of "${name}" to reach node ${node} once only`);
      }
      seen[node] = 1;
      const f = feature[node];
      if (f < 0) continue;
      if (f >= model.nFeatures) {
        throw new RangeError(
          `Expected node ${node} of "${name}" to test a feature below ${model.nFeatures} but found ${f}`,
        );
      }
      for (const child of [left[node], right[node]]) {
        if (!(child > node && child < end)) {
          throw new RangeError(
            `Expected node ${node} of "${name}" to have children in (${node}, ${end}) but found ${child}`,
          );
        }
        stack.push(child);
      }
    }
  }
}
