/**
 * Linear attention with a positive feature map.
 *
 * @module
 */
import {
  checkBackend,
  checkBoolean,
  checkChoice,
  checkOptions,
  outputTensor,
} from "../_validate.ts";
import { FEATURE_MAP_CODES, type LinearForwardArgs } from "../backends/attention.ts";
import type { Backend, Tensor } from "../tensor.ts";
import { attentionKernels } from "./_kernels.ts";
import { checkQueryKeyValue } from "./_shapes.ts";

/** Options of {@linkcode linearAttention}. */
export interface LinearAttentionOptions {
  /** Query i sees keys j <= i; needs Nq == Nk. Default false. */
  causal?: boolean;
  /** The feature map φ applied to queries and keys. Default "elu+1". */
  featureMap?: "elu+1" | "relu";
  /**
   * B·H·Nq·Dv values to write the output into, which the returned tensor then holds (see
   * ScaledDotProductAttentionOptions.out); it must not share memory with `q`, `k` or `v`.
   */
  out?: Float32Array;
  /** Where to run. Default "auto". */
  backend?: Backend;
}

const OPTIONS = ["causal", "featureMap", "out", "backend"] as const;
const FEATURE_MAPS = Object.keys(FEATURE_MAP_CODES) as (keyof typeof FEATURE_MAP_CODES)[];

/** Rows per chunk of the causal prefix-sum form. */
const LINEAR_CHUNK = 64;

/**
 * Linear attention (Katharopoulos et al. 2020, "Transformers are RNNs"):
 *
 * ```
 *  out_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ  /  φ(q_i)ᵀ Σ_j φ(k_j)
 * ```
 *
 * over all keys, or over j <= i when `causal`. Time and memory grow linearly with the sequence
 * length: causal calls run the chunk-parallel form (running sums over earlier chunks plus
 * exact terms inside the chunk), never an N×N buffer. φ is elu(x) + 1 (always positive) or
 * relu; with relu a query whose features share no support with any visible key has a zero
 * denominator, and its output row is zeros. Grouped-query heads and Dv ≠ D work as in
 * {@linkcode scaledDotProductAttention}.
 *
 * @param q Queries, [B, H, Nq, D].
 * @param k Keys, [B, Hkv, Nk, D] with H % Hkv == 0.
 * @param v Values, [B, Hkv, Nk, Dv].
 * @param opts `causal` (default false; needs Nq == Nk), `featureMap` ("elu+1" default, or
 *   "relu"), `out` (B·H·Nq·Dv values to write into), `backend` (default "auto").
 * @returns The attention output, [B, H, Nq, Dv]: over `opts.out` when given, else a new array.
 * @throws {TypeError} If an argument has the wrong type (the message names it).
 * @throws {RangeError} If shapes disagree, causal lengths differ, an option is unknown or
 *   out of range, or the backend is not available.
 *
 * @example With one key every query returns its value
 * ```ts
 * import assert from "node:assert/strict";
 * import { linearAttention } from "./linear_attention.ts";
 *
 * const q = { data: new Float32Array([0.5, -2, 3, 1]), shape: [1, 1, 2, 2] };
 * const k = { data: new Float32Array([1, 2]), shape: [1, 1, 1, 2] };
 * const v = { data: new Float32Array([7]), shape: [1, 1, 1, 1] };
 * const out = await linearAttention(q, k, v);
 * assert.ok(out.data.every((x) => Math.abs(x - 7) < 1e-5));
 * ```
 */
export async function linearAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts?: LinearAttentionOptions,
): Promise<Tensor> {
  const shape = checkQueryKeyValue(q, k, v);
  checkOptions("opts", opts, OPTIONS);
  const { causal = false, featureMap = "elu+1", backend } = opts ?? {};
  checkBoolean("opts.causal", causal);
  checkChoice("opts.featureMap", featureMap, FEATURE_MAPS);
  checkBackend("opts.backend", backend);
  const { batch, heads, queryLength, keyLength, valueDim } = shape;
  if (causal && queryLength !== keyLength) {
    throw new RangeError(
      `Expected "k" to have the sequence length of "q" (${queryLength}) when causal but found ${keyLength}`,
    );
  }
  const output = outputTensor("opts.out", opts?.out, [batch, heads, queryLength, valueDim], {
    q: q.data,
    k: k.data,
    v: v.data,
  });
  const args: LinearForwardArgs = {
    ...shape,
    q: q.data,
    k: k.data,
    v: v.data,
    out: output.data,
    freshOutput: opts?.out === undefined,
    isCausal: causal,
    featureMap: FEATURE_MAP_CODES[featureMap],
    chunkSize: LINEAR_CHUNK,
  };
  const flops = 4 * batch * heads * (queryLength + keyLength) * shape.headDim * valueDim;
  const kernels = await attentionKernels(backend, flops, [args.q, args.k, args.v]);
  // A worker on copied memory may hand back the fresh array it wrote the output into.
  const fresh = await kernels.linearForward(args);
  if (fresh instanceof Float32Array) output.data = fresh;
  return output;
}
