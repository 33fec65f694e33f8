/**
 * Independent expectations for the `trees` kernel family, written from the definitions (and
 * XGBoost's documented formulas) rather than from the reference kernels in
 * src/backends/js/trees.ts: brute force over every split, a per-bin filter for histograms, a
 * recursive tree walk, and the losses' closed forms with Math.exp. The conformance suite
 * (tests/trees/_kernel_conformance.ts) holds every backend, the reference included, to these.
 *
 * @module
 */
import { SPLIT_FIELD_COUNT, SPLIT_PARAM } from "../../src/backends/trees.ts";

/** A binned problem as the conformance suite makes them: bins column-major, values row-major. */
export interface BinnedProblem {
  bins: Uint8Array;
  nRows: number;
  values: Float64Array;
  nChannels: number;
  binOffsets: Int32Array;
}

/**
 * The histogram of `rows[begin, end)` over `features`, slot by slot: each slot's channel sums
 * over the rows whose bin is that slot, in row order. Slots of other features are left as they
 * are in `into` (a copy is returned).
 */
export function histogramOracle(
  p: BinnedProblem,
  rows: ArrayLike<number>,
  features: ArrayLike<number>,
  into: Float64Array,
  [begin, end]: [number, number] = [0, rows.length],
): Float64Array {
  const hist = into.slice();
  const C = p.nChannels;
  for (let k = 0; k < features.length; k++) {
    const f = features[k];
    for (let slot = p.binOffsets[f]; slot < p.binOffsets[f + 1]; slot++) {
      const bin = slot - p.binOffsets[f];
      for (let c = 0; c < C; c++) {
        let sum = 0;
        for (let i = begin; i < end; i++) {
          const r = rows[i];
          if (p.bins[f * p.nRows + r] === bin) sum += p.values[r * C + c];
        }
        hist[slot * C + c] = sum;
      }
    }
  }
  return hist;
}

/** A node's loss-reduction score and weight under XGBoost's regularisation. */
class Regularised {
  constructor(readonly params: Float64Array, readonly constrained: boolean) {}

  get(name: keyof typeof SPLIT_PARAM): number {
    return this.params[SPLIT_PARAM[name]];
  }

  /** Soft threshold of G by α. */
  soft(g: number): number {
    const alpha = this.get("alpha");
    return Math.sign(g) * Math.max(0, Math.abs(g) - alpha);
  }

  /** The leaf weight: −T(G)/(H + λ), clipped to ±maxDeltaStep, then to the bounds. */
  weight(g: number, h: number): number {
    if (h <= 0 || h < this.get("minChildWeight")) return 0;
    let w = -this.soft(g) / (h + this.get("lambda"));
    const mds = this.get("maxDeltaStep");
    if (mds !== 0) w = Math.min(mds, Math.max(-mds, w));
    return Math.min(this.get("upperBound"), Math.max(this.get("lowerBound"), w));
  }

  /**
   * −2 × the regularised loss at the best weight: T(G)²/(H + λ) when nothing clips; with
   * maxDeltaStep or bounds, XGBoost's CalcGainGivenWeight −(2Gw + (H + λ)w²) at the clipped
   * weight (which leaves out the α term).
   */
  score(g: number, h: number): number {
    if (h <= 0 || h < this.get("minChildWeight")) return 0;
    if (this.get("maxDeltaStep") === 0 && !this.constrained) {
      return this.soft(g) ** 2 / (h + this.get("lambda"));
    }
    const w = this.weight(g, h);
    return -(2 * g * w + (h + this.get("lambda")) * w * w);
  }
}

/**
 * The best split of each listed feature by brute force: every split bin with missing values
 * right, then (only where the node has missing values) every split bin with them left; children
 * below minChildWeight, minSamplesLeaf (3 channels) or against a monotone constraint are not
 * allowed; the first of equal gains wins. SPLIT_FIELD_COUNT values per feature, as the kernel
 * writes them; gain −∞ where no split is allowed.
 */
export function splitsOracle(args: {
  hist: Float64Array;
  nChannels: number;
  features: ArrayLike<number>;
  binOffsets: Int32Array;
  monotone: Int8Array | null;
  params: Float64Array;
}): Float64Array {
  const { hist, nChannels: C, features, binOffsets, monotone, params } = args;
  const reg = new Regularised(params, monotone !== null);
  const G = reg.get("sumGrad"), H = reg.get("sumHess"), N = C >= 3 ? reg.get("count") : 0;
  const minSamples = C >= 3 ? Math.max(1, reg.get("minSamplesLeaf")) : 0;
  const out = new Float64Array(features.length * SPLIT_FIELD_COUNT);
  const channel = (slot: number, c: number) => (c < C ? hist[slot * C + c] : 0);
  for (let k = 0; k < features.length; k++) {
    const f = features[k], offset = binOffsets[f], nBins = binOffsets[f + 1] - offset - 1;
    const missing = [0, 1, 2].map((c) => channel(offset + nBins, c));
    const hasMissing = missing[1] > 0 || missing[2] > 0;
    let best = [-Infinity, 0, 0, 0, 0, 0];
    for (const missingLeft of hasMissing ? [0, 1] : [0]) {
      // Missing right: bins < s go left, s in 1..nBins (nBins only splits off the missing rows).
      // Missing left: s in 0..nBins − 1 (0 sends only the missing rows left).
      const [from, to] = missingLeft ? [0, nBins - 1] : [1, hasMissing ? nBins : nBins - 1];
      for (let s = from; s <= to; s++) {
        const left = missingLeft ? missing.slice() : [0, 0, 0];
        for (let b = 0; b < s; b++) for (let c = 0; c < 3; c++) left[c] += channel(offset + b, c);
        const [lg, lh, ln] = left, rg = G - lg, rh = H - lh, rn = N - ln;
        const mcw = reg.get("minChildWeight");
        if (lh <= 0 || rh <= 0 || lh < mcw || rh < mcw) continue;
        if (C >= 3 && (ln < minSamples || rn < minSamples)) continue;
        const constraint = monotone === null ? 0 : monotone[f];
        const wl = reg.weight(lg, lh), wr = reg.weight(rg, rh);
        if ((constraint > 0 && wl > wr) || (constraint < 0 && wl < wr)) continue;
        const gain = reg.score(lg, lh) + reg.score(rg, rh) - reg.score(G, H);
        if (gain > best[0]) best = [gain, s, missingLeft, lg, lh, C >= 3 ? ln : 0];
      }
    }
    out.set(best, k * SPLIT_FIELD_COUNT);
  }
  return out;
}

