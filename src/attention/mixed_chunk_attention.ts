/**
 * FLASH mixed-chunk attention: quadratic relu² attention within chunks, linear across them.
 *
 * @module
 */
import {
  checkBackend,
  checkBoolean,
  checkNumber,
  checkOptions,
  checkTensor,
  outputTensor,
} from "../_validate.ts";
import type { MixedChunkArgs } from "../backends/attention.ts";
import type { Backend, Tensor } from "../tensor.ts";
import { attentionKernels } from "./_kernels.ts";
import { additiveStrides, checkQueryKeyValue } from "./_shapes.ts";

/** Options of {@linkcode mixedChunkAttention}. */
export interface MixedChunkAttentionOptions {
  /** Chunk length C, an integer >= 1. Required. */
  chunkSize: number;
  /** Hide later keys inside the chunk and later chunks in the global part. Default false. */
  causal?: boolean;
  /** Queries of the linear (global) part, [B, H, N, Dl]. Default `q`. */
  linQ?: Tensor;
  /** Keys of the linear (global) part, [B, Hkv, N, Dl]. Default `k`. */
  linK?: Tensor;
  /**
   * Additive bias inside relu² by in-chunk positions (e.g. a relative-position bias),
   * broadcast right-aligned to [B|1, H|1, C, C]; -Infinity drops a pair (on webgpu, so does
   * any entry below -1e30). Default none.
   */
  bias?: Tensor;
  /**
   * B·H·N·Dv values to write the output into, which the returned tensor then holds (see
   * ScaledDotProductAttentionOptions.out); it must not share memory with any input.
   */
  out?: Float32Array;
  /** Where to run. Default "auto". */
  backend?: Backend;
}

const OPTIONS = ["chunkSize", "causal", "linQ", "linK", "bias", "out", "backend"] as const;

/**
 * Mixed-chunk attention from FLASH (Hua et al. 2022, "Transformer Quality in Linear Time").
 * The sequence is cut into chunks of C rows; for query i in chunk g the output is
 *
 * ```
 *  local  = Σ_{j in chunk g, j <= i if causal} relu(q_i·k_j / C + bias)² v_j
 *  global = linQ_i · Σ_{earlier chunks h < g} Σ_{j in h} linK_j v_jᵀ / C     (causal)
 *         = linQ_i · Σ_{all j} linK_j v_jᵀ / N                                 (non-causal)
 *  out_i  = local + global
 * ```
 *
 * Cost is O(N·C·D) for the local part and O(N·Dl·Dv) for the global one. When N is not a
 * multiple of C the last chunk is shorter and behaves as if padded with zero rows: the local
 * divisor stays C, and N in the non-causal global divisor is the true length. There is no
 * softmax, so no normalisation: outputs scale with v. Grouped-query heads and Dv ≠ D work as in
 * {@linkcode scaledDotProductAttention}.
 *
 * @param q Queries of the local part, [B, H, N, D].
 * @param k Keys of the local part, [B, Hkv, N, D] with H % Hkv == 0.
 * @param v Values, [B, Hkv, N, Dv].
 * @param opts `chunkSize` (required), `causal`, `linQ`, `linK`, `bias`, `out`, `backend`.
 * @returns The output, [B, H, N, Dv]: over `opts.out` when given, else a new array.
 * @throws {TypeError} If an argument has the wrong type (the message names it).
 * @throws {RangeError} If shapes disagree, `chunkSize` is not an integer >= 1, an option is
 *   unknown, or the backend is not available.
 *
 * @example Two chunks of one row, causal
 * ```ts
 * import assert from "node:assert/strict";
 * import { mixedChunkAttention } from "./mixed_chunk_attention.ts";
 *
 * const q = { data: new Float32Array([2, 3]), shape: [1, 1, 2, 1] };
 * const k = { data: new Float32Array([1, 1]), shape: [1, 1, 2, 1] };
 * const v = { data: new Float32Array([1, 10]), shape: [1, 1, 2, 1] };
 * const out = await mixedChunkAttention(q, k, v, { chunkSize: 1, causal: true });
 * // row 0: relu(2·1)²·1 = 4; row 1: relu(3·1)²·10 + 3·(1·1)/1 = 93
 * assert.deepEqual([...out.data], [4, 93]);
 * ```
 */
export async function mixedChunkAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: MixedChunkAttentionOptions,
): Promise<Tensor> {
  const shape = checkQueryKeyValue(q, k, v);
  if (opts === undefined) {
    throw new TypeError(
      `Expected "opts" to be an options object with "chunkSize" but found undefined`,
    );
  }
  checkOptions("opts", opts, OPTIONS);
  const { chunkSize, causal = false, linQ = q, linK = k, bias, backend } = opts;
  checkNumber("opts.chunkSize", chunkSize, { min: 1, integer: true });
  checkBoolean("opts.causal", causal);
  checkBackend("opts.backend", backend);
  const { batch, heads, kvHeads, queryLength: length, keyLength, valueDim } = shape;
  if (keyLength !== length) {
    throw new RangeError(
      `Expected "k" to have the sequence length of "q" (${length}) but found ${keyLength}`,
    );
  }
  const linearDim = checkLinearPair(linQ, linK, [batch, heads, kvHeads, length]);
  const biasStrides = additiveStrides(
    "opts.bias",
    bias,
    [batch, heads, chunkSize, chunkSize],
    "[B, H, C, C]",
  );
  const output = outputTensor("opts.out", opts.out, [batch, heads, length, valueDim], {
    q: q.data,
    k: k.data,
    v: v.data,
    "opts.linQ": linQ.data,
    "opts.linK": linK.data,
    "opts.bias": bias?.data,
  });
  const args: MixedChunkArgs = {
    ...shape,
    length,
    linearDim,
    chunkSize,
    q: q.data,
    k: k.data,
    v: v.data,
    linQ: linQ.data,
    linK: linK.data,
    bias: bias?.data ?? null,
    out: output.data,
    freshOutput: opts.out === undefined,
    isCausal: causal,
    biasBatchStride: biasStrides[0],
    biasHeadStride: biasStrides[1],
    biasRowStride: biasStrides[2],
  };
  const flops = 2 * batch * heads * length *
    (Math.min(chunkSize, length) * (shape.headDim + valueDim) + 2 * linearDim * valueDim);
  const inputs = [args.q, args.k, args.v, args.linQ, args.linK];
  // A worker on copied memory may hand back the fresh array it wrote the output into.
  const fresh = await (await attentionKernels(backend, flops, inputs)).mixedChunkForward(args);
  if (fresh instanceof Float32Array) output.data = fresh;
  return output;
}

/** Checks linQ [B, H, N, Dl] and linK [B, Hkv, N, Dl] and returns Dl. */
function checkLinearPair(
  linQ: unknown,
  linK: unknown,
  [batch, heads, kvHeads, length]: number[],
): number {
  checkTensor("opts.linQ", linQ, 4);
  checkTensor("opts.linK", linK, 4);
  const linearDim = linQ.shape[3];
  const want = (name: string, t: Tensor, expected: number[]) => {
    if (t.shape.some((d, i) => d !== expected[i])) {
      throw new RangeError(
        `Expected "${name}" to have shape [${expected.join(", ")}] but found [${
          t.shape.join(", ")
        }]`,
      );
    }
  };
  want("opts.linQ", linQ, [batch, heads, length, linearDim]);
  want("opts.linK", linK, [batch, kvHeads, length, linearDim]);
  return linearDim;
}
