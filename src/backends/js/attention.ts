/**
 * Reference implementation of the `attention` kernel family in plain TypeScript: the oracle
 * that every other backend is tested against. Clarity beats speed here; every sum is
 * accumulated in float64 and only the final value is rounded to float32.
 *
 * @module
 */
import {
  attentionBackend,
  type AttentionKernels,
  type FlashForwardArgs,
  type LinearForwardArgs,
  type MixedChunkArgs,
} from "../attention.ts";

/**
 * Naive softmax attention over the work items [first, end), one query row at a time: all logits
 * of the row, their maximum, then exp-weighted sums in float64. A row without a single finite
 * logit (every key masked, or no key at all under causal alignment) is written as zeros with
 * log-sum-exp -Infinity.
 */
export function flashForwardRef(args: FlashForwardArgs, first: number, end: number) {
  const { q, k, lse, mask, heads, kvHeads, queryLength, keyLength } = args;
  const { headDim, valueDim, scale, isCausal, queryBlock } = args;
  const blocks = Math.ceil(queryLength / queryBlock);
  const group = heads / kvHeads;
  const logits = new Float64Array(keyLength);
  const acc = new Float64Array(valueDim);
  for (let item = first; item < end; item++) {
    const block = item % blocks, bh = (item - block) / blocks;
    const h = bh % heads, b = (bh - h) / heads;
    const kvBase = (b * kvHeads + Math.floor(h / group)) * keyLength;
    const rowEnd = Math.min(queryLength, (block + 1) * queryBlock);
    for (let i = block * queryBlock; i < rowEnd; i++) {
      const row = bh * queryLength + i;
      const keyEnd = isCausal
        ? Math.max(0, Math.min(keyLength, i + keyLength - queryLength + 1))
        : keyLength;
      const maskBase = b * args.maskBatchStride + h * args.maskHeadStride + i * args.maskRowStride;
      let max = -Infinity, sawNaN = false;
      for (let j = 0; j < keyEnd; j++) {
        let dot = 0;
        const qo = row * headDim, ko = (kvBase + j) * headDim;
        for (let d = 0; d < headDim; d++) dot += q[qo + d] * k[ko + d];
        const logit = dot * scale + (mask === null ? 0 : mask[maskBase + j]);
        logits[j] = logit;
        if (logit > max) max = logit;
        else if (logit !== logit) sawNaN = true;
      }
      const rowMax = sawNaN ? NaN : max;
      const sum = writeSoftmaxRow(args, row, rowMax, keyEnd, kvBase, logits, acc);
      if (lse !== null) lse[row] = rowMax === -Infinity ? -Infinity : rowMax + Math.log(sum);
    }
  }
}

/** Writes one output row from its logits and returns the softmax denominator (scaled by e^-max). */
function writeSoftmaxRow(
  args: FlashForwardArgs,
  row: number,
  max: number,
  keyEnd: number,
  kvBase: number,
  logits: Float64Array,
  acc: Float64Array,
): number {
  const { v, out, valueDim } = args;
  const oo = row * valueDim;
  if (max === -Infinity) {
    out.fill(0, oo, oo + valueDim);
    return 0;
  }
  acc.fill(0);
  let sum = 0;
  for (let j = 0; j < keyEnd; j++) {
    const p = Math.exp(logits[j] - max);
    sum += p;
    if (p === 0) continue; // a zero weight contributes nothing, even against a NaN or ±∞ value
    const vo = (kvBase + j) * valueDim;
    for (let e = 0; e < valueDim; e++) acc[e] += p * v[vo + e];
  }
  for (let e = 0; e < valueDim; e++) out[oo + e] = acc[e] / sum;
  return sum;
}

function featureMap(code: number): (x: number) => number {
  return code === 0 ? (x) => (x > 0 ? x + 1 : Math.exp(x)) : (x) => (x > 0 ? x : 0);
}

