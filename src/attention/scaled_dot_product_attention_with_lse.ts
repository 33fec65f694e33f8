/**
 * Softmax attention that also returns each row's log-sum-exp.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import {
  runSoftmaxAttention,
  type ScaledDotProductAttentionOptions,
} from "./_softmax_attention.ts";

/**
 * {@linkcode scaledDotProductAttention} plus the log-sum-exp of each query row,
 * log Σ_j exp(scale · q_i·k_j + mask_ij) over the keys the row sees. Outputs of attention over
 * separate key sets combine exactly through it (weights exp(lse_a - lse), exp(lse_b - lse)
 * with lse = logaddexp(lse_a, lse_b)). A fully masked row has output zeros and LSE -Infinity,
 * which gives it weight zero in such a combination.
 *
 * @param q Queries, [B, H, Nq, D].
 * @param k Keys, [B, Hkv, Nk, D].
 * @param v Values, [B, Hkv, Nk, Dv].
 * @param opts As for {@linkcode scaledDotProductAttention}.
 * @returns `output` [B, H, Nq, Dv] (over `opts.out` when given) and `logSumExp` [B, H, Nq].
 * @throws {TypeError} If an argument has the wrong type (the message names it).
 * @throws {RangeError} If shapes or options are invalid, as for scaledDotProductAttention.
 *
 * @example A fully masked row
 * ```ts
 * import assert from "node:assert/strict";
 * import { scaledDotProductAttentionWithLse } from "./scaled_dot_product_attention_with_lse.ts";
 *
 * const q = { data: new Float32Array([1, 1]), shape: [1, 1, 2, 1] };
 * const k = { data: new Float32Array([1]), shape: [1, 1, 1, 1] };
 * const v = { data: new Float32Array([3]), shape: [1, 1, 1, 1] };
 * const mask = { data: new Float32Array([0, -Infinity]), shape: [2, 1] };
 * const { output, logSumExp } = await scaledDotProductAttentionWithLse(q, k, v, { mask, scale: 1 });
 * assert.deepEqual([...output.data], [3, 0]);
 * assert.deepEqual([...logSumExp.data], [1, -Infinity]);
 * ```
 */
export async function scaledDotProductAttentionWithLse(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts?: ScaledDotProductAttentionOptions,
): Promise<{ output: Tensor; logSumExp: Tensor }> {
  const { output, logSumExp } = await runSoftmaxAttention(q, k, v, opts, true);
  return { output, logSumExp: logSumExp! };
}
