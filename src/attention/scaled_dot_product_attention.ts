/**
 * Exact softmax attention.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import {
  runSoftmaxAttention,
  type ScaledDotProductAttentionOptions,
} from "./_softmax_attention.ts";

export type { ScaledDotProductAttentionOptions } from "./_softmax_attention.ts";

/**
 * Exact scaled dot-product attention, softmax(scale · q kᵀ + mask) v, per batch and head.
 *
 * - **Grouped-query attention:** k and v may have fewer heads than q; query head h reads
 *   key/value head floor(h / (H / Hkv)), so consecutive query heads share one.
 * - **Causal alignment:** with `causal`, query i sees key j when j <= i + Nk - Nq. The last
 *   query lines up with the last key (bottom-right, as in FlashAttention 2), which is what
 *   decoding with a key/value cache needs. When Nq > Nk the first Nq - Nk queries see no key.
 * - **Fully masked rows:** a query that sees no key with a finite logit (all masked by
 *   -Infinity, or none left by causal alignment) gets an output row of zeros (and a
 *   log-sum-exp of -Infinity from {@linkcode scaledDotProductAttentionWithLse}); it never
 *   produces NaN.
 * - Logits are offset by their row maximum before exponentiation, so large logits (hundreds)
 *   neither overflow nor lose the distribution.
 *
 * @param q Queries, [B, H, Nq, D].
 * @param k Keys, [B, Hkv, Nk, D] with H % Hkv == 0.
 * @param v Values, [B, Hkv, Nk, Dv]; Dv may differ from D.
 * @param opts `causal` (default false), `scale` (default 1/√D), `mask` (additive, broadcast
 *   right-aligned to [B|1, H|1, Nq|1, Nk]; may hold -Infinity, not NaN or +Infinity), `out`
 *   (a Float32Array of B·H·Nq·Dv values to write into), `backend` (default "auto").
 * @returns The attention output, [B, H, Nq, Dv]: over `opts.out` when given, else a new array.
 * @throws {TypeError} If an argument has the wrong type (the message names it).
 * @throws {RangeError} If shapes disagree, a mask does not broadcast or holds NaN/+Infinity,
 *   an option is unknown, or the backend is not available.
 *
 * @example Two keys, the query matches the first
 * ```ts
 * import assert from "node:assert/strict";
 * import { scaledDotProductAttention } from "./scaled_dot_product_attention.ts";
 *
 * const q = { data: new Float32Array([10, 0]), shape: [1, 1, 1, 2] };
 * const k = { data: new Float32Array([1, 0, 0, 1]), shape: [1, 1, 2, 2] };
 * const v = { data: new Float32Array([1, -1]), shape: [1, 1, 2, 1] };
 * const out = await scaledDotProductAttention(q, k, v, { scale: 1 });
 * assert.deepEqual(out.shape, [1, 1, 1, 1]);
 * assert.ok(Math.abs(out.data[0] - Math.tanh(5)) < 1e-6); // (e^10 - 1) / (e^10 + 1)
 * ```
 */
export async function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts?: ScaledDotProductAttentionOptions,
): Promise<Tensor> {
  return (await runSoftmaxAttention(q, k, v, opts, false)).output;
}