/**
 * Linear attention over the work items [first, end), out_i = φ(q_i)ᵀ S / φ(q_i)ᵀ z with
 * S = Σ_j φ(k_j) v_jᵀ and z = Σ_j φ(k_j). Causal calls use the chunk-parallel form: a running
 * (S, z) over earlier chunks plus exact in-chunk terms, so memory stays
 * O(headDim · valueDim + chunkSize · headDim). A row whose denominator is zero (possible with
 * relu) is written as zeros.
 */
export function linearForwardRef(args: LinearForwardArgs, first: number, end: number) {
  const { heads, kvHeads, queryLength, keyLength, headDim, valueDim, isCausal } = args;
  const phi = featureMap(args.featureMap);
  const chunk = Math.max(1, args.chunkSize);
  const state = new Float64Array(headDim * valueDim), norm = new Float64Array(headDim);
  const phiK = new Float64Array(chunk * headDim), phiQ = new Float64Array(headDim);
  const acc = new Float64Array(valueDim);
  for (let bh = first; bh < end; bh++) {
    const h = bh % heads, b = (bh - h) / heads;
    const kvBase = (b * kvHeads + Math.floor(h / (heads / kvHeads))) * keyLength;
    state.fill(0);
    norm.fill(0);
    for (let start = 0; !isCausal && start < keyLength; start += chunk) {
      const rows = Math.min(chunk, keyLength - start);
      loadFeatures(args.k, kvBase + start, rows, headDim, phi, phiK);
      accumulateState(args, kvBase + start, rows, phiK, state, norm);
    }
    for (let start = 0; start < queryLength; start += chunk) {
      const rows = Math.min(chunk, queryLength - start);
      if (isCausal) loadFeatures(args.k, kvBase + start, rows, headDim, phi, phiK);
      for (let r = 0; r < rows; r++) {
        const row = bh * queryLength + start + r;
        for (let d = 0; d < headDim; d++) phiQ[d] = phi(args.q[row * headDim + d]);
        let den = 0;
        acc.fill(0);
        for (let d = 0; d < headDim; d++) {
          const f = phiQ[d];
          den += f * norm[d];
          for (let e = 0; e < valueDim; e++) acc[e] += f * state[d * valueDim + e];
        }
        // The exact causal terms of this chunk: keys start .. start + r.
        for (let c = 0; isCausal && c <= r; c++) {
          let w = 0;
          for (let d = 0; d < headDim; d++) w += phiQ[d] * phiK[c * headDim + d];
          den += w;
          const vo = (kvBase + start + c) * valueDim;
          for (let e = 0; e < valueDim; e++) acc[e] += w * args.v[vo + e];
        }
        const oo = row * valueDim;
        for (let e = 0; e < valueDim; e++) args.out[oo + e] = den === 0 ? 0 : acc[e] / den;
      }
      if (isCausal) accumulateState(args, kvBase + start, rows, phiK, state, norm);
    }
  }
}

function loadFeatures(
  k: Float32Array,
  firstRow: number,
  rows: number,
  headDim: number,
  phi: (x: number) => number,
  into: Float64Array,
) {
  for (let i = 0; i < rows * headDim; i++) into[i] = phi(k[firstRow * headDim + i]);
}

/** Adds Σ φ(k_j) v_jᵀ and Σ φ(k_j) over `rows` keys (features already in `phiK`). */
function accumulateState(
  args: LinearForwardArgs,
  firstRow: number,
  rows: number,
  phiK: Float64Array,
  state: Float64Array,
  norm: Float64Array,
) {
  const { v, headDim, valueDim } = args;
  for (let c = 0; c < rows; c++) {
    const vo = (firstRow + c) * valueDim;
    for (let d = 0; d < headDim; d++) {
      const f = phiK[c * headDim + d];
      norm[d] += f;
      for (let e = 0; e < valueDim; e++) state[d * valueDim + e] += f * v[vo + e];
    }
  }
}

