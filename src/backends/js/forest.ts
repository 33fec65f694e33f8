/**
 * The reference of the `forest` kernel family: whole histogram CART trees grown in plain
 * TypeScript, the oracle of assembly/forest.ts. Both follow the same steps in the same order
 * (see src/backends/forest.ts), so their trees agree bit for bit.
 *
 * Per-node statistics (`stats`, S values):
 *
 * ```
 *  classification   [rows, weight, w·class 0, …, w·class K−1]                 S = K + 2
 *  regression       [rows, weight, Σw·y, Σw·y², Σw·y·ln y, min y, max y]       S = 7
 * ```
 *
 * Histogram slots (C channels per bin): `[rows, weight, w·class k …]` or `[rows, weight, Σw·y]`.
 *
 * @module
 */
import { Rng } from "../../_random.ts";
import { PriorityQueue } from "../../_priority_queue.ts";
import {
  FOREST_CRITERIA,
  type ForestData,
  type ForestKernels,
  type ForestSession,
  GROW_PARAM,
  type GrownTree,
  nodeCapacity,
  portableLog,
} from "../forest.ts";

/** Node impurity at or below this makes a leaf; it also pads `minImpurityDecrease`. */
const EPSILON = 2.220446049250313e-16;
const LN2 = 0.6931471805599453;

/** Bootstrap weights of tree `tree`: how often each row was drawn, `nDraws` draws of n. */
export function bootstrapCounts(
  seed: number,
  tree: number,
  nRows: number,
  nDraws: number,
  out: Float64Array,
): Float64Array {
  out.fill(0);
  const rng = new Rng(seed, 2 * tree + 1);
  for (let d = 0; d < nDraws; d++) out[rng.nextInt(nRows)] += 1;
  return out;
}

/** A node waiting to be evaluated. */
interface Task {
  begin: number;
  end: number;
  depth: number;
  parent: number;
  isLeft: boolean;
  stats: Float64Array;
}

/** An evaluated node; `pos` > 0 … a split was kept and the rows are partitioned at `pos`. */
interface Evaluated {
  id: number;
  task: Task;
  split: boolean;
  pos: number;
  improvement: number;
  leftStats: Float64Array;
  rightStats: Float64Array;
}

/** The best split found so far at a node. */
interface Best {
  feature: number;
  lowBin: number;
  splitBin: number;
  missingLeft: boolean;
}

class Grower {
  readonly #d: ForestData;
  readonly #criterion: number;
  readonly #K: number;
  readonly #S: number;
  readonly #C: number;
  readonly #p: Float64Array;
  readonly #w: Float64Array;
  readonly #rows: Int32Array;
  readonly #scratch: Int32Array;
  readonly #features: Int32Array;
  readonly #rng: Rng;
  readonly #hist: Float64Array;
  readonly #occupied = new Uint32Array(8);
  readonly #left: Float64Array;
  readonly #right: Float64Array;
  readonly #m: number;
  readonly #totalWeight: number;
  readonly #minWeightLeaf: number;
  // Output.
  readonly out: GrownTree;

  constructor(d: ForestData, p: Float64Array, tree: number, sampleWeight: Float64Array | null) {
    this.#d = d;
    this.#p = p;
    this.#criterion = p[GROW_PARAM.criterion];
    this.#K = p[GROW_PARAM.nClasses];
    const classification = this.#K > 0;
    this.#S = classification ? this.#K + 2 : 7;
    this.#C = classification ? this.#K + 2 : 3;
    const n = d.nRows;
    const w = new Float64Array(n);
    const seed = p[GROW_PARAM.seed];
    if (p[GROW_PARAM.bootstrap] === 1) bootstrapCounts(seed, tree, n, p[GROW_PARAM.nDraws], w);
    else w.fill(1);
    if (sampleWeight !== null) { for (let r = 0; r < n; r++) w[r] *= sampleWeight[r]; }
    this.#w = w;
    const rows = new Int32Array(n);
    let m = 0, total = 0;
    for (let r = 0; r < n; r++) {
      if (w[r] > 0) {
        rows[m++] = r;
        total += w[r];
      }
    }
    this.#rows = rows;
    this.#m = m;
    this.#totalWeight = total;
    this.#minWeightLeaf = p[GROW_PARAM.minWeightFractionLeaf] * total;
    this.#scratch = new Int32Array(n);
    this.#features = Int32Array.from({ length: d.nFeatures }, (_, i) => i);
    this.#rng = new Rng(seed, 2 * tree + 2);
    this.#hist = new Float64Array(256 * this.#C);
    this.#left = new Float64Array(this.#S);
    this.#right = new Float64Array(this.#S);
    const capacity = nodeCapacity(p, n);
    const width = classification ? this.#K : 1;
    this.out = {
      nodeCount: 0,
      feature: new Int32Array(capacity),
      lowBin: new Int32Array(capacity),
      splitBin: new Int32Array(capacity),
      missingLeft: new Uint8Array(capacity),
      left: new Int32Array(capacity),
      right: new Int32Array(capacity),
      nNodeSamples: new Int32Array(capacity),
      weightedNNodeSamples: new Float64Array(capacity),
      impurity: new Float64Array(capacity),
      value: new Float64Array(capacity * width),
      maxDepth: 0,
    };
  }