/**
 * Holds one feature's split result to the oracle's: the same bin and direction, and the gain
 * and left sums to within rounding (the oracle sums in its own order).
 */
export function assertSplitMatches(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  label: string,
): void {
  const close = (a: number, b: number) =>
    a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
  const fields = ["gain", "splitBin", "defaultLeft", "leftGrad", "leftHess", "leftCount"];
  for (let i = 0; i < SPLIT_FIELD_COUNT; i++) {
    const ok = i === 1 || i === 2 ? actual[i] === expected[i] : close(actual[i], expected[i]);
    if (!ok) {
      throw new Error(
        `${label}: ${fields[i]} is ${actual[i]}, brute force gives ${expected[i]} ` +
          `(result ${Array.from(actual)} vs ${Array.from(expected)})`,
      );
    }
  }
}

/** The trees of a flat model, as PredictArgs lays them out. */
export interface FlatTrees {
  feature: Int32Array;
  threshold: Float32Array;
  defaultLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float32Array;
  treeStart: Int32Array;
  treeGroup: Int32Array;
}

/**
 * Predictions by walking each tree recursively from its root (NaN follows the default child,
 * else `x < threshold` goes left), adding leaf values to `start` tree by tree in order, each
 * sum rounded to float32 (XGBoost's CPU predictor).
 */
export function predictOracle(
  trees: FlatTrees,
  x: Float32Array,
  nCols: number,
  [treeBegin, treeEnd]: [number, number],
  nOutputs: number,
  start: Float32Array,
): Float32Array {
  const out = start.slice();
  const leafOf = (node: number, row: number): number => {
    const f = trees.feature[node];
    if (f < 0) return node;
    const v = x[row * nCols + f];
    const goLeft = Number.isNaN(v) ? trees.defaultLeft[node] === 1 : v < trees.threshold[node];
    return leafOf(goLeft ? trees.left[node] : trees.right[node], row);
  };
  for (let r = 0; r < x.length / nCols; r++) {
    for (let t = treeBegin; t < treeEnd; t++) {
      const o = r * nOutputs + trees.treeGroup[t];
      out[o] = Math.fround(out[o] + trees.value[leafOf(trees.treeStart[t], r)]);
    }
  }
  return out;
}

/**
 * The logistic and softmax gradient/hessian pairs from their closed forms with Math.exp:
 * logistic p = 1/(1 + e^−m), g = (p − y)·s·w, h = max(p(1 − p), 10⁻¹⁶)·s·w with s the weight of
 * positive rows; softmax p_k = e^{m_k}/Σ e^{m_j}, g_k = (p_k − [y = k])·w,
 * h_k = max(2p_k(1 − p_k), 10⁻¹⁶)·w (XGBoost's factor 2).
 */
export function gradientsOracle(args: {
  loss: "logistic" | "softmax";
  margins: Float64Array;
  labels: Float64Array;
  weights: Float64Array | null;
  nOutputs: number;
  scalePosWeight: number;
}): Float64Array[] {
  const { loss, margins, labels, weights, nOutputs: K, scalePosWeight } = args;
  const n = labels.length;
  const out = Array.from({ length: K }, () => new Float64Array(2 * n));
  for (let r = 0; r < n; r++) {
    const w = weights === null ? 1 : weights[r];
    if (loss === "logistic") {
      const p = 1 / (1 + Math.exp(-margins[r]));
      const s = labels[r] === 1 ? scalePosWeight : 1;
      out[0][2 * r] = (p - labels[r]) * s * w;
      out[0][2 * r + 1] = Math.max(p * (1 - p), 1e-16) * s * w;
      continue;
    }
    const row = Array.from({ length: K }, (_, k) => margins[r * K + k]);
    const top = Math.max(...row);
    const e = row.map((m) => Math.exp(m - top));
    const total = e.reduce((a, b) => a + b, 0);
    for (let k = 0; k < K; k++) {
      const p = e[k] / total;
      out[k][2 * r] = (p - (labels[r] === k ? 1 : 0)) * w;
      out[k][2 * r + 1] = Math.max(2 * p * (1 - p), 1e-16) * w;
    }
  }
  return out;
}