/**
 * Mixed-chunk attention as FLASH defines it, over the work items [first, end). For query i in
 * chunk g:
 *
 * ```
 *  local  = Σ_{j in chunk g, j <= i if causal} relu(q_i·k_j / C + bias[i - gC, j - gC])² v_j
 *  global = linQ_i · Σ_{chunks h < g} Σ_{j in h} linK_j v_jᵀ / C      (causal)
 *         = linQ_i · Σ_{all j} linK_j v_jᵀ / N                          (non-causal)
 * ```
 *
 * A last chunk shorter than C behaves as zero padding: the local divisor stays C, and N in the
 * non-causal global part is the true length.
 */
export function mixedChunkForwardRef(args: MixedChunkArgs, first: number, end: number) {
  const { heads, kvHeads, length, valueDim, linearDim, chunkSize, isCausal, linQ, linK } = args;
  const state = new Float64Array(linearDim * valueDim);
  const acc = new Float64Array(valueDim);
  for (let bh = first; bh < end; bh++) {
    const h = bh % heads, b = (bh - h) / heads;
    const kvBase = (b * kvHeads + Math.floor(h / (heads / kvHeads))) * length;
    state.fill(0);
    if (linK !== null && !isCausal) {
      addLinearState(args, linK, kvBase, 0, length, 1 / length, state);
    }
    for (let start = 0; start < length; start += chunkSize) {
      const end = Math.min(length, start + chunkSize);
      for (let i = start; i < end; i++) {
        acc.fill(0);
        addLocalTerms(args, b, h, bh, kvBase, start, i, isCausal ? i + 1 : end, acc);
        if (linQ !== null) {
          const qo = (bh * length + i) * linearDim;
          for (let d = 0; d < linearDim; d++) {
            const f = linQ[qo + d];
            for (let e = 0; e < valueDim; e++) acc[e] += f * state[d * valueDim + e];
          }
        }
        const oo = (bh * length + i) * valueDim;
        for (let e = 0; e < valueDim; e++) args.out[oo + e] = acc[e];
      }
      if (linK !== null && isCausal) {
        addLinearState(args, linK, kvBase, start, end, 1 / chunkSize, state);
      }
    }
  }
}

function addLocalTerms(
  args: MixedChunkArgs,
  b: number,
  h: number,
  bh: number,
  kvBase: number,
  start: number,
  i: number,
  keyEnd: number,
  acc: Float64Array,
) {
  const { q, k, v, bias, headDim, valueDim, length, chunkSize } = args;
  const biasRow = b * args.biasBatchStride + h * args.biasHeadStride +
    (i - start) * args.biasRowStride;
  const qo = (bh * length + i) * headDim;
  for (let j = start; j < keyEnd; j++) {
    let dot = 0;
    const ko = (kvBase + j) * headDim;
    for (let d = 0; d < headDim; d++) dot += q[qo + d] * k[ko + d];
    const t = dot / chunkSize + (bias === null ? 0 : bias[biasRow + j - start]);
    const w = t > 0 ? t * t : t <= 0 ? 0 : NaN; // relu(t)², NaN kept
    if (w === 0) continue; // a zero weight contributes nothing, even against a NaN or ±∞ value
    const vo = (kvBase + j) * valueDim;
    for (let e = 0; e < valueDim; e++) acc[e] += w * v[vo + e];
  }
}

function addLinearState(
  args: MixedChunkArgs,
  linK: Float32Array,
  kvBase: number,
  start: number,
  end: number,
  weight: number,
  state: Float64Array,
) {
  const { v, valueDim, linearDim } = args;
  for (let j = start; j < end; j++) {
    const ko = (kvBase + j) * linearDim, vo = (kvBase + j) * valueDim;
    for (let d = 0; d < linearDim; d++) {
      const f = linK[ko + d] * weight;
      for (let e = 0; e < valueDim; e++) state[d * valueDim + e] += f * v[vo + e];
    }
  }
}

/** The reference backend of the attention family; runs synchronously in the calling thread. */
export const jsAttention: AttentionKernels = attentionBackend("js", {
  flash: flashForwardRef,
  linear: linearForwardRef,
  mixedChunk: mixedChunkForwardRef,
});