  get rowCount(): number {
    return this.#m;
  }

  /** Statistics of rows[begin .. end), summed in row order. */
  nodeStats(begin: number, end: number, out: Float64Array): void {
    out.fill(0);
    const rows = this.#rows, w = this.#w;
    out[0] = end - begin;
    if (this.#K > 0) {
      const labels = this.#d.labels!;
      for (let p = begin; p < end; p++) {
        const r = rows[p];
        out[1] += w[r];
        out[2 + labels[r]] += w[r];
      }
      return;
    }
    const y = this.#d.targets!;
    const poisson = this.#criterion === FOREST_CRITERIA.poisson;
    let lo = Infinity, hi = -Infinity;
    for (let p = begin; p < end; p++) {
      const r = rows[p];
      const wy = w[r] * y[r];
      out[1] += w[r];
      out[2] += wy;
      out[3] += wy * y[r];
      if (poisson && y[r] > 0) out[4] += wy * portableLog(y[r]);
      if (y[r] < lo) lo = y[r];
      if (y[r] > hi) hi = y[r];
    }
    out[5] = lo;
    out[6] = hi;
  }

  /** The criterion's impurity from statistics. */
  impurity(s: Float64Array): number {
    const weight = s[1];
    switch (this.#criterion) {
      case FOREST_CRITERIA.gini: {
        let sq = 0;
        for (let k = 0; k < this.#K; k++) sq += s[2 + k] * s[2 + k];
        return 1.0 - sq / (weight * weight);
      }
      case FOREST_CRITERIA.entropy: {
        let entropy = 0;
        for (let k = 0; k < this.#K; k++) {
          const c = s[2 + k];
          if (c > 0) {
            const q = c / weight;
            entropy -= q * (portableLog(q) / LN2);
          }
        }
        return entropy;
      }
      case FOREST_CRITERIA.squared_error: {
        if (s[5] === s[6]) return 0;
        const mean = s[2] / weight;
        return s[3] / weight - mean * mean;
      }
      default: {
        if (s[5] === s[6] || !(s[2] > 0)) return 0;
        return (s[4] - s[2] * portableLog(s[2] / weight)) / weight;
      }
    }
  }

  /** The proxy of a candidate split from left and right histogram sums (larger is better). */
  #proxy(left: Float64Array, right: Float64Array): number {
    const wl = left[1], wr = right[1];
    switch (this.#criterion) {
      case FOREST_CRITERIA.gini: {
        let sl = 0, sr = 0;
        for (let k = 0; k < this.#K; k++) {
          sl += left[2 + k] * left[2 + k];
          sr += right[2 + k] * right[2 + k];
        }
        return sl / wl + sr / wr;
      }
      case FOREST_CRITERIA.entropy: {
        let pl = 0, pr = 0;
        for (let k = 0; k < this.#K; k++) {
          const cl = left[2 + k], cr = right[2 + k];
          if (cl > 0) pl += cl * portableLog(cl / wl);
          if (cr > 0) pr += cr * portableLog(cr / wr);
        }
        return pl + pr;
      }
      case FOREST_CRITERIA.squared_error:
        return (left[2] * left[2]) / wl + (right[2] * right[2]) / wr;
      default:
        if (left[2] <= EPSILON || right[2] <= EPSILON) return -Infinity;
        return left[2] * portableLog(left[2] / wl) + right[2] * portableLog(right[2] / wr);
    }
  }

  /**
   * Builds feature f's histogram over rows[begin .. end) and scans it; updates `best` and
   * returns the best proxy so far, or NaN when the feature is constant in the node.
   */
  #scanFeature(
    f: number,
    begin: number,
    end: number,
    node: Float64Array,
    best: Best,
    bestProxy: number,
  ): number {
    const C = this.#C, hist = this.#hist, occupied = this.#occupied, w = this.#w;
    const n = this.#d.nRows, bins = this.#d.bins, rows = this.#rows;
    const nB = this.#d.nBins[f];
    const column = f * n;
    occupied.fill(0);
    if (this.#K > 0) {
      const labels = this.#d.labels!;
      for (let p = begin; p < end; p++) {
        const r = rows[p];
        const b = bins[column + r];
        occupied[b >>> 5] |= 1 << (b & 31);
        const o = b * C;
        hist[o] += 1;
        hist[o + 1] += w[r];
        hist[o + 2 + labels[r]] += w[r];
      }
    } else {
      const y = this.#d.targets!;
      for (let p = begin; p < end; p++) {
        const r = rows[p];
        const b = bins[column + r];
        occupied[b >>> 5] |= 1 << (b & 31);
        const o = b * C;
        hist[o] += 1;
        hist[o + 1] += w[r];
        hist[o + 2] += w[r] * y[r];
      }
    }
    let slots = 0;
    for (let i = 0; i < 8; i++) slots += popcount(occupied[i]);
    if (slots <= 1) {
      this.#clear();
      return NaN;
    }
    const missingRows = hist[nB * C];
    const left = this.#left, right = this.#right;
    const minLeaf = this.#p[GROW_PARAM.minSamplesLeaf], minWeight = this.#minWeightLeaf;
    for (let pass = 0; pass < (missingRows > 0 ? 2 : 1); pass++) {
      const missingLeft = pass === 1;
      for (let c = 0; c < C; c++) left[c] = missingLeft ? hist[nB * C + c] : 0;
      let prev = -1;
      for (let word = 0; word < 8; word++) {
        let bits = occupied[word];
        while (bits !== 0) {
          const b = word * 32 + (31 - Math.clz32(bits & -bits));
          bits &= bits - 1;
          if (b === nB) continue;
          if (prev >= 0) {
            for (let c = 0; c < C; c++) right[c] = node[c] - left[c];
            if (
              left[0] >= minLeaf && right[0] >= minLeaf && left[1] >= minWeight &&
              right[1] >= minWeight
            ) {
              const proxy = this.#proxy(left, right);
              if (proxy > bestProxy) {
                bestProxy = proxy;
                best.feature = f;
                best.lowBin = prev;
                best.splitBin = b;
                best.missingLeft = missingRows > 0 ? missingLeft : left[0] > right[0];
              }
            }
          }
          const o = b * C;
          for (let c = 0; c < C; c++) left[c] += hist[o + c];
          prev = b;
        }
      }
      if (!missingLeft && missingRows > 0 && prev >= 0) {
        // Every value left, the missing rows alone right.
        for (let c = 0; c < C; c++) right[c] = node[c] - left[c];
        if (
          left[0] >= minLeaf && right[0] >= minLeaf && left[1] >= minWeight &&
          right[1] >= minWeight
        ) {
          const proxy = this.#proxy(left, right);
          if (proxy > bestProxy) {
            bestProxy = proxy;
            best.feature = f;
            best.lowBin = prev;
            best.splitBin = nB;
            best.missingLeft = false;
          }
        }
      }
    }
    this.#clear();
    return bestProxy;
  }

  /** Zeroes the occupied histogram slots, so the histogram is all zeros between features. */
  #clear(): void {
    const C = this.#C, hist = this.#hist, occupied = this.#occupied;
    for (let word = 0; word < 8; word++) {
      let bits = occupied[word];
      while (bits !== 0) {
        const b = word * 32 + (31 - Math.clz32(bits & -bits));
        bits &= bits - 1;
        hist.fill(0, b * C, b * C + C);
      }
    }
  }

  /** The best split of a node over its drawn features; feature −1 when there is none. */
  #findSplit(task: Task): Best {
    const best: Best = { feature: -1, lowBin: 0, splitBin: 0, missingLeft: false };
    const F = this.#d.nFeatures, maxFeatures = this.#p[GROW_PARAM.maxFeatures];
    let bestProxy = -Infinity;
    if (maxFeatures >= F) {
      for (let f = 0; f < F; f++) {
        const proxy = this.#scanFeature(f, task.begin, task.end, task.stats, best, bestProxy);
        if (proxy === proxy) bestProxy = proxy;
      }
      return best;
    }
    const features = this.#features;
    let remaining = F, visited = 0, constant = 0;
    while (remaining > 0 && (visited < maxFeatures || visited <= constant)) {
      const j = this.#rng.nextInt(remaining);
      const f = features[j];
      features[j] = features[remaining - 1];
      features[remaining - 1] = f;
      remaining--;
      visited++;
      const proxy = this.#scanFeature(f, task.begin, task.end, task.stats, best, bestProxy);
      if (proxy === proxy) bestProxy = proxy;
      else constant++;
    }
    return best;
  }

  /** Splits rows[begin .. end) stably by `best`; returns the first row of the right part. */
  #partition(begin: number, end: number, best: Best): number {
    const rows = this.#rows, scratch = this.#scratch, bins = this.#d.bins;
    const column = best.feature * this.#d.nRows, nB = this.#d.nBins[best.feature];
    let l = begin, r = 0;
    for (let p = begin; p < end; p++) {
      const row = rows[p];
      const b = bins[column + row];
      if (b === nB ? best.missingLeft : b < best.splitBin) rows[l++] = row;
      else scratch[r++] = row;
    }
    rows.set(scratch.subarray(0, r), l);
    return l;
  }

  /** Evaluates a node: writes it out, links it to its parent, and finds its split. */
  evaluate(task: Task): Evaluated {
    const o = this.out, p = this.#p, s = task.stats;
    const id = o.nodeCount++;
    const impurity = this.impurity(s);
    o.feature[id] = -1;
    o.left[id] = -1;
    o.right[id] = -1;
    o.nNodeSamples[id] = s[0];
    o.weightedNNodeSamples[id] = s[1];
    o.impurity[id] = impurity;
    if (this.#K > 0) { for (let k = 0; k < this.#K; k++) o.value[id * this.#K + k] = s[2 + k]; }
    else o.value[id] = s[2] / s[1];
    if (task.parent >= 0) (task.isLeft ? o.left : o.right)[task.parent] = id;
    if (task.depth > o.maxDepth) o.maxDepth = task.depth;
    const result: Evaluated = {
      id,
      task,
      split: false,
      pos: 0,
      improvement: 0,
      leftStats: new Float64Array(this.#S),
      rightStats: new Float64Array(this.#S),
    };
    const rowsHere = s[0];
    if (
      task.depth >= p[GROW_PARAM.maxDepth] || rowsHere < p[GROW_PARAM.minSamplesSplit] ||
      rowsHere < 2 * p[GROW_PARAM.minSamplesLeaf] || s[1] < 2 * this.#minWeightLeaf ||
      impurity <= EPSILON
    ) return result;
    const best = this.#findSplit(task);
    if (best.feature < 0) return result;
    const pos = this.#partition(task.begin, task.end, best);
    this.nodeStats(task.begin, pos, result.leftStats);
    this.nodeStats(pos, task.end, result.rightStats);
    const wl = result.leftStats[1], wr = result.rightStats[1], wn = s[1];
    const improvement = (wn / this.#totalWeight) *
      (impurity - (wr / wn) * this.impurity(result.rightStats) -
        (wl / wn) * this.impurity(result.leftStats));
    if (improvement + EPSILON < p[GROW_PARAM.minImpurityDecrease]) return result;
    o.feature[id] = best.feature;
    o.lowBin[id] = best.lowBin;
    o.splitBin[id] = best.splitBin;
    o.missingLeft[id] = best.missingLeft ? 1 : 0;
    result.split = true;
    result.pos = pos;
    result.improvement = improvement;
    return result;
  }

  /** Turns an evaluated node back into a leaf (best-first growth out of leaves). */
  makeLeaf(id: number): void {
    this.out.feature[id] = -1;
    this.out.lowBin[id] = 0;
    this.out.splitBin[id] = 0;
    this.out.missingLeft[id] = 0;
  }

  children(e: Evaluated): [Task, Task] {
    const depth = e.task.depth + 1;
    return [
      { begin: e.task.begin, end: e.pos, depth, parent: e.id, isLeft: true, stats: e.leftStats },
      { begin: e.pos, end: e.task.end, depth, parent: e.id, isLeft: false, stats: e.rightStats },
    ];
  }

  root(): Task {
    const stats = new Float64Array(this.#S);
    this.nodeStats(0, this.#m, stats);
    return { begin: 0, end: this.#m, depth: 0, parent: -1, isLeft: false, stats };
  }
}

function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

function growDepthFirst(g: Grower): void {
  const stack = [g.root()];
  while (stack.length > 0) {
    const e = g.evaluate(stack.pop()!);
    if (!e.split) continue;
    const [left, right] = g.children(e);
    stack.push(right, left);
  }
}

/** Larger improvement first; ties: the older node. */
function before(a: Evaluated, b: Evaluated): boolean {
  return a.improvement > b.improvement || (a.improvement === b.improvement && a.id < b.id);
}

function growBestFirst(g: Grower, maxLeafNodes: number): void {
  const open = new PriorityQueue<Evaluated>(before);
  const push = (e: Evaluated) => {
    if (e.split) open.push(e);
  };
  let splitsLeft = maxLeafNodes - 1;
  push(g.evaluate(g.root()));
  while (open.size > 0) {
    const e = open.pop();
    if (splitsLeft <= 0) {
      g.makeLeaf(e.id);
      continue;
    }
    splitsLeft--;
    const [left, right] = g.children(e);
    push(g.evaluate(left));
    push(g.evaluate(right));
  }
}

/** Grows tree number `tree` (see src/backends/forest.ts). */
export function growForestTree(
  data: ForestData,
  params: Float64Array,
  tree: number,
  weights: Float64Array | null,
): GrownTree {
  const g = new Grower(data, params, tree, weights);
  if (g.rowCount === 0) {
    // No row drawn with a positive weight: one empty leaf.
    const o = g.out;
    o.nodeCount = 1;
    o.feature[0] = o.left[0] = o.right[0] = -1;
  } else if (params[GROW_PARAM.maxLeafNodes] > 0) {
    growBestFirst(g, params[GROW_PARAM.maxLeafNodes]);
  } else {
    growDepthFirst(g);
  }
  return trimTree(g.out, params[GROW_PARAM.nClasses] > 0 ? params[GROW_PARAM.nClasses] : 1);
}

/** The tree's arrays cut to its node count. */
export function trimTree(t: GrownTree, width: number): GrownTree {
  const n = t.nodeCount;
  return {
    nodeCount: n,
    feature: t.feature.slice(0, n),
    lowBin: t.lowBin.slice(0, n),
    splitBin: t.splitBin.slice(0, n),
    missingLeft: t.missingLeft.slice(0, n),
    left: t.left.slice(0, n),
    right: t.right.slice(0, n),
    nNodeSamples: t.nNodeSamples.slice(0, n),
    weightedNNodeSamples: t.weightedNNodeSamples.slice(0, n),
    impurity: t.impurity.slice(0, n),
    value: t.value.slice(0, n * width),
    maxDepth: t.maxDepth,
  };
}

class JsSession implements ForestSession {
  readonly #data: ForestData;

  constructor(data: ForestData) {
    this.#data = data;
  }

  grow(params: Float64Array, trees: Int32Array, weights: Float64Array | null) {
    return Promise.resolve(
      Array.from(trees, (t) => growForestTree(this.#data, params, t, weights)),
    );
  }

  release(): void {}
}

/** The reference backend. */
export const jsForest: ForestKernels = {
  name: "js",
  open: (data) => new JsSession(data),
};
